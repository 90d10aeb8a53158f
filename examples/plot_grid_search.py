"""
=====================================
Tuning an adversarial autoencoder
=====================================

Every parameter of :class:`~skaae.AdversarialAutoencoder` is a plain
constructor argument, so :class:`~sklearn.model_selection.GridSearchCV`
can tune it like any scikit-learn parameter, including the loss weights.

Two searches on the digits:

1. **Supervised**: the autoencoder feeds a LightGBM classifier in a pipeline,
   and the search picks the autoencoder's settings by the pipeline's
   cross-validated accuracy.
2. **Unsupervised**: the search scores the autoencoder alone with its own
   :meth:`~skaae.AdversarialAutoencoder.score`, minus the mean per-feature
   reconstruction error on the held-out fold (higher is better).

Both searches train their candidates in two processes (``n_jobs=2``). Needs
the ``examples`` extra (``pip install "skaae[examples]"``).
"""

# %%
# Data
# ----
import matplotlib.pyplot as plt
import pandas as pd
from lightgbm import LGBMClassifier
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MinMaxScaler

from skaae import AdversarialAutoencoder

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.3, stratify=y, random_state=0
)

# Short training keeps the 12 fits of each search (3 folds x 4 candidates) quick.
aae = AdversarialAutoencoder(
    hidden_layer_sizes=(256, 256),
    discriminator_hidden_layer_sizes=(256, 256),
    max_epochs=20,
    device="cpu",
    random_state=0,
)


def results_table(search, params):
    """The interesting columns of ``cv_results_``, best candidate first."""
    columns = [f"param_{p}" for p in params] + [
        "mean_test_score",
        "std_test_score",
        "mean_fit_time",
        "rank_test_score",
    ]
    table = pd.DataFrame(search.cv_results_)[columns]
    table.columns = [c.removeprefix("param_") for c in columns]
    return table.sort_values("rank_test_score").to_string(
        index=False, float_format=lambda v: f"{v:.4f}"
    )


# %%
# Supervised search: accuracy of a pipeline
# -----------------------------------------
# Parameters of a pipeline step are addressed as ``<step>__<parameter>``.
# ``adversarial_weight`` scales the adversarial step that pulls the code
# towards the prior; ``n_components`` is the size of the code.
pipeline = Pipeline(
    [
        ("scale", MinMaxScaler()),
        ("aae", aae),
        ("clf", LGBMClassifier(verbose=-1, n_jobs=1, random_state=0)),
    ]
)
param_grid = {
    "aae__adversarial_weight": [0.1, 1.0],
    "aae__n_components": [4, 8],
}
search = GridSearchCV(pipeline, param_grid, cv=3, n_jobs=2)
search.fit(X_train, y_train)

print(results_table(search, param_grid))
print(f"\nbest: {search.best_params_}")
print(f"test accuracy of the refitted best pipeline: {search.score(X_test, y_test):.3f}")

# %%
# Unsupervised search: the autoencoder's own score
# ------------------------------------------------
# Without a ``scoring`` argument, ``GridSearchCV`` calls the estimator's
# ``score``: for an autoencoder, minus the mean per-feature reconstruction
# error of the held-out fold. Because the error is averaged per feature, the
# numbers mean the same thing whatever the number of pixels.
#
# Reconstruction alone tends to favour a *weaker* adversarial regulariser, so
# this score suits capacity and optimisation settings (code size, network
# size, learning rate, epochs) rather than ``adversarial_weight``.
X_scaled = X_train / 16
param_grid = {
    "n_components": [2, 8],
    "learning_rate_init": [3e-4, 1e-3],
}
search = GridSearchCV(aae, param_grid, cv=3, n_jobs=2)
search.fit(X_scaled)

print(results_table(search, param_grid))
print(f"\nbest: {search.best_params_}")
print(f"reconstruction score on the test set: {search.score(X_test / 16):.4f}")

# %%
# The best model's reconstructions of a few test digits (top: input,
# bottom: reconstruction).
best = search.best_estimator_
images = X_test[:10] / 16
reconstructed = best.inverse_transform(best.transform(images))
fig, axes = plt.subplots(2, 10, figsize=(10, 2.3))
for column, (original, decoded) in enumerate(zip(images, reconstructed)):
    axes[0, column].imshow(original.reshape(8, 8), cmap="gray_r", vmin=0, vmax=1)
    axes[1, column].imshow(decoded.reshape(8, 8), cmap="gray_r", vmin=0, vmax=1)
for ax in axes.ravel():
    ax.set_axis_off()
fig.suptitle(f"n_components={best.n_components}: inputs (top) and reconstructions (bottom)")

plt.show()
