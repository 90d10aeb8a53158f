"""Learning-rate decay: full rates first, then a half cosine towards zero."""

import math

import numpy as np
import pytest

from skaae import AdversarialAutoencoder, ClusteringAAE, SemiSupervisedAAE, SupervisedAAE
from skaae._engine import Callback


def _small(estimator, **params):
    return estimator(
        hidden_layer_sizes=(16,), discriminator_hidden_layer_sizes=(16,), batch_size=32,
        device="cpu", random_state=0, **params,
    )


class _RateRecorder(Callback):
    """Each step's learning rate during each epoch, read at the epoch's end."""

    def __init__(self):
        self.rates = []

    def on_epoch_end(self, engine, epochs_done, record):
        self.rates.append({
            step.name: engine.optimizers[step.name].param_groups[0]["lr"] for step in engine.steps
        })
        return False


def _fit_recording_rates(model, *args):
    recorder = _RateRecorder()
    model._epoch_observers = lambda: [recorder]
    model.fit(*args)
    return recorder.rates


def test_rates_hold_then_fall_along_a_half_cosine_and_come_back_for_the_next_call():
    X = np.random.RandomState(0).rand(96, 6)
    model = _small(AdversarialAutoencoder, max_epochs=8, learning_rate_decay=0.5)
    rates = _fit_recording_rates(model, X)
    full = rates[0]
    assert full["reconstruction"] == pytest.approx(model.learning_rate_init)
    # Four full epochs, then four along the cosine; the last is small but not zero.
    expected = [1.0] * 4 + [0.5 * (1 + math.cos(math.pi * k / 5)) for k in range(1, 5)]
    for name, rate in full.items():
        shares = [epoch[name] / rate for epoch in rates]
        assert shares == pytest.approx(expected)
        assert 0 < shares[-1] < 0.1
    # A partial_fit after the decayed fit trains at the full rate again.
    recorder = _RateRecorder()
    model._epoch_observers = lambda: [recorder]
    model.partial_fit(X)
    assert recorder.rates == [pytest.approx(full)]


def _losses(model):
    return np.array([[h[k] for k in sorted(h) if k not in ("epoch", "duration")]
                     for h in model.history_])


def test_decay_changes_only_the_decayed_epochs_and_the_fit_stays_finite():
    X = np.random.RandomState(0).rand(96, 6)
    constant = _small(ClusteringAAE, n_clusters=3, max_epochs=6).fit(X)
    decayed = _small(ClusteringAAE, n_clusters=3, max_epochs=6, learning_rate_decay=0.5).fit(X)
    np.testing.assert_allclose(_losses(decayed)[:3], _losses(constant)[:3])
    assert not np.allclose(_losses(decayed)[3:], _losses(constant)[3:])
    assert np.isfinite(decayed.transform(X)).all()


def test_partial_fit_keeps_the_full_rate():
    X = np.random.RandomState(0).rand(96, 6)
    y = np.where(np.arange(96) % 4 == 0, np.arange(96) % 2, -1)
    model = _small(SemiSupervisedAAE, learning_rate_decay=0.9)
    recorder = _RateRecorder()
    model._epoch_observers = lambda: [recorder]
    model.partial_fit(X, y, classes=[0, 1])
    assert recorder.rates[0]["reconstruction"] == pytest.approx(model.learning_rate_init)


@pytest.mark.parametrize("estimator", [AdversarialAutoencoder, ClusteringAAE])
def test_a_decay_over_every_epoch_is_refused(estimator):
    X = np.random.RandomState(0).rand(60, 6)
    with pytest.raises(ValueError, match="learning_rate_decay"):
        _small(estimator, learning_rate_decay=1.0).fit(X)


@pytest.mark.parametrize("estimator, decays", [
    (AdversarialAutoencoder, False), (SupervisedAAE, True), (SemiSupervisedAAE, True),
    (ClusteringAAE, False),
])
def test_the_default_decay_settles_the_last_epochs_of_the_labelled_models(estimator, decays):
    # With labels the decay improved samples and predictions; the clusterer's
    # errors rose with it, and the AdversarialAutoencoder's samples lost
    # likelihood on Fashion-MNIST while its codes gained (docs/learning.rst).
    rng = np.random.RandomState(0)
    X = rng.rand(96, 6)
    model = _small(estimator, max_epochs=5)
    if estimator is SupervisedAAE:
        args = (X, np.arange(96) % 2)
    elif estimator is SemiSupervisedAAE:
        args = (X, np.where(np.arange(96) % 4 == 0, np.arange(96) // 4 % 2, -1))
    else:
        args = (X,)
    rates = _fit_recording_rates(model, *args)
    last = rates[-1]["reconstruction"] / rates[0]["reconstruction"]
    assert (last < 0.5) if decays else (last == 1.0)
