"""The device path: GPU-only tests skip where there is no GPU (CI has none); the
per-estimator test also runs on the CPU, so CI checks its logic."""

import pickle

import numpy as np
import pytest
import torch

from skaae import AdversarialAutoencoder

cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


def small(**params):
    return AdversarialAutoencoder(
        hidden_layer_sizes=(64,), discriminator_hidden_layer_sizes=(64,), max_epochs=3,
        random_state=0, **params,
    )


@cuda
@pytest.mark.parametrize("precision", ["float32", "bfloat16"])
def test_fit_on_cuda_keeps_everything_on_the_gpu(digits, precision):
    X, y = digits
    model = small(device="cuda", precision=precision, prior="mixture").fit(X[:500], y[:500])
    assert model.device_.type == "cuda"
    assert all(p.device.type == "cuda" for p in model.encoder_.parameters())
    codes = model.transform(X[:100])
    assert codes.shape == (100, 2) and np.isfinite(codes).all()
    assert model.sample(4, y=1, random_state=0).shape == (4, 64)


@cuda
def test_auto_device_picks_the_gpu(digits):
    X, _ = digits
    assert small(device="auto").fit(X[:100]).device_.type == "cuda"


@cuda
def test_cuda_model_unpickles_on_cuda_and_matches(digits):
    X, _ = digits
    model = small(device="cuda").fit(X[:200])
    loaded = pickle.loads(pickle.dumps(model))
    assert loaded.device_.type == "cuda"
    np.testing.assert_array_equal(loaded.transform(X[:20]), model.transform(X[:20]))


# Every estimator's device path: the same test runs on the CPU everywhere (so CI
# checks its logic) and on CUDA where there is a GPU.
DEVICES = ["cpu", pytest.param("cuda", marks=cuda)]


def _estimators():
    from skaae import ClusteringAAE, SemiSupervisedAAE, SupervisedAAE

    tiny = dict(hidden_layer_sizes=(32,), discriminator_hidden_layer_sizes=(32,), max_epochs=2,
                random_state=0)
    return {
        "AdversarialAutoencoder": AdversarialAutoencoder(**tiny),
        "conv AdversarialAutoencoder": AdversarialAutoencoder(
            input_shape=(1, 8, 8), conv_channels=(4, 8), **tiny),
        "SupervisedAAE": SupervisedAAE(**tiny),
        "SemiSupervisedAAE": SemiSupervisedAAE(**tiny),
        "ClusteringAAE": ClusteringAAE(n_clusters=4, **tiny),
    }


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("name", list(_estimators()))
def test_every_estimator_fits_predicts_samples_and_pickles_on_the_device(digits, name, device):
    X, y = digits[0][:300], digits[1][:300]
    model = _estimators()[name].set_params(device=device)
    if name == "ClusteringAAE":
        model.fit(X)
    elif name == "SemiSupervisedAAE":
        model.fit(X, np.where(np.arange(len(y)) % 5 == 0, y, -1))
    else:
        model.fit(X, y)
    assert model.device_.type == device
    assert all(p.device.type == device for p in model.encoder_.parameters())
    outputs = [model.transform(X[:50]), model.sample(3, random_state=0)]
    if hasattr(model, "predict_proba"):
        outputs.append(model.predict_proba(X[:50]))
    if hasattr(model, "predict"):
        assert model.predict(X[:50]).shape == (50,)
    assert all(np.isfinite(output).all() for output in outputs)
    loaded = pickle.loads(pickle.dumps(model))
    assert loaded.device_.type == device
    np.testing.assert_array_equal(loaded.transform(X[:20]), model.transform(X[:20]))
