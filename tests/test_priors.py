"""Behaviour of skaae.priors: shapes, reproducibility, geometry of each prior,
user-supplied samplers, parameter validation, and priors passed to the estimator."""

import math

import numpy as np
import pytest
import torch
from sklearn.mixture import GaussianMixture

from skaae import AdversarialAutoencoder
from skaae.priors import (
    PRIOR_NAMES,
    CategoricalPrior,
    GaussianPrior,
    MixturePrior,
    Prior,
    SwissRollPrior,
    UmbrellaPrior,
    UniformPrior,
    make_prior,
)

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])

TINY = dict(
    hidden_layer_sizes=(16,),
    discriminator_hidden_layer_sizes=(16,),
    max_epochs=1,
    batch_size=50,
    device="cpu",
    random_state=0,
)


def gen(seed=0, device="cpu"):
    return torch.Generator(device=device).manual_seed(seed)


# -- every named prior --------------------------------------------------------


def test_prior_names_are_the_documented_five():
    assert set(PRIOR_NAMES) == {"gaussian", "mixture", "umbrella", "swiss_roll", "uniform"}


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("name", PRIOR_NAMES)
def test_named_prior_returns_float32_n_by_d_on_generator_device(name, device):
    prior = make_prior(name, n_modes=4)
    assert isinstance(prior, Prior)
    samples = prior.sample(37, 3, generator=gen(0, device))
    assert isinstance(samples, torch.Tensor)
    assert samples.shape == (37, 3)
    assert samples.dtype == torch.float32
    assert samples.device.type == torch.device(device).type
    assert torch.isfinite(samples).all()


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("name", PRIOR_NAMES)
def test_named_prior_with_labels_returns_n_by_d_on_generator_device(name, device):
    prior = make_prior(name, n_modes=4)
    labels = torch.tensor([0, 1, 2, 3, -1, -1, 2, 0])
    samples = prior.sample(8, 3, generator=gen(0, device), labels=labels)
    assert samples.shape == (8, 3)
    assert samples.dtype == torch.float32
    assert samples.device.type == torch.device(device).type


@pytest.mark.parametrize("name", PRIOR_NAMES)
def test_named_prior_same_seed_gives_identical_samples(name):
    prior = make_prior(name, n_modes=4)
    first = prior.sample(100, 3, generator=gen(123))
    second = prior.sample(100, 3, generator=gen(123))
    assert torch.equal(first, second)


@pytest.mark.parametrize("name", PRIOR_NAMES)
def test_named_prior_different_seeds_give_different_samples(name):
    prior = make_prior(name, n_modes=4)
    first = prior.sample(100, 3, generator=gen(1))
    second = prior.sample(100, 3, generator=gen(2))
    assert not torch.allclose(first, second)


def test_sampling_does_not_touch_global_torch_rng():
    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    for name in PRIOR_NAMES:
        make_prior(name).sample(50, 3, generator=gen(5))
    assert torch.equal(torch.rand(3), expected)


@pytest.mark.parametrize(
    "name, cls", [("gaussian", GaussianPrior), ("mixture", MixturePrior),
                  ("umbrella", UmbrellaPrior), ("swiss_roll", SwissRollPrior),
                  ("uniform", UniformPrior)],
)
def test_make_prior_maps_each_name_to_its_class(name, cls):
    assert type(make_prior(name)) is cls


@pytest.mark.parametrize("name", ["mixture", "umbrella", "swiss_roll"])
def test_make_prior_passes_n_modes_to_multimodal_priors(name):
    assert make_prior(name, n_modes=7).n_modes == 7


def test_make_prior_returns_a_prior_instance_unchanged():
    prior = MixturePrior(n_modes=3)
    assert make_prior(prior) is prior


# -- Gaussian -----------------------------------------------------------------


@pytest.mark.parametrize("scale", [0.5, 1.0, 3.0])
def test_gaussian_prior_has_requested_std_and_zero_mean(scale):
    samples = GaussianPrior(scale).sample(20000, 4, generator=gen(0))
    std = samples.std(dim=0)
    np.testing.assert_allclose(std.numpy(), scale, rtol=0.05)
    np.testing.assert_allclose(samples.mean(dim=0).numpy(), 0.0, atol=0.05 * scale)


