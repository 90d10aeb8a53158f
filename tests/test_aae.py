"""Behaviour of AdversarialAutoencoder that users rely on."""

import sys

import numpy as np
import pytest
import torch
from sklearn.exceptions import ConvergenceWarning

from skaae import AdversarialAutoencoder, GaussianPrior, MixturePrior


def small(**params):
    defaults = dict(
        hidden_layer_sizes=(64,),
        discriminator_hidden_layer_sizes=(64,),
        max_epochs=3,
        device="cpu",
        random_state=0,
    )
    defaults.update(params)
    return AdversarialAutoencoder(**defaults)


@pytest.fixture(scope="module")
def fitted(digits):
    X, _ = digits
    return small(n_components=3).fit(X[:300])


def test_fit_returns_self_and_sets_fitted_attributes(digits):
    X, _ = digits
    model = small()
    assert model.fit(X[:200]) is model
    assert model.n_features_in_ == 64
    assert model.n_iter_ == 3 and len(model.history_) == 3
    assert set(model.history_[0]) >= {"epoch", "reconstruction", "discriminator", "adversarial"}
    assert isinstance(model.prior_, GaussianPrior)
    assert not hasattr(model, "classes_")


def test_training_lowers_the_reconstruction_loss(digits):
    X, _ = digits
    model = small(max_epochs=8).fit(X[:500])
    first, last = model.history_[0]["reconstruction"], model.history_[-1]["reconstruction"]
    assert last < 0.7 * first


def test_transform_is_batch_invariant(fitted, digits):
    X, _ = digits
    whole = fitted.transform(X[:600])
    one_by_one = np.vstack([fitted.transform(X[i : i + 1]) for i in range(0, 600, 37)])
    np.testing.assert_array_equal(whole[::37], one_by_one)
    np.testing.assert_array_equal(fitted.transform(X[:600][::-1])[::-1], whole)


def test_transform_is_deterministic(fitted, digits):
    X, _ = digits
    np.testing.assert_array_equal(fitted.transform(X[:50]), fitted.transform(X[:50]))


@pytest.mark.parametrize("encoder_type", ["gaussian", "universal"])
def test_stochastic_encoders_have_a_deterministic_transform(digits, encoder_type):
    X, _ = digits
    model = small(encoder_type=encoder_type).fit(X[:200])
    codes = model.transform(X[:300])
    np.testing.assert_array_equal(codes, model.transform(X[:300]))
    np.testing.assert_array_equal(codes[:7], model.transform(X[:7]))
    # The training code is a draw around the posterior mean, not the mean itself.
    encoder = model.encoder_
    encoder.generator = torch.Generator().manual_seed(0)
    x = torch.as_tensor(X[:20], dtype=torch.float32)
    with torch.no_grad():
        drawn = encoder(x).numpy()
    assert not np.allclose(drawn, codes[:20])


def test_same_random_state_gives_identical_models(digits):
    X, _ = digits
    a = small(dropout=0.2, input_noise=0.1).fit_transform(X[:200])
    b = small(dropout=0.2, input_noise=0.1).fit_transform(X[:200])
    c = small(dropout=0.2, input_noise=0.1, random_state=1).fit_transform(X[:200])
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_fit_does_not_touch_torch_global_random_state(digits):
    X, _ = digits
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    small(dropout=0.1).fit(X[:100])
    np.testing.assert_array_equal(torch.rand(3), expected)


def test_gaussian_prior_shapes_the_code_far_better_than_no_adversary(digits):
    X, _ = digits
    params = dict(
        n_components=2, hidden_layer_sizes=(128, 128),
        discriminator_hidden_layer_sizes=(128, 128), max_epochs=25,
        prior=GaussianPrior(scale=1.0),
    )
    adversarial = small(**params).fit_transform(X)
    plain = small(adversarial_weight=0.0, **params).fit_transform(X)

    def distance_to_prior(codes):
        # Frobenius distance of (mean, covariance) from N(0, I).
        return np.linalg.norm(codes.mean(0)) + np.linalg.norm(np.cov(codes.T) - np.eye(2))

    # Across seeds the adversarial code is 2.5 to 12 times closer to N(0, I)
    # than the plain autoencoder's (measured over four seeds at these settings).
    assert distance_to_prior(adversarial) < 0.35
    assert distance_to_prior(adversarial) < 0.4 * distance_to_prior(plain)


