"""How often a sample's nearest neighbours share its class, in a few spaces.

The neighbour step of the categorical models (``neighbor_weight``) asks each
sample and one of its ``n_neighbors`` nearest training samples to share a
category; this is the share of such pairs that are right, an upper bound on
what that step can teach. Prints one row per space: raw features (Euclidean
and cosine), PCA-50 codes, and rows centred and scaled to unit length.

Usage: ``python benchmarks/bench_neighbor_agreement.py [--dataset digits|fashion]
[--n-train 10000] [--n-neighbors 10] [--seeds 0]``
"""

import argparse

import numpy as np
from sklearn.decomposition import PCA
from sklearn.neighbors import NearestNeighbors

from _common import add_common_arguments, load_split, print_aligned, print_machine


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


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_common_arguments(parser, default_aae_components=4)
    parser.add_argument("--n-neighbors", type=int, default=10)
    args = parser.parse_args()
    print_machine()
    shares = {}
    for seed in args.seeds:
        X_train, y_train, _, _ = load_split(args, seed)
        for name, (Z, metric) in spaces(X_train, seed).items():
            shares.setdefault(name, []).append(agreement(Z, y_train, args.n_neighbors, metric))
    print(f"{args.dataset}: {len(X_train)} training samples, {args.n_neighbors} neighbours, "
          f"seeds {args.seeds}")
    rows = [[name, f"{100 * np.mean(values):.1f}%"] for name, values in shares.items()]
    print_aligned("Neighbour agreement", ["space", "neighbours of the same class"], rows)


if __name__ == "__main__":
    main()
