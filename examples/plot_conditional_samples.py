"""
======================================================
Class-conditional digits: style and class kept apart
======================================================

A :class:`~skaae.SupervisedAAE` gives the decoder each digit's label next to
its code. The label already says *which* digit to draw, so the code only has
to keep *how* it is drawn: its style (slant, thickness, width). The
discriminator makes the style codes of every class look like draws from one
Gaussian prior (Makhzani et al. 2016, Fig. 6).

Decoding one style under every label then draws the same handwriting as ten
different digits: :func:`~skaae.plotting.plot_sample_grid` draws a grid with
a class per row and a style per column. We also check that the codes match
the prior, with :func:`~skaae.plotting.plot_code` over the prior's density,
and look at the training curves with :func:`~skaae.plotting.plot_history`.

The networks are small and trained briefly so that the example runs in about
a minute on two CPU cores.
"""

# %%
# Fit
# ---
import matplotlib.pyplot as plt
from sklearn.datasets import load_digits

from skaae import SupervisedAAE
from skaae.plotting import plot_code, plot_history, plot_sample_grid

X, y = load_digits(return_X_y=True)
X = X / 16

model = SupervisedAAE(
    n_components=2,
    hidden_layer_sizes=(128, 128),
    discriminator_hidden_layer_sizes=(64, 64),
    max_epochs=40,
    device="cpu",
    random_state=0,
).fit(X, y)

# %%
# Training curves
# ---------------
# One line per optimisation step, each epoch's mean loss. The reconstruction
# error falls; the discriminator and adversarial losses settle near
# ``2 log 2`` and ``log 2`` when the discriminator can no longer tell the
# style codes from draws of the prior.
plot_history(model, title="SupervisedAAE on digits")

# %%
# Style codes against the prior
# -----------------------------
# The grey background is the density of the prior (a standard Gaussian here).
# Since the label goes to the decoder, the codes of all digits share this one
# blob instead of forming a cluster per class.
plot_code(model.transform(X), y, prior=model, title="Style codes over the prior")

# %%
# One style per column, one digit per row
# ---------------------------------------
# Ten styles are drawn from the prior and each is decoded under every label.
# Reading down a column, the digits change but the handwriting stays.
plot_sample_grid(model, n_styles=10, image_shape=(8, 8), random_state=0,
                 title="Same style across each column")

# %%
# The style of real digits
# ------------------------
# ``inverse_transform(codes, y=label)`` renders the style of any sample as
# another digit: here the styles of the first eight test digits, each drawn
# as a 3.
codes = model.transform(X[:8])
fig, axes = plt.subplots(2, 8, figsize=(8, 2.2))
for column, (original, redrawn) in enumerate(
    zip(X[:8], model.inverse_transform(codes, y=3))
):
    axes[0, column].imshow(original.reshape(8, 8), cmap="gray_r")
    axes[1, column].imshow(redrawn.reshape(8, 8), cmap="gray_r")
for ax in axes.ravel():
    ax.set_axis_off()
fig.suptitle("top: input; bottom: its style drawn as a 3")

plt.show()
