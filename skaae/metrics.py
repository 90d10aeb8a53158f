"""Scores for adversarial autoencoders.

:func:`cluster_error` is the paper's clustering error (Makhzani et al., 2016,
section 6): each cluster is given the majority label of the reference points
assigned to it, and every point whose cluster's label differs from its own
counts as an error. :func:`cluster_label_mapping` returns that majority
mapping. :func:`parzen_log_likelihood` is the paper's Parzen-window estimate
of a generative model's test log-likelihood (section 3), from the model's
samples.
"""

import math
import warnings
from typing import NamedTuple

import numpy as np
from sklearn.metrics.cluster import contingency_matrix
from sklearn.utils.validation import column_or_1d

__all__ = ["cluster_error", "cluster_label_mapping", "parzen_log_likelihood", "ParzenEstimate"]


def _as_1d(name, values):
    """Return ``values`` as a one-dimensional array, or raise a ``ValueError`` naming it."""
    array = np.asarray(values)
    if array.ndim == 2 and array.shape[1] == 1:
        array = column_or_1d(array)
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
    # Rows follow np.unique(clusters), columns np.unique(labels).
    counts = contingency_matrix(clusters, labels)
    majority = np.unique(labels)[counts.argmax(axis=1)]
    return dict(zip(np.unique(clusters).tolist(), majority.tolist()))


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


# -- Parzen-window log-likelihood ---------------------------------------------------
#: Bandwidths tried by :func:`parzen_log_likelihood` when none are given: suited to
#: features of order one, such as pixels in [0, 1].
DEFAULT_BANDWIDTHS = np.logspace(-2, 0, 10)


class ParzenEstimate(NamedTuple):
    """Result of :func:`parzen_log_likelihood`.

    Attributes
    ----------
    log_likelihood : float
        Mean log-likelihood of the test points, in nats.
    std_error : float
        Standard error of that mean (standard deviation of the test points'
        log-likelihoods over the square root of their number); NaN for a
        single test point.
    bandwidth : float
        The kernel's standard deviation used.
    """

    log_likelihood: float
    std_error: float
    bandwidth: float


def _as_finite_2d(name, values):
    """Return ``values`` as a 2-D float64 array, or raise a ``ValueError`` naming it."""
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 2:
        raise ValueError(
            f"{name} must be two-dimensional (n_points, n_features), got an array of "
            f"shape {array.shape}; for a single feature use .reshape(-1, 1)."
        )
    if array.shape[0] == 0 or array.shape[1] == 0:
        raise ValueError(f"{name} is empty (shape {array.shape}); it needs points and features.")
    if not np.isfinite(array).all():
        raise ValueError(f"{name} contains NaN or infinite values.")
    return array


def _check_bandwidths(name, values):
    bandwidths = np.atleast_1d(np.asarray(values, dtype=np.float64))
    if bandwidths.ndim != 1 or len(bandwidths) == 0:
        raise ValueError(f"{name} must be a non-empty list of numbers, got {values!r}.")
    if not (np.isfinite(bandwidths).all() and (bandwidths > 0).all()):
        raise ValueError(f"{name} must be positive and finite, got {values!r}.")
    return bandwidths


def _parzen_log_densities(samples, points, bandwidths, batch_size):
    """Log-density of each point under each bandwidth's Parzen window: (n_bandwidths, n_points).

    The squared distances are computed block by block (``batch_size`` points
    against ``batch_size`` samples), so memory stays bounded however many
    samples there are; each block's log-sum-exp is merged into a running one.
    """
    n_samples, n_features = samples.shape
    sample_norms = np.einsum("ij,ij->i", samples, samples)
    point_norms = np.einsum("ij,ij->i", points, points)
    inverse_variances = 1.0 / (2.0 * bandwidths**2)
    log_sums = np.full((len(bandwidths), len(points)), -np.inf)
    for start in range(0, len(points), batch_size):
        rows = slice(start, start + batch_size)
        for sample_start in range(0, n_samples, batch_size):
            columns = slice(sample_start, sample_start + batch_size)
            distances = (
                point_norms[rows, None]
                + sample_norms[None, columns]
                - 2.0 * points[rows] @ samples[columns].T
            )
            # Rounding can make the expansion slightly negative for coincident points.
            np.maximum(distances, 0.0, out=distances)
            # Log-sum-exp shifted by each point's nearest sample: the largest term becomes
            # exp(0) = 1, so nothing overflows and the sum is never zero. The shift is
            # shared by every bandwidth, so it is computed once per block.
            nearest = distances.min(axis=1, keepdims=True)
            excess = distances - nearest
            for index, inverse_variance in enumerate(inverse_variances):
                terms = np.exp(-inverse_variance * excess)
                block = np.log(terms.sum(axis=1)) - inverse_variance * nearest[:, 0]
                log_sums[index, rows] = np.logaddexp(log_sums[index, rows], block)
    normalisers = math.log(n_samples) + 0.5 * n_features * np.log(2.0 * np.pi * bandwidths**2)
    return log_sums - normalisers[:, None]


