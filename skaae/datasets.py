"""Loaders for data sets stored in local files. Nothing here downloads.

:func:`load_idx` reads the IDX format of MNIST and Fashion-MNIST, plain or
gzip-compressed; :func:`load_fashion_mnist` reads the four Fashion-MNIST files
from a folder (by default where the ``dataset-fashion-mnist`` system package
installs them). :func:`load_cifar10` reads CIFAR-10's Python batches, from
their folder or from the ``cifar-10-python.tar.gz`` archive as distributed.
:func:`load_image_folder` reads a folder of image files, such as LFW, with one
sub-folder per class or none; it needs Pillow (``pip install "skaae[images]"``).

Images come back as flat ``float32`` rows in channel-major order (all of the
first channel, row by row, then the next channel), so ``input_shape``
``(channels, height, width)`` recovers them with ``X.reshape(-1, *input_shape)``.
As in scikit-learn, :func:`load_cifar10` and :func:`load_image_folder` return a
:class:`~sklearn.utils.Bunch` (``data``, ``target``, ``target_names``,
``input_shape``, ...) unless ``return_X_y=True``. :func:`load_fashion_mnist`
returns the same Bunch with ``return_X_y=False``, but keeps ``(X, y)`` as its
default, which existing code relies on.
"""

import gzip
import io
import numbers
import os
import pickle
import tarfile
import zlib

import numpy as np
from sklearn.utils import Bunch

__all__ = ["load_idx", "load_fashion_mnist", "load_cifar10", "load_image_folder"]

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

#: Fashion-MNIST's class names, by class index.
FASHION_MNIST_CLASSES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)

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


def load_fashion_mnist(
    directory=FASHION_MNIST_DIRECTORY, *, kind="train", scale=True, return_X_y=True
):
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
    return_X_y : bool, default=True
        Return ``(X, y)``; with False, a :class:`~sklearn.utils.Bunch` like
        :func:`load_cifar10`'s. The default differs from scikit-learn's
        loaders and from :func:`load_cifar10`, to keep earlier code working.

    Returns
    -------
    X : ndarray of shape (n_samples, 784), dtype float32
        One flattened image per row, row by row.
    y : ndarray of shape (n_samples,), dtype int64
        Class index of each image, 0 to 9: T-shirt/top, trouser, pullover,
        dress, coat, sandal, shirt, sneaker, bag, ankle boot.
    data : :class:`~sklearn.utils.Bunch`
        Only with ``return_X_y=False``, instead of ``(X, y)``: ``data`` (X),
        ``target`` (y), ``target_names`` (the ten class names, by index) and
        ``input_shape`` ``(1, 28, 28)``.

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
    y = labels.astype(np.int64)
    if return_X_y:
        return X, y
    return Bunch(
        data=X,
        target=y,
        target_names=np.array(FASHION_MNIST_CLASSES),
        input_shape=(1, 28, 28),
    )


# -- CIFAR-10 -----------------------------------------------------------------------
#: CIFAR-10's class names, by class index (also in the data set's ``batches.meta``).
CIFAR10_CLASSES = (
    "airplane", "automobile", "bird", "cat", "deer",
    "dog", "frog", "horse", "ship", "truck",
)

_CIFAR10_FOLDER = "cifar-10-batches-py"
_CIFAR10_ARCHIVE = "cifar-10-python.tar.gz"
_CIFAR10_BATCHES = {
    "train": tuple(f"data_batch_{number}" for number in range(1, 6)),
    "test": ("test_batch",),
}
_CIFAR10_INPUT_SHAPE = (3, 32, 32)
_CIFAR10_EXPECTED = (
    f"a {_CIFAR10_FOLDER!r} folder (data_batch_1 to data_batch_5, test_batch, "
    f"batches.meta), a folder holding it, or the {_CIFAR10_ARCHIVE!r} archive"
)


