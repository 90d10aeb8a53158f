"""The consistency step: virtual adversarial training of the categorical code."""

import math

import numpy as np
import pytest
import torch

from skaae import ClusteringAAE, SemiSupervisedAAE
from skaae._losses import virtual_adversarial_loss
from skaae._neighbors import nearest_neighbors, neighbor_distances

SMALL = dict(
    hidden_layer_sizes=(32,), discriminator_hidden_layer_sizes=(32,), max_epochs=2,
    device="cpu", random_state=0,
)


def test_a_classifier_that_ignores_its_input_has_no_virtual_adversarial_loss():
    x = torch.rand(50, 20)
    loss = virtual_adversarial_loss(
        lambda x: torch.zeros(len(x), 3) + x.sum() * 0, x, radius=1.0,
        generator=torch.Generator().manual_seed(0),
    )
    assert float(loss) == pytest.approx(0.0, abs=1e-7)


def test_the_perturbation_follows_the_direction_the_classes_depend_on():
    # Two classes decided by feature 0 alone, out of 100: a random perturbation
    # of norm 1 moves feature 0 by about 0.1, the adversarial one by 1.
    weights = torch.zeros(100, 2)
    weights[0] = torch.tensor([2.0, -2.0])

    def logits_of(x):
        return x @ weights

    x = torch.zeros(200, 100)
    generator = torch.Generator().manual_seed(0)
    adversarial = float(virtual_adversarial_loss(logits_of, x, radius=1.0, generator=generator))
    shifted = torch.zeros(1, 100)
    shifted[0, 0] = 1.0
    along_feature = float(torch.nn.functional.kl_div(
        torch.log_softmax(logits_of(shifted), 1), torch.full((1, 2), 0.5), reduction="batchmean"
    ))
    assert adversarial == pytest.approx(along_feature, rel=1e-3)
    random = torch.nn.functional.normalize(torch.randn(200, 100, generator=generator), dim=1)
    random_loss = float(torch.nn.functional.kl_div(
        torch.log_softmax(logits_of(random), 1), torch.full((200, 2), 0.5),
        reduction="batchmean",
    ))
    assert adversarial > 20 * random_loss


@pytest.mark.parametrize("make", [
    lambda **p: SemiSupervisedAAE(**p),
    lambda **p: ClusteringAAE(n_clusters=5, neighbor_weight=0.0, **p),
])
def test_consistency_weight_adds_a_step_and_zero_removes_it(make, digits):
    X, y = digits
    y_partial = np.where(np.arange(len(y)) % 10 == 0, y, -1)
    fit_args = (X, y_partial) if isinstance(make(), SemiSupervisedAAE) else (X,)
    with_step = make(consistency_weight=1.0, **SMALL).fit(*fit_args)
    without = make(consistency_weight=0.0, **SMALL).fit(*fit_args)
    assert math.isfinite(with_step.history_[-1]["consistency"])
    assert with_step.history_[-1]["consistency"] >= 0
    assert "consistency" not in without.history_[-1]


def test_consistency_is_reproducible_and_batch_invariant_at_inference(digits):
    X, y = digits
    y_partial = np.where(np.arange(len(y)) % 10 == 0, y, -1)
    first = SemiSupervisedAAE(consistency_weight=1.0, **SMALL).fit(X, y_partial)
    second = SemiSupervisedAAE(consistency_weight=1.0, **SMALL).fit(X, y_partial)
    np.testing.assert_array_equal(first.predict_proba(X), second.predict_proba(X))
    np.testing.assert_array_equal(first.predict_proba(X[:7]), first.predict_proba(X)[:7])


@pytest.mark.parametrize("make", [
    lambda **p: SemiSupervisedAAE(**p), lambda **p: ClusteringAAE(n_clusters=5, **p),
])
def test_the_radius_from_neighbors_needs_no_neighbour_step(make, digits):
    # The neighbour search runs for the radius alone when the neighbour step is off.
    X, y = digits
    y_partial = np.where(np.arange(len(y)) % 10 == 0, y, -1)
    fit_args = (X, y_partial) if isinstance(make(), SemiSupervisedAAE) else (X,)
    model = make(
        consistency_weight=1.0, consistency_radius="neighbors", neighbor_weight=0.0, **SMALL
    ).fit(*fit_args)
    assert "neighbors" not in model.history_[-1]
    assert math.isfinite(model.history_[-1]["consistency"]) and model.history_[-1]["consistency"] >= 0


def test_each_row_can_have_its_own_radius():
    # consistency_radius="neighbors" gives each sample its own radius: a row
    # with a tiny one adds next to nothing to the loss.
    weights = torch.zeros(100, 2)
    weights[0] = torch.tensor([2.0, -2.0])
    x = torch.zeros(200, 100)

    def loss(radius):
        return float(virtual_adversarial_loss(
            lambda x: x @ weights, x, radius=radius, generator=torch.Generator().manual_seed(0)
        ))

    half_tiny = torch.ones(200, 1)
    half_tiny[100:] = 1e-4
    assert loss(half_tiny) == pytest.approx(loss(1.0) / 2, rel=1e-3)


def test_a_clusterer_joins_the_consistency_term_to_its_neighbour_step(digits):
    X, y = digits
    from skaae.metrics import cluster_error

    params = dict(
        n_clusters=10, hidden_layer_sizes=(64,), discriminator_hidden_layer_sizes=(64,),
        max_epochs=30, device="cpu", random_state=0,
    )
    joined = ClusteringAAE(**params).fit(X)
    assert "consistency" not in joined.history_[-1]
    # A step of its own, with its own Adam optimizer, flattened the cluster
    # probabilities of these small networks to uniform in the first epoch
    # (61% errors, measured); joined, the neighbour agreement holds them (19%).
    separate = ClusteringAAE(**params)
    separate._CONSISTENCY_JOINS_NEIGHBORS = False
    separate.fit(X)
    assert "consistency" in separate.history_[-1]
    errors = [cluster_error(y, model.labels_) for model in (joined, separate)]
    assert errors[0] < 0.25
    assert errors[0] < errors[1] - 0.2


def test_a_clusterer_without_the_neighbour_step_leaves_the_consistency_term_out(digits):
    X, _ = digits
    params = dict(
        n_clusters=5, hidden_layer_sizes=(16,), discriminator_hidden_layer_sizes=(16,),
        max_epochs=1, device="cpu", random_state=0,
    )
    alone = ClusteringAAE(neighbor_weight=0.0, **params).fit(X)
    assert alone.consistency_weight_ == 0.0
    assert not {"neighbors", "consistency"} & set(alone.history_[-1])
    assert ClusteringAAE(**params).fit(X).consistency_weight_ == 1.0
    # Asked for explicitly, it runs as a step of its own.
    explicit = ClusteringAAE(neighbor_weight=0.0, consistency_weight=0.5, **params).fit(X)
    assert "consistency" in explicit.history_[-1]


def test_a_single_row_has_no_neighbour_radius():
    x = torch.rand(1, 4)
    assert neighbor_distances(x, nearest_neighbors(x, 10)).tolist() == [[0.0]]
