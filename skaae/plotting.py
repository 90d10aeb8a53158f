"""Plots of codes and decodings (optional: ``pip install "skaae[plot]"``).

matplotlib is imported only when a function here is called.
"""

import numpy as np

__all__ = ["plot_code", "plot_manifold", "plot_history"]


def _pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise ImportError(
            "skaae.plotting needs matplotlib; install it with: pip install 'skaae[plot]'"
        ) from error
    return plt


def plot_code(codes, labels=None, *, ax=None, s=6, cmap="tab10", title=None):
    """Scatter a 2-D code, coloured by label.

    Parameters
    ----------
    codes : array-like of shape (n_samples, 2)
        For example ``model.transform(X)``.
    labels : array-like of shape (n_samples,), default=None
    ax : matplotlib Axes, default=None
        Drawn on a new figure when None.
    s : float, default=6
        Marker size.
    cmap : str, default="tab10"
    title : str, default=None

    Returns
    -------
    ax : matplotlib Axes
    """
    plt = _pyplot()
    codes = np.asarray(codes)
    if codes.ndim != 2 or codes.shape[1] != 2:
        raise ValueError(f"plot_code needs codes of shape (n_samples, 2), got {codes.shape}.")
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 5))
    if labels is None:
        ax.scatter(codes[:, 0], codes[:, 1], s=s, alpha=0.7)
    else:
        labels = np.asarray(labels)
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


def plot_manifold(model, image_shape, *, n_steps=15, extent=None, ax=None, cmap="gray_r", title=None):
    """Decode a regular grid of 2-D codes and tile the results into one image.

    Parameters
    ----------
    model : fitted estimator with ``n_components == 2`` and ``inverse_transform``
    image_shape : tuple of int
        ``(height, width)`` of one decoded sample.
    n_steps : int, default=15
        Grid points along each axis.
    extent : tuple (low, high), default=None
        Range of both code axes; by default, two standard deviations of
        samples of the model's prior.
    ax : matplotlib Axes, default=None
    cmap : str, default="gray_r"
    title : str, default=None

    Returns
    -------
    ax : matplotlib Axes
    """
    plt = _pyplot()
    if getattr(model, "n_components", None) != 2:
        raise ValueError("plot_manifold needs a model with a 2-D code (n_components=2).")
    if extent is None:
        import torch

        drawn = model.prior_.sample(
            4096, 2, generator=torch.Generator().manual_seed(0)
        ).numpy()
        spread = 2 * drawn.std(axis=0).max()
        extent = (float(drawn.mean() - spread), float(drawn.mean() + spread))
    axis = np.linspace(extent[0], extent[1], n_steps)
    # Row 0 of the image is the top, so the second code axis runs downwards.
    grid = np.array([[a, b] for b in axis[::-1] for a in axis], dtype=np.float32)
    decoded = model.inverse_transform(grid)
    height, width = image_shape
    tiles = decoded.reshape(n_steps, n_steps, height, width)
    # A one-pixel margin of background between tiles keeps small images apart.
    tiles = np.pad(tiles, ((0, 0), (0, 0), (0, 1), (0, 1)), constant_values=decoded.min())
    height, width = height + 1, width + 1
    image = tiles.transpose(0, 2, 1, 3).reshape(n_steps * height, n_steps * width)
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 5))
    ax.imshow(image, cmap=cmap, extent=(extent[0], extent[1], extent[0], extent[1]))
    ax.set_xlabel("code 1")
    ax.set_ylabel("code 2")
    if title:
        ax.set_title(title)
    return ax


def plot_history(model, *, ax=None, title=None):
    """Training curves: each step's mean loss per epoch (and the validation loss).

    Parameters
    ----------
    model : fitted estimator with ``history_``
    ax : matplotlib Axes, default=None
    title : str, default=None

    Returns
    -------
    ax : matplotlib Axes
    """
    plt = _pyplot()
    history = model.history_
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4))
    epochs = [h["epoch"] for h in history]
    names = [k for k in history[0] if k not in ("epoch", "duration")]
    for name in names:
        ax.plot(epochs, [h.get(name, np.nan) for h in history], label=name)
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax.set_yscale("log")
    ax.legend()
    if title:
        ax.set_title(title)
    return ax
