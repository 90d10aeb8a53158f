"""Behaviour of skaae.datasets: IDX files read back exactly (plain and gzip, several
element types), corrupt, truncated and missing files refused with clear errors, and
Fashion-MNIST loaded from a folder (a small fake one, and the real one when installed);
CIFAR-10 read from a small fake batch folder and its tar.gz archive, with unsafe,
corrupt and malformed batches refused; folders of PNG and JPEG images, with and
without class sub-folders, read in a fixed order with their labels."""

import gzip
import io
import os
import pickle
import struct
import sys
import tarfile

import numpy as np
import pytest

from skaae.datasets import (
    CIFAR10_CLASSES,
    FASHION_MNIST_DIRECTORY,
    load_cifar10,
    load_fashion_mnist,
    load_idx,
    load_image_folder,
)

IDX_TYPE_CODES = {
    np.dtype("uint8"): 0x08,
    np.dtype("int8"): 0x09,
    np.dtype("int16"): 0x0B,
    np.dtype("int32"): 0x0C,
    np.dtype("float32"): 0x0D,
    np.dtype("float64"): 0x0E,
}


def idx_bytes(array):
    """Encode ``array`` as IDX: magic number, big-endian sizes, big-endian data."""
    array = np.asarray(array)
    header = struct.pack(">4B", 0, 0, IDX_TYPE_CODES[array.dtype], array.ndim)
    header += struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


def write_idx(path, array, *, compress=False):
    data = idx_bytes(array)
    path.write_bytes(gzip.compress(data) if compress else data)
    return path


@pytest.fixture
def images():
    return np.random.default_rng(0).integers(0, 256, size=(5, 28, 28)).astype(np.uint8)


@pytest.fixture
def labels():
    return np.array([9, 0, 3, 3, 7], dtype=np.uint8)


# -- load_idx: reading back -----------------------------------------------------
@pytest.mark.parametrize("compress", [False, True], ids=["plain", "gzip"])
def test_uint8_images_read_back_exactly(tmp_path, images, compress):
    path = write_idx(tmp_path / "images-idx3-ubyte", images, compress=compress)
    loaded = load_idx(path)
    assert loaded.dtype == np.uint8
    assert loaded.shape == (5, 28, 28)
    np.testing.assert_array_equal(loaded, images)


@pytest.mark.parametrize("compress", [False, True], ids=["plain", "gzip"])
def test_uint8_labels_read_back_exactly(tmp_path, labels, compress):
    path = write_idx(tmp_path / "labels-idx1-ubyte", labels, compress=compress)
    loaded = load_idx(path)
    assert loaded.shape == (5,)
    np.testing.assert_array_equal(loaded, labels)


@pytest.mark.parametrize("compress", [False, True], ids=["plain", "gzip"])
def test_float32_reads_back_in_native_byte_order(tmp_path, compress):
    values = np.array([[0.5, -1.25, 3e7], [np.pi, 0.0, -0.0]], dtype=np.float32)
    path = write_idx(tmp_path / "values.idx", values, compress=compress)
    loaded = load_idx(path)
    assert loaded.dtype == np.dtype("float32")
    assert loaded.dtype.isnative
    np.testing.assert_array_equal(loaded, values)


@pytest.mark.parametrize("dtype", ["int8", "int16", "int32", "float64"])
def test_every_idx_element_type(tmp_path, dtype):
    values = np.arange(-6, 6).reshape(3, 4).astype(dtype)
    loaded = load_idx(write_idx(tmp_path / f"{dtype}.idx", values))
    assert loaded.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(loaded, values)


def test_compression_is_detected_from_the_bytes_not_the_name(tmp_path, labels):
    gzip_named_plain = write_idx(tmp_path / "plain.gz", labels)
    plain_named_gzip = write_idx(tmp_path / "compressed.idx", labels, compress=True)
    np.testing.assert_array_equal(load_idx(gzip_named_plain), labels)
    np.testing.assert_array_equal(load_idx(plain_named_gzip), labels)


def test_accepts_a_string_path(tmp_path, labels):
    path = write_idx(tmp_path / "labels", labels)
    np.testing.assert_array_equal(load_idx(str(path)), labels)


def test_returned_array_is_writeable(tmp_path, labels):
    loaded = load_idx(write_idx(tmp_path / "labels", labels))
    loaded[0] = 1
    assert loaded[0] == 1