def test_gaussian_prior_ignores_labels():
    labels = torch.zeros(100, dtype=torch.int64)
    with_labels = GaussianPrior().sample(100, 2, generator=gen(0), labels=labels)
    without = GaussianPrior().sample(100, 2, generator=gen(0))
    assert torch.equal(with_labels, without)


# -- Mixture ------------------------------------------------------------------


def _nearest_mode(samples, means):
    return torch.cdist(samples, means).argmin(dim=1)


@pytest.mark.parametrize(
    "n_modes, n_dims, scale",
    [(10, 10, 0.5), (4, 6, 0.5), (10, 2, 0.1), (5, 3, 0.1)],
)
def test_mixture_prior_with_labels_puts_each_sample_nearest_its_mode(n_modes, n_dims, scale):
    prior = MixturePrior(n_modes=n_modes, scale=scale)
    labels = torch.arange(2000) % n_modes
    samples = prior.sample(2000, n_dims, generator=gen(0), labels=labels)
    nearest = _nearest_mode(samples, prior.means(n_dims))
    assert torch.equal(nearest, labels)


def test_mixture_prior_label_minus_one_draws_from_all_modes():
    prior = MixturePrior(n_modes=10)
    labels = torch.full((3000,), -1, dtype=torch.int64)
    samples = prior.sample(3000, 10, generator=gen(0), labels=labels)
    counts = torch.bincount(_nearest_mode(samples, prior.means(10)), minlength=10)
    # Every mode occurs, roughly uniformly (300 expected each).
    assert (counts > 200).all(), counts


def test_mixture_prior_mixes_labeled_and_unlabeled_samples():
    prior = MixturePrior(n_modes=4)
    labels = torch.tensor([2] * 500 + [-1] * 500)
    samples = prior.sample(1000, 4, generator=gen(0), labels=labels)
    nearest = _nearest_mode(samples, prior.means(4))
    assert (nearest[:500] == 2).all()
    assert len(torch.unique(nearest[500:])) == 4


def test_mixture_prior_without_labels_uses_all_modes():
    prior = MixturePrior(n_modes=5)
    samples = prior.sample(2000, 5, generator=gen(0))
    assert len(torch.unique(_nearest_mode(samples, prior.means(5)))) == 5


@pytest.mark.parametrize("n_modes, n_dims", [(3, 3), (4, 7), (10, 10)])
def test_mixture_prior_means_are_orthogonal_when_dims_allow(n_modes, n_dims):
    prior = MixturePrior(n_modes=n_modes, radius=4.0)
    means = prior.means(n_dims)
    assert means.shape == (n_modes, n_dims)
    distances = torch.pdist(means)
    np.testing.assert_allclose(distances.numpy(), 4.0 * math.sqrt(2), rtol=1e-5)
    np.testing.assert_allclose(means.norm(dim=1).numpy(), 4.0, rtol=1e-5)
    gram = means @ means.T
    off_diagonal = gram - torch.diag(torch.diag(gram))
    assert torch.allclose(off_diagonal, torch.zeros_like(off_diagonal))


def test_mixture_prior_means_lie_on_a_circle_in_low_dims():
    prior = MixturePrior(n_modes=8, radius=3.0)
    means = prior.means(4)
    np.testing.assert_allclose(means[:, :2].norm(dim=1).numpy(), 3.0, rtol=1e-5)
    assert torch.equal(means[:, 2:], torch.zeros(8, 2))
    assert len(torch.unique(means.round(decimals=4), dim=0)) == 8


def test_mixture_prior_component_std_is_scale():
    prior = MixturePrior(n_modes=3, scale=0.25)
    labels = torch.ones(20000, dtype=torch.int64)
    samples = prior.sample(20000, 3, generator=gen(0), labels=labels)
    centred = samples - prior.means(3)[1]
    np.testing.assert_allclose(centred.std(dim=0).numpy(), 0.25, rtol=0.05)


# -- Umbrella -----------------------------------------------------------------


