"""Low-dimensional codes for plots: AAE codes against PCA, UMAP and t-SNE, in one run.

Every method maps the training split to ``--n-dims`` dimensions without labels
and, where it can, the test split too; the labels only score the codes:

- **5-NN accuracy**: a 5-nearest-neighbour classifier fit on the training
  codes predicts the test codes' labels (how well classes stay together);
- **trustworthiness** (:func:`sklearn.manifold.trustworthiness`, 5 neighbours)
  of the test codes against the test inputs (whether near codes were near
  inputs), on at most ``--trust-points`` test points.

Methods:

- ``PCA``;
- ``UMAP`` (umap-learn, a benchmark-only extra; left out without it), its
  ``transform`` for the test points;
- ``t-SNE``, which has no map for new points: it embeds the training and the
  test points together (transductive), on at most ``--tsne-points`` of them;
  left out with ``--skip-tsne``;
- ``AdversarialAutoencoder`` with a Gaussian prior (the paper's Fig. 2 code);
- ``ClusteringAAE`` with cluster heads (``head_distance``, the paper's section
  7): each of ``--n-clusters`` clusters gets a learned head, and the code is
  the head plus the style.

Usage::

    python benchmarks/bench_embedding.py --dataset digits [--seeds 0 1 2]
    python benchmarks/bench_embedding.py --dataset fashion --n-train 20000 --aae-epochs 20

``--aae-param`` options go to the ClusteringAAE.
"""

import argparse
import sys
import time
import warnings

import numpy as np
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.manifold import TSNE, trustworthiness
from sklearn.neighbors import KNeighborsClassifier

from _common import (
    aae_parameters,
    add_common_arguments,
    describe_aae,
    describe_data,
    load_split,
    mean_std,
    print_aligned,
    print_machine,
)


def make_methods(args, seed):
    """Name -> function(X_train, X_test) returning (train codes, test codes)."""
    import skaae

    d = args.n_dims

    def pca(X_train, X_test):
        model = PCA(d, random_state=seed).fit(X_train)
        return model.transform(X_train), model.transform(X_test)

    def tsne(X_train, X_test):
        # Transductive: the training and test points are embedded together.
        rng = np.random.default_rng(seed)
        n_train = min(len(X_train), args.tsne_points * len(X_train)
                      // (len(X_train) + len(X_test)))
        n_test = min(len(X_test), args.tsne_points - n_train)
        train_rows = rng.choice(len(X_train), n_train, replace=False)
        test_rows = rng.choice(len(X_test), n_test, replace=False)
        joint = TSNE(d, random_state=seed, init="pca").fit_transform(
            np.vstack([X_train[train_rows], X_test[test_rows]]))
        return (joint[:n_train], train_rows), (joint[n_train:], test_rows)

    def gaussian_aae(X_train, X_test):
        model = skaae.AdversarialAutoencoder(
            n_components=d, max_epochs=args.aae_epochs, random_state=seed, device="cpu",
            **{k: v for k, v in aae_parameters(args).items() if k in ("precision", "device")},
        ).fit(X_train)
        return model.transform(X_train), model.transform(X_test)

    def heads_aae(X_train, X_test):
        model = skaae.ClusteringAAE(
            n_clusters=args.n_clusters, n_components=d, max_epochs=args.aae_epochs,
            random_state=seed, **{"device": "cpu", "head_distance": 6.0,
                                  **aae_parameters(args)},
        ).fit(X_train)
        return model.transform(X_train), model.transform(X_test)

    methods = {"PCA": pca}
    try:
        from umap import UMAP

        def umap(X_train, X_test):
            model = UMAP(n_components=d, random_state=seed).fit(X_train)
            return model.embedding_, model.transform(X_test)

        methods["UMAP"] = umap
    except ImportError:
        print("umap-learn is not installed: the UMAP row is left out.", file=sys.stderr)
    if not args.skip_tsne:
        methods["t-SNE (transductive)"] = tsne
    methods["AdversarialAutoencoder (gaussian prior)"] = gaussian_aae
    methods[f"ClusteringAAE, {args.n_clusters} cluster heads"] = heads_aae
    return methods


def scores(train_codes, test_codes, y_train, y_test, X_test, n_trust, seed):
    """5-NN accuracy from training to test codes, and trustworthiness of the test codes."""
    if isinstance(train_codes, tuple):  # t-SNE on subsets: (codes, rows)
        (train_codes, train_rows), (test_codes, test_rows) = train_codes, test_codes
        y_train, y_test, X_test = y_train[train_rows], y_test[test_rows], X_test[test_rows]
    knn = KNeighborsClassifier(5).fit(train_codes, y_train)
    accuracy = knn.score(test_codes, y_test)
    rows = np.random.default_rng(seed).choice(len(X_test), min(n_trust, len(X_test)),
                                              replace=False)
    trust = trustworthiness(X_test[rows], test_codes[rows], n_neighbors=5)
    return accuracy, trust


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_common_arguments(parser, default_aae_components=2)
    parser.add_argument("--n-clusters", type=int, default=16,
                        help="clusters (heads) of the ClusteringAAE (default 16)")
    parser.add_argument("--trust-points", type=int, default=2000,
                        help="test points scored for trustworthiness (default 2000)")
    parser.add_argument("--tsne-points", type=int, default=10000,
                        help="training and test points t-SNE embeds together (default 10000)")
    parser.add_argument("--skip-tsne", action="store_true")
    args = parser.parse_args()
    args.n_dims = args.aae_components
    print_machine()
    results = {}
    for seed in args.seeds:
        X_train, y_train, X_test, y_test = load_split(args, seed)
        if seed == args.seeds[0]:
            print(describe_data(args, X_train, X_test))
            print(f"seeds {args.seeds}; {args.n_dims}-D codes; AAE epochs {args.aae_epochs}; "
                  f"ClusteringAAE: {describe_aae(args, head_distance=6.0)}")
        for name, method in make_methods(args, seed).items():
            start = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                train_codes, test_codes = method(X_train, X_test)
            seconds = time.perf_counter() - start
            accuracy, trust = scores(train_codes, test_codes, y_train, y_test, X_test,
                                     args.trust_points, seed)
            results.setdefault(name, []).append((accuracy, trust, seconds))
            print(f"  seed {seed}, {name}: 5-NN accuracy {accuracy:.3f}, "
                  f"trustworthiness {trust:.3f} in {seconds:.0f}s", flush=True)

    rows = [[name, mean_std([r[0] for r in runs], 3), mean_std([r[1] for r in runs], 3),
             f"{np.mean([r[2] for r in runs]):.0f}"] for name, runs in results.items()]
    print_aligned(f"{args.n_dims}-D codes on {args.dataset}, {len(args.seeds)} seed(s)",
                  ["method", "5-NN accuracy (train -> test)", "trustworthiness", "fit s"], rows)


if __name__ == "__main__":
    main()
