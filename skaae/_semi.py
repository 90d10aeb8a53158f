"""Adversarial autoencoders with a categorical code (paper sections 5-6).

The encoder outputs class logits and a style code. One discriminator imposes a
categorical distribution on the softmax of the logits, another imposes the
``prior`` on the style, and the decoder reconstructs from both. With labels
(``SemiSupervisedAAE``) a classification step trains the logits on a labeled
mini-batch; without (``ClusteringAAE``) the categories become clusters.
"""

import math
import warnings
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import ClassifierMixin, ClusterMixin, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_array
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted
from torch.nn import functional as F

from ._base import _DEPRECATED_RATE, UNLABELED, BaseAAE, _is_dask_ml_placeholder, labels_per_row
from ._losses import (
    discriminator_loss,
    generator_loss,
    mixed_cross_entropy,
    neighbor_agreement_loss,
    reconstruction_error,
    virtual_adversarial_loss,
)
from ._neighbors import label_propagation_accuracy, nearest_neighbors, neighbor_distances
from .networks import ClusterHeads, Decoder, Encoder
from .priors import make_prior

_SHARED_PARAMETERS = """
    n_components : int, default={n_components}
        Size of the style code.
    prior : {{"gaussian", "mixture", "umbrella", "swiss_roll", "uniform"}}, \
            :class:`~skaae.priors.Prior`, object with ``sample`` or callable, default="gaussian"
        Distribution imposed on the style code.
    hidden_layer_sizes : array-like of int, default=(512, 512)
        Hidden layers of the encoder; the decoder mirrors them. With
        ``input_shape``, the dense layers between the convolutions and the codes.
    discriminator_hidden_layer_sizes : array-like of int, default=(512, 512)
        Hidden layers of both discriminators.
    input_shape : tuple of int, default=None
        ``(channels, height, width)`` when each row of ``X`` is an image
        flattened in that order: the default encoder and decoder are then
        convolutional. ``None`` builds multilayer perceptrons. Its product must
        equal ``n_features``.
    conv_channels : array-like of int, default=(32, 64, 128)
        With ``input_shape``: the channels of the encoder's stride-2
        convolutions, mirrored by the decoder's transposed convolutions.
    activation : {{"relu", "leaky_relu", "tanh", "elu", "gelu"}}, default="relu"
    dropout : float, default=0.0
        Dropout probability after each hidden layer of the encoder and decoder.
    input_noise : float, default=0.3
        Standard deviation of Gaussian noise added to the encoder's input in training.
    discriminator_noise : float, default=0.3
        Standard deviation of Gaussian noise added to both discriminators' inputs.
        Without it, the categorical discriminator tells one-hot draws from the
        encoder's softmax by its softness, and the encoder collapses onto one category.
    independent_style : bool, default=True
        Show the style discriminator each sample's most probable category (one-hot)
        beside its style, and pair the prior's draws with the same categories: the
        discriminator then imposes the prior on the style *within* each category,
        so the style code carries little information about the category (as in the
        paper's label-aware regularisation). ``False`` gives the paper's plain style
        discriminator, which only matches the style's overall distribution.
    reconstruction_loss : {{"mse", "bce", "auto"}}, default="{reconstruction_loss}"
        The decoder's loss: the squared error, or the binary cross-entropy for
        data in [0, 1] (its output then passes through a sigmoid). ``"auto"``
        picks ``"bce"`` when every value of ``X`` lies in [0, 1] and ``"mse"``
        otherwise; ``reconstruction_loss_`` holds the choice.
    consistency_weight : {weight_type}, default={consistency_weight}
        Weight of a consistency step on every mini-batch: virtual adversarial
        training (Miyato et al., 2018), which asks the categorical code to stay
        the same under the small perturbation of the input that changes it most.
        It lets the unlabeled samples shape the class boundaries. ``0`` skips
        the step (and its extra encoder passes).{consistency_auto}
    consistency_radius : float or "neighbors", default={consistency_radius}
        Size of that perturbation. A float is its root mean square per feature,
        in the units of ``X``, the same for every sample (0.07 of pixels in
        [0, 1] is an L2 norm of about 2 for a 28x28 image). ``"neighbors"``
        gives each sample its own: a quarter of its Euclidean distance to its
        ``n_neighbors``-th nearest training sample (within the chunk, for
        ``partial_fit``; as IMSAT does, Hu et al., 2017), small where the
        samples are dense and larger where they are sparse, so that the
        perturbation stays inside the sample's neighbourhood. It costs the neighbour search at the start of ``fit``
        when the neighbour step does not run.
    neighbor_weight : {weight_type}, default={neighbor_weight}
        Weight of a step that asks each sample and one of its ``n_neighbors``
        nearest training samples (Euclidean distance in ``X``, found once per
        ``fit``) to share a category, as a k-nearest-neighbour graph does for
        UMAP or label spreading; the categorical discriminator keeps the
        categories balanced. ``0`` skips the step, and the neighbour search
        unless ``consistency_radius="neighbors"`` needs it.{neighbor_auto}
    n_neighbors : int, default=10
        Neighbours per sample for that step, and for the consistency radius
        ``"neighbors"``.
    head_distance : float, default=None
        Turns on the paper's dimensionality reduction (section 7): each
        category gets a learned cluster head in ``n_components`` dimensions, a
        sample's representation is its head (mixed by the category
        probabilities) plus its style code, the decoder reconstructs from that
        representation, and ``transform`` returns it (``n_components=2`` or ``3``
        for plots). A cost pushes apart any two heads closer than
        ``head_distance`` (in units of the style prior: 6.0 keeps unit-variance
        clusters apart). ``inverse_transform`` then decodes representations
        without ``y``. ``None`` keeps the style code alone as the code.
    reconstruction_weight, adversarial_weight, discriminator_weight : float, default=1.0
        Weights of the reconstruction, adversarial (both codes) and discriminator
        phases. Each phase has its own Adam optimizer, which would undo a
        constant factor on its loss, so a weight scales the phase's learning
        rate instead, as a loss weight does under plain gradient descent. A
        weight of 0 leaves its step out; ``discriminator_weight=0`` leaves the
        adversarial step out too (it would train against an untrained critic).
    learning_rate_init : float, default={learning_rate}
        Adam learning rate of every step, times the step's weight.
    reconstruction_learning_rate, discriminator_learning_rate, generator_learning_rate : \
            float, default="deprecated"
        Deprecated in 0.2, removed in 0.3: set the phase's weight instead
        (user guide: "One knob per phase").
    beta_1, beta_2 : float, default=0.5, 0.999
    batch_size : int, default=100
    max_epochs : int, default={max_epochs}
    early_stopping : bool, default=False
        Stop on the held-out reconstruction error (see AdversarialAutoencoder).
    validation_fraction : float, default=0.1
    n_iter_no_change : int, default=10
    tol : float, default=1e-4
    warm_start : bool, default=False
    weight_averaging : float, default={weight_averaging}
        End each ``fit`` with the mean of the weights at the end of its last
        ``weight_averaging * max_epochs`` epochs; ``0`` keeps the last weights
        (see AdversarialAutoencoder).
    learning_rate_decay : float, default={learning_rate_decay}
        Fraction of the last epochs of each ``fit`` over which the learning
        rates fall along a half cosine towards zero; ``0`` keeps them constant
        (see AdversarialAutoencoder).
    precision : {{"float32", "bfloat16", "auto"}}, default="float32"
    encoder, decoder : torch.nn.Module or callable, default=None
        Bodies of the encoder (``n_features -> n_categories + n_components``, logits
        first) and the decoder (``n_categories + n_components -> n_features``).
    include_proba : bool, default=False
        Make ``transform`` return the category probabilities before the style code.
    device : str or torch.device, default="auto"
        ``"auto"`` takes a GPU when there is one. Under ``torchrun`` (a process
        group of several ranks), ``"auto"`` and ``"cuda"`` take each rank's own
        GPU, ``cuda:LOCAL_RANK``.
    verbose : int, default=0
    random_state : int, RandomState instance or None, default=None
    checkpoint : str or path-like, default=None
        File that ``fit`` rewrites with the training state after every epoch; a
        ``fit`` that finds one of the same parameters and data resumes after its
        last finished epoch, exactly (user guide: "Checkpoints and exact resume").
"""


