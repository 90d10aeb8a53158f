"""Data-parallel training over a :mod:`torch.distributed` process group.

When a script started with ``torchrun`` (or ``python -m torch.distributed.run``)
has called :func:`torch.distributed.init_process_group`, every rank calls
``fit`` with the same data, and the ranks train one model together:

- every rank draws the same permutation of the rows (the shuffling generator
  is seeded alike everywhere: rank 0's seed is broadcast) and trains on its
  part of each mini-batch, so the global mini-batch stays ``batch_size`` rows;
- in every step of every phase, each rank's gradients are weighted by its
  share of the mini-batch and summed over the ranks (one all-reduce per
  step), which is the gradient of the loss averaged over the whole mini-batch;
  every rank then takes the same optimizer step;
- the losses in ``history_``, the validation loss (computed on rank 0 and
  broadcast, so early stopping decides alike) and the epoch times are the same
  on every rank; only rank 0 writes checkpoints and prints progress.

Which random draws are shared and which are each rank's own: the permutation
and the validation split are shared, since they decide which rows each rank
trains on. Every draw inside a step (input noise, prior samples, categories,
dropout masks, encoder noise, the labeled mini-batch and the neighbours
drawn with replacement) is one per row, independent of every other row's, so
each rank draws its rows' values from a generator of its own, seeded from the
fit's seed, the epoch and the rank. The union of the ranks' draws then has
exactly the distribution of one process's draws for the whole mini-batch:
the algorithm is the same, though not the same random numbers. A rank's
generator is reseeded at the start of every epoch, which is why a checkpoint
(the shared generator and the model) resumes a data-parallel fit exactly.

Why an all-reduce per step and not ``DistributedDataParallel``: DDP ties a
reduction to each forward pass of one wrapped module, while a skaae
mini-batch runs several steps, each with its own optimizer over a subset of
the networks, and shares encoder passes between steps (``Batch.memo``); the
adversarial step backpropagates through a pass made during the discriminator
step. Reducing each step's gradients just before its optimizer step is what
DDP would do for that step, without its bookkeeping.

How the gradients are summed: where every rank runs on this machine (torchrun's
``LOCAL_WORLD_SIZE`` equals the world size) and trains on the CPU, the ranks
sum their float32 gradients through a buffer of shared memory (a file in
/dev/shm that every rank maps, removed as soon as all have mapped it): each
rank writes its row, waits at a barrier, and adds the rows in rank order, so
every rank gets the same sum bit for bit. Gloo's all-reduce of the same
gradients between processes of one host goes through TCP on the loopback,
and its kernel copies take CPU from cores that are already busy computing:
on a two-core host, 16 to 21 ms per rank for 26 MB (a benchmark mini-batch's
gradients, about 220 ms of computation), where the shared-memory sums of
that mini-batch's three steps take about 10 ms together.
Elsewhere (ranks on several machines, CUDA tensors, gradients of other
dtypes, or a shared buffer that cannot be made, such as a full /dev/shm) the
process group's all-reduce (gloo or NCCL) does it, as every rank agrees.
"""

import contextlib
import os
import tempfile

import numpy as np
import torch
import torch.distributed as dist

from ._data import row_blocks


def _running():
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def rank_device(device):
    """``device``, with ``cuda`` (no index) taken as this rank's GPU under torchrun.

    ``device="auto"`` resolves to ``cuda`` when there is a GPU; under a process
    group of several ranks each rank then trains on ``cuda:LOCAL_RANK``, the
    GPU torchrun assigns it. An explicit index is kept as given.
    """
    if device.type != "cuda" or device.index is not None or not _running():
        return device
    local_rank = int(os.environ["LOCAL_RANK"]) if "LOCAL_RANK" in os.environ else dist.get_rank()
    return torch.device("cuda", local_rank % torch.cuda.device_count())


def _backend_config():
    # get_backend() says "undefined" for a group started without a backend
    # (which takes gloo for CPUs and NCCL for CUDA); the config names both.
    if hasattr(dist, "get_backend_config"):
        return str(dist.get_backend_config())
    return str(dist.get_backend())


def _backend_for(device_type):
    """The backend that reduces tensors on ``device_type``, or None."""
    config = _backend_config().lower()
    if ":" not in config:
        return config  # one backend for every device
    pairs = dict(item.split(":", 1) for item in config.split(",") if ":" in item)
    return pairs.get(device_type)