@pytest.mark.parametrize("n_dims", [2, 4])
def test_umbrella_prior_modes_are_elongated_along_the_radius(n_dims):
    prior = UmbrellaPrior(n_modes=6)
    for mode in range(prior.n_modes):
        labels = torch.full((2000,), mode, dtype=torch.int64)
        points = prior.sample(2000, n_dims, generator=gen(mode), labels=labels)[:, :2]
        angle = 2 * math.pi * mode / prior.n_modes
        radial = torch.tensor([math.cos(angle), math.sin(angle)])
        across = torch.tensor([-math.sin(angle), math.cos(angle)])
        var_radial = (points @ radial).var()
        var_across = (points @ across).var()
        assert var_radial > 4 * var_across, (mode, var_radial, var_across)
        # The rib is centred at `radius` along its direction.
        assert abs(float((points @ radial).mean()) - prior.radius) < 0.2


# -- Swiss roll ---------------------------------------------------------------


def test_swiss_roll_prior_arcs_have_increasing_radius_with_label():
    prior = SwissRollPrior(n_modes=6)
    mean_radii = []
    for mode in range(prior.n_modes):
        labels = torch.full((500,), mode, dtype=torch.int64)
        points = prior.sample(500, 2, generator=gen(mode), labels=labels)
        mean_radii.append(float(points.norm(dim=1).mean()))
    assert all(a < b for a, b in zip(mean_radii, mean_radii[1:])), mean_radii
    assert mean_radii[-1] <= prior.radius + 0.2


def test_swiss_roll_prior_extra_dims_hold_small_noise():
    prior = SwissRollPrior(noise=0.1)
    points = prior.sample(5000, 4, generator=gen(0))
    np.testing.assert_allclose(points[:, 2:].std(dim=0).numpy(), 0.1, rtol=0.1)


# -- Uniform and categorical -------------------------------------------------------


@pytest.mark.parametrize("scale", [0.5, 2.5])
def test_uniform_prior_fills_the_cube_minus_scale_to_scale(scale):
    samples = UniformPrior(scale).sample(5000, 3, generator=gen(0))
    assert samples.min() >= -scale and samples.max() <= scale
    assert samples.min() < -0.95 * scale and samples.max() > 0.95 * scale
    np.testing.assert_allclose(samples.std(dim=0).numpy(), scale / math.sqrt(3), rtol=0.05)


def test_categorical_prior_gives_one_hot_rows_of_every_category():
    samples = CategoricalPrior().sample(500, 4, generator=gen(0))
    assert samples.shape == (500, 4)
    assert samples.dtype == torch.float32
    assert torch.all((samples == 0) | (samples == 1))
    assert torch.equal(samples.sum(dim=1), torch.ones(500))
    assert set(samples.argmax(dim=1).tolist()) == {0, 1, 2, 3}


# -- user priors -----------------------------------------------------------------


@pytest.fixture(scope="module")
def fitted_gmm():
    rng = np.random.RandomState(0)
    data = np.vstack([rng.normal([5, -5], 0.3, (200, 2)), rng.normal([7, -3], 0.3, (200, 2))])
    return GaussianMixture(n_components=2, random_state=0).fit(data)


def test_fitted_gaussian_mixture_works_as_prior(fitted_gmm):
    prior = make_prior(fitted_gmm)
    assert isinstance(prior, Prior)
    samples = prior.sample(400, 2, generator=gen(0))
    assert samples.shape == (400, 2)
    assert samples.dtype == torch.float32
    # Drawn from the mixture (GaussianMixture.sample returns (X, labels)).
    np.testing.assert_allclose(samples.mean(dim=0).numpy(), [6, -4], atol=0.3)


def test_fitted_gaussian_mixture_prior_is_reproducible(fitted_gmm):
    prior = make_prior(fitted_gmm)
    first = prior.sample(50, 2, generator=gen(3))
    second = prior.sample(50, 2, generator=gen(3))
    assert torch.equal(first, second)


def _shifted_normal(n_samples, random_state):
    return random_state.normal(10.0, 1.0, size=(n_samples, 2))


