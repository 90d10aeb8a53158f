"""Behaviour of SupervisedAAE (the paper's Fig. 6) that users rely on."""

import pickle

import numpy as np
import pytest
import torch
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_score, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler
from threadpoolctl import threadpool_limits

from skaae import AdversarialAutoencoder
from skaae._supervised import SupervisedAAE


def small(**params):
    defaults = dict(
        hidden_layer_sizes=(64,),
        discriminator_hidden_layer_sizes=(64,),
        max_epochs=3,
        device="cpu",
        random_state=0,
    )
    defaults.update(params)
    return SupervisedAAE(**defaults)


# Settings of the quality tests: about 2 s of training on 1347 digits.
TRAINED = dict(
    n_components=2,
    hidden_layer_sizes=(128, 128),
    discriminator_hidden_layer_sizes=(128, 128),
    max_epochs=20,
    device="cpu",
    random_state=0,
)


@pytest.fixture(scope="module", autouse=True)
def one_blas_thread():
    # As conftest does for torch: the logistic regressions below run 40 times
    # slower when two BLAS threads compete for two busy cores.
    with threadpool_limits(1):
        yield


@pytest.fixture(scope="module")
def split(digits):
    X, y = digits
    return train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)


@pytest.fixture(scope="module")
def trained(split):
    X_train, _, y_train, _ = split
    return SupervisedAAE(**TRAINED).fit(X_train, y_train)


@pytest.fixture(scope="module")
def recogniser(digits):
    # A plain classifier of real digits judges what the model draws.
    X, y = digits
    return LogisticRegression(max_iter=2000).fit(X, y)


@pytest.fixture(scope="module")
def fitted(digits):
    X, y = digits
    return small().fit(X[:500], y[:500])


def test_fit_sets_classes_and_wires_the_label_into_decoder_and_discriminator(fitted):
    np.testing.assert_array_equal(fitted.classes_, np.arange(10))
    assert fitted.n_features_in_ == 64 and fitted.n_iter_ == 3
    assert set(fitted.history_[0]) >= {"reconstruction", "discriminator", "adversarial"}
    assert fitted.decoder_.body[0].in_features == 2 + 10  # style, then one-hot label
    assert fitted.discriminator_[0].in_features == 2 + 10  # style, then one-hot label
    assert fitted.encoder_.body[-1].out_features == 2


def test_the_papers_discriminator_sees_the_style_alone(digits):
    X, y = digits
    model = small(conditional_discriminator=False, max_epochs=1).fit(X[:300], y[:300])
    assert model.discriminator_[0].in_features == 2


def test_predict_and_predict_proba_shapes_and_rows_sum_to_one(fitted, digits):
    X, y = digits
    proba = fitted.predict_proba(X[500:620])
    assert proba.shape == (120, 10) and proba.dtype == np.float64
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)
    assert (proba >= 0).all()
    predicted = fitted.predict(X[500:620])
    assert predicted.shape == (120,)
    np.testing.assert_array_equal(fitted.classes_[proba.argmax(axis=1)], predicted)


def test_predict_proba_is_the_softmax_of_the_per_class_reconstruction_error(fitted, digits):
    X, _ = digits
    x = X[600:640]
    codes = fitted.transform(x)
    errors = np.stack(
        [((fitted.inverse_transform(codes, y=k) - x) ** 2).mean(axis=1) for k in range(10)],
        axis=1,
    )
    logits = -64 * errors
    expected = np.exp(logits - logits.max(axis=1, keepdims=True))
    expected /= expected.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(fitted.predict_proba(x), expected, rtol=1e-3, atol=1e-6)
    np.testing.assert_array_equal(fitted.predict(x), errors.argmin(axis=1))


def test_score_is_accuracy_and_the_model_can_end_a_pipeline(fitted, digits):
    X, y = digits
    accuracy = np.mean(fitted.predict(X[500:700]) == y[500:700])
    assert fitted.score(X[500:700], y[500:700]) == pytest.approx(accuracy)
    pipeline = make_pipeline(MinMaxScaler(), small()).fit(X[:500] * 16, y[:500])
    assert pipeline.score(X[500:700] * 16, y[500:700]) == pytest.approx(
        np.mean(pipeline.predict(X[500:700] * 16) == y[500:700])
    )


def test_score_samples_is_the_best_class_reconstruction(fitted, digits):
    X, _ = digits
    x = X[500:560]
    rendered = fitted.inverse_transform(fitted.transform(x), y=fitted.predict(x))
    np.testing.assert_allclose(
        -fitted.score_samples(x), ((rendered - x) ** 2).mean(axis=1), rtol=1e-4
    )


