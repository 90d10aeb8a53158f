"""What every skaae estimator shares: validation, devices, fitting through the
engine, encoding and decoding in large no-grad batches, scoring and pickling.

Subclasses say which networks they build (:meth:`_build_networks`) and which
steps train them (:meth:`_make_steps`); none has a training loop of its own.
"""

import copy
import math
import os
import warnings
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import assert_all_finite, check_array, check_random_state
from sklearn.utils._param_validation import HasMethods, Hidden, Interval, StrOptions
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import check_consistent_length, column_or_1d, check_is_fitted, validate_data

from ._attributes import check_attributes, fit_code_map
from ._checkpoint import (
    Checkpoint, fingerprint, load_matching, numpy_state, restore_numpy_state, to_device,
    with_current_step_names,
)
from ._data import MappedRows, is_memory_mapped, take_rows, value_range
from ._distributed import data_parallel, rank_device
from ._engine import (
    EarlyStopping,
    LearningRateDecay,
    Step,
    TrainingDivergedError,
    TrainingEngine,
    WeightAveraging,
)
from ._losses import reconstruction_error
from .networks import (
    ACTIVATIONS, build_body, init_parameters, make_conv_decoder, make_conv_encoder, make_mlp,
    set_generator,
)
from .priors import PRIOR_NAMES, Prior

#: Rows per forward pass at inference: enough to keep the matrix units busy,
#: few enough that encoding a single sample stays cheap.
INFERENCE_BATCH_SIZE = 256

UNLABELED = -1

#: The training phases: the name of each step (in ``history_``, progress output
#: and errors), the loss weight that is its one knob (the step runs at
#: ``learning_rate_init * weight``; 0 leaves it out), and the learning-rate
#: parameter deprecated in 0.2 in its favour.
PHASES = {
    "reconstruction": ("reconstruction_weight", "reconstruction_learning_rate"),
    "discriminator": ("discriminator_weight", "discriminator_learning_rate"),
    # The encoder's step against the discriminator (the generator of the GAN
    # game); named "generator" in history_ and checkpoints before 0.2.
    "adversarial": ("adversarial_weight", "generator_learning_rate"),
    "classification": ("classification_weight", "classification_learning_rate"),
    "neighbors": ("neighbor_weight", None),
    "consistency": ("consistency_weight", None),
}

#: The deprecated per-phase learning rates accept a rate (or None, their old default).
_DEPRECATED_RATE = [Interval(Real, 0, None, closed="neither"), None, Hidden(StrOptions({"deprecated"}))]


def _is_dask_ml_placeholder(y):
    """Whether ``y`` is what dask-ml's ``Incremental.fit(X)`` passes for a missing ``y``.

    dask-ml builds its task graph with the key ``("", block)`` where an unlabeled
    fit has no ``y`` block, and dask hands that key to ``partial_fit`` as it is.
    Read as labels it would fail; it means "no labels".
    """
    return (
        isinstance(y, tuple) and len(y) == 2 and isinstance(y[0], str) and y[0] == ""
        and isinstance(y[1], Integral)
    )


def resolve_device(device):
    """Turn the ``device`` parameter into a :class:`torch.device`, or raise ``ValueError``."""
    if isinstance(device, str) and device == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError) as error:
        raise ValueError(
            f"device={device!r} is not a valid device; use 'auto', 'cpu', 'cuda', "
            f"'cuda:N' or 'mps'. ({error})"
        ) from None
    if resolved.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(
                f"device={device!r} was requested but CUDA is not available "
                "(torch.cuda.is_available() is False: no GPU, or a CPU-only PyTorch build). "
                "Use device='cpu', or device='auto' to take a GPU only when there is one."
            )
        if resolved.index is not None and resolved.index >= torch.cuda.device_count():
            raise ValueError(
                f"device={device!r} was requested but only {torch.cuda.device_count()} "
                "CUDA device(s) are visible."
            )
    elif resolved.type == "mps":
        if getattr(torch.backends, "mps", None) is None or not torch.backends.mps.is_available():
            raise ValueError(f"device={device!r} was requested but MPS is not available.")
    elif resolved.type != "cpu":
        raise ValueError(f"device={device!r} is not supported; use 'cpu', 'cuda' or 'mps'.")
    return resolved


def _check_layer_sizes(name, sizes):
    sizes = list(sizes) if np.iterable(sizes) else [sizes]
    if not all(isinstance(s, Integral) and not isinstance(s, bool) and s > 0 for s in sizes):
        raise ValueError(f"{name} must be a sequence of positive integers, got {sizes!r}.")
    return [int(s) for s in sizes]