def test_callable_with_random_state_works_as_prior():
    samples = make_prior(_shifted_normal).sample(2000, 2, generator=gen(0))
    assert samples.shape == (2000, 2)
    assert samples.dtype == torch.float32
    np.testing.assert_allclose(samples.mean(dim=0).numpy(), 10.0, atol=0.1)


def test_callable_prior_same_seed_identical_different_seed_differs():
    prior = make_prior(_shifted_normal)
    first = prior.sample(30, 2, generator=gen(7))
    again = prior.sample(30, 2, generator=gen(7))
    other = prior.sample(30, 2, generator=gen(8))
    assert torch.equal(first, again)
    assert not torch.allclose(first, other)


def test_callable_prior_receives_a_numpy_random_state():
    seen = []

    def sampler(n_samples, random_state):
        seen.append((n_samples, random_state))
        return np.zeros((n_samples, 3))

    make_prior(sampler).sample(5, 3, generator=gen(0))
    assert seen and seen[0][0] == 5
    assert isinstance(seen[0][1], np.random.RandomState)


def test_callable_without_random_state_is_called_with_n_only():
    calls = []

    def sampler(n_samples):
        calls.append(n_samples)
        return np.ones((n_samples, 2))

    samples = make_prior(sampler).sample(6, 2, generator=gen(0))
    assert calls == [6]
    assert torch.equal(samples, torch.ones(6, 2))


def test_user_prior_one_dimensional_output_accepted_for_one_dim_code():
    samples = make_prior(lambda n: np.arange(n, dtype=float)).sample(4, 1, generator=gen(0))
    assert samples.shape == (4, 1)


@pytest.mark.parametrize(
    "returned", [lambda n: np.zeros((n, 3)), lambda n: np.zeros((n + 1, 2)), lambda n: np.zeros(n)]
)
def test_user_prior_with_wrong_shape_raises_clear_value_error(returned):
    prior = make_prior(returned)
    with pytest.raises(ValueError, match=r"returned an array of shape .*expected \(10, 2\)"):
        prior.sample(10, 2, generator=gen(0))


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_user_prior_returning_non_finite_values_raises_value_error(bad):
    def sampler(n_samples):
        out = np.zeros((n_samples, 2))
        out[1, 0] = bad
        return out

    with pytest.raises(ValueError, match="NaN or infinite"):
        make_prior(sampler).sample(10, 2, generator=gen(0))


# -- invalid specifications and parameters -------------------------------------------


def test_make_prior_unknown_name_lists_the_valid_names():
    with pytest.raises(ValueError, match="Unknown prior 'nope'") as info:
        make_prior("nope")
    for name in PRIOR_NAMES:
        assert repr(name) in str(info.value)


@pytest.mark.parametrize("spec", [42, 3.5, None, [1, 2]])
def test_make_prior_rejects_non_sampler_with_type_error(spec):
    with pytest.raises(TypeError, match="prior must be a name"):
        make_prior(spec)


@pytest.mark.parametrize(
    "cls, params, pattern",
    [
        (GaussianPrior, dict(scale=-1), "scale must be a positive number"),
        (GaussianPrior, dict(scale=0), "scale must be a positive number"),
        (GaussianPrior, dict(scale=float("nan")), "scale must be a positive number"),
        (GaussianPrior, dict(scale="1"), "scale must be a positive number"),
        (GaussianPrior, dict(scale=True), "scale must be a positive number"),
        (UniformPrior, dict(scale=-1), "scale must be a positive number"),
        (MixturePrior, dict(n_modes=0), "n_modes must be a positive integer"),
        (MixturePrior, dict(n_modes=2.5), "n_modes must be a positive integer"),
        (MixturePrior, dict(radius=-1), "radius must be a positive number"),
        (MixturePrior, dict(scale=0), "scale must be a positive number"),
        (UmbrellaPrior, dict(n_modes=0), "n_modes must be a positive integer"),
        (UmbrellaPrior, dict(radial_scale=0), "radial_scale must be a positive number"),
        (SwissRollPrior, dict(n_modes=0), "n_modes must be a positive integer"),
        (SwissRollPrior, dict(turns=-1), "turns must be a positive number"),
        (SwissRollPrior, dict(noise=0), "noise must be a positive number"),
        pytest.param(
            GaussianPrior, dict(scale=float("inf")), "scale must be a positive",
        ),
    ],
)
def test_invalid_prior_parameters_raise_value_error(cls, params, pattern):
    with pytest.raises(ValueError, match=pattern):
        cls(**params)


