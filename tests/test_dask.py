"""dask-ml's Incremental trains skaae estimators chunk by chunk, with and without labels."""

import numpy as np
import pytest

from skaae import AdversarialAutoencoder, SupervisedAAE

da = pytest.importorskip("dask.array")
wrappers = pytest.importorskip("dask_ml.wrappers")

SMALL = dict(
    hidden_layer_sizes=(32,), discriminator_hidden_layer_sizes=(32,), device="cpu",
    random_state=0,
)


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


def test_incremental_without_labels_tells_a_supervised_model_it_needs_them(digits):
    X, _ = digits
    chunks = da.from_array(X, chunks=(500, X.shape[1]))
    with pytest.raises(ValueError, match="SupervisedAAE requires y"):
        wrappers.Incremental(SupervisedAAE(**SMALL)).fit(chunks)
