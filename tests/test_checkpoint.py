"""Checkpoints: a fit killed mid-run and started again ends as if never interrupted."""

import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
import torch

from skaae import AdversarialAutoencoder, ClusteringAAE, SemiSupervisedAAE, SupervisedAAE

SMALL = dict(
    hidden_layer_sizes=(32,), discriminator_hidden_layer_sizes=(32,), device="cpu",
    random_state=0,
)


def _losses(model):
    return [{k: v for k, v in record.items() if k != "duration"} for record in model.history_]


def _assert_same_fit(resumed, uninterrupted, X):
    assert _losses(resumed) == _losses(uninterrupted)
    np.testing.assert_array_equal(resumed.transform(X), uninterrupted.transform(X))
    for key, net in uninterrupted._networks.items():
        for (name, a), b in zip(net.state_dict().items(), resumed._networks[key].state_dict().values()):
            assert torch.equal(a, b), f"{key}.{name} differs"


def _epochs_in(path):
    try:
        return torch.load(path, weights_only=True)["loop"]["epochs_done"]
    except (FileNotFoundError, EOFError, RuntimeError):
        return 0


SUBPROCESS_FIT = """
import sys
import numpy as np
import torch
from sklearn.datasets import load_digits
from skaae import AdversarialAutoencoder

torch.set_num_threads(1)
X = load_digits().data / 16
AdversarialAutoencoder(
    hidden_layer_sizes=(32,), discriminator_hidden_layer_sizes=(32,), device="cpu",
    random_state=0, max_epochs={max_epochs}, weight_averaging=0.5,
    checkpoint=sys.argv[1],
).fit(X)
"""


def test_a_fit_killed_with_sigkill_resumes_bit_identical(digits, tmp_path):
    X, _ = digits
    max_epochs = 40
    path = str(tmp_path / "fit.ckpt")
    script = textwrap.dedent(SUBPROCESS_FIT.format(max_epochs=max_epochs))
    process = subprocess.Popen([sys.executable, "-c", script, path])
    try:
        deadline = time.monotonic() + 120
        while _epochs_in(path) < 3:
            assert process.poll() is None, "the fit ended before it could be killed"
            assert time.monotonic() < deadline, "no checkpoint after 120 s"
            time.sleep(0.02)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    killed_at = _epochs_in(path)
    assert 3 <= killed_at < max_epochs

    params = dict(max_epochs=max_epochs, weight_averaging=0.5, **SMALL)
    resumed = AdversarialAutoencoder(checkpoint=path, **params).fit(X)
    uninterrupted = AdversarialAutoencoder(**params).fit(X)
    assert len(resumed.history_) == max_epochs
    _assert_same_fit(resumed, uninterrupted, X)


class _StopAfter:
    """Ends a fit (as a kill would) right after the checkpoint of epoch ``n_epochs``."""

    def __init__(self, monkeypatch, n_epochs):
        from skaae._checkpoint import Checkpoint

        original = Checkpoint.on_epoch_end

        def on_epoch_end(checkpoint, engine, epochs_done, record):
            original(checkpoint, engine, epochs_done, record)
            if epochs_done == n_epochs:
                raise SystemExit("killed")

        monkeypatch.setattr(Checkpoint, "on_epoch_end", on_epoch_end)
        self.undo = monkeypatch.undo


@pytest.mark.parametrize(
    "make, labels",
    [
        (lambda **p: AdversarialAutoencoder(early_stopping=True, n_iter_no_change=2, **p), None),
        (lambda **p: SupervisedAAE(**p), "all"),
        (lambda **p: SemiSupervisedAAE(neighbor_weight=1.0, **p), "a third"),
        (lambda **p: ClusteringAAE(n_clusters=5, weight_averaging=0.5, learning_rate_decay=0.5,
                                   **p), None),
    ],
    ids=["aae-early-stopping", "supervised", "semi-neighbors", "clustering-averaging-decay"],
)
def test_every_estimator_resumes_exactly(digits, tmp_path, monkeypatch, make, labels):
    X, y = digits
    X, y = X[:400], y[:400]
    args = (X,) if labels is None else (X, y if labels == "all" else np.where(
        np.arange(len(y)) % 3 == 0, y, -1))
    path = tmp_path / "fit.ckpt"
    stopper = _StopAfter(monkeypatch, 3)
    with pytest.raises(SystemExit):
        make(max_epochs=6, checkpoint=path, **SMALL).fit(*args)
    stopper.undo()
    resumed = make(max_epochs=6, checkpoint=path, **SMALL).fit(*args)
    uninterrupted = make(max_epochs=6, **SMALL).fit(*args)
    _assert_same_fit(resumed, uninterrupted, X)


def test_warm_start_continues_and_resumes_with_one_checkpoint(digits, tmp_path, monkeypatch):
    X, _ = digits
    path = tmp_path / "fit.ckpt"
    params = dict(warm_start=True, max_epochs=3, **SMALL)
    uninterrupted = AdversarialAutoencoder(**params).fit(X).fit(X)

    model = AdversarialAutoencoder(checkpoint=path, **params).fit(X)
    stopper = _StopAfter(monkeypatch, 1)
    with pytest.raises(SystemExit):
        model.fit(X)  # the second call overwrites the first call's finished checkpoint
    stopper.undo()
    # A new process would rebuild the model from the first call, then resume the second.
    restarted = AdversarialAutoencoder(checkpoint=None, **params).fit(X)
    restarted.set_params(checkpoint=path).fit(X)
    assert len(restarted.history_) == 6
    _assert_same_fit(restarted, uninterrupted, X)