def _latin1_encode(text, encoding="latin1"):
    """The one use of ``_codecs.encode`` in pickles: bytes written by Python 3 at protocol 2."""
    if not isinstance(text, str) or encoding != "latin1":
        raise pickle.UnpicklingError(
            f"only _codecs.encode(str, 'latin1') is allowed, got encoding {encoding!r}"
        )
    return text.encode("latin1")


class _ArrayUnpickler(pickle.Unpickler):
    """An unpickler that rebuilds dicts, lists, strings, numbers and numpy arrays only.

    Loading a pickle may call any function it names, so a tampered batch file
    could run code on the reader's machine. A CIFAR-10 batch needs nothing
    beyond the objects that rebuild a numpy array, so every other global is
    refused.
    """

    # The functions that rebuild arrays are taken from what NumPy itself pickles
    # (protocols up to 4, and 5) rather than imported: their modules moved from
    # numpy.core to numpy._core in NumPy 2, and the old names warn. Batches written
    # under either name map to them. _codecs.encode is how Python 3 writes bytes at
    # protocol 2; only its harmless latin-1 use is let through.
    _RECONSTRUCT = np.zeros(1).__reduce_ex__(4)[0]
    _FROM_BUFFER = np.zeros(1).__reduce_ex__(5)[0]
    _ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"): _RECONSTRUCT,
        ("numpy._core.multiarray", "_reconstruct"): _RECONSTRUCT,
        ("numpy.core.numeric", "_frombuffer"): _FROM_BUFFER,
        ("numpy._core.numeric", "_frombuffer"): _FROM_BUFFER,
        ("numpy", "ndarray"): np.ndarray,
        ("numpy", "dtype"): np.dtype,
        ("_codecs", "encode"): _latin1_encode,
    }

    def find_class(self, module, name):
        try:
            return self._ALLOWED[module, name]
        except KeyError:
            raise pickle.UnpicklingError(
                f"it refers to {module}.{name}, which a CIFAR-10 batch never holds; "
                "it is not loaded, because unpickling it could run arbitrary code"
            ) from None


def _decode_key(key):
    return key.decode("latin1") if isinstance(key, bytes) else key


def _unpickle_batch(raw, source):
    """The dict stored in a CIFAR-10 batch, with ``str`` keys; ``source`` names it in errors."""
    try:
        # Batches were written by Python 2: its byte strings stay bytes.
        content = _ArrayUnpickler(io.BytesIO(raw), encoding="bytes").load()
    except Exception as error:  # a corrupt pickle can fail in many ways
        raise ValueError(
            f"{source} is not a readable CIFAR-10 batch (truncated or corrupt): {error}"
        ) from None
    if not isinstance(content, dict):
        raise ValueError(
            f"{source} is not a CIFAR-10 batch: it holds a {type(content).__name__}, "
            "not a dict."
        )
    return {_decode_key(key): value for key, value in content.items()}


def _check_batch(batch, source):
    """Return a batch's images (n, 3072) uint8 and labels (n,) int64, or raise ``ValueError``."""
    missing = [key for key in ("data", "labels") if key not in batch]
    if missing:
        hint = ""
        if "fine_labels" in batch:
            hint = " (it looks like a CIFAR-100 batch, which this loader does not read)"
        raise ValueError(
            f"{source} is not a CIFAR-10 batch: it lacks {' and '.join(missing)}{hint}."
        )
    images = batch["data"]
    n_features = int(np.prod(_CIFAR10_INPUT_SHAPE))
    if not isinstance(images, np.ndarray) or images.ndim != 2 or images.shape[1] != n_features:
        shape = getattr(images, "shape", type(images).__name__)
        raise ValueError(
            f"{source} holds images of shape {shape}; CIFAR-10 images are rows of "
            f"{n_features} values (n, {n_features})."
        )
    if images.dtype != np.uint8:
        raise ValueError(f"{source} holds images of type {images.dtype}; expected uint8.")
    labels = np.asarray(batch["labels"])
    if labels.ndim != 1 or len(labels) != len(images):
        raise ValueError(
            f"{source} holds {len(images)} images but labels of shape {labels.shape}."
        )
    if len(labels) and (
        not np.issubdtype(labels.dtype, np.integer) or labels.min() < 0 or labels.max() > 9
    ):
        raise ValueError(f"{source} holds labels outside 0 to 9: {np.unique(labels)[:10]}.")
    return images, labels.astype(np.int64)


