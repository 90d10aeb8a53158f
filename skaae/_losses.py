"""Loss terms shared by the estimators' training steps."""

import math

import torch
from torch.nn import functional as F


def reconstruction_error(logits, x, kind):
    """Per-feature reconstruction error: squared error, or BCE on the decoder's logits."""
    if kind == "bce":
        return F.binary_cross_entropy_with_logits(logits.float(), x.float(), reduction="none")
    return (logits.float() - x.float()) ** 2


def _blur(points, noise, generator):
    # Gaussian noise on a discriminator's inputs keeps it from separating the two
    # sets on a detail (one-hot against almost one-hot), which would leave the
    # encoder without a gradient.
    if noise == 0:
        return points
    return points + noise * torch.randn(
        points.shape, generator=generator, device=points.device
    ).to(points.dtype)


def _mixes_samples(module):
    """Whether ``module``'s output for one row depends on the other rows (batch norm)."""
    return any(isinstance(m, torch.nn.modules.batchnorm._BatchNorm) for m in module.modules())


def discriminator_loss(discriminator, real, fake, *, noise=0.0, generator=None):
    """BCE of a discriminator (logits) telling prior draws (``real``) from codes (``fake``).

    ``fake`` must already be detached: this step trains the discriminator only.
    ``noise`` is the standard deviation of Gaussian noise added to both inputs.
    """
    if _mixes_samples(discriminator):
        real_logits = discriminator(_blur(real, noise, generator))
        fake_logits = discriminator(_blur(fake, noise, generator))
    else:
        # One pass over both sets: twice the rows per matrix product runs
        # closer to the machine's peak than two half-size passes, and the loss
        # is the same because each row's output depends on that row alone.
        logits = discriminator(_blur(torch.cat([real, fake]), noise, generator))
        real_logits, fake_logits = logits[: len(real)], logits[len(real) :]
    return F.binary_cross_entropy_with_logits(
        real_logits, torch.ones_like(real_logits)
    ) + F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))


def generator_loss(discriminator, fake, *, noise=0.0, generator=None):
    """BCE that rewards the encoder when the discriminator takes its codes for prior draws."""
    logits = discriminator(_blur(fake, noise, generator))
    return F.binary_cross_entropy_with_logits(logits, torch.ones_like(logits))


def attribute_loss(codes, attributes, delta):
    """Attribute regularisation of Pati & Lerch (2020), summed over attributes.

    For each attribute ``j`` (column ``j`` of ``attributes``, tied to code
    dimension ``j``), the mean over the pairs of a mini-batch of
    ``|tanh(delta * (z_i - z_k)) - sign(a_i - a_k)|``: zero when the code
    dimension orders the samples as the attribute does, with gaps of a few
    ``1 / delta`` between them.
    """
    codes = codes[:, : attributes.shape[1]].float()
    code_gaps = codes[:, None, :] - codes[None, :, :]
    attribute_gaps = attributes[:, None, :] - attributes[None, :, :]
    errors = (torch.tanh(delta * code_gaps) - torch.sign(attribute_gaps)).abs()
    # The diagonal (a sample against itself) is zero by construction: average
    # over the other pairs only, so the loss does not depend on the batch size.
    n = len(codes)
    return errors.sum() / max(n * (n - 1), 1)


def _unit_rows(vectors):
    """Each row of ``vectors`` scaled to unit L2 norm (zero rows stay zero)."""
    flat = vectors.flatten(1)
    return (flat / flat.norm(dim=1, keepdim=True).clamp_min(1e-12)).view_as(vectors)


def virtual_adversarial_loss(logits_of, x, *, radius, generator):
    """Virtual adversarial training (Miyato et al., 2018) for the class logits.

    The KL divergence between the class distribution at ``x`` (held fixed) and at
    ``x + r``, where ``r`` of L2 norm ``radius`` per row is the direction that
    changes the distribution most, found with one power step from a random
    direction. It asks the classes to stay put under small perturbations of
    the input, which unlabeled data can teach.

    ``logits_of(x) -> logits`` runs the encoder's class head.
    """
    with torch.no_grad():
        target = torch.softmax(logits_of(x).float(), dim=1)
    direction = _unit_rows(torch.randn(x.shape, generator=generator, device=x.device))
    # The power step probes a finite distance: with bf16 products a probe of
    # 1e-6 (the paper's) would vanish in rounding. Half the radius keeps it in
    # the same regime as the final perturbation.
    direction.requires_grad_(True)
    probe = F.kl_div(
        torch.log_softmax(logits_of(x + 0.5 * radius * direction).float(), dim=1),
        target, reduction="batchmean",
    )
    (gradient,) = torch.autograd.grad(probe, direction)
    perturbation = radius * _unit_rows(gradient.detach())
    return F.kl_div(
        torch.log_softmax(logits_of(x + perturbation).float(), dim=1),
        target, reduction="batchmean",
    )


def mixed_cross_entropy(logits, targets, partner_targets, share):
    """Cross-entropy of blended samples against their blended one-hot targets.

    Row ``i`` blends its own sample (weight ``1 - share[i]``) with a partner
    (weight ``share[i]``); the loss mixes the two targets' cross-entropies with
    the same weights, which is the cross-entropy against the blended one-hot.
    """
    log_proba = F.log_softmax(logits.float(), dim=1)
    own = log_proba.gather(1, targets[:, None]).squeeze(1)
    partner = log_proba.gather(1, partner_targets[:, None]).squeeze(1)
    return -((1 - share) * own + share * partner).mean()


def neighbor_agreement_loss(logits, neighbor_logits, *, balance=5.0):
    """Minus the log-probability that a sample and its neighbour fall in the same category,
    plus ``balance`` times the categories' imbalance in the mini-batch.

    ``-log sum_c p_c(x) p_c(x')`` averaged over the pairs is zero when both put
    all their mass on one shared category, and alone it would put every sample
    in one category. The imbalance ``log(k) - H(mean_x p(x))`` (zero when the
    mini-batch fills the ``k`` categories evenly) prevents that, as in SCAN
    (Van Gansbeke et al., 2020); the categorical discriminator alone reacts too
    slowly.
    """
    proba = torch.softmax(logits.float(), dim=1)
    agreement = (proba * torch.softmax(neighbor_logits.float(), dim=1)).sum(dim=1)
    mean = proba.mean(dim=0)
    imbalance = math.log(proba.shape[1]) + (mean * torch.log(mean.clamp_min(1e-8))).sum()
    return -torch.log(agreement.clamp_min(1e-8)).mean() + balance * imbalance
