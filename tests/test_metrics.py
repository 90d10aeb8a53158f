"""Behaviour of skaae.metrics: the paper's majority-label clustering error and its
cluster-to-label mapping, on small hand-computed cases, and their input errors."""

import numpy as np
import pytest

from skaae.metrics import cluster_error, cluster_label_mapping


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
