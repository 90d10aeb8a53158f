"""Behaviour of skaae.metrics: the paper's majority-label clustering error and its
cluster-to-label mapping, on small hand-computed cases, and their input errors; the
Parzen-window log-likelihood against exact Gaussian densities, its bandwidth choice on
validation points, and its input errors."""

import warnings

import numpy as np
import pytest
from scipy.stats import multivariate_normal

from skaae.metrics import (
    ParzenEstimate,
    cluster_error,
    cluster_label_mapping,
    parzen_log_likelihood,
)


# -- cluster_label_mapping ----------------------------------------------------
def test_mapping_takes_each_clusters_majority_label():
    y = [0, 0, 1, 2, 2, 2, 1]
    clusters = [3, 3, 3, 8, 8, 1, 1]
    # Cluster 3: labels 0, 0, 1 -> 0. Cluster 8: 2, 2 -> 2. Cluster 1: 2, 1 -> tie.
    assert cluster_label_mapping(y, clusters) == {1: 1, 3: 0, 8: 2}


def test_mapping_breaks_ties_towards_the_label_that_sorts_first():
    assert cluster_label_mapping([5, 2, 2, 5], [0, 0, 1, 1]) == {0: 2, 1: 2}
    assert cluster_label_mapping(["b", "a"], [0, 0]) == {0: "a"}


def test_mapping_returns_plain_python_scalars():
    mapping = cluster_label_mapping(np.array([1, 1, 0]), np.array([4, 4, 9]))
    assert all(type(key) is int and type(value) is int for key, value in mapping.items())


def test_mapping_accepts_string_labels_and_string_clusters():
    mapping = cluster_label_mapping(["cat", "dog", "dog", "cat"], ["a", "a", "a", "b"])
    assert mapping == {"a": "dog", "b": "cat"}


# -- cluster_error: values ----------------------------------------------------
def test_perfect_clustering_has_zero_error():
    y = np.repeat([0, 1, 2], 5)
    assert cluster_error(y, y) == 0.0


def test_cluster_ids_need_not_match_label_ids():
    y = np.repeat([0, 1, 2], 5)
    assert cluster_error(y, 10 - y) == 0.0


def test_splitting_a_class_over_several_pure_clusters_costs_nothing():
    y = np.array([0, 0, 0, 0, 1, 1])
    assert cluster_error(y, [0, 0, 1, 1, 2, 2]) == 0.0


def test_hand_computed_error_on_the_same_points():
    # Cluster 0: labels 0, 0, 1 -> label 0, one error.
    # Cluster 1: labels 1, 1, 2, 2, 2 -> label 2, two errors.
    y = [0, 0, 1, 1, 1, 2, 2, 2]
    clusters = [0, 0, 0, 1, 1, 1, 1, 1]
    assert cluster_error(y, clusters) == pytest.approx(3 / 8)


def test_a_single_cluster_scores_one_minus_the_majority_share():
    y = [0, 1, 1, 1, 2]
    assert cluster_error(y, [7] * 5) == pytest.approx(2 / 5)


def test_reference_points_decide_the_labels_of_held_out_points():
    y_train = [0, 0, 1, 1, 1]
    clusters_train = [0, 0, 1, 1, 0]  # cluster 0 -> 0 (two of three), cluster 1 -> 1
    y_test = [0, 1, 1, 0]
    clusters_test = [0, 0, 1, 1]  # errors: second (0 -> 0 != 1) and fourth (1 -> 1 != 0)
    error = cluster_error(
        y_test, clusters_test, y_reference=y_train, clusters_reference=clusters_train
    )
    assert error == pytest.approx(2 / 4)


def test_reference_mapping_differs_from_the_points_own_mapping():
    # On its own, cluster 0 of the test points would be labeled 1 and score 0.
    y_test, clusters_test = [1, 1], [0, 0]
    assert cluster_error(y_test, clusters_test) == 0.0
    error = cluster_error(y_test, clusters_test, y_reference=[0], clusters_reference=[0])
    assert error == 1.0


def test_clusters_absent_from_the_reference_count_as_errors():
    error = cluster_error(
        [0, 1, 1, 2],
        [0, 1, 5, 6],
        y_reference=[0, 1, 2],
        clusters_reference=[0, 1, 2],
    )
    assert error == pytest.approx(2 / 4)


