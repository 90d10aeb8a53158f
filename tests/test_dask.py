"""skaae on Dask: dask-ml's Incremental trains every estimator chunk by chunk,
HyperbandSearchCV tunes them, and GridSearchCV runs on a Dask cluster."""

import numpy as np
import pytest
from sklearn.model_selection import GridSearchCV

from skaae import AdversarialAutoencoder, ClusteringAAE, SemiSupervisedAAE, SupervisedAAE

da = pytest.importorskip("dask.array")
wrappers = pytest.importorskip("dask_ml.wrappers")

SMALL = dict(
    hidden_layer_sizes=(32,), discriminator_hidden_layer_sizes=(32,), device="cpu",
    random_state=0,
)
TINY = dict(SMALL, hidden_layer_sizes=(16,), discriminator_hidden_layer_sizes=(16,))

# Each estimator with the labels its partial_fit takes: ``None`` (no y), the
# digits' labels, or one label in five with -1 elsewhere; and the fit parameters.
ESTIMATORS = [
    pytest.param(AdversarialAutoencoder(**TINY), None, {}, id="AdversarialAutoencoder"),
    pytest.param(SupervisedAAE(**TINY), "all", {"classes": np.arange(10)}, id="SupervisedAAE"),
    pytest.param(
        SemiSupervisedAAE(**TINY), "some", {"classes": np.arange(10)}, id="SemiSupervisedAAE"
    ),
    pytest.param(ClusteringAAE(n_clusters=10, **TINY), None, {}, id="ClusteringAAE"),
]


def labels_for(y, kind):
    if kind is None:
        return None
    return y if kind == "all" else np.where(np.arange(len(y)) % 5 == 0, y, -1)


@pytest.fixture(scope="module")
def dask_client():
    """A Dask cluster inside this process: in-process transport, no open port."""
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
    ) as cluster, distributed.Client(cluster) as client:
        yield client


def test_incremental_trains_without_labels(digits):
    X, _ = digits
    chunks = da.from_array(X, chunks=(500, X.shape[1]))
    incremental = wrappers.Incremental(AdversarialAutoencoder(**SMALL)).fit(chunks)
    model = incremental.estimator_
    assert model.n_iter_ == chunks.numblocks[0]  # one partial_fit call per chunk
    assert getattr(model, "classes_", None) is None
    assert np.isfinite(model.transform(X[:10])).all()


def test_incremental_trains_with_labels(digits):
    X, y = digits
    chunks = da.from_array(X, chunks=(500, X.shape[1]))
    labels = da.from_array(y, chunks=(500,))
    model = wrappers.Incremental(AdversarialAutoencoder(prior="mixture", **SMALL)).fit(
        chunks, labels, classes=np.unique(y)
    ).estimator_
    np.testing.assert_array_equal(model.classes_, np.unique(y))


@pytest.mark.parametrize("estimator, labels, fit_params", ESTIMATORS)
def test_incremental_trains_every_estimator_chunk_by_chunk(digits, estimator, labels, fit_params):
    X, y = digits
    X, y = X[:900], labels_for(y[:900], labels)
    chunks = da.from_array(X, chunks=(300, X.shape[1]))
    args = () if y is None else (da.from_array(y, chunks=(300,)),)
    model = wrappers.Incremental(estimator).fit(chunks, *args, **fit_params).estimator_
    assert model.n_iter_ == chunks.numblocks[0]  # one partial_fit call per chunk
    assert model.transform(X[:10]).shape == (10, estimator.n_components)
    if "classes" in fit_params:
        np.testing.assert_array_equal(model.classes_, fit_params["classes"])


def test_incremental_without_labels_tells_a_supervised_model_it_needs_them(digits):
    X, _ = digits
    chunks = da.from_array(X, chunks=(500, X.shape[1]))
    with pytest.raises(ValueError, match="SupervisedAAE requires y"):
        wrappers.Incremental(SupervisedAAE(**SMALL)).fit(chunks)


def test_grid_search_runs_on_a_dask_cluster(digits, dask_client):
    import joblib
    from distributed import get_task_stream

    X, _ = digits
    search = GridSearchCV(
        AdversarialAutoencoder(max_epochs=2, **TINY),
        {"learning_rate_init": [1e-3, 1e-2], "adversarial_weight": [0.5, 1.0]}, cv=2,
    )
    with get_task_stream(dask_client) as tasks, joblib.parallel_backend("dask"):
        search.fit(X[:400])
    # The 4 candidates x 2 folds ran as tasks of the cluster (joblib batches them).
    assert any("fit_and_score" in str(task["key"]) for task in tasks.data)
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()


@pytest.mark.parametrize("estimator, labels, fit_params", ESTIMATORS)
def test_hyperband_search_tunes_every_estimator(digits, dask_client, estimator, labels, fit_params):
    model_selection = pytest.importorskip("dask_ml.model_selection")
    X, y = digits
    X = da.from_array(X[:900], chunks=(150, X.shape[1]))
    # HyperbandSearchCV needs a y; -1s say "no labels" (ClusteringAAE ignores y).
    y = labels_for(y[:900], labels)
    y = da.from_array(np.full(900, -1) if y is None else y, chunks=(150,))
    search = model_selection.HyperbandSearchCV(
        estimator, {"learning_rate_init": [1e-3, 3e-3, 1e-2]}, max_iter=3, random_state=0,
    )
    try:
        search.fit(X, y, **fit_params)
    except RuntimeError as error:
        if "asynchronous Client in a synchronous context" not in str(error):
            raise
        # dask-ml's adaptive searches call dask.persist inside the client's event
        # loop, which dask refuses since 2025.3, for every estimator (dask/dask-ml#1016).
        pytest.xfail("dask-ml's HyperbandSearchCV fails on dask>=2025.3 (dask/dask-ml#1016)")
    assert search.best_params_["learning_rate_init"] in (1e-3, 3e-3, 1e-2)
    assert search.metadata_["partial_fit_calls"] >= 3
    assert np.isfinite(search.best_score_)
