"""Behaviour of skaae.datasets: IDX files read back exactly (plain and gzip, several
element types), corrupt, truncated and missing files refused with clear errors, and
Fashion-MNIST loaded from a folder (a small fake one, and the real one when installed)."""

import gzip
import os
import struct

import numpy as np
import pytest

from skaae.datasets import FASHION_MNIST_DIRECTORY, load_fashion_mnist, load_idx

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