class _CategoricalAAE(BaseAAE):
    """Shared model of SemiSupervisedAAE and ClusteringAAE."""

    _parameter_constraints: dict = {
        **{
            k: v for k, v in BaseAAE._parameter_constraints.items()
            if k not in ("encoder_type", "noise_dim", "discriminator")
        },
        "include_proba": ["boolean"],
        "independent_style": ["boolean"],
        "consistency_weight": [Interval(Real, 0, None, closed="left")],
        "consistency_radius": [
            Interval(Real, 0, None, closed="neither"), StrOptions({"neighbors"})
        ],
        "neighbor_weight": [Interval(Real, 0, None, closed="left")],
        "head_distance": [None, Interval(Real, 0, None, closed="neither")],
        "n_neighbors": [Interval(Integral, 1, None, closed="left")],
    }

    # -- model definition ----------------------------------------------------
    @property
    def _n_categories(self):
        return self._count_categories(getattr(self, "classes_", None))

    def _make_prior(self, classes):
        return make_prior(self.prior)

    def _build_networks(self, n_features, generator, classes, output):
        n_categories = self._count_categories(classes)
        n_code = n_categories + self.n_components
        # With cluster heads the decoder reads the n_components-dimensional
        # representation (head + style), as in the paper's section 7.
        n_decoded = n_code if self.head_distance is None else self.n_components
        default_encoder, default_decoder = self._default_bodies(n_features, n_code, n_decoded)
        n_style_critic = self.n_components + (n_categories if self.independent_style else 0)
        bodies = self._build_bodies(generator, {
            "encoder": (self.encoder, n_features, n_code, default_encoder),
            "decoder": (self.decoder, n_decoded, n_features, default_decoder),
            "category_discriminator": (
                None, n_categories, 1, self._default_critic(n_categories)
            ),
            "style_discriminator": (
                None, n_style_critic, 1, self._default_critic(n_style_critic)
            ),
        })
        networks = {
            "encoder": Encoder(bodies["encoder"], n_code),
            "decoder": Decoder(bodies["decoder"], output),
            "category_discriminator": bodies["category_discriminator"],
            "style_discriminator": bodies["style_discriminator"],
        }
        if self.head_distance is not None:
            networks["cluster_heads"] = ClusterHeads(
                n_categories, self.n_components, self.head_distance, generator
            )
        return networks

    def _decoder_input(self, networks, categories, style):
        """What the decoder reads: the categories (one-hot or probabilities) beside
        the style, or with cluster heads their representation ``heads + style``."""
        if self.head_distance is None:
            return torch.cat([categories, style], dim=1)
        return networks["cluster_heads"](categories, style)

    def _split(self, code):
        return code[:, : self._n_categories], code[:, self._n_categories :]

    def _training_code(self, batch, networks):
        return batch.memo(
            "code", ("encoder",), lambda: networks["encoder"](self._noisy_input(batch["x"], batch.generator))
        )

    #: Whether the consistency term joins the neighbour step's loss (one
    #: optimizer for both) instead of running as a step of its own. Each step
    #: has its own Adam optimizer, which scales any gradient to a full-size
    #: update: a separate consistency step then flattens the class
    #: probabilities however small its loss, and without labels only the
    #: neighbour step's balance term resists (a ClusteringAAE of 64 hidden
    #: units fell to uniform probabilities in its first epoch). Joined, the
    #: term weighs against the neighbour agreement as in IMSAT's single loss.
    _CONSISTENCY_JOINS_NEIGHBORS = False

    def _make_steps(self, networks):
        decoder = networks["decoder"]
        category_critic = networks["category_discriminator"]
        style_critic = networks["style_discriminator"]
        n_categories = self._n_categories
        # Joined, the neighbour step adds the consistency term to its own loss
        # and there is no consistency step (see _CONSISTENCY_JOINS_NEIGHBORS).
        joined = (
            self._CONSISTENCY_JOINS_NEIGHBORS
            and self._setting("neighbor_weight") > 0
            and self._setting("consistency_weight") > 0
        )

        def reconstruction(batch):
            logits, style = self._split(self._training_code(batch, networks))
            decoded = decoder(self._decoder_input(networks, torch.softmax(logits, dim=1), style))
            error = reconstruction_error(decoded, batch["x"], self.reconstruction_loss_).mean()
            if self.head_distance is not None:
                error = error + networks["cluster_heads"].crowding()
            return error

        def with_category(logits, style):
            # The style discriminator's input: with independent_style, the most
            # probable category (one-hot, no gradient) before the style.
            if not self.independent_style:
                return style
            hard = F.one_hot(logits.detach().argmax(dim=1), n_categories).to(style.dtype)
            return torch.cat([hard, style], dim=1)

        def discriminators(batch):
            logits, style = self._split(self._training_code(batch, networks).detach())
            n = len(style)
            categories = torch.randint(
                n_categories, (n,), generator=batch.generator, device=style.device
            )
            one_hot = F.one_hot(categories, n_categories).to(style.dtype)
            drawn = self.prior_.sample(n, self.n_components, generator=batch.generator)
            blur = dict(noise=self.discriminator_noise, generator=batch.generator)
            return (
                discriminator_loss(category_critic, one_hot, torch.softmax(logits, dim=1), **blur)
                + discriminator_loss(
                    style_critic, with_category(logits, drawn.to(style.dtype)),
                    with_category(logits, style), **blur,
                )
            )

        def adversarial(batch):
            logits, style = self._split(self._training_code(batch, networks))
            blur = dict(noise=self.discriminator_noise, generator=batch.generator)
            return (
                generator_loss(category_critic, torch.softmax(logits, dim=1), **blur)
                + generator_loss(style_critic, with_category(logits, style), **blur)
            )

        def consistency(batch):
            encoder = networks["encoder"]
            if self._radius_from_neighbors():
                radius = batch["consistency_radius"]
            else:
                radius = self.consistency_radius * math.sqrt(batch["x"].shape[1])
            return virtual_adversarial_loss(
                lambda x: self._split(encoder(x))[0], batch["x"],
                radius=radius, generator=batch.generator,
            )

        def neighbors(batch):
            encoder = networks["encoder"]
            table = batch["neighbors"]
            pick = torch.randint(
                table.shape[1], (len(table), 1), generator=batch.generator, device=table.device
            )
            neighbor_x = batch.data["pool_x"][table.gather(1, pick).squeeze(1)]
            logits, _ = self._split(self._training_code(batch, networks))
            neighbor_logits, _ = self._split(
                encoder(self._noisy_input(neighbor_x, batch.generator))
            )
            agreement = neighbor_agreement_loss(logits, neighbor_logits)
            if joined:
                return agreement + self._setting("consistency_weight") * consistency(batch)
            return agreement

        trained_by_reconstruction = ("encoder", "decoder") + (
            () if self.head_distance is None else ("cluster_heads",)
        )
        critics = ("category_discriminator", "style_discriminator")
        return [
            self._phase_step("reconstruction", trained_by_reconstruction, reconstruction),
            self._phase_step("discriminator", critics, discriminators),
            self._phase_step("adversarial", ("encoder",), adversarial, frozen=critics),
            self._phase_step("neighbors", ("encoder",), neighbors),
        ] + ([] if joined else [self._phase_step("consistency", ("encoder",), consistency)])

    #: With ``consistency_radius="neighbors"``, the perturbation's norm as a
    #: share of the distance to the ``n_neighbors``-th nearest sample (IMSAT's
    #: 0.25, Hu et al., 2017).
    _NEIGHBOR_RADIUS_SCALE = 0.25

    def _radius_from_neighbors(self):
        return self._setting("consistency_weight") > 0 and self.consistency_radius == "neighbors"

    def _add_training_tensors(self, data, neighbors=None):
        """``data`` with the neighbour table when the neighbour step runs, and
        each sample's perturbation radius when it comes from its neighbours;
        ``neighbors``, when given, is that table, already found."""
        use_table = self._setting("neighbor_weight") > 0
        use_radius = self._radius_from_neighbors()
        if not (use_table or use_radius):
            return data
        if neighbors is None:
            neighbors = nearest_neighbors(data["x"], self.n_neighbors)
        data = dict(data)
        if use_table:
            data["neighbors"] = neighbors
        if use_radius:
            data["consistency_radius"] = (
                self._NEIGHBOR_RADIUS_SCALE * neighbor_distances(data["x"], neighbors)
            )
        return data

    def _extra_data(self, data):
        # The neighbours' rows come from the whole training set, not the mini-batch.
        return {"pool_x": data["x"]} if self._setting("neighbor_weight") > 0 else {}

    # -- inference -------------------------------------------------------------
    def _code(self, x):
        logits, style = self._split(self._networks["encoder"].posterior_mean(x))
        proba = torch.softmax(logits.float(), dim=1)
        if self.head_distance is not None:
            style = self._decoder_input(self._networks, proba, style.float())
        if self.include_proba:
            return torch.cat([proba, style.float()], dim=1)
        return style

    def _proba(self, x):
        logits, _ = self._split(self._networks["encoder"].posterior_mean(x))
        return torch.softmax(logits.float(), dim=1)

    def _reconstruct_logits(self, x):
        logits, style = self._split(self._networks["encoder"].posterior_mean(x))
        return self._networks["decoder"](
            self._decoder_input(self._networks, torch.softmax(logits, dim=1), style)
        )

    @property
    def _n_features_out(self):
        return self.n_components + (self._n_categories if self.include_proba else 0)

    def _category_probabilities(self, X):
        check_is_fitted(self)
        X = self._validate_X(X, reset=False)
        return self._batched(self._proba, X)

    def _decode_codes(self, X, y):
        """``inverse_transform``: style codes under the categories ``y``, codes that
        already hold the category probabilities (``include_proba=True``), or, with
        cluster heads and no ``y``, representations (head + style)."""
        check_is_fitted(self)
        codes = check_array(X, dtype=[np.float64, np.float32], input_name="X")
        k = self._n_categories
        with_proba = self.include_proba and y is None and codes.shape[1] == k + self.n_components
        if self.head_distance is not None and y is None:
            # A representation already holds its head: the decoder reads it as it is.
            representation = codes[:, k:] if with_proba else codes
            if representation.shape[1] != self.n_components:
                raise ValueError(
                    f"The codes have {codes.shape[1]} columns, but this model's "
                    f"representation has n_components={self.n_components}."
                )
            decoded = self._batched(
                self._networks["decoder"].decode, representation.astype(np.float32)
            )
            return decoded.astype(codes.dtype, copy=False)
        if with_proba:
            categories, style = codes[:, :k], codes[:, k:]
        else:
            if codes.shape[1] != self.n_components:
                raise ValueError(
                    f"The codes have {codes.shape[1]} columns, but this model's style code "
                    f"has n_components={self.n_components}."
                )
            if y is None:
                raise ValueError(
                    "inverse_transform needs y: the class (or cluster) of each style."
                )
            categories = np.eye(k, dtype=np.float32)[self._category_indices(y, len(codes))]
            style = codes
        return self._decode(categories, style).astype(codes.dtype, copy=False)

    def _decode(self, categories, style):
        """Decode one-hot (or soft) categories and style codes to input space."""
        def decode(categories, style):
            return self._networks["decoder"].decode(
                self._decoder_input(self._networks, categories, style)
            )

        return self._batched(
            decode, categories.astype(np.float32), np.asarray(style, dtype=np.float32)
        )

    def _sample_codes(self, n_samples, categories, random_state):
        generator = self._sampling_generator(n_samples, random_state)
        style = self.prior_.sample(n_samples, self.n_components, generator=generator)
        if categories is None:
            categories = torch.randint(
                self._n_categories, (n_samples,), generator=generator, device=self.device_
            ).cpu().numpy()
        return np.eye(self._n_categories, dtype=np.float32)[categories], style.cpu().numpy()


