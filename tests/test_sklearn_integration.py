"""AdversarialAutoencoder inside scikit-learn's tooling, and across devices."""

import io
import pickle
from unittest import mock

import joblib
import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import MinMaxScaler

from skaae import AdversarialAutoencoder


def small(**params):
    defaults = dict(
        hidden_layer_sizes=(32,),
        discriminator_hidden_layer_sizes=(32,),
        max_epochs=3,
        device="cpu",
        random_state=0,
    )
    defaults.update(params)
    return AdversarialAutoencoder(**defaults)


def test_clone_keeps_parameters_and_drops_fitted_state(digits):
    X, _ = digits
    model = small(n_components=4, adversarial_weight=0.5).fit(X[:100])
    copy = clone(model)
    assert copy.get_params() == model.get_params()
    assert not hasattr(copy, "encoder_")


def test_pipeline_with_a_classifier_learns_from_the_code(digits):
    X, y = digits
    pipe = Pipeline([
        ("scale", MinMaxScaler()),
        ("aae", small(n_components=8, max_epochs=15, hidden_layer_sizes=(128,))),
        ("clf", LogisticRegression(max_iter=500)),
    ])
    pipe.fit(X[:1200], y[:1200])
    assert pipe.score(X[1200:], y[1200:]) > 0.6  # chance is 0.1


def test_lightgbm_pipeline_from_the_issue(digits):
    lightgbm = pytest.importorskip("lightgbm")
    X, y = digits
    pipe = Pipeline([
        ("scale", MinMaxScaler()),
        ("aae", small(n_components=8, max_epochs=5)),
        ("clf", lightgbm.LGBMClassifier(n_estimators=20, verbose=-1)),
    ])
    pipe.fit(X[:600], y[:600])
    assert pipe.predict(X[600:700]).shape == (100,)


def test_grid_search_over_loss_weights_in_parallel(digits):
    X, y = digits
    pipe = make_pipeline(small(n_components=4), LogisticRegression(max_iter=200))
    search = GridSearchCV(
        pipe, {"adversarialautoencoder__adversarial_weight": [0.1, 1.0]}, cv=3, n_jobs=2
    )
    search.fit(X[:300], y[:300])
    assert len(search.cv_results_["mean_test_score"]) == 2
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    assert search.best_estimator_.named_steps["adversarialautoencoder"].n_iter_ == 3


def test_unsupervised_search_uses_the_reconstruction_score(digits):
    X, _ = digits
    search = GridSearchCV(small(), {"n_components": [1, 8]}, cv=2)
    search.fit(X[:300])
    # A larger code reconstructs better, and the score says so.
    assert search.best_params_ == {"n_components": 8}


def test_cross_val_score(digits):
    X, y = digits
    scores = cross_val_score(
        make_pipeline(small(n_components=4), LogisticRegression(max_iter=200)), X[:300], y[:300], cv=3
    )
    assert scores.shape == (3,) and (scores > 0.2).all()


@pytest.mark.parametrize("dump", ["pickle", "joblib"])
def test_fitted_model_round_trips(digits, dump, tmp_path):
    X, y = digits
    model = small(prior="mixture").fit(X[:200], y[:200])
    if dump == "pickle":
        loaded = pickle.loads(pickle.dumps(model))
    else:
        joblib.dump(model, tmp_path / "model.joblib")
        loaded = joblib.load(tmp_path / "model.joblib")
    np.testing.assert_array_equal(loaded.transform(X[:50]), model.transform(X[:50]))
    np.testing.assert_array_equal(
        loaded.sample(5, y=3, random_state=0), model.sample(5, y=3, random_state=0)
    )
    # The loaded model can keep training.
    loaded.set_params(warm_start=True).fit(X[:200], y[:200])
    assert loaded.n_iter_ == 6


