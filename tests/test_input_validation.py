"""Every bad input a user can give AdversarialAutoencoder raises a clear error
that names the problem; training that diverges raises TrainingDivergedError and
leaves no broken model behind."""

from unittest import mock

import numpy as np
import pytest
import torch
from sklearn.exceptions import NotFittedError
from sklearn.mixture import GaussianMixture
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.validation import check_is_fitted
from torch import nn

from skaae import AdversarialAutoencoder, MixturePrior, TrainingDivergedError

TINY = dict(
    hidden_layer_sizes=(16,),
    discriminator_hidden_layer_sizes=(16,),
    max_epochs=1,
    batch_size=25,
    device="cpu",
    random_state=0,
)


def make_aae(**params):
    return AdversarialAutoencoder(**{**TINY, **params})


@pytest.fixture(scope="module")
def X():
    return np.random.RandomState(0).rand(50, 5)


@pytest.fixture(scope="module")
def y():
    return np.arange(50) % 3


@pytest.fixture(scope="module")
def digit_images(digits):
    return digits[0][:200]


@pytest.fixture(scope="module")
def fitted(X):
    return make_aae().fit(X)


@pytest.fixture(scope="module")
def fitted_with_labels(X, y):
    return make_aae().fit(X, y)


def with_value(X, value):
    X = X.copy()
    X[3, 2] = value
    return X


# -- X at fit ------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, pattern",
    [(np.nan, "Input X contains NaN"), (np.inf, "Input X contains infinity"),
     (-np.inf, "Input X contains infinity")],
)
def test_fit_rejects_non_finite_X(X, value, pattern):
    with pytest.raises(ValueError, match=pattern):
        make_aae().fit(with_value(X, value))


def test_fit_rejects_empty_X():
    with pytest.raises(ValueError, match=r"0 sample\(s\).*minimum of 2 is required"):
        make_aae().fit(np.empty((0, 5)))


def test_fit_rejects_single_sample():
    with pytest.raises(ValueError, match=r"1 sample\(s\).*minimum of 2 is required"):
        make_aae().fit(np.ones((1, 5)))


def test_fit_rejects_one_dimensional_X():
    with pytest.raises(ValueError, match="Expected 2D array, got 1D array"):
        make_aae().fit(np.arange(10.0))


def test_fit_rejects_three_dimensional_X():
    with pytest.raises(ValueError, match="Found array with dim 3"):
        make_aae().fit(np.zeros((10, 2, 3)))


@pytest.mark.parametrize(
    "bad",
    [
        np.array([["a", "b"], ["c", "d"], ["e", "f"]]),
        np.array([["a", "b"], ["c", "d"], ["e", "f"]], dtype=object),
        np.array([[1.0, "x"], [2.0, 3.0], [4.0, 5.0]], dtype=object),
    ],
    ids=["str", "object-str", "object-mixed"],
)
def test_fit_rejects_non_numeric_X(bad):
    with pytest.raises(ValueError, match="could not convert string to float"):
        make_aae().fit(bad)


@pytest.mark.parametrize("shift", [0.5, -0.5], ids=["above-1", "below-0"])
def test_bce_rejects_X_outside_unit_interval(digit_images, shift):
    with pytest.raises(
        ValueError,
        match=r"reconstruction_loss='bce' needs every value of X in \[0, 1\].*MinMaxScaler",
    ):
        make_aae(reconstruction_loss="bce").fit(digit_images + shift)


def test_bce_accepts_X_inside_unit_interval(digit_images):
    make_aae(reconstruction_loss="bce").fit(digit_images)  # positive control: no error


@pytest.mark.parametrize("how", ["warm_start", "partial_fit"])
def test_bce_rejects_X_outside_unit_interval_when_training_continues(digit_images, how):
    if how == "warm_start":
        aae = make_aae(reconstruction_loss="bce", warm_start=True).fit(digit_images)
        continue_training = aae.fit
    else:
        aae = make_aae(reconstruction_loss="bce").partial_fit(digit_images)
        continue_training = aae.partial_fit
    with pytest.raises(ValueError, match=r"needs every value of X in \[0, 1\]"):
        continue_training(digit_images * 5)


# -- X after fit ------------------------------------------------------------------


@pytest.mark.parametrize("method", ["transform", "score", "score_samples"])
@pytest.mark.parametrize(
    "value, pattern", [(np.nan, "Input X contains NaN"), (np.inf, "Input X contains infinity")]
)
def test_methods_reject_non_finite_X_after_fit(fitted, X, method, value, pattern):
    with pytest.raises(ValueError, match=pattern):
        getattr(fitted, method)(with_value(X, value))


