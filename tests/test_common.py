"""scikit-learn's own estimator checks, for every estimator and the settings
that change what fit builds or what transform returns."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from skaae import AdversarialAutoencoder, ClusteringAAE, SemiSupervisedAAE, SupervisedAAE

SMALL = dict(
    hidden_layer_sizes=(16,),
    discriminator_hidden_layer_sizes=(16,),
    max_epochs=3,
    batch_size=32,
    device="cpu",
)

# Classifier and clusterer checks demand real accuracy on easy blobs: more epochs
# and a higher learning rate than the transformer checks need.
CHECKED = dict(SMALL, max_epochs=30, learning_rate_init=1e-2)

EXPECTED_FAILURES = {
    "AdversarialAutoencoder": {},
    "SupervisedAAE": {
        # The check trains with max_epochs=3 on 300 points and wants 83% training
        # accuracy on 3 blobs; a generative classifier learns from the adversarial
        # pressure on its code, which 30 mini-batches do not build (47% here; the
        # defaults reach 86%). test_held_out_accuracy_is_far_above_chance in
        # test_supervised.py checks the accuracy on digits.
        "check_classifiers_train": "too few epochs to reach 83% training accuracy",
        # The check ends with the binary labels [-1, 1]; skaae keeps -1 for
        # "unlabeled", which SupervisedAAE rejects. String and object labels
        # are covered by test_string_labels_give_the_same_model_as_integer_labels.
        "check_classifiers_classes": "-1 marks an unlabeled sample in skaae",
    },
    "SemiSupervisedAAE": {
        # The check fits binary labels [-1, 1]; -1 marks an unlabeled sample here,
        # as in sklearn.semi_supervised, so only one class remains.
        "check_classifiers_classes": "-1 means 'unlabeled', not a class",
    },
    "ClusteringAAE": {
        # labels_ index the categories of the categorical code (the columns of
        # predict_proba, the y of sample); a category the model leaves empty is
        # not renumbered away, so labels need not be consecutive.
        "check_clustering": "cluster labels are code categories, not renumbered",
    },
}


@parametrize_with_checks(
    [
        AdversarialAutoencoder(**SMALL),
        AdversarialAutoencoder(encoder_type="gaussian", prior="mixture", **SMALL),
        AdversarialAutoencoder(
            encoder_type="universal", dropout=0.2, input_noise=0.1, early_stopping=True,
            **SMALL,
        ),
        SupervisedAAE(**SMALL),
        SemiSupervisedAAE(**CHECKED),
        ClusteringAAE(n_clusters=3, neighbor_weight=0.0, **CHECKED),
        # The neighbour and consistency steps and the cluster heads change what
        # fit builds and what transform returns.
        SemiSupervisedAAE(neighbor_weight=1.0, consistency_weight=1.0, **CHECKED),
        ClusteringAAE(n_clusters=3, head_distance=4.0, neighbor_weight=1.0, **CHECKED),
    ],
    expected_failed_checks=lambda estimator: EXPECTED_FAILURES[type(estimator).__name__],
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
