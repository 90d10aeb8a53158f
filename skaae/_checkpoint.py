"""Checkpoints of a running ``fit``: written after every epoch, resumed exactly.

A checkpoint holds the complete training state at the end of an epoch: the
networks, the optimizers, the training generator, the early-stopping and
weight-averaging records, ``history_`` and the seeds the fit started from. With
them a fit that was killed (even with SIGKILL) and is started again continues
after its last finished epoch and, on a CPU, ends with the same weights as a
fit that was never interrupted.

A fingerprint of the estimator's parameters, of the training data and of the
fitted state the call continues from (``n_iter_`` before it) ties a file to its
fit: a ``fit`` that finds a checkpoint of another fit refuses to overwrite it,
and says what differs.

Under data parallelism (``torchrun``, see :mod:`skaae._distributed`) every
rank holds the same training state: rank 0 alone writes the file and, when a
fit starts, reads it and sends it to the others. The ranks' own generators are
reseeded from the fit's seed at every epoch, so the file needs none of them.

Files are written with :func:`torch.save` next to their final place and then
renamed (atomic on POSIX and Windows), so a crash mid-write never leaves a
broken file, and read with ``weights_only=True``, which unpickles tensors and
plain containers only.
"""

import hashlib
import os

import numpy as np
import torch

from ._data import row_blocks
from ._engine import Callback
from ._files import write_atomically
from .priors import Prior

#: Version of the checkpoint layout.
CHECKPOINT_FORMAT = 1
#: Step names of older versions, by their name today: "adversarial" was
#: "generator" before 0.2.
RENAMED_STEPS = {"generator": "adversarial"}
#: Parameters that do not change what a fit computes.
_IGNORED_PARAMETERS = ("checkpoint", "verbose", "warm_start")


def fingerprint(estimator, arrays, n_iter_before, device):
    """What ties a checkpoint to one fit: parameters, data, device and starting point.

    Plain parameters and skaae's priors (whose repr lists their parameters)
    count by value; others (modules, callables) by their type, so two runs of
    a script with a custom network match.
    """
    params = {}
    for name, value in sorted(estimator.get_params(deep=False).items()):
        if name in _IGNORED_PARAMETERS:
            continue
        if isinstance(value, np.generic):
            value = value.item()
        if isinstance(value, str) and value == "deprecated":
            # A deprecated per-phase learning rate left unset means what None
            # meant before it was deprecated: checkpoints of that time resume.
            value = None
        plain = value is None or isinstance(value, (bool, int, float, str, tuple, list, Prior))
        params[name] = repr(value) if plain else type(value).__name__
    digest = hashlib.sha256()
    for key in sorted(arrays):
        if arrays[key] is None:
            continue
        # Not ascontiguousarray: that would copy a non-contiguous memory map whole;
        # each block below is made contiguous, which hashes the same bytes.
        array = np.asarray(arrays[key])
        digest.update(f"{key} {array.dtype} {array.shape}".encode())
        # Block by block, the same bytes as array.tobytes(): a memory-mapped X
        # is never copied whole.
        for block in row_blocks(array):
            digest.update(np.ascontiguousarray(block).view(np.uint8).reshape(-1))
    return {
        "estimator": type(estimator).__name__,
        # Generator states differ between device types: no exact resume across them.
        "device": torch.device(device).type,
        "params": params,
        "data": digest.hexdigest(),
        "n_iter_before": int(n_iter_before),
    }


def _describe_difference(found, expected):
    if found.get("estimator") != expected["estimator"]:
        return f"it belongs to a {found.get('estimator')}, not a {expected['estimator']}"
    if found.get("device") != expected["device"]:
        return f"it was written on a {found.get('device')} device, and this fit runs on {expected['device']}"
    changed = [
        f"{name}={found['params'].get(name, '(unset)')} there, {value} here"
        for name, value in expected["params"].items()
        if found["params"].get(name) != value
    ]
    if changed:
        return "the parameters differ: " + "; ".join(changed)
    if found.get("data") != expected["data"]:
        return "it was written for other training data (or labels)"
    return (
        f"it continues a model trained for {found.get('n_iter_before')} epochs before that "
        f"fit, and this one has {expected['n_iter_before']}"
    )


