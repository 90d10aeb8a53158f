"""How often a sample's nearest neighbours share its class, in a few spaces.

The neighbour step of the categorical models (``neighbor_weight``) asks each
sample and one of its ``n_neighbors`` nearest training samples to share a
category; this is the share of such pairs that are right, an upper bound on
what that step can teach. Prints one row per space: raw features (Euclidean
and cosine), PCA-50 codes, and rows centred and scaled to unit length.

Then what ``SemiSupervisedAAE``'s ``"auto"`` graph settings measure on the same
training points with ``--labels-per-class`` labels per class (hidden as the
semi-supervised benchmarks hide them): ``label_propagation_accuracy_`` (the
estimator's own function, on its neighbour graph of the raw features) and
whether the neighbour and consistency steps would run.

Usage: ``python benchmarks/bench_neighbor_agreement.py [--dataset digits|fashion]
[--n-train 10000] [--n-neighbors 10] [--seeds 0] [--labels-per-class 10 100]
[--skip-spaces]``
"""

import argparse

import numpy as np
from sklearn.decomposition import PCA
from sklearn.neighbors import NearestNeighbors

import torch

from _common import add_data_arguments, load_split, print_aligned, print_machine
from bench_semi_supervised import hide_labels


def agreement(Z, y, n_neighbors, metric="euclidean"):
    """Share of (sample, one of its ``n_neighbors`` nearest others) pairs of one class."""
    search = NearestNeighbors(n_neighbors=n_neighbors + 1, metric=metric).fit(Z)
    neighbors = search.kneighbors(Z, return_distance=False)[:, 1:]
    return float(np.mean(y[neighbors] == y[:, None]))


def spaces(X, seed):
    centred = X - X.mean(axis=1, keepdims=True)
    centred /= np.maximum(np.linalg.norm(centred, axis=1, keepdims=True), 1e-12)
    n_pca = min(50, X.shape[1])
    return {
        "features, Euclidean": (X, "euclidean"),
        "features, cosine": (X, "cosine"),
        f"PCA-{n_pca}, Euclidean": (PCA(n_pca, random_state=seed).fit_transform(X), "euclidean"),
        "centred unit rows, Euclidean": (centred, "euclidean"),
    }


def propagation_accuracy(X, y_partial, n_neighbors):
    """``label_propagation_accuracy_`` of a ``SemiSupervisedAAE`` fit on these points."""
    from skaae import SemiSupervisedAAE
    from skaae._neighbors import label_propagation_accuracy, nearest_neighbors

    graph = nearest_neighbors(torch.as_tensor(X, dtype=torch.float32), n_neighbors)
    classes = np.unique(y_partial[y_partial >= 0])
    labels = torch.as_tensor(np.searchsorted(classes, y_partial))
    labels[torch.as_tensor(y_partial < 0)] = -1
    accuracy = label_propagation_accuracy(
        graph, labels, len(classes), torch.Generator().manual_seed(0)
    )
    return accuracy, accuracy is not None and accuracy >= SemiSupervisedAAE._GRAPH_CARRIES_LABELS


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_data_arguments(parser)
    parser.add_argument("--n-neighbors", type=int, default=10)
    parser.add_argument("--labels-per-class", type=int, nargs="+", default=[10, 100])
    parser.add_argument("--skip-spaces", action="store_true",
                        help="only the label propagation table")
    args = parser.parse_args()
    print_machine()
    shares, decisions = {}, []
    for seed in args.seeds:
        X_train, y_train, _, _ = load_split(args, seed)
        if not args.skip_spaces:
            for name, (Z, metric) in spaces(X_train, seed).items():
                shares.setdefault(name, []).append(agreement(Z, y_train, args.n_neighbors, metric))
        for per_class in args.labels_per_class:
            accuracy, steps_run = propagation_accuracy(
                X_train, hide_labels(y_train, per_class, seed), args.n_neighbors
            )
            # None: fewer than two labels of some class, nothing to measure with.
            decisions.append([str(seed), str(per_class),
                              "-" if accuracy is None else f"{accuracy:.2f}",
                              "on" if steps_run else "off"])
    print(f"{args.dataset}: {len(X_train)} training samples, {args.n_neighbors} neighbours, "
          f"seeds {args.seeds}")
    if shares:
        rows = [[name, f"{100 * np.mean(values):.1f}%"] for name, values in shares.items()]
        print_aligned("Neighbour agreement", ["space", "neighbours of the same class"], rows)
    print_aligned('SemiSupervisedAAE\'s "auto" graph settings',
                  ["seed", "labels/class", "label_propagation_accuracy_", "graph steps"],
                  decisions)


if __name__ == "__main__":
    main()