def test_label_aware_mixture_puts_each_class_on_its_own_mode(digits):
    X, y = digits
    model = small(
        n_components=2, prior="mixture", hidden_layer_sizes=(256, 256),
        discriminator_hidden_layer_sizes=(256, 256), max_epochs=40,
    ).fit(X, y)
    assert isinstance(model.prior_, MixturePrior) and model.prior_.n_modes == 10
    codes = model.transform(X)
    means = model.prior_.means(2).numpy()
    nearest = ((codes[:, None, :] - means[None]) ** 2).sum(-1).argmin(1)
    assert (nearest == y).mean() > 0.85
    # Every class has its majority on its own mode.
    for label in range(10):
        assert np.bincount(nearest[y == label], minlength=10).argmax() == label


def test_label_aware_training_accepts_unlabeled_samples(digits):
    X, y = digits
    partial = y.copy()
    partial[::2] = -1
    model = small(prior="mixture").fit(X[:300], partial[:300])
    np.testing.assert_array_equal(model.classes_, np.arange(10))
    assert model.discriminator_[0].in_features == 2 + 11  # code + one-hot with "unlabeled"


def test_string_labels_work_for_label_aware_training(digits):
    X, y = digits
    names = np.array(list("abcdefghij"))[y[:200]]
    model = small(prior="mixture").fit(X[:200], names)
    assert list(model.classes_) == list("abcdefghij")
    assert model.sample(4, y="c", random_state=0).shape == (4, 64)


def test_sample_is_reproducible_and_decodes_prior_draws(fitted):
    a = fitted.sample(16, random_state=0)
    assert a.shape == (16, 64) and np.isfinite(a).all()
    np.testing.assert_array_equal(a, fitted.sample(16, random_state=0))
    assert not np.allclose(a, fitted.sample(16, random_state=1))
    codes = fitted._draw_codes(16, None, 0)
    np.testing.assert_allclose(a, fitted.inverse_transform(codes), rtol=1e-6)


def test_class_conditional_sampling_draws_from_the_class_mode(digits):
    X, y = digits
    model = small(n_components=2, prior="mixture").fit(X[:300], y[:300])
    means = model.prior_.means(2).numpy()
    codes = model._draw_codes(200, np.full(200, 7), 0)
    # Neighbouring modes are 2.5 standard deviations from the midpoint between them.
    assert (((codes[:, None] - means[None]) ** 2).sum(-1).argmin(1) == 7).mean() > 0.95
    assert model.sample(5, y=[0, 1, 2, 3, 4], random_state=0).shape == (5, 64)


def test_inverse_transform_reconstructs(digits):
    X, _ = digits
    model = small(n_components=8, max_epochs=10).fit(X[:500])
    reconstruction = model.inverse_transform(model.transform(X[:500]))
    assert reconstruction.shape == (500, 64)
    error = ((reconstruction - X[:500]) ** 2).mean()
    assert error < X[:500].var(axis=0).mean()
    np.testing.assert_allclose(-error, model.score(X[:500]), rtol=1e-4)


def test_bce_decodes_into_the_unit_interval(digits):
    X, _ = digits
    model = small(reconstruction_loss="bce").fit(X[:200])
    decoded = model.inverse_transform(model.transform(X[:50]))
    assert decoded.min() >= 0 and decoded.max() <= 1


def test_auto_reconstruction_loss_picks_bce_inside_the_unit_interval_and_mse_outside(digits):
    X, _ = digits
    inside = small(reconstruction_loss="auto", max_epochs=1).fit(X[:200])
    outside = small(reconstruction_loss="auto", max_epochs=1).fit(X[:200] * 2 - 1)
    assert inside.reconstruction_loss_ == "bce" and outside.reconstruction_loss_ == "mse"
    decoded = inside.inverse_transform(inside.transform(X[:50]))
    assert decoded.min() >= 0 and decoded.max() <= 1
    assert outside.inverse_transform(outside.transform(X[:50] * 2 - 1)).min() < 0
    # Continued training keeps the loss the first fit chose, with its range check.
    inside.set_params(warm_start=True)
    with pytest.raises(ValueError, match=r"needs every value of X in \[0, 1\]"):
        inside.fit(X[:200] * 2)


