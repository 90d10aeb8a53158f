"""Transfer: an AAE fit on one image set encodes another for LightGBM.

The seed project's experiment (an AAE fit on LFW faces encoding CIFAR-10 for a
gradient-boosted classifier), runnable on the data found here. An
``AdversarialAutoencoder`` is fit, without labels, on a *source* image set;
wrapped in :class:`sklearn.frozen.FrozenEstimator` it becomes the first step of
a ``Pipeline`` whose ``fit`` on the *target* set trains only the
``LGBMClassifier`` behind it.

Targets:

- default: scikit-learn's 8x8 digits, resized (bilinear) to 28x28 to match
  Fashion-MNIST. ``--digits-framing fill`` (the default) stretches the digit
  over the whole frame, as Fashion-MNIST's garments fill theirs;
  ``--digits-framing mnist`` puts it in the central 20x20 box as MNIST does.
- ``--cifar10 PATH``: CIFAR-10's official test batch (or a stratified subset
  of ``--n-target`` of it), 3x32x32.

Sources (``--source``):

- ``fashion``: Fashion-MNIST's training images (digits target only);
- ``images``: a folder of images, such as LFW (``--source-images PATH``),
  brought to the target's size and colour by ``skaae.datasets.load_image_folder``;
- ``cifar10``: CIFAR-10's training batches, disjoint from the test batch the
  target is drawn from (same domain, no labels; CIFAR-10 target only).

The default is ``fashion`` for digits, and for CIFAR-10 ``images`` when
``--source-images`` is given, ``cifar10`` otherwise. ``--n-source`` images are
drawn at random from the source.

Rows, all scored on the same stratified train/test split of the target per
seed (``--test-fraction``, default 0.3), each ending in the same
``LGBMClassifier``:

- LightGBM on the raw pixels;
- PCA(k) fit on the target's training images, inside the pipeline;
- PCA(k) fit on the source, frozen: the linear counterpart of the transfer row;
- AAE(k) fit on the source, frozen: the transfer row;
- AAE(k) fit on the target's training images (without labels), inside the pipeline.

Usage::

    python benchmarks/bench_transfer.py [--n-source 20000] [--aae-epochs 20] [--seeds 0 1 2]
    python benchmarks/bench_transfer.py --cifar10 ~/data/cifar-10-python.tar.gz \\
        --source images --source-images ~/data/lfw --network conv

Prints test accuracy, macro one-vs-rest AUROC, the time to fit on the source
(the frozen rows) and the time to fit the pipeline on the target, mean ± std
over the seeds. Times depend on the machine; compare rows of the same run.
"""

import argparse
import time
import traceback

import numpy as np
from scipy.ndimage import zoom
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.frozen import FrozenEstimator
from sklearn.metrics import accuracy_score, roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline

from _common import mean_std, print_aligned, print_machine

DIGIT_SIZE = 28
MNIST_BOX = 20


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", choices=["fashion", "images", "cifar10"], default=None,
                        help="unlabeled images the frozen AAE and PCA are fit on "
                             "(default: fashion for digits; images or cifar10 for CIFAR-10)")
    parser.add_argument("--source-images", default=None,
                        help="folder of source images (LFW layout or flat), for --source images")
    parser.add_argument("--cifar10", default=None,
                        help="CIFAR-10 folder or archive: classify CIFAR-10 instead of digits")
    parser.add_argument("--fashion-directory", default=None,
                        help="folder of the Fashion-MNIST IDX files (default: skaae's default)")
    parser.add_argument("--n-source", type=int, default=20000,
                        help="source images to fit on, drawn at random (default 20000)")
    parser.add_argument("--n-target", type=int, default=None,
                        help="CIFAR-10 only: stratified subset of the test batch "
                             "(default: all 10000)")
    parser.add_argument("--test-fraction", type=float, default=0.3,
                        help="stratified share of the target held out for scoring (default 0.3)")
    parser.add_argument("--digits-framing", choices=["fill", "mnist"], default="fill",
                        help="fill: the 8x8 digit stretched to 28x28; mnist: to 20x20, "
                             "centred in 28x28 (default fill)")
    parser.add_argument("--n-components", type=int, default=16,
                        help="code size of the AAE and the PCA (default 16)")
    parser.add_argument("--aae-epochs", type=int, default=20,
                        help="max_epochs of the AAE fit on the source (default 20)")
    parser.add_argument("--target-aae-epochs", type=int, default=None,
                        help="max_epochs of the AAE fit on the target's training images "
                             "(default: as many updates as the source fit, at most 100 epochs)")
    parser.add_argument("--network", choices=["conv", "mlp"], default="conv",
                        help="mlp: 512-512 perceptrons; conv: skaae's convolutional "
                             "encoder and decoder (default conv)")
    parser.add_argument("--precision", choices=["float32", "bfloat16"], default="float32")
    parser.add_argument("--lgbm-threads", type=int, default=1,
                        help="n_jobs of LGBMClassifier (default 1)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0],
                        help="one run per seed: split, source subset and model seeds (default 0)")
    args = parser.parse_args()
    if args.source is None:
        if args.cifar10 is None:
            args.source = "fashion"
        else:
            args.source = "images" if args.source_images else "cifar10"
    if args.source == "images" and not args.source_images:
        parser.error("--source images needs --source-images PATH")
    if args.source == "fashion" and args.cifar10:
        parser.error("Fashion-MNIST (1x28x28) cannot feed a CIFAR-10 (3x32x32) encoder; "
                     "use --source images or --source cifar10")
    if args.source == "cifar10" and not args.cifar10:
        parser.error("--source cifar10 needs --cifar10 PATH")
    return args


