"""skaae.save / skaae.load: model files of plain data that run no code when loaded."""

import json

import numpy as np
import pytest
import torch
from safetensors import safe_open
from safetensors.torch import save_file

import skaae
from skaae import (
    AdversarialAutoencoder,
    ClusteringAAE,
    MixturePrior,
    SemiSupervisedAAE,
    SupervisedAAE,
)

SMALL = dict(
    hidden_layer_sizes=(32,), discriminator_hidden_layer_sizes=(32,), max_epochs=2,
    device="cpu", random_state=0,
)


def _letters(y):
    return np.array(list("abcdefghij"))[y]


CASES = {
    "aae": lambda X, y: AdversarialAutoencoder(**SMALL).fit(X),
    "aae-mixture-string-labels": lambda X, y: AdversarialAutoencoder(
        prior=MixturePrior(n_modes=10, radius=3.0), **SMALL
    ).fit(X, _letters(y)),
    "aae-conv": lambda X, y: AdversarialAutoencoder(
        input_shape=(1, 8, 8), conv_channels=(4, 8), **SMALL
    ).fit(X),
    "supervised": lambda X, y: SupervisedAAE(**SMALL).fit(X, y),
    "semi-heads": lambda X, y: SemiSupervisedAAE(head_distance=3.0, **SMALL).fit(
        X, np.where(np.arange(len(y)) % 5 == 0, y, -1)
    ),
    "clustering": lambda X, y: ClusteringAAE(n_clusters=6, **SMALL).fit(X),
}


@pytest.mark.parametrize("case", CASES)
def test_a_loaded_model_gives_the_saved_models_results(digits, tmp_path, case):
    X, y = digits
    model = CASES[case](X, y)
    path = tmp_path / "model.safetensors"
    skaae.save(model, path)
    loaded = skaae.load(path)
    assert type(loaded) is type(model)
    assert set(loaded.get_params()) == set(model.get_params())
    np.testing.assert_array_equal(loaded.transform(X[:40]), model.transform(X[:40]))
    np.testing.assert_array_equal(
        loaded.sample(6, random_state=3), model.sample(6, random_state=3)
    )
    if hasattr(model, "predict"):
        np.testing.assert_array_equal(loaded.predict(X[:40]), model.predict(X[:40]))
    if hasattr(model, "classes_"):
        np.testing.assert_array_equal(loaded.classes_, model.classes_)
        assert loaded.classes_.dtype == model.classes_.dtype
    assert loaded.history_ == model.history_
    assert loaded.n_iter_ == model.n_iter_
    np.testing.assert_allclose(loaded.score_samples(X[:40]), model.score_samples(X[:40]))


def test_a_checkpointed_model_saves_with_its_checkpoint_path(digits, tmp_path):
    X, _ = digits
    model = ClusteringAAE(n_clusters=4, checkpoint=tmp_path / "fit.ckpt", **SMALL).fit(X)
    skaae.save(model, tmp_path / "m.safetensors")
    loaded = skaae.load(tmp_path / "m.safetensors")
    assert loaded.checkpoint == str(tmp_path / "fit.ckpt")
    assert loaded.reconstruction_loss_ == model.reconstruction_loss_


def test_a_loaded_model_trains_on_like_the_saved_one(digits, tmp_path):
    X, _ = digits
    model = AdversarialAutoencoder(warm_start=True, **SMALL).fit(X)
    skaae.save(model, tmp_path / "m.safetensors")
    loaded = skaae.load(tmp_path / "m.safetensors")
    # Optimizer states are not stored: both continue with fresh optimizers.
    model._optimizers = {}
    model.fit(X)
    loaded.fit(X)
    np.testing.assert_array_equal(loaded.transform(X[:20]), model.transform(X[:20]))


