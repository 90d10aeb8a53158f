"""Test error against training length: one AAE trained on, checkpoint by checkpoint.

Answers "would more epochs help?" in one run instead of one run per budget.
For each seed the data is split as in the quality benchmarks, the best peer of
that benchmark is fitted once (same split, same labels), and the AAE runs one
``fit`` with ``max_epochs`` set to the last checkpoint: the networks' weights
are copied at the end of each checkpoint's epoch and the test error is
measured on each copy after the fit. So the rows are the checkpoints of one
run of the last checkpoint's budget (with ``learning_rate_decay``, the decay
spans that whole budget).

- ``--model semi``: ``SemiSupervisedAAE`` with ``--labels-per-class`` labels
  per class, against the peers of ``bench_semi_supervised.py``;
- ``--model clustering``: ``ClusteringAAE(n_clusters=--n-clusters)``, scored
  with the paper's clustering error, against the peers of ``bench_clustering.py``.

Weight averaging is off (it would replace the last checkpoint's weights
alone with an average, so the rows would not be one run's); pass
``--aae-param device=cuda`` to train on a GPU.

Usage::

    python benchmarks/bench_training_length.py --dataset digits --model semi \
        --checkpoints 25 50 100 200 400 [--seeds 0 1 2]
    python benchmarks/bench_training_length.py --dataset fashion --n-train 10000 \
        --model clustering --n-clusters 16 --checkpoints 10 20 50 100
    python benchmarks/bench_training_length.py --dataset fashion --n-train 20000 --seeds 0 1 2 \
        --checkpoints 10 20 --variant defaults --variant neighbor_weight=1.0

``--variant`` trains several settings side by side on the same splits and
labels (the peers are fitted once per seed).

Prints, per checkpoint, the AAE's test error (mean ± std over the seeds), its
cumulative training time, and its error over the best peer's.
"""

import argparse
import signal
import sys
import time

import numpy as np
from skaae._engine import Callback

import bench_clustering
import bench_semi_supervised
from _common import (
    aae_parameters,
    add_common_arguments,
    describe_aae,
    describe_data,
    load_split,
    mean_std,
    parse_variant,
    print_aligned,
    print_machine,
)


def peer_errors(args, seed, X_train, y_fit, y_train, X_test, y_test):
    """Name -> test error of each peer of the matching quality benchmark."""
    errors = {}
    if args.model == "semi":
        for name, fit in bench_semi_supervised.make_peers(args.dataset, seed).items():
            errors[name] = np.mean(fit(X_train, y_fit).predict(X_test) != y_test)
    else:
        for name, fit in bench_clustering.make_peers(args.dataset, seed).items():
            model = fit(X_train, args.n_clusters)
            errors[name] = bench_clustering.held_out_error(model, X_train, y_train, X_test,
                                                           y_test)
    return errors


def make_aae(args, seed, variant=None):
    import skaae

    common = dict(n_components=args.aae_components, random_state=seed, weight_averaging=0.0)
    common.update({"device": "cpu", **aae_parameters(args), **(variant or {})})
    if args.model == "semi":
        return skaae.SemiSupervisedAAE(**common)
    return skaae.ClusteringAAE(n_clusters=args.n_clusters, **common)


def aae_error(args, model, X_train, y_train, X_test, y_test):
    if args.model == "semi":
        return np.mean(model.predict(X_test) != y_test)
    return bench_clustering.held_out_error(model, X_train, y_train, X_test, y_test)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_common_arguments(parser, default_aae_components=4)
    parser.add_argument("--model", choices=["semi", "clustering"], default="semi")
    parser.add_argument("--labels-per-class", type=int, default=10,
                        help="semi only: labeled training points per class (default 10)")
    parser.add_argument("--n-clusters", type=int, default=16,
                        help="clustering only (default 16)")
    parser.add_argument("--checkpoints", type=int, nargs="+", default=[25, 50, 100, 200],
                        help="total epochs at which the test error is measured")
    parser.add_argument("--variant", action="append", default=None,
                        metavar="NAME=VALUE[,NAME=VALUE]",
                        help="an AAE setting to train side by side with the others on the "
                             "same splits, on top of --aae-param ('defaults' for none); "
                             "repeatable (default: one run with --aae-param alone)")
    args = parser.parse_args()
    args.variants = args.variant or ["defaults"]
    checkpoints = sorted(set(args.checkpoints))
    if checkpoints[0] < 1:
        raise SystemExit("--checkpoints must be positive epoch counts.")
    print_machine()
    # A time limit (``timeout`` sends SIGTERM) still gets the table of what was measured.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    errors = {(v, epochs): [] for v in args.variants for epochs in checkpoints}
    seconds = {(v, epochs): [] for v in args.variants for epochs in checkpoints}
    best_peer_errors, best_peer_names = [], set()
    try:
        measure(args, checkpoints, errors, seconds, best_peer_errors, best_peer_names)
    finally:
        print_results(args, checkpoints, errors, seconds, best_peer_errors, best_peer_names)


