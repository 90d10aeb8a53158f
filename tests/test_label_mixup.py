"""Mixup of the labeled mini-batch in SemiSupervisedAAE's classification step."""

import numpy as np
import pytest
import torch
from torch.nn import functional as F

from skaae import SemiSupervisedAAE
from skaae._losses import mixed_cross_entropy

SMALL = dict(
    hidden_layer_sizes=(64,), discriminator_hidden_layer_sizes=(32,), device="cpu",
    random_state=0, neighbor_weight=0.0, consistency_weight=0.0,
)


def test_mixed_cross_entropy_is_the_cross_entropy_against_the_blended_one_hot():
    generator = torch.Generator().manual_seed(0)
    logits = torch.randn(40, 5, generator=generator)
    own = torch.randint(5, (40,), generator=generator)
    partner = torch.randint(5, (40,), generator=generator)
    share = 0.5 * torch.rand(40, generator=generator)
    blended = (1 - share[:, None]) * F.one_hot(own, 5) + share[:, None] * F.one_hot(partner, 5)
    expected = F.cross_entropy(logits, blended)
    assert float(mixed_cross_entropy(logits, own, partner, share)) == pytest.approx(
        float(expected), rel=1e-6
    )
    # No blend is the plain cross-entropy.
    assert float(mixed_cross_entropy(logits, own, partner, torch.zeros(40))) == pytest.approx(
        float(F.cross_entropy(logits, own)), rel=1e-6
    )


def _few_labels(digits, per_class=5):
    X, y = digits
    y_partial = np.full_like(y, -1)
    for label in np.unique(y):
        y_partial[np.flatnonzero(y == label)[:per_class]] = label
    return X, y, y_partial


def test_mixup_keeps_the_few_labels_from_being_memorised_and_still_classifies(digits):
    X, y, y_partial = _few_labels(digits)
    plain = SemiSupervisedAAE(label_mixup=0.0, max_epochs=15, learning_rate_decay=0.0, **SMALL).fit(X, y_partial)
    mixed = SemiSupervisedAAE(label_mixup=0.5, max_epochs=15, learning_rate_decay=0.0, **SMALL).fit(X, y_partial)
    # Fifty labels seen hundreds of times: the plain step's loss falls towards
    # zero (0.3 after 15 epochs), while blends keep a loss to learn from (1.1).
    assert plain.history_[-1]["classification"] < 0.5
    assert mixed.history_[-1]["classification"] > 2 * plain.history_[-1]["classification"]
    unlabeled = y_partial == -1
    for model in (plain, mixed):
        assert np.mean(model.predict(X[unlabeled]) == y[unlabeled]) > 0.7


def test_label_mixup_changes_what_the_labeled_step_trains(digits):
    X, _, y_partial = _few_labels(digits)
    mixed = SemiSupervisedAAE(label_mixup=0.5, max_epochs=2, **SMALL).fit(X, y_partial)
    plain = SemiSupervisedAAE(label_mixup=0.0, max_epochs=2, **SMALL).fit(X, y_partial)
    assert not np.allclose(mixed.transform(X), plain.transform(X))


def test_label_mixup_beyond_one_half_is_refused(digits):
    X, _, y_partial = _few_labels(digits)
    with pytest.raises(ValueError, match="label_mixup"):
        SemiSupervisedAAE(label_mixup=0.8, max_epochs=1, **SMALL).fit(X, y_partial)
