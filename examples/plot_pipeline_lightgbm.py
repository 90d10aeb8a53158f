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
# The pipelines
# -------------
# The autoencoder's pipeline scales the pixels to [0, 1], encodes them and
# classifies the code. ``verbose=-1`` silences LightGBM's log; one thread is
# plenty for a data set this small.
aae = AdversarialAutoencoder(
    n_components=8,
    hidden_layer_sizes=(256, 256),
    discriminator_hidden_layer_sizes=(256, 256),
    max_epochs=40,
    device="cpu",
    random_state=0,
)
aae_pipeline = Pipeline(
    [
        ("scale", MinMaxScaler()),
        ("aae", aae),
        ("clf", LGBMClassifier(verbose=-1, n_jobs=1, random_state=0)),
    ]
)

# %%
# The other pipelines differ only in the feature step.
def classify(*feature_steps):
    """Scale, apply ``feature_steps``, classify with LightGBM."""
    classifier = LGBMClassifier(verbose=-1, n_jobs=1, random_state=0)
    return Pipeline([("scale", MinMaxScaler()), *feature_steps, ("clf", classifier)])


pipelines = {
    "raw pixels (64)": classify(),
    "PCA (8)": classify(("pca", PCA(n_components=8, random_state=0))),
    "AAE (8)": aae_pipeline,
    "plain autoencoder (8)": classify(
        ("aae", clone(aae).set_params(adversarial_weight=0.0))
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
# and it is not free: here the adversarially regularised code feeds the
# classifier worse than the plain autoencoder's code or PCA's. What the constraint buys is a code you can
# sample from (``aae.sample``) and whose layout you choose (the prior). The
# strength of the constraint, ``adversarial_weight``, is an ordinary parameter
# that :class:`~sklearn.model_selection.GridSearchCV` can tune (see the grid
# search example).

# %%
# The autoencoder inside the fitted pipeline is an ordinary fitted estimator:
# its training curves are in ``history_``.
fitted_aae = aae_pipeline.named_steps["aae"]
ax = plot_history(fitted_aae, title="AAE training losses per epoch")

# %%
# Its ``score`` is minus the mean per-feature reconstruction error (squared
# error here, on the [0, 1] scale), so it compares across data sets.
scaler = aae_pipeline.named_steps["scale"]
test_score = fitted_aae.score(scaler.transform(X_test))
print(f"AAE reconstruction score on the test set: {test_score:.4f}")

plt.show()
