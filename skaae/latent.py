"""Walks through the code space: interpolations, nearest neighbours, animations.

A smooth code space decodes points between two codes into plausible samples.
These helpers make such walks easy to look at:

* :func:`interpolate` moves between two codes in ``n_steps`` steps, at an even
  pace (``"linear"``) or slow at both ends (``"cos2"``);
* :func:`interpolate_inputs` encodes two samples, interpolates their codes and
  decodes the path;
* :func:`nearest_distinct_pairs` picks samples and their nearest distinct
  neighbour in code space (optionally of another label), the natural ends of
  short walks;
* :func:`animate_interpolation` turns a decoded walk into an animation, saved
  as a GIF on request (needs matplotlib).

Only :func:`animate_interpolation` needs matplotlib; it is imported when called.
"""

from numbers import Integral

import numpy as np
from sklearn.neighbors import NearestNeighbors
from sklearn.utils import check_array, check_random_state
from sklearn.utils.validation import check_is_fitted

__all__ = [
    "easing_weights",
    "interpolate",
    "interpolate_inputs",
    "nearest_distinct_pairs",
    "animate_interpolation",
]

EASINGS = ("linear", "cos2")


def _check_n_steps(n_steps):
    if not isinstance(n_steps, Integral) or isinstance(n_steps, bool) or n_steps < 2:
        raise ValueError(
            f"n_steps must be an integer of at least 2 (the two ends), got {n_steps!r}."
        )
    return int(n_steps)


def easing_weights(n_steps, easing="linear"):
    """The weight of the end point at each of ``n_steps`` evenly spaced times.

    With ``t = 0, 1 / (n_steps - 1), ..., 1``:

    * ``"linear"``: ``w(t) = t``, an even pace;
    * ``"cos2"``: ``w(t) = sin(pi t / 2) ** 2 = 1 - cos(pi t / 2) ** 2``, which
      also equals ``(1 - cos(pi t)) / 2``. Its slope is zero at both ends, so
      the walk lingers near the two end points and hurries through the middle.

    Both start at exactly 0 and end at exactly 1.

    Parameters
    ----------
    n_steps : int
        Number of points, ends included (at least 2).
    easing : {"linear", "cos2"}, default="linear"

    Returns
    -------
    weights : ndarray of shape (n_steps,)

    Examples
    --------
    >>> from skaae.latent import easing_weights
    >>> easing_weights(5, "linear")
    array([0.  , 0.25, 0.5 , 0.75, 1.  ])
    >>> easing_weights(5, "cos2").round(3)
    array([0.   , 0.146, 0.5  , 0.854, 1.   ])
    """
    n_steps = _check_n_steps(n_steps)
    times = np.linspace(0.0, 1.0, n_steps)
    if easing == "linear":
        weights = times
    elif easing == "cos2":
        weights = np.sin(np.pi * times / 2) ** 2
    else:
        raise ValueError(
            f"easing must be one of {', '.join(map(repr, EASINGS))}; got {easing!r}."
        )
    # Rounding in sin could leave the ends a hair off; the ends are the inputs.
    weights[0], weights[-1] = 0.0, 1.0
    return weights


def interpolate(start, end, n_steps=10, *, easing="linear"):
    """Points on the straight line from ``start`` to ``end``.

    Point ``i`` is ``(1 - w_i) * start + w_i * end`` with the weights of
    :func:`easing_weights`: the first point is ``start`` and the last ``end``,
    exactly.

    Parameters
    ----------
    start, end : array-like of the same shape
        Usually two codes of shape ``(n_components,)``.
    n_steps : int, default=10
        Number of points, ends included (at least 2).
    easing : {"linear", "cos2"}, default="linear"
        ``"linear"`` spaces the points evenly; ``"cos2"`` puts more of them
        near the ends (``w = sin(pi t / 2) ** 2``).

    Returns
    -------
    path : ndarray of shape ``(n_steps, *start.shape)``

    Examples
    --------
    >>> from skaae.latent import interpolate
    >>> interpolate([0.0, 0.0], [1.0, 2.0], n_steps=3)
    array([[0. , 0. ],
           [0.5, 1. ],
           [1. , 2. ]])
    """
    start, end = np.asarray(start), np.asarray(end)
    if start.shape != end.shape:
        raise ValueError(
            f"start and end must have the same shape; got {start.shape} and {end.shape}."
        )
    weights = easing_weights(n_steps, easing).reshape(-1, *([1] * start.ndim))
    dtype = np.result_type(start.dtype, end.dtype, np.float32)
    path = (1 - weights) * start + weights * end
    return path.astype(dtype, copy=False)