# Data ---------------------------------------------------------------------------------


def resize_digits(images, framing):
    """8x8 digits in 0..16 -> flat 28x28 rows in [0, 1], bilinear."""
    size = DIGIT_SIZE if framing == "fill" else MNIST_BOX
    resized = zoom(images / 16.0, (1, size / 8, size / 8), order=1)
    if framing == "mnist":
        pad = (DIGIT_SIZE - MNIST_BOX) // 2
        resized = np.pad(resized, ((0, 0), (pad, pad), (pad, pad)))
    return np.clip(resized, 0.0, 1.0).reshape(len(images), -1).astype(np.float32)


def load_target(args):
    """``X, y, input_shape, description`` of the target set."""
    if args.cifar10 is None:
        digits = load_digits()
        X = resize_digits(digits.images, args.digits_framing)
        framing = "stretched to 28x28" if args.digits_framing == "fill" \
            else "resized to 20x20, centred in 28x28"
        return X, digits.target, (1, DIGIT_SIZE, DIGIT_SIZE), \
            f"digits (load_digits, bilinear, {framing})"
    from skaae.datasets import load_cifar10

    cifar = load_cifar10(args.cifar10, kind="test")
    X, y = cifar.data, cifar.target
    if args.n_target is not None and args.n_target < len(X):
        X, _, y, _ = train_test_split(X, y, train_size=args.n_target, stratify=y,
                                      random_state=0)
    return X, y, tuple(cifar.input_shape), "CIFAR-10 test batch"


def load_source(args, input_shape):
    """All source images as flat rows shaped like the target's, and a description."""
    if args.source == "fashion":
        from skaae.datasets import load_fashion_mnist

        folder = {} if args.fashion_directory is None else {"directory": args.fashion_directory}
        X, _ = load_fashion_mnist(**folder, kind="train")
        return X, "Fashion-MNIST training images"
    if args.source == "cifar10":
        from skaae.datasets import load_cifar10

        X, _ = load_cifar10(args.cifar10, kind="train", return_X_y=True)
        return X, "CIFAR-10 training batches (labels unused)"
    from skaae.datasets import load_image_folder

    channels, height, width = input_shape
    images = load_image_folder(args.source_images, image_size=(height, width),
                               color="grey" if channels == 1 else "rgb")
    return images.data, f"images from {args.source_images}"


# Models -------------------------------------------------------------------------------


def make_aae(args, input_shape, max_epochs, seed):
    from skaae import AdversarialAutoencoder

    network = {"hidden_layer_sizes": (512, 512)} if args.network == "mlp" else {
        "input_shape": input_shape, "hidden_layer_sizes": (256,),
        # the user guide's advice for short convolutional runs
        "adversarial_weight": 0.2,  # an adversarial learning rate of 2e-4
    }
    return AdversarialAutoencoder(
        n_components=args.n_components, reconstruction_loss="bce", max_epochs=max_epochs,
        precision=args.precision, device="cpu", random_state=seed, **network,
    )


def classifier(args, seed):
    from lightgbm import LGBMClassifier

    return LGBMClassifier(verbose=-1, n_jobs=args.lgbm_threads, random_state=seed)


def frozen(model, X_source):
    """Fit ``model`` on the source; return it frozen and the seconds it took."""
    start = time.perf_counter()
    model.fit(X_source)
    return FrozenEstimator(model), time.perf_counter() - start