def _label_names(meta, source):
    names = meta.get("label_names")
    if not isinstance(names, list) or len(names) != len(CIFAR10_CLASSES):
        raise ValueError(
            f"{source} does not list CIFAR-10's {len(CIFAR10_CLASSES)} label_names."
        )
    return tuple(_decode_key(name) for name in names)


def _read_cifar10_folder(folder, batch_names):
    """Raw bytes of each batch and of ``batches.meta`` (None when absent) in ``folder``."""
    raws = []
    for name in batch_names:
        path = os.path.join(folder, name)
        if not os.path.isfile(path):
            raise FileNotFoundError(
                f"CIFAR-10 batch {name!r} is missing from {folder!r}; expected "
                + _CIFAR10_EXPECTED
                + "."
            )
        with open(path, "rb") as file:
            raws.append((repr(path), file.read()))
    meta_path = os.path.join(folder, "batches.meta")
    meta = None
    if os.path.isfile(meta_path):
        with open(meta_path, "rb") as file:
            meta = (repr(meta_path), file.read())
    return raws, meta


def _read_cifar10_archive(archive, batch_names):
    """Raw bytes of each batch and of ``batches.meta`` (None when absent), read from the
    archive in memory: nothing is extracted to disk."""
    wanted = (*batch_names, "batches.meta")
    found = {}
    try:
        with tarfile.open(archive, "r:*") as tar:
            for member in tar:
                name = os.path.basename(member.name)
                if member.isfile() and name in wanted and name not in found:
                    source = f"{member.name!r} in {archive!r}"
                    found[name] = (source, tar.extractfile(member).read())
    except (tarfile.TarError, EOFError, zlib.error, OSError) as error:
        raise ValueError(
            f"{archive!r} is not a readable tar archive (truncated or corrupt): {error}. "
            f"Expected {_CIFAR10_EXPECTED}."
        ) from None
    missing = [name for name in batch_names if name not in found]
    if missing:
        raise FileNotFoundError(
            f"CIFAR-10 batch {missing[0]!r} is missing from the archive {archive!r}."
        )
    return [found[name] for name in batch_names], found.get("batches.meta")


def _locate_cifar10(path):
    """``("folder" | "archive", path)`` of the CIFAR-10 data at or under ``path``."""
    if os.path.isfile(path):
        return "archive", path
    if not os.path.isdir(path):
        raise FileNotFoundError(f"CIFAR-10 path {path!r} not found; expected {_CIFAR10_EXPECTED}.")
    names = set(os.listdir(path))
    if names & {"batches.meta", "test_batch", "data_batch_1"}:
        return "folder", path
    if _CIFAR10_FOLDER in names:
        return "folder", os.path.join(path, _CIFAR10_FOLDER)
    if _CIFAR10_ARCHIVE in names:
        return "archive", os.path.join(path, _CIFAR10_ARCHIVE)
    raise FileNotFoundError(
        f"No CIFAR-10 data in {path!r}: expected {_CIFAR10_EXPECTED}. The archive is at "
        "https://www.cs.toronto.edu/~kriz/cifar.html (skaae does not download it)."
    )


