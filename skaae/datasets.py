"""Loaders for data sets stored in local files. Nothing here downloads.

:func:`load_idx` reads the IDX format of MNIST and Fashion-MNIST, plain or
gzip-compressed; :func:`load_fashion_mnist` reads the four Fashion-MNIST files
from a folder (by default where the ``dataset-fashion-mnist`` system package
installs them).
"""

import gzip
import os
import zlib

import numpy as np

__all__ = ["load_idx", "load_fashion_mnist"]

#: Default folder of Fashion-MNIST, as installed by ``apt-get install dataset-fashion-mnist``.
FASHION_MNIST_DIRECTORY = "/usr/share/datasets/fashion-mnist"

_GZIP_MAGIC = b"\x1f\x8b"

#: IDX type codes (third byte of the magic number) and their big-endian dtypes.
_IDX_DTYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}

_FASHION_MNIST_PREFIXES = {"train": "train", "test": "t10k"}

_INSTALL_HINT = (
    "Install it with `apt-get install dataset-fashion-mnist` (it goes to "
    f"{FASHION_MNIST_DIRECTORY}), or pass the folder that holds "
    "train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz "
    "and t10k-labels-idx1-ubyte.gz as `directory`."
)


def _read_bytes(path):
    """Read a file's bytes, decompressing gzip when its first bytes say so."""
    with open(path, "rb") as file:
        raw = file.read()
    if not raw.startswith(_GZIP_MAGIC):
        return raw
    try:
        return gzip.decompress(raw)
    except (EOFError, OSError, zlib.error) as error:
        raise ValueError(
            f"{os.fspath(path)!r} starts like a gzip file but cannot be decompressed "
            f"(truncated or corrupt): {error}"
        ) from None


def load_idx(path):
    """Read an IDX file (the format of MNIST and Fashion-MNIST) into an array.

    The file may be plain or gzip-compressed; which one is read from its first
    bytes, not from its name.

    Parameters
    ----------
    path : str or os.PathLike
        The file to read.

    Returns
    -------
    array : ndarray
        The data with the shape and element type given by the file's header
        (``uint8``, ``int8``, ``int16``, ``int32``, ``float32`` or ``float64``),
        in the machine's native byte order.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If the file is not an IDX file (bad magic number or unknown type code),
        or if its data is shorter or longer than its header says, or if it is
        a gzip file that cannot be decompressed.

    Examples
    --------
    An IDX file of two 2x3 ``uint8`` images: the magic number ``0x00000803``
    (type ``0x08``, three dimensions), the sizes as big-endian 32-bit integers,
    then the data:

    >>> import os, struct, tempfile
    >>> from skaae.datasets import load_idx
    >>> header = struct.pack(">4B3I", 0, 0, 0x08, 3, 2, 2, 3)
    >>> folder = tempfile.mkdtemp()
    >>> path = os.path.join(folder, "images-idx3-ubyte")
    >>> with open(path, "wb") as file:
    ...     _ = file.write(header + bytes(range(12)))
    >>> images = load_idx(path)
    >>> images.shape, images.dtype
    ((2, 2, 3), dtype('uint8'))
    >>> images[1, 0].tolist()
    [6, 7, 8]
    >>> import shutil; shutil.rmtree(folder)
    """
    if not os.path.isfile(path):
        if os.path.exists(path):
            raise ValueError(f"{os.fspath(path)!r} is not a file.")
        raise FileNotFoundError(f"No such IDX file: {os.fspath(path)!r}")
    data = _read_bytes(path)
    name = repr(os.fspath(path))
    if len(data) < 4:
        raise ValueError(
            f"{name} is not an IDX file: it holds {len(data)} bytes, fewer than the "
            "4-byte magic number."
        )
    if data[0] != 0 or data[1] != 0 or data[2] not in _IDX_DTYPES:
        raise ValueError(
            f"{name} is not an IDX file: bad magic number 0x{data[:4].hex()} (expected "
            "0x0000TTDD with type TT in 08, 09, 0b, 0c, 0d, 0e and DD dimensions)."
        )
    dtype = _IDX_DTYPES[data[2]]
    n_dimensions = data[3]
    header_size = 4 + 4 * n_dimensions
    if len(data) < header_size:
        raise ValueError(
            f"{name} is truncated: its header announces {n_dimensions} dimensions, "
            f"which need {header_size} header bytes, but the file holds {len(data)}."
        )
    shape = tuple(int(size) for size in np.frombuffer(data, ">u4", n_dimensions, offset=4))
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    actual = len(data) - header_size
    if actual != expected:
        problem = "truncated" if actual < expected else "longer than its header says"
        raise ValueError(
            f"{name} is {problem}: shape {shape} of {dtype.name} needs {expected} data "
            f"bytes, found {actual}."
        )
    array = np.frombuffer(data, dtype, offset=header_size).reshape(shape)
    return array.astype(dtype.newbyteorder("="))