@pytest.mark.parametrize("cls", [UmbrellaPrior, SwissRollPrior])
def test_two_dimensional_priors_reject_one_dimensional_code(cls):
    prior = cls()
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        prior.check_dims(1)
    prior.check_dims(2)  # no error


@pytest.mark.parametrize("cls", [GaussianPrior, MixturePrior, UniformPrior])
def test_other_priors_accept_one_dimensional_code(cls):
    prior = cls()
    prior.check_dims(1)
    assert prior.sample(5, 1, generator=gen(0)).shape == (5, 1)


# -- priors inside the estimator -------------------------------------------------------


@pytest.fixture(scope="module")
def small_data():
    rng = np.random.RandomState(0)
    X = rng.rand(100, 8)
    y = np.arange(100) % 3
    return X, y


class CountingMixture(MixturePrior):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.calls = 0

    def sample(self, n_samples, n_dims, *, generator, labels=None):
        self.calls += 1
        return super().sample(n_samples, n_dims, generator=generator, labels=labels)


def test_estimator_uses_a_prior_instance(small_data):
    X, y = small_data
    prior = CountingMixture(n_modes=3)
    aae = AdversarialAutoencoder(prior=prior, **TINY).fit(X, y)
    assert aae.prior_ is prior
    assert prior.calls > 0
    assert aae.transform(X).shape == (100, 2)
    drawn = aae.sample(4, y=[0, 1, 2, 0], random_state=0)
    assert drawn.shape == (4, 8)
    np.testing.assert_array_equal(drawn, aae.sample(4, y=[0, 1, 2, 0], random_state=0))


def test_estimator_uses_a_callable_prior_and_is_reproducible(small_data):
    X, _ = small_data
    calls = []

    def prior(n_samples, random_state):
        calls.append(n_samples)
        return random_state.uniform(-1, 1, size=(n_samples, 2))

    aae = AdversarialAutoencoder(prior=prior, **TINY).fit(X)
    assert calls and all(n == 50 for n in calls)  # once per mini-batch
    assert aae.transform(X).shape == (100, 2)
    first = aae.sample(5, random_state=1)
    assert first.shape == (5, 8)
    np.testing.assert_array_equal(first, aae.sample(5, random_state=1))
    assert not np.allclose(first, aae.sample(5, random_state=2))

    again = AdversarialAutoencoder(prior=prior, **TINY).fit(X)
    np.testing.assert_array_equal(aae.transform(X), again.transform(X))


def test_a_cloned_fitted_mixture_prior_asks_for_frozen_estimator():
    from sklearn.base import clone

    mixture = GaussianMixture(3, random_state=0).fit(np.random.RandomState(0).randn(300, 2))
    model = clone(AdversarialAutoencoder(prior=mixture, max_epochs=1, device="cpu"))
    with pytest.raises(ValueError, match="unfitted estimator.*FrozenEstimator"):
        model.fit(np.random.RandomState(0).rand(50, 4))


def test_a_frozen_mixture_prior_survives_cross_validation_and_draws_anew_each_time():
    from sklearn.frozen import FrozenEstimator
    from sklearn.model_selection import cross_val_score

    mixture = GaussianMixture(3, random_state=0).fit(np.random.RandomState(0).randn(300, 2))
    model = AdversarialAutoencoder(
        prior=FrozenEstimator(mixture), hidden_layer_sizes=(8,),
        discriminator_hidden_layer_sizes=(8,), max_epochs=1, device="cpu", random_state=0,
    )
    X = np.random.RandomState(1).rand(90, 4)
    assert np.isfinite(cross_val_score(model, X, cv=3)).all()
    prior = model.fit(X).prior_
    generator = torch.Generator().manual_seed(0)
    first = prior.sample(20, 2, generator=generator)
    second = prior.sample(20, 2, generator=generator)
    assert not torch.equal(first, second)
    assert mixture.random_state == 0  # the user's mixture is left as it was