def load_cifar10(path, *, kind="train", scale=True, return_X_y=False):
    """Load CIFAR-10 from a local copy of its Python batches; never downloads.

    CIFAR-10 (Krizhevsky, 2009) holds 32x32 colour images of ten classes:
    50,000 for training (five batches) and 10,000 for testing.

    Parameters
    ----------
    path : str or os.PathLike
        The ``cifar-10-batches-py`` folder (``data_batch_1`` to ``data_batch_5``,
        ``test_batch``, ``batches.meta``), a folder that holds it or the
        archive, or the ``cifar-10-python.tar.gz`` archive itself, which is
        read in memory without extracting it.
    kind : {"train", "test"}, default="train"
        Which split to load.
    scale : bool, default=True
        Divide the pixel values by 255, into [0, 1]. With ``scale=False`` they
        keep their range, 0 to 255 (still as ``float32``).
    return_X_y : bool, default=False
        Return ``(data, target)`` instead of a Bunch.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        With ``data``, ndarray of shape (n_samples, 3072), dtype float32: one
        image per row in channel-major order (the red plane, row by row, then
        green, then blue), as stored in the batches; ``target``, ndarray of
        shape (n_samples,), dtype int64: class indices 0 to 9; ``target_names``:
        the class names, by index, from ``batches.meta`` when present;
        ``input_shape``: ``(3, 32, 32)``, so that
        ``data.reshape(-1, *input_shape)`` gives the images.
    (data, target) : tuple of ndarray
        With ``return_X_y=True``.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist, holds no CIFAR-10 data, or lacks a batch.
    ValueError
        If ``kind`` is not ``"train"`` or ``"test"``, if a batch or the archive
        is truncated or corrupt, or if a batch does not hold CIFAR-10's arrays.

    Notes
    -----
    The batches are pickles. Unpickling can run code, so only the objects a
    batch is made of (dicts, lists, strings, numbers and numpy arrays) are
    rebuilt; a file naming anything else is refused.

    Examples
    --------
    >>> from skaae.datasets import load_cifar10
    >>> cifar = load_cifar10("~/data/cifar-10-python.tar.gz", kind="test")  # doctest: +SKIP
    >>> cifar.data.shape, cifar.input_shape, cifar.target_names[cifar.target[0]]  # doctest: +SKIP
    ((10000, 3072), (3, 32, 32), 'cat')
    """
    if kind not in _CIFAR10_BATCHES:
        raise ValueError(f"kind must be 'train' or 'test', got {kind!r}.")
    where, location = _locate_cifar10(os.path.expanduser(os.fspath(path)))
    reader = _read_cifar10_folder if where == "folder" else _read_cifar10_archive
    raws, meta = reader(location, _CIFAR10_BATCHES[kind])
    images, labels = [], []
    for source, raw in raws:
        batch_images, batch_labels = _check_batch(_unpickle_batch(raw, source), source)
        images.append(batch_images)
        labels.append(batch_labels)
    target_names = CIFAR10_CLASSES
    if meta is not None:
        target_names = _label_names(_unpickle_batch(meta[1], meta[0]), meta[0])
    X = np.concatenate(images).astype(np.float32)
    if scale:
        X /= 255.0
    y = np.concatenate(labels)
    if return_X_y:
        return X, y
    return Bunch(
        data=X, target=y, target_names=np.array(target_names), input_shape=_CIFAR10_INPUT_SHAPE
    )


# -- folders of image files -------------------------------------------------------------
#: File name endings read as images by :func:`load_image_folder` (compared in lower case).
IMAGE_EXTENSIONS = (
    ".bmp", ".gif", ".jpeg", ".jpg", ".pgm", ".png", ".ppm", ".tif", ".tiff", ".webp",
)

_COLOR_MODES = {"rgb": "RGB", "grey": "L", "gray": "L"}


def _import_pillow():
    try:
        from PIL import Image, ImageOps
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise ImportError(
            'load_image_folder needs Pillow; install it with: pip install "skaae[images]"'
        ) from error
    return Image, ImageOps


def _is_image_file(path):
    name = os.path.basename(path)
    return (
        not name.startswith(".")
        and name.lower().endswith(IMAGE_EXTENSIONS)
        and os.path.isfile(path)
    )


def _image_files(folder):
    """Sorted paths of the image files directly in ``folder``."""
    paths = (os.path.join(folder, name) for name in sorted(os.listdir(folder)))
    return [path for path in paths if _is_image_file(path)]