class SemiSupervisedAAE(ClassifierMixin, _CategoricalAAE):
    __doc__ = """Semi-supervised adversarial autoencoder: a classifier trained mostly on unlabeled data.

    The encoder splits each input into a class (a softmax over ``classes_``) and
    a style code. Every mini-batch runs the paper's phases (Fig. 8): a
    reconstruction step; a regularisation phase in which one discriminator
    learns to tell the class probabilities from one-hot draws and another the
    style code from ``prior`` draws, then the encoder is trained to fool both;
    and a classification step, cross-entropy on a mini-batch of the labeled
    samples. Mark unlabeled samples with ``-1`` in ``y``.

    Parameters
    ----------""" + _SHARED_PARAMETERS.format(
        n_components=4, max_epochs=100, learning_rate="1e-3", weight_averaging="0.0",
        learning_rate_decay="0.8",
        consistency_weight='"auto"', consistency_radius="0.07", neighbor_weight='"auto"',
        reconstruction_loss="mse",
        weight_type='float or "auto"',
        consistency_auto="""
        ``"auto"``: ``1.0`` where the neighbour graph of ``X`` carries the
        labels (``label_propagation_accuracy_`` at least 0.8), else ``0``;
        ``consistency_weight_`` holds the value the fit used.""",
        neighbor_auto="""
        ``"auto"``: ``1.0`` where that graph carries the labels: label
        spreading over it, cross-validated on at most 10 labeled samples per
        class, predicts at least 80% of them (``label_propagation_accuracy_``),
        as on digits, where both graph steps more than halve the error; on
        Fashion-MNIST (0.59 to 0.77) about a quarter of the neighbours are of
        another class and both steps teach the encoder those mistakes, so
        ``"auto"`` leaves them off there. ``neighbor_weight_`` holds the value
        the fit used.""",
    ) + """
    classification_weight : float, default=1.0
        Weight of the classification phase (the cross-entropy on labeled
        mini-batches); like the other weights it scales the phase's learning rate.
    classification_learning_rate : float, default="deprecated"
        Deprecated in 0.2, removed in 0.3: set ``classification_weight``
        (the step runs at ``learning_rate_init * classification_weight``).
    labeled_batch_size : int, default=None
        Labeled samples per classification step (default ``batch_size``), drawn
        with replacement so that a few labels serve every step.
    label_mixup : float or "auto", default="auto"
        Mixup (Zhang et al., 2018) in the classification step: each labeled
        sample is blended with another labeled sample, which takes a share
        drawn uniformly from ``[0, label_mixup]`` of the input and of the
        target. With a few labels the step otherwise drives its loss to zero
        on them within a few epochs and stops teaching the class code
        anything; blends keep it learning about the space between them.
        ``0.5`` draws shares from the whole range (mixup with ``alpha=1``);
        ``0`` trains on the labeled samples as they are. ``"auto"``: ``0.5``
        where the graph steps are off (``neighbor_weight`` and
        ``consistency_weight``), ``0`` where they run: there the unlabeled
        neighbours keep the class code learning, and blends measured worse
        (digits, 10 labels per class: 2.8% error against 2.2%).
        ``label_mixup_`` holds the value the fit used.

    Attributes
    ----------
    classes_ : ndarray
        The labels (``-1`` excluded).
    label_propagation_accuracy_ : float or None
        How well the neighbour graph of ``X`` carries the labels (see
        ``neighbor_weight``); None where no parameter is ``"auto"``, or where
        a class has fewer than two labeled samples (the graph steps then stay off).
    neighbor_weight_, consistency_weight_, label_mixup_ : float
        The values the fit trained with (``"auto"`` resolved on the first fit
        and kept by continued ones).
    encoder_, decoder_, category_discriminator_, style_discriminator_ : torch.nn.Module
    prior_ : skaae.priors.Prior
    history_ : list of dict
    n_iter_ : int
    device_ : torch.device
    n_features_in_ : int

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_digits
    >>> from skaae import SemiSupervisedAAE
    >>> X, y = load_digits(return_X_y=True)
    >>> y_partial = np.where(np.arange(len(y)) % 10 == 0, y, -1)   # 10% labeled
    >>> model = SemiSupervisedAAE(hidden_layer_sizes=(64,), discriminator_hidden_layer_sizes=(64,),
    ...                           max_epochs=2, device="cpu", random_state=0).fit(X / 16, y_partial)
    >>> model.predict_proba(X[:3] / 16).shape
    (3, 10)
    """

    _parameter_constraints: dict = {
        **_CategoricalAAE._parameter_constraints,
        "classification_weight": [Interval(Real, 0, None, closed="left")],
        "classification_learning_rate": _DEPRECATED_RATE,
        "labeled_batch_size": [None, Interval(Integral, 1, None, closed="left")],
        "label_mixup": [Interval(Real, 0, 0.5, closed="both"), StrOptions({"auto"})],
        "neighbor_weight": [Interval(Real, 0, None, closed="left"), StrOptions({"auto"})],
        "consistency_weight": [Interval(Real, 0, None, closed="left"), StrOptions({"auto"})],
    }

    def __init__(
        self,
        n_components=4,
        *,
        prior="gaussian",
        hidden_layer_sizes=(512, 512),
        discriminator_hidden_layer_sizes=(512, 512),
        input_shape=None,
        conv_channels=(32, 64, 128),
        activation="relu",
        dropout=0.0,
        input_noise=0.3,
        discriminator_noise=0.3,
        independent_style=True,
        reconstruction_loss="mse",
        consistency_weight="auto",
        consistency_radius=0.07,
        neighbor_weight="auto",
        n_neighbors=10,
        head_distance=None,
        reconstruction_weight=1.0,
        adversarial_weight=1.0,
        discriminator_weight=1.0,
        classification_weight=1.0,
        learning_rate_init=1e-3,
        reconstruction_learning_rate="deprecated",
        discriminator_learning_rate="deprecated",
        generator_learning_rate="deprecated",
        classification_learning_rate="deprecated",
        beta_1=0.5,
        beta_2=0.999,
        batch_size=100,
        labeled_batch_size=None,
        label_mixup="auto",
        max_epochs=100,
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
        include_proba=False,
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
        self.dropout = dropout
        self.input_noise = input_noise
        self.discriminator_noise = discriminator_noise
        self.independent_style = independent_style
        self.reconstruction_loss = reconstruction_loss
        self.consistency_weight = consistency_weight
        self.consistency_radius = consistency_radius
        self.neighbor_weight = neighbor_weight
        self.n_neighbors = n_neighbors
        self.head_distance = head_distance
        self.reconstruction_weight = reconstruction_weight
        self.adversarial_weight = adversarial_weight
        self.discriminator_weight = discriminator_weight
        self.classification_weight = classification_weight
        self.learning_rate_init = learning_rate_init
        self.reconstruction_learning_rate = reconstruction_learning_rate
        self.discriminator_learning_rate = discriminator_learning_rate
        self.generator_learning_rate = generator_learning_rate
        self.classification_learning_rate = classification_learning_rate
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.batch_size = batch_size
        self.labeled_batch_size = labeled_batch_size
        self.label_mixup = label_mixup
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
        self.include_proba = include_proba
        self.device = device
        self.verbose = verbose
        self.random_state = random_state
        self.checkpoint = checkpoint

    def _count_categories(self, classes):
        if classes is None:
            # AttributeError, not TypeError: before a fit, hasattr and dir() see no code size.
            raise AttributeError("SemiSupervisedAAE has no categories before fit sets classes_.")
        return len(classes)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Train on all of ``X``; the labels of ``y`` (``-1`` = unlabeled) train the classes.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)

        Returns
        -------
        self : SemiSupervisedAAE
        """
        return self._fit(X, self._check_targets(y))

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, classes=None):
        """Train one epoch on ``X``, initialising the model on the first call.

        ``early_stopping`` and ``weight_averaging`` do not apply: each call
        trains on all it is given. A call whose ``y`` holds no label (every
        entry ``-1``) trains the reconstruction and regularisation phases and
        skips the classification step. The ``"auto"`` graph settings are
        decided on the first call's chunk and kept by later calls; a first
        chunk without two labels of every class cannot measure the graph, and
        leaves the graph steps off (``label_propagation_accuracy_`` None).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
            Labels, ``-1`` for unlabeled samples (required on every call).
        classes : array-like
            Every label that will ever appear (``-1`` is left out). Required on
            the first call, as for scikit-learn's ``MLPClassifier``: the classes
            fix the size of the categorical code, and a first chunk may lack
            some. Later calls may omit it or must repeat it.

        Returns
        -------
        self : SemiSupervisedAAE
        """
        y = self._check_targets(None if _is_dask_ml_placeholder(y) else y)
        if classes is None and not hasattr(self, "encoder_"):
            raise ValueError(
                "classes must be passed on the first call to partial_fit: every label "
                "that will ever appear, for example classes=np.arange(10)."
            )
        return self._fit(X, y, n_epochs=1, incremental=True, classes=classes)

    def _check_targets(self, y):
        if y is None:
            raise ValueError(
                "SemiSupervisedAAE requires y to be passed, but the target y is None; "
                "mark unlabeled samples with -1, or use ClusteringAAE to cluster without labels."
            )
        return y

    def _check_training_data(self, X, labels, classes):
        self._check_two_classes(classes)
        # A partial_fit chunk (or a warm-started fit) may hold no label at all;
        # it still trains the unsupervised phases, without the classification step.
        self._classify_this_call = bool(np.any(labels != UNLABELED))

    #: Before 0.2 the labeled samples were not blended.
    _OLDER_DEFAULTS = {**_CategoricalAAE._OLDER_DEFAULTS, "label_mixup": 0.0}

    #: What ``"auto"`` resolves each of these parameters to: (where the
    #: neighbour graph carries the labels, where it does not).
    _GRAPH_SETTINGS = {
        "neighbor_weight": (1.0, 0.0),
        "consistency_weight": (1.0, 0.0),
        "label_mixup": (0.0, 0.5),
    }
    #: The cross-validated label-spreading accuracy from which the graph carries
    #: the labels: the digits measure 0.88-0.95, all of Fashion-MNIST 0.59-0.77.
    _GRAPH_CARRIES_LABELS = 0.8

    def _setting(self, name):
        if name in self._GRAPH_SETTINGS and getattr(self, name) == "auto":
            return getattr(self, name + "_")
        return super()._setting(name)

    def _add_training_tensors(self, data):
        return super()._add_training_tensors(data, self._resolve_graph_settings(data))

    def _resolve_graph_settings(self, data):
        """Set ``neighbor_weight_``, ``consistency_weight_`` and ``label_mixup_``.

        The first fit resolves ``"auto"`` by measuring how well the neighbour
        graph carries the labels; continued fits keep what it decided. Returns
        the neighbour table when it was found here, for the neighbour step.
        """
        auto = [name for name in self._GRAPH_SETTINGS if getattr(self, name) == "auto"]
        neighbors = None
        if not hasattr(self, "label_propagation_accuracy_"):
            accuracy = None
            if auto and self._classify_this_call:
                neighbors = nearest_neighbors(data["x"], self.n_neighbors)
                # A fixed draw of the folds: the same measurement on every rank under torchrun.
                accuracy = label_propagation_accuracy(
                    neighbors, data["y"], len(self.classes_), torch.Generator().manual_seed(0)
                )
            self.label_propagation_accuracy_ = accuracy
            carries = accuracy is not None and accuracy >= self._GRAPH_CARRIES_LABELS
            for name, (where_it_carries, elsewhere) in self._GRAPH_SETTINGS.items():
                resolved = where_it_carries if carries else elsewhere
                setattr(self, name + "_", resolved if name in auto else getattr(self, name))
        else:
            for name in self._GRAPH_SETTINGS:
                if name not in auto:
                    setattr(self, name + "_", getattr(self, name))
        return neighbors

    def _extra_data(self, data):
        # Labeled samples only; the classification step draws its batches here.
        # (With early stopping, these are the labeled training samples.)
        if not self._classify_this_call:
            return super()._extra_data(data)
        labeled = data["y"] != UNLABELED
        if not bool(labeled.any()):
            raise ValueError(
                "No labeled sample is left for training once the validation split is held "
                "out; lower validation_fraction, label more samples, or set "
                "early_stopping=False."
            )
        return {
            **super()._extra_data(data),
            "labeled_x": data["x"][labeled], "labeled_y": data["y"][labeled],
        }

    def _make_steps(self, networks):
        steps = super()._make_steps(networks)
        encoder = networks["encoder"]
        n_labeled_batch = self.labeled_batch_size or self.batch_size

        def classification(batch):
            labeled = batch.data
            # Under torchrun each rank draws its share of the labeled batch.
            rows = torch.randint(
                len(labeled["labeled_y"]), (batch.share(n_labeled_batch),),
                generator=batch.generator,
                device=labeled["labeled_y"].device,
            )
            x, y = labeled["labeled_x"][rows], labeled["labeled_y"][rows]
            label_mixup = self._setting("label_mixup")
            if label_mixup == 0:
                logits, _ = self._split(encoder(self._noisy_input(x, batch.generator)))
                return F.cross_entropy(logits.float(), y)
            partners = torch.randint(
                len(labeled["labeled_y"]), (len(rows),), generator=batch.generator,
                device=rows.device,
            )
            share = label_mixup * torch.rand(
                (len(rows), 1), generator=batch.generator, device=x.device
            )
            blended = (1 - share) * x + share * labeled["labeled_x"][partners]
            logits, _ = self._split(encoder(self._noisy_input(blended, batch.generator)))
            return mixed_cross_entropy(
                logits, y, labeled["labeled_y"][partners], share.squeeze(1)
            )

        if self._classify_this_call:
            steps.append(self._phase_step("classification", ("encoder",), classification))
        return steps

    def predict_proba(self, X):
        """Class probabilities: the softmax of the encoder's class code.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
        """
        return self._category_probabilities(X).astype(np.float64)

    def predict(self, X):
        """The most probable class of each sample.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        y : ndarray of shape (n_samples,)
        """
        proba = self._category_probabilities(X)
        return self.classes_[np.argmax(proba, axis=1)]

    def inverse_transform(self, X, y=None):
        """Decode style codes under given classes (or codes that include probabilities).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_components)
            Style codes; with ``include_proba=True``, the output of ``transform``.
        y : label or array-like of shape (n_samples,), default=None
            The class to render each style in (needed unless ``X`` holds probabilities).

        Returns
        -------
        X_decoded : ndarray of shape (n_samples, n_features)
        """
        return self._decode_codes(X, y)

    def _category_indices(self, y, n):
        y = labels_per_row(y, n)
        if y.dtype.kind in "iuf" and np.any(y == UNLABELED):
            raise ValueError("y must name classes here; -1 (unlabeled) is not a class.")
        return self._encode_labels(y, self.classes_)[0]

    def sample(self, n_samples=1, *, y=None, random_state=None):
        """Decode draws of the style prior under given (or uniformly drawn) classes.

        Parameters
        ----------
        n_samples : int, default=1
        y : label or array-like of shape (n_samples,), default=None
        random_state : int, RandomState instance or None, default=None

        Returns
        -------
        X : ndarray of shape (n_samples, n_features)
        """
        check_is_fitted(self)
        categories = None if y is None else self._category_indices(y, n_samples)
        one_hot, style = self._sample_codes(n_samples, categories, random_state)
        return self._decode(one_hot, style)


class ClusteringAAE(ClusterMixin, _CategoricalAAE):
    __doc__ = """Unsupervised clustering with an adversarial autoencoder (paper section 6).

    The model of :class:`SemiSupervisedAAE` without labels: the categorical code
    has ``n_clusters`` categories, which the categorical discriminator keeps
    one-hot-like and balanced, and the style code holds the rest. A sample's
    cluster is its most probable category.

    Parameters
    ----------
    n_clusters : int, default=16""" + _SHARED_PARAMETERS.format(
        n_components=4, max_epochs=100, learning_rate="2e-3", weight_averaging="0.3",
        learning_rate_decay="0.0",
        consistency_weight='"auto"', consistency_radius='"neighbors"', neighbor_weight="1.0",
        reconstruction_loss="mse",
        weight_type="float", neighbor_auto="",
        consistency_auto="""
        ``"auto"``: ``1.0`` while the neighbour step runs, else ``0``;
        ``consistency_weight_`` holds the value the fit used.
        While the neighbour step runs (``neighbor_weight > 0``), the term joins
        that step's loss, weighted by ``consistency_weight``, instead of running
        as a step of its own: with one optimizer for both, the neighbour
        agreement and its balance term keep it from flattening the cluster
        probabilities (on its own, the step collapses the clusters; the user
        guide has the figures). ``history_`` then records the sum under
        ``"neighbors"``.""",
    ) + """
    Attributes
    ----------
    labels_ : ndarray of shape (n_samples,)
        Cluster of each training sample.
    consistency_weight_ : float
        The consistency weight the fit used (``"auto"`` resolved).
    encoder_, decoder_, category_discriminator_, style_discriminator_ : torch.nn.Module
    prior_ : skaae.priors.Prior
    history_ : list of dict
    n_iter_ : int
    device_ : torch.device
    n_features_in_ : int

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skaae import ClusteringAAE
    >>> X = load_digits().data / 16
    >>> model = ClusteringAAE(n_clusters=16, hidden_layer_sizes=(64,),
    ...                       discriminator_hidden_layer_sizes=(64,), max_epochs=2,
    ...                       device="cpu", random_state=0)
    >>> model.fit_predict(X).shape
    (1797,)
    """

    _parameter_constraints: dict = {
        **_CategoricalAAE._parameter_constraints,
        "n_clusters": [Interval(Integral, 1, None, closed="left")],
    }

    _CONSISTENCY_JOINS_NEIGHBORS = True

    _parameter_constraints["consistency_weight"] = [
        Interval(Real, 0, None, closed="left"), StrOptions({"auto"})
    ]

    def _setting(self, name):
        if name == "consistency_weight" and self.consistency_weight == "auto":
            # Only joined to the neighbour step does the term leave the
            # clusters in place (see _CONSISTENCY_JOINS_NEIGHBORS).
            return 1.0 if self._setting("neighbor_weight") > 0 else 0.0
        return super()._setting(name)

    def _add_training_tensors(self, data, neighbors=None):
        self.consistency_weight_ = float(self._setting("consistency_weight"))
        return super()._add_training_tensors(data, neighbors)

    def __init__(
        self,
        n_clusters=16,
        *,
        n_components=4,
        prior="gaussian",
        hidden_layer_sizes=(512, 512),
        discriminator_hidden_layer_sizes=(512, 512),
        input_shape=None,
        conv_channels=(32, 64, 128),
        activation="relu",
        dropout=0.0,
        input_noise=0.3,
        discriminator_noise=0.3,
        independent_style=True,
        reconstruction_loss="mse",
        consistency_weight="auto",
        consistency_radius="neighbors",
        neighbor_weight=1.0,
        n_neighbors=10,
        head_distance=None,
        reconstruction_weight=1.0,
        adversarial_weight=1.0,
        discriminator_weight=1.0,
        learning_rate_init=2e-3,
        reconstruction_learning_rate="deprecated",
        discriminator_learning_rate="deprecated",
        generator_learning_rate="deprecated",
        beta_1=0.5,
        beta_2=0.999,
        batch_size=100,
        max_epochs=100,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=10,
        tol=1e-4,
        warm_start=False,
        weight_averaging=0.3,
        learning_rate_decay=0.0,
        precision="float32",
        encoder=None,
        decoder=None,
        include_proba=False,
        device="auto",
        verbose=0,
        random_state=None,
        checkpoint=None,
    ):
        self.n_clusters = n_clusters
        self.n_components = n_components
        self.prior = prior
        self.hidden_layer_sizes = hidden_layer_sizes
        self.discriminator_hidden_layer_sizes = discriminator_hidden_layer_sizes
        self.input_shape = input_shape
        self.conv_channels = conv_channels
        self.activation = activation
        self.dropout = dropout
        self.input_noise = input_noise
        self.discriminator_noise = discriminator_noise
        self.independent_style = independent_style
        self.reconstruction_loss = reconstruction_loss
        self.consistency_weight = consistency_weight
        self.consistency_radius = consistency_radius
        self.neighbor_weight = neighbor_weight
        self.n_neighbors = n_neighbors
        self.head_distance = head_distance
        self.reconstruction_weight = reconstruction_weight
        self.adversarial_weight = adversarial_weight
        self.discriminator_weight = discriminator_weight
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
        self.include_proba = include_proba
        self.device = device
        self.verbose = verbose
        self.random_state = random_state
        self.checkpoint = checkpoint

    def _count_categories(self, classes):
        return self.n_clusters

    def _validate_training_data(self, X, y, first_fit, classes):
        X, labels, classes = super()._validate_training_data(X, y, first_fit, classes)
        # Only a model being built needs a sample per cluster (as MiniBatchKMeans):
        # later partial_fit chunks may be small.
        if first_fit and self.n_clusters > len(X):
            raise ValueError(
                f"n_clusters={self.n_clusters} is more than the {len(X)} samples to cluster."
            )
        return X, labels, classes

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Learn ``n_clusters`` clusters and a style code; sets ``labels_``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : ignored

        Returns
        -------
        self : ClusteringAAE
        """
        self._fit(X, None)
        self.labels_ = self.predict(X)
        self._warn_if_collapsed()
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y=None):
        """Train one epoch on ``X``, initialising the model on the first call.

        ``n_clusters`` stays what the first call built. ``labels_`` holds the
        clusters of this call's samples, as in scikit-learn's ``MiniBatchKMeans``.
        ``early_stopping`` and ``weight_averaging`` do not apply.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            At least ``n_clusters`` samples on the first call.
        y : ignored

        Returns
        -------
        self : ClusteringAAE
        """
        self._fit(X, None, n_epochs=1, incremental=True)
        self.labels_ = self.predict(X)
        return self

    def _warn_if_collapsed(self):
        # The categorical prior asks for every cluster in equal shares; a code
        # that fills fewer than half of them has lost the adversarial game, and
        # its clusters would mislead rather than merely disappoint.
        n_used = len(np.unique(self.labels_))
        if n_used < min(self.n_clusters, len(self.labels_)) / 2:
            warnings.warn(
                f"ClusteringAAE put the {len(self.labels_)} training samples in only "
                f"{n_used} of its n_clusters={self.n_clusters} clusters: the categorical "
                "code collapsed. Try a larger discriminator_noise (0.6 rescued the "
                "convolutional networks on Fashion-MNIST), more max_epochs, or a lower "
                "learning_rate_init.",
                ConvergenceWarning,
            )

    def predict(self, X):
        """The cluster of each sample (its most probable category).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        labels : ndarray of shape (n_samples,)
        """
        return np.argmax(self._category_probabilities(X), axis=1)

    def predict_proba(self, X):
        """Soft cluster assignments: the softmax of the categorical code.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_clusters)
        """
        return self._category_probabilities(X).astype(np.float64)

    def sample(self, n_samples=1, *, y=None, random_state=None):
        """Decode draws of the style prior in given (or uniformly drawn) clusters.

        Parameters
        ----------
        n_samples : int, default=1
        y : int or array-like of int, default=None
            Cluster index (``0 .. n_clusters - 1``) for all samples or one per sample.
        random_state : int, RandomState instance or None, default=None

        Returns
        -------
        X : ndarray of shape (n_samples, n_features)
        """
        check_is_fitted(self)
        categories = None if y is None else self._category_indices(y, n_samples)
        one_hot, style = self._sample_codes(n_samples, categories, random_state)
        return self._decode(one_hot, style)

    def inverse_transform(self, X, y=None):
        """Decode style codes in given clusters (or codes that include probabilities).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_components)
        y : int or array-like of int, default=None
            Cluster of each row (needed unless ``X`` holds probabilities).

        Returns
        -------
        X_decoded : ndarray of shape (n_samples, n_features)
        """
        return self._decode_codes(X, y)

    def _category_indices(self, y, n):
        clusters = labels_per_row(y, n)
        if (
            clusters.dtype.kind not in "iu"
            or clusters.min() < 0
            or clusters.max() >= self.n_clusters
        ):
            raise ValueError(
                f"y must be cluster indices in [0, {self.n_clusters}) for each of the "
                f"{n} samples; got {y!r}."
            )
        return clusters
