"""
===========================================================
Transfer: an autoencoder fit on clothes encodes digits
===========================================================

An autoencoder fit on one image set can encode another. Here an
:class:`~skaae.AdversarialAutoencoder` learns a 16-number code from
Fashion-MNIST (clothes), without labels; wrapped in
:class:`~sklearn.frozen.FrozenEstimator`, it then encodes handwritten digits
in front of a LightGBM classifier. Inside the pipeline, ``fit`` on the digits
trains only the classifier: the frozen encoder keeps what it learnt from the
clothes.

We compare, on the same train/test split of the digits, LightGBM on

* the raw pixels,
* 16 principal components fit on the digits themselves,
* 16 principal components fit on Fashion-MNIST, frozen (the linear
  counterpart of the transfer),
* the 16-number code of the autoencoder fit on Fashion-MNIST, frozen,

by test accuracy and macro one-vs-rest AUROC. ``benchmarks/bench_transfer.py``
runs the same comparison with longer training and several seeds, and on
CIFAR-10 when given a local copy.

Needs Fashion-MNIST on disk (``apt-get install dataset-fashion-mnist``; nothing
is downloaded) and the ``examples`` extra (``pip install "skaae[examples]"``).
The networks are small and trained briefly so that the example runs in about a
minute on two CPU cores.
"""

# %%
# Source: Fashion-MNIST
# ---------------------
# A random 10,000 of the 60,000 training images, 28x28 grey levels in [0, 1].
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from lightgbm import LGBMClassifier
from scipy.ndimage import zoom
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.frozen import FrozenEstimator
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline

from skaae import AdversarialAutoencoder
from skaae.datasets import load_fashion_mnist

X_fashion, _ = load_fashion_mnist(kind="train")
rng = np.random.default_rng(0)
X_fashion = X_fashion[rng.choice(len(X_fashion), 10_000, replace=False)]

# %%
# Target: the digits, brought to 28x28
# ------------------------------------
# scikit-learn's digits are 8x8 with values 0 to 16. Bilinear interpolation
# stretches them over the whole 28x28 frame, the way Fashion-MNIST's garments
# fill theirs (MNIST instead centres its digits in a 20x20 box).
digits = load_digits()
X_digits = zoom(digits.images / 16, (1, 28 / 8, 28 / 8), order=1)
X_digits = np.clip(X_digits, 0, 1).reshape(len(X_digits), -1).astype(np.float32)
X_train, X_test, y_train, y_test = train_test_split(
    X_digits, digits.target, test_size=0.3, stratify=digits.target, random_state=0
)

# %%
# Fit the autoencoder on the clothes
# ----------------------------------
# ``input_shape`` makes the encoder and decoder convolutional; the binary
# cross-entropy suits pixels in [0, 1]. A lower adversarial weight (the
# adversarial step's learning rate is learning_rate_init * adversarial_weight)
# helps a convolutional encoder in a short run (see the user guide).
aae = AdversarialAutoencoder(
    n_components=16,
    input_shape=(1, 28, 28),
    conv_channels=(16, 32, 64),
    hidden_layer_sizes=(256,),
    reconstruction_loss="bce",
    adversarial_weight=0.2,
    max_epochs=4,
    device="cpu",
    random_state=0,
).fit(X_fashion)

# %%
# Frozen pipelines on the digits
# ------------------------------
# ``FrozenEstimator`` makes ``fit`` a no-op for the step it wraps, so the
# pipeline's ``fit`` trains the classifier only. The PCA fit on Fashion-MNIST
# is frozen the same way.
def lightgbm():
    return LGBMClassifier(verbose=-1, n_jobs=1, random_state=0)


pipelines = {
    "raw pixels (784)": Pipeline([("clf", lightgbm())]),
    "PCA(16) fit on digits": Pipeline(
        [("pca", PCA(16, random_state=0)), ("clf", lightgbm())]
    ),
    "PCA(16) fit on Fashion, frozen": Pipeline(
        [("pca", FrozenEstimator(PCA(16, random_state=0).fit(X_fashion))),
         ("clf", lightgbm())]
    ),
    "AAE(16) fit on Fashion, frozen": Pipeline(
        [("aae", FrozenEstimator(aae)), ("clf", lightgbm())]
    ),
}

rows = []
for name, pipeline in pipelines.items():
    pipeline.fit(X_train, y_train)
    proba = pipeline.predict_proba(X_test)
    rows.append(
        {
            "features": name,
            "accuracy": pipeline.score(X_test, y_test),
            "macro AUROC (OvR)": roc_auc_score(
                y_test, proba, multi_class="ovr", average="macro"
            ),
        }
    )
table = pd.DataFrame(rows).set_index("features")
print(table.to_string(float_format=lambda v: f"{v:.3f}"))

# %%
# The transfer works, in that a code learnt from clothes alone separates the
# digits far above chance (10%), but in this short run it does worse than PCA,
# even a PCA fit on the same clothes; ``benchmarks/bench_transfer.py`` finds
# the same with longer training (see the benchmarks page). The frozen
# encoder still never saw a digit, so it is the tool when the labeled set is
# small or when one encoder must serve several tasks.
ax = table.plot.barh(figsize=(7, 3.8), xlim=(0.5, 1.0))
ax.set_xlabel("score on the held-out digits")
ax.set_ylabel("")
ax.invert_yaxis()
ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2)
plt.tight_layout()

# %%
# How the clothes model sees a digit
# ----------------------------------
# Decoding the codes shows what the frozen encoder kept: the autoencoder
# redraws each digit as a garment of roughly its outline and darkness. That
# coarse description is all the classifier gets.
shown = X_test[:8]
redrawn = aae.inverse_transform(aae.transform(shown))
fig, axes = plt.subplots(2, len(shown), figsize=(8, 2.6))
fig.subplots_adjust(left=0.02, right=0.98, bottom=0.02, top=0.88, hspace=0.3)
for column, (image, decoded) in enumerate(zip(shown, redrawn)):
    for row, picture in enumerate((image, decoded)):
        axes[row, column].imshow(picture.reshape(28, 28), cmap="gray_r", vmin=0, vmax=1)
        axes[row, column].set_axis_off()
axes[0, 0].set_title("digits", loc="left", fontsize=9)
axes[1, 0].set_title("decoded by the Fashion-MNIST autoencoder", loc="left", fontsize=9)

plt.show()
