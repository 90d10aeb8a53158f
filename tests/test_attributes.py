"""Attribute regularisation (Pati & Lerch, 2020): fit(X, attributes=A) ties
column j of A to code dimension j, and sample(attributes=...) generates with
chosen values."""

import numpy as np
import pytest
import torch
from scipy.stats import spearmanr
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

from skaae import AdversarialAutoencoder, SupervisedAAE
from skaae._losses import attribute_loss


def small(model_class=AdversarialAutoencoder, **params):
    defaults = dict(
        n_components=3,
        hidden_layer_sizes=(64,),
        discriminator_hidden_layer_sizes=(64,),
        max_epochs=2,
        device="cpu",
        random_state=0,
    )
    defaults.update(params)
    return model_class(**defaults)


def ink(X):
    """Mean pixel value: a cheap proxy for stroke thickness."""
    return X.mean(axis=1)


@pytest.fixture(scope="module")
def trained(digits):
    """The same model fitted with and without the regularisation, on 1000 digits."""
    X, _ = digits
    params = dict(hidden_layer_sizes=(256,), discriminator_hidden_layer_sizes=(256,),
                  max_epochs=20)
    # attribute_weight=0 keeps everything else equal, the attribute map included.
    return {
        weight: small(attribute_weight=weight, **params).fit(X[:1000], attributes=ink(X[:1000]))
        for weight in (0.0, 1.0)
    }


def test_regularised_code_dimension_follows_the_attribute_on_held_out_data(trained, digits):
    X, _ = digits
    held_out = X[1300:]
    rho = {
        weight: spearmanr(model.transform(held_out)[:, 0], ink(held_out))[0]
        for weight, model in trained.items()
    }
    assert rho[1.0] > 0.5
    assert rho[1.0] > abs(rho[0.0]) + 0.4


def test_sample_with_attributes_moves_the_measured_attribute(trained, digits):
    X, _ = digits
    model = trained[1.0]
    low, high = np.quantile(ink(X), [0.1, 0.9])
    thin = model.sample(200, attributes=low, random_state=0)
    thick = model.sample(200, attributes=high, random_state=0)
    assert ink(np.clip(thick, 0, 1)).mean() > ink(np.clip(thin, 0, 1)).mean()


def test_sample_sets_only_the_requested_code_dimensions(trained):
    model = trained[1.0]
    free = model._draw_codes(5, None, 0)
    fixed = model._draw_codes(5, None, 0, attributes=[[0.3], [0.3], [np.nan], [0.3], [0.3]])
    np.testing.assert_array_equal(fixed[:, 1:], free[:, 1:])
    np.testing.assert_array_equal(fixed[2], free[2])
    assert np.unique(fixed[[0, 1, 3, 4], 0]).size == 1


def test_attribute_map_is_monotone_and_clips_outside_the_training_range(trained, digits):
    X, _ = digits
    model = trained[1.0]
    values = np.linspace(ink(X).min() - 1, ink(X).max() + 1, 50)
    codes = model._draw_codes(50, None, 0, attributes=values)[:, 0]
    assert np.all(np.diff(codes) >= 0)
    assert codes[0] == model.attribute_code_quantiles_[0, 0]
    assert codes[-1] == model.attribute_code_quantiles_[-1, 0]


def test_fitted_attributes_and_history(digits):
    X, _ = digits
    A = np.column_stack([ink(X[:200]), X[:200, 20]])
    model = small().fit(X[:200], attributes=A)
    assert model.n_attributes_ == 2
    assert model.attribute_quantiles_.shape == model.attribute_code_quantiles_.shape == (101, 2)
    assert np.all(np.diff(model.attribute_quantiles_, axis=0) >= 0)
    # The attribute term is part of the reconstruction step's loss.
    heavy = small(attribute_weight=100.0).fit(X[:200], attributes=A)
    plain = small().fit(X[:200])
    assert heavy.history_[0]["reconstruction"] > 10 * plain.history_[0]["reconstruction"]
    # A later fit without attributes forgets them.
    plain_again = model.fit(X[:200])
    assert not hasattr(plain_again, "n_attributes_")
    assert not hasattr(plain_again, "attribute_quantiles_")