def test_a_finished_checkpoint_gives_the_finished_model_without_training(digits, tmp_path):
    X, _ = digits
    path = tmp_path / "fit.ckpt"
    first = AdversarialAutoencoder(max_epochs=3, checkpoint=path, **SMALL).fit(X)
    start = time.perf_counter()
    again = AdversarialAutoencoder(max_epochs=3, checkpoint=path, **SMALL).fit(X)
    assert _losses(again) == _losses(first)
    np.testing.assert_array_equal(again.transform(X[:50]), first.transform(X[:50]))
    assert time.perf_counter() - start < 5


def test_a_checkpoint_of_another_fit_is_refused_with_what_differs(digits, tmp_path):
    X, _ = digits
    path = tmp_path / "fit.ckpt"
    AdversarialAutoencoder(max_epochs=2, checkpoint=path, **SMALL).fit(X)
    with pytest.raises(ValueError, match=r"parameters differ: learning_rate_init=0.001 there"):
        AdversarialAutoencoder(
            max_epochs=2, checkpoint=path, learning_rate_init=1e-2, **SMALL
        ).fit(X)
    with pytest.raises(ValueError, match="other training data"):
        AdversarialAutoencoder(max_epochs=2, checkpoint=path, **SMALL).fit(X[:500])
    with pytest.raises(ValueError, match="belongs to a AdversarialAutoencoder, not a Clustering"):
        ClusteringAAE(max_epochs=2, checkpoint=path, **SMALL).fit(X)


def test_a_broken_checkpoint_file_is_refused(digits, tmp_path):
    X, _ = digits
    path = tmp_path / "fit.ckpt"
    path.write_bytes(b"half a file")
    with pytest.raises(ValueError, match="not a readable skaae checkpoint"):
        AdversarialAutoencoder(max_epochs=1, checkpoint=path, **SMALL).fit(X)


def test_the_fingerprint_counts_a_priors_parameters_and_the_device(digits, tmp_path):
    from skaae import MixturePrior

    X, y = digits
    path = tmp_path / "fit.ckpt"
    AdversarialAutoencoder(prior=MixturePrior(n_modes=10), max_epochs=1, checkpoint=path,
                           **SMALL).fit(X, y)
    with pytest.raises(ValueError, match="parameters differ: prior=MixturePrior"):
        AdversarialAutoencoder(prior=MixturePrior(n_modes=12), max_epochs=1, checkpoint=path,
                               **SMALL).fit(X, y)
    state = torch.load(path, weights_only=True)
    state["fingerprint"]["device"] = "cuda"
    torch.save(state, path)
    with pytest.raises(ValueError, match="written on a cuda device, and this fit runs on cpu"):
        AdversarialAutoencoder(prior=MixturePrior(n_modes=10), max_epochs=1, checkpoint=path,
                               **SMALL).fit(X, y)


def test_checkpoint_files_get_the_usual_permissions(digits, tmp_path):
    X, _ = digits
    path = tmp_path / "fit.ckpt"
    AdversarialAutoencoder(max_epochs=1, checkpoint=path, **SMALL).fit(X)
    umask = os.umask(0)
    os.umask(umask)
    assert os.stat(path).st_mode & 0o777 == 0o666 & ~umask


def test_an_unset_deprecated_learning_rate_matches_a_checkpoint_that_stored_none(
    digits, tmp_path
):
    # Checkpoints written before the per-phase learning rates were deprecated
    # stored None for them; the default "deprecated" means the same.
    X, _ = digits
    path = tmp_path / "fit.ckpt"
    first = AdversarialAutoencoder(max_epochs=1, checkpoint=path, **SMALL).fit(X[:200])
    state = torch.load(path, weights_only=True)
    assert state["fingerprint"]["params"]["generator_learning_rate"] == "None"
    resumed = AdversarialAutoencoder(
        max_epochs=1, checkpoint=path, generator_learning_rate=None, **SMALL
    ).fit(X[:200])
    np.testing.assert_array_equal(first.transform(X[:50]), resumed.transform(X[:50]))


def _as_before_0_2(path):
    """Rewrite the checkpoint at ``path`` as skaae wrote it before 0.2, when the
    adversarial step was named "generator"."""
    state = torch.load(path, weights_only=True)
    old = lambda name: "generator" if name == "adversarial" else name  # noqa: E731
    state["optimizers"] = {old(name): value for name, value in state["optimizers"].items()}
    state["history"] = [{old(k): v for k, v in record.items()} for record in state["history"]]
    assert "generator" in state["optimizers"] and "generator" in state["history"][0]
    torch.save(state, path)


def test_a_checkpoint_from_before_the_adversarial_step_was_renamed_resumes_exactly(
    digits, tmp_path, monkeypatch
):
    X, _ = digits
    X = X[:400]
    path = tmp_path / "fit.ckpt"
    stopper = _StopAfter(monkeypatch, 2)
    with pytest.raises(SystemExit):
        ClusteringAAE(n_clusters=5, max_epochs=4, checkpoint=path, **SMALL).fit(X)
    stopper.undo()
    _as_before_0_2(path)
    resumed = ClusteringAAE(n_clusters=5, max_epochs=4, checkpoint=path, **SMALL).fit(X)
    uninterrupted = ClusteringAAE(n_clusters=5, max_epochs=4, **SMALL).fit(X)
    assert all("generator" not in record for record in resumed.history_)
    _assert_same_fit(resumed, uninterrupted, X)
    # A finished one gives its model, with the history under today's names.
    _as_before_0_2(path)
    finished = ClusteringAAE(n_clusters=5, max_epochs=4, checkpoint=path, **SMALL).fit(X)
    assert _losses(finished) == _losses(uninterrupted)
