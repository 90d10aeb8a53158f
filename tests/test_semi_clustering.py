"""SemiSupervisedAAE and ClusteringAAE: the categorical-code models."""

import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler

from skaae import ClusteringAAE, SemiSupervisedAAE
from skaae.metrics import cluster_error

def model(cls, **params):
    defaults = dict(
        hidden_layer_sizes=(128, 128), discriminator_hidden_layer_sizes=(128, 128),
        max_epochs=3, device="cpu", random_state=0,
    )
    defaults.update(params)
    return cls(**defaults)


@pytest.fixture(scope="module")
def split(digits):
    X, y = digits
    return train_test_split(X, y, test_size=0.3, stratify=y, random_state=0)


def few_labels(y, per_class, seed=0):
    rng = np.random.RandomState(seed)
    partial = np.full_like(y, -1)
    for label in np.unique(y):
        partial[rng.choice(np.flatnonzero(y == label), per_class, replace=False)] = label
    return partial


@pytest.fixture(scope="module")
def semi(split):
    X_train, _, y_train, _ = split
    return model(SemiSupervisedAAE, max_epochs=30).fit(X_train, few_labels(y_train, 10))


def test_semi_supervised_learns_from_ten_labels_per_class(semi, split):
    _, X_test, _, y_test = split
    # 100 labels for 1257 training digits; chance is 0.1.
    assert semi.score(X_test, y_test) > 0.8


def test_semi_supervised_surface(semi, split):
    _, X_test, _, _ = split
    np.testing.assert_array_equal(semi.classes_, np.arange(10))
    proba = semi.predict_proba(X_test[:20])
    assert proba.shape == (20, 10)
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-5)
    np.testing.assert_array_equal(semi.predict(X_test[:20]), proba.argmax(axis=1))
    assert semi.transform(X_test[:5]).shape == (5, 4)
    assert "classification" in semi.history_[0]


def test_class_code_carries_the_class_and_style_code_does_not(semi, split):
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_score

    X_train, X_test, y_train, y_test = split
    style = semi.transform(X_test)
    style_accuracy = cross_val_score(LogisticRegression(max_iter=500), style, y_test, cv=3).mean()
    # With 10 labels per class the style code still holds some class information
    # (see the benchmark notes); the class code must hold clearly more.
    assert semi.score(X_test, y_test) > style_accuracy + 0.1


def test_include_proba_prepends_the_class_probabilities(semi, split):
    _, X_test, _, _ = split
    both = clone(semi).set_params(max_epochs=1)
    both.set_params(include_proba=True)
    fitted = both.fit(X_test, few_labels(np.asarray(split[3]), 5))
    codes = fitted.transform(X_test[:7])
    assert codes.shape == (7, 14)
    np.testing.assert_allclose(codes[:, :10], fitted.predict_proba(X_test[:7]), rtol=1e-5)
    assert fitted.get_feature_names_out().shape == (14,)
    assert fitted.inverse_transform(codes).shape == (7, 64)


@pytest.mark.parametrize("cls", [SemiSupervisedAAE, ClusteringAAE])
@pytest.mark.parametrize("independent_style", [True, False])
def test_independent_style_shows_the_category_to_the_style_discriminator(
    cls, independent_style, digits
):
    # With independent_style, the style discriminator sees the most probable
    # category beside the style, so it imposes the prior within each category
    # (the benchmark measures how little class information the style keeps).
    import torch

    X, y = digits
    extra = {} if cls is SemiSupervisedAAE else {"n_clusters": 10}
    fitted = model(cls, n_components=3, max_epochs=1, independent_style=independent_style,
                   **extra).fit(X[:200], y[:200])
    first = next(m for m in fitted.style_discriminator_.modules() if isinstance(m, torch.nn.Linear))
    assert first.in_features == 3 + 10 * independent_style


def test_semi_supervised_sampling_by_class(semi):
    samples = semi.sample(10, y=np.arange(10), random_state=0)
    assert samples.shape == (10, 64)
    np.testing.assert_array_equal(samples, semi.sample(10, y=np.arange(10), random_state=0))
    decoded = semi.inverse_transform(np.zeros((3, 4)), y=[1, 2, 3])
    assert decoded.shape == (3, 64)
    with pytest.raises(ValueError, match="needs y"):
        semi.inverse_transform(np.zeros((3, 4)))
    with pytest.raises(ValueError, match="not seen"):
        semi.sample(2, y=11)


