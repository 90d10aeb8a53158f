"""The quick-start job: ``python -m skaae``.

Fits an adversarial autoencoder with a 2-D code on scikit-learn's embedded
digits (no download), prints what it learned, and saves a figure of the code
coloured by digit beside the decoded manifold.
"""

import argparse
import time

import numpy as np


def _parse(argv):
    parser = argparse.ArgumentParser(
        prog="python -m skaae",
        description="Fit an adversarial autoencoder on the digits data set and plot its 2-D code.",
    )
    parser.add_argument("--prior", default="gaussian",
                        choices=["gaussian", "mixture", "umbrella", "swiss_roll", "uniform"])
    parser.add_argument("--labels", action="store_true",
                        help="label-aware regularisation: each digit on its own mode of the prior")
    parser.add_argument("--epochs", type=int, default=50)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", default="skaae_digits.png",
                        help="where to save the figure ('' to skip plotting)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser.parse_args(argv)


def main(argv=None):
    args = _parse(argv)
    from sklearn.datasets import load_digits
    from sklearn.model_selection import cross_val_score, train_test_split
    from sklearn.neighbors import KNeighborsClassifier

    from . import AdversarialAutoencoder

    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, stratify=y, random_state=args.seed
    )
    model = AdversarialAutoencoder(
        n_components=2,
        prior=args.prior,
        max_epochs=args.epochs,
        device=args.device,
        verbose=0 if args.quiet else 1,
        random_state=args.seed,
    )
    print(f"digits: {X_train.shape[0]} training and {X_test.shape[0]} test images of "
          f"{X.shape[1]} pixels")
    print(f"fitting {model.__class__.__name__}(n_components=2, prior={args.prior!r}"
          f"{', with labels' if args.labels else ''}) for {args.epochs} epochs")
    start = time.perf_counter()
    model.fit(X_train, y_train if args.labels else None)
    seconds = time.perf_counter() - start
    last = model.history_[-1]
    print(f"trained on {model.device_} in {seconds:.1f} s "
          f"({model.n_iter_ * len(X_train) / seconds:,.0f} samples/s)")
    print("last epoch losses: " + ", ".join(
        f"{k} {v:.4f}" for k, v in last.items() if k not in ("epoch", "duration")))

    Z_test = model.transform(X_test)
    drawn = model._draw_codes(len(Z_test), None, args.seed)
    print("\ncode of the test images against draws of the prior:")
    print(f"  mean        code {np.round(Z_test.mean(0), 2)}   prior {np.round(drawn.mean(0), 2)}")
    print(f"  std         code {np.round(Z_test.std(0), 2)}   prior {np.round(drawn.std(0), 2)}")
    print(f"reconstruction error per pixel (test): {-model.score(X_test):.4f} "
          f"(pixel variance {X_test.var(axis=0).mean():.4f})")
    knn = KNeighborsClassifier(n_neighbors=5)
    accuracy = cross_val_score(knn, Z_test, y_test, cv=5).mean()
    print(f"5-NN accuracy on the 2-D test code: {accuracy:.3f} (chance 0.10): "
          "the digits form clusters although no label was used"
          if not args.labels else
          f"5-NN accuracy on the 2-D test code: {accuracy:.3f} (chance 0.10)")

    if args.output:
        try:
            import matplotlib

            matplotlib.use("Agg")
            import matplotlib.pyplot as plt
        except ImportError:
            print("matplotlib is not installed: no figure (pip install 'skaae[plot]')")
            return model
        from .plotting import plot_code, plot_manifold

        figure, (left, right) = plt.subplots(1, 2, figsize=(11, 5.2))
        plot_code(Z_test, y_test, ax=left, title="2-D code of the test digits")
        plot_manifold(model, (8, 8), ax=right, title="decoded grid of codes")
        figure.tight_layout()
        figure.savefig(args.output, dpi=110)
        print(f"figure saved to {args.output}")
    return model


if __name__ == "__main__":
    main()
