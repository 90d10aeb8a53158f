"""Parzen-window log-likelihood of samples, as in Table 1 of Makhzani et al. (2016).

Each generative model is fit on the training split and draws ``--n-samples``
points; ``skaae.metrics.parzen_log_likelihood`` scores the test split under a
Gaussian window on those samples, with the bandwidth chosen on a validation
split carved from the training split (the models never see it). Peers: a
``GaussianMixture`` on PCA codes and on the raw features, a Gaussian
``KernelDensity`` fit on the training points, and the training points themselves
used as the samples (an upper reference: data, not a model, and only as many
points as the training split holds). Higher is better; values in nats.

Usage: ``python benchmarks/bench_parzen.py [--dataset digits|fashion] [--seeds 0 1 2]
[--aae-epochs 100] [--aae-components 8 2] [--n-samples 10000] [--aae-param NAME=VALUE]``
(``--aae-param`` reaches both AAEs, for example ``learning_rate_decay=0.0``)
"""

import argparse
import time
import warnings

import numpy as np
from sklearn.decomposition import PCA
from sklearn.mixture import GaussianMixture
from sklearn.model_selection import train_test_split
from sklearn.neighbors import KernelDensity

from _common import aae_parameters, describe_data, load_split, print_machine

from skaae.metrics import parzen_log_likelihood

#: Candidate Parzen bandwidths: 0.01 to 1 in 21 steps of about 26%.
BANDWIDTHS = np.logspace(-2, 0, 21)


def parse_arguments():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", choices=["digits", "fashion"], default="digits",
                        help="digits: sklearn's 8x8 digits / 16, a stratified 30%% test split; "
                             "fashion: Fashion-MNIST from local files")
    parser.add_argument("--n-train", type=int, default=10000,
                        help="fashion only: stratified training subset, validation included "
                             "(default 10000 of 60000)")
    parser.add_argument("--n-test", type=int, default=2000,
                        help="fashion only: stratified subset of the official test set "
                             "(default 2000)")
    parser.add_argument("--fashion-directory", default=None,
                        help="folder of the Fashion-MNIST IDX files (default: skaae's default)")
    parser.add_argument("--validation-fraction", type=float, default=0.2,
                        help="share of the training split held out to choose the bandwidth "
                             "(default 0.2)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0],
                        help="one run per seed: splits and model seeds (default: 0)")
    parser.add_argument("--aae-epochs", type=int, default=100, help="max_epochs of the AAEs")
    parser.add_argument("--aae-param", action="append", default=[], metavar="NAME=VALUE",
                        help="another parameter of both AAEs, for example "
                             "--aae-param learning_rate_decay=0.0 (repeatable)")
    parser.add_argument("--aae-components", type=int, nargs="+", default=[8, 2],
                        help="one AdversarialAutoencoder per n_components (default: 8 2)")
    parser.add_argument("--supervised-components", type=int, default=8,
                        help="n_components (style dimensions) of the SupervisedAAE (default 8)")
    parser.add_argument("--n-samples", type=int, default=10000,
                        help="samples drawn from each model (default 10000, as in the paper)")
    return parser.parse_args()


def split(args, seed):
    """Train, validation and test features, and the training labels."""
    X_train, y_train, X_test, _ = load_split(args, seed)
    X_train, X_validation, y_train, _ = train_test_split(
        X_train, y_train, test_size=args.validation_fraction, stratify=y_train,
        random_state=seed,
    )
    return X_train, y_train, X_validation, X_test


# -- the samplers: each fits on the training split and returns n samples -----------

def aae(n_components, args):
    def draw(X_train, y_train, n, seed):
        from skaae import AdversarialAutoencoder

        model = AdversarialAutoencoder(
            n_components, prior="gaussian", reconstruction_loss="bce",
            max_epochs=args.aae_epochs, device="cpu", random_state=seed, **aae_parameters(args),
        ).fit(X_train)
        return model, lambda: model.sample(n, random_state=seed)
    return draw


def supervised_aae(args):
    def draw(X_train, y_train, n, seed):
        from skaae import SupervisedAAE

        model = SupervisedAAE(
            args.supervised_components, prior="gaussian", reconstruction_loss="bce",
            max_epochs=args.aae_epochs, device="cpu", random_state=seed, **aae_parameters(args),
        ).fit(X_train, y_train)

        def sample():
            # Classes in the training proportions, not uniformly.
            classes, counts = np.unique(y_train, return_counts=True)
            y = np.random.default_rng(seed).choice(classes, size=n, p=counts / counts.sum())
            return model.sample(n, y=y, random_state=seed)
        return model, sample
    return draw


