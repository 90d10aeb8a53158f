"""The unsupervised adversarial autoencoder (paper sections 2-3)."""

from numbers import Real

import numpy as np
import torch
from sklearn.base import _fit_context
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_is_fitted
from torch.nn import functional as F

from ._attributes import attributes_to_codes, check_requested_attributes
from ._base import UNLABELED, BaseAAE, labels_per_row
from ._losses import attribute_loss, discriminator_loss, generator_loss, reconstruction_error
from .networks import Decoder, Encoder
from .priors import make_prior


class AdversarialAutoencoder(BaseAAE):
    """Adversarial autoencoder: an autoencoder whose code is shaped like a prior.

    An encoder maps ``X`` to a code, a decoder maps the code back, and a
    discriminator, trained to tell the code from draws of the ``prior``, pushes
    the encoder to produce codes that look like those draws (Makhzani et al.,
    2016). Every mini-batch runs the paper's phases: a reconstruction step
    (encoder and decoder), then a regularisation phase: a discriminator step on
    prior draws against codes, and an adversarial step on the encoder.

    With labels (``fit(X, y)``, ``-1`` for unlabeled samples) the discriminator
    also sees the one-hot label (one extra column for "unlabeled") and a
    multi-modal prior draws each labeled sample from its class's mode: the
    paper's label-aware regularisation (Fig. 3).

    Parameters
    ----------
    n_components : int, default=2
        Size of the code.
    prior : {"gaussian", "mixture", "umbrella", "swiss_roll", "uniform"}, \
            :class:`~skaae.priors.Prior`, object with ``sample`` or callable, default="gaussian"
        Distribution imposed on the code. Named multi-modal priors get one mode
        per class when fitted with labels, 10 otherwise.
    hidden_layer_sizes : array-like of int, default=(512, 512)
        Hidden layers of the encoder; the decoder mirrors them. The paper used
        ``(1000, 1000)``, which costs about three times as much per epoch. With
        ``input_shape``, the dense layers between the convolutions and the code.
    discriminator_hidden_layer_sizes : array-like of int, default=(512, 512)
    input_shape : tuple of int, default=None
        ``(channels, height, width)`` when each row of ``X`` is an image
        flattened in that order: the default encoder and decoder are then
        convolutional (see ``conv_channels``). ``None`` (tabular data) builds
        multilayer perceptrons. Its product must equal ``n_features``. The
        universal encoder's noise joins the flattened convolutional features.
    conv_channels : array-like of int, default=(32, 64, 128)
        With ``input_shape``: the channels of the encoder's convolutions, each
        of which halves the image's height and width; the decoder's transposed
        convolutions mirror them back to ``input_shape``. Unused otherwise.
    activation : {"relu", "leaky_relu", "tanh", "elu", "gelu"}, default="relu"
    encoder_type : {"deterministic", "gaussian", "universal"}, default="deterministic"
        The paper's three posteriors: a deterministic map, a Gaussian posterior
        trained with the reparameterisation trick, or a universal approximator
        whose encoder also takes ``noise_dim`` noise inputs.
    noise_dim : int, default=8
        Noise inputs of the universal approximator encoder.
    dropout : float, default=0.0
        Dropout probability after each hidden layer of the encoder and decoder.
    input_noise : float, default=0.0
        Standard deviation of Gaussian noise added to the encoder's input in training.
    discriminator_noise : float, default=0.0
        Standard deviation of Gaussian noise added to the discriminator's inputs
        (prior draws and codes alike); smooths the adversarial game.
    reconstruction_loss : {"mse", "bce", "auto"}, default="mse"
        Averaged per feature. ``"bce"`` needs ``X`` in [0, 1] and decodes through a sigmoid.
        ``"auto"`` picks ``"bce"`` when every value of ``X`` lies in [0, 1] and
        ``"mse"`` otherwise; ``reconstruction_loss_`` holds the choice.
    reconstruction_weight, adversarial_weight, discriminator_weight : float, default=1.0
        Weights of the reconstruction, adversarial (encoder) and discriminator
        phases. Each phase has its own Adam optimizer, which would undo a
        constant factor on its loss, so a weight scales the phase's learning
        rate instead, as a loss weight does under plain gradient descent:
        ``adversarial_weight=0.1`` makes the adversarial step's updates ten
        times smaller. A weight of 0 leaves its phase out: ``adversarial_weight=0``
        gives a plain autoencoder, and ``discriminator_weight=0`` leaves out the
        adversarial step too (it would train against an untrained critic).
    attribute_weight : float, default=0.1
        Weight of the attribute regularisation (Pati & Lerch, 2020) relative to
        the reconstruction loss, active only when ``fit`` gets ``attributes``:
        it is added to the reconstruction step's loss, so it trades the
        ordering of the code against reconstruction.
        The paper's weight of 10 multiplies a reconstruction loss summed over
        pixels; ours is averaged per feature, and on digits 0.1 already orders
        held-out codes with a rank correlation of 0.99, while larger weights
        only cost reconstruction.
    attribute_delta : float, default=1.0
        Sharpness of the attribute regularisation: code gaps of a few
        ``1 / attribute_delta`` count as fully ordered. The default is the
        authors' code default; 10 orders the code as well but follows the
        requested attributes less closely in ``sample``.
    learning_rate_init : float, default=1e-3
        Adam learning rate of every step, times the step's weight.
    reconstruction_learning_rate, discriminator_learning_rate, generator_learning_rate : \
            float, default="deprecated"
        Deprecated in 0.2, removed in 0.3: set the phase's weight instead
        (user guide: "One knob per phase").
    beta_1, beta_2 : float, default=0.5, 0.999
        Adam's moment decay rates.
    batch_size : int, default=100
    max_epochs : int, default=50
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the data, stop when its reconstruction
        error has not improved by ``tol`` for ``n_iter_no_change`` epochs, and
        restore the best weights.
    validation_fraction : float, default=0.1
    n_iter_no_change : int, default=10
    tol : float, default=1e-4
    warm_start : bool, default=False
        Continue training the fitted networks on the next ``fit``.
    weight_averaging : float, default=0.0
        Fraction of the epochs at the end of each ``fit`` over which the weights
        are averaged: the networks end with the mean of their weights at the
        end of each of those epochs (stochastic weight averaging). The
        adversarial game keeps the weights moving to the last step, so the last
        epoch's model is one draw from a wandering sequence; the mean is a
        steadier one. ``0`` keeps the last weights. Not used by ``partial_fit``
        or with ``early_stopping`` (which restores the best weights).
    learning_rate_decay : float, default=0.0
        Fraction of the epochs at the end of each ``fit`` over which every
        step's learning rate falls along a half cosine towards zero; the
        epochs before run at the full rate. Late in the adversarial game the
        weights keep wandering at a constant rate; a decay that starts once
        the codes have formed lets them settle. ``0`` keeps the rate constant.
        ``0.8`` made the codes better LightGBM features on Fashion-MNIST and
        the digits but the samples less likely on Fashion-MNIST, so the
        default stays constant here (``SupervisedAAE`` and
        ``SemiSupervisedAAE`` default to 0.8). Not used by ``partial_fit``.
    precision : {"float32", "bfloat16", "auto"}, default="float32"
        ``"bfloat16"`` runs forward passes under bf16 autocast with fp32 weights;
        ``"auto"`` does so on CPUs with AMX or AVX-512 BF16, and keeps float32
        on GPUs, where bf16 autocast measured slower for these networks.
    encoder, decoder, discriminator : torch.nn.Module or callable, default=None
        Replace the body of a network. A module is deep-copied at ``fit``; a
        callable is called as ``factory(n_inputs, n_outputs)``. Input and output
        sizes: encoder ``n_features -> n_components`` (``2 * n_components`` for
        ``encoder_type="gaussian"``; ``n_features + noise_dim`` inputs for
        ``"universal"``); decoder ``n_components -> n_features`` (logits for
        ``"bce"``); discriminator ``n_components (+ n_classes + 1 with labels) -> 1`` logit.
        Images reach them as flat rows, whether or not ``input_shape`` is set.
    device : str or torch.device, default="auto"
        ``"auto"`` takes a GPU when there is one; ``"cpu"``, ``"cuda"``, ``"cuda:1"``, ``"mps"``.
        Under ``torchrun`` (a process group of several ranks), ``"auto"`` and
        ``"cuda"`` take each rank's own GPU, ``cuda:LOCAL_RANK`` (see the
        "Scaling out" page).
    verbose : int, default=0
        0 silent, 1 a tqdm progress bar with per-phase losses (a line per epoch
        where stderr is not a terminal, as in a log file), 2 a line per epoch.
    random_state : int, RandomState instance or None, default=None
        Seeds initialisation, shuffling, noise and prior draws (never the global
        PyTorch generator).
    checkpoint : str or path-like, default=None
        File that ``fit`` rewrites with the training state after every epoch; a
        ``fit`` that finds one of the same parameters and data resumes after its
        last finished epoch, exactly (user guide: "Checkpoints and exact resume").

    Attributes
    ----------
    encoder_, decoder_, discriminator_ : torch.nn.Module
        The trained networks.
    prior_ : skaae.priors.Prior
    classes_ : ndarray
        Labels seen in ``fit`` (only when fitted with ``y``).
    n_attributes_ : int
        Number of attributes, tied to code dimensions ``0 .. n_attributes_ - 1``
        (only when fitted with ``attributes``).
    attribute_quantiles_, attribute_code_quantiles_ : ndarray of shape ``(101, n_attributes_)``
        Quantiles of each attribute and of its code dimension over the data of
        the last ``fit`` or ``partial_fit`` call: the monotone map that
        ``sample(attributes=...)`` uses (only when fitted with ``attributes``).
    history_ : list of dict
        Per epoch: the mean loss of each step, ``validation_loss`` with early
        stopping, and the epoch's duration in seconds. With ``attributes``, the
        ``"reconstruction"`` entry includes the weighted attribute loss.
    n_iter_ : int
        Epochs trained.
    device_ : torch.device
    n_features_in_ : int
    feature_names_in_ : ndarray
        Only when ``X`` has string column names.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skaae import AdversarialAutoencoder
    >>> X, _ = load_digits(return_X_y=True)
    >>> aae = AdversarialAutoencoder(hidden_layer_sizes=(64,), discriminator_hidden_layer_sizes=(64,),
    ...                              max_epochs=2, device="cpu", random_state=0)
    >>> aae.fit_transform(X / 16).shape
    (1797, 2)
    >>> aae.sample(3, random_state=0).shape
    (3, 64)
    """

    _labels_optional = True

    _parameter_constraints: dict = {
        **BaseAAE._parameter_constraints,
        "attribute_weight": [Interval(Real, 0, None, closed="left")],
        "attribute_delta": [Interval(Real, 0, None, closed="neither")],
    }

    def __init__(
        self,
        n_components=2,
        *,
        prior="gaussian",
        hidden_layer_sizes=(512, 512),
        discriminator_hidden_layer_sizes=(512, 512),
        input_shape=None,
        conv_channels=(32, 64, 128),
        activation="relu",
        encoder_type="deterministic",
        noise_dim=8,
        dropout=0.0,
        input_noise=0.0,
        discriminator_noise=0.0,
        reconstruction_loss="mse",
        reconstruction_weight=1.0,
        adversarial_weight=1.0,
        discriminator_weight=1.0,
        attribute_weight=0.1,
        attribute_delta=1.0,
        learning_rate_init=1e-3,
        reconstruction_learning_rate="deprecated",
        discriminator_learning_rate="deprecated",
        generator_learning_rate="deprecated",
        beta_1=0.5,
        beta_2=0.999,
        batch_size=100,
        max_epochs=50,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=10,
        tol=1e-4,
        warm_start=False,
        weight_averaging=0.0,
        learning_rate_decay=0.0,
        precision="float32",
        encoder=None,
        decoder=None,
        discriminator=None,
        device="auto",
        verbose=0,
        random_state=None,
        checkpoint=None,
    ):
        self.n_components = n_components
        self.prior = prior
        self.hidden_layer_sizes = hidden_layer_sizes
        self.discriminator_hidden_layer_sizes = discriminator_hidden_layer_sizes
        self.input_shape = input_shape
        self.conv_channels = conv_channels
        self.activation = activation
        self.encoder_type = encoder_type
        self.noise_dim = noise_dim
        self.dropout = dropout
        self.input_noise = input_noise
        self.discriminator_noise = discriminator_noise
        self.reconstruction_loss = reconstruction_loss
        self.reconstruction_weight = reconstruction_weight
        self.adversarial_weight = adversarial_weight
        self.discriminator_weight = discriminator_weight
        self.attribute_weight = attribute_weight
        self.attribute_delta = attribute_delta
        self.learning_rate_init = learning_rate_init
        self.reconstruction_learning_rate = reconstruction_learning_rate
        self.discriminator_learning_rate = discriminator_learning_rate
        self.generator_learning_rate = generator_learning_rate
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.warm_start = warm_start
        self.weight_averaging = weight_averaging
        self.learning_rate_decay = learning_rate_decay
        self.precision = precision
        self.encoder = encoder
        self.decoder = decoder
        self.discriminator = discriminator
        self.device = device
        self.verbose = verbose
        self.random_state = random_state
        self.checkpoint = checkpoint

    # -- sklearn surface -----------------------------------------------------
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, attributes=None):
        """Train the autoencoder and its adversarial regularisation.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,), default=None
            Optional class labels, ``-1`` for unlabeled samples: the
            label-aware regularisation of the paper's Fig. 3.
        attributes : array-like of shape (n_samples,) or (n_samples, n_attributes), \
                default=None
            Continuous attributes of the samples (stroke thickness, slant, ...).
            Column ``j`` is tied to code dimension ``j``: an attribute
            regularisation (``attribute_weight``, ``attribute_delta``) makes that
            dimension increase with the attribute, and ``sample(attributes=...)``
            then generates with chosen attribute values. At most ``n_components``
            columns; a 1-D array is one attribute.

        Returns
        -------
        self : AdversarialAutoencoder
        """
        return self._fit(X, y, attributes=attributes)

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y=None, classes=None, attributes=None):
        """Train one epoch on ``X``, initialising the model on the first call.

        ``early_stopping`` does not apply: each call trains on all it is given.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,), default=None
            Labels (``-1`` unlabeled); a model started with labels needs them on every call.
            A ``y`` of only ``-1`` is the same as ``None`` (dask-ml's
            ``HyperbandSearchCV`` needs a ``y``) unless the model was started with labels.
        classes : array-like, default=None
            All labels that will ever appear; needed on the first call when later
            batches may hold labels the first one lacks.
        attributes : array-like of shape (n_samples,) or (n_samples, n_attributes), \
                default=None
            As in :meth:`fit`; a model started with attributes needs the same
            columns on every call.

        Returns
        -------
        self : AdversarialAutoencoder
        """
        return self._fit(
            X, y, attributes=attributes, n_epochs=1, incremental=True, classes=classes
        )

    @property
    def _n_features_out(self):
        return self.n_components

    def inverse_transform(self, X):
        """Decode codes back to input space.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_components)
            Codes, as returned by ``transform``.

        Returns
        -------
        X : ndarray of shape (n_samples, n_features)
        """
        codes = self._check_codes(X)
        decoded = self._batched(self._networks["decoder"].decode, codes)
        return decoded.astype(codes.dtype, copy=False)

    def sample(self, n_samples=1, *, y=None, attributes=None, random_state=None):
        """Draw codes from the prior and decode them.

        Parameters
        ----------
        n_samples : int, default=1
        y : label or array-like of shape (n_samples,), default=None
            With a model fitted with labels and a multi-modal prior: the class
            whose mode each code is drawn from (one label for all, or one per sample).
        attributes : float or array-like of shape ``(n_samples, n_attributes_)``, default=None
            With a model fitted with ``attributes``: the attribute values to
            generate with. Each value replaces its code dimension of the prior
            draw by the code at the same quantile of the training data (see
            ``attribute_quantiles_``; values beyond the training range get the
            extreme codes). One row is used for every sample; NaN leaves a
            dimension as drawn; a model with one attribute also takes a scalar
            or one value per sample.
        random_state : int, RandomState instance or None, default=None

        Returns
        -------
        X : ndarray of shape (n_samples, n_features)
        """
        check_is_fitted(self)
        codes = self._draw_codes(n_samples, y, random_state, attributes)
        return self._batched(self._networks["decoder"].decode, codes)

    # -- model definition ----------------------------------------------------
    def _label_columns(self, classes):
        """Columns of label the discriminator and the decoder read beside the code.

        With labels, the discriminator sees the one-hot label plus a column for
        "unlabeled" (the paper's label-aware regularisation); the decoder none.
        """
        return (0 if classes is None else len(classes) + 1), 0

    def _make_prior(self, classes):
        prior = make_prior(self.prior, n_modes=len(classes) if classes is not None else 10)
        if classes is not None and 1 < prior.n_modes < len(classes):
            raise ValueError(
                f"The prior has {prior.n_modes} modes but y has {len(classes)} classes; "
                "label-aware regularisation needs one mode per class."
            )
        return prior

    def _decoder_input(self, codes, batch):
        """What the decoder sees in training: the code (SupervisedAAE adds the label)."""
        return codes

    def _regularisation_labels(self, batch):
        """Labels the discriminator and the prior see (label-aware regularisation)."""
        return batch["y"] if "y" in batch else None

    def _prior_labels(self, labels):
        """Labels that pick the prior's mode of each draw (label-aware regularisation)."""
        return labels

    def _build_networks(self, n_features, generator, classes, output):
        critic_labels, decoder_labels = self._label_columns(classes)
        encoder_out = self.n_components * (2 if self.encoder_type == "gaussian" else 1)
        n_noise = self.noise_dim if self.encoder_type == "universal" else 0
        decoder_in = self.n_components + decoder_labels
        critic_in = self.n_components + critic_labels
        default_encoder, default_decoder = self._default_bodies(
            n_features, encoder_out, decoder_in, n_noise
        )
        bodies = self._build_bodies(generator, {
            "encoder": (self.encoder, n_features + n_noise, encoder_out, default_encoder),
            "decoder": (self.decoder, decoder_in, n_features, default_decoder),
            "discriminator": (
                self.discriminator, critic_in, 1, self._default_critic(critic_in)
            ),
        })
        encoder = Encoder(bodies["encoder"], self.n_components, self.encoder_type, self.noise_dim)
        encoder.reset_noise(generator)
        return {
            "encoder": encoder,
            "decoder": Decoder(bodies["decoder"], output),
            "discriminator": bodies["discriminator"],
        }

    def _training_code(self, batch, networks):
        return batch.memo(
            "code", ("encoder",), lambda: networks["encoder"](self._noisy_input(batch["x"], batch.generator))
        )

    def _discriminator_input(self, codes, labels):
        n_columns, _ = self._label_columns(getattr(self, "classes_", None))
        if not n_columns:
            return codes
        index = torch.where(labels == UNLABELED, n_columns - 1, labels)
        one_hot = F.one_hot(index, n_columns).to(codes.dtype)
        return torch.cat([codes, one_hot], dim=1)

    def _make_steps(self, networks):
        decoder, discriminator = networks["decoder"], networks["discriminator"]

        def reconstruction(batch):
            logits = decoder(self._decoder_input(self._training_code(batch, networks), batch))
            error = reconstruction_error(logits, batch["x"], self.reconstruction_loss_)
            loss = error.mean()
            if "attributes" in batch:
                # In the reconstruction step, not a step of its own: with one Adam
                # optimizer per step, a step's loss scale would not matter, and
                # attribute_weight could not trade ordering against reconstruction.
                loss = loss + self.attribute_weight * attribute_loss(
                    self._training_code(batch, networks), batch["attributes"],
                    self.attribute_delta,
                )
            return loss

        def discriminator_step(batch):
            labels = self._regularisation_labels(batch)
            codes = self._training_code(batch, networks).detach()
            drawn = self.prior_.sample(
                len(codes), self.n_components, generator=batch.generator,
                labels=self._prior_labels(labels),
            ).to(codes.dtype)
            return discriminator_loss(
                discriminator,
                self._discriminator_input(drawn, labels),
                self._discriminator_input(codes, labels),
                noise=self.discriminator_noise, generator=batch.generator,
            )

        def adversarial_step(batch):
            labels = self._regularisation_labels(batch)
            codes = self._training_code(batch, networks)
            return generator_loss(
                discriminator, self._discriminator_input(codes, labels),
                noise=self.discriminator_noise, generator=batch.generator,
            )

        return [
            self._phase_step("reconstruction", ("encoder", "decoder"), reconstruction),
            self._phase_step("discriminator", ("discriminator",), discriminator_step),
            self._phase_step(
                "adversarial", ("encoder",), adversarial_step, frozen=("discriminator",)
            ),
        ]

    def _reconstruct_logits(self, x):
        return self._networks["decoder"](self._networks["encoder"].posterior_mean(x))

    def _draw_codes(self, n_samples, y, random_state, attributes=None):
        generator = self._sampling_generator(n_samples, random_state)
        if attributes is not None:
            if not hasattr(self, "n_attributes_"):
                raise ValueError(
                    "attributes was given to sample, but this model was fitted without "
                    "attributes; fit with attributes to generate with chosen values."
                )
            requested = attributes_to_codes(
                check_requested_attributes(attributes, n_samples, self.n_attributes_),
                self.attribute_quantiles_, self.attribute_code_quantiles_,
            )
        labels = None
        if y is not None:
            if getattr(self, "classes_", None) is None:
                raise ValueError(
                    "y was given to sample, but this model was fitted without labels; "
                    "fit with y to draw class-conditional samples."
                )
            y = labels_per_row(y, n_samples)
            labels = torch.as_tensor(self._encode_labels(y, self.classes_)[0]).to(self.device_)
            if self.prior_.n_modes < len(self.classes_):
                raise ValueError(
                    f"sample(y=...) draws from the mode of a class, but the prior "
                    f"{self.prior_!r} has {self.prior_.n_modes} mode(s) for "
                    f"{len(self.classes_)} classes; fit with a multi-modal prior such as "
                    "prior='mixture' to sample by class."
                )
        codes = self.prior_.sample(
            n_samples, self.n_components, generator=generator, labels=labels
        ).cpu().numpy()
        if attributes is not None:
            chosen = ~np.isnan(requested)
            codes[:, : self.n_attributes_][chosen] = requested[chosen]
        return codes
