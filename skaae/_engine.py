"""The one training loop shared by every skaae estimator.

An estimator describes its training as a list of :class:`Step` objects (the
paper's phases: reconstruction; regularisation as a discriminator step then an
adversarial step on the encoder; and, for the semi-supervised model,
classification). The :class:`TrainingEngine` owns everything else: batching
over tensors already on the device, one Adam optimizer per step, mixed
precision, loss bookkeeping on the device (read once per epoch), divergence
detection, early stopping with best-weight restoring, progress display and
``KeyboardInterrupt`` handling.
"""

import math
import sys
import time
import warnings
from dataclasses import dataclass, field

import torch
from tqdm import tqdm

from ._distributed import OneProcess

__all__ = [
    "Step", "Batch", "TrainingEngine", "TrainingDivergedError", "Callback", "EarlyStopping",
    "WeightAveraging",
]


class TrainingDivergedError(FloatingPointError):
    """Raised when a training loss (or a weight) turns NaN or infinite.

    The engine restores the networks to their state before the epoch in which
    training diverged; an estimator's first fit then leaves it unfitted.
    """


@dataclass
class Step:
    """One optimisation step, run once per mini-batch.

    Parameters
    ----------
    name : str
        Name of the loss in ``history_`` and progress output.
    networks : tuple of str
        Keys of the networks whose parameters this step updates; its optimizer
        owns exactly those parameters.
    loss : callable
        ``loss(batch) -> torch.Tensor`` (a scalar) for a :class:`Batch`.
    learning_rate : float
    weight : float
        Scales the step's updates: its optimizer runs at
        ``weight * learning_rate``. Adam divides each gradient by its running
        magnitude, so multiplying a step's loss by a constant would change
        nothing; scaling the learning rate is what a loss weight does under
        plain gradient descent, and what it does here.
    advice : str
        What to try when this step's loss diverges; part of the error message.
    frozen : tuple of str
        Networks the loss passes through without training them (the
        discriminator in the adversarial step): their weight gradients are skipped.
    """

    name: str
    networks: tuple
    loss: object
    learning_rate: float
    weight: float = 1.0
    advice: str = ""
    frozen: tuple = ()

    @property
    def full_rate(self):
        """The optimizer's rate outside any schedule: ``weight * learning_rate``."""
        return self.learning_rate * self.weight


