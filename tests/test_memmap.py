"""fit on a memory-mapped array reads it a mini-batch at a time (skaae._data): the
same model as in memory, and a process that grows by far less than the data."""

import os
import subprocess
import sys

import numpy as np
import pytest
import torch

from skaae import AdversarialAutoencoder, ClusteringAAE, SemiSupervisedAAE
from skaae import _data
from skaae._checkpoint import fingerprint
from skaae._data import MappedRows
from skaae._neighbors import nearest_neighbors

TINY = dict(hidden_layer_sizes=(16,), discriminator_hidden_layer_sizes=(16,), max_epochs=2,
            device="cpu", random_state=0)


def saved(tmp_path, X, name="X.npy"):
    path = tmp_path / name
    np.save(path, X)
    return path


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize(
    "make, dtype, labeled",
    [
        pytest.param(lambda: AdversarialAutoencoder(**TINY), np.float32, False, id="aae-float32"),
        pytest.param(lambda: AdversarialAutoencoder(**TINY), np.float64, False, id="aae-float64"),
        # The early-stopping split selects rows unread; the classification step
        # reads the labeled ones.
        pytest.param(
            lambda: SemiSupervisedAAE(early_stopping=True, **TINY), np.float32, True,
            id="semi-early-stopping",
        ),
        # The neighbour step searches the rows a block at a time.
        pytest.param(lambda: ClusteringAAE(n_clusters=10, **TINY), np.float32, False,
                     id="clustering-neighbors"),
    ],
)
def test_fit_on_a_memory_map_equals_fit_in_memory(digits, tmp_path, make, dtype, labeled):
    X, y = digits
    X = X[:600].astype(dtype)
    y = np.where(np.arange(600) % 4 == 0, y[:600], -1) if labeled else None
    mapped = np.load(saved(tmp_path, X), mmap_mode="r")
    on_disk, in_memory = make().fit(mapped, y), make().fit(X, y)
    np.testing.assert_array_equal(on_disk.transform(mapped), in_memory.transform(X))
    assert on_disk.history_[-1] == {**in_memory.history_[-1], "duration": on_disk.history_[-1]["duration"]}


def test_copy_on_write_map_trains_on_its_changes(digits, tmp_path):
    # Changes to a mode "c" map live in memory only: its rows are read through
    # the mapping, not from the file.
    X = digits[0][:300].astype(np.float32)
    mapped = np.load(saved(tmp_path, X), mmap_mode="c")
    mapped[:100] = 0.5
    changed = X.copy()
    changed[:100] = 0.5
    model, reference = AdversarialAutoencoder(**TINY), AdversarialAutoencoder(**TINY)
    np.testing.assert_array_equal(
        model.fit(mapped).transform(changed), reference.fit(changed).transform(changed)
    )


def test_mapped_rows_read_any_index_as_float32_rows(tmp_path):
    X = np.arange(60, dtype=np.float64).reshape(20, 3)
    rows = MappedRows(np.load(saved(tmp_path, X), mmap_mode="r")[5:], torch.device("cpu"))
    assert rows._file is not None  # read from the file, not through the mapping
    assert len(rows) == 15 and rows.shape == (15, 3)
    np.testing.assert_array_equal(rows[torch.tensor([3, 0, 3])].numpy(), X[[8, 5, 8]])
    np.testing.assert_array_equal(rows[2:4].numpy(), X[7:9])
    subset = rows.subset(torch.tensor([4, 1, 9]))
    assert subset[0:2].dtype == torch.float32
    np.testing.assert_array_equal(subset[0:2].numpy(), X[[9, 6]])
    np.testing.assert_array_equal(subset[torch.tensor([False, True, True])].numpy(), X[[6, 14]])


def test_memory_mapped_X_is_checked_for_nan_block_by_block(digits, tmp_path, monkeypatch):
    monkeypatch.setattr(_data, "_BLOCK_BYTES", 64 * 100)  # 100 rows of 64 float64 per block
    X = digits[0][:300].copy()
    X[250, 3] = np.nan
    with pytest.raises(ValueError, match="Input X contains NaN"):
        AdversarialAutoencoder(**TINY).fit(np.load(saved(tmp_path, X), mmap_mode="r"))


def test_nearest_neighbors_of_memory_mapped_rows_match_in_memory(digits, tmp_path, monkeypatch):
    import skaae._neighbors

    monkeypatch.setattr(skaae._neighbors, "_MAPPED_BLOCK_ROWS", 500)  # four blocks
    X = digits[0].astype(np.float32)
    found = nearest_neighbors(
        MappedRows(np.load(saved(tmp_path, X), mmap_mode="r"), torch.device("cpu")), 5
    ).numpy()
    expected = nearest_neighbors(torch.as_tensor(X), 5).numpy()

    def distances(indices):  # ties may order differently
        return np.sort(np.linalg.norm(X[indices] - X[:, None, :], axis=2), axis=1)

    np.testing.assert_allclose(distances(found), distances(expected), rtol=1e-5, atol=1e-5)


def test_checkpoint_fingerprint_of_a_memory_map_is_that_of_the_array(digits, tmp_path):
    X = digits[0][:300]
    model = AdversarialAutoencoder(**TINY)
    mapped = np.load(saved(tmp_path, X), mmap_mode="r")
    assert fingerprint(model, {"x": mapped}, 0, "cpu") == fingerprint(model, {"x": X}, 0, "cpu")


CHILD = r"""
import sys
import numpy as np, torch
torch.set_num_threads(1)
from skaae import AdversarialAutoencoder

def peak_mb():
    with open("/proc/self/status") as status:
        return int(next(l for l in status if l.startswith("VmHWM")).split()[1]) / 1024

params = dict(hidden_layer_sizes=(16,), discriminator_hidden_layer_sizes=(16,),
              batch_size=1000, max_epochs=1, device="cpu", random_state=0)
X = np.load(sys.argv[1], mmap_mode="r")
AdversarialAutoencoder(**params).fit(np.asarray(X[:1000]))  # PyTorch's one-time allocations
before = peak_mb()
model = AdversarialAutoencoder(**params).fit(X)
model.transform(X)
print(peak_mb() - before)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/status")
def test_fit_on_a_memory_map_grows_the_process_far_less_than_the_file(tmp_path):
    # float64 on disk: the data the networks see is float32, so a fit that
    # converted X whole would grow by half the file at least.
    rows, features = 40_000, 800
    path = tmp_path / "X.npy"
    X = np.lib.format.open_memmap(path, mode="w+", dtype=np.float64, shape=(rows, features))
    rng = np.random.default_rng(0)
    for begin in range(0, rows, 5000):
        X[begin : begin + 5000] = rng.random((5000, features), dtype=np.float32)
    X.flush()
    del X
    size_mb = os.path.getsize(path) / 2**20
    child = subprocess.run(
        [sys.executable, "-c", CHILD, str(path)], capture_output=True, text=True, timeout=120,
        env=dict(os.environ, OMP_NUM_THREADS="1"),
    )
    assert child.returncode == 0, child.stderr
    growth_mb = float(child.stdout.split()[-1])
    # Measured: 18 MB here (fit and transform) where converting X whole grew it by
    # 371 MB; benchmarks/bench_memmap.py has more sizes.
    assert growth_mb < size_mb / 4, f"fit grew the process by {growth_mb:.0f} MB for {size_mb:.0f} MB"
