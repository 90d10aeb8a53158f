"""skaae: scikit-learn compatible adversarial autoencoders on PyTorch."""

from ._aae import AdversarialAutoencoder
from ._semi import ClusteringAAE, SemiSupervisedAAE
from ._supervised import SupervisedAAE
from ._engine import TrainingDivergedError
from .persistence import load, save
from .priors import (
    CategoricalPrior,
    GaussianPrior,
    MixturePrior,
    Prior,
    SwissRollPrior,
    UmbrellaPrior,
    UniformPrior,
)

__version__ = "0.1.0"

__all__ = [
    "AdversarialAutoencoder",
    "SupervisedAAE",
    "SemiSupervisedAAE",
    "ClusteringAAE",
    "TrainingDivergedError",
    "save",
    "load",
    "Prior",
    "GaussianPrior",
    "MixturePrior",
    "UmbrellaPrior",
    "SwissRollPrior",
    "UniformPrior",
    "CategoricalPrior",
]
