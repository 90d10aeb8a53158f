"""Peak memory of ``fit`` on a memory-mapped array against the array's size.

For each dtype the script writes a random ``(rows, features)`` array to a
``.npy`` file in a temporary folder, then fits a small AdversarialAutoencoder
in a child process (so nothing else counts) on:

- ``np.load(path, mmap_mode="r")``: the data stays on disk and is read a
  mini-batch at a time;
- ``np.load(path)``: the array in memory, for comparison.

Each child first fits the same model on a few rows in memory, so that PyTorch's
one-time allocations are done, then limits its heap (``RLIMIT_DATA``: the
memory it may allocate, which a read-only file mapping does not count) to what
it uses plus ``--heap-limit-mb``, fits, and reports whether the fit succeeded
under that limit, how much its peak resident set (``VmHWM`` in
``/proc/self/status``, file pages included) grew during the fit, and the fit's
time. Linux only. Usage::

    python benchmarks/bench_memmap.py [--rows 200000] [--features 784] [--epochs 1]
        [--dtypes float32 float64] [--heap-limit-mb 256] [--folder /tmp]
"""

import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np
from _common import print_machine

CHILD = r"""
import resource, sys, time
import numpy as np, torch
torch.set_num_threads(1)
from skaae import AdversarialAutoencoder

def status_mb(key):
    with open("/proc/self/status") as status:
        line = next(l for l in status if l.startswith(key))
    return int(line.split()[1]) / 1024

path, mode, epochs, limit_mb = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
params = dict(hidden_layer_sizes=(64,), discriminator_hidden_layer_sizes=(64,), batch_size=500,
              max_epochs=epochs, device="cpu", random_state=0)
X = np.load(path, mmap_mode="r" if mode == "mmap" else None)
AdversarialAutoencoder(**params).fit(np.asarray(X[:1000]))  # one-time allocations
heap = int((status_mb("VmData") + limit_mb) * 2**20)
resource.setrlimit(resource.RLIMIT_DATA, (heap, resource.getrlimit(resource.RLIMIT_DATA)[1]))
before = status_mb("VmHWM")
start = time.perf_counter()
try:
    AdversarialAutoencoder(**params).fit(X)
    fitted = 1
except MemoryError:
    fitted = 0
print(fitted, status_mb("VmHWM") - before, time.perf_counter() - start)
"""


def write_array(path, rows, features, dtype, seed=0):
    """A random array in [0, 1), written block by block (never whole in memory)."""
    out = np.lib.format.open_memmap(path, mode="w+", dtype=dtype, shape=(rows, features))
    rng = np.random.default_rng(seed)
    for begin in range(0, rows, 10_000):
        out[begin : begin + 10_000] = rng.random((min(10_000, rows - begin), features))
    out.flush()
    del out


def fit_in_child(path, mode, epochs, limit_mb):
    env = dict(os.environ, OMP_NUM_THREADS="1")
    result = subprocess.run(
        [sys.executable, "-c", CHILD, path, mode, str(epochs), str(limit_mb)],
        capture_output=True, text=True, env=env, check=True,
    )
    fitted, growth, seconds = map(float, result.stdout.split())
    return bool(fitted), growth, seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--features", type=int, default=784)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--dtypes", nargs="+", default=["float32", "float64"])
    parser.add_argument("--heap-limit-mb", type=int, default=256,
                        help="memory the fit may allocate beyond what the process holds")
    parser.add_argument("--folder", default=None, help="where to write the files (default: temp)")
    args = parser.parse_args()
    print_machine()
    print(f"rows={args.rows} features={args.features} epochs={args.epochs}, "
          "model 64-unit layers, batch 500, one thread\n")
    limit = args.heap_limit_mb
    print(f"| dtype | file (MB) | X given as | fits in +{limit} MB of heap | "
          "peak RSS growth in fit (MB) | growth / file | fit (s) |")
    print("|---|---:|---|---|---:|---:|---:|")
    with tempfile.TemporaryDirectory(dir=args.folder) as folder:
        for dtype in args.dtypes:
            path = os.path.join(folder, f"X_{dtype}.npy")
            write_array(path, args.rows, args.features, dtype)
            size = os.path.getsize(path) / 2**20
            for mode, label in (("mmap", 'np.load(mmap_mode="r")'), ("memory", "np.load()")):
                fitted, growth, seconds = fit_in_child(path, mode, args.epochs, limit)
                print(f"| {dtype} | {size:,.0f} | `{label}` | "
                      f"{'yes' if fitted else 'no: MemoryError'} | {growth:,.0f} | "
                      f"{growth / size:.2f} | {seconds:.1f} |", flush=True)
            os.remove(path)


if __name__ == "__main__":
    main()
