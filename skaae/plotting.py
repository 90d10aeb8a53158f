"""Plots of codes, decodings and training (optional: ``pip install "skaae[plot]"``).

matplotlib is imported only when a function here is called.

Functions that draw decoded samples take an ``image_shape``: ``(height, width)``
for grey images, or ``(channels, height, width)`` when each row holds the
channels one after the other (channel-major, as PyTorch stores images).
Grey images share one colour scale per figure, from the 2nd to the 99th
percentile of their pixels (a decoder with a linear output overshoots a little
here and there). Colour images (3 or 4 channels) are shown as RGB(A) values in
[0, 1]; values outside are clipped.
"""

from numbers import Integral

import numpy as np

__all__ = [
    "plot_code",
    "plot_manifold",
    "plot_sample_grid",
    "plot_interpolation",
    "plot_history",
]


def _pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise ImportError(
            "skaae.plotting needs matplotlib; install it with: pip install 'skaae[plot]'"
        ) from error
    return plt


# -- images ------------------------------------------------------------------
def _check_image_shape(image_shape, n_features):
    """``image_shape`` as a tuple of ints whose product is ``n_features``."""
    try:
        shape = tuple(int(size) for size in image_shape)
    except TypeError:
        shape = None
    if shape is None or len(shape) not in (2, 3) or min(shape) < 1:
        raise ValueError(
            "image_shape must be (height, width) or (channels, height, width) with positive "
            f"sizes; got {image_shape!r}."
        )
    if len(shape) == 3 and shape[0] not in (1, 3, 4):
        raise ValueError(
            f"image_shape={shape} has {shape[0]} channels; colour images need 1 (grey), "
            "3 (RGB) or 4 (RGBA) channels first."
        )
    if int(np.prod(shape)) != n_features:
        raise ValueError(
            f"image_shape={shape} holds {int(np.prod(shape))} values, but each row has "
            f"{n_features} features."
        )
    return shape


def _as_images(rows, image_shape):
    """Reshape flat rows ``(..., n_features)`` into images ready for ``imshow``.

    Returns grey images of shape ``(..., height, width)`` or colour images of
    shape ``(..., height, width, channels)`` clipped to [0, 1].
    """
    rows = np.asarray(rows, dtype=np.float64)
    shape = _check_image_shape(image_shape, rows.shape[-1])
    images = rows.reshape(*rows.shape[:-1], *shape)
    if len(shape) == 2:
        return images
    if shape[0] == 1:
        return images[..., 0, :, :]
    # imshow wants the channels last, and clips floats outside [0, 1] with a warning.
    return np.clip(np.moveaxis(images, -3, -1), 0.0, 1.0)


def _grey_range(images):
    """Display range of grey images: their 2nd to 99th percentile.

    A decoder with a linear output overshoots the data's range here and there;
    scaling the colour map to the extremes would then turn a blank background
    grey. Clipping a few extreme pixels keeps it at the end of the colour map.
    """
    low, high = np.percentile(images, [2, 99])
    return float(low), float(max(high, low + 1e-12))


def _tile(images, margin=1, background=None):
    """Tile a ``(n_rows, n_cols, height, width[, channels])`` array into one image.

    A ``margin`` of ``background`` pixels separates neighbouring tiles (by
    default the smallest value for grey images, white for colour images).
    """
    n_rows, n_cols, height, width = images.shape[:4]
    colour = images.ndim == 5
    if background is None:
        background = 1.0 if colour else images.min()
    pad = [(0, 0), (0, 0), (0, margin), (0, margin)] + ([(0, 0)] if colour else [])
    padded = np.pad(images, pad, constant_values=background)
    height, width = height + margin, width + margin
    order = (0, 2, 1, 3, 4) if colour else (0, 2, 1, 3)
    tiled = padded.transpose(order).reshape(n_rows * height, n_cols * width, *images.shape[4:])
    # The margin after the last row and column would only be a border.
    return tiled[: n_rows * height - margin, : n_cols * width - margin]


def _show_tiles(ax, images, cmap, row_labels=None, **imshow_kwargs):
    """Draw a ``(n_rows, n_cols, ...)`` array of images as one tiled image on ``ax``."""
    n_rows, _, height = images.shape[:3]
    if images.ndim == 4:
        vmin, vmax = _grey_range(images)
        shown = ax.imshow(
            _tile(images, background=vmin), cmap=cmap, vmin=vmin, vmax=vmax, **imshow_kwargs
        )
    else:
        shown = ax.imshow(_tile(images), **imshow_kwargs)
    ax.set_xticks([])
    if row_labels is None:
        ax.set_yticks([])
    else:
        # Tick at the centre of each row of tiles (one margin pixel between rows).
        ax.set_yticks(np.arange(n_rows) * (height + 1) + (height - 1) / 2)
        ax.set_yticklabels([str(label) for label in row_labels])
        ax.tick_params(axis="y", length=0)
    return shown