def test_score_samples_flags_anomalies(digits):
    X, _ = digits
    model = small(max_epochs=10).fit(X[:500])
    rng = np.random.RandomState(0)
    noise = rng.uniform(0, 1, size=(50, 64))
    assert model.score_samples(X[500:550]).mean() > model.score_samples(noise).mean()
    assert model.score_samples(X[:5]).shape == (5,)


def test_output_dtype_follows_input(fitted, digits):
    X, _ = digits
    assert fitted.transform(X[:5].astype(np.float32)).dtype == np.float32
    assert fitted.transform(X[:5]).dtype == np.float64


def test_feature_names_out(fitted):
    names = fitted.get_feature_names_out()
    assert list(names) == [f"adversarialautoencoder{i}" for i in range(3)]


def test_set_output_pandas(digits):
    pd = pytest.importorskip("pandas")
    X, _ = digits
    frame = pd.DataFrame(X[:100], columns=[f"pixel{i}" for i in range(64)])
    model = small().set_output(transform="pandas").fit(frame)
    codes = model.transform(frame)
    assert isinstance(codes, pd.DataFrame)
    assert list(codes.columns) == ["adversarialautoencoder0", "adversarialautoencoder1"]
    assert list(model.feature_names_in_) == list(frame.columns)


def test_early_stopping_restores_the_best_weights(digits):
    X, _ = digits
    model = small(
        early_stopping=True, n_iter_no_change=2, max_epochs=200, learning_rate_init=3e-2,
    ).fit(X[:400])
    assert model.n_iter_ < 200
    losses = [h["validation_loss"] for h in model.history_]
    assert model.best_validation_loss_ == min(losses)
    assert losses[-1] > model.best_validation_loss_ or model.n_iter_ < 200
    # The kept weights are those of the best epoch: recompute its validation loss.
    rng_split = torch.Generator().manual_seed(
        int(np.random.RandomState(0).randint(np.iinfo(np.int32).max))
    )
    order = torch.randperm(400, generator=rng_split)
    held_out = X[:400][order[: round(0.1 * 400)].numpy()]
    assert -model.score(held_out) == pytest.approx(model.best_validation_loss_, rel=1e-4)


def test_early_stopping_warns_when_still_improving(digits):
    X, _ = digits
    with pytest.warns(ConvergenceWarning, match="max_epochs"):
        small(early_stopping=True, max_epochs=2, n_iter_no_change=5).fit(X[:200])


def test_warm_start_continues_training(digits):
    X, _ = digits
    model = small(warm_start=True, max_epochs=2).fit(X[:300])
    encoder = model.encoder_
    model.fit(X[:300])
    assert model.n_iter_ == 4 and model.encoder_ is encoder
    fresh = small(max_epochs=2).fit(X[:300])
    fresh.fit(X[:300])
    assert fresh.n_iter_ == 2


def test_refit_without_warm_start_starts_over(digits):
    X, _ = digits
    model = small(max_epochs=2)
    first = model.fit(X[:200]).transform(X[:20])
    second = model.fit(X[:200]).transform(X[:20])
    np.testing.assert_array_equal(first, second)


def test_partial_fit_trains_one_epoch_per_call(digits):
    X, y = digits
    model = small()
    for chunk in np.array_split(np.arange(600), 3):
        model.partial_fit(X[chunk])
    assert model.n_iter_ == 3
    labelled = small(prior="mixture")
    labelled.partial_fit(X[:100], y[:100], classes=np.arange(10))
    labelled.partial_fit(X[100:200], y[100:200])
    np.testing.assert_array_equal(labelled.classes_, np.arange(10))