@pytest.mark.parametrize("method", ["transform", "score", "score_samples"])
def test_methods_reject_wrong_number_of_features(fitted, X, method):
    with pytest.raises(
        ValueError, match="X has 3 features, but AdversarialAutoencoder is expecting 5 features"
    ):
        getattr(fitted, method)(X[:, :3])


@pytest.mark.parametrize("n_columns", [1, 3])
def test_inverse_transform_rejects_wrong_number_of_code_columns(fitted, n_columns):
    with pytest.raises(ValueError, match=rf"codes have {n_columns} columns.*n_components=2"):
        fitted.inverse_transform(np.zeros((4, n_columns)))


def test_inverse_transform_rejects_nan_codes(fitted):
    with pytest.raises(ValueError, match="Input X contains NaN"):
        fitted.inverse_transform(np.array([[0.0, np.nan]]))


# -- constructor parameters (validated at fit) -----------------------------------------


@pytest.mark.parametrize(
    "params, error, pattern",
    [
        (dict(n_components=0), InvalidParameterError, "'n_components' parameter"),
        (dict(dropout=1.5), InvalidParameterError, "'dropout' parameter"),
        (dict(dropout=-0.1), InvalidParameterError, "'dropout' parameter"),
        (dict(prior="nope"), InvalidParameterError, "'prior' parameter"),
        (dict(prior=42), InvalidParameterError, "'prior' parameter"),
        (dict(batch_size=0), InvalidParameterError, "'batch_size' parameter"),
        (dict(max_epochs=0), InvalidParameterError, "'max_epochs' parameter"),
        (dict(learning_rate_init=0.0), InvalidParameterError, "'learning_rate_init' parameter"),
        (dict(activation="sigmoid"), InvalidParameterError, "'activation' parameter"),
        (dict(reconstruction_loss="l1"), InvalidParameterError, "'reconstruction_loss' parameter"),
        (dict(hidden_layer_sizes=(0,)), ValueError,
         r"hidden_layer_sizes must be a sequence of positive integers, got \[0\]"),
        (dict(hidden_layer_sizes=("a",)), ValueError,
         r"hidden_layer_sizes must be a sequence of positive integers, got \['a'\]"),
        (dict(hidden_layer_sizes=(16, -2)), ValueError,
         "hidden_layer_sizes must be a sequence of positive integers"),
        (dict(discriminator_hidden_layer_sizes=(0,)), ValueError,
         "discriminator_hidden_layer_sizes must be a sequence of positive integers"),
        (dict(device="tpu"), ValueError, r"device='tpu' is not a valid device"),
        (dict(device="banana"), ValueError, r"device='banana' is not a valid device"),
        (dict(device="meta"), ValueError, r"device='meta' is not supported"),
        (dict(device=3.5), InvalidParameterError, "'device' parameter"),
    ],
)
def test_invalid_constructor_parameter_raises_at_fit(X, params, error, pattern):
    aae = make_aae(**params)  # sklearn convention: the constructor does not validate
    with pytest.raises(error, match=pattern):
        aae.fit(X)


@pytest.mark.parametrize("device", ["cuda", "cuda:0", torch.device("cuda")])
def test_cuda_device_without_cuda_raises_value_error(X, device):
    with mock.patch("torch.cuda.is_available", return_value=False):
        with pytest.raises(ValueError, match="CUDA is not available"):
            make_aae(device=device).fit(X)


def test_auto_device_without_cuda_falls_back_to_cpu(X):
    with mock.patch("torch.cuda.is_available", return_value=False), mock.patch(
        "torch.backends.mps.is_available", return_value=False
    ):
        aae = make_aae(device="auto").fit(X)
    assert aae.device_ == torch.device("cpu")


# -- not fitted ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "call",
    [
        lambda aae, X: aae.transform(X),
        lambda aae, X: aae.inverse_transform(np.zeros((2, 2))),
        lambda aae, X: aae.sample(3),
        lambda aae, X: aae.score(X),
        lambda aae, X: aae.score_samples(X),
    ],
    ids=["transform", "inverse_transform", "sample", "score", "score_samples"],
)
def test_methods_before_fit_raise_not_fitted(X, call):
    with pytest.raises(NotFittedError, match="not fitted yet"):
        call(make_aae(), X)


