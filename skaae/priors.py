"""Priors: the distributions an adversarial autoencoder imposes on its code.

A prior draws ``(n_samples, n_dims)`` tensors from a local :class:`torch.Generator`,
so sampling never touches PyTorch's global random state. Priors with several
modes accept per-sample ``labels``: sample ``i`` then comes from mode
``labels[i]``, and ``-1`` draws from the whole prior (the paper's label-aware
regularisation, Fig. 3).

Strings accepted by the estimators' ``prior`` parameter map to the classes here:
``"gaussian"``, ``"mixture"``, ``"umbrella"``, ``"swiss_roll"``, ``"uniform"``.
Any object with a ``sample`` method, or a callable ``f(n_samples, random_state)``,
works too (see :func:`make_prior`).
"""

import copy
import inspect
import math
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.exceptions import NotFittedError
from sklearn.frozen import FrozenEstimator
from sklearn.utils.validation import check_is_fitted

__all__ = [
    "Prior",
    "GaussianPrior",
    "MixturePrior",
    "UmbrellaPrior",
    "SwissRollPrior",
    "UniformPrior",
    "CategoricalPrior",
    "make_prior",
]


def _check_positive(name, value):
    if (
        not isinstance(value, Real)
        or isinstance(value, bool)
        or not (value > 0 and math.isfinite(value))
    ):
        raise ValueError(f"{name} must be a positive number and finite, got {value!r}.")


class Prior:
    """Base class of the priors.

    Subclasses implement :meth:`_draw`. ``n_modes`` is the number of
    components a label can pick (1 for a single-mode prior).
    """

    n_modes = 1

    def sample(self, n_samples, n_dims, *, generator, labels=None):
        """Draw ``n_samples`` points of dimension ``n_dims``.

        Parameters
        ----------
        n_samples : int
            Number of points.
        n_dims : int
            Dimension of each point (the code size).
        generator : torch.Generator
            Source of randomness; the samples live on its device.
        labels : torch.Tensor of shape (n_samples,), dtype int64, optional
            Mode of each point; ``-1`` draws from the whole prior.

        Returns
        -------
        torch.Tensor of shape (n_samples, n_dims), float32
        """
        if labels is not None and self.n_modes == 1:
            labels = None
        return self._draw(int(n_samples), int(n_dims), generator, labels)

    def check_dims(self, n_dims):
        """Raise ``ValueError`` when the prior cannot live in ``n_dims`` dimensions."""

    def _modes(self, n_samples, generator, labels):
        # Unlabeled points (and all points when no labels are given) pick a
        # mode uniformly, so the marginal is the full mixture.
        modes = torch.randint(
            self.n_modes, (n_samples,), generator=generator, device=generator.device
        )
        if labels is not None:
            labels = labels.to(generator.device)
            modes = torch.where(labels >= 0, labels, modes)
        return modes

    def __repr__(self):
        params = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"{type(self).__name__}({params})"


class GaussianPrior(Prior):
    """Isotropic Gaussian ``N(0, scale**2 I)``.

    Parameters
    ----------
    scale : float, default=1.0
        Standard deviation of every dimension.
    """

    def __init__(self, scale=1.0):
        _check_positive("scale", scale)
        self.scale = scale

    def _draw(self, n_samples, n_dims, generator, labels):
        return self.scale * torch.randn(
            n_samples, n_dims, generator=generator, device=generator.device
        )


class MixturePrior(Prior):
    """Mixture of ``n_modes`` equally weighted isotropic Gaussians (the paper's Fig. 4).

    In 2-D the means sit on a circle of radius ``radius``. When the code has at
    least ``n_modes`` dimensions, mode ``k`` is centred at ``radius * e_k`` so that
    all modes are equally far apart; otherwise the circle lies in the first two
    dimensions and the other dimensions are centred at zero.

    Parameters
    ----------
    n_modes : int, default=10
        Number of components.
    radius : float, default=4.0
        Distance of every mean from the origin.
    scale : float, default=0.5
        Standard deviation of each component.
    """

    def __init__(self, n_modes=10, radius=4.0, scale=0.5):
        if not isinstance(n_modes, Integral) or n_modes < 1:
            raise ValueError(f"n_modes must be a positive integer, got {n_modes!r}.")
        _check_positive("radius", radius)
        _check_positive("scale", scale)
        self.n_modes = int(n_modes)
        self.radius = radius
        self.scale = scale

    def means(self, n_dims, device="cpu"):
        """Centres of the modes, shape ``(n_modes, n_dims)``."""
        centres = torch.zeros(self.n_modes, n_dims, device=device)
        if n_dims >= self.n_modes and self.n_modes > 1:
            centres[:, : self.n_modes] = self.radius * torch.eye(self.n_modes, device=device)
        elif n_dims == 1:
            centres[:, 0] = torch.linspace(-self.radius, self.radius, self.n_modes, device=device)
        else:
            angle = self._angles(device)
            centres[:, 0] = self.radius * torch.cos(angle)
            centres[:, 1] = self.radius * torch.sin(angle)
        return centres

    def _angles(self, device):
        return 2 * math.pi * torch.arange(self.n_modes, device=device) / self.n_modes

    def _draw(self, n_samples, n_dims, generator, labels):
        modes = self._modes(n_samples, generator, labels)
        noise = torch.randn(n_samples, n_dims, generator=generator, device=generator.device)
        return self.means(n_dims, generator.device)[modes] + self.scale * noise


