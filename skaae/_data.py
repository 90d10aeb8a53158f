"""Training data that stays on disk: a memory-mapped array read a mini-batch at a time.

In memory, ``fit`` turns ``X`` into one float32 tensor on the device, which the
engine slices by a permutation. A memory-mapped ``X`` (``np.load(path,
mmap_mode="r")``, ``np.memmap``) becomes a :class:`MappedRows` instead: the
engine indexes it the same way, and it reads, converts to float32 and moves to
the device only the rows asked for. The checks that need every value
(finiteness, range, a checkpoint's fingerprint) read it a block of rows at a
time (:func:`row_blocks`).

Reading through a mapping makes its pages part of the process's resident
memory, and the kernel maps far more than the bytes asked for around each page
fault: on the machine these notes were written on, 500 random rows of 3 kB
mapped 150 MB. Those are clean file pages the system may take back at any
time, but they count in the process's peak RSS and, in a container, towards
its memory limit until then. So :class:`MappedRows` reads its rows with
``os.preadv`` from the array's file, which maps nothing (the pages stay in the
page cache, where the next epoch finds them), and falls back to reading through
the mapping where that cannot be done (no file name, copy-on-write mode, rows
not contiguous, no ``preadv``), handing the pages back after every read with
``madvise(MADV_DONTNEED)``. Full passes read 16 MB blocks through the mapping
and hand each one back the same way.
"""

import mmap
import os
import weakref

import numpy as np
import torch

#: Bytes per block of a pass over a whole memory-mapped array (finiteness,
#: range, fingerprint): few system calls, little memory.
_BLOCK_BYTES = 16 << 20


def _base_chain(array):
    while array is not None:
        yield array
        array = getattr(array, "base", None)


def is_memory_mapped(array):
    """Whether ``array`` (or the array it views) lies in a memory map."""
    return any(isinstance(a, (np.memmap, mmap.mmap)) for a in _base_chain(array))


def _mapping(array):
    """The ``np.memmap`` that owns ``array``'s mapping and its ``mmap``, or None.

    Only for shared mappings (modes ``"r"``, ``"r+"``, ``"w+"``), whose pages are
    the file's: a copy-on-write one (``"c"``) may hold changes made in memory,
    which neither the file nor dropped pages would keep.
    """
    chain = list(_base_chain(array))
    for owner, buffer in zip(chain, chain[1:]):
        if isinstance(owner, np.memmap) and isinstance(buffer, mmap.mmap):
            return (owner, buffer) if owner.mode != "c" else None
    return None


def _page_releaser(array):
    """A function that hands ``array``'s mapped pages back to the system, or None."""
    found = _mapping(array)
    if found is None or not hasattr(mmap, "MADV_DONTNEED"):
        return None
    buffer = found[1]
    return lambda: buffer.madvise(mmap.MADV_DONTNEED)