def test_semi_supervised_string_labels(digits):
    X, y = digits
    names = np.array([f"digit {d}" for d in "0123456789"], dtype=object)[y[:300]]
    partial = names.copy()
    partial[1::3] = -1  # not the first element: -1 must not be compared with strings
    fitted = model(SemiSupervisedAAE).fit(X[:300], partial)
    assert list(fitted.classes_) == sorted(set(names[[i for i in range(300) if i % 3 != 1]]))
    assert set(fitted.predict(X[:20])) <= set(fitted.classes_)


@pytest.mark.parametrize(
    "y, message",
    [
        (None, "requires y"),
        (np.full(200, -1), "no labeled sample"),
        (np.where(np.arange(200) % 2, 3, -1), "at least 2 classes"),
    ],
)
def test_semi_supervised_rejects_unusable_labels(digits, y, message):
    X, _ = digits
    with pytest.raises(ValueError, match=message):
        model(SemiSupervisedAAE).fit(X[:200], y)


def test_semi_supervised_in_a_pipeline(digits):
    X, y = digits
    pipe = make_pipeline(MinMaxScaler(), model(SemiSupervisedAAE, max_epochs=2))
    pipe.fit(X[:300], few_labels(y[:300], 5))
    assert pipe.predict(X[300:310]).shape == (10,)


def test_semi_supervised_pickles(semi, split):
    _, X_test, _, _ = split
    loaded = pickle.loads(pickle.dumps(semi))
    np.testing.assert_array_equal(loaded.predict_proba(X_test), semi.predict_proba(X_test))


def test_clustering_finds_the_digits(split):
    X_train, X_test, y_train, y_test = split
    clusterer = model(
        ClusteringAAE, n_clusters=16, max_epochs=40,
        hidden_layer_sizes=(256, 256), discriminator_hidden_layer_sizes=(256, 256),
    ).fit(X_train)
    assert clusterer.labels_.shape == (len(X_train),)
    assert len(np.unique(clusterer.labels_)) >= 8  # no collapse onto a few categories
    error = cluster_error(
        y_test, clusterer.predict(X_test), y_reference=y_train, clusters_reference=clusterer.labels_
    )
    assert error < 0.35  # chance is 0.9


def test_clustering_without_discriminator_noise_collapses(split):
    # Documents why discriminator_noise defaults to 0.3 for the categorical models,
    # where the categorical discriminator alone keeps the categories in use (the
    # neighbour step's balance term does too, so it is left out here).
    X_train, _, _, _ = split
    collapsed = model(
        ClusteringAAE, n_clusters=16, max_epochs=15, discriminator_noise=0.0, neighbor_weight=0.0
    )
    with pytest.warns(ConvergenceWarning, match="collapsed"):  # the user is told, not misled
        collapsed.fit(X_train)
    assert len(np.unique(collapsed.labels_)) <= 3


def test_identical_rows_collapse_with_a_warning():
    X = np.ones((30, 5))
    with pytest.warns(ConvergenceWarning, match="only 1 of its n_clusters=4"):
        model(ClusteringAAE, n_clusters=4, max_epochs=2).fit(X)


@pytest.mark.filterwarnings("ignore:ClusteringAAE put:sklearn.exceptions.ConvergenceWarning")
def test_clustering_surface(digits):
    X, _ = digits
    clusterer = model(ClusteringAAE, n_clusters=5, max_epochs=2)
    labels = clusterer.fit_predict(X[:200])
    np.testing.assert_array_equal(labels, clusterer.labels_)
    assert labels.min() >= 0 and labels.max() < 5
    proba = clusterer.predict_proba(X[:10])
    assert proba.shape == (10, 5)
    assert clusterer.sample(4, y=2, random_state=0).shape == (4, 64)
    assert clusterer.inverse_transform(np.zeros((2, 4)), y=[0, 1]).shape == (2, 64)
    with pytest.raises(ValueError, match="cluster indices"):
        clusterer.sample(2, y=7)
    with pytest.raises(ValueError, match="cluster indices"):
        clusterer.inverse_transform(np.zeros((2, 4)), y=[-1, 0])


