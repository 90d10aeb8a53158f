"""Class-conditional generation: are samples drawn for class k recognised as class k?

An independent classifier (an MLP trained on the real training images) labels
samples drawn for each class by ``SupervisedAAE.sample(y=k)`` and by the peer a
user would otherwise pick: one ``GaussianMixture`` per class on PCA, sampled and
mapped back to pixels. The table gives, per method, the share of samples
recognised as the class they were drawn for, the worst class (its share, the
lowest over the seeds, and its label), and the classifier's own accuracy on
real test images (the ceiling).

Usage: ``python benchmarks/bench_conditional_generation.py [--dataset digits|fashion]
[--aae-epochs 50] [--aae-components 2] [--samples-per-class 200] [--seeds 0 1]
[--variant conditional_discriminator=False]``
"""

import argparse
import time

import numpy as np
from sklearn.decomposition import PCA
from sklearn.mixture import GaussianMixture
from sklearn.neural_network import MLPClassifier

from _common import aae_parameters, add_common_arguments, describe_aae, load_split, \
    parse_variant, print_machine


def gaussian_mixture_per_class(X_train, y_train, n_samples, seed):
    pca = PCA(n_components=min(30, X_train.shape[1]), random_state=seed).fit(X_train)
    Z = pca.transform(X_train)
    drawn, labels = [], []
    for label in np.unique(y_train):
        mixture = GaussianMixture(n_components=5, covariance_type="full", random_state=seed)
        mixture.fit(Z[y_train == label])
        drawn.append(pca.inverse_transform(mixture.sample(n_samples)[0]))
        labels.append(np.full(n_samples, label))
    return np.clip(np.vstack(drawn), 0, 1), np.concatenate(labels)


def supervised_aae(X_train, y_train, n_samples, seed, args, variant):
    from skaae import SupervisedAAE

    settings = dict(n_components=args.aae_components, max_epochs=args.aae_epochs,
                    precision=args.precision, random_state=seed)
    settings.update(aae_parameters(args))
    settings.update(parse_variant(variant))  # a variant may change n_components too
    model = SupervisedAAE(**settings).fit(X_train, y_train)
    classes = np.repeat(model.classes_, n_samples)
    return model.sample(len(classes), y=classes, random_state=seed), classes


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_common_arguments(parser, default_aae_components=2)
    parser.add_argument("--samples-per-class", type=int, default=200)
    parser.add_argument("--precision", default="auto", help="precision of the AAE (default auto)")
    parser.add_argument("--variant", action="append", default=[],
                        help="another SupervisedAAE row: NAME=VALUE[,NAME=VALUE] (repeatable; "
                             "'defaults' is always run), on the same splits and judge")
    args = parser.parse_args()
    args.variants = ["defaults"] + [text for text in args.variant if text != "defaults"]
    print_machine()
    rows = {}
    for seed in args.seeds:
        X_train, y_train, X_test, y_test = load_split(args, seed)
        judge = MLPClassifier(hidden_layer_sizes=(256,), max_iter=300, random_state=seed)
        judge.fit(X_train, y_train)
        rows.setdefault("real test images (judge accuracy)", []).append(
            (judge.score(X_test, y_test), np.nan, None, 0.0)
        )
        methods = [("GaussianMixture per class (PCA 30)", lambda: gaussian_mixture_per_class(
            X_train, y_train, args.samples_per_class, seed))]
        for variant in args.variants:
            name = "SupervisedAAE" if variant == "defaults" else f"SupervisedAAE {variant}"
            methods.append((name, lambda variant=variant: supervised_aae(
                X_train, y_train, args.samples_per_class, seed, args, variant)))
        for name, draw in methods:
            start = time.perf_counter()
            samples, wanted = draw()
            seconds = time.perf_counter() - start
            recognised = judge.predict(samples) == wanted
            shares = {k: recognised[wanted == k].mean() for k in np.unique(wanted)}
            worst_class = min(shares, key=shares.get)
            rows.setdefault(name, []).append(
                (recognised.mean(), shares[worst_class], worst_class, seconds))
            print(f"  seed {seed}, {name}: {100 * recognised.mean():.1f}% recognised, worst "
                  f"class {worst_class} at {100 * shares[worst_class]:.1f}%, {seconds:.0f} s",
                  flush=True)
    print(f"\n{args.dataset}: {len(X_train)} training images, {args.samples_per_class} samples "
          f"per class, seeds {args.seeds}, AAE {args.aae_epochs} epochs, "
          f"precision {args.precision!r}; SupervisedAAE: {describe_aae(args)}\n")
    print("| method | recognised as the class asked for | worst class | fit + sample time |")
    print("| --- | ---: | ---: | ---: |")
    for name, values in rows.items():
        share = np.mean([value[0] for value in values])
        seconds = np.mean([value[3] for value in values])
        share_of_worst, _, worst_class = min(
            (value[1], index, value[2]) for index, value in enumerate(values))
        worst_text = "" if worst_class is None else \
            f"{100 * share_of_worst:.1f}% (class {worst_class})"
        print(f"| {name} | {100 * share:.1f}% | {worst_text} | {seconds:.1f} s |")


if __name__ == "__main__":
    main()
