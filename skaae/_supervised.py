"""The supervised adversarial autoencoder (paper section 4, Fig. 6)."""

import numpy as np
import torch
from scipy.special import softmax
from sklearn.base import ClassifierMixin, _fit_context
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, column_or_1d
from torch.nn import functional as F

from ._aae import AdversarialAutoencoder
from ._base import _is_dask_ml_placeholder, UNLABELED, check_no_missing_labels, labels_per_row
from ._losses import reconstruction_error
from .priors import make_prior


class SupervisedAAE(ClassifierMixin, AdversarialAutoencoder):
    """Supervised adversarial autoencoder: a code for the style, the label for the class.

    The decoder sees the code concatenated with the one-hot label, and the
    discriminator pushes the code towards the ``prior``, the same for every
    class. The label already tells the decoder the class, so the code learns to
    keep only what the label does not say: the style (Makhzani et al., 2016,
    Fig. 6). The discriminator also sees the label
    (``conditional_discriminator``), so the style of each class, not only their
    mixture, must look like the prior. Every mini-batch runs a reconstruction
    step (encoder and decoder), a discriminator step (prior draws against codes)
    and an adversarial step (encoder), like :class:`AdversarialAutoencoder`.

    The fitted model renders a style in any class (:meth:`inverse_transform`),
    draws samples of a chosen class (:meth:`sample`) and, as a generative
    classifier, predicts the class whose decoding of the input's style
    reconstructs the input best (:meth:`predict`, :meth:`predict_proba`).

    Parameters
    ----------
    n_components : int, default=2
        Size of the style code.
    prior : {"gaussian", "mixture", "umbrella", "swiss_roll", "uniform"}, \
            :class:`~skaae.priors.Prior`, object with ``sample`` or callable, default="gaussian"
        Distribution imposed on the style code, the same for every class (named
        multi-modal priors get 10 modes, which have nothing to do with the classes).
    hidden_layer_sizes : array-like of int, default=(512, 512)
        Hidden layers of the encoder; the decoder mirrors them. With
        ``input_shape``, the dense layers between the convolutions and the code.
    discriminator_hidden_layer_sizes : array-like of int, default=(512, 512)
    input_shape : tuple of int, default=None
        ``(channels, height, width)`` when each row of ``X`` is an image
        flattened in that order: the default encoder and decoder are then
        convolutional. ``None`` builds multilayer perceptrons. Its product must
        equal ``n_features``.
    conv_channels : array-like of int, default=(32, 64, 128)
        With ``input_shape``: the channels of the encoder's stride-2
        convolutions, mirrored by the decoder's transposed convolutions.
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
        (prior draws and style codes alike); smooths the adversarial game.
    conditional_discriminator : bool, default=True
        Show the discriminator each style code beside its one-hot label (and
        each prior draw beside the same label), so that it pushes the styles of
        every class, not only their mixture, towards the prior. Without it a
        large style code also learns the class; a style drawn from the prior
        then belongs to no class in particular, and ``sample(y=k)`` often draws
        another class. ``False`` is the paper's model (Fig. 6).
    reconstruction_loss : {"mse", "bce", "auto"}, default="mse"
        Averaged per feature. ``"bce"`` needs ``X`` in [0, 1] and decodes through a sigmoid.
        ``"auto"`` picks ``"bce"`` when every value of ``X`` lies in [0, 1] and
        ``"mse"`` otherwise; ``reconstruction_loss_`` holds the choice.
    reconstruction_weight, adversarial_weight, discriminator_weight : float, default=1.0
        Weights of the reconstruction loss, the adversarial (encoder) loss and the
        discriminator loss. ``adversarial_weight=0`` leaves the style code unshaped.
    attribute_weight : float, default=0.1
        Weight of the attribute regularisation (Pati & Lerch, 2020), active only
        when ``fit`` gets ``attributes``: it is added to the reconstruction
        step's loss, so it trades the ordering of the code against reconstruction.
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
        error (decoded under the true labels) has not improved by ``tol`` for
        ``n_iter_no_change`` epochs, and restore the best weights.
    validation_fraction : float, default=0.1
    n_iter_no_change : int, default=10
    tol : float, default=1e-4
    warm_start : bool, default=False
        Continue training the fitted networks on the next ``fit``.
    weight_averaging : float, default=0.0
        Fraction of the last epochs of each ``fit`` whose end-of-epoch weights
        are averaged (see AdversarialAutoencoder).
    learning_rate_decay : float, default=0.8
        Fraction of the last epochs of each ``fit`` over which the learning
        rates fall along a half cosine (see AdversarialAutoencoder).
    precision : {"float32", "bfloat16", "auto"}, default="float32"
        ``"bfloat16"`` runs forward passes under bf16 autocast with fp32 weights;
        ``"auto"`` does so on CPUs with AMX or AVX-512 BF16, and keeps float32
        on GPUs, where bf16 autocast measured slower for these networks.
    encoder, decoder, discriminator : torch.nn.Module or callable, default=None
        Replace the body of a network. A module is deep-copied at ``fit``; a
        callable is called as ``factory(n_inputs, n_outputs)``. Input and output
        sizes: encoder ``n_features -> n_components`` (``2 * n_components`` for
        ``encoder_type="gaussian"``; ``n_features + noise_dim`` inputs for
        ``"universal"``); decoder ``n_components + n_classes -> n_features``
        (the style, then the one-hot label; logits for ``"bce"``); discriminator
        ``n_components -> 1`` logit (``n_components + n_classes`` inputs, the
        style then the one-hot label, with ``conditional_discriminator``).
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
    classes_ : ndarray of shape (n_classes,)
        Labels seen in ``fit``.
    encoder_, decoder_, discriminator_ : torch.nn.Module
        The trained networks.
    prior_ : skaae.priors.Prior
    n_attributes_ : int
        Number of attributes, tied to style dimensions ``0 .. n_attributes_ - 1``
        (only when fitted with ``attributes``).
    attribute_quantiles_, attribute_code_quantiles_ : ndarray of shape ``(101, n_attributes_)``
        The attribute-to-code map of ``sample(attributes=...)`` (only when
        fitted with ``attributes``).
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

    See Also
    --------
    AdversarialAutoencoder : The unsupervised model; with ``fit(X, y)`` it puts
        the label in the code's prior instead of the decoder.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skaae import SupervisedAAE
    >>> X, y = load_digits(return_X_y=True)
    >>> X, y = X[:500] / 16, y[:500]
    >>> model = SupervisedAAE(hidden_layer_sizes=(64,), discriminator_hidden_layer_sizes=(64,),
    ...                       max_epochs=2, device="cpu", random_state=0).fit(X, y)
    >>> model.transform(X[:5]).shape
    (5, 2)
    >>> model.predict_proba(X[:5]).shape
    (5, 10)
    >>> model.sample(10, y=range(10), random_state=0).shape  # one of each digit
    (10, 64)
    >>> model.inverse_transform(model.transform(X[:3]), y=7).shape  # three styles, drawn as 7s
    (3, 64)
    """

    _parameter_constraints: dict = {
        **AdversarialAutoencoder._parameter_constraints,
        "conditional_discriminator": ["boolean"],
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
        conditional_discriminator=True,
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
        learning_rate_decay=0.8,
        precision="float32",
        encoder=None,
        decoder=None,
        discriminator=None,
        device="auto",
        verbose=0,
        random_state=None,
        checkpoint=None,
    ):
        super().__init__(
            n_components,
            prior=prior,
            hidden_layer_sizes=hidden_layer_sizes,
            discriminator_hidden_layer_sizes=discriminator_hidden_layer_sizes,
            input_shape=input_shape,
            conv_channels=conv_channels,
            activation=activation,
            encoder_type=encoder_type,
            noise_dim=noise_dim,
            dropout=dropout,
            input_noise=input_noise,
            discriminator_noise=discriminator_noise,
            reconstruction_loss=reconstruction_loss,
            reconstruction_weight=reconstruction_weight,
            adversarial_weight=adversarial_weight,
            discriminator_weight=discriminator_weight,
            attribute_weight=attribute_weight,
            attribute_delta=attribute_delta,
            learning_rate_init=learning_rate_init,
            reconstruction_learning_rate=reconstruction_learning_rate,
            discriminator_learning_rate=discriminator_learning_rate,
            generator_learning_rate=generator_learning_rate,
            beta_1=beta_1,
            beta_2=beta_2,
            batch_size=batch_size,
            max_epochs=max_epochs,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            n_iter_no_change=n_iter_no_change,
            tol=tol,
            warm_start=warm_start,
            weight_averaging=weight_averaging,
            learning_rate_decay=learning_rate_decay,
            precision=precision,
            encoder=encoder,
            decoder=decoder,
            discriminator=discriminator,
            device=device,
            verbose=verbose,
            random_state=random_state,
            checkpoint=checkpoint,
        )
        self.conditional_discriminator = conditional_discriminator

    # -- sklearn surface -----------------------------------------------------
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, attributes=None):
        """Train the autoencoder on labeled data.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
            Class label of every sample (required; integers or strings, at
            least two classes).
        attributes : array-like of shape (n_samples,) or (n_samples, n_attributes), \
                default=None
            Continuous attributes of the samples; column ``j`` is tied to style
            dimension ``j``, as in :meth:`AdversarialAutoencoder.fit`.

        Returns
        -------
        self : SupervisedAAE
        """
        return self._fit(X, self._check_targets(y), attributes=attributes)

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y=None, classes=None, attributes=None):
        """Train one epoch on ``X``, initialising the model on the first call.

        ``early_stopping`` does not apply: each call trains on all it is given.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
            Class labels (required on every call).
        classes : array-like, default=None
            All labels that will ever appear; needed on the first call when later
            batches may hold labels the first one lacks.
        attributes : array-like of shape (n_samples,) or (n_samples, n_attributes), \
                default=None
            As in :meth:`fit`; a model started with attributes needs the same
            columns on every call.

        Returns
        -------
        self : SupervisedAAE
        """
        if _is_dask_ml_placeholder(y):
            y = None
        return self._fit(
            X, self._check_targets(y), attributes=attributes, n_epochs=1, incremental=True,
            classes=classes,
        )

    def inverse_transform(self, X, y=None):
        """Decode style codes under the given classes.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_components)
            Style codes, as returned by ``transform``.
        y : label or array-like of shape (n_samples,)
            The class to render each style in: one label for all rows, or one per
            row. Required.

        Returns
        -------
        X : ndarray of shape (n_samples, n_features)
        """
        codes = self._check_codes(X)
        labels = self._class_indices(y, len(codes), "inverse_transform")
        decoded = self._batched(self._decode, codes, labels)
        return decoded.astype(codes.dtype, copy=False)

    def sample(self, n_samples=1, *, y=None, attributes=None, random_state=None):
        """Draw styles from the prior and decode them under chosen classes.

        Parameters
        ----------
        n_samples : int, default=1
        y : label or array-like of shape (n_samples,), default=None
            The class of the samples: one label for all, or one per sample.
            ``None`` draws each sample's class uniformly from ``classes_``.
        attributes : float or array-like of shape ``(n_samples, n_attributes_)``, default=None
            With a model fitted with ``attributes``: the attribute values of the
            style, mapped to code values as in
            :meth:`AdversarialAutoencoder.sample`; combines with ``y``.
        random_state : int, RandomState instance or None, default=None

        Returns
        -------
        X : ndarray of shape (n_samples, n_features)
        """
        check_is_fitted(self)
        random_state = check_random_state(random_state)
        codes = self._draw_codes(n_samples, None, random_state, attributes)
        if y is None:
            labels = random_state.randint(len(self.classes_), size=n_samples)
        else:
            labels = self._class_indices(y, n_samples, "sample")
        return self._batched(self._decode, codes, labels)

    def predict_proba(self, X):
        """Class probabilities from how well each class's decoding reconstructs ``X``.

        Each sample's style is decoded under every class; the probabilities are
        the softmax over classes of minus the mean per-feature reconstruction
        error times ``n_features_in_`` (minus the total error over the features).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Columns follow ``classes_``; rows sum to 1.
        """
        return softmax(-self._class_errors(X) * self.n_features_in_, axis=1)

    def predict(self, X):
        """The class whose decoding of the sample's style reconstructs it best.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        y : ndarray of shape (n_samples,)
        """
        errors = self._class_errors(X)
        return self.classes_[np.argmin(errors, axis=1)]

    def score_samples(self, X):
        """Minus the mean per-feature reconstruction error under the best class.

        The class is unknown at this point: each sample counts with the class
        whose decoding reconstructs it best (the one :meth:`predict` returns).
        Higher is better; low values flag samples that no class explains well.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        scores : ndarray of shape (n_samples,)
        """
        return -self._class_errors(X).min(axis=1)

    # -- labels --------------------------------------------------------------
    def _check_targets(self, y):
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is None: "
                "every sample needs its class label."
            )
        y = column_or_1d(y, warn=True)
        check_no_missing_labels(y)
        check_classification_targets(y)
        if y.dtype.kind in "iuf" and np.any(y == UNLABELED):
            raise ValueError(
                f"y contains {UNLABELED}, which marks an unlabeled sample; "
                f"{type(self).__name__} needs the label of every sample. Drop the "
                "unlabeled samples, or relabel them if -1 is a real class."
            )
        return y

    def _check_training_data(self, X, labels, classes):
        self._check_two_classes(classes)

    def _class_indices(self, y, n_samples, method):
        check_is_fitted(self)
        if y is None:
            raise ValueError(
                f"{method} needs y, the class to decode under: one label for all rows or "
                f"one per row, from classes_={self.classes_!r}."
            )
        y = labels_per_row(y, n_samples)
        indices, _ = self._encode_labels(y, self.classes_)
        if np.any(indices == UNLABELED):
            raise ValueError(
                f"y contains {UNLABELED}, which is not a class; known classes are "
                f"{self.classes_!r}."
            )
        return indices

    # -- model definition ----------------------------------------------------
    # AdversarialAutoencoder's networks and steps, with the label in the decoder
    # (and, with conditional_discriminator, beside the code in the discriminator).
    def _label_columns(self, classes):
        # The one-hot label, no "unlabeled" column: every sample has its label.
        return (len(classes) if self.conditional_discriminator else 0), len(classes)

    def _make_prior(self, classes):
        # One prior for the style of every class: the label goes to the decoder.
        return make_prior(self.prior)

    def _decoder_input(self, codes, batch):
        return self._with_label(codes, batch["y"])

    def _regularisation_labels(self, batch):
        return batch["y"] if self.conditional_discriminator else None

    def _prior_labels(self, labels):
        # The discriminator may see the label, but the prior is the same for every class.
        return None

    def _with_label(self, codes, labels):
        one_hot = F.one_hot(labels, len(self.classes_)).to(codes.dtype)
        return torch.cat([codes, one_hot], dim=1)

    # -- inference -----------------------------------------------------------
    def _decode(self, codes, labels):
        return self._networks["decoder"].decode(self._with_label(codes, labels))

    def _reconstruct_logits(self, x, labels):
        style = self._networks["encoder"].posterior_mean(x)
        return self._networks["decoder"](self._with_label(style, labels))

    def _validation_errors(self, chunk):
        return self._reconstruction_error(chunk["x"], chunk["y"])

    def _class_errors(self, X):
        """Mean per-feature reconstruction error of each sample under each class."""
        check_is_fitted(self)
        X = self._validate_X(X, reset=False)
        return self._batched(self._all_class_errors, X).astype(np.float64)

    def _all_class_errors(self, x):
        # Every (sample, class) pair in one decoder pass: rows are sample-major.
        n_samples, n_classes = len(x), len(self.classes_)
        styles = self._networks["encoder"].posterior_mean(x).repeat_interleave(n_classes, dim=0)
        labels = torch.arange(n_classes, device=x.device).repeat(n_samples)
        logits = self._networks["decoder"](self._with_label(styles, labels))
        targets = x.repeat_interleave(n_classes, dim=0)
        errors = reconstruction_error(logits, targets, self.reconstruction_loss_)
        return errors.mean(dim=1).view(n_samples, n_classes)