@pytest.mark.parametrize(
    "cause",
    [
        pytest.param("hidden_layer_sizes", id="bad-layer-sizes"),
        pytest.param("fewer_modes", id="prior-with-fewer-modes"),
        pytest.param(
            "bce_range", id="bce-range",
        ),
        pytest.param(
            "continuous_y", id="continuous-y",
        ),
    ],
)
def test_failed_first_fit_leaves_estimator_unfitted(X, y, cause):
    if cause == "hidden_layer_sizes":
        aae, args = make_aae(hidden_layer_sizes=(0,)), (X,)
    elif cause == "fewer_modes":
        aae, args = make_aae(prior=MixturePrior(n_modes=2)), (X, y)
    elif cause == "bce_range":
        aae, args = make_aae(reconstruction_loss="bce"), (X * 3,)
    else:
        aae, args = make_aae(), (X, np.linspace(0, 1, len(X)))
    with pytest.raises(ValueError):
        aae.fit(*args)
    with pytest.raises(NotFittedError):
        check_is_fitted(aae)
    # And so the methods say "not fitted" instead of failing on a missing attribute.
    with pytest.raises(NotFittedError):
        aae.transform(X)


# -- y ------------------------------------------------------------------------------


def test_fit_rejects_continuous_y(X):
    with pytest.raises(ValueError, match="y must hold class labels.*continuous"):
        make_aae().fit(X, np.linspace(0.0, 1.0, len(X)))


def test_fit_rejects_y_with_only_unlabeled_samples(X):
    with pytest.raises(ValueError, match="y has no labeled sample: every entry is -1"):
        make_aae().fit(X, np.full(len(X), -1))


def test_fit_rejects_nan_in_y(X, y):
    y = y.astype(float)
    y[4] = np.nan
    with pytest.raises(ValueError, match="y contains NaN"):
        make_aae().fit(X, y)


def test_fit_rejects_two_column_y(X, y):
    with pytest.raises(ValueError, match="y must be one-dimensional"):
        make_aae().fit(X, np.column_stack([y, y]))


@pytest.mark.parametrize(
    "n_labels",
    [
        pytest.param(10, id="short"),
        pytest.param(80, id="long"),
    ],
)
def test_fit_rejects_y_of_wrong_length(X, n_labels):
    y = np.arange(n_labels) % 3
    with pytest.raises(ValueError, match=r"(?i)inconsistent numbers of samples|length"):
        make_aae().fit(X, y)


def test_sample_with_y_on_model_fitted_without_labels(fitted):
    with pytest.raises(ValueError, match="fitted without labels"):
        fitted.sample(3, y=0)


@pytest.mark.parametrize("n_samples", [0, -1, 2.5, np.int64(0)])
def test_sample_rejects_non_positive_or_non_integer_n_samples(fitted, n_samples):
    with pytest.raises(ValueError, match="n_samples must be a positive integer"):
        fitted.sample(n_samples)


def test_sample_rejects_y_of_wrong_length(fitted_with_labels):
    with pytest.raises(ValueError, match=r"one label or one per row; got an array of shape \(2,\) for 3 rows"):
        fitted_with_labels.sample(3, y=[0, 1])


def test_sample_rejects_unknown_label(fitted_with_labels):
    with pytest.raises(ValueError, match=r"labels not seen at the first fit: array\(\[7\]\)"):
        fitted_with_labels.sample(3, y=7)


def test_warm_start_rejects_labels_not_seen_at_first_fit(X, y):
    aae = make_aae(warm_start=True).fit(X, y)
    with pytest.raises(ValueError, match=r"labels not seen at the first fit: array\(\[3\]\)"):
        aae.fit(X, np.arange(len(X)) % 4)
    # The failed call leaves the fitted model usable.
    assert aae.transform(X).shape == (len(X), 2)


def test_partial_fit_rejects_labels_not_seen_at_first_call(X, y):
    aae = make_aae().partial_fit(X, y)
    with pytest.raises(ValueError, match=r"labels not seen at the first fit: array\(\[5\]\)"):
        aae.partial_fit(X, np.full(len(X), 5))


def test_partial_fit_accepts_later_labels_declared_in_classes(X):
    aae = make_aae().partial_fit(X, np.arange(len(X)) % 2, classes=[0, 1, 2])
    aae.partial_fit(X, np.full(len(X), 2))
    np.testing.assert_array_equal(aae.classes_, [0, 1, 2])


def test_partial_fit_rejects_y_outside_declared_classes(X, y):
    with pytest.raises(ValueError, match="labels not seen at the first fit"):
        make_aae().partial_fit(X, y, classes=[0, 1])




