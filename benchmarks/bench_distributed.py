"""Data-parallel speed-up: the same fit on one rank and on several under torchrun.

Times one ``AdversarialAutoencoder`` fit (encoder 784-1000-1000-z, mirrored
decoder, discriminator z-1000-1000-1, batch 500, float32: a model where
compute outweighs the gradient all-reduce) launched with
``python -m torch.distributed.run`` on one rank, then on ``--ranks`` ranks, each
rank with one thread, gloo on the loopback (the gradients summed through shared
memory, as skaae does when every rank is on one machine). Every rank fits the
same data; the ranks split each mini-batch of 500 rows between them.

It prints the machine, one row per run (the gradient reduction used, fit time
measured by rank 0 between two barriers, the epochs after the first,
samples/s, the training score and whether every rank ended with
bit-identical weights), the speed-up of the
fit time and that of the epochs after the first (the steady rate, without
start-up). Data: the first ``--n-samples`` rows of Fashion-MNIST when installed
(``apt-get install dataset-fashion-mnist``), else uniform noise of that shape.
Usage::

    python benchmarks/bench_distributed.py [--n-samples 10000] [--epochs 2]
        [--ranks 2] [--batch-size 500] [--data auto|fashion|synthetic]

Run it on an otherwise idle machine with at least ``--ranks`` cores: with
other work on the cores the ranks wait for each other at every step and the
ratio says nothing.
"""

import argparse
import hashlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time

import numpy as np

HIDDEN = (1000, 1000)
TARGET = 1.6


def load_data(args):
    """``X`` of shape (n_samples, 784) in [0, 1], and where it came from."""
    from skaae.datasets import load_fashion_mnist

    if args.data in ("auto", "fashion"):
        try:
            X, _ = load_fashion_mnist(kind="train")
            return X[: args.n_samples], "Fashion-MNIST"
        except FileNotFoundError:
            if args.data == "fashion":
                raise
    rng = np.random.RandomState(0)
    return rng.rand(args.n_samples, 784).astype(np.float32), "uniform noise"


def worker(args):
    """One rank: fit, then write the timings (rank 0) to ``args.out``."""
    import torch
    import torch.distributed as dist

    from skaae import AdversarialAutoencoder

    import skaae._base

    torch.set_num_threads(1)
    dist.init_process_group("gloo")
    # Which gradient reduction the fit chose (shared memory or gloo's all-reduce).
    made = []
    make = skaae._base.data_parallel
    skaae._base.data_parallel = lambda device: made.append(make(device)) or made[-1]
    X, _ = load_data(args)
    model = AdversarialAutoencoder(
        n_components=args.n_components, hidden_layer_sizes=HIDDEN,
        discriminator_hidden_layer_sizes=HIDDEN, batch_size=args.batch_size,
        max_epochs=args.epochs, precision="float32", device="cpu", random_state=0,
    )
    dist.barrier()
    start = time.perf_counter()
    model.fit(X)
    dist.barrier()
    seconds = time.perf_counter() - start
    digest = hashlib.sha256()
    for net in model._networks.values():
        for tensor in net.state_dict().values():
            digest.update(tensor.numpy().tobytes())
    digests = [None] * dist.get_world_size()
    dist.all_gather_object(digests, digest.hexdigest())
    if dist.get_rank() == 0:
        durations = [record["duration"] for record in model.history_]
        with open(args.out, "w") as file:
            json.dump({
                "ranks": dist.get_world_size(),
                "threads": torch.get_num_threads(),
                "seconds": seconds,
                "later_epochs": float(np.mean(durations[1:])) if len(durations) > 1 else None,
                "score": model.score(X[:2000]),
                "identical": len(set(digests)) == 1,
                "reduction": getattr(made[-1], "reduction", None) or "-",
            }, file)
    dist.destroy_process_group()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def launch(args, n_ranks, out):
    command = [
        sys.executable, "-m", "torch.distributed.run", "--nnodes=1",
        f"--nproc_per_node={n_ranks}", "--master_addr=127.0.0.1",
        f"--master_port={free_port()}", os.path.abspath(__file__), "--worker", "--out", out,
        "--n-samples", str(args.n_samples), "--epochs", str(args.epochs),
        "--batch-size", str(args.batch_size), "--n-components", str(args.n_components),
        "--data", args.data,
    ]
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = {
        **os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
        # The ranks import this checkout's skaae, installed or not.
        "PYTHONPATH": os.pathsep.join([root, os.environ.get("PYTHONPATH", "")]),
    }
    subprocess.run(command, env=env, check=True)
    with open(out) as file:
        return json.load(file)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n-samples", type=int, default=10000)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--ranks", type=int, default=2, help="ranks of the parallel run")
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--n-components", type=int, default=8)
    parser.add_argument("--data", choices=["auto", "fashion", "synthetic"], default="auto")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker(args)

    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from _common import print_machine

    _, source = load_data(args)
    print_machine()
    print(f"Data: {args.n_samples} x 784 rows of {source}; AdversarialAutoencoder 784-"
          f"{'-'.join(map(str, HIDDEN))}-{args.n_components}, discriminator "
          f"{args.n_components}-{'-'.join(map(str, HIDDEN))}-1, batch {args.batch_size}, "
          f"{args.epochs} epoch(s), float32; one thread per rank, gloo on 127.0.0.1 "
          "(gradients through shared memory where every rank is on this machine)")
    print()
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for n_ranks in (1, args.ranks):
            rows.append(launch(args, n_ranks, os.path.join(folder, f"{n_ranks}.json")))
    print("| ranks | threads per rank | gradient reduction | fit (s) | "
          "epochs after the first (s each) | samples/s | training score | "
          "weights identical on all ranks |")
    print("| ---: | ---: | --- | ---: | ---: | ---: | ---: | --- |")
    for row in rows:
        later = "-" if row["later_epochs"] is None else f"{row['later_epochs']:.2f}"
        speed = args.n_samples * args.epochs / row["seconds"]
        print(f"| {row['ranks']} | {row['threads']} | {row['reduction']} | "
              f"{row['seconds']:.2f} | {later} | {speed:,.0f} | {row['score']:.5f} | "
              f"{'yes' if row['identical'] else 'NO'} |")
    ratio = rows[0]["seconds"] / rows[1]["seconds"]
    print()
    print(f"Speed-up of {args.ranks} ranks over 1 (fit time): {ratio:.2f}x "
          f"(target >= {TARGET}x for 2 ranks)")
    if rows[0]["later_epochs"] and rows[1]["later_epochs"]:
        # The first epoch also holds the start-up (weights broadcast, data
        # checks, first allocations); the later ones show the steady rate.
        print(f"Speed-up of the epochs after the first: "
              f"{rows[0]['later_epochs'] / rows[1]['later_epochs']:.2f}x")


if __name__ == "__main__":
    main()
