"""The neighbour step: samples and their nearest neighbours share a category."""

import math

import numpy as np
import pytest
import torch
from sklearn.neighbors import NearestNeighbors

from skaae import ClusteringAAE, SemiSupervisedAAE
from skaae._losses import neighbor_agreement_loss
from skaae._neighbors import nearest_neighbors, neighbor_distances


def test_nearest_neighbors_match_scikit_learn(digits):
    X, _ = digits
    found = nearest_neighbors(torch.as_tensor(X, dtype=torch.float32), 5).numpy()
    expected = NearestNeighbors(n_neighbors=6).fit(X).kneighbors(X, return_distance=False)[:, 1:]
    # Ties in distance may order differently; compare the distances they reach.
    def distances(indices):
        return np.sort(np.linalg.norm(X[indices] - X[:, None, :], axis=2), axis=1)
    np.testing.assert_allclose(distances(found), distances(expected), rtol=1e-4, atol=1e-4)
    assert not (found == np.arange(len(X))[:, None]).any()


def test_nearest_neighbors_of_a_tiny_set_are_the_other_rows():
    x = torch.tensor([[0.0], [1.0], [3.0]])
    np.testing.assert_array_equal(nearest_neighbors(x, 10).numpy(), [[1, 2], [0, 2], [1, 0]])


def test_agreement_loss_is_zero_for_confident_shared_balanced_categories():
    logits = 50 * torch.eye(4).repeat(5, 1)
    assert float(neighbor_agreement_loss(logits, logits)) == pytest.approx(0.0, abs=1e-6)


def test_agreement_loss_punishes_disagreement_and_one_category_for_all():
    confident = 50 * torch.eye(4).repeat(5, 1)
    disagreeing = float(neighbor_agreement_loss(confident, confident.roll(1, dims=1)))
    all_in_one = 50 * torch.eye(4)[[0] * 20]
    collapsed = float(neighbor_agreement_loss(all_in_one, all_in_one))
    assert disagreeing > 10
    assert collapsed == pytest.approx(5.0 * math.log(4), rel=1e-4)


SMALL = dict(
    hidden_layer_sizes=(64,), discriminator_hidden_layer_sizes=(64,), device="cpu",
    random_state=0,
)


def test_neighbor_weight_adds_a_step_and_zero_removes_it(digits):
    X, y = digits
    y_partial = np.where(np.arange(len(y)) % 10 == 0, y, -1)
    with_step = SemiSupervisedAAE(neighbor_weight=1.0, max_epochs=2, **SMALL).fit(X, y_partial)
    without = SemiSupervisedAAE(neighbor_weight=0.0, max_epochs=2, **SMALL).fit(X, y_partial)
    assert math.isfinite(with_step.history_[-1]["neighbors"])
    assert "neighbors" not in without.history_[-1]


def test_clustering_with_neighbors_keeps_every_cluster_and_finds_the_digits(digits):
    X, y = digits
    from skaae.metrics import cluster_error

    with_neighbors = ClusteringAAE(n_clusters=10, neighbor_weight=1.0, max_epochs=30, **SMALL)
    without = ClusteringAAE(
        n_clusters=10, neighbor_weight=0.0, consistency_weight=0.0, max_epochs=30, **SMALL
    )
    errors = [cluster_error(y, model.fit_predict(X)) for model in (with_neighbors, without)]
    assert len(np.unique(with_neighbors.labels_)) == 10
    # KMeans on the pixels makes 21% errors with 10 clusters; these small
    # networks without the step more than 50% after 30 epochs (measured).
    assert errors[0] < 0.25
    assert errors[0] < errors[1] - 0.1


def test_neighbor_distances_are_the_distances_to_the_kth_nearest_row(digits):
    X, _ = digits
    x = torch.as_tensor(X, dtype=torch.float32)
    found = neighbor_distances(x, nearest_neighbors(x, 7)).numpy()
    expected = NearestNeighbors(n_neighbors=8).fit(X).kneighbors(X)[0][:, -1:]
    assert found.shape == (len(X), 1)
    np.testing.assert_allclose(found, expected, rtol=1e-4, atol=1e-4)
