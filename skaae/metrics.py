"""Scores for adversarial autoencoders.

:func:`cluster_error` is the paper's clustering error (Makhzani et al., 2016,
section 6): each cluster is given the majority label of the reference points
assigned to it, and every point whose cluster's label differs from its own
counts as an error. :func:`cluster_label_mapping` returns that majority
mapping.
"""

import numpy as np

__all__ = ["cluster_error", "cluster_label_mapping"]


def _as_1d(name, values):
    """Return ``values`` as a one-dimensional array, or raise a ``ValueError`` naming it."""
    array = np.asarray(values)
    if array.ndim == 2 and array.shape[1] == 1:
        array = array.ravel()
    if array.ndim != 1:
        raise ValueError(
            f"{name} must be one-dimensional, got an array of shape {array.shape}."
        )
    if len(array) == 0:
        raise ValueError(f"{name} is empty; it needs at least one sample.")
    return array


def _check_pair(labels_name, labels, clusters_name, clusters):
    labels = _as_1d(labels_name, labels)
    clusters = _as_1d(clusters_name, clusters)
    if len(labels) != len(clusters):
        raise ValueError(
            f"{labels_name} and {clusters_name} must have the same length, got "
            f"{len(labels)} and {len(clusters)}."
        )
    return labels, clusters


def _majority_mapping(labels, clusters):
    """Majority label of each cluster; ties go to the label that sorts first."""
    cluster_values, cluster_index = np.unique(clusters, return_inverse=True)
    label_values, label_index = np.unique(labels, return_inverse=True)
    counts = np.zeros((len(cluster_values), len(label_values)), dtype=np.int64)
    np.add.at(counts, (cluster_index.ravel(), label_index.ravel()), 1)
    majority = label_values[counts.argmax(axis=1)]
    return dict(zip(cluster_values.tolist(), majority.tolist()))


def cluster_label_mapping(y, clusters):
    """Map each cluster to the label most of its points carry.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        True labels (integers or strings).
    clusters : array-like of shape (n_samples,)
        Cluster assignment of each sample, for example from ``fit_predict``.

    Returns
    -------
    mapping : dict
        ``{cluster: majority label}`` for every cluster that occurs in
        ``clusters``. When two labels are equally frequent in a cluster, the one
        that sorts first wins, so the mapping is deterministic. Keys and values
        are plain Python scalars.

    Raises
    ------
    ValueError
        If ``y`` or ``clusters`` is empty or not one-dimensional, or if their
        lengths differ.

    See Also
    --------
    cluster_error : The clustering error computed with this mapping.

    Examples
    --------
    >>> from skaae.metrics import cluster_label_mapping
    >>> cluster_label_mapping([0, 0, 1, 1, 1], [5, 5, 5, 7, 7])
    {5: 0, 7: 1}
    >>> cluster_label_mapping(["cat", "dog", "dog"], [0, 0, 0])
    {0: 'dog'}
    """
    y, clusters = _check_pair("y", y, "clusters", clusters)
    return _majority_mapping(y, clusters)


def cluster_error(y_true, clusters, *, y_reference=None, clusters_reference=None):
    """Clustering error with the paper's majority-label mapping.

    Each cluster takes the majority label of the reference points assigned to
    it (see :func:`cluster_label_mapping`); the error is the fraction of the
    points ``(y_true, clusters)`` whose cluster's label differs from their true
    label. By default the reference is the evaluated points themselves; pass
    the training points' labels and clusters as the reference to score held-out
    points with labels learned on the training set. Points in a cluster that
    holds no reference point count as errors.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels of the evaluated points (integers or strings).
    clusters : array-like of shape (n_samples,)
        Cluster assignment of the evaluated points.
    y_reference : array-like of shape (n_reference,), default=None
        Labels of the points that decide each cluster's label. Give it together
        with ``clusters_reference``; when both are None, ``y_true`` and
        ``clusters`` are the reference.
    clusters_reference : array-like of shape (n_reference,), default=None
        Cluster assignment of the reference points.

    Returns
    -------
    error : float
        Fraction of misassigned points, in [0, 1]. Lower is better; a
        clustering that splits every class into pure clusters scores 0.

    Raises
    ------
    ValueError
        If an input is empty or not one-dimensional, if paired inputs differ in
        length, or if only one of ``y_reference`` and ``clusters_reference`` is
        given.

    See Also
    --------
    cluster_label_mapping : The mapping from clusters to labels.

    Notes
    -----
    The score grows more lenient with the number of clusters (one cluster per
    point scores 0 on its own reference), which is why the paper reports it for
    a fixed number of clusters (16 and 30 on MNIST).

    Examples
    --------
    Cluster 0 holds labels ``[0, 0, 1]``, so it is labeled 0 and its third
    point is an error; cluster 1 is pure:

    >>> from skaae.metrics import cluster_error
    >>> y = [0, 0, 1, 1, 1]
    >>> clusters = [0, 0, 0, 1, 1]
    >>> cluster_error(y, clusters)
    0.2

    Held-out points scored with the labels the points above give their
    clusters (0 -> 0, 1 -> 1); the held-out point in cluster 2, which no
    reference point fell in, counts as an error:

    >>> cluster_error([0, 1, 1], [0, 1, 2], y_reference=y, clusters_reference=clusters)
    0.3333333333333333
    """
    y_true, clusters = _check_pair("y_true", y_true, "clusters", clusters)
    if (y_reference is None) != (clusters_reference is None):
        raise ValueError(
            "Pass y_reference and clusters_reference together (or neither, to take the "
            "evaluated points as the reference); got "
            f"y_reference={'None' if y_reference is None else 'an array'} and "
            f"clusters_reference={'None' if clusters_reference is None else 'an array'}."
        )
    if y_reference is None:
        mapping = _majority_mapping(y_true, clusters)
    else:
        y_reference, clusters_reference = _check_pair(
            "y_reference", y_reference, "clusters_reference", clusters_reference
        )
        mapping = _majority_mapping(y_reference, clusters_reference)
    missing = object()
    n_errors = sum(
        mapping.get(cluster, missing) != label
        for cluster, label in zip(clusters.tolist(), y_true.tolist())
    )
    return n_errors / len(y_true)