class Batch:
    """A mini-batch, plus intermediate results that several steps share.

    ``batch["x"]`` gives the rows of a data tensor. :meth:`memo` computes a value
    once and keeps it until a step updates one of the networks it depends on,
    so, for example, the discriminator step and the adversarial step that follows
    it share one encoder pass: the encoder does not change in between.
    """

    def __init__(self, tensors, data, generator, part=None):
        self._tensors = tensors
        self.data = data
        self.generator = generator
        self._memo = {}
        # (begin, end, size): the rows of the size-row mini-batch this process
        # trains on; all of them in one process.
        self._part = (0, len(self), len(self)) if part is None else part

    def __getitem__(self, key):
        return self._tensors[key]

    def __contains__(self, key):
        return key in self._tensors

    def __len__(self):
        return len(next(iter(self._tensors.values())))

    def share(self, n):
        """This process's part of ``n`` draws per mini-batch (``n`` in one process).

        A step that draws a fixed number of rows per mini-batch (the
        semi-supervised model's labeled batch) draws this many on each rank:
        the ranks' parts add up to ``n`` and follow their parts of the
        mini-batch, with at least one draw on a rank that has rows, so that
        its loss is defined.
        """
        begin, end, size = self._part
        if end == begin:
            return 0
        return max(1, n * end // size - n * begin // size)

    def memo(self, key, depends_on, compute):
        """Return ``compute()``, cached until a network in ``depends_on`` is updated."""
        if key not in self._memo:
            self._memo[key] = (compute(), frozenset(depends_on))
        return self._memo[key][0]

    def forget(self, updated):
        """Drop cached values that depend on any of the ``updated`` networks."""
        self._memo = {k: v for k, v in self._memo.items() if not v[1] & set(updated)}


@dataclass
class TrainingEngine:
    """Runs :class:`Step` lists over in-memory tensors.

    Parameters
    ----------
    networks : dict of str to torch.nn.Module
    steps : list of Step
    batch_size : int
    generator : torch.Generator
        On the training device; drives shuffling (and whatever the steps draw).
    betas : tuple of float
        Adam's ``(beta_1, beta_2)``.
    autocast_dtype : torch.dtype or None
        ``torch.bfloat16`` runs forward passes under autocast; weights stay fp32.
    validation_loss : callable or None
        ``validation_loss() -> float``, lower is better (early stopping reads it).
        It fills each epoch's ``"validation_loss"`` record.
    verbose : int
    optimizers : dict or None
        Optimizers from an earlier call, reused on warm starts.
    callbacks : list
        Epoch-end concerns (:class:`EarlyStopping`, :class:`WeightAveraging`,
        :class:`~skaae._checkpoint.Checkpoint`, or any object with the
        :class:`Callback` methods), called in order after every epoch.
    parallel : OneProcess or DataParallel
        The ranks that train together (see :mod:`skaae._distributed`): each
        trains on its part of every mini-batch, and their gradients, losses and
        validation losses are combined. One process by default.
    batch_generator : torch.Generator or None
        Drives the steps' draws (``Batch.generator``); under data parallelism
        each rank's own. ``generator`` itself when None.
    """

    networks: dict
    steps: list
    batch_size: int
    generator: torch.Generator
    betas: tuple = (0.5, 0.999)
    autocast_dtype: object = None
    validation_loss: object = None
    verbose: int = 0
    optimizers: dict = field(default_factory=dict)
    callbacks: list = field(default_factory=list)
    parallel: object = field(default_factory=OneProcess)
    batch_generator: object = None
    records: list = field(default_factory=list, init=False)

    def __post_init__(self):
        if self.batch_generator is None:
            self.batch_generator = self.generator
        for step in self.steps:
            if step.name not in self.optimizers:
                params = [p for key in step.networks for p in self.networks[key].parameters()]
                self.optimizers[step.name] = torch.optim.Adam(
                    params, lr=step.full_rate, betas=self.betas,
                    **_fast_adam(params),
                )
            else:
                for group in self.optimizers[step.name].param_groups:
                    group["lr"] = step.full_rate
        self._params = {
            key: [p for p in net.parameters() if p.requires_grad]
            for key, net in self.networks.items()
        }

    # -- one step ---------------------------------------------------------
    def _run_step(self, step, batch, device, weight=1.0):
        # Frozen networks need no weight gradients; skipping them saves about a
        # third of their backward pass.
        self._set_trainable(step.frozen, False)
        optimizer = self.optimizers[step.name]
        optimizer.zero_grad(set_to_none=True)
        if len(batch):
            with torch.autocast(
                device.type, dtype=self.autocast_dtype or torch.float32,
                enabled=self.autocast_dtype is not None,
            ):
                loss = step.loss(batch)
            loss.backward()
            loss = loss.detach().float()
        else:
            # A rank without rows of a short last mini-batch adds nothing, but
            # takes part in the gradient reduction that the other ranks wait on.
            loss = torch.zeros((), device=device)
        # ``weight``: this rank's share of the mini-batch, so the sum over the
        # ranks is the gradient of the whole mini-batch's mean loss.
        self.parallel.reduce_gradients(optimizer, weight)
        optimizer.step()
        self._set_trainable(step.frozen, True)
        batch.forget(step.networks)
        return loss

    # -- the loop ---------------------------------------------------------
    def fit(self, data, n_epochs, *, first_epoch=0, extra_data=None, resume=None):
        """Train for up to ``n_epochs`` epochs over ``data`` (a dict of tensors).

        Returns ``(records, stopped_early)``: one dict of mean losses per epoch
        (numbered from ``first_epoch + 1``), and whether a callback ended the
        run early. The records so far are also ``self.records`` during the run
        and after an exception. After every finished epoch each of
        ``callbacks`` is called in turn; one that returns ``True`` ends the run
        after that epoch (early stopping).

        ``resume`` (a dict that a :class:`~skaae._checkpoint.Checkpoint` wrote,
        with the networks, optimizers and generator already restored by the
        caller) continues a run after its ``"epochs_done"`` epochs, with each
        callback's state as it was then.

        Raises
        ------
        TrainingDivergedError
            A loss became NaN or infinite; the networks are restored to their
            state at the start of that epoch.
        """
        n_samples = len(data["x"])
        device = data["x"].device
        n_steps = len(self.steps)
        order = torch.arange(n_steps, device=device, dtype=torch.float32)
        epochs_done, self.records = 0, []
        if resume is not None:
            epochs_done, self.records = resume["epochs_done"], list(resume["records"])
            for callback in self.callbacks:
                callback.load_state(resume["callbacks"].get(callback.name))
        progress = _Progress(self.verbose, n_epochs, n_samples, [s.name for s in self.steps])
        stopped_early = any(callback.stopped for callback in self.callbacks)
        interrupted = False
        for net in self.networks.values():
            net.train()
        try:
            for epoch in range(epochs_done, 0 if stopped_early else n_epochs):
                start = time.perf_counter()
                self.parallel.start_epoch(first_epoch + epoch)
                for callback in self.callbacks:
                    callback.on_epoch_start(self, epoch)
                snapshot = self._state()
                sums = torch.zeros(n_steps, device=device)
                first_bad = torch.full((n_steps,), math.inf, device=device)
                permutation = torch.randperm(n_samples, generator=self.generator, device=device)
                n_seen = 0
                try:
                    for batch_index, begin in enumerate(range(0, n_samples, self.batch_size)):
                        rows = permutation[begin : begin + self.batch_size]
                        # Every rank draws the same permutation and trains on its
                        # part of the mini-batch (all of it in one process).
                        first, last = self.parallel.share(len(rows))
                        part = rows if last - first == len(rows) else rows[first:last]
                        batch = Batch(
                            {k: v[part] for k, v in data.items()}, extra_data,
                            self.batch_generator, part=(first, last, len(rows)),
                        )
                        weight = (last - first) / len(rows)
                        losses = torch.stack(
                            [self._run_step(s, batch, device, weight) for s in self.steps]
                        )
                        # Weighted by the share, the ranks' sums add up to the
                        # losses of the whole mini-batches.
                        sums += losses if weight == 1 else losses * weight
                        # Where (batch, step) a loss first went non-finite, without a
                        # host sync: the check happens once, at the end of the epoch.
                        position = batch_index * n_steps + order
                        first_bad = torch.minimum(
                            first_bad, torch.where(torch.isfinite(losses), math.inf, position)
                        )
                        n_seen += len(rows)
                        progress.batch(epoch, len(rows))
                except KeyboardInterrupt:
                    if self.parallel.world_size > 1:
                        # The ranks cannot agree on where the interrupt fell
                        # without a message per mini-batch: the fit ends on every
                        # rank (a checkpoint resumes it).
                        raise
                    interrupted = True
                n_batches = max(1, math.ceil(n_seen / self.batch_size))
                self.parallel.sync_buffers(self.networks)
                # One host sync per epoch: the mean losses and whether every weight
                # is still finite (a NaN gradient can spoil weights before any loss).
                *means, weights_finite = torch.cat(
                    [self.parallel.sum(sums) / n_batches, self._weights_finite()[None]]
                ).tolist()
                if not (weights_finite and all(math.isfinite(v) for v in means)):
                    self._load_state(snapshot)
                    self._raise_diverged(self.parallel.min(first_bad), first_epoch + epoch + 1)
                record = {"epoch": first_epoch + epoch + 1}
                record.update({s.name: v for s, v in zip(self.steps, means)})
                if self.validation_loss is not None and not interrupted:
                    # Computed on rank 0 alone, and shared below.
                    record["validation_loss"] = (
                        self.validation_loss() if self.parallel.is_main else math.nan
                    )
                record["duration"] = time.perf_counter() - start
                if self.parallel.world_size > 1:
                    # Rank 0's validation loss and time on every rank: early
                    # stopping decides alike and the histories are identical.
                    keys = [k for k in ("validation_loss", "duration") if k in record]
                    record.update(zip(keys, self.parallel.from_main([record[k] for k in keys])))
                self.records.append(record)
                progress.epoch(record)
                if interrupted:
                    warnings.warn(
                        f"Training interrupted during epoch {record['epoch']}; the model "
                        "keeps the weights trained so far.",
                        RuntimeWarning,
                    )
                    break
                # Every callback sees every epoch (a checkpoint after early
                # stopping has counted it); the run ends once all have.
                try:
                    stops = [
                        callback.on_epoch_end(self, epoch + 1, record)
                        for callback in self.callbacks
                    ]
                except KeyboardInterrupt:
                    if self.parallel.world_size > 1:
                        raise
                    # Between epochs (a checkpoint being written, say): the
                    # epoch counts, and the run ends as after an interrupt.
                    interrupted = True
                    warnings.warn(
                        f"Training interrupted after epoch {record['epoch']}; the model keeps "
                        "the weights trained so far.",
                        RuntimeWarning,
                    )
                    break
                if any(stops):
                    stopped_early = True
                    break
                for net in self.networks.values():
                    net.train()
        finally:
            progress.close()
            self._set_trainable(self._params, True)
            for net in self.networks.values():
                net.eval()
        for callback in self.callbacks:
            callback.on_train_end(self, interrupted)
        return self.records, stopped_early

    def callback_states(self):
        """Each callback's state by name, for a checkpoint."""
        return {callback.name: callback.state() for callback in self.callbacks}

    def _all_params(self):
        """Every trainable parameter, network by network (a fixed order)."""
        return [p for group in self._params.values() for p in group]

    def _set_trainable(self, keys, trainable):
        for key in keys:
            for p in self._params[key]:
                p.requires_grad_(trainable)

    def _weights_finite(self):
        return torch.stack([torch.isfinite(p).all() for p in self._all_params()]).all().float()

    def _raise_diverged(self, first_bad, epoch):
        first = first_bad.min().item()
        if math.isfinite(first):
            position = int(first)
            step = self.steps[position % len(self.steps)]
            where = (
                f"the {step.name!r} loss became NaN or infinite in epoch {epoch} "
                f"(mini-batch {position // len(self.steps) + 1})"
            )
            advice = step.advice
        else:
            where = f"a weight became NaN or infinite in epoch {epoch} (the losses were finite)"
            advice = "Try a lower learning_rate_init."
        raise TrainingDivergedError(
            f"Training diverged: {where}. {advice} Scaling the input (for example with "
            "sklearn.preprocessing.StandardScaler or MinMaxScaler) often helps too."
        )

    def _state(self):
        return {
            key: {k: v.detach().clone() for k, v in net.state_dict().items()}
            for key, net in self.networks.items()
        }

    def _load_state(self, state):
        for key, net in self.networks.items():
            net.load_state_dict(state[key])


class Callback:
    """An epoch-end concern of :class:`TrainingEngine` (skorch's idea, kept private).

    Subclasses override what they need. ``name`` keys the callback's state in
    a checkpoint; ``stopped`` tells a resumed run that the callback had ended
    it already.
    """

    name = "callback"
    stopped = False

    def on_epoch_start(self, engine, epochs_done):
        """Called before each epoch, ``epochs_done`` epochs into the run (a
        resumed run calls it for its first epoch too)."""

    def on_epoch_end(self, engine, epochs_done, record):
        """Called after each finished epoch; return ``True`` to end the run."""
        return False

    def on_train_end(self, engine, interrupted):
        """Called once when the run ends (not after a divergence)."""

    def state(self):
        """What a checkpoint must keep to resume this callback exactly."""
        return None

    def load_state(self, state):
        """Take back what :meth:`state` returned."""


class EarlyStopping(Callback):
    """End the run when the validation loss has not improved by ``tol`` for
    ``n_iter_no_change`` epochs, and leave the networks with the best epoch's weights."""

    name = "early_stopping"

    def __init__(self, n_iter_no_change, tol):
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.best_loss, self.best_state, self.bad_epochs = math.inf, None, 0

    @property
    def stopped(self):
        return self.bad_epochs >= self.n_iter_no_change

    def on_epoch_end(self, engine, epochs_done, record):
        if record["validation_loss"] < self.best_loss - self.tol:
            self.best_loss, self.best_state, self.bad_epochs = (
                record["validation_loss"], engine._state(), 0
            )
        else:
            self.bad_epochs += 1
        return self.stopped

    def on_train_end(self, engine, interrupted):
        if self.best_state is not None:
            engine._load_state(self.best_state)

    def state(self):
        return {"best_loss": self.best_loss, "best_state": self.best_state,
                "bad_epochs": self.bad_epochs}

    def load_state(self, state):
        self.best_loss, self.best_state, self.bad_epochs = (
            state["best_loss"], state["best_state"], state["bad_epochs"]
        )


class WeightAveraging(Callback):
    """From epoch ``average_from`` of the run on (0-based), keep the running mean
    of every network's parameters at the end of each epoch, and leave the
    networks with that mean when the run ends (not after an interrupt, whose
    warning promises the last weights)."""

    name = "weight_averaging"

    def __init__(self, average_from):
        self.average_from = average_from
        self.averages, self.n_averaged = None, 0

    def on_epoch_end(self, engine, epochs_done, record):
        if epochs_done - 1 < self.average_from:
            return False
        with torch.no_grad():
            params = engine._all_params()
            if self.averages is None:
                self.averages, self.n_averaged = [p.detach().clone() for p in params], 1
            else:
                self.n_averaged += 1
                for average, param in zip(self.averages, params):
                    average.lerp_(param, 1.0 / self.n_averaged)
        return False

    def on_train_end(self, engine, interrupted):
        if self.n_averaged > 1 and not interrupted:
            with torch.no_grad():
                for param, average in zip(engine._all_params(), self.averages):
                    param.copy_(average)

    def state(self):
        return {"averages": self.averages, "n_averaged": self.n_averaged}

    def load_state(self, state):
        self.averages, self.n_averaged = state["averages"], state["n_averaged"]


class LearningRateDecay(Callback):
    """Hold every step's learning rate for the first ``decay_from`` epochs of
    an ``n_epochs``-epoch run, then lower it along a half cosine, epoch by
    epoch, towards zero: the last epoch runs at a small but non-zero rate.

    The rate of an epoch depends on its number alone, so a resumed run picks
    it up where it stopped; the optimizers leave the run at their full rates.
    """

    name = "learning_rate_decay"

    def __init__(self, decay_from, n_epochs):
        self.decay_from, self.n_epochs = decay_from, n_epochs

    def factor(self, epochs_done):
        """The share of the full learning rate that epoch ``epochs_done + 1`` runs at."""
        into_decay = epochs_done + 1 - self.decay_from
        if into_decay <= 0:
            return 1.0
        return 0.5 * (1.0 + math.cos(math.pi * into_decay / (self.n_epochs - self.decay_from + 1)))

    def on_epoch_start(self, engine, epochs_done):
        self._set_rates(engine, self.factor(epochs_done))

    def on_train_end(self, engine, interrupted):
        # A later warm start or partial_fit begins at the full rate.
        self._set_rates(engine, 1.0)

    @staticmethod
    def _set_rates(engine, factor):
        for step in engine.steps:
            for group in engine.optimizers[step.name].param_groups:
                group["lr"] = step.full_rate * factor


def _fast_adam(params):
    # The fused Adam updates each tensor in one pass over memory instead of a
    # dozen elementwise kernels: on CPU it is about five times faster, which
    # matters because the update of 1000x1000 layers costs as much as a third of
    # a bf16 training step. Devices without a fused kernel take the foreach one.
    if params and all(p.device.type in ("cpu", "cuda") for p in params) and all(
        p.dtype in (torch.float32, torch.float64) for p in params
    ):
        return {"fused": True}
    return {"foreach": True}


class _Progress:
    """Progress on stderr: a tqdm bar with the last epoch's losses (1), or a line per epoch (2).

    A bar needs a terminal: where stderr is a file or a pipe (a log, a batch
    job), ``verbose=1`` writes the per-epoch lines of ``verbose=2`` instead of
    carriage-return redraws.
    """

    def __init__(self, verbose, n_epochs, n_samples, names):
        self.n_epochs = n_epochs
        self.n_samples = n_samples
        self.names = names
        self.bar = None
        self.lines = verbose >= 2
        if verbose == 1:
            if sys.stderr.isatty():
                self.bar = tqdm(
                    total=n_epochs * n_samples, unit="samples", unit_scale=True,
                    file=sys.stderr, dynamic_ncols=True, leave=True,
                )
            else:
                self.lines = True

    def batch(self, epoch, n_rows):
        if self.bar is not None:
            self.bar.set_description(f"epoch {epoch + 1}/{self.n_epochs}", refresh=False)
            self.bar.update(n_rows)

    def epoch(self, record):
        losses = " ".join(f"{n} {record[n]:.4g}" for n in self.names)
        if "validation_loss" in record:
            losses += f" validation {record['validation_loss']:.4g}"
        speed = self.n_samples / max(record["duration"], 1e-9)
        if self.bar is not None:
            self.bar.set_postfix_str(losses, refresh=False)
        elif self.lines:
            print(
                f"epoch {record['epoch']:4d} | {losses} | {record['duration']:.2f}s "
                f"({speed:,.0f} samples/s)",
                file=sys.stderr,
            )

    def close(self):
        if self.bar is not None:
            self.bar.close()