def test_empty_dimension_gives_an_empty_array(tmp_path):
    loaded = load_idx(write_idx(tmp_path / "empty", np.zeros((0, 28, 28), np.uint8)))
    assert loaded.shape == (0, 28, 28)


# -- load_idx: refused files ----------------------------------------------------
def test_missing_file_raises_file_not_found_naming_the_path(tmp_path):
    path = tmp_path / "nowhere-idx1-ubyte.gz"
    with pytest.raises(FileNotFoundError, match="nowhere-idx1-ubyte.gz"):
        load_idx(path)


def test_a_folder_is_not_an_idx_file(tmp_path):
    with pytest.raises(ValueError, match="not a file"):
        load_idx(tmp_path)


@pytest.mark.parametrize(
    "content",
    [b"\x01\x00\x08\x01" + b"\x00" * 8, b"\x00\x00\x07\x01" + b"\x00" * 8, b"hello world!"],
    ids=["nonzero-first-byte", "unknown-type", "text"],
)
def test_bad_magic_number_is_refused(tmp_path, content):
    path = tmp_path / "bad.idx"
    path.write_bytes(content)
    with pytest.raises(ValueError, match="bad magic number"):
        load_idx(path)


def test_file_shorter_than_the_magic_number_is_refused(tmp_path):
    path = tmp_path / "tiny.idx"
    path.write_bytes(b"\x00\x00")
    with pytest.raises(ValueError, match="not an IDX file.*2 bytes"):
        load_idx(path)


def test_truncated_header_is_refused(tmp_path, images):
    path = tmp_path / "short-header.idx"
    path.write_bytes(idx_bytes(images)[:10])
    with pytest.raises(ValueError, match="truncated.*3 dimensions"):
        load_idx(path)


@pytest.mark.parametrize("compress", [False, True], ids=["plain", "gzip"])
def test_truncated_data_is_refused(tmp_path, images, compress):
    data = idx_bytes(images)[:-100]
    path = tmp_path / "short-data.idx"
    path.write_bytes(gzip.compress(data) if compress else data)
    with pytest.raises(ValueError, match=r"truncated: shape \(5, 28, 28\) of uint8 needs 3920"):
        load_idx(path)


def test_trailing_bytes_are_refused(tmp_path, labels):
    path = tmp_path / "long.idx"
    path.write_bytes(idx_bytes(labels) + b"\x00")
    with pytest.raises(ValueError, match="longer than its header says"):
        load_idx(path)