def test_the_file_is_plain_data_with_versions(digits, tmp_path):
    X, _ = digits
    path = tmp_path / "m.safetensors"
    skaae.save(ClusteringAAE(n_clusters=4, **SMALL).fit(X), path)
    with safe_open(str(path), framework="pt") as handle:
        metadata = handle.metadata()
        keys = list(handle.keys())
    assert metadata["skaae_version"] == skaae.__version__
    assert metadata["torch_version"] == torch.__version__
    assert metadata["estimator"] == "ClusteringAAE"
    assert json.loads(metadata["params"])["n_clusters"] == 4
    assert any(key.startswith("network/encoder/") for key in keys)
    assert not list(tmp_path.glob(".skaae-*")), "the temporary file was left behind"


def test_save_refuses_what_is_not_plain_data(digits, tmp_path):
    X, _ = digits
    model = AdversarialAutoencoder(
        encoder=torch.nn.Sequential(torch.nn.Linear(64, 2)), **SMALL
    ).fit(X)
    with pytest.raises(ValueError, match="the parameter encoder is a Sequential"):
        skaae.save(model, tmp_path / "m.safetensors")
    assert not (tmp_path / "m.safetensors").exists()


def test_save_refuses_an_unfitted_model(tmp_path):
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        skaae.save(AdversarialAutoencoder(), tmp_path / "m.safetensors")


def test_load_refuses_files_that_are_not_skaae_models(digits, tmp_path):
    other = tmp_path / "other.safetensors"
    save_file({"w": torch.zeros(2)}, str(other), metadata={"format": "something-else"})
    with pytest.raises(ValueError, match="not a skaae model file"):
        skaae.load(other)
    garbage = tmp_path / "garbage.safetensors"
    garbage.write_bytes(b"\x80\x04not a safetensors file at all")
    with pytest.raises(ValueError, match="not a safetensors file"):
        skaae.load(garbage)


def _rewrite_metadata(path, **changes):
    with safe_open(str(path), framework="pt") as handle:
        metadata = handle.metadata()
        tensors = {key: handle.get_tensor(key) for key in handle.keys()}
    save_file(tensors, str(path), metadata={**metadata, **changes})


def test_load_refuses_a_newer_format_and_unknown_estimators(digits, tmp_path):
    X, _ = digits
    path = tmp_path / "m.safetensors"
    skaae.save(AdversarialAutoencoder(**SMALL).fit(X), path)
    _rewrite_metadata(path, format_version=str(skaae.persistence.FORMAT_VERSION + 1))
    with pytest.raises(ValueError, match="Upgrade skaae to load it"):
        skaae.load(path)
    _rewrite_metadata(path, format_version="1", estimator="os.system")
    with pytest.raises(ValueError, match="unknown estimator 'os.system'"):
        skaae.load(path)


def test_a_file_from_before_the_adversarial_step_was_renamed_loads_under_todays_name(
    digits, tmp_path
):
    X, _ = digits
    path = tmp_path / "m.safetensors"
    model = AdversarialAutoencoder(**SMALL).fit(X)
    skaae.save(model, path)
    with safe_open(str(path), framework="pt") as handle:
        attributes = handle.metadata()["attributes"]
    assert '"adversarial"' in attributes
    # Before 0.2 the step was named "generator" in history_.
    _rewrite_metadata(path, attributes=attributes.replace('"adversarial"', '"generator"'))
    loaded = skaae.load(path)
    assert loaded.history_ == model.history_


def test_a_file_from_before_label_mixup_existed_loads_without_blends(digits, tmp_path):
    X, y = digits
    path = tmp_path / "m.safetensors"
    y_partial = np.where(np.arange(len(y)) % 10 == 0, y, -1)
    model = SemiSupervisedAAE(label_mixup=0.0, **SMALL).fit(X, y_partial)
    skaae.save(model, path)
    with safe_open(str(path), framework="pt") as handle:
        params = json.loads(handle.metadata()["params"])
    del params["label_mixup"]
    _rewrite_metadata(path, params=json.dumps(params))
    # Today's default would be "auto"; that version trained on its labels as they were.
    assert skaae.load(path).get_params()["label_mixup"] == 0.0