def test_labels_absent_from_the_reference_count_as_errors():
    error = cluster_error([0, 3], [0, 0], y_reference=[0, 0], clusters_reference=[0, 0])
    assert error == pytest.approx(1 / 2)


def test_string_labels():
    y = np.array(["shirt", "shirt", "boot", "boot", "bag"])
    clusters = np.array([0, 0, 1, 1, 1])
    assert cluster_error(y, clusters) == pytest.approx(1 / 5)


def test_string_labels_with_a_reference():
    error = cluster_error(
        ["boot", "bag"],
        [1, 1],
        y_reference=["boot", "boot", "bag"],
        clusters_reference=[1, 1, 1],
    )
    assert error == pytest.approx(1 / 2)


def test_accepts_column_vectors_and_lists_alike():
    y = np.array([0, 0, 1, 1])
    clusters = np.array([1, 1, 0, 1])
    expected = cluster_error(y.tolist(), clusters.tolist())
    assert cluster_error(y.reshape(-1, 1), clusters.reshape(-1, 1)) == expected


def test_error_is_a_python_float_in_the_unit_interval():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 10, size=200)
    clusters = rng.integers(0, 16, size=200)
    error = cluster_error(y, clusters)
    assert isinstance(error, float)
    assert 0.0 <= error <= 1.0


def test_error_does_not_depend_on_the_order_of_the_points():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 5, size=100)
    clusters = rng.integers(0, 8, size=100)
    order = rng.permutation(100)
    assert cluster_error(y, clusters) == cluster_error(y[order], clusters[order])


# -- cluster_error and cluster_label_mapping: input errors -------------------
def test_length_mismatch_names_both_inputs():
    with pytest.raises(ValueError, match=r"y_true and clusters .* 3 and 2"):
        cluster_error([0, 1, 1], [0, 1])
    with pytest.raises(ValueError, match=r"y and clusters .* 1 and 2"):
        cluster_label_mapping([0], [0, 1])


def test_reference_length_mismatch_names_the_reference_inputs():
    with pytest.raises(ValueError, match=r"y_reference and clusters_reference"):
        cluster_error([0], [0], y_reference=[0, 1], clusters_reference=[0])


@pytest.mark.parametrize("empty_argument", ["y_true", "clusters"])
def test_empty_input_is_refused(empty_argument):
    arguments = {"y_true": [0, 1], "clusters": [0, 1], empty_argument: []}
    with pytest.raises(ValueError, match=f"{empty_argument} is empty"):
        cluster_error(arguments["y_true"], arguments["clusters"])


def test_empty_reference_is_refused():
    with pytest.raises(ValueError, match="y_reference is empty"):
        cluster_error([0], [0], y_reference=[], clusters_reference=[])


def test_empty_input_to_the_mapping_is_refused():
    with pytest.raises(ValueError, match="y is empty"):
        cluster_label_mapping([], [])


@pytest.mark.parametrize("given", ["y_reference", "clusters_reference"])
def test_one_reference_without_the_other_is_refused(given):
    with pytest.raises(ValueError, match="together"):
        cluster_error([0, 1], [0, 1], **{given: [0, 1]})


def test_two_dimensional_input_is_refused():
    with pytest.raises(ValueError, match=r"clusters must be one-dimensional.*\(2, 2\)"):
        cluster_error([0, 1], [[0, 1], [1, 0]])


# -- parzen_log_likelihood: values ---------------------------------------------
def test_one_sample_gives_the_gaussian_log_density():
    rng = np.random.default_rng(0)
    sample, X_test = rng.normal(size=(1, 3)), rng.normal(size=(4, 3))
    expected = multivariate_normal(sample[0], 0.3**2 * np.eye(3)).logpdf(X_test)
    estimate = parzen_log_likelihood(sample, X_test, bandwidth=0.3)
    assert isinstance(estimate, ParzenEstimate)
    assert estimate.log_likelihood == pytest.approx(expected.mean(), rel=1e-10)
    assert estimate.std_error == pytest.approx(expected.std(ddof=1) / 2, rel=1e-10)
    assert estimate.bandwidth == 0.3


def test_several_samples_give_the_mean_of_their_gaussians():
    rng = np.random.default_rng(1)
    samples, X_test = rng.normal(size=(5, 2)), rng.normal(size=(7, 2))
    densities = np.mean(
        [multivariate_normal(sample, 0.5**2 * np.eye(2)).pdf(X_test) for sample in samples],
        axis=0,
    )
    estimate = parzen_log_likelihood(samples, X_test, bandwidth=0.5)
    assert estimate.log_likelihood == pytest.approx(np.log(densities).mean(), rel=1e-10)


