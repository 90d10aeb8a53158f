"""scikit-learn's own estimator checks."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from skaae import AdversarialAutoencoder

SMALL = dict(
    hidden_layer_sizes=(16,),
    discriminator_hidden_layer_sizes=(16,),
    max_epochs=3,
    batch_size=32,
    device="cpu",
)


@parametrize_with_checks(
    [
        AdversarialAutoencoder(**SMALL),
        AdversarialAutoencoder(encoder_type="gaussian", prior="mixture", **SMALL),
        AdversarialAutoencoder(
            encoder_type="universal", dropout=0.2, input_noise=0.1, early_stopping=True,
            **SMALL,
        ),
    ]
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
