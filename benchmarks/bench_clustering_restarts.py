"""Can an unlabeled criterion pick the best of several ClusteringAAE restarts?

KMeans fits ``n_init`` times and keeps the lowest inertia. This asks whether
ClusteringAAE could do the same: for each seed (one split), it fits
``--restarts`` models that differ only in ``random_state``, measures each
one's clustering error (labels used for scoring only) and four criteria that
need no labels:

- ``inertia``: the within-cluster sum of squares of the model's training
  partition, in the PCA space that the KMeans peer uses (lower picks);
- ``confidence``: the mean largest cluster probability (higher picks);
- ``reconstruction``: the training reconstruction error (lower picks);
- ``agreement``: the mean adjusted Rand index between this restart's training
  partition and the others' (higher picks: the consensus partition).

Prints, per criterion, the error of the restart it picks and the rank
correlation between the criterion and the error, next to the mean restart,
the best restart (an oracle) and KMeans on PCA.

Usage::

    python benchmarks/bench_clustering_restarts.py --dataset digits --seeds 0 1 2 --restarts 6
"""

import argparse

import numpy as np
from scipy.stats import spearmanr
from sklearn.decomposition import PCA
from sklearn.metrics import adjusted_rand_score

import bench_clustering
from _common import (
    aae_parameters,
    add_common_arguments,
    describe_aae,
    describe_data,
    import_aae,
    load_split,
    print_aligned,
    print_machine,
)

# name -> sign that turns the criterion into "lower picks"
CRITERIA = {"inertia": 1, "confidence": -1, "reconstruction": 1, "agreement": -1}


def within_cluster_sum_of_squares(Z, labels):
    return sum(((Z[labels == k] - Z[labels == k].mean(axis=0)) ** 2).sum()
               for k in np.unique(labels))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_common_arguments(parser, default_aae_components=4)
    parser.add_argument("--restarts", type=int, default=6)
    parser.add_argument("--n-clusters", type=int, default=16)
    args = parser.parse_args()
    if args.restarts < 3:
        raise SystemExit("--restarts must be at least 3 (agreement needs others to agree with).")
    print_machine()
    ClusteringAAE = import_aae("ClusteringAAE")
    if ClusteringAAE is None:
        raise SystemExit("this skaae has no ClusteringAAE.")

    picked = {name: [] for name in CRITERIA}
    correlations = {name: [] for name in CRITERIA}
    mean_errors, best_errors, peer_errors = [], [], []
    for seed in args.seeds:
        X_train, y_train, X_test, y_test = load_split(args, seed)
        if seed == args.seeds[0]:
            print(describe_data(args, X_train, X_test))
            settings = describe_aae(args, n_clusters=args.n_clusters, max_epochs=args.aae_epochs)
            print(f"seeds {args.seeds}; {args.restarts} restarts of ClusteringAAE({settings})")
        n_pca = bench_clustering.PCA_COMPONENTS[args.dataset]
        Z = PCA(n_pca, random_state=seed).fit_transform(X_train)
        kmeans = bench_clustering.make_peers(args.dataset, seed)[f"KMeans (PCA {n_pca})"]
        peer_errors.append(bench_clustering.held_out_error(
            kmeans(X_train, args.n_clusters), X_train, y_train, X_test, y_test))

        errors, partitions, values = [], [], {name: [] for name in CRITERIA}
        for restart in range(args.restarts):
            model = ClusteringAAE(
                n_clusters=args.n_clusters, n_components=args.aae_components,
                max_epochs=args.aae_epochs, random_state=1000 * seed + restart,
                **{"device": "cpu", **aae_parameters(args)},
            ).fit(X_train)
            errors.append(bench_clustering.held_out_error(model, X_train, y_train, X_test,
                                                          y_test))
            partitions.append(model.labels_)
            values["inertia"].append(within_cluster_sum_of_squares(Z, model.labels_))
            values["confidence"].append(model.predict_proba(X_train).max(axis=1).mean())
            values["reconstruction"].append(-model.score(X_train))
            print(f"  seed {seed}, restart {restart}: {100 * errors[-1]:.2f}%", flush=True)
        values["agreement"] = [
            np.mean([adjusted_rand_score(partitions[i], other)
                     for j, other in enumerate(partitions) if j != i])
            for i in range(len(partitions))
        ]
        errors = np.asarray(errors)
        mean_errors.append(errors.mean())
        best_errors.append(errors.min())
        for name, sign in CRITERIA.items():
            scores = sign * np.asarray(values[name])
            picked[name].append(errors[np.argmin(scores)])
            correlations[name].append(spearmanr(scores, errors).statistic)

    def pct(values):
        return f"{100 * np.mean(values):.2f}"

    mean_restart = np.mean(mean_errors)
    rows = [[f"KMeans (PCA {n_pca}, n_init=10)", pct(peer_errors), "", ""],
            ["ClusteringAAE, mean restart", pct(mean_errors), "1.00x", ""],
            ["ClusteringAAE, best restart (oracle)", pct(best_errors),
             f"{np.mean(best_errors) / mean_restart:.2f}x", ""]]
    for name in CRITERIA:
        rows.append([f"ClusteringAAE, picked by {name}", pct(picked[name]),
                     f"{np.mean(picked[name]) / mean_restart:.2f}x",
                     f"{np.mean(correlations[name]):+.2f}"])
    print_aligned(
        f"Picking one of {args.restarts} restarts without labels, {args.n_clusters} clusters, "
        f"{args.dataset}, {len(args.seeds)} seed(s) (mean over seeds)",
        ["method", "error %", "vs mean restart", "rank corr. with error"], rows,
    )


if __name__ == "__main__":
    main()