def test_string_labels_give_the_same_model_as_integer_labels(fitted, digits):
    X, y = digits
    letters = np.array(list("abcdefghij"))
    for names in (letters[y[:500]], letters[y[:500]].astype(object)):
        model = small().fit(X[:500], names)
        assert list(model.classes_) == list("abcdefghij")
        x = X[500:600]
        np.testing.assert_array_equal(model.predict_proba(x), fitted.predict_proba(x))
        np.testing.assert_array_equal(model.predict(x), letters[fitted.predict(x)])
        np.testing.assert_array_equal(
            model.sample(4, y="c", random_state=0), fitted.sample(4, y=2, random_state=0)
        )


def test_predictions_are_batch_invariant(fitted, digits):
    X, _ = digits
    whole = fitted.predict_proba(X[:600])
    one_by_one = np.vstack([fitted.predict_proba(X[i : i + 1]) for i in range(0, 600, 37)])
    np.testing.assert_array_equal(whole[::37], one_by_one)
    codes = np.vstack([fitted.transform(X[i : i + 1]) for i in range(0, 600, 37)])
    np.testing.assert_array_equal(fitted.transform(X[:600])[::37], codes)


def test_same_random_state_gives_identical_models(digits):
    X, y = digits
    a = small(max_epochs=2).fit(X[:200], y[:200]).predict_proba(X[:50])
    b = small(max_epochs=2).fit(X[:200], y[:200]).predict_proba(X[:50])
    c = small(max_epochs=2, random_state=1).fit(X[:200], y[:200]).predict_proba(X[:50])
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_held_out_accuracy_is_far_above_chance(trained, split):
    # Measured 0.92 to 0.95 over random_state 0-7; chance is 0.1.
    _, X_test, _, y_test = split
    assert trained.score(X_test, y_test) > 0.8


def test_samples_drawn_for_a_class_are_recognised_as_that_class(trained, recogniser):
    # Measured 0.85 to 0.98 over random_state 0-7 (0.96-0.97 with the default
    # 512-unit networks and 50 epochs); the threes alone 0.76 to 0.98.
    wanted = np.repeat(np.arange(10), 50)
    drawn = trained.sample(500, y=wanted, random_state=0)
    assert drawn.shape == (500, 64)
    assert np.mean(recogniser.predict(drawn) == wanted) > 0.8
    threes = trained.sample(50, y=3, random_state=1)
    assert np.mean(recogniser.predict(threes) == 3) > 0.7


def test_sample_decodes_prior_draws_under_the_requested_classes(trained):
    drawn = trained.sample(10, y=range(10), random_state=0)
    codes = trained._draw_codes(10, None, np.random.RandomState(0))
    np.testing.assert_array_equal(drawn, trained.inverse_transform(codes, y=range(10)))
    np.testing.assert_array_equal(drawn, trained.sample(10, y=range(10), random_state=0))
    assert not np.allclose(drawn, trained.sample(10, y=range(10), random_state=1))


def test_sample_without_y_draws_classes_uniformly(trained, recogniser):
    counts = np.bincount(recogniser.predict(trained.sample(500, random_state=0)), minlength=10)
    assert counts.min() > 20 and counts.max() < 90  # 50 each on average


def test_style_code_carries_little_class_information(trained, split):
    # A linear read-out of the class from the code: measured 0.34-0.42 for the
    # style code and 0.59-0.68 for an AdversarialAutoencoder's code (random_state 0-7).
    X_train, X_test, y_train, y_test = split
    plain = AdversarialAutoencoder(**TRAINED).fit(X_train)

    def class_information(model):
        readout = LogisticRegression(max_iter=2000).fit(model.transform(X_train), y_train)
        return readout.score(model.transform(X_test), y_test)

    style = class_information(trained)
    assert style < 0.55
    assert style < class_information(plain) - 0.1


def test_inverse_transform_renders_one_style_in_every_class(trained, split, recogniser):
    _, X_test, _, _ = split
    # Measured 0.85 to 0.99 over random_state 0-7.
    styles = trained.transform(X_test[:20])
    classes = np.tile(np.arange(10), 20)
    rendered = trained.inverse_transform(np.repeat(styles, 10, axis=0), y=classes)
    assert rendered.shape == (200, 64)
    assert np.mean(recogniser.predict(rendered) == classes) > 0.8
    # One label for all rows works too.
    np.testing.assert_array_equal(trained.inverse_transform(styles, y=4), rendered[4::10])


