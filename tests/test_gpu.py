"""The CUDA path. Skipped where there is no GPU (CI has none)."""

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