def parzen_log_likelihood(
    samples, X_test, *, bandwidth=None, X_validation=None, bandwidths=None, batch_size=1024
):
    r"""Parzen-window estimate of a generative model's mean test log-likelihood.

    The model's samples :math:`s_1, \dots, s_N` define a mixture of Gaussians
    of standard deviation :math:`\sigma` (the bandwidth) centred on them; the
    score is the mean over the test points of

    .. math:: \log \frac{1}{N} \sum_{i=1}^{N} \mathcal{N}(x;\, s_i,\, \sigma^2 I).

    This is how Makhzani et al. (2016, section 3, Table 1) compare generative
    models on MNIST and the Toronto Face Database, following Goodfellow et al.
    (2014): 10,000 samples, :math:`\sigma` chosen on a validation set. Higher
    is better. The estimate is biased and depends strongly on the number of
    samples and on the dimension; compare models only with the same number of
    samples, test set and bandwidth choice.

    Parameters
    ----------
    samples : array-like of shape (n_samples, n_features)
        Points drawn from the model, for example ``model.sample(10_000)``.
    X_test : array-like of shape (n_test, n_features)
        The points to score.
    bandwidth : float, default=None
        Kernel standard deviation. When None, it is chosen among
        ``bandwidths`` as the one that gives ``X_validation`` the highest mean
        log-likelihood.
    X_validation : array-like of shape (n_validation, n_features), default=None
        Held-out points (not the test points) to choose the bandwidth on.
        Required when ``bandwidth`` is None; refused otherwise.
    bandwidths : array-like of float, default=None
        Candidate bandwidths; None means ``np.logspace(-2, 0, 10)``, from 0.01
        to 1, suited to features of order one such as pixels in [0, 1].
        Refused when ``bandwidth`` is given.
    batch_size : int, default=1024
        Points and samples are compared in blocks of ``batch_size`` by
        ``batch_size``, which bounds memory to about ``8 * batch_size**2``
        bytes. Does not change the result beyond rounding.

    Returns
    -------
    estimate : ParzenEstimate
        A named tuple ``(log_likelihood, std_error, bandwidth)``: the mean
        test log-likelihood in nats, its standard error over the test points,
        and the bandwidth used.

    Raises
    ------
    ValueError
        If an array is not two-dimensional, is empty or holds NaN or infinite
        values; if the arrays differ in number of features; if neither
        ``bandwidth`` nor ``X_validation`` is given, or ``bandwidth`` is given
        together with ``X_validation`` or ``bandwidths``; if a bandwidth is
        not positive and finite or ``batch_size`` not a positive int.

    Warns
    -----
    UserWarning
        When the chosen bandwidth is the smallest or largest candidate: the
        best one may lie outside ``bandwidths``.

    Examples
    --------
    With one sample the window is a single Gaussian: at distance 0 and
    bandwidth 1 in two dimensions, the log-density is :math:`-\log 2\pi`:

    >>> import math
    >>> import numpy as np
    >>> from skaae.metrics import parzen_log_likelihood
    >>> estimate = parzen_log_likelihood([[0.0, 0.0]], [[0.0, 0.0]], bandwidth=1.0)
    >>> round(estimate.log_likelihood, 4), round(-math.log(2 * math.pi), 4)
    (-1.8379, -1.8379)

    Samples of a perfect model of a standard normal in two dimensions, whose
    true mean log-density is :math:`-\log 2\pi - 1 \approx -2.84`, with the
    bandwidth chosen on validation points:

    >>> rng = np.random.default_rng(0)
    >>> samples = rng.normal(size=(2000, 2))
    >>> X_validation, X_test = rng.normal(size=(200, 2)), rng.normal(size=(200, 2))
    >>> estimate = parzen_log_likelihood(
    ...     samples, X_test, X_validation=X_validation, bandwidths=[0.1, 0.2, 0.4, 0.8, 1.6]
    ... )
    >>> float(estimate.bandwidth)
    0.4
    >>> print(f"{estimate.log_likelihood:.2f} +/- {estimate.std_error:.2f}")
    -2.81 +/- 0.05
    """
    samples = _as_finite_2d("samples", samples)
    X_test = _as_finite_2d("X_test", X_test)
    arrays = {"samples": samples, "X_test": X_test}
    if bandwidth is None:
        if X_validation is None:
            raise ValueError(
                "Pass either bandwidth, or X_validation to choose the bandwidth on; got "
                "neither. (Choosing it on X_test would overstate the log-likelihood.)"
            )
        arrays["X_validation"] = X_validation = _as_finite_2d("X_validation", X_validation)
        candidates = _check_bandwidths(
            "bandwidths", DEFAULT_BANDWIDTHS if bandwidths is None else bandwidths
        )
    else:
        if X_validation is not None or bandwidths is not None:
            raise ValueError(
                "bandwidth is given, so there is nothing to choose: leave X_validation "
                "and bandwidths at None, or leave bandwidth at None to choose it."
            )
        candidates = _check_bandwidths("bandwidth", bandwidth)
        if len(candidates) != 1:
            raise ValueError(f"bandwidth must be a single number, got {bandwidth!r}.")
    n_features = {name: array.shape[1] for name, array in arrays.items()}
    if len(set(n_features.values())) != 1:
        described = ", ".join(f"{name} {count}" for name, count in n_features.items())
        raise ValueError(f"The arrays must have the same number of features, got {described}.")
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or (
        batch_size < 1
    ):
        raise ValueError(f"batch_size must be a positive int, got {batch_size!r}.")

    if len(candidates) > 1:
        validation_scores = _parzen_log_densities(
            samples, X_validation, candidates, batch_size
        ).mean(axis=1)
        best = int(np.argmax(validation_scores))
        if best in (0, len(candidates) - 1):
            side = "smallest" if best == 0 else "largest"
            warnings.warn(
                f"The chosen Parzen bandwidth {candidates[best]:.4g} is the {side} of the "
                f"candidates ({candidates.min():.4g} to {candidates.max():.4g}); the best "
                "one may lie beyond them. Pass a wider range as bandwidths.",
                UserWarning,
                stacklevel=2,
            )
        candidates = candidates[best : best + 1]
    log_densities = _parzen_log_densities(samples, X_test, candidates, batch_size)[0]
    std_error = (
        float(np.std(log_densities, ddof=1) / math.sqrt(len(log_densities)))
        if len(log_densities) > 1
        else math.nan
    )
    return ParzenEstimate(float(log_densities.mean()), std_error, float(candidates[0]))