class UmbrellaPrior(MixturePrior):
    """Mixture of elongated Gaussians arranged like the ribs of an umbrella.

    Each mode is an ellipse whose long axis points away from the origin: its
    centre lies at ``radius`` on a circle in the first two dimensions, with
    standard deviation ``radial_scale`` along the radius and ``scale`` across it
    (and in the remaining dimensions). Needs at least two dimensions.

    Parameters
    ----------
    n_modes : int, default=10
    radius : float, default=4.0
    scale : float, default=0.3
        Standard deviation across each rib.
    radial_scale : float, default=1.2
        Standard deviation along each rib.
    """

    def __init__(self, n_modes=10, radius=4.0, scale=0.3, radial_scale=1.2):
        super().__init__(n_modes=n_modes, radius=radius, scale=scale)
        _check_positive("radial_scale", radial_scale)
        self.radial_scale = radial_scale

    def check_dims(self, n_dims):
        if n_dims < 2:
            raise ValueError("UmbrellaPrior needs a code of at least 2 dimensions.")

    def _draw(self, n_samples, n_dims, generator, labels):
        device = generator.device
        modes = self._modes(n_samples, generator, labels)
        noise = torch.randn(n_samples, n_dims, generator=generator, device=device)
        along = self.radius + self.radial_scale * noise[:, 0]
        across = self.scale * noise[:, 1]
        angle = self._angles(device)[modes]
        cos, sin = torch.cos(angle), torch.sin(angle)
        points = self.scale * noise
        points[:, 0] = along * cos - across * sin
        points[:, 1] = along * sin + across * cos
        return points


class SwissRollPrior(Prior):
    """A 2-D swiss roll; with labels, mode ``k`` is the ``k``-th of ``n_modes`` equal arcs.

    Dimensions beyond the second carry Gaussian noise of standard deviation
    ``noise``. Needs at least two dimensions.

    Parameters
    ----------
    n_modes : int, default=10
    turns : float, default=1.5
        Number of turns of the spiral.
    radius : float, default=4.0
        Radius of the outer end.
    noise : float, default=0.1
        Standard deviation of the noise around the curve.
    """

    def __init__(self, n_modes=10, turns=1.5, radius=4.0, noise=0.1):
        if not isinstance(n_modes, Integral) or n_modes < 1:
            raise ValueError(f"n_modes must be a positive integer, got {n_modes!r}.")
        _check_positive("turns", turns)
        _check_positive("radius", radius)
        _check_positive("noise", noise)
        self.n_modes = int(n_modes)
        self.turns = turns
        self.radius = radius
        self.noise = noise

    def check_dims(self, n_dims):
        if n_dims < 2:
            raise ValueError("SwissRollPrior needs a code of at least 2 dimensions.")

    def _draw(self, n_samples, n_dims, generator, labels):
        device = generator.device
        modes = self._modes(n_samples, generator, labels)
        offset = torch.rand(n_samples, generator=generator, device=device)
        # Position along the roll in (0, 1]; sqrt keeps the density even along the arc.
        position = torch.sqrt((modes + offset) / self.n_modes).clamp_min(1e-3)
        angle = 2 * math.pi * self.turns * position
        points = self.noise * torch.randn(n_samples, n_dims, generator=generator, device=device)
        points[:, 0] += self.radius * position * torch.cos(angle)
        points[:, 1] += self.radius * position * torch.sin(angle)
        return points


class UniformPrior(Prior):
    """Uniform on the cube ``[-scale, scale]**n_dims``.

    Parameters
    ----------
    scale : float, default=1.0
    """

    def __init__(self, scale=1.0):
        _check_positive("scale", scale)
        self.scale = scale

    def _draw(self, n_samples, n_dims, generator, labels):
        unit = torch.rand(n_samples, n_dims, generator=generator, device=generator.device)
        return self.scale * (2 * unit - 1)


class CategoricalPrior(Prior):
    """One-hot vectors of a uniformly drawn category (``n_dims`` categories)."""

    def _draw(self, n_samples, n_dims, generator, labels):
        categories = torch.randint(
            n_dims, (n_samples,), generator=generator, device=generator.device
        )
        return torch.nn.functional.one_hot(categories, n_dims).float()


