"""Cluster heads: the paper's dimensionality reduction (section 7)."""

import pickle

import numpy as np
import pytest
from scipy.spatial.distance import pdist

from skaae import ClusteringAAE, SemiSupervisedAAE

SMALL = dict(
    hidden_layer_sizes=(64,), discriminator_hidden_layer_sizes=(64,), max_epochs=20,
    device="cpu", random_state=0,
)


@pytest.fixture(scope="module")
def headed(digits):
    X, _ = digits
    return ClusteringAAE(
        n_clusters=10, n_components=2, head_distance=6.0, neighbor_weight=1.0, **SMALL
    ).fit(X)


def test_the_code_is_the_cluster_head_plus_the_style(headed, digits):
    X, _ = digits
    code = headed.transform(X[:50])
    assert code.shape == (50, 2)
    heads = headed.cluster_heads_.heads.detach().numpy()
    proba = headed.predict_proba(X[:50])
    style = headed.set_params(head_distance=None).transform(X[:50])
    headed.set_params(head_distance=6.0)
    np.testing.assert_allclose(code, proba @ heads + style, rtol=1e-4, atol=1e-4)


def test_heads_stay_apart(headed):
    heads = headed.cluster_heads_.heads.detach().numpy()
    assert pdist(heads).min() > 0.8 * 6.0


def test_codes_of_a_cluster_gather_around_its_head(headed, digits):
    X, _ = digits
    code, clusters = headed.transform(X), headed.predict(X)
    heads = headed.cluster_heads_.heads.detach().numpy()
    own = np.linalg.norm(code - heads[clusters], axis=1)
    others = np.linalg.norm(code[:, None, :] - heads[None], axis=2)
    others[np.arange(len(X)), clusters] = np.inf
    assert np.median(own) < np.median(others.min(axis=1))


def test_representations_decode_without_labels(headed, digits):
    X, _ = digits
    code = headed.transform(X[:20])
    assert headed.inverse_transform(code).shape == (20, 64)
    # With y, the rows are styles drawn in the given clusters.
    assert headed.inverse_transform(code, y=3).shape == (20, 64)
    assert headed.sample(5, y=[0, 1, 2, 3, 4], random_state=0).shape == (5, 64)
    assert headed.set_params(include_proba=True).transform(X[:4]).shape == (4, 12)
    assert headed.inverse_transform(headed.transform(X[:4])).shape == (4, 64)
    headed.set_params(include_proba=False)


def test_headed_models_pickle(headed, digits):
    X, _ = digits
    restored = pickle.loads(pickle.dumps(headed))
    np.testing.assert_array_equal(restored.transform(X[:30]), headed.transform(X[:30]))


def test_semi_supervised_heads(digits):
    X, y = digits
    y_partial = np.where(np.arange(len(y)) % 10 == 0, y, -1)
    model = SemiSupervisedAAE(n_components=3, head_distance=6.0, **dict(SMALL, max_epochs=3))
    assert model.fit(X, y_partial).transform(X[:5]).shape == (5, 3)
