"""Walks through the code space: easing, interpolation, neighbour pairs, GIFs."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PIL import Image  # noqa: E402
from sklearn.exceptions import NotFittedError  # noqa: E402

from skaae import AdversarialAutoencoder, SemiSupervisedAAE  # noqa: E402
from skaae.latent import (  # noqa: E402
    animate_interpolation,
    easing_weights,
    interpolate,
    interpolate_inputs,
    nearest_distinct_pairs,
)

pytestmark = pytest.mark.usefixtures("close_figures")


# -- easing and interpolate ----------------------------------------------------
@pytest.mark.parametrize("easing", ["linear", "cos2"])
def test_interpolation_ends_are_the_inputs_exactly(easing):
    start = np.array([0.3, -1.7, 2.1])
    end = np.array([-4.0, 0.1, 9.9])
    path = interpolate(start, end, 7, easing=easing)
    assert path.shape == (7, 3)
    assert np.array_equal(path[0], start)
    assert np.array_equal(path[-1], end)


@pytest.mark.parametrize("easing", ["linear", "cos2"])
def test_interpolation_stays_on_the_segment_and_moves_forward(easing):
    weights = easing_weights(11, easing)
    assert np.all(np.diff(weights) > 0)
    path = interpolate([0.0, 0.0], [2.0, 4.0], 11, easing=easing)
    assert np.allclose(path[:, 1], 2 * path[:, 0])


def test_linear_easing_moves_at_an_even_pace():
    assert np.allclose(np.diff(easing_weights(9, "linear")), 1 / 8)


def test_cos2_is_slower_than_linear_at_both_ends_and_faster_in_the_middle():
    linear, cos2 = easing_weights(21, "linear"), easing_weights(21, "cos2")
    step_linear, step_cos2 = np.diff(linear), np.diff(cos2)
    assert step_cos2[0] < step_linear[0]
    assert step_cos2[-1] < step_linear[-1]
    assert step_cos2[10] > step_linear[10]
    # sin(pi t / 2) ** 2 is symmetric about the midpoint.
    assert np.allclose(cos2, 1 - cos2[::-1])
    assert np.allclose(cos2, np.sin(np.pi * linear / 2) ** 2)


def test_interpolate_keeps_the_shape_of_the_ends():
    start, end = np.zeros((2, 3), dtype=np.float32), np.ones((2, 3), dtype=np.float32)
    path = interpolate(start, end, 4)
    assert path.shape == (4, 2, 3)
    assert path.dtype == np.float32


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(n_steps=1), "n_steps"),
        (dict(n_steps=2.5), "n_steps"),
        (dict(easing="cubic"), "easing"),
    ],
)
def test_interpolate_rejects_bad_parameters(kwargs, message):
    with pytest.raises(ValueError, match=message):
        interpolate([0.0], [1.0], **{"n_steps": 5, **kwargs})


def test_interpolate_rejects_ends_of_different_shapes():
    with pytest.raises(ValueError, match="same shape"):
        interpolate([0.0, 1.0], [1.0], 5)


# -- interpolate_inputs --------------------------------------------------------
def test_interpolate_inputs_decodes_the_path_between_two_codes(autoencoder, small_digits):
    X, _ = small_digits
    decoded, codes = interpolate_inputs(
        autoencoder, X[0], X[1], 6, easing="cos2", return_codes=True
    )
    assert decoded.shape == (6, 64)
    assert codes.shape == (6, 2)
    ends = autoencoder.transform(X[:2])
    assert np.allclose(codes[[0, -1]], ends)
    assert np.allclose(decoded, autoencoder.inverse_transform(codes))


def test_interpolate_inputs_decodes_under_a_class(supervised, small_digits):
    X, _ = small_digits
    decoded = interpolate_inputs(supervised, X[0:1], X[1:2], 5, y=3)
    codes = interpolate(*supervised.transform(X[:2]), 5)
    assert np.allclose(decoded, supervised.inverse_transform(codes, y=3))


def test_interpolate_inputs_with_probabilities_in_the_code_needs_no_class(small_digits, tiny_params):
    X, y = small_digits
    model = SemiSupervisedAAE(n_components=2, include_proba=True, **tiny_params).fit(X, y)
    assert interpolate_inputs(model, X[0], X[1], 4).shape == (4, 64)


def test_interpolate_inputs_rejects_a_class_for_a_model_without_one(autoencoder, small_digits):
    X, _ = small_digits
    with pytest.raises(ValueError, match="takes no class"):
        interpolate_inputs(autoencoder, X[0], X[1], 4, y=3)


def test_interpolate_inputs_rejects_several_rows(autoencoder, small_digits):
    X, _ = small_digits
    with pytest.raises(ValueError, match="x_start must be one sample"):
        interpolate_inputs(autoencoder, X[:2], X[1], 4)


def test_interpolate_inputs_needs_a_fitted_model(small_digits):
    X, _ = small_digits
    with pytest.raises(NotFittedError):
        interpolate_inputs(AdversarialAutoencoder(), X[0], X[1], 4)


# -- nearest_distinct_pairs ----------------------------------------------------
def _brute_force_nearest(codes, anchor, labels=None):
    distances = np.linalg.norm(codes - codes[anchor], axis=1)
    acceptable = np.any(codes != codes[anchor], axis=1)
    if labels is not None:
        acceptable &= labels != labels[anchor]
    return distances[acceptable].min(), distances


def test_nearest_pairs_are_nearest_and_distinct():
    rng = np.random.default_rng(0)
    codes = rng.normal(size=(200, 3))
    codes[100:150] = codes[:50]  # duplicates must never pair up
    pairs = nearest_distinct_pairs(codes, 20, random_state=0)
    assert pairs.shape == (20, 2)
    assert pairs.dtype.kind == "i"
    unordered = {tuple(sorted(pair)) for pair in pairs.tolist()}
    assert len(unordered) == 20
    for anchor, neighbour in pairs:
        assert not np.array_equal(codes[anchor], codes[neighbour])
        nearest, distances = _brute_force_nearest(codes, anchor)
        assert np.isclose(distances[neighbour], nearest)


def test_nearest_pairs_with_labels_cross_labels():
    rng = np.random.default_rng(1)
    codes = rng.normal(size=(150, 2))
    labels = rng.integers(3, size=150)
    pairs = nearest_distinct_pairs(codes, 15, labels=labels, random_state=0)
    for anchor, neighbour in pairs:
        assert labels[anchor] != labels[neighbour]
        nearest, distances = _brute_force_nearest(codes, anchor, labels)
        assert np.isclose(distances[neighbour], nearest)


def test_nearest_pairs_look_past_many_duplicates():
    # The only distinct point lies behind more duplicates than the first query returns.
    codes = np.vstack([np.zeros((40, 2)), [[3.0, 4.0]]])
    pairs = nearest_distinct_pairs(codes, 1, random_state=0)
    assert 40 in pairs[0]


def test_nearest_pairs_are_reproducible():
    codes = np.random.default_rng(0).normal(size=(50, 2))
    first = nearest_distinct_pairs(codes, 5, random_state=3)
    assert np.array_equal(first, nearest_distinct_pairs(codes, 5, random_state=3))


def test_nearest_pairs_say_when_too_few_exist():
    with pytest.raises(ValueError, match="Only 0 pairs"):
        nearest_distinct_pairs(np.ones((5, 2)), 1)
    with pytest.raises(ValueError, match="different labels"):
        nearest_distinct_pairs(np.arange(10.0)[:, None], 2, labels=np.zeros(10))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(n_pairs=0), "n_pairs"),
        (dict(labels=np.zeros(3)), "labels must have one entry"),
    ],
)
def test_nearest_pairs_reject_bad_parameters(kwargs, message):
    with pytest.raises(ValueError, match=message):
        nearest_distinct_pairs(np.eye(5), **{"n_pairs": 1, **kwargs})


# -- animate_interpolation -----------------------------------------------------
def test_animation_writes_a_gif_with_one_frame_per_step(autoencoder, small_digits, tmp_path):
    from matplotlib.animation import Animation

    X, _ = small_digits
    filename = tmp_path / "walk.gif"
    animation = animate_interpolation(
        autoencoder, X[0], X[1], filename, image_shape=(8, 8), n_steps=5, fps=5
    )
    assert isinstance(animation, Animation)
    with Image.open(filename) as gif:
        assert gif.format == "GIF"
        assert gif.n_frames == 5


def test_animation_without_a_filename_writes_nothing(autoencoder, small_digits, tmp_path,
                                                     monkeypatch):
    X, _ = small_digits
    monkeypatch.chdir(tmp_path)
    animate_interpolation(autoencoder, X[0], X[1], image_shape=(8, 8), n_steps=3)
    assert list(tmp_path.iterdir()) == []


def test_animation_rejects_a_wrong_image_shape(autoencoder, small_digits):
    X, _ = small_digits
    with pytest.raises(ValueError, match="image_shape"):
        animate_interpolation(autoencoder, X[0], X[1], image_shape=(7, 7), n_steps=3)


def test_animation_rejects_a_bad_frame_rate(autoencoder, small_digits):
    X, _ = small_digits
    with pytest.raises(ValueError, match="fps"):
        animate_interpolation(autoencoder, X[0], X[1], image_shape=(8, 8), fps=0)


def test_animation_of_colour_images(tmp_path, tiny_params):
    # Rows of three 4x4 channels, one after the other (channel-major).
    X = np.random.default_rng(0).random((60, 3 * 4 * 4))
    model = AdversarialAutoencoder(n_components=2, **tiny_params).fit(X)
    filename = tmp_path / "colour.gif"
    animate_interpolation(model, X[0], X[1], filename, image_shape=(3, 4, 4), n_steps=4)
    with Image.open(filename) as gif:
        assert gif.n_frames == 4
        assert gif.convert("RGB").size[0] > 4