def _check_input_shape(input_shape, n_features):
    """``input_shape`` as a tuple of three ints that hold ``n_features`` values, or None."""
    if input_shape is None:
        return None
    shape = tuple(input_shape) if np.iterable(input_shape) else (input_shape,)
    if len(shape) != 3 or not all(
        isinstance(s, Integral) and not isinstance(s, bool) and s > 0 for s in shape
    ):
        raise ValueError(
            "input_shape must be (channels, height, width), three positive integers "
            f"(for example (1, 28, 28) for grey images); got {input_shape!r}."
        )
    shape = tuple(int(s) for s in shape)
    if np.prod(shape) != n_features:
        raise ValueError(
            f"input_shape={shape} holds {int(np.prod(shape))} values per image, but X has "
            f"{n_features} features; each row of X must be one image flattened in "
            "(channels, height, width) order."
        )
    return shape


def check_no_missing_labels(y):
    """Raise a ``ValueError`` if an object array of labels holds None or NaN.

    pandas marks a missing label so; without this check ``np.unique`` fails on
    comparing a string with a float, which says nothing about the data.
    """
    y = np.asarray(y)
    if y.dtype.kind != "O":
        return
    missing = np.fromiter(
        (v is None or (isinstance(v, (float, np.floating)) and not np.isfinite(v))
         for v in y.ravel()), bool, y.size,
    )
    if missing.any():
        raise ValueError(
            f"y contains {int(missing.sum())} missing label(s) (None or NaN), the first "
            f"at position {int(np.flatnonzero(missing)[0])}. Mark samples without a label "
            f"with {UNLABELED} (where the estimator accepts unlabeled samples) or leave "
            "them out."
        )


def _partial_fit_classes(classes):
    """The ``classes`` argument of ``partial_fit``, sorted, without ``-1``.

    ``-1`` marks an unlabeled sample and is never a class; ``np.unique(y)`` of
    partly labeled ``y`` holds it, and a user passing that means the others.
    """
    classes = np.asarray(classes)
    if classes.ndim != 1:
        raise ValueError(
            f"classes must be a one-dimensional array of labels; got shape {classes.shape}."
        )
    if classes.dtype.kind in "iuf":
        classes = classes[classes != UNLABELED]
    if len(classes) == 0:
        raise ValueError("classes holds no class (-1 marks unlabeled samples, not a class).")
    return np.unique(classes)


def _labels_nothing(y):
    """Whether ``y`` holds samples and marks every one unlabeled (-1)."""
    y = np.asarray(y)
    return y.size > 0 and bool(np.all(y == UNLABELED))


def _is_fitted_state(name):
    """Whether the attribute ``name`` belongs to a fit: what a new fit starts without."""
    return (name.endswith("_") and not name.startswith("__")) or name in (
        "_networks", "_optimizers", "_random_state",
    )


def labels_per_row(y, n_rows):
    """``y`` as one label per row: a single label is repeated ``n_rows`` times.

    For ``sample``, ``inverse_transform`` and their kind, which take one label
    for all rows or one per row.
    """
    y = np.asarray(y)
    if y.ndim == 0:
        return np.full(n_rows, y)
    if y.ndim != 1 or len(y) != n_rows:
        raise ValueError(
            f"y must be one label or one per row; got an array of shape {y.shape} for "
            f"{n_rows} rows."
        )
    return y