def test_attribute_loss_rewards_the_attribute_order():
    attributes = torch.arange(6.0)[:, None]
    ordered = 10 * attributes
    assert attribute_loss(ordered, attributes, 1.0) < 1e-6
    assert attribute_loss(-ordered, attributes, 1.0) > 2 - 1e-6
    # Only the first n_attributes code dimensions count.
    extra = torch.cat([ordered, torch.randn(6, 2)], dim=1)
    assert attribute_loss(extra, attributes, 1.0) == attribute_loss(ordered, attributes, 1.0)


@pytest.mark.parametrize(
    "attributes, message",
    [
        (np.full(100, np.nan), "NaN"),
        (np.full(100, np.inf), "infinity"),
        (np.zeros(99), "99 rows"),
        (np.zeros((100, 4)), "n_components=3"),
        (np.zeros((100, 2, 2)), "dim"),
    ],
)
def test_bad_attributes_raise(digits, attributes, message):
    X, _ = digits
    model = small()
    with pytest.raises(ValueError, match=message):
        model.fit(X[:100], attributes=attributes)
    assert not hasattr(model, "encoder_")


def test_continued_training_needs_the_same_attributes(digits):
    X, _ = digits
    model = small(max_epochs=1).partial_fit(X[:100], attributes=ink(X[:100]))
    model.partial_fit(X[100:200], attributes=ink(X[100:200]))
    assert model.n_iter_ == 2
    with pytest.raises(ValueError, match="first fitted with 1"):
        model.partial_fit(X[:100], attributes=np.zeros((100, 2)))
    with pytest.raises(ValueError, match="same way as the first fit, which was with attributes"):
        model.partial_fit(X[:100])
    unregularised = small(max_epochs=1, warm_start=True).fit(X[:100])
    with pytest.raises(ValueError, match="which was without attributes"):
        unregularised.fit(X[:100], attributes=ink(X[:100]))


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_warm_start_and_early_stopping_carry_the_attributes(digits):
    X, _ = digits
    model = small(warm_start=True, early_stopping=True, n_iter_no_change=1)
    model.fit(X[:200], attributes=ink(X[:200]))
    model.fit(X[:200], attributes=ink(X[:200]))
    assert model.n_attributes_ == 1
    assert np.isfinite(model.best_validation_loss_)


def test_sample_rejects_bad_requests(digits):
    X, _ = digits
    model = small().fit(X[:100], attributes=np.column_stack([ink(X[:100]), X[:100, 20]]))
    with pytest.raises(ValueError, match="shape"):
        model.sample(3, attributes=[0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match="infinite"):
        model.sample(3, attributes=[[np.inf, 0.2]])
    assert model.sample(3, attributes=[[0.2, np.nan]], random_state=0).shape == (3, 64)
    unregularised = small().fit(X[:100])
    with pytest.raises(ValueError, match="fitted without attributes"):
        unregularised.sample(3, attributes=0.2)


def test_supervised_aae_conditions_on_label_and_attributes(digits):
    X, y = digits
    model = small(SupervisedAAE).fit(X[:300], y[:300], attributes=ink(X[:300]))
    assert model.n_attributes_ == 1
    samples = model.sample(10, y=range(10), attributes=np.linspace(0.2, 0.4, 10), random_state=0)
    assert samples.shape == (10, 64)


def test_attributes_pass_through_a_pipeline_as_fit_params(digits):
    X, _ = digits
    pipe = Pipeline([("scale", FunctionTransformer()), ("aae", small())])
    pipe.fit(X[:100], aae__attributes=ink(X[:100]))
    assert pipe["aae"].n_attributes_ == 1
    assert pipe.transform(X[:5]).shape == (5, 3)