def test_weights_change_in_training_and_stay_fixed_in_inference(digits):
    X, _ = digits
    model = small(max_epochs=1).fit(X[:100])
    before = {k: v.clone() for k, v in model.encoder_.state_dict().items()}
    model.transform(X[:100])
    model.score(X[:100])
    model.sample(5)
    for key, value in model.encoder_.state_dict().items():
        torch.testing.assert_close(value, before[key], rtol=0, atol=0)
    model.set_params(warm_start=True).fit(X[:100])
    assert any(
        not torch.equal(value, before[key]) for key, value in model.encoder_.state_dict().items()
    )


def test_zero_adversarial_weight_skips_the_adversarial_step(digits):
    X, _ = digits
    model = small(adversarial_weight=0.0).fit(X[:100])
    assert "adversarial" not in model.history_[0]


def test_custom_networks_modules_and_factories(digits):
    X, _ = digits
    encoder = torch.nn.Sequential(torch.nn.Linear(64, 32), torch.nn.Tanh(), torch.nn.Linear(32, 2))
    original = {k: v.clone() for k, v in encoder.state_dict().items()}

    def decoder_factory(n_inputs, n_outputs):
        return torch.nn.Sequential(torch.nn.Linear(n_inputs, 48), torch.nn.ReLU(),
                                   torch.nn.Linear(48, n_outputs))

    model = small(encoder=encoder, decoder=decoder_factory).fit(X[:200])
    assert model.encoder_.body[0].out_features == 32
    assert model.decoder_.body[0].out_features == 48
    # The user's module is copied, never trained in place.
    for key, value in encoder.state_dict().items():
        assert torch.equal(value, original[key])
    assert model.transform(X[:5]).shape == (5, 2)


def test_custom_factory_must_return_a_module(digits):
    X, _ = digits
    with pytest.raises(TypeError, match="expected a torch.nn.Module"):
        small(discriminator=lambda n_in, n_out: "not a module").fit(X[:50])


def test_verbose_levels(digits, capsys):
    X, _ = digits
    small(verbose=0, max_epochs=2).fit(X[:100])
    assert capsys.readouterr().err == ""
    small(verbose=2, max_epochs=2).fit(X[:100])
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 2 and "reconstruction" in lines[0] and "samples/s" in lines[0]
    # Where stderr is a file or a pipe, as under pytest, the bar becomes lines.
    small(verbose=1, max_epochs=2).fit(X[:100])
    logged = capsys.readouterr().err
    assert "\r" not in logged
    assert [line.split("|")[1] for line in logged.strip().splitlines()] == \
        [line.split("|")[1] for line in lines]  # the same losses, line by line


def test_verbose_one_draws_a_tqdm_bar_on_a_terminal(digits, capsys, monkeypatch):
    X, _ = digits
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    small(verbose=1, max_epochs=2).fit(X[:100])
    bar = capsys.readouterr().err
    assert "epoch 2/2" in bar and "100%" in bar and "reconstruction" in bar


def test_keyboard_interrupt_keeps_the_model_trained_so_far(digits, monkeypatch):
    X, _ = digits
    model = small(max_epochs=50, batch_size=50)
    calls = {"n": 0}
    original = AdversarialAutoencoder._noisy_input

    def interrupt_on_the_30th_batch(self, x, generator):
        calls["n"] += 1
        if calls["n"] == 30:
            raise KeyboardInterrupt
        return original(self, x, generator)

    monkeypatch.setattr(AdversarialAutoencoder, "_noisy_input", interrupt_on_the_30th_batch)
    with pytest.warns(RuntimeWarning, match="interrupted"):
        model.fit(X[:200])
    assert 1 <= model.n_iter_ < 50
    assert np.isfinite(model.transform(X[:10])).all()


def test_losses_are_read_once_per_epoch(digits, monkeypatch):
    # No host sync inside the batch loop: Tensor.item / tolist run O(epochs) times.
    X, _ = digits
    counts = {"tolist": 0}
    original = torch.Tensor.tolist

    def counting_tolist(self):
        counts["tolist"] += 1
        return original(self)

    monkeypatch.setattr(torch.Tensor, "tolist", counting_tolist)
    small(max_epochs=3, batch_size=10).fit(X[:300])  # 30 batches per epoch
    assert counts["tolist"] <= 3