def measure(args, checkpoints, errors, seconds, best_peer_errors, best_peer_names):
    """Fill ``errors`` and ``seconds`` (per checkpoint) and the best peers, seed by seed."""
    for seed in args.seeds:
        X_train, y_train, X_test, y_test = load_split(args, seed)
        y_fit = None
        if args.model == "semi":
            y_fit = bench_semi_supervised.hide_labels(y_train, args.labels_per_class, seed)
        if seed == args.seeds[0]:
            print(describe_data(args, X_train, X_test))
            setting = (f"{args.labels_per_class} labels/class" if args.model == "semi"
                       else f"{args.n_clusters} clusters")
            print(f"seeds {args.seeds}; {args.model}, {setting}; AAE: {describe_aae(args)}")
        peers = peer_errors(args, seed, X_train, y_fit, y_train, X_test, y_test)
        best = min(peers, key=peers.get)
        best_peer_errors.append(peers[best])
        best_peer_names.add(best)
        print(f"  seed {seed}: best peer {best} {100 * peers[best]:.2f}%", flush=True)

        for variant in args.variants:
            model = make_aae(args, seed, parse_variant(variant))
            model.set_params(max_epochs=checkpoints[-1])
            snapshots = Snapshots(checkpoints, start=time.perf_counter())
            model._epoch_observers = lambda snapshots=snapshots: [snapshots]
            if y_fit is None:
                model.fit(X_train)
            else:
                model.fit(X_train, y_fit)
            print_resolved_settings(model)
            for epochs in checkpoints:
                snapshots.restore(model, epochs)
                key = (variant, epochs)
                errors[key].append(aae_error(args, model, X_train, y_train, X_test, y_test))
                seconds[key].append(snapshots.seconds[epochs])
                print(f"  seed {seed}, {variant}, {epochs} epochs: "
                      f"{100 * errors[key][-1]:.2f}% after {snapshots.seconds[epochs]:.0f}s",
                      flush=True)


class Snapshots(Callback):
    """An epoch-end observer of the training engine: a copy of every network's
    weights, and the seconds since ``start`` (the call to ``fit``, so the
    neighbour search counts), at each checkpoint."""

    name = "snapshots"

    def __init__(self, checkpoints, start):
        self.checkpoints, self.start = set(checkpoints), start
        self.weights, self.seconds = {}, {}

    def on_epoch_end(self, engine, epochs_done, record):
        if epochs_done in self.checkpoints:
            self.seconds[epochs_done] = time.perf_counter() - self.start
            self.weights[epochs_done] = engine._state()
        return False

    def restore(self, model, epochs):
        """Give the fitted ``model`` the weights it had after ``epochs`` epochs."""
        for key, weights in self.weights[epochs].items():
            model._networks[key].load_state_dict(weights)


def print_resolved_settings(model):
    """What SemiSupervisedAAE's "auto" graph settings resolved to, and why."""
    accuracy = getattr(model, "label_propagation_accuracy_", None)
    if accuracy is None:
        return
    print(f"    label propagation accuracy {accuracy:.2f}: neighbor_weight="
          f"{model.neighbor_weight_}, consistency_weight={model.consistency_weight_}, "
          f"label_mixup={model.label_mixup_}", flush=True)


def print_results(args, checkpoints, errors, seconds, best_peer_errors, best_peer_names):
    if not best_peer_errors:
        return
    rows = [["best peer: " + ", ".join(sorted(best_peer_names)),
             mean_std(100 * np.asarray(best_peer_errors), 2), "", "1.00x"]]
    for key in (key for key in errors if errors[key]):
        variant, epochs = key
        # Against the peers of the same seeds: a stopped run has fewer at later checkpoints.
        peer = np.mean(best_peer_errors[:len(errors[key])])
        label = "AAE" if variant == "defaults" else f"AAE {variant}"
        rows.append([f"{label}, {epochs} epochs ({len(errors[key])} seed(s))",
                     mean_std(100 * np.asarray(errors[key]), 2), f"{np.mean(seconds[key]):.0f}",
                     f"{np.mean(errors[key]) / peer:.2f}x" if peer else "n/a"])
    complete = all(len(errors[key]) == len(args.seeds) for key in errors)
    print_aligned(f"Test error against training length on {args.dataset}, "
                  f"{len(args.seeds)} seed(s)" + ("" if complete else ", stopped early"),
                  ["method", "error %", "training s (cumulative)", "vs best peer"], rows)


if __name__ == "__main__":
    main()