def test_truncated_gzip_stream_is_refused(tmp_path, images):
    compressed = gzip.compress(idx_bytes(images))
    path = tmp_path / "cut.gz"
    path.write_bytes(compressed[: len(compressed) // 2])
    with pytest.raises(ValueError, match="gzip.*truncated or corrupt"):
        load_idx(path)


def test_corrupt_gzip_stream_is_refused(tmp_path, images):
    compressed = bytearray(gzip.compress(idx_bytes(images)))
    compressed[-8] ^= 0xFF  # break the CRC
    path = tmp_path / "corrupt.gz"
    path.write_bytes(bytes(compressed))
    with pytest.raises(ValueError, match="gzip.*truncated or corrupt"):
        load_idx(path)


# -- load_fashion_mnist on a small fake folder ------------------------------------
@pytest.fixture
def fashion_folder(tmp_path, images, labels):
    write_idx(tmp_path / "train-images-idx3-ubyte.gz", images, compress=True)
    write_idx(tmp_path / "train-labels-idx1-ubyte.gz", labels, compress=True)
    # The test split uncompressed: both forms are accepted.
    write_idx(tmp_path / "t10k-images-idx3-ubyte", images[:2])
    write_idx(tmp_path / "t10k-labels-idx1-ubyte", labels[:2])
    return tmp_path


def test_fashion_mnist_returns_scaled_float32_rows_and_int64_labels(
    fashion_folder, images, labels
):
    X, y = load_fashion_mnist(fashion_folder)
    assert X.shape == (5, 784) and X.dtype == np.float32
    assert y.shape == (5,) and y.dtype == np.int64
    assert 0.0 <= X.min() and X.max() <= 1.0
    np.testing.assert_allclose(X, images.reshape(5, -1) / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(y, labels)


def test_fashion_mnist_without_scaling_keeps_pixel_values(fashion_folder, images):
    X, _ = load_fashion_mnist(fashion_folder, scale=False)
    assert X.dtype == np.float32
    np.testing.assert_array_equal(X, images.reshape(5, -1))


def test_fashion_mnist_test_split_reads_uncompressed_files(fashion_folder, labels):
    X, y = load_fashion_mnist(str(fashion_folder), kind="test")
    assert X.shape == (2, 784)
    np.testing.assert_array_equal(y, labels[:2])


def test_fashion_mnist_refuses_an_unknown_kind(fashion_folder):
    with pytest.raises(ValueError, match="kind must be 'train' or 'test', got 'validation'"):
        load_fashion_mnist(fashion_folder, kind="validation")


def test_missing_fashion_mnist_folder_says_how_to_install_it(tmp_path):
    missing = tmp_path / "no-such-folder"
    with pytest.raises(FileNotFoundError, match="apt-get install dataset-fashion-mnist") as info:
        load_fashion_mnist(missing)
    assert str(missing) in str(info.value)


def test_missing_fashion_mnist_file_names_it_and_says_how_to_install(fashion_folder):
    os.remove(fashion_folder / "train-labels-idx1-ubyte.gz")
    with pytest.raises(FileNotFoundError, match="train-labels-idx1-ubyte.*apt-get install"):
        load_fashion_mnist(fashion_folder)


def test_fashion_mnist_refuses_images_and_labels_of_different_lengths(fashion_folder, labels):
    write_idx(fashion_folder / "train-labels-idx1-ubyte.gz", labels[:4], compress=True)
    with pytest.raises(ValueError, match="5 images but 4 labels"):
        load_fashion_mnist(fashion_folder)


def test_fashion_mnist_bunch_holds_the_arrays_class_names_and_shape(fashion_folder, labels):
    X, y = load_fashion_mnist(fashion_folder)
    bunch = load_fashion_mnist(fashion_folder, return_X_y=False)
    np.testing.assert_array_equal(bunch.data, X)
    np.testing.assert_array_equal(bunch.target, y)
    assert bunch.input_shape == (1, 28, 28)
    assert bunch.target_names[labels[0]] == "Ankle boot"
    assert len(bunch.target_names) == 10


# -- the real data set, where installed -------------------------------------------
def test_real_fashion_mnist_test_set():
    if not os.path.isdir(FASHION_MNIST_DIRECTORY):
        pytest.skip(f"Fashion-MNIST is not installed in {FASHION_MNIST_DIRECTORY}")
    X, y = load_fashion_mnist(kind="test")
    assert X.shape == (10000, 784) and X.dtype == np.float32
    assert 0.0 <= X.min() and X.max() <= 1.0
    assert y.shape == (10000,)
    np.testing.assert_array_equal(np.unique(y), np.arange(10))
    np.testing.assert_array_equal(np.bincount(y), np.full(10, 1000))


# -- load_cifar10 on a small fake copy ------------------------------------------------
def _python2_string(value):
    """A Python 2 ``str`` in a protocol-2 pickle (SHORT_BINSTRING or BINSTRING)."""
    if len(value) < 256:
        return b"U" + bytes([len(value)]) + value
    return b"T" + struct.pack("<i", len(value)) + value


def _python2_int(value):
    return b"J" + struct.pack("<i", value)


def python2_batch_pickle(images, labels, *, labels_key=b"labels"):
    """A batch pickled as Python 2's cPickle wrote CIFAR-10's: protocol 2, keys and
    pixel bytes as Python 2 strings, the array rebuilt by numpy.core.multiarray."""
    n_rows, n_columns = images.shape
    array = (
        b"cnumpy.core.multiarray\n_reconstruct\n"
        + b"cnumpy\nndarray\n" + _python2_int(0) + b"\x85" + _python2_string(b"b") + b"\x87R"
        + b"(" + _python2_int(1) + _python2_int(n_rows) + _python2_int(n_columns) + b"\x86"
        + b"cnumpy\ndtype\n" + _python2_string(b"u1") + _python2_int(0) + _python2_int(1)
        + b"\x87R(" + _python2_int(3) + _python2_string(b"|") + b"NNN"
        + _python2_int(-1) + _python2_int(-1) + _python2_int(0) + b"tb"
        + b"\x89" + _python2_string(images.tobytes()) + b"tb"
    )  # fmt: skip
    label_list = b"](" + b"".join(_python2_int(int(label)) for label in labels) + b"e"
    return (
        b"\x80\x02}(" + _python2_string(b"batch_label") + _python2_string(b"batch")
        + _python2_string(labels_key) + label_list + _python2_string(b"data") + array + b"u."
    )  # fmt: skip


def test_python2_batch_helper_matches_a_plain_unpickle():
    images = np.arange(2 * 3072, dtype=np.int64).reshape(2, 3072).astype(np.uint8)
    batch = pickle.loads(python2_batch_pickle(images, [3, 4]), encoding="bytes")
    np.testing.assert_array_equal(batch[b"data"], images)
    assert batch[b"labels"] == [3, 4]


@pytest.fixture
def cifar(tmp_path):
    """A fake CIFAR-10 copy: five train batches of 2 images and a test batch of 3, written
    the three ways batches are found (Python 2 cPickle; Python 3 at protocol 2, whose
    bytes go through _codecs.encode; Python 3 at protocol 5, with str keys)."""
    rng = np.random.default_rng(0)
    root = tmp_path / "data"
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    batches = {}
    for number, name in enumerate([f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]):
        n_images = 3 if name == "test_batch" else 2
        images = rng.integers(0, 256, size=(n_images, 3072)).astype(np.uint8)
        labels = rng.integers(0, 10, size=n_images).tolist()
        if number % 3 == 0:
            content = python2_batch_pickle(images, labels)
        elif number % 3 == 1:
            content = pickle.dumps({b"data": images, b"labels": labels}, protocol=2)
        else:
            content = pickle.dumps({"data": images, "labels": labels}, protocol=5)
        (folder / name).write_bytes(content)
        batches[name] = (images, labels)
    label_names = [name.upper().encode() for name in CIFAR10_CLASSES]
    (folder / "batches.meta").write_bytes(pickle.dumps({b"label_names": label_names}, 2))
    train = [batches[f"data_batch_{i}"] for i in range(1, 6)]
    return {
        "root": root,
        "folder": folder,
        "train_images": np.concatenate([images for images, _ in train]),
        "train_labels": np.concatenate([labels for _, labels in train]),
        "test_images": batches["test_batch"][0],
        "test_labels": np.array(batches["test_batch"][1]),
    }


def make_archive(cifar, path):
    with tarfile.open(path, "w:gz") as tar:
        tar.add(cifar["folder"], arcname="cifar-10-batches-py")
    return path


def test_cifar10_train_split_joins_the_five_batches_in_order(cifar):
    data = load_cifar10(cifar["folder"])
    assert data.data.shape == (10, 3072) and data.data.dtype == np.float32
    assert data.target.dtype == np.int64
    np.testing.assert_allclose(data.data, cifar["train_images"] / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(data.target, cifar["train_labels"])


def test_cifar10_test_split_and_unscaled_pixels(cifar):
    X, y = load_cifar10(cifar["folder"], kind="test", scale=False, return_X_y=True)
    assert X.dtype == np.float32
    np.testing.assert_array_equal(X, cifar["test_images"])
    np.testing.assert_array_equal(y, cifar["test_labels"])


def test_cifar10_rows_are_channel_major(cifar):
    data = load_cifar10(cifar["folder"], kind="test", scale=False)
    assert data.input_shape == (3, 32, 32)
    images = data.data.reshape(-1, *data.input_shape)
    channel, row, column = 2, 5, 7  # blue, the value stored at 2 * 1024 + 5 * 32 + 7
    assert images[1, channel, row, column] == cifar["test_images"][1, 2 * 1024 + 5 * 32 + 7]


def test_cifar10_class_names_come_from_batches_meta(cifar):
    names = load_cifar10(cifar["folder"], kind="test").target_names
    assert names.tolist() == [name.upper() for name in CIFAR10_CLASSES]


def test_cifar10_without_batches_meta_uses_the_standard_class_names(cifar):
    os.remove(cifar["folder"] / "batches.meta")
    names = load_cifar10(cifar["folder"], kind="test").target_names
    assert names.tolist() == list(CIFAR10_CLASSES)


@pytest.mark.parametrize("where", ["batch-folder", "parent-folder", "archive", "archive-folder"])
def test_cifar10_is_found_in_every_accepted_place(cifar, tmp_path, where):
    if where.startswith("archive"):
        archive_folder = tmp_path / "download"
        archive_folder.mkdir()
        archive = make_archive(cifar, archive_folder / "cifar-10-python.tar.gz")
        path = archive if where == "archive" else archive_folder
    else:
        path = cifar["folder"] if where == "batch-folder" else str(cifar["root"])
    data = load_cifar10(path, kind="test")
    np.testing.assert_array_equal(data.target, cifar["test_labels"])
    np.testing.assert_allclose(data.data, cifar["test_images"] / 255.0, rtol=1e-6)
    assert data.target_names[0] == "AIRPLANE"


def test_cifar10_archive_gives_the_same_train_split_as_the_folder(cifar, tmp_path):
    archive = make_archive(cifar, tmp_path / "cifar-10-python.tar.gz")
    from_archive = load_cifar10(archive)
    from_folder = load_cifar10(cifar["folder"])
    np.testing.assert_array_equal(from_archive.data, from_folder.data)
    np.testing.assert_array_equal(from_archive.target, from_folder.target)


def test_cifar10_refuses_an_unknown_kind(cifar):
    with pytest.raises(ValueError, match="kind must be 'train' or 'test', got 'valid'"):
        load_cifar10(cifar["folder"], kind="valid")


def test_missing_cifar10_path_is_named(tmp_path):
    missing = tmp_path / "nowhere"
    with pytest.raises(FileNotFoundError, match="cifar-10-batches-py") as info:
        load_cifar10(missing)
    assert str(missing) in str(info.value)


def test_folder_without_cifar10_says_what_was_expected(tmp_path):
    with pytest.raises(FileNotFoundError, match="No CIFAR-10 data.*cifar-10-python.tar.gz"):
        load_cifar10(tmp_path)


def test_missing_cifar10_batch_is_named(cifar):
    os.remove(cifar["folder"] / "data_batch_4")
    with pytest.raises(FileNotFoundError, match="'data_batch_4' is missing"):
        load_cifar10(cifar["folder"])
    load_cifar10(cifar["folder"], kind="test")  # the test split does not need it


def test_missing_cifar10_batch_in_the_archive_is_named(cifar, tmp_path):
    os.remove(cifar["folder"] / "test_batch")
    archive = make_archive(cifar, tmp_path / "cifar-10-python.tar.gz")
    with pytest.raises(FileNotFoundError, match="'test_batch' is missing from the archive"):
        load_cifar10(archive, kind="test")


def test_truncated_cifar10_batch_is_refused_naming_it(cifar):
    path = cifar["folder"] / "test_batch"
    path.write_bytes(path.read_bytes()[:5000])
    with pytest.raises(ValueError, match="test_batch.*truncated or corrupt"):
        load_cifar10(cifar["folder"], kind="test")


@pytest.mark.parametrize("damage", ["truncated", "not-a-tar"])
def test_damaged_cifar10_archive_is_refused_naming_it(cifar, tmp_path, damage):
    archive = make_archive(cifar, tmp_path / "cifar-10-python.tar.gz")
    content = archive.read_bytes()
    archive.write_bytes(content[: len(content) // 2] if damage == "truncated" else b"hello")
    with pytest.raises(ValueError, match="cifar-10-python.tar.gz.*truncated or corrupt"):
        load_cifar10(archive)


class _CreatesAFolder:
    """Unpickling this would create ``path``: the stand-in for a malicious batch."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return os.makedirs, (self.path,)


def test_cifar10_batch_that_would_run_code_is_refused_unrun(cifar, tmp_path):
    target = tmp_path / "created-by-the-pickle"
    content = {b"data": _CreatesAFolder(str(target)), b"labels": [0]}
    (cifar["folder"] / "test_batch").write_bytes(pickle.dumps(content, protocol=2))
    with pytest.raises(ValueError, match="test_batch.*refers to .*makedirs.*arbitrary code"):
        load_cifar10(cifar["folder"], kind="test")
    assert not target.exists()


@pytest.mark.parametrize(
    "content, message",
    [
        ([1, 2, 3], "holds a list, not a dict"),
        ({b"data": np.zeros((2, 3072), np.uint8)}, "lacks labels"),
        ({b"data": np.zeros((2, 100), np.uint8), b"labels": [0, 1]}, r"shape \(2, 100\)"),
        ({b"data": np.zeros((2, 3072), np.float32), b"labels": [0, 1]}, "float32; expected uint8"),
        ({b"data": np.zeros((2, 3072), np.uint8), b"labels": [0]}, "2 images but labels"),
        ({b"data": np.zeros((2, 3072), np.uint8), b"labels": [0, 10]}, "outside 0 to 9"),
        ({b"data": np.zeros((2, 3072), np.uint8), b"fine_labels": [0, 1]}, "CIFAR-100"),
    ],
    ids=["not-a-dict", "no-labels", "wrong-width", "wrong-type", "count", "range", "cifar100"],
)
def test_malformed_cifar10_batch_is_refused_naming_it(cifar, content, message):
    (cifar["folder"] / "test_batch").write_bytes(pickle.dumps(content))
    with pytest.raises(ValueError, match=message) as info:
        load_cifar10(cifar["folder"], kind="test")
    assert "test_batch" in str(info.value)


# -- load_image_folder ----------------------------------------------------------------
Image = pytest.importorskip("PIL.Image")

RED, GREEN, BLUE = (255, 0, 0), (0, 255, 0), (0, 0, 255)


def save_image(path, size, color, *, mode="RGB", **options):
    """Write a plain image of ``size`` (width, height) and one ``color``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new(mode, size, color).save(path, **options)
    return path


@pytest.fixture
def people(tmp_path):
    """LFW's layout: one folder per person, images of several sizes and formats."""
    root = tmp_path / "lfw"
    save_image(root / "bob" / "bob_0002.png", (30, 20), BLUE)
    save_image(root / "bob" / "bob_0001.jpg", (40, 40), GREEN, quality=95)
    save_image(root / "alice" / "alice_0001.png", (16, 24), RED)
    save_image(root / "carol" / "carol_0001.png", (10, 10), 128, mode="L")
    return root


def test_class_folders_give_sorted_labels_and_shapes(people):
    faces = load_image_folder(people, image_size=(6, 8))
    assert faces.data.shape == (4, 3 * 6 * 8) and faces.data.dtype == np.float32
    assert faces.input_shape == (3, 6, 8)
    assert faces.target_names.tolist() == ["alice", "bob", "carol"]
    assert faces.target.dtype == np.int64
    assert faces.target.tolist() == [0, 1, 1, 2]
    names = [os.path.relpath(path, people) for path in faces.filenames]
    assert names == [
        os.path.join("alice", "alice_0001.png"),
        os.path.join("bob", "bob_0001.jpg"),
        os.path.join("bob", "bob_0002.png"),
        os.path.join("carol", "carol_0001.png"),
    ]


def test_image_pixels_are_channel_major_and_scaled(people):
    faces = load_image_folder(people, image_size=4)
    images = faces.data.reshape(-1, *faces.input_shape)
    red, green = np.zeros((3, 4, 4)), np.zeros((3, 4, 4))
    red[0], green[1] = 1.0, 1.0
    np.testing.assert_array_equal(images[0], red)
    np.testing.assert_allclose(images[1], green, atol=0.02)  # a JPEG: nearly exact
    np.testing.assert_array_equal(images[2, 2], 1.0)  # the blue image's blue plane
    np.testing.assert_array_equal(images[2, :2], 0.0)
    np.testing.assert_allclose(images[3], 128 / 255, rtol=1e-6)  # grey read as RGB


def test_grey_images_have_one_channel(people):
    faces = load_image_folder(people, image_size=4, color="grey", scale=False)
    assert faces.input_shape == (1, 4, 4) and faces.data.shape == (4, 16)
    # Pillow's luminance: 299/1000 red + 587/1000 green + 114/1000 blue.
    np.testing.assert_array_equal(faces.data[0], 76.0)
    np.testing.assert_array_equal(faces.data[3], 128.0)


def test_centre_crop_keeps_the_aspect_ratio(tmp_path):
    image = Image.new("RGB", (30, 10), RED)
    image.paste(GREEN, (10, 0, 20, 10))
    image.paste(BLUE, (20, 0, 30, 10))
    image.save(tmp_path / "stripes.png")
    X, y = load_image_folder(tmp_path, image_size=(10, 10), scale=False, return_X_y=True)
    assert y is None
    planes = X.reshape(3, 10, 10)
    # Only the green middle survives; a stretch would have kept all three stripes.
    np.testing.assert_array_equal(planes[1, :, 2:-2], 255.0)
    np.testing.assert_array_equal(planes[[0, 2], :, 2:-2], 0.0)


def test_flat_folder_has_no_labels(tmp_path):
    save_image(tmp_path / "b.png", (5, 5), GREEN)
    save_image(tmp_path / "a.png", (8, 3), RED)
    images = load_image_folder(tmp_path, image_size=(2, 3))
    assert images.target is None and images.target_names is None
    assert [os.path.basename(path) for path in images.filenames] == ["a.png", "b.png"]
    assert images.data.shape == (2, 18)


def test_hidden_non_image_files_and_empty_class_folders_are_skipped(people):
    (people / "README.txt").write_text("not an image")
    (people / "dave").mkdir()
    (people / ".cache").mkdir()
    save_image(people / ".cache" / "thumb.png", (4, 4), RED)
    save_image(people / "alice" / ".hidden.png", (4, 4), RED)
    faces = load_image_folder(people, image_size=2)
    assert faces.target_names.tolist() == ["alice", "bob", "carol"]
    assert len(faces.filenames) == 4


def test_palette_image_with_transparency_reads_without_warning(tmp_path, recwarn):
    image = Image.new("P", (4, 4), 1)
    image.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    image.save(tmp_path / "palette.png", transparency=0)
    images = load_image_folder(tmp_path, image_size=None, scale=False)
    np.testing.assert_array_equal(images.data.reshape(3, 4, 4)[0], 255.0)
    assert not recwarn.list


def test_original_size_is_kept_when_image_size_is_none(tmp_path):
    save_image(tmp_path / "a.png", (5, 3), RED)
    save_image(tmp_path / "b.png", (5, 3), BLUE)
    assert load_image_folder(tmp_path, image_size=None).input_shape == (3, 3, 5)


def test_images_of_different_sizes_need_an_image_size(tmp_path):
    save_image(tmp_path / "a.png", (5, 3), RED)
    save_image(tmp_path / "b.png", (4, 4), BLUE)
    with pytest.raises(ValueError, match=r"'.*a\.png' is 5x3 but '.*b\.png' is 4x4.*image_size"):
        load_image_folder(tmp_path, image_size=None)


def test_missing_image_folder_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="'.*nowhere' not found; expected a folder"):
        load_image_folder(tmp_path / "nowhere")


def test_a_file_is_not_an_image_folder(tmp_path):
    path = save_image(tmp_path / "a.png", (2, 2), RED)
    with pytest.raises(FileNotFoundError, match="is not a folder"):
        load_image_folder(path)


def test_folder_without_images_is_refused(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    (tmp_path / "empty-class").mkdir()
    with pytest.raises(ValueError, match="No image files in"):
        load_image_folder(tmp_path)


def test_images_next_to_class_folders_are_refused(people):
    save_image(people / "stray.png", (4, 4), RED)
    with pytest.raises(ValueError, match="both image files .*'stray.png'.*one or the other"):
        load_image_folder(people)


@pytest.mark.parametrize("damage", ["garbage", "truncated-png", "truncated-jpeg"])
def test_unreadable_image_is_refused_naming_it(tmp_path, damage):
    rng = np.random.default_rng(0)
    noise = Image.fromarray(rng.integers(0, 256, size=(32, 32, 3)).astype(np.uint8))
    name = "broken.jpg" if damage == "truncated-jpeg" else "broken.png"
    buffer = io.BytesIO()
    noise.save(buffer, format="JPEG" if name.endswith(".jpg") else "PNG")
    content = b"not an image at all" if damage == "garbage" else buffer.getvalue()[:400]
    save_image(tmp_path / "fine.png", (32, 32), RED)
    (tmp_path / name).write_bytes(content)
    with pytest.raises(ValueError, match=f"Cannot read the image '.*{name}'"):
        load_image_folder(tmp_path)


@pytest.mark.parametrize("image_size", [0, (4,), (4, -1), "64", (2.5, 3), True])
def test_invalid_image_size_is_refused(people, image_size):
    with pytest.raises(ValueError, match="image_size must be None, a positive int"):
        load_image_folder(people, image_size=image_size)


def test_invalid_color_is_refused(people):
    with pytest.raises(ValueError, match="color must be 'rgb' or 'grey', got 'cmyk'"):
        load_image_folder(people, color="cmyk")


def test_missing_pillow_says_which_extra_to_install(people, monkeypatch):
    monkeypatch.setitem(sys.modules, "PIL", None)
    with pytest.raises(ImportError, match=r'pip install "skaae\[images\]"'):
        load_image_folder(people)
