"""SemiSupervisedAAE's "auto" graph settings: the neighbour and consistency steps
run, and label mixup stops, where the neighbour graph of X carries the labels."""

import pickle

import numpy as np
import pytest
import torch

import skaae
from skaae import SemiSupervisedAAE
from skaae._neighbors import label_propagation_accuracy, nearest_neighbors

SMALL = dict(
    hidden_layer_sizes=(32,), discriminator_hidden_layer_sizes=(16,), device="cpu",
    random_state=0, max_epochs=1,
)


def _blobs(n_per_class=100, n_classes=3, spread=0.3, seed=0):
    rng = np.random.default_rng(seed)
    centers = rng.normal(scale=5.0, size=(n_classes, 8))
    y = np.repeat(np.arange(n_classes), n_per_class)
    X = centers[y] + spread * rng.normal(size=(len(y), 8))
    return X, y


def _hide(y, per_class, seed=0):
    rng = np.random.default_rng(seed)
    y_partial = np.full_like(y, -1)
    for label in np.unique(y):
        members = np.flatnonzero(y == label)
        y_partial[rng.choice(members, per_class, replace=False)] = label
    return y_partial


def _accuracy(X, y_partial):
    neighbors = nearest_neighbors(torch.as_tensor(X, dtype=torch.float32), 10)
    return label_propagation_accuracy(
        neighbors, torch.as_tensor(y_partial), 3, torch.Generator().manual_seed(0)
    )


def test_label_propagation_accuracy_tells_a_graph_that_carries_the_labels_from_one_that_does_not():
    X, y = _blobs()
    assert _accuracy(X, _hide(y, 10)) == 1.0
    # The same points with labels drawn at random: neighbours say nothing about them.
    shuffled = np.random.default_rng(1).permutation(y)
    assert _accuracy(X, _hide(shuffled, 10)) < 0.6


def test_label_propagation_accuracy_needs_two_labels_per_class():
    X, y = _blobs()
    y_partial = _hide(y, 10)
    y_partial[np.flatnonzero(y_partial == 2)[1:]] = -1
    assert _accuracy(X, y_partial) is None
    assert _accuracy(X, np.full_like(y, -1)) is None


def test_auto_runs_the_graph_steps_without_mixup_where_neighbours_share_classes():
    X, y = _blobs()
    model = SemiSupervisedAAE(**SMALL).fit(X, _hide(y, 10))
    assert model.label_propagation_accuracy_ >= 0.8
    assert (model.neighbor_weight_, model.consistency_weight_, model.label_mixup_) == (1.0, 1.0, 0.0)
    assert {"neighbors", "consistency"} <= set(model.history_[-1])


def test_auto_keeps_mixup_and_leaves_the_graph_steps_out_where_neighbours_do_not():
    X, y = _blobs()
    shuffled = np.random.default_rng(1).permutation(y)
    model = SemiSupervisedAAE(**SMALL).fit(X, _hide(shuffled, 10))
    assert model.label_propagation_accuracy_ < 0.8
    assert (model.neighbor_weight_, model.consistency_weight_, model.label_mixup_) == (0.0, 0.0, 0.5)
    assert not {"neighbors", "consistency"} & set(model.history_[-1])
    # Measuring the graph draws nothing from the training's random streams: the
    # fit is the one the resolved values give.
    explicit = SemiSupervisedAAE(
        neighbor_weight=0.0, consistency_weight=0.0, label_mixup=0.5, **SMALL
    ).fit(X, _hide(shuffled, 10))
    np.testing.assert_array_equal(model.transform(X), explicit.transform(X))


def test_values_given_are_used_as_they_are_and_nothing_is_measured():
    X, y = _blobs()
    model = SemiSupervisedAAE(
        neighbor_weight=0.0, consistency_weight=0.5, label_mixup=0.2, **SMALL
    ).fit(X, _hide(y, 10))
    assert model.label_propagation_accuracy_ is None
    assert (model.neighbor_weight_, model.consistency_weight_, model.label_mixup_) == (0.0, 0.5, 0.2)
    assert "consistency" in model.history_[-1] and "neighbors" not in model.history_[-1]


def test_a_continued_fit_keeps_what_the_first_fit_decided(tmp_path):
    X, y = _blobs()
    y_partial = _hide(y, 10)
    model = SemiSupervisedAAE(warm_start=True, **SMALL).fit(X, y_partial)
    first = model.label_propagation_accuracy_
    # Shuffled labels would turn the steps off if the decision were made again.
    model.fit(X, _hide(np.random.default_rng(1).permutation(y), 10))
    assert model.label_propagation_accuracy_ == first
    assert (model.neighbor_weight_, model.label_mixup_) == (1.0, 0.0)
    assert "neighbors" in model.history_[-1]
    path = tmp_path / "model.safetensors"
    skaae.save(model, path)
    loaded = skaae.load(path)
    assert loaded.label_propagation_accuracy_ == pytest.approx(first)
    assert (loaded.neighbor_weight_, loaded.label_mixup_) == (1.0, 0.0)


def test_auto_is_refused_where_there_are_no_labels_to_measure_the_graph_with():
    with pytest.raises(ValueError, match="neighbor_weight"):
        skaae.ClusteringAAE(neighbor_weight="auto", **SMALL).fit(_blobs()[0])


def test_a_model_pickled_before_label_mixup_existed_trains_on_without_blends():
    X, y = _blobs()
    y_partial = _hide(y, 10)
    model = SemiSupervisedAAE(
        warm_start=True, neighbor_weight=0.0, consistency_weight=0.0, label_mixup=0.0, **SMALL
    ).fit(X, y_partial)
    state = pickle.loads(pickle.dumps(model.__getstate__()))
    for name in ("label_mixup", "label_propagation_accuracy_", "neighbor_weight_",
                 "consistency_weight_", "label_mixup_"):
        del state[name]
    old = SemiSupervisedAAE.__new__(SemiSupervisedAAE)
    old.__setstate__(state)
    assert old.get_params()["label_mixup"] == 0.0
    old.fit(X, y_partial)
    assert old.label_mixup_ == 0.0 and old.label_propagation_accuracy_ is None