def test_far_points_stay_finite_where_exp_would_underflow():
    # exp(-1e8) is 0 in float64; the log-sum-exp keeps the exact log-density.
    estimate = parzen_log_likelihood([[0.0]], [[100.0]], bandwidth=0.01)
    expected = -0.5 * np.log(2 * np.pi * 0.01**2) - 100.0**2 / (2 * 0.01**2)
    assert estimate.log_likelihood == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("batch_size", [1, 3, 64])
def test_result_does_not_depend_on_the_batch_size(batch_size):
    rng = np.random.default_rng(2)
    samples, X_test = rng.normal(size=(50, 4)), rng.normal(size=(20, 4))
    reference = parzen_log_likelihood(samples, X_test, bandwidth=0.4, batch_size=1000)
    estimate = parzen_log_likelihood(samples, X_test, bandwidth=0.4, batch_size=batch_size)
    assert estimate.log_likelihood == pytest.approx(reference.log_likelihood, rel=1e-12)
    assert estimate.std_error == pytest.approx(reference.std_error, rel=1e-9)


def test_many_samples_approach_the_smoothed_true_density():
    # Samples of N(0, I) under a window of width h estimate the density of N(0, (1 + h^2) I).
    rng = np.random.default_rng(3)
    samples, X_test = rng.normal(size=(20_000, 2)), rng.normal(size=(300, 2))
    estimate = parzen_log_likelihood(samples, X_test, bandwidth=0.5)
    expected = multivariate_normal(np.zeros(2), 1.25 * np.eye(2)).logpdf(X_test).mean()
    assert estimate.log_likelihood == pytest.approx(expected, abs=0.02)


def test_chosen_bandwidth_gets_close_to_the_true_log_likelihood():
    rng = np.random.default_rng(4)
    samples = rng.normal(size=(20_000, 2))
    X_validation, X_test = rng.normal(size=(300, 2)), rng.normal(size=(300, 2))
    estimate = parzen_log_likelihood(samples, X_test, X_validation=X_validation)
    true = multivariate_normal(np.zeros(2), np.eye(2)).logpdf(X_test).mean()
    assert 0.05 < estimate.bandwidth < 0.6
    assert estimate.log_likelihood == pytest.approx(true, abs=0.05)
    assert estimate.std_error == pytest.approx(1 / np.sqrt(300), rel=0.3)  # var(log p) = d/2


def test_bandwidth_is_the_best_candidate_on_the_validation_points():
    rng = np.random.default_rng(5)
    samples = rng.normal(size=(400, 3))
    X_validation, X_test = rng.normal(size=(100, 3)), rng.normal(size=(50, 3))
    candidates = [0.1, 0.3, 0.5, 0.7, 2.0]
    estimate = parzen_log_likelihood(
        samples, X_test, X_validation=X_validation, bandwidths=candidates
    )
    validation = [
        parzen_log_likelihood(samples, X_validation, bandwidth=h).log_likelihood
        for h in candidates
    ]
    assert estimate.bandwidth == candidates[int(np.argmax(validation))]
    assert estimate == parzen_log_likelihood(samples, X_test, bandwidth=estimate.bandwidth)


def test_chosen_bandwidth_scales_with_the_data():
    rng = np.random.default_rng(6)
    samples, X_validation = rng.normal(size=(500, 2)), rng.normal(size=(100, 2))
    candidates = np.logspace(-2, 1, 13)
    X_test = samples[:5]
    unit = parzen_log_likelihood(
        samples, X_test, X_validation=X_validation, bandwidths=candidates
    )
    small = parzen_log_likelihood(
        samples / 100, X_test / 100, X_validation=X_validation / 100, bandwidths=candidates / 100
    )
    assert small.bandwidth == pytest.approx(unit.bandwidth / 100)
    # Shrinking the data by 100 in two dimensions raises log-densities by 2 log 100.
    assert small.log_likelihood == pytest.approx(unit.log_likelihood + 2 * np.log(100))


def test_a_bandwidth_at_the_edge_of_the_candidates_warns():
    rng = np.random.default_rng(7)
    samples, X_validation = rng.normal(size=(200, 2)), rng.normal(size=(50, 2))
    with pytest.warns(UserWarning, match="largest of the candidates.*wider range"):
        estimate = parzen_log_likelihood(
            samples, X_validation, X_validation=X_validation, bandwidths=[0.001, 0.002]
        )
    assert estimate.bandwidth == 0.002