def row_blocks(array):
    """``array`` in blocks of rows: one block in memory, 16 MB ones when mapped.

    After each block of a memory-mapped array its pages are handed back, so a
    pass over the whole array holds one block at a time.
    """
    if not is_memory_mapped(array) or len(array) == 0:
        yield array
        return
    release = _page_releaser(array)
    row_bytes = max(1, array.itemsize * int(np.prod(array.shape[1:])))
    step = max(1, _BLOCK_BYTES // row_bytes)
    for begin in range(0, len(array), step):
        yield array[begin : begin + step]
        if release is not None:
            release()


def value_range(array, check_finite=None):
    """``(min, max)`` of a non-empty float array, read in blocks when memory-mapped.

    ``check_finite``, a function of a block, runs on each block on the way
    (a finiteness check that would otherwise read the array once more).
    """
    low, high = np.inf, -np.inf
    for block in row_blocks(array):
        if check_finite is not None:
            check_finite(block)
        if block.size:
            low, high = min(low, block.min()), max(high, block.max())
    return low, high


class _FileRows:
    """Rows of a memory-mapped array read from its file with ``os.preadv``."""

    def __init__(self, fd, start, row_shape, dtype):
        self.fd = fd
        self.start = start
        self.row_shape = row_shape
        self.dtype = dtype
        self.row_bytes = dtype.itemsize * int(np.prod(row_shape))
        weakref.finalize(self, os.close, fd)

    @classmethod
    def open(cls, array):
        """Rows of ``array`` read from its file, or None where that cannot be done."""
        found = _mapping(array)
        if found is None or not hasattr(os, "preadv") or not array.flags.c_contiguous:
            return None
        owner = found[0]
        if owner.filename is None or array.size == 0:
            return None
        # Where the array's first row lies in the file: the owner's data begins at
        # its ``offset``, and the array may be a view further into it.
        start = int(owner.offset) + (array.ctypes.data - owner.ctypes.data)
        try:
            fd = os.open(owner.filename, os.O_RDONLY)
        except OSError:  # removed or renamed since it was mapped
            return None
        rows = cls(fd, start, array.shape[1:], array.dtype)
        # The file must still be the one mapped: same size, same first and last rows.
        if os.fstat(fd).st_size < start + len(array) * rows.row_bytes or not (
            np.array_equal(rows.read(np.array([0, len(array) - 1])), array[[0, -1]], equal_nan=True)
        ):
            return None
        return rows

    def read(self, positions):
        """The rows at ``positions`` (a slice with step 1, or an int array)."""
        contiguous = isinstance(positions, slice)
        n_rows = positions.stop - positions.start if contiguous else len(positions)
        out = np.empty((n_rows, *self.row_shape), self.dtype)
        buffer = memoryview(out.reshape(-1).view(np.uint8))
        if contiguous:
            self._read_at(buffer, positions.start)
        else:
            size = self.row_bytes
            for i, position in enumerate(positions.tolist()):
                self._read_at(buffer[i * size : (i + 1) * size], position)
        return out

    def _read_at(self, buffer, position):
        offset, done = self.start + position * self.row_bytes, 0
        while done < len(buffer):
            n = os.preadv(self.fd, [buffer[done:]], offset + done)
            if n == 0:
                raise OSError(f"the file of the memory-mapped X ended at byte {offset + done}.")
            done += n


class MappedRows:
    """Rows of a memory-mapped array, read when indexed; a stand-in for the data tensor.

    ``len``, ``shape`` and ``device`` are the tensor's; ``rows[index]`` (an
    index tensor, a boolean mask or a slice) returns those rows as a float32
    tensor on ``device``, and :meth:`subset` selects rows without reading them.

    Parameters
    ----------
    array : numpy.ndarray
        Memory-mapped, of shape (n_samples, ...); any float dtype.
    device : torch.device
    rows : numpy.ndarray of int64, default=None
        The rows of ``array`` this object stands for, in order; all when None.
    """

    def __init__(self, array, device, rows=None, *, _reader=None):
        self.array = array
        self.device = torch.device(device)
        self.rows = rows
        self._file = _FileRows.open(array) if _reader is None else _reader[0]
        self._release = _page_releaser(array) if _reader is None else _reader[1]

    def __len__(self):
        return len(self.array) if self.rows is None else len(self.rows)

    @property
    def shape(self):
        return (len(self), *self.array.shape[1:])

    def subset(self, index):
        """The rows ``index`` picks, still unread."""
        positions = self._positions(index)
        if isinstance(positions, slice):
            positions = np.arange(len(self.array))[positions]
        return MappedRows(self.array, self.device, positions, _reader=(self._file, self._release))

    def __getitem__(self, index):
        positions = self._positions(index)
        if self._file is not None:
            # A fresh array of these rows alone: converted to float32 only where
            # the file holds another dtype.
            block = np.asarray(self._file.read(positions), dtype=np.float32)
        else:
            # The mapping's rows (a slice is a view of it): copied in float32, so
            # that its pages can be released below.
            block = np.array(self.array[positions], dtype=np.float32)
        rows = torch.from_numpy(block)
        if self._file is None and self._release is not None:
            self._release()
        return rows.to(self.device)

    def _positions(self, index):
        """``index`` as positions in ``array``: a slice of step 1 or an int64 array."""
        if isinstance(index, slice):
            begin, end, step = index.indices(len(self))
            if step == 1 and self.rows is None:
                return slice(begin, max(begin, end))
            index = np.arange(begin, end, step)
        else:
            index = torch.as_tensor(index).cpu()
            if index.dtype == torch.bool:
                index = index.nonzero().squeeze(1)
            index = index.numpy()
        return index if self.rows is None else self.rows[index]


def take_rows(data, rows):
    """``data[rows]`` for a tensor; for :class:`MappedRows`, the rows unread."""
    return data.subset(rows) if isinstance(data, MappedRows) else data[rows]