def _local_world_size():
    try:
        return int(os.environ.get("LOCAL_WORLD_SIZE", -1))
    except ValueError:
        return -1


def _create_shared(size):
    """``(path, tensor, token)``: a new file of ``size`` float32 values mapped shared.

    ``token`` (written at its start) lets the other ranks check that they map
    the same memory. ``(None, None, None)`` where no file of that size can be
    made, such as a /dev/shm too small for it.
    """
    folders = [folder for folder in ("/dev/shm", tempfile.gettempdir()) if os.path.isdir(folder)]
    for folder in folders:
        path = None
        try:
            fd, path = tempfile.mkstemp(prefix="skaae-gradients-", dir=folder)
            try:
                # Reserved now, not on first touch: a tmpfs that runs out of
                # room while training would kill the rank with SIGBUS.
                os.posix_fallocate(fd, 0, 4 * size)
            finally:
                os.close(fd)
            tensor = torch.from_file(path, shared=True, size=size, dtype=torch.float32)
            token = int.from_bytes(os.urandom(4), "little") >> 1
            tensor.view(torch.int32)[0] = token
            return path, tensor, token
        except (OSError, RuntimeError, AttributeError):
            if path is not None:
                with contextlib.suppress(OSError):
                    os.unlink(path)
    return None, None, None


def _open_shared(path, size, token):
    """Rank 0's shared file mapped here, or None if this rank cannot see it."""
    # from_file would create a missing file: on another machine it must not.
    try:
        if os.path.getsize(path) != 4 * size:
            return None
        tensor = torch.from_file(path, shared=True, size=size, dtype=torch.float32)
    except (OSError, RuntimeError):
        return None
    return tensor if int(tensor.view(torch.int32)[0]) == token else None


def data_parallel(device):
    """:class:`DataParallel` over the running process group, or :class:`OneProcess`.

    A process group of one rank trains exactly as a plain process does.
    """
    return DataParallel(device) if _running() else OneProcess()


class OneProcess:
    """The training of one process: every method leaves its argument as it is.

    The engine calls these methods whether or not it trains with several
    ranks, so its loop has one shape; in one process they cost nothing and
    draw no random numbers.
    """

    rank = 0
    world_size = 1
    is_main = True

    def agree(self, value):
        """``value`` as rank 0 has it (an int)."""
        return value

    def on_main(self, function):
        """``function()`` run on rank 0 only, its result (or ``ValueError``) on every rank."""
        return function()

    def check_same_data(self, arrays):
        """Raise ``ValueError`` if the ranks were given different training data."""

    def broadcast_networks(self, networks):
        """Give every rank rank 0's parameters and buffers."""

    def sync_buffers(self, networks):
        """Average the floating-point buffers (batch-norm statistics) over the ranks."""

    def batch_generator(self, generator, seed):
        """The generator of the steps' draws: here the shuffling generator itself."""
        return generator

    def start_epoch(self, epoch):
        """Reseed this rank's generator for ``epoch`` (numbered from 0 over the fit's history)."""

    def share(self, n_rows):
        """``(begin, end)``: the rows of an ``n_rows`` mini-batch this process trains on."""
        return 0, n_rows

    def reduce_gradients(self, optimizer, weight):
        """Turn the gradients of ``optimizer``'s parameters into the whole mini-batch's."""

    def sum(self, tensor):
        """``tensor`` summed over the ranks."""
        return tensor

    def min(self, tensor):
        """The elementwise minimum of ``tensor`` over the ranks."""
        return tensor

    def from_main(self, values):
        """Rank 0's list of floats ``values``, on every rank."""
        return values


