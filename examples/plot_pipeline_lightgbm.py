"""
=============================================
An adversarial autoencoder inside a Pipeline
=============================================

:class:`~skaae.AdversarialAutoencoder` is a scikit-learn transformer, so it
slots into a :class:`~sklearn.pipeline.Pipeline` like
:class:`~sklearn.decomposition.PCA` does. Here it compresses the 64 pixels of
the digits to an 8-dimensional code, and a gradient-boosted classifier
(LightGBM) learns the digit from that code.

We compare, on the same train/test split:

* LightGBM on the raw 64 pixels,
* LightGBM on 8 principal components,
* LightGBM on the 8-dimensional code of an adversarial autoencoder,
* and, for reference, on the code of the same autoencoder trained without its
  adversarial regulariser (``adversarial_weight=0``: a plain autoencoder).

The autoencoder never sees the labels: like PCA, it is an unsupervised
feature extractor. Needs the ``examples`` extra (``pip install "skaae[examples]"``).
"""

# %%
# Data and a split
# ----------------
import time

import matplotlib.pyplot as plt
import pandas as pd
from lightgbm import LGBMClassifier
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MinMaxScaler

from skaae import AdversarialAutoencoder
from skaae.plotting import plot_history

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.3, stratify=y, random_state=0
)

# %%
# Three pipelines
# ---------------
# Each pipeline scales the pixels to [0, 1] first. ``verbose=-1`` silences
# LightGBM's log.
aae = AdversarialAutoencoder(
    n_components=8,
    hidden_layer_sizes=(256, 256),
    discriminator_hidden_layer_sizes=(256, 256),
    learning_rate_init=1e-3,
    max_epochs=40,
    device="cpu",
    random_state=0,
)
pipelines = {
    "raw pixels (64)": Pipeline(
        [("scale", MinMaxScaler()), ("clf", LGBMClassifier(verbose=-1, random_state=0))]
    ),
    "PCA (8)": Pipeline(
        [
            ("scale", MinMaxScaler()),
            ("pca", PCA(n_components=8, random_state=0)),
            ("clf", LGBMClassifier(verbose=-1, random_state=0)),
        ]
    ),
    "AAE (8)": Pipeline(
        [
            ("scale", MinMaxScaler()),
            ("aae", aae),
            ("clf", LGBMClassifier(verbose=-1, random_state=0)),
        ]
    ),
    "plain autoencoder (8)": Pipeline(
        [
            ("scale", MinMaxScaler()),
            ("aae", clone(aae).set_params(adversarial_weight=0.0)),
            ("clf", LGBMClassifier(verbose=-1, random_state=0)),
        ]
    ),
}

# %%
# Fit, score, tabulate
# --------------------
rows = []
for name, pipeline in pipelines.items():
    start = time.perf_counter()
    pipeline.fit(X_train, y_train)
    seconds = time.perf_counter() - start
    rows.append(
        {
            "features": name,
            "test accuracy": pipeline.score(X_test, y_test),
            "fit time (s)": seconds,
        }
    )
table = pd.DataFrame(rows).set_index("features")
print(table.to_string(float_format=lambda v: f"{v:.3f}"))

# %%
# Shaping the code like a Gaussian is a constraint on top of reconstruction,
# and it is not free: on this small data set the adversarially regularised
# code usually feeds the classifier a little worse than the plain
# autoencoder's code or PCA's. What the constraint buys is a code you can
# sample from (``aae.sample``) and whose layout you choose (the prior). The
# strength of the constraint, ``adversarial_weight``, is an ordinary parameter
# that :class:`~sklearn.model_selection.GridSearchCV` can tune (see the grid
# search example).

# %%
# The autoencoder inside the fitted pipeline is an ordinary fitted estimator:
# its training curves are in ``history_``.
fitted_aae = pipelines["AAE (8)"].named_steps["aae"]
plot_history(fitted_aae, title="AAE training losses per epoch")

# %%
# Its ``score`` is minus the mean per-feature reconstruction error (squared
# error here, on the [0, 1] scale), so it compares across data sets.
scaler = pipelines["AAE (8)"].named_steps["scale"]
print(f"AAE reconstruction score on the test set: {fitted_aae.score(scaler.transform(X_test)):.4f}")

plt.show()
