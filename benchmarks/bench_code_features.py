"""Codes as features: LightGBM on AAE codes against LightGBM on PCA codes of the same size.

The design card's own pipeline, in-domain: ``Pipeline([("codes", ...),
("clf", LGBMClassifier())])`` fit on the training images with their labels and
scored on the test images. For every code size in ``--sizes`` (default 8 and
50) the same LightGBM reads a PCA code and an ``AdversarialAutoencoder`` code
fit on the same training images (the AAE without labels). LightGBM on the raw
pixels is the ceiling. Every row uses the same split and seed.

Usage::

    python benchmarks/bench_code_features.py [--dataset digits|fashion] [--n-train 20000]
        [--sizes 8 50] [--aae-epochs 50] [--seeds 0 1 2] [--aae-param NAME=VALUE]
        [--variant NAME=VALUE[,NAME=VALUE]]

``--variant`` (repeatable) adds an AAE row per code size with other settings,
trained on the same splits; ``defaults`` names the defaults' row, which is
always printed. Prints test accuracy, mean ± std over the seeds, the fit time
of each pipeline, and each AAE row's accuracy over PCA's of the same size.
"""

import argparse
import time

import numpy as np
from sklearn.decomposition import PCA
from sklearn.pipeline import Pipeline

from _common import aae_parameters, add_common_arguments, describe_data, load_split, \
    mean_std, parse_variant, print_aligned, print_machine


def classifier(args, seed):
    from lightgbm import LGBMClassifier

    return LGBMClassifier(verbose=-1, n_jobs=args.lgbm_threads, random_state=seed)


def aae(args, size, seed, settings):
    from skaae import AdversarialAutoencoder

    return AdversarialAutoencoder(
        n_components=size, max_epochs=args.aae_epochs, precision=args.precision,
        random_state=seed, **{**aae_parameters(args), **settings},
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_common_arguments(parser, default_aae_components=8)
    parser.add_argument("--sizes", type=int, nargs="+", default=[8, 50],
                        help="code sizes, each given to PCA and the AAE (default 8 50)")
    parser.add_argument("--variant", action="append", default=[],
                        help="another AAE row per size: NAME=VALUE[,NAME=VALUE] "
                             "(repeatable; 'defaults' is always run)")
    parser.add_argument("--precision", default="auto",
                        help="precision of the AAE (default auto)")
    parser.add_argument("--lgbm-threads", type=int, default=2,
                        help="n_jobs of LGBMClassifier (default 2)")
    parser.add_argument("--skip-pixels", action="store_true",
                        help="leave out LightGBM on the raw pixels (slow on 784 features)")
    args = parser.parse_args()
    variants = ["defaults"] + [text for text in args.variant if text != "defaults"]
    print_machine()

    rows = {}

    def record(name, pipeline, X_train, y_train, X_test, y_test):
        start = time.perf_counter()
        pipeline.fit(X_train, y_train)
        seconds = time.perf_counter() - start
        accuracy = pipeline.score(X_test, y_test)
        cell = rows.setdefault(name, {"accuracy": [], "seconds": []})
        cell["accuracy"].append(accuracy)
        cell["seconds"].append(seconds)
        print(f"  {name}: accuracy {accuracy:.4f}, fit {seconds:.1f}s", flush=True)

    for seed in args.seeds:
        X_train, y_train, X_test, y_test = load_split(args, seed)
        print(f"seed {seed}: {describe_data(args, X_train, X_test)}", flush=True)
        if not args.skip_pixels:
            record(f"raw pixels ({X_train.shape[1]})", Pipeline([("clf", classifier(args, seed))]),
                   X_train, y_train, X_test, y_test)
        for size in args.sizes:
            record(f"PCA({size})", Pipeline([("codes", PCA(size, random_state=seed)),
                                             ("clf", classifier(args, seed))]),
                   X_train, y_train, X_test, y_test)
            for variant in variants:
                model = aae(args, size, seed, parse_variant(variant))
                record(f"AAE({size}) {variant}", Pipeline([("codes", model),
                                                           ("clf", classifier(args, seed))]),
                       X_train, y_train, X_test, y_test)

    header = ["codes + LightGBM", "test accuracy", "fit s", "vs PCA of the same size"]
    table = []
    for name, cell in rows.items():
        ratio = ""
        if name.startswith("AAE("):
            size = name[4:name.index(")")]
            pca = np.mean(rows[f"PCA({size})"]["accuracy"])
            ratio = f"{np.mean(cell['accuracy']) - pca:+.4f}"
        table.append([name, mean_std(cell["accuracy"], 4), f"{np.mean(cell['seconds']):.1f}", ratio])
    print_aligned(
        f"LightGBM on codes, {args.dataset}, {len(args.seeds)} seed(s) {args.seeds}, AAE "
        f"{args.aae_epochs} epochs, precision {args.precision!r} (AAE settings: "
        f"{aae_parameters(args) or 'defaults'})", header, table)


if __name__ == "__main__":
    main()
