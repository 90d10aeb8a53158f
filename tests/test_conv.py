"""Convolutional encoders and decoders for images (``input_shape``)."""

import math
import pickle

import numpy as np
import pytest
import torch
from torch import nn

from skaae import AdversarialAutoencoder, ClusteringAAE, SemiSupervisedAAE, SupervisedAAE
from skaae.networks import (
    ConvEncoderBody,
    GeneratorDropout,
    init_parameters,
    make_conv_decoder,
    make_conv_encoder,
)

TINY = dict(
    hidden_layer_sizes=(8,),
    discriminator_hidden_layer_sizes=(8,),
    conv_channels=(2, 4),
    max_epochs=1,
    batch_size=8,
    device="cpu",
    random_state=0,
)
SHAPES = [(1, 28, 28), (3, 32, 32), (3, 64, 64)]
N_SAMPLES = 8


def _images(shape, n=N_SAMPLES, seed=0):
    return np.random.RandomState(seed).rand(n, math.prod(shape)).astype(np.float32)


def _labels(n=N_SAMPLES):
    return np.arange(n) % 2


def _has(module, layer_type):
    return any(isinstance(m, layer_type) for m in module.modules())


@pytest.mark.parametrize("shape", [(1, 28, 28), (3, 32, 32), (3, 64, 64), (3, 13, 7), (2, 1, 1)])
@pytest.mark.parametrize("channels", [(4,), (4, 8, 8)])
def test_conv_builders_retrace_any_image_size(shape, channels):
    n_pixels = math.prod(shape)
    encoder = make_conv_encoder(shape, 5, channels=channels, hidden_layer_sizes=(6,),
                                n_extra_inputs=3)
    decoder = make_conv_decoder(5, shape, channels=channels[::-1], hidden_layer_sizes=(6,))
    assert encoder(torch.randn(4, n_pixels + 3)).shape == (4, 5)
    assert decoder(torch.randn(4, 5)).shape == (4, n_pixels)


def test_transposed_convolution_starts_like_a_stock_layer():
    layer = nn.ConvTranspose2d(16, 4, 3)
    init_parameters(layer, torch.Generator().manual_seed(0))
    # PyTorch's default bound for this layout: 1 / sqrt(out_channels * kernel size).
    bound = 1 / math.sqrt(4 * 9)
    assert layer.weight.abs().max() <= bound
    assert layer.weight.abs().max() > 0.95 * bound
    assert layer.bias.abs().max() <= bound


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize(
    "make, labels",
    [
        (lambda shape: AdversarialAutoencoder(input_shape=shape, **TINY), None),
        (lambda shape: SupervisedAAE(input_shape=shape, **TINY), "all"),
        (lambda shape: SemiSupervisedAAE(input_shape=shape, **TINY), "some"),
        (lambda shape: ClusteringAAE(n_clusters=2, input_shape=shape, **TINY), None),
    ],
    ids=["aae", "supervised", "semi", "clustering"],
)
def test_every_estimator_fits_images_with_conv_networks(shape, make, labels):
    X = _images(shape)
    y = None if labels is None else _labels()
    if labels == "some":
        y = np.where(np.arange(N_SAMPLES) < 4, y, -1)
    model = make(shape).fit(X, y)

    assert _has(model.encoder_, nn.Conv2d)
    assert _has(model.decoder_, nn.ConvTranspose2d)
    codes = model.transform(X)
    assert codes.shape == (N_SAMPLES, model.n_components)
    # The class-aware models decode a style under a class (or cluster) index.
    decode = {} if type(model) is AdversarialAutoencoder else {"y": 1}
    assert model.inverse_transform(codes, **decode).shape == X.shape
    assert model.sample(3, random_state=0).shape == (3, X.shape[1])
    assert np.isfinite(model.score_samples(X)).all()


def test_tabular_data_keeps_mlp_networks():
    model = AdversarialAutoencoder(**TINY).fit(_images((1, 4, 4)))
    assert not _has(model.encoder_, nn.Conv2d)
    assert not _has(model.decoder_, nn.ConvTranspose2d)


