"""A grid search of AdversarialAutoencoder in one process against the same search on a Dask cluster.

``GridSearchCV`` runs its candidates x folds fits through joblib; under
``joblib.parallel_backend("dask")`` they run on the workers of a Dask cluster
instead. Here the cluster is a ``LocalCluster`` of ``--workers`` processes with
one thread each, on this machine: the recipe of docs/scaling.rst, whose
scheduler address a real cluster would replace. The script prints the time of
each search, the speed-up and whether both found the same best parameters.

Usage::

    python benchmarks/bench_dask_search.py [--workers 2] [--epochs 20] [--folds 3]
"""

import argparse
import os
import time

# One thread per fit, in this process and in the workers it starts.
os.environ.setdefault("OMP_NUM_THREADS", "1")

import joblib  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.model_selection import GridSearchCV  # noqa: E402

from _common import print_machine  # noqa: E402
from skaae import AdversarialAutoencoder  # noqa: E402

GRID = {"learning_rate_init": [1e-3, 3e-3], "adversarial_weight": [0.5, 1.0]}


def search(epochs, folds):
    model = AdversarialAutoencoder(
        hidden_layer_sizes=(64,), discriminator_hidden_layer_sizes=(64,), max_epochs=epochs,
        device="cpu", random_state=0,
    )
    return GridSearchCV(model, GRID, cv=folds, n_jobs=-1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--folds", type=int, default=3)
    args = parser.parse_args()
    from distributed import Client, LocalCluster

    torch.set_num_threads(1)
    X = load_digits().data / 16
    print_machine()
    n_fits = args.folds * int(np.prod([len(v) for v in GRID.values()]))
    print(f"digits {X.shape}, {n_fits} fits of {args.epochs} epochs (64-unit layers), "
          f"then the refit\n")

    start = time.perf_counter()
    serial = search(args.epochs, args.folds)
    with joblib.parallel_backend("sequential"):
        serial.fit(X)
    serial_seconds = time.perf_counter() - start

    with LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        # Workers import PyTorch and skaae once, before the clock starts, as a
        # long-running cluster would have.
        client.run(lambda: __import__("skaae") and None)
        start = time.perf_counter()
        distributed = search(args.epochs, args.folds)
        with joblib.parallel_backend("dask"):
            distributed.fit(X)
        dask_seconds = time.perf_counter() - start

    print("| search | workers | time (s) | speed-up |")
    print("|---|---:|---:|---:|")
    print(f"| one process | 1 | {serial_seconds:.1f} | 1.00 |")
    print(f"| Dask LocalCluster | {args.workers} | {dask_seconds:.1f} | "
          f"{serial_seconds / dask_seconds:.2f} |")
    print(f"\nload average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    same = serial.best_params_ == distributed.best_params_ and np.allclose(
        serial.cv_results_["mean_test_score"], distributed.cv_results_["mean_test_score"]
    )
    print(f"same scores and best parameters: {same} ({distributed.best_params_})")


if __name__ == "__main__":
    main()