class DataParallel(OneProcess):
    """The ranks of the default process group, training one model on ``device``.

    Parameters
    ----------
    device : torch.device
        This rank's training device; collectives run on it (gloo on the CPU,
        NCCL on CUDA).
    """

    def __init__(self, device):
        if device.type not in ("cpu", "cuda"):
            raise ValueError(
                f"Data-parallel training runs on CPUs or CUDA GPUs; this rank trains on "
                f"{device}. Use device='cpu' or 'cuda' under torchrun."
            )
        backend = _backend_for(device.type)
        if backend is None or (device.type == "cpu" and backend == "nccl"):
            raise ValueError(
                f"The process group (backends {_backend_config()!r}) cannot reduce tensors "
                f"on {device.type}, where this rank trains (device={str(device)!r}). "
                "Initialise it with backend='gloo' to train on CPUs and 'nccl' (or no "
                "backend, which takes both) to train on GPUs."
            )
        self.device = device
        self.rank = dist.get_rank()
        self.world_size = dist.get_world_size()
        self.is_main = self.rank == 0
        self._generator = None
        self._seed = None
        #: How the float32 gradients are summed: "shared_memory", "all_reduce",
        #: or None until the first step decides it.
        self.reduction = None
        self._shared = None
        self._n_reductions = 0
        self._capacity = 0
        self._flag = torch.zeros(1, dtype=torch.int64)

    def agree(self, value):
        tensor = torch.tensor([value], dtype=torch.int64, device=self.device)
        dist.broadcast(tensor, src=0)
        return int(tensor.item())

    def on_main(self, function):
        # Rank 0 alone reads a checkpoint (the others may not see its file
        # system); an error there must end every rank's fit, not leave them waiting.
        outcome, failure = [None], None
        if self.is_main:
            try:
                outcome[0] = ("value", function())
            except Exception as error:  # sent on, then raised here as it was
                failure = error
                outcome[0] = ("error", isinstance(error, ValueError), str(error))
        dist.broadcast_object_list(outcome, src=0, device=self._object_device())
        if failure is not None:
            raise failure
        if outcome[0][0] == "error":
            _, is_value_error, message = outcome[0]
            if is_value_error:
                raise ValueError(message)
            raise RuntimeError(f"Rank 0 failed: {message}")
        return outcome[0][1]

    def check_same_data(self, arrays):
        # Shapes and sums are cheap and catch a rank that loaded another file
        # or another split, which would otherwise train on mismatched rows.
        summary = []
        for array in arrays:
            if array is None:
                summary += [-1.0, -1.0]
            else:
                # Block by block, so that a memory-mapped X is never read whole.
                total = sum(float(np.sum(block, dtype=np.float64)) for block in row_blocks(array))
                summary += [float(np.asarray(array).size), total]
        mine = torch.tensor(summary, dtype=torch.float64, device=self.device)
        everyone = [torch.empty_like(mine) for _ in range(self.world_size)]
        dist.all_gather(everyone, mine)
        if any(not torch.equal(other, everyone[0]) for other in everyone):
            raise ValueError(
                "The ranks were given different training data (their sizes or sums "
                "differ). Under torchrun every rank must call fit with the same X (and y); "
                "each rank trains on its part of every mini-batch itself."
            )

    def broadcast_networks(self, networks):
        # Sized once for the largest step (all the networks' float32
        # parameters), so that the shared buffer is mapped once per fit.
        self._capacity = sum(
            p.numel() for net in networks.values() for p in net.parameters()
            if p.dtype == torch.float32
        )
        with torch.no_grad():
            for net in networks.values():
                for tensor in [*net.parameters(), *net.buffers()]:
                    dist.broadcast(tensor.data, src=0)

    def sync_buffers(self, networks):
        buffers = [
            b for net in networks.values() for b in net.buffers() if b.is_floating_point()
        ]
        if not buffers:
            return
        flat = torch.cat([b.reshape(-1) for b in buffers])
        dist.all_reduce(flat)
        flat /= self.world_size
        for buffer, value in zip(buffers, flat.split([b.numel() for b in buffers])):
            buffer.copy_(value.view_as(buffer))

    def batch_generator(self, generator, seed):
        self._generator = torch.Generator(device=generator.device)
        self._seed = int(seed)
        return self._generator

    def start_epoch(self, epoch):
        # Seeded from (seed, epoch, rank): independent streams per rank, and a
        # resumed fit draws what the interrupted one would have drawn.
        state = np.random.SeedSequence([self._seed, int(epoch), self.rank]).generate_state(2)
        self._generator.manual_seed(int(state[0]) << 32 | int(state[1]))

    def share(self, n_rows):
        return n_rows * self.rank // self.world_size, n_rows * (self.rank + 1) // self.world_size

    def reduce_gradients(self, optimizer, weight):
        params = [
            p for group in optimizer.param_groups for p in group["params"] if p.requires_grad
        ]
        # Every trainable parameter takes part, with zeros where this rank has no
        # gradient (a rank without rows of a short last mini-batch), so that
        # every rank sends tensors of the same layout.
        by_dtype = {}
        for p in params:
            by_dtype.setdefault(p.dtype, []).append(p)
        for dtype, group in by_dtype.items():
            if dtype == torch.float32 and self._shared_ready(sum(p.numel() for p in group)):
                self._reduce_shared(group, weight)
                continue
            flat = torch.cat([
                (p.grad if p.grad is not None else torch.zeros_like(p)).reshape(-1)
                for p in group
            ])
            if weight != 1:
                flat.mul_(weight)
            dist.all_reduce(flat)
            for p, grad in zip(group, flat.split([p.numel() for p in group])):
                p.grad = grad.view_as(p)

    def _shared_ready(self, n_values):
        """Whether ``n_values`` float32 values are reduced through shared memory.

        The first call decides it on every rank alike (a collective); a later
        step larger than the mapped buffer maps a larger one.
        """
        if self.reduction == "all_reduce":
            return False
        if self._shared is None or self._shared.shape[2] < n_values:
            self._shared = None
            if self.device.type == "cpu":
                self._shared = self._map_shared(max(n_values, self._capacity))
            self.reduction = "all_reduce" if self._shared is None else "shared_memory"
        return self._shared is not None

    def _map_shared(self, capacity):
        """A buffer of shape ``(2, world_size, capacity)`` mapped by every rank, or None.

        Rank 0 creates a file (in /dev/shm where there is one), every rank
        maps it, and rank 0 removes its name once all have mapped it: the
        memory lives as long as the mappings, and nothing is left behind. None on every
        rank unless every rank runs on this machine and mapped the same memory.
        """
        size = 2 * self.world_size * capacity
        # LOCAL_WORLD_SIZE is torchrun's count of the ranks on this node: all
        # of them here means one machine. Each rank still checks below that it
        # sees rank 0's memory, so a wrong count only costs the fast path.
        local = os.name == "posix" and _local_world_size() == self.world_size
        path, buffer, token = None, None, None
        try:
            if self.is_main and local:
                path, buffer, token = _create_shared(size)
            message = [(path, token)]
            dist.broadcast_object_list(message, src=0, device=self._object_device())
            if not self.is_main and local and message[0][0] is not None:
                buffer = _open_shared(message[0][0], size, message[0][1])
            # Every rank must take the same path, or the ranks would wait on
            # collectives the others never start: the shared buffer only if
            # all mapped it (the all-reduce also ensures that rank 0 removes
            # the file's name after every rank has opened it).
            self._flag.fill_(int(buffer is not None))
            dist.all_reduce(self._flag, op=dist.ReduceOp.MIN)
        finally:
            if path is not None:
                with contextlib.suppress(OSError):
                    os.unlink(path)
        if not self._flag.item():
            return None
        self._n_reductions = 0
        return buffer.view(2, self.world_size, capacity)

    def _reduce_shared(self, group, weight):
        """Sum the float32 gradients of ``group`` over the ranks through the shared buffer."""
        sizes = [p.numel() for p in group]
        # The two halves alternate: a rank writes a half again two reductions
        # later, after a barrier that the others reach only once they have
        # read that half; one barrier per step is then enough.
        rows = self._shared[self._n_reductions % 2, :, : sum(sizes)]
        self._n_reductions += 1
        with torch.no_grad():
            for p, part in zip(group, rows[self.rank].split(sizes)):
                if p.grad is None:
                    part.zero_()
                elif weight != 1:
                    # The same float32 product as the all-reduce path's mul_.
                    torch.mul(p.grad.reshape(-1), weight, out=part)
                else:
                    part.copy_(p.grad.reshape(-1))
            self._barrier()
            # Summed in rank order on every rank: the ranks get bit-identical
            # gradients, hence identical weights.
            total = torch.add(rows[0], rows[1])
            for row in rows[2:]:
                total.add_(row)
        for p, grad in zip(group, total.split(sizes)):
            p.grad = grad.view_as(p)

    def _barrier(self):
        # An all-reduce of one CPU value rather than dist.barrier(), which in
        # a group with NCCL as well may run on a GPU.
        dist.all_reduce(self._flag)

    def sum(self, tensor):
        tensor = tensor.clone()
        dist.all_reduce(tensor)
        return tensor

    def min(self, tensor):
        tensor = tensor.clone()
        dist.all_reduce(tensor, op=dist.ReduceOp.MIN)
        return tensor

    def from_main(self, values):
        tensor = torch.tensor(values, dtype=torch.float64, device=self.device)
        dist.broadcast(tensor, src=0)
        return tensor.tolist()

    def _object_device(self):
        # NCCL sends objects as CUDA tensors, on this rank's GPU.
        return self.device if self.device.type == "cuda" else None
