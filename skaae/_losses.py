"""Loss terms shared by the estimators' training steps."""

import torch
from torch.nn import functional as F


def reconstruction_error(logits, x, kind):
    """Per-feature reconstruction error: squared error, or BCE on the decoder's logits."""
    if kind == "bce":
        return F.binary_cross_entropy_with_logits(logits.float(), x.float(), reduction="none")
    return (logits.float() - x.float()) ** 2


def discriminator_loss(discriminator, real, fake):
    """BCE of a discriminator (logits) telling prior draws (``real``) from codes (``fake``).

    ``fake`` must already be detached: this step trains the discriminator only.
    """
    real_logits, fake_logits = discriminator(real), discriminator(fake)
    return F.binary_cross_entropy_with_logits(
        real_logits, torch.ones_like(real_logits)
    ) + F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))


def generator_loss(discriminator, fake):
    """BCE that rewards the encoder when the discriminator takes its codes for prior draws."""
    logits = discriminator(fake)
    return F.binary_cross_entropy_with_logits(logits, torch.ones_like(logits))