def test_continued_training_draws_new_shuffles(digits):
    # An integer random_state seeds the first call; later partial_fit calls go on
    # from it instead of repeating the same epoch.
    X, _ = digits
    model = small(random_state=0)
    model.partial_fit(X[:200])
    first = model.transform(X[:20])
    model.partial_fit(X[:200])
    replay = small(random_state=0)
    replay.partial_fit(X[:200])
    replay.partial_fit(X[:200])
    np.testing.assert_array_equal(model.transform(X[:20]), replay.transform(X[:20]))
    assert not np.allclose(first, model.transform(X[:20]))
    # Two further calls shuffle differently from the first two.
    rerun = small(random_state=0, batch_size=200)
    rerun.partial_fit(X[:200])
    position = rerun._random_state.get_state()[2]
    rerun.partial_fit(X[:200])
    assert rerun._random_state.get_state()[2] != position


def test_factory_networks_are_reproducible(digits):
    X, _ = digits

    def encoder_factory(n_inputs, n_outputs):
        return torch.nn.Sequential(torch.nn.Linear(n_inputs, 16), torch.nn.ReLU(),
                                   torch.nn.Linear(16, n_outputs))

    a = small(encoder=encoder_factory).fit_transform(X[:100])
    b = small(encoder=encoder_factory).fit_transform(X[:100])
    np.testing.assert_array_equal(a, b)


def test_sampling_by_class_needs_a_mode_per_class(digits):
    X, y = digits
    model = small(prior="gaussian").fit(X[:200], y[:200])
    with pytest.raises(ValueError, match="mode"):
        model.sample(3, y=2)


def test_divergence_message_says_what_happened_to_the_estimator(digits):
    from skaae import TrainingDivergedError

    class Exploding(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.linear = torch.nn.Linear(2, 64)

        def forward(self, z):
            return self.linear(z) * float("nan")

    X, _ = digits
    with pytest.raises(TrainingDivergedError, match="left unfitted"):
        small(decoder=Exploding()).fit(X[:100])


def test_bfloat16_precision_trains_to_a_similar_reconstruction(digits):
    X, _ = digits
    full = small(n_components=8, max_epochs=10).fit(X[:600])
    half = small(n_components=8, max_epochs=10, precision="bfloat16").fit(X[:600])
    assert half.transform(X[:5]).dtype == np.float64
    assert np.isfinite(half.transform(X[:100])).all()
    assert half.score(X[600:900]) > 1.25 * full.score(X[600:900])  # scores are negative


def test_auto_precision_resolves_per_device(digits):
    model = small(precision="auto")
    import skaae._base as base

    expected = torch.bfloat16 if base._bf16_is_fast(torch.device("cpu")) else None
    assert model._autocast_dtype(torch.device("cpu")) is expected
    assert small(precision="float32")._autocast_dtype(torch.device("cpu")) is None
    # On a GPU these networks trained slower under bf16 autocast: auto keeps float32.
    assert model._autocast_dtype(torch.device("cuda")) is None
    assert small(precision="bfloat16")._autocast_dtype(torch.device("cuda")) is torch.bfloat16


def test_a_weight_of_zero_leaves_its_step_out(digits):
    X, _ = digits
    model = small(max_epochs=1, discriminator_weight=0.0, adversarial_weight=0.0).fit(X[:100])
    assert set(model.history_[0]) == {"epoch", "reconstruction", "duration"}
    with pytest.raises(ValueError, match="Every step has a weight of 0"):
        small(max_epochs=1, reconstruction_weight=0.0, discriminator_weight=0.0,
              adversarial_weight=0.0).fit(X[:100])


def test_partial_fit_reads_a_y_without_labels_as_no_labels(digits):
    # dask-ml's HyperbandSearchCV always passes a y: one of -1s says "no labels".
    X, _ = digits
    unlabeled = small().partial_fit(X[:200], np.full(200, -1))
    plain = small().partial_fit(X[:200])
    assert getattr(unlabeled, "classes_", None) is None
    np.testing.assert_array_equal(unlabeled.transform(X[:20]), plain.transform(X[:20]))
    unlabeled.partial_fit(X[200:400], np.full(200, -1))
    assert unlabeled.n_iter_ == 2
