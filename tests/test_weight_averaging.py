"""Weight averaging: the networks end with the mean of their end-of-epoch weights."""

import numpy as np
import pytest
import torch

from skaae import AdversarialAutoencoder, ClusteringAAE
from skaae._engine import Step, TrainingEngine, WeightAveraging


def _small(estimator, **params):
    return estimator(
        hidden_layer_sizes=(16,), discriminator_hidden_layer_sizes=(16,), batch_size=32,
        device="cpu", random_state=0, **params,
    )


def test_engine_leaves_the_mean_of_the_averaged_epochs():
    net = torch.nn.Linear(3, 1)
    seen = []

    class Recorder(WeightAveraging):
        def on_epoch_end(self, engine, epochs_done, record):
            if epochs_done - 1 >= self.average_from:
                seen.append(net.weight.detach().clone())
            return super().on_epoch_end(engine, epochs_done, record)

    step = Step("fit", ("net",), lambda batch: (net(batch["x"]) - 1).pow(2).mean(), 0.05)
    engine = TrainingEngine(
        networks={"net": net}, steps=[step], batch_size=8,
        generator=torch.Generator().manual_seed(0), callbacks=[Recorder(average_from=3)],
    )
    records, stopped_early = engine.fit(
        {"x": torch.randn(32, 3, generator=torch.Generator().manual_seed(1))}, 6, first_epoch=2
    )
    assert [r["epoch"] for r in records] == [3, 4, 5, 6, 7, 8] and not stopped_early
    assert len(seen) == 3  # epochs 3, 4 and 5 (0-based)
    torch.testing.assert_close(net.weight.detach(), torch.stack(seen).mean(0))


def test_averaged_fit_differs_from_last_weights_and_stays_finite():
    X = np.random.RandomState(0).rand(120, 6)
    last = _small(AdversarialAutoencoder, max_epochs=6).fit(X)
    averaged = _small(AdversarialAutoencoder, max_epochs=6, weight_averaging=0.5).fit(X)
    # Same training run up to the last epoch; only the final weights differ.
    assert [h["reconstruction"] for h in last.history_] == pytest.approx(
        [h["reconstruction"] for h in averaged.history_]
    )
    assert not np.allclose(last.transform(X), averaged.transform(X))
    assert np.isfinite(averaged.transform(X)).all()


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_partial_fit_and_early_stopping_keep_their_own_weights():
    X = np.random.RandomState(0).rand(120, 6)
    plain = _small(AdversarialAutoencoder).partial_fit(X)
    averaged = _small(AdversarialAutoencoder, weight_averaging=0.5).partial_fit(X)
    np.testing.assert_allclose(plain.transform(X), averaged.transform(X))
    stopped = _small(AdversarialAutoencoder, max_epochs=4, early_stopping=True,
                     weight_averaging=0.5).fit(X)
    reference = _small(AdversarialAutoencoder, max_epochs=4, early_stopping=True).fit(X)
    np.testing.assert_allclose(stopped.transform(X), reference.transform(X))


def test_clustering_averages_by_default_and_rejects_bad_fractions():
    assert ClusteringAAE().weight_averaging == 0.3
    X = np.random.RandomState(0).rand(60, 6)
    with pytest.raises(ValueError, match="weight_averaging"):
        _small(ClusteringAAE, n_clusters=3, weight_averaging=1.0).fit(X)
