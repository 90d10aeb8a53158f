"""Network builders: encoders, decoders and discriminators.

The default networks are multilayer perceptrons. A user may pass their own
``torch.nn.Module`` (or a factory returning one) as the *body* of any network;
skaae wraps it with the small amount of logic each role needs (posterior
sampling for the encoder, an output activation for the decoder).

Randomness inside the networks (initialisation, dropout, encoder noise) comes
from a :class:`torch.Generator` handed over at fit time, never from PyTorch's
global generator.
"""

import copy
import math

import torch
from torch import nn

__all__ = ["make_mlp", "Encoder", "Decoder", "GeneratorDropout", "build_body"]

ACTIVATIONS = {
    "relu": nn.ReLU,
    "leaky_relu": lambda: nn.LeakyReLU(0.2),
    "tanh": nn.Tanh,
    "elu": nn.ELU,
    "gelu": nn.GELU,
}

ENCODER_KINDS = ("deterministic", "gaussian", "universal")


class GeneratorDropout(nn.Module):
    """Dropout that draws its masks from an assigned :class:`torch.Generator`.

    ``torch.nn.Dropout`` only uses the global generator; this one keeps
    training reproducible under a local ``random_state``.
    """

    def __init__(self, p):
        super().__init__()
        self.p = float(p)
        self.generator = None

    def forward(self, x):
        if not self.training or self.p == 0.0:
            return x
        keep = torch.empty_like(x).bernoulli_(1.0 - self.p, generator=self.generator)
        return x * keep / (1.0 - self.p)

    def extra_repr(self):
        return f"p={self.p}"

    def __getstate__(self):
        # A generator is a fit-time resource, not part of the model.
        state = self.__dict__.copy()
        state["generator"] = None
        return state


def make_mlp(
    n_inputs, hidden_layer_sizes, n_outputs, *, activation="relu", dropout=0.0, device=None
):
    """Build ``Linear -> activation -> dropout`` blocks and a linear output layer.

    Parameters
    ----------
    n_inputs, n_outputs : int
    hidden_layer_sizes : sequence of int
    activation : {"relu", "leaky_relu", "tanh", "elu", "gelu"}
    dropout : float
        Dropout probability after each hidden activation.
    device : torch.device or str, default=None
        Where the weights are created; ``"meta"`` allocates nothing and skips
        the initialisation (skaae then initialises from a local generator).

    Returns
    -------
    torch.nn.Sequential
    """
    layers = []
    width = n_inputs
    for size in hidden_layer_sizes:
        layers += [nn.Linear(width, size, device=device), ACTIVATIONS[activation]()]
        if dropout > 0:
            layers.append(GeneratorDropout(dropout))
        width = size
    layers.append(nn.Linear(width, n_outputs, device=device))
    return nn.Sequential(*layers)


def build_body(spec, n_inputs, n_outputs, default, seed=0):
    """Return the module for one network role.

    ``spec`` is ``None`` (use ``default()``), a ``torch.nn.Module`` (deep-copied so
    the user's object is never trained in place) or a factory called as
    ``spec(n_inputs, n_outputs)``. A factory initialises its layers from PyTorch's
    global generator; it runs inside a fork of that generator seeded with
    ``seed``, so the result is reproducible and the caller's global state is
    left as it was.
    """
    if spec is None:
        return default()
    if isinstance(spec, nn.Module):
        return copy.deepcopy(spec)
    if callable(spec):
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            module = spec(n_inputs, n_outputs)
        if not isinstance(module, nn.Module):
            raise TypeError(
                f"The network factory {spec!r} returned {type(module).__name__}, "
                "expected a torch.nn.Module."
            )
        return module
    raise TypeError(
        f"A network must be None, a torch.nn.Module or a factory; got {type(spec).__name__}."
    )


def init_parameters(module, generator):
    """Re-initialise every ``nn.Linear`` / convolution of ``module`` from ``generator``.

    Uses PyTorch's default scheme (uniform in ``+-1/sqrt(fan_in)``) so results
    match a stock network, but draws from the local generator.
    """
    with torch.no_grad():
        for layer in module.modules():
            if isinstance(layer, (nn.Linear, nn.Conv1d, nn.Conv2d, nn.ConvTranspose2d)):
                fan_in = layer.weight[0].numel() if not isinstance(
                    layer, nn.ConvTranspose2d
                ) else layer.weight.shape[0] * layer.weight[0, 0].numel()
                bound = 1.0 / math.sqrt(max(fan_in, 1))
                layer.weight.uniform_(-bound, bound, generator=generator)
                if layer.bias is not None:
                    layer.bias.uniform_(-bound, bound, generator=generator)