def gaussian_mixture(n_pca):
    def draw(X_train, y_train, n, seed):
        pca = None
        Z = X_train
        if n_pca:
            pca = PCA(n_components=n_pca, random_state=seed).fit(X_train)
            Z = pca.transform(X_train)
        mixture = GaussianMixture(n_components=10, covariance_type="full",
                                  reg_covar=1e-3, random_state=seed).fit(Z)

        def sample():
            drawn = mixture.sample(n)[0]
            drawn = drawn if pca is None else pca.inverse_transform(drawn)
            return np.clip(drawn, 0, 1)
        return mixture, sample
    return draw


def kernel_density(X_train, y_train, n, seed):
    """A Gaussian KDE, its bandwidth chosen on a 20% split of the training points."""
    fit_part, held_part = train_test_split(X_train, test_size=0.2, random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # a grid-edge choice shows in the table
        bandwidth = parzen_log_likelihood(fit_part, held_part,
                                          X_validation=held_part,
                                          bandwidths=BANDWIDTHS).bandwidth
    kde = KernelDensity(bandwidth=bandwidth).fit(X_train)
    return kde, lambda: np.clip(kde.sample(n, random_state=seed), 0, 1)


def training_points(X_train, y_train, n, seed):
    return None, lambda: X_train


def methods(args):
    rows = {f"AdversarialAutoencoder({k}), bce": aae(k, args) for k in args.aae_components}
    rows[f"SupervisedAAE({args.supervised_components}), class proportions"] = \
        supervised_aae(args)
    rows["GaussianMixture(10, full) on PCA(30)"] = gaussian_mixture(30)
    rows["GaussianMixture(10, full) on raw"] = gaussian_mixture(None)
    rows["KernelDensity (Gaussian)"] = kernel_density
    rows["training points themselves (reference)"] = training_points
    return rows


def main():
    args = parse_arguments()
    print_machine()
    results = {}  # method -> list of (log_likelihood, std_error, bandwidth, fit seconds)
    for seed in args.seeds:
        X_train, y_train, X_validation, X_test = split(args, seed)
        for name, draw in methods(args).items():
            start = time.perf_counter()
            _, sample = draw(X_train, y_train, args.n_samples, seed)
            seconds = time.perf_counter() - start
            samples = sample()
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", UserWarning)
                estimate = parzen_log_likelihood(samples, X_test, X_validation=X_validation,
                                                 bandwidths=BANDWIDTHS)
            edge = "!" if caught else ""
            results.setdefault(name, []).append((*estimate, seconds, edge, len(samples)))
            print(f"seed {seed}: {name}: {estimate.log_likelihood:.1f} "
                  f"± {estimate.std_error:.1f}, bandwidth {estimate.bandwidth:.3g}{edge}, "
                  f"fit {seconds:.1f} s", flush=True)
    print(f"\n{describe_data(args, X_train, X_test)}; {len(X_validation)} validation points "
          f"to choose the bandwidth; {args.n_samples} samples per model; seeds {args.seeds}; "
          f"AAEs {args.aae_epochs} epochs"
          + "".join(f", {item}" for item in args.aae_param) + "\n")
    several = len(args.seeds) > 1
    header = ["method", "log-likelihood ± std error"] + (["sd over seeds"] if several else []) \
        + ["bandwidth", "samples", "fit s"]
    print("| " + " | ".join(header) + " |")
    print("| --- |" + " ---: |" * (len(header) - 1))
    for name, values in results.items():
        ll, se = np.mean([v[0] for v in values]), np.mean([v[1] for v in values])
        bandwidths = "/".join(f"{v[2]:.3g}{v[4]}" for v in values)
        cells = [name, f"{ll:.1f} ± {se:.1f}"]
        if several:
            cells.append(f"{np.std([v[0] for v in values]):.1f}")
        cells += [bandwidths, str(values[0][5]), f"{np.mean([v[3] for v in values]):.1f}"]
        print("| " + " | ".join(cells) + " |")
    print("\nlog-likelihood: mean over seeds of the mean test log-likelihood (nats); std error: "
          "over the test points, mean over seeds; bandwidth: one per seed"
          + ("; ! marks a choice at the edge of the grid" if any(
              v[4] for values in results.values() for v in values) else "") + ".")


if __name__ == "__main__":
    main()