def _seed(random_state):
    from sklearn.utils import check_random_state

    return int(check_random_state(random_state).randint(np.iinfo(np.int32).max))


def _prior_draws(prior, n_samples, n_dims, random_state=0):
    """``n_samples`` draws of ``prior`` (or a fitted model's ``prior_``) as numpy."""
    import torch

    prior = getattr(prior, "prior_", prior)
    if not hasattr(prior, "sample"):
        raise TypeError(
            "prior must be a skaae.priors.Prior or a fitted skaae estimator (with prior_); "
            f"got {type(prior).__name__}."
        )
    generator = torch.Generator().manual_seed(_seed(random_state))
    return prior.sample(n_samples, n_dims, generator=generator).cpu().numpy()


# -- codes -------------------------------------------------------------------
def plot_code(
    codes,
    labels=None,
    *,
    prior=None,
    n_prior_samples=20000,
    ax=None,
    s=6,
    cmap="tab10",
    prior_cmap="Greys",
    title=None,
):
    """Scatter a 2-D code, coloured by label, optionally over the prior's density.

    Parameters
    ----------
    codes : array-like of shape (n_samples, 2)
        For example ``model.transform(X)``.
    labels : array-like of shape (n_samples,), default=None
    prior : skaae.priors.Prior or fitted estimator, default=None
        When given, a histogram of ``n_prior_samples`` draws of the prior (a
        fitted model's ``prior_``) is drawn in grey behind the codes, so one
        sees where the codes match the prior and where they do not.
    n_prior_samples : int, default=20000
        Draws of the prior for its density (seeded: the picture is reproducible).
    ax : matplotlib Axes, default=None
        Drawn on a new figure when None.
    s : float, default=6
        Marker size.
    cmap : str, default="tab10"
        Colours of the labels.
    prior_cmap : str, default="Greys"
        Colour map of the prior's density.
    title : str, default=None

    Returns
    -------
    ax : matplotlib Axes
        With the density as ``ax.images[0]`` when ``prior`` is given.

    Examples
    --------
    >>> import numpy as np
    >>> from skaae.plotting import plot_code
    >>> from skaae.priors import MixturePrior
    >>> codes = np.random.default_rng(0).normal(size=(100, 2))
    >>> ax = plot_code(codes, prior=MixturePrior(n_modes=4))
    >>> len(ax.images)
    1
    """
    plt = _pyplot()
    codes = np.asarray(codes)
    if codes.ndim != 2 or codes.shape[1] != 2:
        raise ValueError(f"plot_code needs codes of shape (n_samples, 2), got {codes.shape}.")
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 5))
    if prior is not None:
        _draw_density(ax, _prior_draws(prior, n_prior_samples, 2), codes, prior_cmap)
    if labels is None:
        ax.scatter(codes[:, 0], codes[:, 1], s=s, alpha=0.7)
    else:
        labels = np.asarray(labels)
        if labels.shape != (len(codes),):
            raise ValueError(
                f"labels must have one entry per code: shape ({len(codes)},), got {labels.shape}."
            )
        for i, label in enumerate(np.unique(labels)):
            chosen = labels == label
            ax.scatter(
                codes[chosen, 0], codes[chosen, 1], s=s, alpha=0.7,
                color=plt.get_cmap(cmap)(i % 10), label=str(label),
            )
        ax.legend(markerscale=3, fontsize="small", loc="upper right", ncols=2)
    ax.set_xlabel("code 1")
    ax.set_ylabel("code 2")
    ax.set_aspect("equal", adjustable="datalim")
    if title:
        ax.set_title(title)
    return ax