def set_generator(module, generator):
    """Point every :class:`GeneratorDropout` (and encoder) inside ``module`` at ``generator``."""
    for layer in module.modules():
        if isinstance(layer, (GeneratorDropout, Encoder)):
            layer.generator = generator


class Encoder(nn.Module):
    """The encoder ``q(z | x)`` in one of the paper's three forms.

    Parameters
    ----------
    body : torch.nn.Module
        Maps its input to ``n_components`` outputs (``"deterministic"``), to
        ``2 * n_components`` outputs, mean and log-variance (``"gaussian"``), or
        from ``n_features + n_noise`` inputs, data and noise, to ``n_components``
        outputs (``"universal"``).
    n_components : int
    kind : {"deterministic", "gaussian", "universal"}
    n_noise : int
        Size of the noise input of the universal approximator posterior.
    n_posterior_draws : int
        Noise draws averaged for the posterior mean of the universal encoder.
    """

    def __init__(self, body, n_components, kind="deterministic", n_noise=0, n_posterior_draws=16):
        super().__init__()
        if kind not in ENCODER_KINDS:
            raise ValueError(f"kind must be one of {ENCODER_KINDS}, got {kind!r}.")
        self.body = body
        self.n_components = n_components
        self.kind = kind
        self.n_noise = n_noise
        self.generator = None
        # A fixed set of noise vectors makes the universal encoder's posterior mean
        # deterministic and independent of how the data is batched.
        self.register_buffer(
            "posterior_noise", torch.zeros(n_posterior_draws if kind == "universal" else 0, n_noise)
        )

    def reset_noise(self, generator):
        """Draw the fixed noise used by :meth:`posterior_mean` (universal encoder)."""
        if self.kind == "universal":
            self.posterior_noise.copy_(
                torch.randn(
                    self.posterior_noise.shape,
                    generator=generator,
                    device=generator.device,
                ).to(self.posterior_noise.device)
            )

    def _noise(self, n, like):
        return torch.randn(n, self.n_noise, generator=self.generator, device=like.device).to(
            like.dtype
        )

    def forward(self, x):
        """A code drawn from the posterior (what training uses)."""
        if self.kind == "universal":
            return self.body(torch.cat([x, self._noise(len(x), x)], dim=1))
        output = self.body(x)
        if self.kind == "gaussian":
            mean, log_var = output.chunk(2, dim=1)
            std = torch.exp(0.5 * log_var.clamp(-12.0, 12.0))
            eps = torch.randn(mean.shape, generator=self.generator, device=x.device).to(mean.dtype)
            return mean + std * eps
        return output

    def posterior_mean(self, x):
        """The deterministic code: the posterior's mean."""
        if self.kind == "universal":
            n, draws = len(x), len(self.posterior_noise)
            noise = self.posterior_noise.to(x.dtype).repeat(n, 1)
            inputs = torch.cat([x.repeat_interleave(draws, dim=0), noise], dim=1)
            return self.body(inputs).view(n, draws, -1).mean(dim=1)
        output = self.body(x)
        if self.kind == "gaussian":
            return output[:, : self.n_components]
        return output

    def __getstate__(self):
        state = self.__dict__.copy()
        state["generator"] = None
        return state


class Decoder(nn.Module):
    """The decoder ``p(x | z)``: a body producing logits, and the output activation.

    Parameters
    ----------
    body : torch.nn.Module
    output : {"identity", "sigmoid"}
        Activation applied by :meth:`decode`. Training losses use the raw output
        (``forward``), so a binary cross-entropy works on logits and never saturates.
    """

    def __init__(self, body, output="identity"):
        super().__init__()
        self.body = body
        self.output = output

    def forward(self, z):
        return self.body(z)

    def decode(self, z):
        """Reconstructions in input space."""
        out = self.body(z)
        return torch.sigmoid(out) if self.output == "sigmoid" else out