def _one_row(x, name):
    row = np.asarray(x)
    if row.ndim == 2 and row.shape[0] == 1:
        row = row[0]
    if row.ndim != 1:
        raise ValueError(
            f"{name} must be one sample of shape (n_features,) or (1, n_features); "
            f"got shape {row.shape}."
        )
    return row


def interpolate_inputs(
    model, x_start, x_end, n_steps=10, *, easing="linear", y=None, return_codes=False
):
    """Encode two samples, interpolate between their codes, decode the path.

    Parameters
    ----------
    model : fitted skaae estimator
        Anything with ``transform`` and ``inverse_transform``.
    x_start, x_end : array-like of shape (n_features,) or (1, n_features)
        The two ends.
    n_steps : int, default=10
        Number of decoded points, ends included.
    easing : {"linear", "cos2"}, default="linear"
        See :func:`interpolate`.
    y : label or array-like of shape (n_steps,), default=None
        The class to decode the path under, for models whose
        ``inverse_transform`` takes one: :class:`~skaae.SupervisedAAE`,
        :class:`~skaae.SemiSupervisedAAE` and :class:`~skaae.ClusteringAAE`
        (these two need none with ``include_proba=True``: the class
        probabilities are then part of the code and are interpolated too).
    return_codes : bool, default=False
        Also return the interpolated codes.

    Returns
    -------
    decoded : ndarray of shape (n_steps, n_features)
        The first row decodes ``x_start``'s code, the last ``x_end``'s.
    codes : ndarray of shape (n_steps, n_code_columns)
        Only with ``return_codes=True``.
    """
    import inspect

    check_is_fitted(model)
    ends = np.vstack([_one_row(x_start, "x_start"), _one_row(x_end, "x_end")])
    code_start, code_end = model.transform(ends)
    codes = interpolate(code_start, code_end, n_steps, easing=easing)
    if y is None:
        decoded = model.inverse_transform(codes)
    elif "y" in inspect.signature(model.inverse_transform).parameters:
        decoded = model.inverse_transform(codes, y=y)
    else:
        raise ValueError(
            f"y was given, but {type(model).__name__}.inverse_transform takes no class; "
            "leave y=None for this model."
        )
    return (decoded, codes) if return_codes else decoded


def nearest_distinct_pairs(codes, n_pairs, *, labels=None, random_state=None):
    """Random samples paired with their nearest distinct neighbour in code space.

    Anchors are drawn in random order; each is paired with the nearest sample
    whose code differs from its own (so duplicates never pair up) and, when
    ``labels`` are given, whose label differs too. A pair already found the
    other way round is skipped, so the pairs are distinct as well.

    Parameters
    ----------
    codes : array-like of shape (n_samples, n_components)
        For example ``model.transform(X)``.
    n_pairs : int
        Number of pairs.
    labels : array-like of shape (n_samples,), default=None
        When given, pair each anchor with the nearest sample of another label.
    random_state : int, RandomState instance or None, default=None
        Picks the anchors.

    Returns
    -------
    pairs : ndarray of shape (n_pairs, 2), dtype int
        Row indices into ``codes``: the anchor, then its neighbour.

    Examples
    --------
    >>> import numpy as np
    >>> from skaae.latent import nearest_distinct_pairs
    >>> codes = np.array([[0.0], [0.0], [1.0], [5.0]])
    >>> pairs = nearest_distinct_pairs(codes, 2, random_state=0)
    >>> pairs.shape
    (2, 2)
    >>> bool(np.all(codes[pairs[:, 0]] != codes[pairs[:, 1]]))
    True
    """
    codes = check_array(codes, input_name="codes")
    n_samples = len(codes)
    if not isinstance(n_pairs, Integral) or isinstance(n_pairs, bool) or n_pairs < 1:
        raise ValueError(f"n_pairs must be a positive integer, got {n_pairs!r}.")
    if labels is not None:
        labels = np.asarray(labels)
        if labels.shape != (n_samples,):
            raise ValueError(
                f"labels must have one entry per code: shape ({n_samples},), "
                f"got {labels.shape}."
            )
    finder = NearestNeighbors().fit(codes)
    anchors = check_random_state(random_state).permutation(n_samples)
    pairs, taken = [], set()
    for anchor in anchors:
        neighbour = _nearest_distinct(finder, codes, labels, anchor)
        if neighbour is None or (neighbour, anchor) in taken:
            continue
        taken.add((anchor, neighbour))
        pairs.append((anchor, neighbour))
        if len(pairs) == n_pairs:
            return np.array(pairs, dtype=np.intp)
    other = " with different labels" if labels is not None else ""
    raise ValueError(
        f"Only {len(pairs)} pairs of distinct neighbours{other} exist among the "
        f"{n_samples} codes; asked for n_pairs={n_pairs}."
    )