class BaseAAE(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Base class of the adversarial autoencoders. Not for direct use.

    Every skaae estimator is a transformer: ``transform`` returns its code.
    """

    #: Whether fit works without labels and uses them when given (the plain
    #: autoencoder's label-aware prior); ``partial_fit`` then reads a y of only
    #: -1 as no labels (see ``_labels_nothing_new``).
    _labels_optional = False

    _parameter_constraints: dict = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "prior": [StrOptions(set(PRIOR_NAMES)), Prior, HasMethods(["sample"]), callable],
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "input_shape": [None, "array-like"],
        "conv_channels": ["array-like", Interval(Integral, 1, None, closed="left")],
        "discriminator_hidden_layer_sizes": [
            "array-like",
            Interval(Integral, 1, None, closed="left"),
        ],
        "activation": [StrOptions(set(ACTIVATIONS))],
        "encoder_type": [StrOptions({"deterministic", "gaussian", "universal"})],
        "noise_dim": [Interval(Integral, 1, None, closed="left")],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "input_noise": [Interval(Real, 0, None, closed="left")],
        "discriminator_noise": [Interval(Real, 0, None, closed="left")],
        "reconstruction_loss": [StrOptions({"mse", "bce", "auto"})],
        "reconstruction_weight": [Interval(Real, 0, None, closed="left")],
        "adversarial_weight": [Interval(Real, 0, None, closed="left")],
        "discriminator_weight": [Interval(Real, 0, None, closed="left")],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "reconstruction_learning_rate": _DEPRECATED_RATE,
        "discriminator_learning_rate": _DEPRECATED_RATE,
        "generator_learning_rate": _DEPRECATED_RATE,
        "beta_1": [Interval(Real, 0, 1, closed="left")],
        "beta_2": [Interval(Real, 0, 1, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "warm_start": ["boolean"],
        "weight_averaging": [Interval(Real, 0, 1, closed="left")],
        "learning_rate_decay": [Interval(Real, 0, 1, closed="left")],
        "precision": [StrOptions({"float32", "bfloat16", "auto"})],
        "encoder": [None, torch.nn.Module, callable],
        "decoder": [None, torch.nn.Module, callable],
        "discriminator": [None, torch.nn.Module, callable],
        "device": [str, torch.device],
        "verbose": ["verbose"],
        "random_state": ["random_state"],
        "checkpoint": [None, str, os.PathLike],
    }

    # -- networks ----------------------------------------------------------
    def _default_bodies(self, n_features, encoder_out, decoder_in, n_noise=0):
        """Builders of the default encoder and decoder bodies, on the meta device.

        Convolutional for images (``input_shape``), multilayer perceptrons
        otherwise; ``hidden_layer_sizes`` are the encoder's dense layers either way,
        mirrored in the decoder. ``n_noise`` noise inputs follow the data in each
        encoder input row (the universal encoder).
        """
        hidden = _check_layer_sizes("hidden_layer_sizes", self.hidden_layer_sizes)
        # Checked even when custom networks leave it unused: a wrong shape is a mistake.
        shape = _check_input_shape(self.input_shape, n_features)
        options = dict(activation=self.activation, dropout=self.dropout, device="meta")
        if shape is None:
            return (
                lambda: make_mlp(n_features + n_noise, hidden, encoder_out, **options),
                lambda: make_mlp(decoder_in, hidden[::-1], n_features, **options),
            )
        channels = _check_layer_sizes("conv_channels", self.conv_channels)
        return (
            lambda: make_conv_encoder(
                shape, encoder_out, channels=channels, hidden_layer_sizes=hidden,
                n_extra_inputs=n_noise, **options,
            ),
            lambda: make_conv_decoder(
                decoder_in, shape, channels=channels[::-1], hidden_layer_sizes=hidden[::-1],
                **options,
            ),
        )

    def _default_critic(self, n_inputs):
        """Builder of a default discriminator body (``n_inputs -> 1`` logit), on the meta device."""
        hidden = _check_layer_sizes(
            "discriminator_hidden_layer_sizes", self.discriminator_hidden_layer_sizes
        )
        return lambda: make_mlp(n_inputs, hidden, 1, activation=self.activation, device="meta")

    def _build_model(self, n_features, generator, classes, reconstruction_loss):
        """The prior and the networks of a new model: ``(prior, networks)``.

        Sets no attribute: ``fit`` assigns them with the rest of its fitted
        state, and :func:`skaae.load` rebuilds a stored model's shapes with it.
        Subclasses say which networks they have (:meth:`_build_networks`).
        """
        # Checked first, also for custom discriminators: a wrong value is a mistake.
        self._default_critic(1)
        prior = self._make_prior(classes)
        prior.check_dims(self.n_components)
        output = "sigmoid" if reconstruction_loss == "bce" else "identity"
        return prior, self._build_networks(n_features, generator, classes, output)

    def _build_bodies(self, generator, specs):
        """Build the network bodies of ``specs``, reproducibly from ``generator``.

        ``specs`` maps each role to ``(custom, n_inputs, n_outputs, default)``:
        the user's module or factory (or None) and the builder of the default
        body. Every model builds its bodies this way, so that the same
        ``random_state`` gives the same initial weights: one draw seeds the
        user's factories (one seed per role, in order); default bodies are built
        on the meta device (no draw from PyTorch's global generator) and then
        initialised from ``generator``, in the order of ``specs``.
        """
        factory_seed = int(torch.randint(2**31 - 1, (1,), generator=generator))
        bodies = {
            role: build_body(custom, n_inputs, n_outputs, default, seed=factory_seed + i, role=role)
            for i, (role, (custom, n_inputs, n_outputs, default)) in enumerate(specs.items())
        }
        for role, (custom, *_) in specs.items():
            if custom is None:
                bodies[role].to_empty(device="cpu")
                init_parameters(bodies[role], generator)
        return bodies

    # -- input ------------------------------------------------------------
    def _resolve_reconstruction_loss(self, X):
        """The reconstruction loss to train with: ``"auto"`` picks the binary
        cross-entropy when every value of ``X`` lies in [0, 1] (pixel
        intensities, proportions) and the squared error otherwise."""
        if self.reconstruction_loss != "auto":
            return self.reconstruction_loss
        if X.size == 0:
            return "bce"
        low, high = value_range(X)
        return "bce" if low >= 0 and high <= 1 else "mse"

    def _validate_X(self, X, *, reset, training=False):
        # A memory-mapped X stays on disk (skaae._data): its finiteness is checked
        # below, a block at a time with the range, instead of by reading it whole.
        mapped = is_memory_mapped(X)
        X = validate_data(
            self,
            X,
            reset=reset,
            dtype=[np.float64, np.float32],
            ensure_min_samples=2 if reset else 1,
            ensure_all_finite=not mapped,
        )
        name = type(self).__name__

        def check_finite(block):
            assert_all_finite(block, input_name="X", estimator_name=name)

        # min and max, not abs: no temporary the size of X.
        low, high = value_range(X, check_finite if mapped else None) if X.size else (0.0, 0.0)
        largest = max(-low, high)
        if largest > np.finfo(np.float32).max:
            raise ValueError(
                f"X holds values beyond float32's range (largest magnitude {largest:.4g}); "
                "the networks compute in float32, where they become infinite. Scale X "
                "first, for example with sklearn.preprocessing.StandardScaler."
            )
        # A first fit checks the loss asked for ("auto" adapts to X); a continued
        # fit, the loss the first one resolved.
        loss = self.reconstruction_loss if reset else getattr(self, "reconstruction_loss_", None)
        if training and loss == "bce" and (low < 0 or high > 1):
            raise ValueError(
                "reconstruction_loss='bce' needs every value of X in [0, 1]; got values in "
                f"[{low:.4g}, {high:.4g}]. Scale X first (for example with "
                "sklearn.preprocessing.MinMaxScaler) or use reconstruction_loss='mse'."
            )
        return X

    def _encode_labels(self, y, classes=None):
        """Map ``y`` to class indices, with ``-1`` (unlabeled) kept as ``-1``.

        Returns ``(codes, classes)``: with ``classes=None`` (a first fit), the
        classes are those of ``y``, sorted, ``-1`` left out.
        """
        y = np.asarray(y)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        if y.ndim != 1:
            raise ValueError(f"y must be one-dimensional, got an array of shape {y.shape}.")
        if y.dtype.kind in "fc" and not np.all(np.isfinite(y)):
            raise ValueError("y contains NaN or infinite values.")
        if y.dtype.kind in "iuf":
            unlabeled = y == UNLABELED
        elif y.dtype.kind == "O":
            check_no_missing_labels(y)
            # String labels may mark unlabeled samples with the integer -1.
            unlabeled = np.fromiter(
                (isinstance(v, (int, np.integer)) and v == UNLABELED for v in y), bool, len(y)
            )
        else:
            unlabeled = np.zeros(len(y), bool)
        # The type check sorts the values: leave the -1 markers out of it, since
        # they do not sort with string labels.
        target_type = type_of_target(y[~unlabeled], input_name="y") if (~unlabeled).any() else None
        if target_type in ("continuous", "continuous-multioutput"):
            raise ValueError(
                "Unknown label type: y must hold class labels (-1 marks an unlabeled "
                "sample); got continuous values. Pass integer or string labels."
            )
        if classes is None:
            classes = np.unique(y[~unlabeled])
            if len(classes) == 0:
                raise ValueError(
                    "y has no labeled sample: every entry is -1. Pass y=None to fit "
                    "without labels."
                )
        codes = np.full(len(y), UNLABELED, dtype=np.int64)
        known = ~unlabeled
        known[known] = np.isin(y[known], classes)
        unseen = ~known & ~unlabeled
        if unseen.any():
            raise ValueError(
                f"y contains labels not seen at the first fit: {np.unique(y[unseen])[:10]!r}; "
                f"known classes are {classes!r}."
            )
        codes[known] = np.searchsorted(classes, y[known])
        return codes, classes

    # -- devices and randomness ----------------------------------------------
    def _autocast_dtype(self, device):
        if self.precision == "float32":
            return None
        if self.precision == "auto":
            return torch.bfloat16 if _bf16_is_fast(device) else None
        return torch.bfloat16

    def _to_tensor(self, X):
        if is_memory_mapped(X):
            # Read a mini-batch at a time, never copied whole (skaae._data).
            return MappedRows(X, self.device_)
        return torch.as_tensor(np.asarray(X, dtype=np.float32)).to(self.device_)

    # -- fitting -----------------------------------------------------------
    def _fit(self, X, y=None, *, attributes=None, n_epochs=None, incremental=False, classes=None):
        if incremental and (_is_dask_ml_placeholder(y) or self._labels_nothing_new(y, classes)):
            y = None
        first_fit = not ((self.warm_start or incremental) and hasattr(self, "encoder_"))
        self._warn_deprecated_rates()
        # The fit runs on a copy, which the estimator takes over only once
        # training has succeeded (as KMeans assigns its fitted attributes at its
        # end): a failed fit leaves it as it was, unfitted or fitted, with nothing
        # half-set. A first fit's copy starts with no fitted state; a continued
        # fit's shares the networks, which it trains in place.
        # Not copy.copy: it goes through __getstate__, which drops the optimizers.
        work = object.__new__(type(self))
        vars(work).update(
            (name, value) for name, value in vars(self).items()
            if not (first_fit and _is_fitted_state(name))
        )
        try:
            X, labels, classes = work._validate_training_data(X, y, first_fit, classes)
            attributes = work._validate_attributes(attributes, len(X), first_fit)
            work._train(X, labels, classes, attributes, first_fit, n_epochs, incremental)
        except BaseException:
            if not first_fit:
                # The epochs that finished before a failure count: the networks
                # keep their weights (see TrainingEngine), and history_ says so.
                self.history_, self._optimizers = work.history_, work._optimizers
            raise
        vars(self).clear()
        vars(self).update(vars(work))
        return self

    def _labels_nothing_new(self, y, classes):
        """Whether a ``partial_fit`` call's ``y`` means "no labels" for this model.

        dask-ml's searches (``HyperbandSearchCV``) cannot call ``partial_fit``
        without a ``y``; for a model whose labels are optional and which has none
        yet, a ``y`` that labels no sample (only -1) says what ``y=None`` says.
        """
        return (
            self._labels_optional and classes is None
            and getattr(self, "classes_", None) is None and _labels_nothing(y)
        )

    def _validate_training_data(self, X, y, first_fit, classes):
        """Check ``X`` and ``y``; return ``(X, labels, classes)``.

        ``labels`` holds class indices (``-1`` unlabeled), ``classes`` the class
        of each index; both are None without ``y``. A continued fit keeps the
        classes of the first.
        """
        fitted_with_labels = getattr(self, "classes_", None) is not None
        if not first_fit and (y is None) == fitted_with_labels:
            raise ValueError(
                "Continued training (warm_start or partial_fit) must use labels the same way "
                f"as the first fit, which was {'with' if fitted_with_labels else 'without'} y."
            )
        X = self._validate_X(X, reset=first_fit, training=True)
        if y is None:
            return X, None, None
        check_consistent_length(X, y)
        if classes is not None:
            classes = _partial_fit_classes(classes)
            if not first_fit and not np.array_equal(classes, self.classes_):
                # As scikit-learn's partial_fit: the classes fix the model's outputs.
                raise ValueError(
                    f"classes={classes!r} is not the same as on the first call, "
                    f"{self.classes_!r}."
                )
        if not first_fit:
            classes = self.classes_
        labels, classes = self._encode_labels(y, classes)
        return X, labels, classes

    def _validate_attributes(self, attributes, n_samples, first_fit):
        """Check ``attributes`` (see :mod:`skaae._attributes`); return them as an array or None."""
        fitted_with_attributes = hasattr(self, "n_attributes_")
        if not first_fit and (attributes is None) == fitted_with_attributes:
            raise ValueError(
                "Continued training (warm_start or partial_fit) must use attributes the same "
                f"way as the first fit, which was {'with' if fitted_with_attributes else 'without'}"
                " attributes."
            )
        if attributes is None:
            return None
        return check_attributes(
            attributes, n_samples, self.n_components,
            n_fitted=None if first_fit else self.n_attributes_,
        )

    def _train(self, X, labels, classes, attributes, first_fit, n_epochs, incremental):
        """Build (on a first fit) and train the model, and set its fitted state.

        Runs on the copy that ``_fit`` hands the estimator once it returns.
        """
        self._check_training_data(X, labels, classes)

        device = rank_device(resolve_device(self.device)) if first_fit else self.device_
        # Under torchrun the ranks train one model together (skaae._distributed);
        # in a plain process this changes nothing.
        parallel = data_parallel(device)
        parallel.check_same_data([X, labels, attributes])
        if first_fit or not hasattr(self, "_random_state"):
            # Kept across warm starts and partial_fit calls, as in MLPClassifier, so
            # each continued call draws new shuffles, noise and prior samples.
            self._random_state = check_random_state(self.random_state)
        # Rank 0's seed everywhere, also with random_state=None: the ranks must
        # shuffle alike and start from the same weights.
        seed = parallel.agree(self._random_state.randint(np.iinfo(np.int32).max))
        checkpoint_path = None if incremental else self.checkpoint
        resumed = None
        if checkpoint_path is not None:
            expected = fingerprint(
                self, {"x": X, "y": labels, "attributes": attributes},
                0 if first_fit else len(self.history_), device,
            )
            # Rank 0 reads it and sends it on: the others may not see its files.
            resumed = parallel.on_main(lambda: load_matching(checkpoint_path, expected))
            if resumed is not None:
                # The interrupted fit's seed rebuilds what came before its loop
                # (initial weights, validation split) exactly.
                seed = resumed["seed"]
                restore_numpy_state(self._random_state, resumed["numpy_state"])
            numpy_state_after_draw = numpy_state(self._random_state)
        generator = torch.Generator(device=device).manual_seed(int(seed))
        # The steps' draws (noise, prior samples); each rank's own under torchrun.
        batch_generator = parallel.batch_generator(generator, seed)

        if first_fit:
            reconstruction_loss = self._resolve_reconstruction_loss(X)
            prior, networks = self._build_model(
                X.shape[1], torch.Generator().manual_seed(int(seed)), classes,
                reconstruction_loss,
            )
            networks = {k: v.to(device) for k, v in networks.items()}
            # The model's state, in one place: the steps and the validation loss
            # read it from here while they train.
            self.reconstruction_loss_, self.prior_, self.device_ = reconstruction_loss, prior, device
            if classes is not None:
                self.classes_ = classes
            if attributes is not None:
                self.n_attributes_ = attributes.shape[1]
            self._networks = networks
            self._optimizers = {}
            self.history_ = []
        else:
            networks = self._networks
        parallel.broadcast_networks(networks)
        for net in networks.values():
            set_generator(net, batch_generator)

        data = {"x": self._to_tensor(X)}
        if labels is not None:
            data["y"] = torch.as_tensor(labels).to(device)
        if attributes is not None:
            data["attributes"] = self._to_tensor(attributes)
        validation = None
        use_validation = self.early_stopping and not incremental
        if use_validation:
            data, validation = self._split_validation(data, generator)
        data = self._add_training_tensors(data)

        n_epochs = self.max_epochs if n_epochs is None else n_epochs
        average_from = None  # early stopping restores its best epoch; partial_fit is one epoch
        if self.weight_averaging > 0 and not (use_validation or incremental):
            average_from = min(n_epochs - 1, math.floor(n_epochs * (1 - self.weight_averaging)))
        engine = TrainingEngine(
            networks=networks,
            steps=self._active_steps(networks),
            batch_size=min(self.batch_size, len(data["x"])),
            generator=generator,
            betas=(self.beta_1, self.beta_2),
            autocast_dtype=self._autocast_dtype(device),
            validation_loss=(lambda: self._validation_loss(validation)) if validation else None,
            verbose=self.verbose if parallel.is_main else 0,
            optimizers=self._optimizers,
            parallel=parallel,
            batch_generator=batch_generator,
        )
        if validation:
            engine.callbacks.append(EarlyStopping(self.n_iter_no_change, self.tol))
        if average_from is not None:
            engine.callbacks.append(WeightAveraging(average_from))
        if self.learning_rate_decay > 0 and not incremental:
            decay_from = math.floor(n_epochs * (1 - self.learning_rate_decay))
            engine.callbacks.append(LearningRateDecay(decay_from, n_epochs))
        engine.callbacks.extend(self._epoch_observers())
        resume = None
        if checkpoint_path is not None:
            if resumed is not None:
                resume = self._restore_checkpoint(resumed, engine, generator, device)
            # Last: it stores the states the callbacks before it reached.
            engine.callbacks.append(Checkpoint(
                checkpoint_path, expected, seed, numpy_state_after_draw, self.history_
            ))
        history_before = self.history_
        try:
            records, stopped_early = engine.fit(
                data, n_epochs, first_epoch=len(history_before),
                extra_data=self._extra_data(data), resume=resume,
            )
        except TrainingDivergedError as error:
            self._optimizers = {}
            outcome = (
                "The estimator was left unfitted." if first_fit
                else "The model keeps the weights it had before that epoch."
            )
            raise TrainingDivergedError(f"{error} {outcome}") from None
        except Exception:
            self._optimizers = {}
            raise
        finally:
            for net in networks.values():
                set_generator(net, None)
            # The epochs that finished count, also when a later one diverged.
            self.history_ = history_before + engine.records
        self._optimizers = engine.optimizers
        self.n_iter_ = len(self.history_)
        if use_validation:
            self.best_validation_loss_ = min(
                h["validation_loss"] for h in self.history_ if "validation_loss" in h
            )
            if not stopped_early and n_epochs == self.max_epochs:
                warnings.warn(
                    f"The validation loss was still improving after max_epochs={self.max_epochs} "
                    "epochs; consider raising max_epochs.",
                    ConvergenceWarning,
                )
        self._publish_networks()
        if attributes is not None:
            # The map that sample(attributes=...) uses, from the trained codes
            # of the data of this call.
            self.attribute_quantiles_, self.attribute_code_quantiles_ = fit_code_map(
                attributes, self._batched(self._code, X)
            )
        return self

    def _restore_checkpoint(self, state, engine, generator, device):
        """Put the training state of ``state`` (a checkpoint) back; return the loop records."""
        for key, net in self._networks.items():
            net.load_state_dict(state["networks"][key])
        for name, optimizer in engine.optimizers.items():
            optimizer.load_state_dict(state["optimizers"][name])
        generator.set_state(state["generator"])
        # This call's records: the stored history past the epochs it started from.
        records = state["history"][state["fingerprint"]["n_iter_before"]:]
        return {**to_device(state["loop"], device), "records": records}

    def _split_validation(self, data, generator):
        n = len(data["x"])
        n_validation = int(round(self.validation_fraction * n))
        if n_validation < 1 or n - n_validation < 1:
            raise ValueError(
                f"early_stopping needs at least one training and one validation sample; "
                f"validation_fraction={self.validation_fraction} of {n} samples leaves "
                f"{n_validation} for validation."
            )
        order = torch.randperm(n, generator=generator, device=generator.device)
        train, held_out = order[n_validation:], order[:n_validation]
        return (
            {k: take_rows(v, train) for k, v in data.items()},
            {k: take_rows(v, held_out) for k, v in data.items()},
        )

    def _noisy_input(self, x, generator):
        """The encoder's training input: ``x`` plus ``input_noise`` Gaussian noise."""
        if self.input_noise > 0:
            x = x + self.input_noise * torch.randn(x.shape, generator=generator, device=x.device)
        return x

    def _sampling_generator(self, n_samples, random_state):
        """Check ``n_samples`` of a ``sample`` call; a generator on the device for its draws."""
        if (
            not isinstance(n_samples, (int, np.integer))
            or isinstance(n_samples, bool)
            or n_samples < 1
        ):
            raise ValueError(f"n_samples must be a positive integer, got {n_samples!r}.")
        seed = check_random_state(random_state).randint(np.iinfo(np.int32).max)
        return torch.Generator(device=self.device_).manual_seed(int(seed))

    def _extra_data(self, data):
        """Tensors the steps sample from besides the mini-batch (none by default)."""
        return None

    def _add_training_tensors(self, data):
        """``data`` with more per-sample tensors, mini-batched with ``x`` (hook; none by default)."""
        return data

    def _check_training_data(self, X, labels, classes):
        """Raise when the data or labels do not fit the model (hook for subclasses)."""

    def _setting(self, name):
        """The value the fit trains with for the parameter ``name`` (hook: models
        whose parameters accept ``"auto"`` return what the fit resolved)."""
        return getattr(self, name)

    def _phase_rate(self, phase):
        """The learning rate a phase's step is built with, before its weight scales it."""
        rate_name = PHASES[phase][1]
        rate = getattr(self, rate_name, None) if rate_name else None
        return self.learning_rate_init if rate is None or isinstance(rate, str) else rate

    def _warn_deprecated_rates(self):
        for phase, (weight_name, rate_name) in PHASES.items():
            rate = getattr(self, rate_name, None) if rate_name else None
            if rate is None or isinstance(rate, str):
                continue
            same = getattr(self, weight_name) * rate / self.learning_rate_init
            warnings.warn(
                f"{rate_name} is deprecated in 0.2 and will be removed in 0.3; use "
                f"{weight_name} (the step runs at learning_rate_init * {weight_name}): "
                f"{weight_name}={same:.6g} gives the {phase} step the same learning rate.",
                FutureWarning,
            )

    def _phase_step(self, phase, networks, loss, frozen=()):
        """The :class:`~skaae._engine.Step` of ``phase`` (a key of ``PHASES``):
        its name, knob and advice are the same in every model."""
        weight_name = PHASES[phase][0]
        return Step(
            phase, networks, loss, self._phase_rate(phase), self._setting(weight_name),
            advice=f"Try a lower {weight_name} or learning_rate_init.", frozen=frozen,
        )

    def _active_steps(self, networks):
        """The model's steps, less those whose weight is 0: a weight of 0 turns its step off.

        ``discriminator_weight=0`` also leaves the adversarial step out: against a
        discriminator that never learns, the encoder would chase a fixed random
        function. It turns the regularisation off.
        """
        steps = [
            step for step in self._make_steps(networks)
            if step.weight > 0
            and not (step.name == "adversarial" and self.discriminator_weight == 0)
        ]
        if not steps:
            raise ValueError(
                "Every step has a weight of 0, so fit would train nothing; give at least "
                "reconstruction_weight a positive value."
            )
        return steps

    def _check_two_classes(self, classes):
        """For the classifiers: one class leaves nothing to tell apart."""
        if len(classes) < 2:
            raise ValueError(
                f"{type(self).__name__} needs at least 2 classes in y; got 1 class: "
                f"{classes!r}."
            )

    def _epoch_observers(self):
        """Callbacks that watch a ``fit`` without changing it, after the
        estimator's own (the training-length benchmark's snapshots); none by
        default."""
        return []

    def _publish_networks(self):
        for key, net in self._networks.items():
            setattr(self, f"{key}_", net)

    # -- encoding, decoding --------------------------------------------------
    def _batched(self, function, *arrays):
        """Apply ``function`` to the arrays in fixed-size no-grad chunks; return numpy.

        Every chunk has exactly ``INFERENCE_BATCH_SIZE`` rows (the last one is
        padded): matrix kernels are picked by shape, so a fixed shape makes each
        sample's output bit-identical however many samples are passed together.
        """
        n = len(arrays[0])
        tensors = [
            None if a is None
            else self._to_tensor(a) if np.asarray(a).dtype.kind == "f"
            else torch.as_tensor(a).to(self.device_)
            for a in arrays
        ]
        autocast = self._autocast_dtype(self.device_)
        outputs = []
        with torch.inference_mode(), torch.autocast(
            self.device_.type, dtype=autocast or torch.float32, enabled=autocast is not None
        ):
            for begin in range(0, n, INFERENCE_BATCH_SIZE):
                chunk = [None if t is None else _pad_rows(t[begin : begin + INFERENCE_BATCH_SIZE])
                         for t in tensors]
                rows = min(INFERENCE_BATCH_SIZE, n - begin)
                outputs.append(function(*chunk)[:rows].float())
        if not outputs:
            return np.empty((0,), dtype=np.float32)
        return torch.cat(outputs).cpu().numpy()

    def transform(self, X):
        """Encode ``X``: the deterministic code (the posterior mean).

        The code of a sample does not depend on the other samples passed with it.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        Z : ndarray of shape (n_samples, n_components)
        """
        check_is_fitted(self)
        X = self._validate_X(X, reset=False)
        return self._batched(self._code, X).astype(X.dtype, copy=False)

    def _code(self, x):
        return self._networks["encoder"].posterior_mean(x)

    def _check_codes(self, Z):
        check_is_fitted(self)
        Z = check_array(Z, dtype=[np.float64, np.float32], input_name="X")
        if Z.shape[1] != self.n_components:
            raise ValueError(
                f"The codes have {Z.shape[1]} columns, but this model's code has "
                f"n_components={self.n_components}."
            )
        return Z

    def score_samples(self, X):
        """Minus the mean per-feature reconstruction error of each sample.

        Higher is better; low values flag samples the model reconstructs badly,
        which makes this an anomaly score.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        scores : ndarray of shape (n_samples,)
        """
        check_is_fitted(self)
        X = self._validate_X(X, reset=False)
        errors = self._batched(self._reconstruction_error, X)
        return -errors.astype(np.float64)

    def score(self, X, y=None):
        """Minus the mean per-feature reconstruction error over ``X`` (higher is better).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : ignored

        Returns
        -------
        score : float
        """
        return float(np.mean(self.score_samples(X)))

    def _reconstruction_error(self, x, *context):
        logits = self._reconstruct_logits(x, *context)
        return reconstruction_error(logits, x, self.reconstruction_loss_).mean(dim=1)

    def _validation_loss(self, validation):
        # The held-out reconstruction error, per feature: comparable across data sets.
        with torch.inference_mode():
            for net in self._networks.values():
                net.eval()
            errors = []
            x = validation["x"]
            for begin in range(0, len(x), 8 * INFERENCE_BATCH_SIZE):
                chunk = {k: v[begin : begin + 8 * INFERENCE_BATCH_SIZE] for k, v in validation.items()}
                errors.append(self._validation_errors(chunk))
            return float(torch.cat(errors).mean())

    def _validation_errors(self, chunk):
        return self._reconstruction_error(chunk["x"])

    # -- pickling ------------------------------------------------------------
    #: Parameters added since 0.1, with the value that reproduces what a model
    #: pickled or saved before them did (not necessarily today's default).
    _OLDER_DEFAULTS = {"checkpoint": None}

    def __getstate__(self):
        # A copy: on Python 3.11+ the inherited method returns the live __dict__,
        # and pickling must not change the model being pickled.
        state = dict(super().__getstate__())
        # Optimizer state is a fit-time resource; a warm start after unpickling
        # starts fresh optimizers.
        state.pop("_optimizers", None)
        device = state.get("device_")
        if device is not None and torch.device(device).type != "cpu":
            # Store CPU tensors so the pickle loads on machines without the device.
            moved = {k: copy.deepcopy(v).cpu() for k, v in state["_networks"].items()}
            state["_networks"] = moved
            for key, net in moved.items():
                state[f"{key}_"] = net
            state["device_"] = str(device)
        return state

    def __setstate__(self, state):
        # Pickles from before a parameter or fitted attribute existed: what
        # those versions did.
        for name, value in self._OLDER_DEFAULTS.items():
            state.setdefault(name, value)
        # ... and from before a step was renamed: its records under today's
        # name, so warm_start and partial_fit continue them. (Pickles hold no
        # optimizers: __getstate__ leaves them out.)
        if "history_" in state:
            state["history_"] = [with_current_step_names(record) for record in state["history_"]]
        if "device_" in state:
            state.setdefault("reconstruction_loss_", state.get("reconstruction_loss", "mse"))
        device = state.get("device_")
        super().__setstate__(state)
        if device is None:
            return
        device = torch.device(device)
        try:
            resolve_device(device)
        except ValueError:
            warnings.warn(
                f"This model was fitted on {device}, which is not available here; "
                "it was loaded on the CPU.",
                RuntimeWarning,
            )
            device = torch.device("cpu")
        self.device_ = device
        self._networks = {k: v.to(device) for k, v in self._networks.items()}
        self._publish_networks()
        self._optimizers = {}

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags


def _pad_rows(tensor):
    missing = INFERENCE_BATCH_SIZE - len(tensor)
    if missing == 0:
        return tensor
    padding = tensor.new_zeros((missing, *tensor.shape[1:]))
    return torch.cat([tensor, padding])


def _bf16_is_fast(device):
    if device.type == "cuda":
        # Measured on an H200 (benchmarks/bench_throughput.py --device cuda): these
        # networks at batch 100 are bound by kernel launches, and bf16 autocast's
        # casts made training 0.77-0.89x as fast. Ask for "bfloat16" explicitly on a GPU.
        return False
    if device.type == "cpu":
        return bool(torch.backends.mkldnn.is_available()) and torch.ops.mkldnn._is_mkldnn_bf16_supported()
    return False
