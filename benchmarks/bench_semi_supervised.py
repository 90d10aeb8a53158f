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
- a plain reference recipe, written out below as a hand-written PyTorch loop
  (:func:`reference_recipe`): the paper's semi-supervised AAE as a user would
  write it from the paper, the yardstick skaae's defaults must beat;
- ``skaae.SemiSupervisedAAE`` on the whole training split (left empty when
  this skaae has no such class).

The recipe and the AAE are scored at each of ``--checkpoints`` epochs (10, 20
and ``--aae-epochs`` by default): the AAE trains on with ``warm_start``, one
optimisation measured on the way, so the rows show the learning curve.

After the table, the class information left in the AAE's *style* code: the
held-out accuracy of a ``LogisticRegression`` fitted on the style codes of the
training split with all its true labels (chance is 0.10; the class code's own
accuracy is 1 - its error). ``--plain-style`` trains the AAE with
``independent_style=False`` (the paper's unconditioned style discriminator).

Usage::

    python benchmarks/bench_semi_supervised.py --dataset digits [--seeds 0 1 2] [--aae-epochs 50] \
        [--plain-style]
    python benchmarks/bench_semi_supervised.py --dataset fashion --n-train 60000 --seeds 0 1 2 \
        [--labels-per-class 10] [--checkpoints 10 20 50] [--skip-recipe]

Prints the test error (%) and fit time (s) of each method, mean ± std over the
seeds, the AAE's error over the best peer's and over the recipe's. Times depend on the machine;
compare rows of the same run.
"""

import argparse
import time
import warnings

import numpy as np
import torch
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.semi_supervised import LabelSpreading, SelfTrainingClassifier
from torch import nn

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


# -- the plain reference recipe ------------------------------------------------------
RECIPE_HIDDEN = 1000
RECIPE_STYLE = 4
RECIPE_BATCH = 100


def reference_recipe(X_train, y_partial, X_test, checkpoints, *, seed, bf16):
    """The paper's semi-supervised AAE written out by hand, as a user would from the paper.

    2x1000 ReLU networks; an encoder with class logits and a style code of 4;
    a sigmoid decoder trained with BCE; two discriminators that output logits
    (categorical: one-hot draws against the class softmax; style: N(0, I) against
    the style code); Adam 2e-4 with beta1 0.5 for every phase; Gaussian noise of
    std 0.3 on the encoder's input in training. Four phases per mini-batch of
    100: reconstruction, both discriminators, the encoder against both, and
    cross-entropy on 100 labeled samples drawn with replacement.

    Returns ``{epochs: predicted test labels (class indices)}`` at each checkpoint.
    """
    torch.manual_seed(seed)
    n_features = X_train.shape[1]
    labeled = y_partial != UNLABELED
    classes = np.unique(y_partial[labeled])
    n_classes = len(classes)

    def mlp(n_in, n_out):
        return nn.Sequential(
            nn.Linear(n_in, RECIPE_HIDDEN), nn.ReLU(),
            nn.Linear(RECIPE_HIDDEN, RECIPE_HIDDEN), nn.ReLU(),
            nn.Linear(RECIPE_HIDDEN, n_out),
        )

    encoder = mlp(n_features, n_classes + RECIPE_STYLE)
    decoder = mlp(n_classes + RECIPE_STYLE, n_features)
    category_critic, style_critic = mlp(n_classes, 1), mlp(RECIPE_STYLE, 1)

    def adam(*nets):
        return torch.optim.Adam([p for n in nets for p in n.parameters()], lr=2e-4,
                                betas=(0.5, 0.999))

    opt_reconstruction = adam(encoder, decoder)
    opt_critics = adam(category_critic, style_critic)
    opt_generator = adam(encoder)
    opt_classifier = adam(encoder)
    bce = nn.functional.binary_cross_entropy_with_logits

    X = torch.as_tensor(X_train, dtype=torch.float32)
    X_labeled = X[torch.as_tensor(labeled)]
    y_labeled = torch.as_tensor(np.searchsorted(classes, y_partial[labeled]))
    X_eval = torch.as_tensor(X_test, dtype=torch.float32)

    def encode(x):
        code = encoder(x + 0.3 * torch.randn_like(x))
        return code[:, :n_classes], code[:, n_classes:]

    def critic_loss(critic, real, fake):
        logits = critic(torch.cat([real, fake]))
        return bce(logits[: len(real)], torch.ones_like(logits[: len(real)])) + \
            bce(logits[len(real):], torch.zeros_like(logits[len(real):]))

    predictions = {}
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        for epoch in range(1, max(checkpoints) + 1):
            for net in (encoder, decoder, category_critic, style_critic):
                net.train()
            for rows in torch.randperm(len(X)).split(RECIPE_BATCH):
                x = X[rows]
                # 1. Reconstruction.
                logits, style = encode(x)
                decoded = decoder(torch.cat([logits.softmax(1), style], 1))
                loss = bce(decoded.float(), x)
                opt_reconstruction.zero_grad(); loss.backward(); opt_reconstruction.step()
                # 2. Discriminators: prior draws are real, codes fake.
                with torch.no_grad():
                    logits, style = encode(x)
                one_hot = nn.functional.one_hot(
                    torch.randint(n_classes, (len(x),)), n_classes).float()
                loss = critic_loss(category_critic, one_hot, logits.softmax(1).float()) + \
                    critic_loss(style_critic, torch.randn_like(style.float()), style.float())
                opt_critics.zero_grad(); loss.backward(); opt_critics.step()
                # 3. Generator: the encoder fools both discriminators.
                logits, style = encode(x)
                fooled_category = category_critic(logits.softmax(1))
                fooled_style = style_critic(style)
                loss = bce(fooled_category.float(), torch.ones_like(fooled_category.float())) + \
                    bce(fooled_style.float(), torch.ones_like(fooled_style.float()))
                opt_generator.zero_grad(); loss.backward(); opt_generator.step()
                # 4. Classification on a labeled mini-batch.
                picked = torch.randint(len(y_labeled), (RECIPE_BATCH,))
                logits, _ = encode(X_labeled[picked])
                loss = nn.functional.cross_entropy(logits.float(), y_labeled[picked])
                opt_classifier.zero_grad(); loss.backward(); opt_classifier.step()
            if epoch in checkpoints:
                encoder.eval()
                with torch.no_grad():
                    logits = torch.cat([encoder(chunk)[:, :n_classes].float()
                                        for chunk in X_eval.split(1000)])
                predictions[epoch] = classes[logits.argmax(1).numpy()]
    return predictions


def aae_predictions(model_class, parameters, X_train, y_partial, X_test, checkpoints):
    """skaae's model trained on to each checkpoint with ``warm_start`` (one optimisation).

    Returns ``({epochs: predicted test labels}, final model, seconds per checkpoint)``.
    """
    model = model_class(warm_start=True, **parameters)
    predictions, seconds, done, elapsed = {}, {}, 0, 0.0
    for epochs in checkpoints:
        model.set_params(max_epochs=epochs - done)
        start = time.perf_counter()
        model.fit(X_train, y_partial)
        elapsed += time.perf_counter() - start
        done = epochs
        predictions[epochs], seconds[epochs] = model.predict(X_test), elapsed
    return predictions, model, seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_common_arguments(parser, default_aae_components=4)
    parser.add_argument("--plain-style", action="store_true",
                        help="train the AAE with independent_style=False")
    parser.add_argument("--checkpoints", type=int, nargs="+", default=None,
                        help="epochs at which the AAE and the reference recipe are scored "
                             "(default: 10, 20 and --aae-epochs)")
    parser.add_argument("--labels-per-class", type=int, nargs="+", default=list(LABELS_PER_CLASS),
                        help="labeled training points per class (default: 10 100)")
    parser.add_argument("--skip-recipe", action="store_true",
                        help="leave out the hand-written reference recipe")
    parser.add_argument("--recipe-precision", choices=["float32", "bfloat16"],
                        default="float32",
                        help="precision of the reference recipe (default float32: under "
                             "bf16 autocast this plain loop collapsed onto one or two "
                             "classes on Fashion-MNIST)")
    args = parser.parse_args()
    checkpoints = sorted(set(args.checkpoints or
                             [e for e in (10, 20) if e < args.aae_epochs] + [args.aae_epochs]))
    print_machine()
    SemiSupervisedAAE = import_aae("SemiSupervisedAAE")

    settings = args.labels_per_class
    peer_rows, aae_name = None, "SemiSupervisedAAE"
    trained_rows = {f"{name}, {epochs} epochs": [Cell() for _ in settings]
                    for name in ([] if args.skip_recipe else ["reference recipe"]) + [aae_name]
                    for epochs in checkpoints}
    style_accuracies = [[] for _ in settings]
    style_option = {"device": "cpu"}
    if args.plain_style:
        style_option["independent_style"] = False
    style_option.update(aae_parameters(args))
    recipe_bf16 = args.recipe_precision == "bfloat16"
    for seed in args.seeds:
        X_train, y_train, X_test, y_test = load_split(args, seed)
        if seed == args.seeds[0]:
            print(describe_data(args, X_train, X_test))
            print(f"seeds {args.seeds}; checkpoints {checkpoints}; AAE: "
                  f"{describe_aae(args, **style_option)}; reference recipe in "
                  f"{'bf16' if recipe_bf16 else 'fp32'}")
        peers = make_peers(args.dataset, seed)
        if peer_rows is None:
            peer_rows = {name: [Cell() for _ in settings] for name in peers}
        for index, labels_per_class in enumerate(settings):
            y_partial = hide_labels(y_train, labels_per_class, seed)
            for name, fit in peers.items():
                cell = peer_rows[name][index]
                model = timed(cell, lambda: fit(X_train, y_partial))
                cell.errors.append(np.mean(model.predict(X_test) != y_test))
                print(f"  seed {seed}, {labels_per_class} labels/class, {name}: "
                      f"{100 * cell.errors[-1]:.2f}% in {cell.seconds[-1]:.1f}s", flush=True)
            if not args.skip_recipe:
                start = time.perf_counter()
                predicted = reference_recipe(X_train, y_partial, X_test, checkpoints,
                                             seed=seed, bf16=recipe_bf16)
                duration = time.perf_counter() - start
                for epochs, labels in predicted.items():
                    cell = trained_rows[f"reference recipe, {epochs} epochs"][index]
                    cell.errors.append(np.mean(labels != y_test))
                    cell.seconds.append(duration * epochs / max(checkpoints))
                print(f"  seed {seed}, {labels_per_class} labels/class, reference recipe: "
                      + ", ".join(f"{100 * np.mean(l != y_test):.2f}% at {e}"
                                  for e, l in predicted.items())
                      + f" in {duration:.0f}s", flush=True)
            if SemiSupervisedAAE is None:
                continue

            def measure_aae():
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", ConvergenceWarning)
                    predicted, model, seconds = aae_predictions(
                        SemiSupervisedAAE, dict(n_components=args.aae_components,
                                                random_state=seed, **style_option),
                        X_train, y_partial, X_test, checkpoints)
                for epochs, labels in predicted.items():
                    cell = trained_rows[f"{aae_name}, {epochs} epochs"][index]
                    cell.errors.append(np.mean(labels != y_test))
                    cell.seconds.append(seconds[epochs])
                probe = LogisticRegression(max_iter=2000).fit(model.transform(X_train), y_train)
                style_accuracies[index].append(probe.score(model.transform(X_test), y_test))
                print(f"  seed {seed}, {labels_per_class} labels/class, {aae_name}: "
                      + ", ".join(f"{100 * np.mean(l != y_test):.2f}% at {e}"
                                  for e, l in predicted.items())
                      + f" in {seconds[max(checkpoints)]:.0f}s; style code -> class accuracy "
                      f"{style_accuracies[index][-1]:.3f}", flush=True)

            run_aae_safely(trained_rows[f"{aae_name}, {max(checkpoints)} epochs"][index],
                           measure_aae)

    final = f"{aae_name}, {max(checkpoints)} epochs"
    others = {name: cells for name, cells in trained_rows.items() if name != final}
    print_table(
        f"Semi-supervised test error on {args.dataset}, {len(args.seeds)} seed(s)",
        [f"{n} labels/class" for n in settings],
        peer_rows,
        {final: trained_rows[final]},
        other_rows=others,
    )
    if not args.skip_recipe:
        recipe = trained_rows[f"reference recipe, {max(checkpoints)} epochs"]
        ratios = [f"{n} labels/class: {np.mean(a.errors) / np.mean(r.errors):.2f}x"
                  for n, a, r in zip(settings, trained_rows[final], recipe)
                  if a.errors and r.errors and np.mean(r.errors) > 0]
        print(f"\n{final} / reference recipe at {max(checkpoints)} epochs: " + "; ".join(ratios))
    if any(style_accuracies):
        plain = " with independent_style=False" if args.plain_style else ""
        print(f"\nClass information in {aae_name}'s style code{plain} (logistic "
              "regression, held-out accuracy; chance 0.10):")
        for labels_per_class, accuracies, cell in zip(
            settings, style_accuracies, trained_rows[final]
        ):
            if accuracies:
                print(f"  {labels_per_class} labels/class: style code {np.mean(accuracies):.3f} "
                      f"± {np.std(accuracies):.3f}; class code {1 - np.mean(cell.errors):.3f}")


if __name__ == "__main__":
    main()