def _draw_density(ax, draws, codes, cmap, n_bins=60):
    """A smoothed 2-D histogram of prior draws, spanning both the draws and the codes."""
    from scipy.ndimage import gaussian_filter

    # Percentiles keep a few far-out draws from shrinking the picture.
    points = np.vstack([np.percentile(draws, [0.5, 99.5], axis=0), codes])
    low, high = points.min(axis=0), points.max(axis=0)
    margin = 0.05 * (high - low) + 1e-6
    low, high = low - margin, high + margin
    counts, _, _ = np.histogram2d(
        draws[:, 0], draws[:, 1], bins=n_bins, range=[(low[0], high[0]), (low[1], high[1])]
    )
    # A little blur turns the counts into a smooth estimate of the density.
    density = gaussian_filter(counts, sigma=1.0)
    # histogram2d puts the first coordinate on rows; imshow wants it on columns.
    # The densest point maps to a darkish grey, so the coloured codes stay readable on it.
    ax.imshow(
        density.T, origin="lower", extent=(low[0], high[0], low[1], high[1]), cmap=cmap,
        vmin=0, vmax=1.5 * density.max(), interpolation="bilinear", aspect="auto", zorder=0,
    )


def plot_manifold(
    model, image_shape, *, n_steps=15, extent=None, ax=None, cmap="gray_r", title=None
):
    """Decode a regular grid of 2-D codes and tile the results into one image.

    Parameters
    ----------
    model : fitted estimator with ``n_components == 2`` and ``inverse_transform``
    image_shape : tuple of int
        ``(height, width)`` of one decoded sample, or ``(channels, height, width)``.
    n_steps : int, default=15
        Grid points along each axis.
    extent : tuple (low, high), default=None
        Range of both code axes; by default, two standard deviations of
        samples of the model's prior.
    ax : matplotlib Axes, default=None
    cmap : str, default="gray_r"
        Colour map of grey images.
    title : str, default=None

    Returns
    -------
    ax : matplotlib Axes
    """
    plt = _pyplot()
    if getattr(model, "n_components", None) != 2:
        raise ValueError("plot_manifold needs a model with a 2-D code (n_components=2).")
    if extent is None:
        drawn = _prior_draws(model, 4096, 2)
        spread = 2 * drawn.std(axis=0).max()
        extent = (float(drawn.mean() - spread), float(drawn.mean() + spread))
    axis = np.linspace(extent[0], extent[1], n_steps)
    # Row 0 of the image is the top, so the second code axis runs downwards.
    first, second = np.meshgrid(axis, axis[::-1])
    grid = np.column_stack([first.ravel(), second.ravel()]).astype(np.float32)
    decoded = model.inverse_transform(grid)
    images = _as_images(decoded, image_shape)
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 5))
    _show_tiles(
        ax, images.reshape(n_steps, n_steps, *images.shape[1:]), cmap,
        extent=(extent[0], extent[1], extent[0], extent[1]),
    )
    ax.set_xticks(np.linspace(extent[0], extent[1], 5))
    ax.set_yticks(np.linspace(extent[0], extent[1], 5))
    ax.set_xlabel("code 1")
    ax.set_ylabel("code 2")
    if title:
        ax.set_title(title)
    return ax


# -- samples and interpolations ------------------------------------------------
def plot_sample_grid(
    model,
    classes=None,
    n_styles=10,
    *,
    image_shape,
    random_state=None,
    ax=None,
    cmap="gray_r",
    title=None,
):
    """Class-conditional samples: one class per row, one style per column.

    For models that decode a style under a class (:class:`~skaae.SupervisedAAE`,
    :class:`~skaae.SemiSupervisedAAE`, :class:`~skaae.ClusteringAAE`), the
    ``n_styles`` style codes are drawn once from the model's prior and each is
    decoded under every class, so a column shows one style in every class (the
    paper's Fig. 6 and 9). For an :class:`~skaae.AdversarialAutoencoder`
    fitted with labels and a multi-modal prior, each row is
    ``model.sample(n_styles, y=class)``; its columns share no style.

    Parameters
    ----------
    model : fitted estimator
    classes : array-like, default=None
        Classes (for :class:`~skaae.ClusteringAAE`, cluster indices) of the
        rows, in order; by default ``model.classes_``, or every cluster.
    n_styles : int, default=10
        Number of columns.
    image_shape : tuple of int
        ``(height, width)`` of one sample, or ``(channels, height, width)``.
    random_state : int, RandomState instance or None, default=None
        Seeds the style draws.
    ax : matplotlib Axes, default=None
    cmap : str, default="gray_r"
        Colour map of grey images.
    title : str, default=None

    Returns
    -------
    ax : matplotlib Axes
        The grid is ``ax.images[0]``; the rows are labelled with their class.
    """
    import inspect

    plt = _pyplot()
    if not isinstance(n_styles, Integral) or isinstance(n_styles, bool) or n_styles < 1:
        raise ValueError(f"n_styles must be a positive integer, got {n_styles!r}.")
    if classes is None:
        classes = getattr(model, "classes_", None)
        if classes is None and hasattr(model, "n_clusters"):
            classes = np.arange(model.n_clusters)
        if classes is None:
            raise ValueError(
                "plot_sample_grid needs a class-aware model (fitted with labels, or a "
                f"ClusteringAAE); {type(model).__name__} has no classes_."
            )
    classes = np.asarray(classes)
    if classes.ndim != 1 or len(classes) == 0:
        raise ValueError(f"classes must be a non-empty 1-D array, got shape {classes.shape}.")
    n_classes = len(classes)
    if "y" in inspect.signature(model.inverse_transform).parameters:
        styles = _prior_draws(model, n_styles, model.n_components, random_state)
        decoded = model.inverse_transform(
            np.tile(styles, (n_classes, 1)), y=np.repeat(classes, n_styles)
        )
    else:
        seed = _seed(random_state)
        decoded = np.vstack(
            [model.sample(n_styles, y=c, random_state=seed + i) for i, c in enumerate(classes)]
        )
    images = _as_images(decoded, image_shape)
    if ax is None:
        _, ax = plt.subplots(figsize=(0.6 * n_styles + 0.6, 0.6 * n_classes))
    _show_tiles(ax, images.reshape(n_classes, n_styles, *images.shape[1:]), cmap, classes)
    ax.set_xlabel("style")
    if title:
        ax.set_title(title)
    return ax