@pytest.mark.parametrize("encoder_type", ["gaussian", "universal"])
def test_stochastic_encoders_work_on_images(encoder_type):
    shape = (1, 28, 28)
    X = _images(shape, n=12)
    model = AdversarialAutoencoder(
        n_components=3, input_shape=shape, encoder_type=encoder_type, noise_dim=4, **TINY
    ).fit(X)
    codes = model.transform(X)
    assert codes.shape == (12, 3)
    # The posterior mean is deterministic and batch invariant.
    np.testing.assert_array_equal(codes[:5], model.transform(X[:5]))
    if encoder_type == "universal":
        # Running the convolutions once per image (not once per noise draw)
        # gives the same mean as encoding every (image, draw) pair.
        encoder = model.encoder_
        x = torch.as_tensor(X[:5])
        pairs = torch.cat(
            [x.repeat_interleave(len(encoder.posterior_noise), dim=0),
             encoder.posterior_noise.repeat(5, 1)], dim=1,
        )
        with torch.no_grad():
            expected = encoder.body(pairs).view(5, -1, 3).mean(dim=1)
            actual = encoder.posterior_mean(x)
        torch.testing.assert_close(actual, expected, rtol=1e-5, atol=1e-6)


def test_conv_fit_is_reproducible_with_dropout():
    shape = (3, 32, 32)
    X = _images(shape)
    fits = [
        AdversarialAutoencoder(input_shape=shape, dropout=0.3, **{**TINY, "max_epochs": 2}).fit(X)
        for _ in range(2)
    ]
    assert _has(fits[0].encoder_, GeneratorDropout)
    np.testing.assert_array_equal(fits[0].transform(X), fits[1].transform(X))


def test_conv_model_pickles():
    shape = (1, 28, 28)
    X = _images(shape)
    model = AdversarialAutoencoder(input_shape=shape, **TINY).fit(X)
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(model.transform(X), restored.transform(X))


def test_custom_decoder_replaces_only_the_conv_decoder():
    shape = (1, 28, 28)
    model = AdversarialAutoencoder(
        input_shape=shape, decoder=lambda n_in, n_out: nn.Linear(n_in, n_out), **TINY
    ).fit(_images(shape))
    assert isinstance(model.encoder_.body, ConvEncoderBody)
    assert isinstance(model.decoder_.body, nn.Linear)


@pytest.mark.parametrize(
    "Estimator", [AdversarialAutoencoder, lambda **kw: ClusteringAAE(n_clusters=2, **kw)]
)
def test_input_shape_must_hold_n_features(Estimator):
    model = Estimator(input_shape=(1, 28, 28), **TINY)
    with pytest.raises(ValueError, match=r"input_shape=\(1, 28, 28\) holds 784 values.*X has 3072"):
        model.fit(_images((3, 32, 32)))
    assert not hasattr(model, "encoder_")


@pytest.mark.parametrize("input_shape", [(28, 28), (1, 28, 28, 1), (0, 28, 28), (1, 28.0, 28)])
def test_input_shape_must_be_three_positive_ints(input_shape):
    with pytest.raises(ValueError, match="input_shape must be .channels, height, width."):
        AdversarialAutoencoder(input_shape=input_shape, **TINY).fit(_images((1, 28, 28)))


def test_conv_autoencoder_learns_digits():
    from sklearn.datasets import load_digits

    X = load_digits().data[:600] / 16.0
    X = np.kron(X.reshape(-1, 8, 8), np.ones((2, 2))).reshape(len(X), -1)  # 16x16 images
    model = AdversarialAutoencoder(
        n_components=8, input_shape=(1, 16, 16), conv_channels=(16, 32),
        hidden_layer_sizes=(64,), discriminator_hidden_layer_sizes=(32,),
        # The adversarial game slows the deeper conv encoder's first epochs;
        # a gentler adversarial step keeps this short run informative.
        adversarial_weight=0.2,
        max_epochs=6, batch_size=20, device="cpu", random_state=2,
    ).fit(X)
    error = -model.score(X)
    mean_image_error = X.var(axis=0).mean()
    # Better than the best code-blind reconstruction: the code carries the digit.
    assert error < 0.6 * mean_image_error
    assert error < 0.5 * model.history_[0]["reconstruction"]
