"""
=====================================
Walking between neighbouring digits
=====================================

The adversarial regulariser makes the code space smooth: points *between* the
codes of two digits should still decode into something digit-like. We check
this with short walks between neighbours, as in latent-space explorations of
trained AAEs:

1. encode the digits with :class:`~skaae.AdversarialAutoencoder`;
2. pick digits and their nearest neighbour in code space that is a different
   point *and* a different digit, with
   :func:`~skaae.latent.nearest_distinct_pairs`;
3. walk the straight line between the two codes and decode each step, with
   :func:`~skaae.latent.interpolate_inputs`, at an even pace (``"linear"``) or
   lingering at both ends (``"cos2"``, weights ``sin(pi t / 2) ** 2``);
4. save one walk as an animated GIF with
   :func:`~skaae.latent.animate_interpolation`.

Small networks, brief training: it runs in well under a minute on two CPU cores.
"""

# %%
# Fit and encode
# --------------
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from PIL import Image
from sklearn.datasets import load_digits

from skaae import AdversarialAutoencoder
from skaae.latent import (
    animate_interpolation,
    easing_weights,
    interpolate_inputs,
    nearest_distinct_pairs,
)
from skaae.plotting import plot_interpolation

X, y = load_digits(return_X_y=True)
X = X / 16

model = AdversarialAutoencoder(
    n_components=8,
    hidden_layer_sizes=(128, 128),
    discriminator_hidden_layer_sizes=(64, 64),
    max_epochs=40,
    device="cpu",
    random_state=0,
)
codes = model.fit_transform(X)

# %%
# Nearest neighbours of another digit
# -----------------------------------
# Each pair is a random digit and the closest code among the digits of other
# labels; the walk between them crosses a border between two classes.
pairs = nearest_distinct_pairs(codes, 4, labels=y, random_state=0)
for start, end in pairs:
    print(f"digit {y[start]} (sample {start}) -> nearest other digit {y[end]} (sample {end})")

# %%
# How the two easings pace a walk
# -------------------------------
# Both start at the first code and end at the second. ``"cos2"`` takes small
# steps near the ends and large ones in the middle, so more of the frames of
# an animation show the two real digits.
n_steps = 10
fig, ax = plt.subplots(figsize=(4, 3))
for easing in ("linear", "cos2"):
    ax.plot(easing_weights(n_steps, easing), "o-", label=easing)
ax.set_xlabel("step")
ax.set_ylabel("weight of the end code")
ax.legend()

# %%
# Interpolation strips
# --------------------
# One pair per figure: the linear walk on top, the cos2 walk below.
fig, axes = plt.subplots(len(pairs), 1, figsize=(8, 1.5 * len(pairs)))
for ax, (start, end) in zip(axes, pairs):
    walks = [
        interpolate_inputs(model, X[start], X[end], n_steps, easing=easing)
        for easing in ("linear", "cos2")
    ]
    plot_interpolation(
        np.stack(walks), (8, 8), row_labels=["linear", "cos2"], ax=ax,
        title=f"{y[start]} -> {y[end]}",
    )
fig.tight_layout()

# %%
# An animated walk
# ----------------
# ``animate_interpolation`` returns a matplotlib animation and, given a file
# name, saves it as a GIF (through Pillow). The figure shows its first frame.
start, end = pairs[0]
gif_path = Path(tempfile.gettempdir()) / "skaae_digit_walk.gif"
animation = animate_interpolation(
    model, X[start], X[end], gif_path, image_shape=(8, 8), n_steps=20, easing="cos2", fps=8
)
with Image.open(gif_path) as gif:
    print(f"wrote {gif_path} with {gif.n_frames} frames")

plt.show()