def _nearest_distinct(finder, codes, labels, anchor):
    """Index of the nearest acceptable neighbour of ``anchor``, or None."""
    n_samples = len(codes)
    n_neighbors = min(n_samples, 10)
    while True:
        _, candidates = finder.kneighbors(codes[anchor : anchor + 1], n_neighbors)
        candidates = candidates[0]
        # Compare codes exactly: a duplicate of the anchor is not a neighbour to walk to.
        acceptable = np.any(codes[candidates] != codes[anchor], axis=1)
        if labels is not None:
            acceptable &= labels[candidates] != labels[anchor]
        if acceptable.any():
            return int(candidates[np.argmax(acceptable)])
        if n_neighbors == n_samples:
            return None
        # Duplicates or same-label points crowd the anchor: look further out.
        n_neighbors = min(n_samples, 4 * n_neighbors)


def animate_interpolation(
    model,
    x_start,
    x_end,
    filename=None,
    *,
    image_shape,
    n_steps=30,
    easing="cos2",
    y=None,
    fps=10,
    cmap="gray_r",
    figsize=(2, 2),
):
    """Animate the decoded walk between two samples; save it as a GIF on request.

    Parameters
    ----------
    model : fitted skaae estimator
    x_start, x_end : array-like of shape (n_features,) or (1, n_features)
        The two ends (see :func:`interpolate_inputs`).
    filename : str or path-like, default=None
        Where to write the GIF (with Pillow, which matplotlib installs).
        Nothing is written when None.
    image_shape : tuple of int
        ``(height, width)`` of one sample, or ``(channels, height, width)``
        for channel-major colour rows (values in [0, 1]).
    n_steps : int, default=30
        Frames, ends included.
    easing : {"linear", "cos2"}, default="cos2"
        See :func:`interpolate`; ``"cos2"`` lingers on the two ends.
    y : label or array-like, default=None
        Class to decode under, for class-aware models (see :func:`interpolate_inputs`).
    fps : float, default=10
        Frames per second.
    cmap : str, default="gray_r"
        Colour map of grey images.
    figsize : tuple of float, default=(2, 2)
        Size of the figure in inches.

    Returns
    -------
    animation : matplotlib.animation.FuncAnimation
        Keep a reference while it is shown; in a notebook, ``animation.to_jshtml()``
        renders it. Its figure is ``animation._fig``; close it when done.
    """
    from .plotting import _as_images, _grey_range, _pyplot

    plt = _pyplot()
    from matplotlib import animation as mpl_animation

    if not (isinstance(fps, (int, float)) and fps > 0):
        raise ValueError(f"fps must be a positive number, got {fps!r}.")
    decoded = interpolate_inputs(model, x_start, x_end, n_steps, easing=easing, y=y)
    frames = _as_images(decoded, image_shape)
    figure, ax = plt.subplots(figsize=figsize)
    ax.set_axis_off()
    figure.subplots_adjust(0, 0, 1, 1)
    if frames.ndim == 3:
        # One grey scale for every frame, so brightness means the same throughout.
        vmin, vmax = _grey_range(frames)
        shown = ax.imshow(frames[0], cmap=cmap, vmin=vmin, vmax=vmax)
    else:
        shown = ax.imshow(frames[0])

    def show_frame(index):
        shown.set_data(frames[index])
        return (shown,)

    animation = mpl_animation.FuncAnimation(
        figure, show_frame, frames=len(frames), interval=1000 / fps, blit=True
    )
    if filename is not None:
        animation.save(filename, writer=mpl_animation.PillowWriter(fps=fps))
    return animation