def plot_interpolation(
    images_path, image_shape, *, row_labels=None, ax=None, cmap="gray_r", title=None
):
    """An interpolation strip: the decoded steps of a path, left to right.

    Parameters
    ----------
    images_path : array-like of shape (n_steps, n_features) or (n_paths, n_steps, n_features)
        Decoded steps, for example from :func:`skaae.latent.interpolate_inputs`;
        several paths are drawn one per row.
    image_shape : tuple of int
        ``(height, width)`` of one step, or ``(channels, height, width)``.
    row_labels : list of str, default=None
        A label per path, shown left of its row.
    ax : matplotlib Axes, default=None
    cmap : str, default="gray_r"
        Colour map of grey images.
    title : str, default=None

    Returns
    -------
    ax : matplotlib Axes
        The strip is ``ax.images[0]``.
    """
    plt = _pyplot()
    images_path = np.asarray(images_path)
    if images_path.ndim == 2:
        images_path = images_path[None]
    if images_path.ndim != 3:
        raise ValueError(
            "images_path must have shape (n_steps, n_features) or "
            f"(n_paths, n_steps, n_features); got {images_path.shape}."
        )
    n_paths, n_steps = images_path.shape[:2]
    if row_labels is not None and len(row_labels) != n_paths:
        raise ValueError(f"row_labels has {len(row_labels)} labels for {n_paths} paths.")
    images = _as_images(images_path, image_shape)
    if ax is None:
        _, ax = plt.subplots(figsize=(0.6 * n_steps + 0.6, 0.6 * n_paths))
    _show_tiles(ax, images, cmap, row_labels)
    if title:
        ax.set_title(title)
    return ax


# -- training ------------------------------------------------------------------
def plot_history(model, *, ax=None, title=None):
    """Training curves: each step's mean loss per epoch, and the validation loss.

    One solid line per training step (reconstruction, discriminator, adversarial,
    classification...); the validation loss, when early stopping recorded one,
    is dashed. The scale is logarithmic when every loss is positive.

    Parameters
    ----------
    model : fitted estimator with ``history_``
    ax : matplotlib Axes, default=None
    title : str, default=None

    Returns
    -------
    ax : matplotlib Axes
        One line per curve in ``ax.lines``.
    """
    plt = _pyplot()
    history = getattr(model, "history_", None)
    if not history:
        raise ValueError(
            f"plot_history needs a fitted model with a non-empty history_; "
            f"{type(model).__name__} has none. Call fit first."
        )
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4))
    epochs = [record["epoch"] for record in history]
    # A warm-started fit or early stopping can add curves part-way: take every name seen.
    names = list(dict.fromkeys(name for record in history for name in record))
    names = [name for name in names if name not in ("epoch", "duration")]
    all_positive = True
    for name in names:
        values = np.array([record.get(name, np.nan) for record in history], dtype=float)
        all_positive &= bool(np.all(values[np.isfinite(values)] > 0))
        style = "--" if name == "validation_loss" else "-"
        ax.plot(epochs, values, style, marker="." if len(epochs) < 20 else None, label=name)
    ax.set_xlabel("epoch")
    ax.set_ylabel("mean loss")
    if all_positive:
        ax.set_yscale("log")
    ax.legend()
    if title:
        ax.set_title(title)
    return ax