@pytest.mark.parametrize("how", ["partial_fit", "warm_start"])
@pytest.mark.parametrize(
    "first_with_y",
    [pytest.param(True, id="labels-dropped"),
     pytest.param(False, id="labels-added")],
)
def test_continued_training_must_use_labels_like_first_fit(X, y, how, first_with_y):
    aae = make_aae(warm_start=True)
    train = aae.partial_fit if how == "partial_fit" else aae.fit
    first, other = (y, None) if first_with_y else (None, y)
    train(X, first)
    with pytest.raises(ValueError, match="must use labels the same way as the first fit"):
        train(X, other)
    # The refused call leaves the model as it was: training as before still works.
    train(X, first)
    assert aae.transform(X).shape == (len(X), 2)


# -- priors that do not fit the model ----------------------------------------------------


def test_prior_with_fewer_modes_than_classes_raises(X):
    with pytest.raises(ValueError, match="prior has 3 modes but y has 10 classes"):
        make_aae(prior=MixturePrior(n_modes=3)).fit(X, np.arange(len(X)) % 10)


@pytest.mark.parametrize("prior", ["umbrella", "swiss_roll"])
def test_two_dimensional_prior_rejects_one_component(X, prior):
    with pytest.raises(ValueError, match="needs a code of at least 2 dimensions"):
        make_aae(prior=prior, n_components=1).fit(X)


def test_user_prior_of_wrong_dimension_raises_at_fit(X):
    gmm = GaussianMixture(n_components=2, random_state=0).fit(
        np.random.RandomState(0).normal(size=(60, 3))
    )
    aae = make_aae(prior=gmm, n_components=2)
    with pytest.raises(ValueError, match=r"returned an array of shape \(25, 3\); expected \(25, 2\)"):
        aae.fit(X)
    with pytest.raises(NotFittedError):
        check_is_fitted(aae)


# -- divergence ----------------------------------------------------------------------


class Poisoned(nn.Module):
    """A linear body that returns NaN once ``nan_after`` training calls have passed,
    or (``when_frozen``) whenever its weights are frozen, as in the adversarial step."""

    def __init__(self, n_inputs, n_outputs, nan_after=None, when_frozen=False):
        super().__init__()
        self.linear = nn.Linear(n_inputs, n_outputs)
        with torch.no_grad():
            generator = torch.Generator().manual_seed(0)
            self.linear.weight.uniform_(-0.3, 0.3, generator=generator)
            self.linear.bias.zero_()
        self.nan_after = nan_after
        self.when_frozen = when_frozen
        self.calls = 0

    def forward(self, x):
        out = self.linear(x)
        if not self.training:
            return out
        self.calls += 1
        frozen = not self.linear.weight.requires_grad
        if (self.nan_after is not None and self.calls > self.nan_after) or (
            self.when_frozen and frozen
        ):
            out = out * float("nan")
        return out


def _all_parameters_finite(aae):
    return all(
        torch.isfinite(p).all()
        for net in (aae.encoder_, aae.decoder_, aae.discriminator_)
        for p in net.parameters()
    )


@pytest.mark.parametrize(
    "network, poison, phase, batch",
    [
        ("decoder", dict(nan_after=1), "reconstruction", 2),
        # The discriminator runs once in its own step (prior draws and codes in
        # one pass) and once in the adversarial step.
        ("discriminator", dict(nan_after=2), "discriminator", 2),
        ("discriminator", dict(when_frozen=True), "adversarial", 1),
    ],
)
def test_divergence_raises_naming_the_phase_and_leaves_model_unfitted(
    X, network, poison, phase, batch
):
    n_inputs, n_outputs = (2, 5) if network == "decoder" else (2, 1)
    aae = make_aae(max_epochs=3, **{network: Poisoned(n_inputs, n_outputs, **poison)})
    with pytest.raises(TrainingDivergedError) as info:
        aae.fit(X)
    assert isinstance(info.value, FloatingPointError)
    message = str(info.value)
    assert f"the {phase!r} loss became NaN or infinite" in message
    assert f"epoch 1 (mini-batch {batch})" in message
    assert "learning_rate" in message  # actionable advice
    with pytest.raises(NotFittedError):
        check_is_fitted(aae)
    with pytest.raises(NotFittedError):
        aae.transform(X)


def test_divergence_from_huge_learning_rate_is_detected(digit_images):
    aae = make_aae(learning_rate_init=1e6, hidden_layer_sizes=(32,), batch_size=100, max_epochs=3)
    with pytest.raises(TrainingDivergedError, match=r"the '\w+' loss became NaN or infinite"):
        aae.fit(digit_images * 1e6)
    with pytest.raises(NotFittedError):
        check_is_fitted(aae)


