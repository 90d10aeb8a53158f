"""Network builders: encoders, decoders and discriminators.

The default networks are multilayer perceptrons; for images (an estimator's
``input_shape``) the encoder and decoder are convolutional. Every network takes
and returns flat rows, so images travel through skaae as rows of
``channels * height * width`` values. A user may pass their own
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

__all__ = [
    "make_mlp",
    "make_conv_encoder",
    "make_conv_decoder",
    "ConvEncoderBody",
    "Encoder",
    "Decoder",
    "GeneratorDropout",
    "build_body",
]

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


def conv_sizes(size, n_stages):
    """Side lengths through ``n_stages`` stride-2 convolutions: ``[size, ..., last]``.

    A 3x3 kernel with padding 1 and stride 2 maps a side ``s`` to ``ceil(s / 2)``,
    never below 1, so any image size works.
    """
    sizes = [int(size)]
    for _ in range(n_stages):
        sizes.append((sizes[-1] + 1) // 2)
    return sizes


def _activated(layer, activation, dropout):
    """``layer``, the activation and, if ``dropout > 0``, a dropout layer."""
    block = [layer, ACTIVATIONS[activation]()]
    if dropout > 0:
        block.append(GeneratorDropout(dropout))
    return block


class ConvEncoderBody(nn.Module):
    """A convolutional encoder body on flat rows: ``features`` on the image, then ``head``.

    Built by :func:`make_conv_encoder`. Each input row holds an image of
    ``input_shape`` (``channels * height * width`` values, C order) followed by
    ``n_extra_inputs`` values (the universal encoder's noise) that skip the
    convolutions and join their flattened output before the dense ``head``.
    """

    def __init__(self, input_shape, features, head, n_extra_inputs=0):
        super().__init__()
        self.input_shape = tuple(input_shape)
        self.n_extra_inputs = n_extra_inputs
        self.features = features
        self.head = head

    def image_features(self, x):
        """The flattened convolutional features of the image part of each row."""
        n_pixels = math.prod(self.input_shape)
        return self.features(x[:, :n_pixels].reshape(len(x), *self.input_shape)).flatten(1)

    def forward(self, x):
        features = self.image_features(x)
        if self.n_extra_inputs:
            features = torch.cat([features, x[:, -self.n_extra_inputs :]], dim=1)
        return self.head(features)

    def extra_repr(self):
        return f"input_shape={self.input_shape}, n_extra_inputs={self.n_extra_inputs}"


def make_conv_encoder(
    input_shape,
    n_outputs,
    *,
    channels=(32, 64, 128),
    hidden_layer_sizes=(),
    activation="relu",
    dropout=0.0,
    n_extra_inputs=0,
    device=None,
):
    """Build a convolutional encoder body that reads images stored as flat rows.

    Each entry of ``channels`` adds a ``Conv2d`` (3x3 kernel, stride 2,
    padding 1) that halves the height and width (rounding up), followed by the
    activation and dropout. The flattened feature map then goes through
    :func:`make_mlp` with ``hidden_layer_sizes`` to ``n_outputs``.

    Parameters
    ----------
    input_shape : tuple of int
        ``(channels, height, width)`` of the images; each input row holds
        ``channels * height * width`` values in that (C) order.
    n_outputs : int
    channels : sequence of int, default=(32, 64, 128)
        Output channels of the convolutions, from the image inwards.
    hidden_layer_sizes : sequence of int, default=()
        Dense layers between the convolutional features and the output.
    activation : {"relu", "leaky_relu", "tanh", "elu", "gelu"}, default="relu"
    dropout : float, default=0.0
        Dropout probability after each hidden activation.
    n_extra_inputs : int, default=0
        Values appended to each row after the image (the universal encoder's
        noise); they join the flattened convolutional features.
    device : torch.device or str, default=None
        ``"meta"`` allocates nothing and skips the initialisation.

    Returns
    -------
    ConvEncoderBody
        Maps ``(n, channels * height * width + n_extra_inputs)`` to ``(n, n_outputs)``.

    Examples
    --------
    >>> import torch
    >>> from skaae.networks import make_conv_encoder
    >>> body = make_conv_encoder((1, 28, 28), 2, channels=(8, 16))
    >>> body(torch.zeros(5, 784)).shape
    torch.Size([5, 2])
    """
    n_in, height, width = input_shape
    heights = conv_sizes(height, len(channels))
    widths = conv_sizes(width, len(channels))
    layers = []
    for out in channels:
        conv = nn.Conv2d(n_in, out, 3, stride=2, padding=1, device=device)
        layers += _activated(conv, activation, dropout)
        n_in = out
    n_features = n_in * heights[-1] * widths[-1]
    head = make_mlp(
        n_features + n_extra_inputs, hidden_layer_sizes, n_outputs,
        activation=activation, dropout=dropout, device=device,
    )
    return ConvEncoderBody(input_shape, nn.Sequential(*layers), head, n_extra_inputs)


def make_conv_decoder(
    n_inputs,
    input_shape,
    *,
    channels=(128, 64, 32),
    hidden_layer_sizes=(),
    activation="relu",
    dropout=0.0,
    device=None,
):
    """Build a convolutional decoder body that outputs images as flat rows.

    The mirror of :func:`make_conv_encoder`: :func:`make_mlp` with
    ``hidden_layer_sizes`` maps the input to a small feature map of
    ``channels[0]`` channels, and one ``ConvTranspose2d`` per entry of
    ``channels`` (3x3 kernel, stride 2) doubles its height and width, the last
    one to the image's channels. Each transposed convolution's output padding
    is chosen so that the sizes retrace the encoder's exactly: the output is
    ``input_shape`` for any image size, with no cropping.

    Parameters
    ----------
    n_inputs : int
    input_shape : tuple of int
        ``(channels, height, width)`` of the output images.
    channels : sequence of int, default=(128, 64, 32)
        Channels of the feature maps, from the code outwards (the encoder's
        ``channels`` reversed).
    hidden_layer_sizes : sequence of int, default=()
        Dense layers between the input and the first feature map.
    activation : {"relu", "leaky_relu", "tanh", "elu", "gelu"}, default="relu"
    dropout : float, default=0.0
        Dropout probability after each hidden activation.
    device : torch.device or str, default=None
        ``"meta"`` allocates nothing and skips the initialisation.

    Returns
    -------
    torch.nn.Sequential
        Maps ``(n, n_inputs)`` to ``(n, channels * height * width)``; the
        output layer has no activation (the decoder adds one for ``"bce"``).

    Examples
    --------
    >>> import torch
    >>> from skaae.networks import make_conv_decoder
    >>> body = make_conv_decoder(2, (3, 32, 32), channels=(16, 8))
    >>> body(torch.zeros(5, 2)).shape
    torch.Size([5, 3072])
    """
    n_out, height, width = input_shape
    heights = conv_sizes(height, len(channels))[::-1]
    widths = conv_sizes(width, len(channels))[::-1]
    n_map = channels[0] * heights[0] * widths[0]
    dense = make_mlp(
        n_inputs, hidden_layer_sizes, n_map, activation=activation, dropout=dropout, device=device
    )
    layers = [
        *_activated(dense, activation, dropout),
        nn.Unflatten(1, (channels[0], heights[0], widths[0])),
    ]
    targets = [*channels[1:], n_out]
    for stage, out in enumerate(targets):
        # ConvTranspose2d(3, stride 2, padding 1) maps s to 2s - 1 + output_padding;
        # this padding lands on the size the encoder's convolution started from.
        padding = (
            heights[stage + 1] - 2 * heights[stage] + 1,
            widths[stage + 1] - 2 * widths[stage] + 1,
        )
        layer = nn.ConvTranspose2d(
            channels[stage], out, 3, stride=2, padding=1, output_padding=padding, device=device
        )
        layers += [layer] if stage == len(targets) - 1 else _activated(layer, activation, dropout)
    layers.append(nn.Flatten(1))
    return nn.Sequential(*layers)


def build_body(spec, n_inputs, n_outputs, default, seed=0, role="network"):
    """Return the module for one network role.

    ``spec`` is ``None`` (use ``default()``), a ``torch.nn.Module`` (deep-copied so
    the user's object is never trained in place) or a factory called as
    ``spec(n_inputs, n_outputs)``. A factory initialises its layers from PyTorch's
    global generator; it runs inside a fork of that generator seeded with
    ``seed``, so the result is reproducible and the caller's global state is
    left as it was. A module from the user is tried on two rows of zeros before
    training, so that the wrong number of inputs or outputs is reported by
    ``role`` at ``fit``'s start rather than as a shape error mid-training.
    """
    if spec is None:
        return default()
    if isinstance(spec, nn.Module):
        module = copy.deepcopy(spec)
    elif callable(spec):
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            module = spec(n_inputs, n_outputs)
        if not isinstance(module, nn.Module):
            raise TypeError(
                f"The network factory {spec!r} returned {type(module).__name__}, "
                "expected a torch.nn.Module."
            )
    else:
        raise TypeError(
            f"A network must be None, a torch.nn.Module or a factory; got {type(spec).__name__}."
        )
    _check_shapes(module, role, n_inputs, n_outputs, seed)
    return module


def _check_shapes(module, role, n_inputs, n_outputs, seed):
    """Raise a ``ValueError`` naming ``role`` unless ``module`` maps ``n_inputs`` to ``n_outputs``."""
    parameter = next(module.parameters(), None)
    device = "cpu" if parameter is None or parameter.is_meta else parameter.device
    probe = torch.zeros(2, n_inputs, device=device)
    expected = f"the {role} must map rows of {n_inputs} values to rows of {n_outputs}"
    was_training = module.training
    # Evaluation mode, so that the probe leaves batch-norm statistics alone; a
    # forked generator, so that lazy layers initialise reproducibly.
    module.eval()
    try:
        with torch.no_grad(), torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            output = module(probe)
    except Exception as error:  # any failure here is the module's shape contract
        raise ValueError(f"The custom {role} failed on a batch of 2 rows: {expected} "
                         f"({type(error).__name__}: {error}).") from error
    finally:
        module.train(was_training)
    if not isinstance(output, torch.Tensor) or tuple(output.shape) != (2, n_outputs):
        got = tuple(output.shape) if isinstance(output, torch.Tensor) else type(output).__name__
        raise ValueError(
            f"The custom {role} returned {got} for a batch of 2 rows; {expected}, "
            f"that is an output of shape (2, {n_outputs})."
        )


def init_parameters(module, generator):
    """Re-initialise every ``nn.Linear`` / convolution of ``module`` from ``generator``.

    Uses PyTorch's default scheme (uniform in ``+-1/sqrt(fan_in)``) so results
    match a stock network, but draws from the local generator.
    """
    with torch.no_grad():
        for layer in module.modules():
            if isinstance(layer, (nn.Linear, nn.modules.conv._ConvNd)):
                # PyTorch's fan-in is weight.size(1) times the kernel size for every
                # layer. For a transposed convolution, whose weight is laid out
                # (in, out / groups, *kernel), that is the output channels:
                # matched here as it is, so a built-in network starts like a stock one.
                fan_in = layer.weight[0].numel()
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
            if isinstance(self.body, ConvEncoderBody):
                # The convolutions never see the noise: run them once per image
                # rather than once per draw.
                features = self.body.image_features(x).repeat_interleave(draws, dim=0)
                outputs = self.body.head(torch.cat([features, noise], dim=1))
                return outputs.view(n, draws, -1).mean(dim=1)
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


class ClusterHeads(nn.Module):
    """Learned cluster heads: one point per category in the representation space.

    The representation of a sample (paper section 7) is its category's head
    plus its style code; soft categories (probabilities) mix the heads. Heads
    start spread at random over a ball about wide enough to hold them
    ``distance`` apart, and :meth:`crowding` pushes apart any two closer than
    ``distance``, linearly, as the paper's cost does.

    Parameters
    ----------
    n_categories, n_dimensions : int
    distance : float
        The least distance between two heads that costs nothing.
    generator : torch.Generator
        Draws the initial heads.
    """

    def __init__(self, n_categories, n_dimensions, distance, generator):
        super().__init__()
        self.distance = float(distance)
        # Stored in units of ``distance``: Adam moves a parameter by about its
        # learning rate per step, so heads stored in data units would crawl.
        # The start spreads them over a ball that holds them at that spacing.
        radius = (n_categories ** (1 / n_dimensions)) / 2
        start = torch.randn(n_categories, n_dimensions, generator=generator)
        self.scaled_heads = nn.Parameter(start * radius / math.sqrt(n_dimensions))

    @property
    def heads(self):
        """The heads, ``(n_categories, n_dimensions)``, in the representation's units."""
        return self.scaled_heads * self.distance

    def forward(self, categories, style):
        return categories.to(style.dtype) @ self.heads.to(style.dtype) + style

    def crowding(self):
        """``max(0, distance - |h_i - h_j|) / distance`` summed over the pairs of heads.

        Summed, not averaged: a head too close to another must move however
        many heads there are, against the reconstruction's pull.
        """
        heads = self.heads.float()
        gaps = torch.pdist(heads) if len(heads) > 1 else heads.new_zeros(1)
        return torch.relu(self.distance - gaps).sum() / self.distance