class _UserPrior(Prior):
    """Adapter for a user's sampler: ``obj.sample(n)`` or ``f(n, random_state)``.

    The sampler returns an array-like of shape ``(n_samples, n_dims)`` (or a tuple
    whose first item is that, as :meth:`sklearn.mixture.GaussianMixture.sample`
    returns). It receives a :class:`numpy.random.RandomState` seeded from the
    torch generator when it accepts ``random_state``.
    """

    def __init__(self, sampler):
        self.sampler = sampler
        # FrozenEstimator (what survives clone) delegates sample() to the fitted
        # estimator, whose own random_state it ignores: draw from that estimator.
        if isinstance(sampler, FrozenEstimator):
            sampler = sampler.estimator
        self._drawn_from = sampler
        if hasattr(sampler, "fit") and hasattr(sampler, "sample"):
            try:
                check_is_fitted(sampler)
            except NotFittedError:
                raise ValueError(
                    f"The prior {sampler!r} is an unfitted estimator. Fit it first; inside "
                    "cross_val_score, a search or any other clone(), wrap the fitted prior in "
                    "sklearn.frozen.FrozenEstimator, since clone() returns unfitted copies "
                    "of estimators."
                ) from None

    def _call(self, n_samples, random_state):
        function = getattr(self._drawn_from, "sample", self._drawn_from)
        try:
            accepts_state = "random_state" in inspect.signature(function).parameters
        except (TypeError, ValueError):
            accepts_state = False
        if accepts_state:
            return function(n_samples, random_state=random_state)
        if hasattr(self._drawn_from, "random_state") and hasattr(self._drawn_from, "sample"):
            # A fitted scikit-learn sampler (GaussianMixture, KernelDensity) reads its
            # own random_state; a shallow copy with a fresh state per draw keeps the
            # user's object untouched and the draws new at every mini-batch.
            sampler = copy.copy(self._drawn_from)
            sampler.random_state = random_state
            return sampler.sample(n_samples)
        return function(n_samples)

    def _draw(self, n_samples, n_dims, generator, labels):
        seed = int(torch.randint(2**31 - 1, (1,), generator=generator, device=generator.device))
        drawn = self._call(n_samples, np.random.RandomState(seed))
        if isinstance(drawn, tuple):
            drawn = drawn[0]
        points = torch.as_tensor(np.asarray(drawn, dtype=np.float32), device=generator.device)
        if points.ndim == 1 and n_dims == 1:
            points = points[:, None]
        if points.shape != (n_samples, n_dims):
            raise ValueError(
                f"The prior {self.sampler!r} returned an array of shape "
                f"{tuple(points.shape)}; expected ({n_samples}, {n_dims})."
            )
        if not torch.isfinite(points).all():
            raise ValueError(f"The prior {self.sampler!r} returned NaN or infinite values.")
        return points


PRIOR_NAMES = ("gaussian", "mixture", "umbrella", "swiss_roll", "uniform")


def make_prior(spec, n_modes=10):
    """Turn the ``prior`` parameter of an estimator into a :class:`Prior`.

    Parameters
    ----------
    spec : str, Prior, object with ``sample`` or callable
        A name from ``"gaussian"``, ``"mixture"``, ``"umbrella"``, ``"swiss_roll"``,
        ``"uniform"``; a :class:`Prior`; or a user's sampler.
    n_modes : int, default=10
        Number of modes for the named multi-modal priors.

    Returns
    -------
    Prior

    Examples
    --------
    >>> import torch
    >>> from skaae.priors import make_prior
    >>> prior = make_prior("mixture", n_modes=3)
    >>> prior.sample(5, 2, generator=torch.Generator().manual_seed(0)).shape
    torch.Size([5, 2])
    """
    if isinstance(spec, Prior):
        return spec
    if isinstance(spec, str):
        named = {
            "gaussian": lambda: GaussianPrior(),
            "mixture": lambda: MixturePrior(n_modes=n_modes),
            "umbrella": lambda: UmbrellaPrior(n_modes=n_modes),
            "swiss_roll": lambda: SwissRollPrior(n_modes=n_modes),
            "uniform": lambda: UniformPrior(),
        }
        if spec not in named:
            raise ValueError(
                f"Unknown prior {spec!r}; choose one of {', '.join(map(repr, PRIOR_NAMES))}, "
                "pass a skaae.priors.Prior, an object with a sample method, or a callable."
            )
        return named[spec]()
    if hasattr(spec, "sample") or callable(spec):
        return _UserPrior(spec)
    raise TypeError(
        f"prior must be a name, a skaae.priors.Prior, an object with a sample method "
        f"or a callable; got {type(spec).__name__}."
    )