def test_pickle_round_trip(fitted, digits):
    X, _ = digits
    restored = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(restored.predict_proba(X[:50]), fitted.predict_proba(X[:50]))
    np.testing.assert_array_equal(restored.transform(X[:50]), fitted.transform(X[:50]))
    np.testing.assert_array_equal(
        restored.sample(5, y=1, random_state=0), fitted.sample(5, y=1, random_state=0)
    )
    np.testing.assert_array_equal(restored.classes_, fitted.classes_)


def test_partial_fit_requires_labels_on_every_call(digits):
    X, y = digits
    model = small()
    model.partial_fit(X[:100], y[:100], classes=np.arange(10))
    model.partial_fit(X[100:200], y[100:200])
    assert model.n_iter_ == 2
    np.testing.assert_array_equal(model.classes_, np.arange(10))
    with pytest.raises(ValueError, match="requires y"):
        model.partial_fit(X[200:300])


def test_early_stopping_scores_held_out_samples_under_their_true_class(digits):
    X, y = digits
    with pytest.warns(ConvergenceWarning):
        model = small(early_stopping=True, max_epochs=3).fit(X[:400], y[:400])
    # Recompute the held-out split and its error under the true labels.
    seed = np.random.RandomState(0).randint(np.iinfo(np.int32).max)
    order = torch.randperm(400, generator=torch.Generator().manual_seed(int(seed))).numpy()
    held_out = order[: round(0.1 * 400)]
    x, labels = X[:400][held_out], y[:400][held_out]
    rendered = model.inverse_transform(model.transform(x), y=labels)
    assert ((rendered - x) ** 2).mean() == pytest.approx(model.best_validation_loss_, rel=1e-4)


@pytest.mark.parametrize(
    "y, match",
    [
        (None, "requires y to be passed"),
        (np.where(np.arange(200) % 7 == 0, -1, np.arange(200) % 10), "-1"),
        (np.full(200, 3), "at least 2 classes in y; got 1 class"),
        (np.linspace(0, 1, 200), "Unknown label type"),
    ],
)
def test_fit_rejects_missing_partial_or_single_class_labels(digits, y, match):
    X, _ = digits
    model = small()
    with pytest.raises(ValueError, match=match):
        model.fit(X[:200], y)
    assert not hasattr(model, "classes_") and not hasattr(model, "encoder_")


def test_fit_without_y_says_y_is_required(digits):
    X, _ = digits
    with pytest.raises(ValueError, match="requires y"):
        small().fit(X[:100])


def test_decoding_needs_known_classes_and_matching_codes(fitted):
    codes = np.zeros((3, 2))
    with pytest.raises(ValueError, match="inverse_transform needs y"):
        fitted.inverse_transform(codes)
    with pytest.raises(ValueError, match="n_components=2"):
        fitted.inverse_transform(np.zeros((3, 5)), y=0)
    with pytest.raises(ValueError, match="not seen at the first fit"):
        fitted.sample(3, y=11)
    with pytest.raises(ValueError, match="not seen at the first fit"):
        fitted.inverse_transform(codes, y="seven")
    with pytest.raises(ValueError, match="not a class"):
        fitted.inverse_transform(codes, y=-1)
    with pytest.raises(ValueError, match="one label or one per row"):
        fitted.sample(3, y=[0, 1])
    with pytest.raises(ValueError, match="n_samples"):
        fitted.sample(0, y=1)


def test_unfitted_model_raises_not_fitted(digits):
    X, _ = digits
    model = small()
    for method in (model.predict, model.predict_proba, model.score_samples, model.transform):
        with pytest.raises(NotFittedError):
            method(X[:3])
    with pytest.raises(NotFittedError):
        model.sample(2, y=0)
    with pytest.raises(NotFittedError):
        model.inverse_transform(np.zeros((2, 2)), y=0)


def test_conditional_discriminator_keeps_the_class_out_of_the_style():
    # Two classes shift the inputs apart; a style of the same size as the true
    # one then also holds the class unless the discriminator, seeing the label,
    # asks every class's styles to look like the prior.
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 3000)
    style = rng.normal(size=(3000, 2))
    X = np.tanh(style @ rng.normal(size=(2, 8)) + 3 * y[:, None] * rng.normal(size=(1, 8)))
    leaks = {}
    for conditional in (True, False):
        # A constant rate: the decay slows this short fit's adversarial game.
        model = small(n_components=2, max_epochs=20, random_state=2, learning_rate_decay=0.0,
                      conditional_discriminator=conditional).fit(X, y)
        probe = LogisticRegression()
        leaks[conditional] = cross_val_score(probe, model.transform(X), y, cv=3).mean()
    assert leaks[True] < 0.65  # chance is 0.5
    assert leaks[False] > 0.75
