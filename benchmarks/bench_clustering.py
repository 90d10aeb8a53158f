"""Clustering error: skaae's ClusteringAAE against scikit-learn peers, in one run.

The paper's measure (:func:`skaae.metrics.cluster_error`): each cluster takes
the majority label of the *training* points assigned to it, and the error is the
fraction of held-out *test* points whose cluster's label is not their own. Test
points that land in a cluster no training point fell in count as errors. Labels
are used for scoring only; every method fits on the training split without them.

Methods, with 16 and 30 clusters, all on the same split per seed:

- ``KMeans`` (10 initialisations) on PCA(30) for digits, PCA(50) for Fashion-MNIST;
- ``GaussianMixture`` with diagonal and with full covariances on the same PCA codes;
- ``UMAP`` to 10 dimensions, then ``KMeans`` (umap-learn, a benchmark-only
  extra: ``pip install umap-learn``; the row is left out without it). UMAP
  has no out-of-sample map as exact as its training embedding, so its
  ``transform`` embeds the test points;
- ``skaae.ClusteringAAE(n_clusters=k)`` on the raw features (left empty when
  this skaae has no such class).

Usage::

    python benchmarks/bench_clustering.py --dataset digits [--seeds 0 1 2] [--aae-epochs 50]
    python benchmarks/bench_clustering.py --dataset fashion --n-train 20000 [--n-test 10000]

Prints the test error (%) and fit time (s) of each method, mean ± std over the
seeds, and the AAE's error over the best peer's. Times depend on the machine;
compare rows of the same run.
"""

import argparse
import sys

from sklearn.cluster import KMeans
from sklearn.decomposition import PCA
from sklearn.mixture import GaussianMixture
from sklearn.pipeline import make_pipeline

from _common import (
    Cell,
    aae_parameters,
    add_common_arguments,
    describe_aae,
    describe_data,
    import_aae,
    load_split,
    print_machine,
    print_table,
    run_aae_safely,
    timed,
)
from skaae.metrics import cluster_error

CLUSTER_COUNTS = (16, 30)
PCA_COMPONENTS = {"digits": 30, "fashion": 50}
UMAP_COMPONENTS = 10


def make_peers(dataset, seed):
    """Name -> function(X_train, n_clusters) returning a fitted model with ``predict``."""
    n_pca = PCA_COMPONENTS[dataset]

    def kmeans(X, n_clusters):
        return make_pipeline(
            PCA(n_pca, random_state=seed),
            KMeans(n_clusters, n_init=10, random_state=seed),
        ).fit(X)

    def gaussian_mixture(X, n_clusters):
        return make_pipeline(
            PCA(n_pca, random_state=seed),
            GaussianMixture(n_clusters, covariance_type="diag", random_state=seed),
        ).fit(X)

    def full_mixture(X, n_clusters):
        return make_pipeline(
            PCA(n_pca, random_state=seed),
            GaussianMixture(n_clusters, covariance_type="full", random_state=seed),
        ).fit(X)

    peers = {
        f"KMeans (PCA {n_pca})": kmeans,
        f"GaussianMixture (diag, PCA {n_pca})": gaussian_mixture,
        f"GaussianMixture (full, PCA {n_pca})": full_mixture,
    }
    try:
        from umap import UMAP
    except ImportError:
        print("umap-learn is not installed: the UMAP + KMeans row is left out "
              "(pip install umap-learn).", file=sys.stderr)
        return peers

    def umap_kmeans(X, n_clusters):
        return make_pipeline(
            UMAP(n_components=UMAP_COMPONENTS, n_neighbors=15, min_dist=0.0,
                 random_state=seed),
            KMeans(n_clusters, n_init=10, random_state=seed),
        ).fit(X)

    peers[f"UMAP ({UMAP_COMPONENTS}-D) + KMeans"] = umap_kmeans
    return peers


def held_out_error(model, X_train, y_train, X_test, y_test):
    """Test error with each cluster labeled by its training points' majority."""
    return cluster_error(
        y_test,
        model.predict(X_test),
        y_reference=y_train,
        clusters_reference=model.predict(X_train),
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_common_arguments(parser, default_aae_components=4)
    args = parser.parse_args()
    print_machine()
    ClusteringAAE = import_aae("ClusteringAAE")

    peer_rows, aae_name = None, "ClusteringAAE"
    aae_cells = [Cell() for _ in CLUSTER_COUNTS]
    if ClusteringAAE is None:
        for cell in aae_cells:
            cell.note = "not available"
    for seed in args.seeds:
        X_train, y_train, X_test, y_test = load_split(args, seed)
        if seed == args.seeds[0]:
            print(describe_data(args, X_train, X_test))
            print(f"seeds {args.seeds}; AAE: {describe_aae(args, max_epochs=args.aae_epochs)}")
        peers = make_peers(args.dataset, seed)
        if peer_rows is None:
            peer_rows = {name: [Cell() for _ in CLUSTER_COUNTS] for name in peers}
        for index, n_clusters in enumerate(CLUSTER_COUNTS):
            for name, fit in peers.items():
                cell = peer_rows[name][index]
                model = timed(cell, lambda: fit(X_train, n_clusters))
                cell.errors.append(held_out_error(model, X_train, y_train, X_test, y_test))
                print(f"  seed {seed}, {n_clusters} clusters, {name}: "
                      f"{100 * cell.errors[-1]:.2f}% in {cell.seconds[-1]:.1f}s", flush=True)
            if ClusteringAAE is None or aae_cells[index].note:
                continue
            cell = aae_cells[index]

            def measure_aae():
                model = timed(cell, lambda: ClusteringAAE(
                    n_clusters=n_clusters, n_components=args.aae_components,
                    max_epochs=args.aae_epochs, random_state=seed,
                    **{"device": "cpu", **aae_parameters(args)},
                ).fit(X_train))
                cell.errors.append(held_out_error(model, X_train, y_train, X_test, y_test))
                print(f"  seed {seed}, {n_clusters} clusters, {aae_name}: "
                      f"{100 * cell.errors[-1]:.2f}% in {cell.seconds[-1]:.1f}s", flush=True)

            run_aae_safely(cell, measure_aae)

    print_table(
        f"Clustering test error (majority labels from the training points) on "
        f"{args.dataset}, {len(args.seeds)} seed(s)",
        [f"{k} clusters" for k in CLUSTER_COUNTS],
        peer_rows,
        {aae_name: aae_cells},
    )


if __name__ == "__main__":
    main()
