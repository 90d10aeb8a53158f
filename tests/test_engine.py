"""The engine's speed-ups keep the paper's algorithm: same losses, same updates."""

import numpy as np
import pytest
import torch
from torch import nn

from skaae import AdversarialAutoencoder, SemiSupervisedAAE
from skaae._losses import discriminator_loss


def _mlp_discriminator(with_batch_norm=False):
    torch.manual_seed(0)
    layers = [nn.Linear(3, 16)]
    if with_batch_norm:
        layers.append(nn.BatchNorm1d(16))
    layers += [nn.ReLU(), nn.Linear(16, 1)]
    return nn.Sequential(*layers)


def _two_pass_loss(discriminator, real, fake):
    bce = nn.functional.binary_cross_entropy_with_logits
    real_logits, fake_logits = discriminator(real), discriminator(fake)
    return bce(real_logits, torch.ones_like(real_logits)) + bce(
        fake_logits, torch.zeros_like(fake_logits)
    )


@pytest.mark.parametrize("with_batch_norm", [False, True])
def test_discriminator_loss_equals_separate_passes_over_draws_and_codes(with_batch_norm):
    discriminator = _mlp_discriminator(with_batch_norm)
    real, fake = torch.randn(50, 3), torch.randn(50, 3) + 2.0
    joint = discriminator_loss(discriminator, real, fake)
    expected = _two_pass_loss(discriminator, real, fake)
    torch.testing.assert_close(joint, expected)
    # The gradients the discriminator step applies are the same too.
    joint_grads = torch.autograd.grad(joint, list(discriminator.parameters()))
    expected_grads = torch.autograd.grad(
        _two_pass_loss(discriminator, real, fake), list(discriminator.parameters())
    )
    for got, want in zip(joint_grads, expected_grads):
        torch.testing.assert_close(got, want)


@pytest.mark.parametrize("Estimator", [AdversarialAutoencoder, SemiSupervisedAAE])
def test_cpu_training_uses_the_fused_adam(Estimator):
    X = np.random.RandomState(0).rand(60, 5)
    y = np.r_[np.zeros(30, int), np.ones(30, int)]
    model = Estimator(
        hidden_layer_sizes=(8,), discriminator_hidden_layer_sizes=(8,), max_epochs=1,
        device="cpu", random_state=0,
    )
    model.fit(X, y) if Estimator is SemiSupervisedAAE else model.fit(X)
    assert model._optimizers
    for optimizer in model._optimizers.values():
        assert optimizer.defaults["fused"] is True


def test_a_phase_weight_scales_that_phase_updates():
    # Adam ignores a constant factor on a loss, so the weights act on the
    # learning rate; without that, a grid search over them would compare
    # identical models.
    X = np.random.RandomState(0).rand(200, 6)
    params = dict(
        hidden_layer_sizes=(16,), discriminator_hidden_layer_sizes=(16,), max_epochs=3,
        learning_rate_init=1e-3, device="cpu", random_state=0,
    )
    weighted = AdversarialAutoencoder(
        adversarial_weight=0.1, discriminator_weight=0.5, reconstruction_weight=2.0, **params
    ).fit(X)
    rates = {name: opt.param_groups[0]["lr"] for name, opt in weighted._optimizers.items()}
    assert rates == pytest.approx({"reconstruction": 2e-3, "discriminator": 5e-4, "adversarial": 1e-4})
    plain = AdversarialAutoencoder(**params).fit(X)
    assert not np.allclose(weighted.transform(X), plain.transform(X))


def test_a_deprecated_phase_learning_rate_warns_and_acts_as_its_weight():
    # One knob per phase: a per-phase learning rate is the weight that gives
    # the same step size, so both fits train the same model.
    X = np.random.RandomState(0).rand(120, 6)
    params = dict(
        hidden_layer_sizes=(16,), discriminator_hidden_layer_sizes=(16,), max_epochs=2,
        learning_rate_init=1e-3, device="cpu", random_state=0,
    )
    with pytest.warns(FutureWarning, match="generator_learning_rate is deprecated in 0.2.*adversarial_weight=0.2"):
        old = AdversarialAutoencoder(generator_learning_rate=2e-4, **params).fit(X)
    new = AdversarialAutoencoder(adversarial_weight=0.2, **params).fit(X)
    np.testing.assert_array_equal(old.transform(X), new.transform(X))
    assert old.history_[-1]["adversarial"] == new.history_[-1]["adversarial"]


def test_a_discriminator_weight_of_zero_turns_the_regularisation_off():
    # Without a trained discriminator the adversarial step would chase a fixed
    # random critic: neither step runs, and no optimizer is made for them.
    X = np.random.RandomState(0).rand(120, 6)
    model = AdversarialAutoencoder(
        hidden_layer_sizes=(16,), discriminator_hidden_layer_sizes=(16,), max_epochs=1,
        discriminator_weight=0.0, device="cpu", random_state=0,
    ).fit(X)
    assert set(model.history_[0]) == {"epoch", "reconstruction", "duration"}
    assert set(model._optimizers) == {"reconstruction"}