def test_divergence_on_warm_start_restores_finite_weights_of_previous_epoch(X):
    def first_fit():
        return make_aae(warm_start=True, max_epochs=2, decoder=Poisoned(2, 5)).fit(X)

    aae = first_fit()
    n_batches = 2  # 50 samples, batch_size=25: the decoder runs once per mini-batch
    # Poison the trained decoder so the second fit diverges in its second epoch.
    body = aae.decoder_.body
    body.nan_after = body.calls + n_batches + 1
    aae.set_params(max_epochs=3)
    with pytest.raises(TrainingDivergedError, match=r"'reconstruction' loss .* epoch 4 \(mini-batch 2\)"):
        aae.fit(X)

    check_is_fitted(aae)  # a warm start that fails keeps the model
    assert _all_parameters_finite(aae)
    assert np.isfinite(aae.transform(X)).all()
    assert np.isfinite(aae.inverse_transform(np.zeros((3, 2)))).all()

    # The weights are those after the last good epoch: the same as a second fit of
    # one epoch without poison.
    reference = first_fit().set_params(max_epochs=1).fit(X)
    np.testing.assert_allclose(aae.transform(X), reference.transform(X), rtol=1e-6, atol=1e-6)

    # And the model can keep training once the cause is gone.
    body.nan_after = None
    aae.fit(X)
    assert np.isfinite(aae.transform(X)).all()


class NanGradientOnCall(nn.Module):
    """A decoder body whose extra parameter gets a NaN gradient (with a finite output)
    on training call ``poison_call``: the next update makes the weights NaN."""

    def __init__(self, n_inputs, n_outputs, poison_call):
        super().__init__()
        self.linear = nn.Linear(n_inputs, n_outputs)
        self.extra = nn.Parameter(torch.zeros(()))
        self.poison_call = poison_call
        self.calls = 0

    def forward(self, x):
        out = self.linear(x) + 0 * self.extra
        if self.training:
            self.calls += 1
            if self.calls == self.poison_call:
                # sqrt'(0) is infinite: 0 * inf gives a NaN gradient, the output stays finite.
                out = out + 0 * torch.sqrt(self.extra - self.extra)
        return out


def test_fit_whose_last_update_makes_weights_non_finite_raises(X):
    aae = make_aae(max_epochs=1, decoder=NanGradientOnCall(2, 5, poison_call=2))
    with pytest.raises(TrainingDivergedError):
        aae.fit(X)


@pytest.mark.parametrize("missing", [None, np.nan])
@pytest.mark.parametrize("estimator", ["AdversarialAutoencoder", "SupervisedAAE",
                                       "SemiSupervisedAAE"])
def test_a_missing_string_label_is_named_as_missing(X, estimator, missing):
    import skaae

    y = np.array(["cat", "dog", missing] * 16 + ["cat", "dog"], dtype=object)
    model = getattr(skaae, estimator)(**TINY)
    with pytest.raises(ValueError, match=r"16 missing label\(s\) \(None or NaN\), the first at "
                                         r"position 2"):
        model.fit(X, y)


def test_values_beyond_float32_are_refused_in_fit_and_after(X):
    huge = X.copy()
    huge[3, 1] = 1e39
    with pytest.raises(ValueError, match="beyond float32's range"):
        make_aae().fit(huge)
    model = make_aae().fit(X)
    for method in (model.transform, model.score_samples, model.score):
        with pytest.raises(ValueError, match="beyond float32's range"):
            method(huge)


@pytest.mark.parametrize("role, network, message", [
    ("encoder", nn.Linear(5, 3), r"The custom encoder returned \(2, 3\) .* shape \(2, 2\)"),
    ("encoder", nn.Linear(4, 2), r"The custom encoder failed on a batch of 2 rows: the encoder "
                                 r"must map rows of 5 values to rows of 2 \(RuntimeError"),
    ("decoder", lambda n_in, n_out: nn.Linear(n_in, n_out + 1),
     r"The custom decoder returned \(2, 6\)"),
    ("discriminator", nn.Sequential(nn.Linear(2, 4), nn.Linear(4, 2)),
     r"The custom discriminator returned \(2, 2\)"),
])
def test_a_custom_network_of_the_wrong_shape_is_refused_before_training(X, role, network,
                                                                        message):
    model = make_aae(**{role: network})
    with pytest.raises(ValueError, match=message):
        model.fit(X)
    assert not hasattr(model, "encoder_")


def test_the_shape_check_leaves_batch_norm_statistics_alone():
    from skaae.networks import build_body

    encoder = nn.Sequential(nn.Linear(5, 4), nn.BatchNorm1d(4), nn.Linear(4, 2))
    body = build_body(encoder, 5, 2, default=None, role="encoder")
    assert int(body[1].num_batches_tracked) == 0 and body.training