def _image_layout(directory):
    """``[(class name or None, [image paths])]`` of ``directory``, sorted by name."""
    flat = _image_files(directory)
    classes = []
    for name in sorted(os.listdir(directory)):
        sub_folder = os.path.join(directory, name)
        if not name.startswith(".") and os.path.isdir(sub_folder):
            paths = _image_files(sub_folder)
            # A class folder without images (LFW has none, but a user's may) has no
            # sample to label; it is left out rather than given an empty class.
            if paths:
                classes.append((name, paths))
    if flat and classes:
        raise ValueError(
            f"{directory!r} holds both image files ({os.path.basename(flat[0])!r}, ...) and "
            f"sub-folders of images ({classes[0][0]!r}, ...); expected one or the other: "
            "one sub-folder per class, or the images directly in the folder."
        )
    if not flat and not classes:
        raise ValueError(
            f"No image files in {directory!r} or its sub-folders; expected files ending in "
            f"{', '.join(IMAGE_EXTENSIONS)}, directly in the folder or one sub-folder per class."
        )
    return classes or [(None, flat)]


def _read_image(path, mode, image_size, Image, ImageOps):
    """One image as a uint8 array of shape (channels, height, width)."""
    try:
        with Image.open(path) as image:
            # Cameras store the orientation apart from the pixels; apply it, so the
            # array shows what an image viewer shows.
            image = ImageOps.exif_transpose(image)
            if image.mode in ("P", "PA"):
                # A palette may carry transparency; going through RGBA keeps
                # Pillow from warning and drops the alpha channel cleanly.
                image = image.convert("RGBA")
            image = image.convert(mode)
            if image_size is not None:
                height, width = image_size
                # Crop the centre to the target's aspect ratio, then resize, so faces and
                # objects are not stretched.
                image = ImageOps.fit(image, (width, height), method=Image.Resampling.BICUBIC)
            pixels = np.asarray(image, dtype=np.uint8)
    except (OSError, SyntaxError, ValueError) as error:
        raise ValueError(
            f"Cannot read the image {path!r} (truncated, corrupt or not an image): {error}"
        ) from None
    if pixels.ndim == 2:
        return pixels[np.newaxis]
    return pixels.transpose(2, 0, 1)


def _check_image_size(image_size):
    """``(height, width)`` from ``image_size``, or raise a ``ValueError`` naming it."""
    if image_size is None:
        return None
    sides = (image_size, image_size) if isinstance(image_size, numbers.Integral) else image_size
    valid = (
        isinstance(sides, (tuple, list))
        and len(sides) == 2
        and all(
            isinstance(side, numbers.Integral) and not isinstance(side, bool) and side > 0
            for side in sides
        )
    )
    if not valid:
        raise ValueError(
            "image_size must be None, a positive int or a pair of positive ints "
            f"(height, width); got {image_size!r}."
        )
    return int(sides[0]), int(sides[1])