def test_early_stopping_that_takes_every_label_is_a_clear_error(digits):
    X, y = digits
    labels = np.full(200, -1)
    labels[:2] = y[:2]
    with pytest.raises(ValueError, match="No labeled sample is left"):
        model(SemiSupervisedAAE, early_stopping=True, validation_fraction=0.99).fit(
            X[:200], labels
        )


def test_more_clusters_than_samples_is_an_error(digits):
    X, _ = digits
    with pytest.raises(ValueError, match="n_clusters"):
        model(ClusteringAAE, n_clusters=50).fit(X[:20])


def test_semi_supervised_auto_loss_is_bce_for_pixels_and_mse_otherwise(digits):
    X, y = digits
    y_partial = np.where(np.arange(len(y)) % 10 == 0, y, -1)
    params = dict(hidden_layer_sizes=(16,), discriminator_hidden_layer_sizes=(16,), max_epochs=1,
                  device="cpu", random_state=0, reconstruction_loss="auto")
    assert SemiSupervisedAAE(**params).fit(X, y_partial).reconstruction_loss_ == "bce"
    assert SemiSupervisedAAE(**params).fit(X - 0.5, y_partial).reconstruction_loss_ == "mse"


# -- partial_fit ---------------------------------------------------------------------

TINY_CATEGORICAL = dict(hidden_layer_sizes=(16,), discriminator_hidden_layer_sizes=(16,))


def test_semi_supervised_partial_fit_needs_classes_on_the_first_call(digits):
    X, y = digits
    semi = model(SemiSupervisedAAE, **TINY_CATEGORICAL)
    with pytest.raises(ValueError, match="classes must be passed on the first call"):
        semi.partial_fit(X[:200], y[:200])
    partial = few_labels(y[:400], per_class=5)
    # np.unique of partly labeled y holds -1: it marks unlabeled samples, never a class.
    semi.partial_fit(X[:200], partial[:200], classes=np.unique(partial))
    semi.partial_fit(X[200:400], partial[200:400])
    np.testing.assert_array_equal(semi.classes_, np.arange(10))
    assert semi.n_iter_ == 2
    assert semi.predict_proba(X[:5]).shape == (5, 10)
    with pytest.raises(ValueError, match="is not the same as on the first call"):
        semi.partial_fit(X[:200], partial[:200], classes=np.arange(5))


def test_semi_supervised_partial_fit_without_labels_trains_the_unsupervised_phases(digits):
    X, y = digits
    semi = model(SemiSupervisedAAE, **TINY_CATEGORICAL)
    semi.partial_fit(X[:200], y[:200], classes=np.arange(10))
    before = {k: v.clone() for k, v in semi.encoder_.state_dict().items()}
    semi.partial_fit(X[200:400], np.full(200, -1))
    assert "classification" in semi.history_[0]
    assert "classification" not in semi.history_[1]
    assert {"reconstruction", "discriminator", "adversarial"} <= set(semi.history_[1])
    assert any(not np.array_equal(v, semi.encoder_.state_dict()[k]) for k, v in before.items())
    # The classification step's Adam state waits for the next labeled chunk.
    semi.partial_fit(X[400:600], y[400:600])
    assert "classification" in semi.history_[2]


def test_clustering_partial_fit_keeps_n_clusters_and_takes_small_later_chunks(digits):
    X, _ = digits
    clusters = model(ClusteringAAE, n_clusters=10, **TINY_CATEGORICAL)
    with pytest.raises(ValueError, match="n_clusters=10 is more than the 5 samples"):
        clusters.partial_fit(X[:5])
    clusters.partial_fit(X[:300])
    clusters.partial_fit(X[300:305])  # fewer samples than clusters: fine once built
    assert clusters.n_iter_ == 2
    assert clusters.predict_proba(X[:3]).shape == (3, 10)
    # labels_ are this call's clusters, as MiniBatchKMeans.partial_fit leaves them.
    np.testing.assert_array_equal(clusters.labels_, clusters.predict(X[300:305]))