def row_builders(args, seed, X_source, input_shape, target_epochs):
    """One function per row, returning ``(pipeline, source fit seconds or None)``."""
    k = args.n_components

    def raw_pixels():
        return Pipeline([("clf", classifier(args, seed))]), None

    def pca_on_target():
        return Pipeline([("pca", PCA(k, random_state=seed)), ("clf", classifier(args, seed))]), None

    def pca_on_source():
        pca, seconds = frozen(PCA(k, random_state=seed), X_source)
        return Pipeline([("pca", pca), ("clf", classifier(args, seed))]), seconds

    def aae_on_source():
        aae, seconds = frozen(make_aae(args, input_shape, args.aae_epochs, seed), X_source)
        return Pipeline([("aae", aae), ("clf", classifier(args, seed))]), seconds

    def aae_on_target():
        aae = make_aae(args, input_shape, target_epochs, seed)
        return Pipeline([("aae", aae), ("clf", classifier(args, seed))]), None

    return [raw_pixels, pca_on_target, pca_on_source, aae_on_source, aae_on_target]


# Table --------------------------------------------------------------------------------


def print_table(title, results):
    header = ["method", "accuracy", "macro AUROC (OvR)", "source fit s", "target fit s"]
    rows = []
    for name, result in results.items():
        if result.get("note"):
            rows.append([name, result["note"], "", "", ""])
            continue
        source = mean_std(result["source_s"], 1) if result["source_s"] else ""
        rows.append([name, mean_std(result["accuracy"], 4), mean_std(result["auroc"], 4),
                     source, mean_std(result["target_s"], 1)])
    print_aligned(title, header, rows)


# Run ----------------------------------------------------------------------------------


def main():
    args = parse_args()
    print_machine()
    X, y, input_shape, target_name = load_target(args)
    X_all_source, source_name = load_source(args, input_shape)
    if X_all_source.shape[1] != X.shape[1]:
        raise SystemExit(f"source rows have {X_all_source.shape[1]} features, target rows "
                         f"{X.shape[1]}; they must match")
    n_source = min(args.n_source, len(X_all_source))
    k = args.n_components
    n_train = len(X) - int(np.ceil(args.test_fraction * len(X)))
    updates = args.aae_epochs * int(np.ceil(n_source / 100))
    target_epochs = args.target_aae_epochs or \
        min(100, max(1, updates // int(np.ceil(n_train / 100))))
    print(f"target: {target_name}, {len(X)} images {input_shape}, "
          f"stratified {args.test_fraction:.0%} test split per seed")
    print(f"source: {source_name}, {n_source} of {len(X_all_source)} drawn per seed")
    print(f"AAE: {args.network}, n_components={k}, reconstruction_loss='bce', "
          f"max_epochs {args.aae_epochs} on the source, {target_epochs} on the target, "
          f"{args.precision}; LightGBM defaults, n_jobs={args.lgbm_threads}; "
          f"seeds {args.seeds}", flush=True)

    names = [
        f"LightGBM, raw pixels ({X.shape[1]})",
        f"PCA({k}) fit on target train + LightGBM",
        f"PCA({k}) fit on source, frozen + LightGBM",
        f"AAE({k}) fit on source, frozen + LightGBM",
        f"AAE({k}) fit on target train + LightGBM",
    ]
    results = {name: {"accuracy": [], "auroc": [], "source_s": [], "target_s": []}
               for name in names}
    for seed in args.seeds:
        X_train, X_test, y_train, y_test = train_test_split(
            X, y, test_size=args.test_fraction, stratify=y, random_state=seed)
        picked = np.random.default_rng(seed).choice(len(X_all_source), n_source, replace=False)
        X_source = X_all_source[np.sort(picked)]

        builders = row_builders(args, seed, X_source, input_shape, target_epochs)
        for name, build in zip(names, builders):
            try:
                pipeline, source_seconds = build()
                start = time.perf_counter()
                pipeline.fit(X_train, y_train)
                target_seconds = time.perf_counter() - start
                proba = pipeline.predict_proba(X_test)
            except Exception as error:  # report the failure, keep the other rows
                traceback.print_exc()
                results[name]["note"] = f"failed ({type(error).__name__})"
                continue
            result = results[name]
            result["accuracy"].append(accuracy_score(y_test, pipeline.classes_[proba.argmax(1)]))
            result["auroc"].append(roc_auc_score(y_test, proba, multi_class="ovr",
                                                 average="macro"))
            if source_seconds is not None:
                result["source_s"].append(source_seconds)
            result["target_s"].append(target_seconds)
            print(f"  seed {seed}, {name}: accuracy {result['accuracy'][-1]:.4f}, "
                  f"AUROC {result['auroc'][-1]:.4f}, target fit {target_seconds:.1f}s"
                  + (f", source fit {source_seconds:.1f}s" if source_seconds else ""),
                  flush=True)

    print_table(f"Transfer to {target_name}: test accuracy and macro one-vs-rest AUROC, "
                f"{len(args.seeds)} seed(s)", results)


if __name__ == "__main__":
    main()