def test_a_single_candidate_is_used_without_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        estimate = parzen_log_likelihood([[0.0]], [[0.0]], X_validation=[[1.0]], bandwidths=[2.0])
    assert estimate.bandwidth == 2.0


def test_a_single_test_point_has_no_standard_error():
    assert np.isnan(parzen_log_likelihood([[0.0]], [[1.0]], bandwidth=1.0).std_error)


def test_estimate_fields_are_python_floats():
    estimate = parzen_log_likelihood(np.zeros((3, 2)), np.ones((2, 2)), bandwidth=np.float32(1))
    assert all(type(value) is float for value in estimate)


# -- parzen_log_likelihood: input errors ---------------------------------------
def test_feature_mismatch_names_every_array():
    with pytest.raises(ValueError, match="same number of features, got samples 2, X_test 3"):
        parzen_log_likelihood(np.zeros((4, 2)), np.zeros((3, 3)), bandwidth=1.0)
    with pytest.raises(ValueError, match="X_validation 5"):
        parzen_log_likelihood(np.zeros((4, 2)), np.zeros((3, 2)), X_validation=np.zeros((3, 5)))


def three_arrays():
    return {name: np.zeros((3, 2)) for name in ("samples", "X_test", "X_validation")}


@pytest.mark.parametrize("bad", [np.nan, np.inf])
@pytest.mark.parametrize("name", ["samples", "X_test", "X_validation"])
def test_nan_or_infinite_values_are_refused(name, bad):
    arrays = three_arrays()
    arrays[name][1, 0] = bad
    with pytest.raises(ValueError, match=f"{name} contains NaN or infinite"):
        parzen_log_likelihood(**arrays)


@pytest.mark.parametrize("name", ["samples", "X_test", "X_validation"])
def test_empty_arrays_are_refused(name):
    arrays = three_arrays()
    arrays[name] = np.zeros((0, 2))
    with pytest.raises(ValueError, match=f"{name} is empty"):
        parzen_log_likelihood(**arrays)


def test_one_dimensional_input_is_refused_with_a_reshape_hint():
    with pytest.raises(ValueError, match=r"samples must be two-dimensional.*\(5,\).*reshape"):
        parzen_log_likelihood(np.zeros(5), np.zeros((2, 1)), bandwidth=1.0)


def test_without_bandwidth_validation_points_are_required():
    with pytest.raises(ValueError, match="either bandwidth, or X_validation"):
        parzen_log_likelihood(np.zeros((3, 2)), np.zeros((3, 2)))


@pytest.mark.parametrize("extra", ["X_validation", "bandwidths"])
def test_a_given_bandwidth_refuses_the_arguments_to_choose_one(extra):
    value = np.zeros((3, 2)) if extra == "X_validation" else [0.1, 1.0]
    with pytest.raises(ValueError, match="bandwidth is given, so there is nothing to choose"):
        parzen_log_likelihood(np.zeros((3, 2)), np.zeros((3, 2)), bandwidth=1.0, **{extra: value})


@pytest.mark.parametrize("bandwidth", [0.0, -1.0, np.nan, np.inf])
def test_bandwidth_must_be_positive_and_finite(bandwidth):
    with pytest.raises(ValueError, match="bandwidth must be positive and finite"):
        parzen_log_likelihood(np.zeros((3, 2)), np.zeros((3, 2)), bandwidth=bandwidth)


@pytest.mark.parametrize("bandwidths", [[], [0.1, -0.1], [0.1, np.nan]])
def test_candidate_bandwidths_must_be_positive_and_finite(bandwidths):
    with pytest.raises(ValueError, match="bandwidths must be"):
        parzen_log_likelihood(
            np.zeros((3, 2)), np.zeros((3, 2)), X_validation=np.zeros((3, 2)), bandwidths=bandwidths
        )


@pytest.mark.parametrize("batch_size", [0, -5, 2.5, True])
def test_batch_size_must_be_a_positive_int(batch_size):
    with pytest.raises(ValueError, match="batch_size must be a positive int"):
        parzen_log_likelihood(
            np.zeros((3, 2)), np.zeros((3, 2)), bandwidth=1.0, batch_size=batch_size
        )
