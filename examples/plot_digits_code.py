"""
======================================
A 2-D code for the digits, two priors
======================================

An adversarial autoencoder squeezes the 64 pixels of each 8x8 digit into a
code of two numbers, and a discriminator pushes the codes of all digits
together to look like draws from a chosen *prior*.

We fit two models on :func:`~sklearn.datasets.load_digits`:

* a Gaussian prior, fitted without labels: the codes fill a round blob, and
  decoding a regular grid of codes shows how the digits morph into one another;
* a mixture of ten Gaussians fitted *with* the labels: the discriminator also
  sees each sample's label and the prior draws each labeled sample from its
  class's mode, so every digit gets a mode of its own (the paper's label-aware
  regularisation, Makhzani et al. 2016, Fig. 3).

The networks here are small and trained briefly so that the example runs in
well under a minute on two CPU cores.
"""

# %%
# Data
# ----
# The pixels range from 0 to 16; we scale them to [0, 1].
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits

from skaae import AdversarialAutoencoder
from skaae.plotting import plot_code, plot_manifold

X, y = load_digits(return_X_y=True)
X = X / 16

settings = dict(
    n_components=2,
    hidden_layer_sizes=(256, 256),
    discriminator_hidden_layer_sizes=(256, 256),
    max_epochs=40,
    device="cpu",
    random_state=0,
)

# %%
# Gaussian prior, no labels
# -------------------------
# ``fit_transform`` trains the model and returns the deterministic code of
# every sample. The labels only colour the plot; the model never sees them.
gaussian = AdversarialAutoencoder(prior="gaussian", **settings)
codes = gaussian.fit_transform(X)
last = gaussian.history_[-1]
print(
    f"{gaussian.n_iter_} epochs; last epoch's losses: reconstruction "
    f"{last['reconstruction']:.4f}, discriminator {last['discriminator']:.3f}, "
    f"adversarial {last['adversarial']:.3f}"
)

fig, axes = plt.subplots(1, 2, figsize=(11, 5.5))
plot_code(codes, y, ax=axes[0], title="Gaussian prior: codes")
plot_manifold(gaussian, (8, 8), ax=axes[1], title="Gaussian prior: decoded grid")
fig.tight_layout()

# %%
# Mixture prior, with labels
# --------------------------
# Passing ``y`` to ``fit`` turns on label-aware regularisation. A label of
# ``-1`` would mark a sample as unlabeled; such samples are matched against
# the whole mixture.
mixture = AdversarialAutoencoder(prior="mixture", **settings)
codes = mixture.fit(X, y).transform(X)

fig, axes = plt.subplots(1, 2, figsize=(11, 5.5))
plot_code(codes, y, ax=axes[0], title="Mixture prior with labels: codes")
plot_manifold(mixture, (8, 8), ax=axes[1], title="Mixture prior: decoded grid")
fig.tight_layout()

# %%
# How well does each class sit on its own mode? We assign each code to the
# nearest mode centre of the prior and compare with the label.
centres = mixture.prior_.means(2).numpy()
nearest = np.argmin(((codes[:, None, :] - centres[None]) ** 2).sum(axis=-1), axis=1)
print(f"codes nearest to their own class's mode: {np.mean(nearest == y):.1%}")

# %%
# A model fitted with labels can also draw new digits of a chosen class:
# ``sample(y=3)`` draws codes from the mode of class 3 and decodes them.
threes = mixture.sample(8, y=3, random_state=0)
fig, axes = plt.subplots(1, 8, figsize=(8, 1.3))
for ax, image in zip(axes, threes):
    ax.imshow(image.reshape(8, 8), cmap="gray_r")
    ax.set_axis_off()
fig.suptitle("mixture.sample(8, y=3)")

plt.show()
