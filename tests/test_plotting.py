"""The plotting helpers return the matplotlib objects they draw, with the expected images."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from skaae import (  # noqa: E402
    AdversarialAutoencoder,
    ClusteringAAE,
    SemiSupervisedAAE,
)
from skaae.plotting import (  # noqa: E402
    _as_images,
    _tile,
    plot_code,
    plot_history,
    plot_interpolation,
    plot_manifold,
    plot_sample_grid,
)
from skaae.priors import MixturePrior  # noqa: E402

pytestmark = pytest.mark.usefixtures("close_figures")


# -- images ----------------------------------------------------------------------
def test_grey_and_colour_rows_become_images():
    grey = _as_images(np.zeros((5, 12)), (3, 4))
    assert grey.shape == (5, 3, 4)
    single_channel = _as_images(np.zeros((5, 12)), (1, 3, 4))
    assert single_channel.shape == (5, 3, 4)
    # Channel-major rows: the first 12 values are red, the next 12 green, the last blue.
    rows = np.repeat([[0.1, 0.5, 0.9]], 12, axis=1)
    colour = _as_images(rows, (3, 3, 4))
    assert colour.shape == (1, 3, 4, 3)
    assert np.allclose(colour[0, 2, 3], [0.1, 0.5, 0.9])


def test_colour_images_are_clipped_to_the_unit_range():
    colour = _as_images(np.full((1, 12), 1.5), (3, 2, 2))
    assert colour.max() == 1.0


@pytest.mark.parametrize(
    "image_shape, message",
    [((8, 9), "holds 72 values"), ((2, 4, 8), "channels"), ((64,), "image_shape must be")],
)
def test_a_wrong_image_shape_is_explained(image_shape, message):
    with pytest.raises(ValueError, match=message):
        _as_images(np.zeros((2, 64)), image_shape)


def test_tiles_are_separated_by_a_one_pixel_margin():
    images = np.arange(2 * 3 * 4 * 5, dtype=float).reshape(2, 3, 4, 5)
    tiled = _tile(images)
    assert tiled.shape == (2 * 4 + 1, 3 * 5 + 2)
    assert np.array_equal(tiled[5:9, 6:11], images[1, 1])
    assert np.all(tiled[4] == images.min())
    colour = _tile(np.zeros((2, 2, 4, 4, 3)))
    assert colour.shape == (9, 9, 3)
    assert np.all(colour[4] == 1.0)


# -- plot_code ---------------------------------------------------------------------
def test_plot_code_draws_the_prior_density_behind_the_codes(autoencoder, small_digits):
    X, y = small_digits
    ax = plot_code(autoencoder.transform(X), y, prior=autoencoder)
    assert len(ax.images) == 1
    density = ax.images[0]
    assert density.get_zorder() < ax.collections[0].get_zorder()
    assert len(ax.collections) == len(np.unique(y))


def test_plot_code_takes_a_prior_object():
    codes = np.random.default_rng(0).normal(size=(50, 2))
    ax = plot_code(codes, prior=MixturePrior(n_modes=4), n_prior_samples=2000)
    density = ax.images[0].get_array()
    # Most draws of a 4-mode mixture on a circle of radius 4 avoid the centre.
    rows, cols = density.shape
    assert density[rows // 2, cols // 2] < density.max()


def test_plot_code_without_prior_draws_no_image():
    ax = plot_code(np.zeros((3, 2)))
    assert len(ax.images) == 0
    assert len(ax.collections) == 1


def test_plot_code_rejects_bad_input():
    with pytest.raises(ValueError, match="shape \\(n_samples, 2\\)"):
        plot_code(np.zeros((3, 3)))
    with pytest.raises(ValueError, match="labels must have one entry"):
        plot_code(np.zeros((3, 2)), labels=[0, 1])
    with pytest.raises(TypeError, match="prior must be"):
        plot_code(np.zeros((3, 2)), prior="gaussian")


# -- plot_manifold -------------------------------------------------------------------
def test_plot_manifold_tiles_one_decoding_per_grid_point(autoencoder):
    ax = plot_manifold(autoencoder, (8, 8), n_steps=4)
    assert len(ax.images) == 1
    assert ax.images[0].get_array().shape == (4 * 9 - 1, 4 * 9 - 1)


# -- plot_sample_grid ------------------------------------------------------------------
def test_sample_grid_has_a_row_per_class_and_a_column_per_style(supervised):
    ax = plot_sample_grid(supervised, classes=[0, 1, 2], n_styles=5, image_shape=(8, 8),
                          random_state=0)
    assert isinstance(ax, matplotlib.axes.Axes)
    assert ax.images[0].get_array().shape == (3 * 9 - 1, 5 * 9 - 1)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["0", "1", "2"]


def test_sample_grid_shares_each_style_across_a_column(supervised, monkeypatch):
    decoded_calls = []
    original = supervised.inverse_transform

    def spy(codes, y=None):
        decoded_calls.append((codes, y))
        return original(codes, y=y)

    monkeypatch.setattr(supervised, "inverse_transform", spy)
    plot_sample_grid(supervised, n_styles=4, image_shape=(8, 8), random_state=0)
    (codes, y), = decoded_calls
    n_classes = len(supervised.classes_)
    styles = codes.reshape(n_classes, 4, -1)
    assert np.array_equal(styles, np.broadcast_to(styles[0], styles.shape))
    assert np.array_equal(y, np.repeat(supervised.classes_, 4))


def test_sample_grid_is_reproducible(supervised):
    first = plot_sample_grid(supervised, n_styles=3, image_shape=(8, 8), random_state=1)
    second = plot_sample_grid(supervised, n_styles=3, image_shape=(8, 8), random_state=1)
    assert np.array_equal(first.images[0].get_array(), second.images[0].get_array())


@pytest.mark.parametrize("model_class", [SemiSupervisedAAE, ClusteringAAE])
def test_sample_grid_of_categorical_models(model_class, small_digits, tiny_params):
    X, y = small_digits
    if model_class is ClusteringAAE:
        model = ClusteringAAE(n_clusters=4, n_components=2, **tiny_params).fit(X)
        n_rows = 4
    else:
        model = SemiSupervisedAAE(n_components=2, **tiny_params).fit(X, y)
        n_rows = 10
    ax = plot_sample_grid(model, n_styles=3, image_shape=(8, 8), random_state=0)
    assert ax.images[0].get_array().shape == (n_rows * 9 - 1, 3 * 9 - 1)


def test_sample_grid_of_an_autoencoder_fitted_with_labels(small_digits, tiny_params):
    X, y = small_digits
    model = AdversarialAutoencoder(n_components=2, prior="mixture", **tiny_params).fit(X, y)
    ax = plot_sample_grid(model, classes=[1, 7], n_styles=3, image_shape=(8, 8))
    assert ax.images[0].get_array().shape == (2 * 9 - 1, 3 * 9 - 1)


def test_sample_grid_needs_a_class_aware_model(autoencoder):
    with pytest.raises(ValueError, match="class-aware"):
        plot_sample_grid(autoencoder, image_shape=(8, 8))


def test_sample_grid_rejects_bad_parameters(supervised):
    with pytest.raises(ValueError, match="n_styles"):
        plot_sample_grid(supervised, n_styles=0, image_shape=(8, 8))
    with pytest.raises(ValueError, match="image_shape"):
        plot_sample_grid(supervised, image_shape=(4, 4))


# -- plot_interpolation -------------------------------------------------------------------
def test_interpolation_strip_has_one_tile_per_step():
    ax = plot_interpolation(np.random.default_rng(0).random((7, 64)), (8, 8))
    assert ax.images[0].get_array().shape == (8, 7 * 9 - 1)


def test_interpolation_strips_stack_paths_in_rows_with_labels():
    paths = np.random.default_rng(0).random((2, 5, 3 * 4 * 4))
    ax = plot_interpolation(paths, (3, 4, 4), row_labels=["linear", "cos2"])
    assert ax.images[0].get_array().shape == (2 * 5 - 1, 5 * 5 - 1, 3)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["linear", "cos2"]


def test_interpolation_strip_rejects_bad_input():
    with pytest.raises(ValueError, match="images_path must have shape"):
        plot_interpolation(np.zeros(64), (8, 8))
    with pytest.raises(ValueError, match="row_labels"):
        plot_interpolation(np.zeros((2, 3, 64)), (8, 8), row_labels=["one"])


# -- plot_history ---------------------------------------------------------------------------
def test_history_has_one_line_per_step(autoencoder):
    ax = plot_history(autoencoder)
    names = [line.get_label() for line in ax.lines]
    assert names == ["reconstruction", "discriminator", "adversarial"]
    assert all(len(line.get_xdata()) == autoencoder.n_iter_ for line in ax.lines)
    assert ax.get_yscale() == "log"


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_history_draws_the_validation_loss_dashed(small_digits, tiny_params):
    X, _ = small_digits
    model = AdversarialAutoencoder(n_components=2, early_stopping=True, **tiny_params).fit(X)
    ax = plot_history(model)
    validation = [line for line in ax.lines if line.get_label() == "validation_loss"]
    assert len(validation) == 1
    assert validation[0].get_linestyle() == "--"


def test_history_needs_a_fitted_model():
    with pytest.raises(ValueError, match="history_"):
        plot_history(AdversarialAutoencoder())