def load_image_folder(
    directory, *, image_size=(64, 64), color="rgb", scale=True, return_X_y=False
):
    """Load a folder of image files, such as LFW, with one sub-folder per class or none.

    With sub-folders (``directory/<class>/<image>``, the layout of LFW's
    ``lfw/<person>/<person>_0001.jpg``), each sub-folder is a class, labelled
    by its name; sub-folders without images are left out. With the images
    directly in ``directory``, there are no labels. Files are read in sorted
    order of class and then file name, so the result is the same on every
    machine. Hidden files (``.name``) and files not ending in one of
    :data:`IMAGE_EXTENSIONS` are ignored. Needs Pillow
    (``pip install "skaae[images]"``).

    Parameters
    ----------
    directory : str or os.PathLike
        The folder to read.
    image_size : int, (height, width) or None, default=(64, 64)
        Size every image is brought to: the largest centred region with the
        target's aspect ratio is cropped, then resized (bicubic). An int means
        a square. With None the images keep their size, which must then be the
        same for all.
    color : {"rgb", "grey"}, default="rgb"
        Three colour channels, or one grey level (``"gray"`` is accepted too).
        Images are converted as needed; transparency is dropped.
    scale : bool, default=True
        Divide the pixel values by 255, into [0, 1]. With ``scale=False`` they
        keep their range, 0 to 255 (still as ``float32``).
    return_X_y : bool, default=False
        Return ``(data, target)`` instead of a Bunch.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        With ``data``, ndarray of shape (n_images, channels * height * width),
        dtype float32: one image per row in channel-major order; ``target``,
        ndarray of shape (n_images,), dtype int64: the index of each image's
        class in ``target_names`` (None without sub-folders);
        ``target_names``: the sub-folder names, sorted (None without
        sub-folders); ``filenames``: each row's file path; ``input_shape``:
        ``(channels, height, width)``, so that ``data.reshape(-1, *input_shape)``
        gives the images.
    (data, target) : tuple
        With ``return_X_y=True``.

    Raises
    ------
    FileNotFoundError
        If ``directory`` does not exist or is not a folder.
    ValueError
        If the folder holds no images, mixes images and class sub-folders, if
        an image cannot be read (its path is named), if ``image_size=None``
        and the images differ in size, or if ``image_size`` or ``color`` is
        invalid.
    ImportError
        If Pillow is not installed.

    Examples
    --------
    Two classes of two images each, of different sizes, brought to 8x8:

    >>> import os, tempfile
    >>> from PIL import Image
    >>> from skaae.datasets import load_image_folder
    >>> folder = tempfile.mkdtemp()
    >>> for person, size in [("ada", (20, 30)), ("grace", (40, 40))]:
    ...     os.mkdir(os.path.join(folder, person))
    ...     for number in (1, 2):
    ...         path = os.path.join(folder, person, f"{person}_{number}.png")
    ...         Image.new("RGB", size, (255, 0, 0)).save(path)
    >>> faces = load_image_folder(folder, image_size=8)
    >>> faces.data.shape, faces.input_shape, faces.target.tolist()
    ((4, 192), (3, 8, 8), [0, 0, 1, 1])
    >>> faces.target_names.tolist()
    ['ada', 'grace']
    >>> faces.data.reshape(-1, *faces.input_shape)[0, :, 0, 0].tolist()  # red
    [1.0, 0.0, 0.0]
    >>> import shutil; shutil.rmtree(folder)
    """
    if color not in _COLOR_MODES:
        raise ValueError(f"color must be 'rgb' or 'grey', got {color!r}.")
    image_size = _check_image_size(image_size)
    directory = os.path.expanduser(os.fspath(directory))
    if not os.path.isdir(directory):
        problem = "is not a folder" if os.path.exists(directory) else "not found"
        raise FileNotFoundError(
            f"Image folder {directory!r} {problem}; expected a folder of image files, "
            "or of one sub-folder of image files per class."
        )
    Image, ImageOps = _import_pillow()
    layout = _image_layout(directory)
    mode = _COLOR_MODES[color]
    images, targets, filenames = [], [], []
    for class_index, (_, paths) in enumerate(layout):
        for path in paths:
            pixels = _read_image(path, mode, image_size, Image, ImageOps)
            if images and pixels.shape != images[0].shape:
                raise ValueError(
                    f"Images differ in size: {filenames[0]!r} is "
                    f"{images[0].shape[2]}x{images[0].shape[1]} but {path!r} is "
                    f"{pixels.shape[2]}x{pixels.shape[1]} (width x height). Pass "
                    "image_size=(height, width) to bring them to one size."
                )
            images.append(pixels)
            targets.append(class_index)
            filenames.append(path)
    input_shape = images[0].shape
    X = np.stack(images).reshape(len(images), -1).astype(np.float32)
    if scale:
        X /= 255.0
    labelled = layout[0][0] is not None
    y = np.array(targets, dtype=np.int64) if labelled else None
    if return_X_y:
        return X, y
    return Bunch(
        data=X,
        target=y,
        target_names=np.array([name for name, _ in layout]) if labelled else None,
        filenames=np.array(filenames),
        input_shape=input_shape,
    )
