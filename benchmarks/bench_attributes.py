"""Attribute regularisation: does code dimension j follow attribute j, and at what cost?

Attributes are measured on the images in numpy: ``ink`` (mean pixel value,
a proxy for stroke thickness), ``slant`` (the shear of the ink from image
moments: ``-mu11 / mu02``, positive when the top leans right) and ``width``
(the horizontal spread of the ink, ``sqrt(mu20)``). Each model is fitted on the
training split twice with the same seed: with ``fit(X, attributes=A)`` and
the default ``attribute_weight`` ("regularised"), and with the same call and
``attribute_weight=0`` ("unregularised": the code is not pushed, the
attribute-to-code map of ``sample`` is still fitted). Per attribute the table
gives, on the test split, the Spearman rank correlation between the
attribute and its code dimension, and for ``sample(attributes=...)`` with
requested values spread over the training range (5% to 95% quantiles; the
other attributes left free), the Spearman correlation between the requested
values and the attribute measured on the samples. The cost column is the test
reconstruction error (mean squared error per pixel; for SupervisedAAE decoded
under the true label).

Usage: ``python benchmarks/bench_attributes.py [--dataset digits|fashion]
[--attributes ink slant] [--aae-epochs 30] [--aae-components 4] [--seeds 0]``
"""

import argparse
import time

import numpy as np
from scipy.stats import spearmanr

from _common import add_common_arguments, describe_data, load_split, print_machine


def image_moments(X):
    """Centred second moments ``(mu20, mu11, mu02)`` of square images, per row of ``X``."""
    side = int(round(np.sqrt(X.shape[1])))
    images = np.clip(X, 0, None).reshape(-1, side, side)
    rows, columns = np.mgrid[:side, :side]
    mass = images.sum(axis=(1, 2)) + 1e-9
    row_mean = (images * rows).sum(axis=(1, 2)) / mass
    column_mean = (images * columns).sum(axis=(1, 2)) / mass
    dr = rows - row_mean[:, None, None]
    dc = columns - column_mean[:, None, None]

    def moment(values):
        return (images * values).sum(axis=(1, 2)) / mass

    return moment(dc * dc), moment(dr * dc), moment(dr * dr)


def measure(X, name):
    if name == "ink":
        return X.mean(axis=1)
    mu20, mu11, mu02 = image_moments(X)
    if name == "slant":
        return -mu11 / (mu02 + 1e-9)
    return np.sqrt(mu20)


def fit_and_measure(model_class, weight, X_train, y_train, X_test, y_test, A_train, A_test,
                    names, seed, args):
    model = model_class(
        n_components=args.aae_components, hidden_layer_sizes=args.hidden,
        discriminator_hidden_layer_sizes=args.hidden, attribute_weight=weight,
        max_epochs=args.aae_epochs, device="cpu", random_state=seed,
    )
    supervised = model_class.__name__ == "SupervisedAAE"
    start = time.perf_counter()
    model.fit(X_train, y_train if supervised else None, attributes=A_train)
    seconds = time.perf_counter() - start

    codes = model.transform(X_test)
    held_out = [spearmanr(codes[:, j], A_test[:, j])[0] for j in range(len(names))]
    decoded = (model.inverse_transform(codes, y=y_test) if supervised
               else model.inverse_transform(codes))
    error = np.mean((decoded - X_test) ** 2)

    generated = []
    n = args.n_generated
    for j, name in enumerate(names):
        requested = np.full((n, len(names)), np.nan)
        requested[:, j] = np.linspace(*np.quantile(A_train[:, j], [0.05, 0.95]), n)
        labels = {"y": np.resize(model.classes_, n)} if supervised else {}
        samples = model.sample(n, attributes=requested, random_state=seed, **labels)
        measured = measure(np.clip(samples, 0, 1), name)
        generated.append(spearmanr(requested[:, j], measured)[0])
    return held_out, generated, error, seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_common_arguments(parser, default_aae_components=4)
    parser.add_argument("--attributes", nargs="+", choices=["ink", "slant", "width"],
                        default=["ink", "slant"], help="tied to code dimensions 0, 1, ...")
    parser.add_argument("--hidden", type=int, nargs="+", default=[256, 256],
                        help="hidden layers of every network (default 256 256)")
    parser.add_argument("--n-generated", type=int, default=300,
                        help="samples drawn per attribute (default 300)")
    parser.set_defaults(aae_epochs=30, n_train=5000, n_test=2000)
    args = parser.parse_args()
    from skaae import AdversarialAutoencoder, SupervisedAAE

    print_machine()
    names = args.attributes
    results = {}
    for seed in args.seeds:
        X_train, y_train, X_test, y_test = load_split(args, seed)
        A_train = np.column_stack([measure(X_train, name) for name in names])
        A_test = np.column_stack([measure(X_test, name) for name in names])
        for model_class in (AdversarialAutoencoder, SupervisedAAE):
            for label, weight in (("unregularised", 0.0), ("regularised", None)):
                weight = model_class().attribute_weight if weight is None else weight
                key = f"{model_class.__name__}, {label} (attribute_weight={weight:g})"
                results.setdefault(key, []).append(fit_and_measure(
                    model_class, weight, X_train, y_train, X_test, y_test, A_train, A_test,
                    names, seed, args,
                ))

    print(f"\n{describe_data(args, X_train, X_test)}; attributes {names} on code dimensions "
          f"0..{len(names) - 1}; seeds {args.seeds}, {args.aae_epochs} epochs, "
          f"n_components={args.aae_components}, hidden layers {tuple(args.hidden)}\n")
    header = ["model"]
    header += [f"{name}: test code ρ" for name in names]
    header += [f"{name}: sample ρ" for name in names]
    header += ["test MSE", "fit s"]
    print("| " + " | ".join(header) + " |")
    print("| --- " + "| ---: " * (len(header) - 1) + "|")
    for key, runs in results.items():
        held_out = np.mean([run[0] for run in runs], axis=0)
        generated = np.mean([run[1] for run in runs], axis=0)
        error = np.mean([run[2] for run in runs])
        seconds = np.mean([run[3] for run in runs])
        cells = [f"{v:.3f}" for v in held_out] + [f"{v:.3f}" for v in generated]
        cells += [f"{error:.4f}", f"{seconds:.1f}"]
        print(f"| {key} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