def _find_file(directory, stem):
    """Path of ``stem`` or ``stem.gz`` in ``directory``, or raise ``FileNotFoundError``."""
    for name in (f"{stem}.gz", stem):
        path = os.path.join(directory, name)
        if os.path.isfile(path):
            return path
    raise FileNotFoundError(
        f"Fashion-MNIST file {stem}.gz (or {stem}) is missing from {directory!r}. "
        + _INSTALL_HINT
    )


def load_fashion_mnist(directory=FASHION_MNIST_DIRECTORY, *, kind="train", scale=True):
    """Load Fashion-MNIST from local IDX files; never downloads.

    Fashion-MNIST (Xiao et al., 2017) holds 28x28 grey-level images of ten
    kinds of clothing: 60,000 for training and 10,000 for testing.

    Parameters
    ----------
    directory : str or os.PathLike, default="/usr/share/datasets/fashion-mnist"
        Folder holding ``{train,t10k}-{images-idx3,labels-idx1}-ubyte``, each
        gzip-compressed (``.gz``) or plain. The default is where
        ``apt-get install dataset-fashion-mnist`` puts them.
    kind : {"train", "test"}, default="train"
        Which split to load.
    scale : bool, default=True
        Divide the pixel values by 255, into [0, 1]. With ``scale=False`` they
        keep their range, 0 to 255 (still as ``float32``).

    Returns
    -------
    X : ndarray of shape (n_samples, 784), dtype float32
        One flattened image per row, row by row.
    y : ndarray of shape (n_samples,), dtype int64
        Class index of each image, 0 to 9: T-shirt/top, trouser, pullover,
        dress, coat, sandal, shirt, sneaker, bag, ankle boot.

    Raises
    ------
    FileNotFoundError
        If the folder or one of its files is missing; the message says how to
        install the data set.
    ValueError
        If ``kind`` is not ``"train"`` or ``"test"``, if a file is corrupt, or
        if the images and labels differ in number.

    Examples
    --------
    >>> from skaae.datasets import load_fashion_mnist
    >>> X, y = load_fashion_mnist(kind="test")  # doctest: +SKIP
    >>> X.shape, X.dtype, y[:5]  # doctest: +SKIP
    ((10000, 784), dtype('float32'), array([9, 2, 1, 1, 6]))
    """
    if kind not in _FASHION_MNIST_PREFIXES:
        raise ValueError(f"kind must be 'train' or 'test', got {kind!r}.")
    directory = os.fspath(directory)
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"Fashion-MNIST folder {directory!r} not found. " + _INSTALL_HINT)
    prefix = _FASHION_MNIST_PREFIXES[kind]
    images = load_idx(_find_file(directory, f"{prefix}-images-idx3-ubyte"))
    labels = load_idx(_find_file(directory, f"{prefix}-labels-idx1-ubyte"))
    if images.ndim != 3 or labels.ndim != 1:
        raise ValueError(
            f"Fashion-MNIST {kind} files have unexpected shapes: images {images.shape} "
            f"(expected (n, 28, 28)), labels {labels.shape} (expected (n,))."
        )
    if len(images) != len(labels):
        raise ValueError(
            f"Fashion-MNIST {kind} files disagree: {len(images)} images but "
            f"{len(labels)} labels."
        )
    X = images.reshape(len(images), -1).astype(np.float32)
    if scale:
        X /= 255.0
    return X, labels.astype(np.int64)
