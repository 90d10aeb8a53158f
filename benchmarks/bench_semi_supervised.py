"""Semi-supervised test error: skaae's SemiSupervisedAAE against scikit-learn peers, in one run.

For each seed the data is split once, then 10 and 100 labeled points per class
are drawn from the training split; every other training point is unlabeled
(``-1``). All methods see the same split and the same labeled points:

- ``LabelSpreading`` (knn kernel), transductive on the whole training split,
  then ``predict`` on the test split;
- ``SelfTrainingClassifier(LogisticRegression)`` on the whole training split;
  these two see the 64 raw features of digits but PCA(50) codes of
  Fashion-MNIST (self-training on its 784 raw pixels took 150 s for 5,000
  points on two cores);
- ``MLPClassifier`` trained on the labeled points only (the supervised floor);
- ``skaae.SemiSupervisedAAE`` on the whole training split (left empty when
  this skaae has no such class).

After the table, the class information left in the AAE's *style* code: the
held-out accuracy of a ``LogisticRegression`` fitted on the style codes of the
training split with all its true labels (chance is 0.10; the class code's own
accuracy is 1 - its error). ``--plain-style`` trains the AAE with
``independent_style=False`` (the paper's unconditioned style discriminator).

Usage::

    python benchmarks/bench_semi_supervised.py --dataset digits [--seeds 0 1 2] [--aae-epochs 50] \
        [--plain-style]
    python benchmarks/bench_semi_supervised.py --dataset fashion --n-train 20000 [--n-test 10000]

Prints the test error (%) and fit time (s) of each method, mean ± std over the
seeds, and the AAE's error over the best peer's. Times depend on the machine;
compare rows of the same run.
"""

import argparse

import numpy as np
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.semi_supervised import LabelSpreading, SelfTrainingClassifier

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

LABELS_PER_CLASS = (10, 100)
UNLABELED = -1
FASHION_PCA_COMPONENTS = 50


def hide_labels(y, labels_per_class, seed):
    """Copy of ``y`` with all but ``labels_per_class`` points per class set to -1."""
    rng = np.random.default_rng(seed)
    y_partial = np.full_like(y, UNLABELED)
    for label in np.unique(y):
        members = np.flatnonzero(y == label)
        if len(members) < labels_per_class:
            raise SystemExit(
                f"class {label} has {len(members)} training points, fewer than "
                f"{labels_per_class} labels per class; raise --n-train."
            )
        chosen = rng.choice(members, size=labels_per_class, replace=False)
        y_partial[chosen] = y[chosen]
    return y_partial


def make_peers(dataset, seed):
    """Name -> function(X_train, y_partial) returning a fitted model with ``predict``."""
    def on_features(model):
        """``model``, behind PCA on Fashion-MNIST (784 raw pixels are slow for both peers)."""
        if dataset == "fashion":
            return make_pipeline(PCA(FASHION_PCA_COMPONENTS, random_state=seed), model)
        return model

    def label_spreading(X, y_partial):
        return on_features(LabelSpreading(kernel="knn", n_neighbors=7, max_iter=1000)).fit(
            X, y_partial
        )

    def self_training(X, y_partial):
        return on_features(SelfTrainingClassifier(LogisticRegression(max_iter=1000))).fit(
            X, y_partial
        )

    def mlp_on_labeled(X, y_partial):
        labeled = y_partial != UNLABELED
        return MLPClassifier(max_iter=2000, random_state=seed).fit(X[labeled], y_partial[labeled])

    on_pca = f", PCA {FASHION_PCA_COMPONENTS}" if dataset == "fashion" else ""
    return {
        f"LabelSpreading (knn{on_pca})": label_spreading,
        f"SelfTraining (LogisticRegression{on_pca})": self_training,
        "MLPClassifier (labeled only)": mlp_on_labeled,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_common_arguments(parser, default_aae_components=4)
    parser.add_argument("--plain-style", action="store_true",
                        help="train the AAE with independent_style=False")
    args = parser.parse_args()
    print_machine()
    SemiSupervisedAAE = import_aae("SemiSupervisedAAE")

    peer_rows, aae_name = None, "SemiSupervisedAAE"
    aae_cells = [Cell() for _ in LABELS_PER_CLASS]
    style_accuracies = [[] for _ in LABELS_PER_CLASS]
    style_option = {"device": "cpu"}
    if args.plain_style:
        style_option["independent_style"] = False
    style_option.update(aae_parameters(args))
    if SemiSupervisedAAE is None:
        for cell in aae_cells:
            cell.note = "not available"
    for seed in args.seeds:
        X_train, y_train, X_test, y_test = load_split(args, seed)
        if seed == args.seeds[0]:
            print(describe_data(args, X_train, X_test))
            print(f"seeds {args.seeds}; AAE: {describe_aae(args, max_epochs=args.aae_epochs)}")
        peers = make_peers(args.dataset, seed)
        if peer_rows is None:
            peer_rows = {name: [Cell() for _ in LABELS_PER_CLASS] for name in peers}
        for index, labels_per_class in enumerate(LABELS_PER_CLASS):
            y_partial = hide_labels(y_train, labels_per_class, seed)
            for name, fit in peers.items():
                cell = peer_rows[name][index]
                model = timed(cell, lambda: fit(X_train, y_partial))
                cell.errors.append(np.mean(model.predict(X_test) != y_test))
                print(f"  seed {seed}, {labels_per_class} labels/class, {name}: "
                      f"{100 * cell.errors[-1]:.2f}% in {cell.seconds[-1]:.1f}s", flush=True)
            if SemiSupervisedAAE is None or aae_cells[index].note:
                continue
            cell = aae_cells[index]

            def measure_aae():
                model = timed(cell, lambda: SemiSupervisedAAE(
                    n_components=args.aae_components, max_epochs=args.aae_epochs,
                    random_state=seed, **style_option,
                ).fit(X_train, y_partial))
                cell.errors.append(np.mean(model.predict(X_test) != y_test))
                probe = LogisticRegression(max_iter=2000).fit(model.transform(X_train), y_train)
                style_accuracies[index].append(probe.score(model.transform(X_test), y_test))
                print(f"  seed {seed}, {labels_per_class} labels/class, {aae_name}: "
                      f"{100 * cell.errors[-1]:.2f}% in {cell.seconds[-1]:.1f}s; style code "
                      f"-> class accuracy {style_accuracies[index][-1]:.3f}", flush=True)

            run_aae_safely(cell, measure_aae)

    print_table(
        f"Semi-supervised test error on {args.dataset}, {len(args.seeds)} seed(s)",
        [f"{n} labels/class" for n in LABELS_PER_CLASS],
        peer_rows,
        {aae_name: aae_cells},
    )
    if any(style_accuracies):
        plain = " with independent_style=False" if args.plain_style else ""
        print(f"\nClass information in {aae_name}'s style code{plain} (logistic "
              "regression, held-out accuracy; chance 0.10):")
        for labels_per_class, accuracies, cell in zip(
            LABELS_PER_CLASS, style_accuracies, aae_cells
        ):
            if accuracies:
                print(f"  {labels_per_class} labels/class: style code {np.mean(accuracies):.3f} "
                      f"± {np.std(accuracies):.3f}; class code {1 - np.mean(cell.errors):.3f}")


if __name__ == "__main__":
    main()