def test_model_fitted_on_cuda_loads_on_a_cpu_only_machine(digits):
    X, _ = digits
    model = small().fit(X[:100])
    expected = model.transform(X[:10])
    # Pretend it was fitted on a GPU: the pickle records the device it came from.
    model.device_ = torch.device("cuda")
    payload = pickle.dumps(model)
    with mock.patch("torch.cuda.is_available", return_value=False):
        with pytest.warns(RuntimeWarning, match="not available here; it was loaded on the CPU"):
            loaded = pickle.loads(payload)
    assert loaded.device_ == torch.device("cpu")
    assert all(p.device.type == "cpu" for p in loaded.encoder_.parameters())
    np.testing.assert_array_equal(loaded.transform(X[:10]), expected)


def test_pickle_stores_cpu_tensors_whatever_the_device(digits, monkeypatch):
    X, _ = digits
    model = small().fit(X[:100])
    encoder = model.encoder_
    model.device_ = torch.device("cuda")
    state = model.__getstate__()
    assert state["device_"] == "cuda"
    assert all(p.device.type == "cpu" for p in state["encoder_"].parameters())
    # The live model was not touched.
    assert model.device_ == torch.device("cuda")
    assert model.encoder_ is encoder and model._networks["encoder"] is encoder


def test_pickling_leaves_the_live_model_training_as_before(digits):
    # Saving a model mid-way (a checkpoint) must not change how it continues.
    X, _ = digits
    saved, untouched = small(warm_start=True).fit(X[:200]), small(warm_start=True).fit(X[:200])
    pickle.dumps(saved)
    saved.fit(X[:200])
    untouched.fit(X[:200])
    np.testing.assert_array_equal(saved.transform(X[:20]), untouched.transform(X[:20]))


def test_a_pickle_from_before_the_adversarial_step_was_renamed_trains_on(digits):
    # Before 0.2 the encoder's adversarial step was named "generator" in
    # history_; unpickled, the model continues under today's name.
    X, _ = digits
    model = small(warm_start=True).fit(X[:200])
    state = pickle.loads(pickle.dumps(model.__getstate__()))
    state["history_"] = [
        {("generator" if key == "adversarial" else key): value for key, value in record.items()}
        for record in state["history_"]
    ]
    old = AdversarialAutoencoder.__new__(AdversarialAutoencoder)
    old.__setstate__(state)
    assert all("adversarial" in r and "generator" not in r for r in old.history_)
    assert [r["adversarial"] for r in old.history_] == [r["adversarial"] for r in model.history_]
    today = pickle.loads(pickle.dumps(model))
    old.fit(X[:200])
    today.fit(X[:200])
    assert len(old.history_) == 6 and "generator" not in old.history_[-1]
    np.testing.assert_array_equal(old.transform(X[:20]), today.transform(X[:20]))
    old.partial_fit(X[:200])
    assert set(old.history_[-1]) == set(today.history_[-1])


def test_unfitted_model_pickles(digits):
    model = small()
    assert pickle.loads(pickle.dumps(model)).get_params() == model.get_params()


def test_torch_save_of_a_module_parameter_is_not_required():
    # Estimators holding user modules as parameters still clone and pickle.
    encoder = torch.nn.Linear(64, 2)
    model = small(encoder=encoder)
    copy = clone(model)
    assert copy.encoder is not encoder
    buffer = io.BytesIO()
    pickle.dump(model, buffer)
    assert pickle.loads(buffer.getvalue()).encoder.out_features == 2


def test_a_pickle_from_before_checkpoints_and_auto_losses_still_works(digits):
    X, _ = digits
    model = AdversarialAutoencoder(
        hidden_layer_sizes=(16,), discriminator_hidden_layer_sizes=(16,), max_epochs=1,
        device="cpu", random_state=0,
    ).fit(X)
    state = model.__getstate__()
    del state["checkpoint"], state["reconstruction_loss_"]  # what older versions pickled
    old = AdversarialAutoencoder.__new__(AdversarialAutoencoder)
    old.__setstate__(state)
    assert old.get_params()["checkpoint"] is None
    np.testing.assert_allclose(old.score_samples(X[:20]), model.score_samples(X[:20]))