def load_matching(path, expected):
    """The checkpoint at ``path`` if it belongs to this fit; ``None`` if there is none.

    Raises ``ValueError`` when the file belongs to another fit, saying what
    differs, so that no one's checkpoint is silently overwritten.
    """
    if path is None or not os.path.exists(path):
        return None
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # a truncated or foreign file
        raise ValueError(
            f"checkpoint={os.fspath(path)!r} exists but is not a readable skaae checkpoint "
            f"({error}). Remove it or choose another path."
        ) from None
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(
            f"checkpoint={os.fspath(path)!r} is not a skaae checkpoint of format "
            f"{CHECKPOINT_FORMAT}. Remove it or choose another path."
        )
    n_before = expected["n_iter_before"]
    found = state["fingerprint"]
    same_model = (found.get("estimator"), found.get("device")) == (
        expected["estimator"], expected["device"]
    )
    if same_model and n_before > 0 and len(state["history"]) == n_before:
        # The finished checkpoint of the fit this warm start continues: the
        # model in memory already holds its state, so it is simply overwritten.
        return None
    if state["fingerprint"] != expected:
        raise ValueError(
            f"checkpoint={os.fspath(path)!r} belongs to another fit: "
            f"{_describe_difference(state['fingerprint'], expected)}. Remove the file (or "
            "choose another checkpoint path) to start afresh."
        )
    # Written before a step was renamed: its optimizer state and losses under today's name.
    state["optimizers"] = with_current_step_names(state["optimizers"])
    state["history"] = [with_current_step_names(record) for record in state["history"]]
    return state


class Checkpoint(Callback):
    """The epoch-end concern that writes the training state to ``path``.

    Called by :class:`~skaae._engine.TrainingEngine` after every finished
    epoch, after the callbacks before it in the engine's list, whose states it
    stores with the networks, optimizers and generator.
    """

    name = "checkpoint"

    def __init__(self, path, expected, seed, numpy_state, history_before):
        self.path = os.fspath(path)
        self.expected = expected
        self.seed = seed
        self.numpy_state = numpy_state
        self.history_before = list(history_before)

    def on_epoch_end(self, engine, epochs_done, record):
        # Under data parallelism every rank holds the same state: rank 0 writes it.
        if engine.parallel.is_main:
            self.write(engine, {"epochs_done": epochs_done, "callbacks": engine.callback_states()})
        return False

    def write(self, engine, loop):
        state = {
            "format": CHECKPOINT_FORMAT,
            "fingerprint": self.expected,
            "seed": self.seed,
            "numpy_state": self.numpy_state,
            "history": self.history_before + [dict(record) for record in engine.records],
            "networks": engine._state(),
            "optimizers": {name: opt.state_dict() for name, opt in engine.optimizers.items()},
            "generator": engine.generator.get_state(),
            "loop": loop,
        }
        # torch.save names its zip entries after the file: give it an open file.
        def dump(temporary):
            with open(temporary, "wb") as file:
                torch.save(state, file)

        write_atomically(self.path, dump)


def with_current_step_names(by_step):
    """``by_step`` (a ``history_`` record, or optimizer states by step) with the
    step names of older versions (:data:`RENAMED_STEPS`) replaced by today's."""
    return {RENAMED_STEPS.get(key, key): value for key, value in by_step.items()}


def numpy_state(random_state):
    """The state of a private ``RandomState`` as plain data (``None`` for the global one)."""
    if random_state is np.random.mtrand._rand:
        return None
    kind, keys, position, has_gauss, cached = random_state.get_state()
    return [kind, torch.from_numpy(keys.astype(np.int64)), int(position), int(has_gauss),
            float(cached)]


def restore_numpy_state(random_state, state):
    if state is None or random_state is np.random.mtrand._rand:
        return
    kind, keys, position, has_gauss, cached = state
    random_state.set_state((kind, keys.numpy().astype(np.uint32), position, has_gauss, cached))


def to_device(value, device):
    """``value`` (tensors in dicts and lists) with every tensor moved to ``device``."""
    if isinstance(value, torch.Tensor):
        return value.to(device)
    if isinstance(value, dict):
        return {k: to_device(v, device) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(to_device(v, device) for v in value)
    return value
