"""Model files that run no code when loaded: :func:`save` and :func:`load`.

A pickle (or joblib) file can execute arbitrary code when it is loaded, so it
must only be loaded from a trusted source. :func:`save` writes a fitted
estimator as one `safetensors <https://huggingface.co/docs/safetensors>`_ file
instead: the networks' weights and the numeric fitted arrays as tensors, and the
constructor parameters and other fitted attributes as JSON in the file's
metadata. :func:`load` reads them back and rebuilds the networks from the
parameters; it only ever parses tensors and JSON.

What a file can hold is therefore plain data: parameters that are numbers,
strings, tuples, ``None`` or one of skaae's own priors. A model built with a
custom ``encoder`` module, a callable or a fitted scikit-learn prior is refused
by :func:`save` with an error that names the parameter; pickle it instead.

Optimizer states are not stored (as with pickles): a ``warm_start`` fit after
:func:`load` starts fresh optimizers.
"""

import json
import os
import warnings
from numbers import Integral, Real

import numpy as np
import torch
from safetensors import safe_open
from safetensors.torch import save_file
from sklearn.utils.validation import check_is_fitted

from . import priors as _priors
from ._checkpoint import numpy_state, restore_numpy_state, with_current_step_names
from ._files import write_atomically

__all__ = ["save", "load", "FORMAT_VERSION"]

#: Version of the file layout written by :func:`save`. :func:`load` reads this
#: version and older ones, and refuses files from a newer skaae.
FORMAT_VERSION = 1
_FORMAT_NAME = "skaae-model"
_NETWORK = "network/"
_ARRAY = "array/"
_PRIOR_CLASSES = {
    cls.__name__: cls
    for cls in (
        _priors.GaussianPrior, _priors.MixturePrior, _priors.UmbrellaPrior,
        _priors.SwissRollPrior, _priors.UniformPrior, _priors.CategoricalPrior,
    )
}


def _estimator_classes():
    # Imported here: the estimators' modules import this package's others.
    from . import AdversarialAutoencoder, ClusteringAAE, SemiSupervisedAAE, SupervisedAAE

    return {
        cls.__name__: cls
        for cls in (AdversarialAutoencoder, SupervisedAAE, SemiSupervisedAAE, ClusteringAAE)
    }


# -- plain data <-> JSON ---------------------------------------------------------
def _to_json(value, what):
    """``value`` as JSON-ready data, tagging what JSON would lose (tuples, arrays,
    priors); ``ValueError`` naming ``what`` for anything that is not plain data."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bytes):
        return {"bytes": value.decode("latin-1")}
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, os.PathLike):  # a checkpoint path
        return os.fspath(value)
    if isinstance(value, Integral):
        return int(value)
    if isinstance(value, Real):
        return float(value)
    if isinstance(value, tuple):
        return {"tuple": [_to_json(v, what) for v in value]}
    if isinstance(value, list):
        return [_to_json(v, what) for v in value]
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {"dict": {k: _to_json(v, what) for k, v in value.items()}}
    if isinstance(value, np.ndarray) and value.dtype.kind in "OUSb" and value.ndim == 1:
        return {"array": [_to_json(v, what) for v in value.tolist()],
                "dtype": "object" if value.dtype.kind == "O" else value.dtype.str}
    if type(value) in _PRIOR_CLASSES.values():
        return {"prior": type(value).__name__,
                "params": {k: _to_json(v, what) for k, v in vars(value).items()}}
    raise ValueError(
        f"skaae.save stores plain data only, and {what} is a {type(value).__name__}. "
        "Models with custom networks, callables or fitted scikit-learn priors can be "
        "saved with pickle or joblib (load those from trusted sources only)."
    )


def _from_json(value):
    if isinstance(value, list):
        return [_from_json(v) for v in value]
    if not isinstance(value, dict):
        return value
    if "tuple" in value:
        return tuple(_from_json(v) for v in value["tuple"])
    if "dict" in value:
        return {k: _from_json(v) for k, v in value["dict"].items()}
    if "bytes" in value:
        return value["bytes"].encode("latin-1")
    if "array" in value:
        return np.array([_from_json(v) for v in value["array"]], dtype=np.dtype(value["dtype"]))
    if "prior" in value:
        if value["prior"] not in _PRIOR_CLASSES:
            raise ValueError(f"Unknown prior {value['prior']!r} in the model file.")
        return _PRIOR_CLASSES[value["prior"]](**{k: _from_json(v) for k, v in value["params"].items()})
    raise ValueError(f"Unreadable value in the model file: {value!r}")


# -- save -------------------------------------------------------------------------
def save(estimator, path):
    """Write a fitted skaae estimator to ``path`` as a safetensors file.

    Parameters
    ----------
    estimator : AdversarialAutoencoder, SupervisedAAE, SemiSupervisedAAE or ClusteringAAE
        A fitted estimator whose parameters are plain data (see the module's
        description).
    path : str or path-like
        The file to write. It is written next to its final place and then
        renamed, so a crash never leaves a half-written file at ``path``.

    Raises
    ------
    ValueError
        A parameter or fitted attribute is not plain data (a custom network,
        a callable, a fitted scikit-learn prior).
    """
    if type(estimator) not in _estimator_classes().values():
        raise TypeError(f"skaae.save writes skaae estimators; got {type(estimator).__name__}.")
    check_is_fitted(estimator)
    params = {
        name: _to_json(value, f"the parameter {name}")
        for name, value in estimator.get_params(deep=False).items()
    }
    networks = estimator._networks
    tensors, attributes = {}, {}
    for key, net in networks.items():
        for name, tensor in net.state_dict().items():
            tensors[f"{_NETWORK}{key}/{name}"] = tensor.detach().to("cpu").clone().contiguous()
    for name, value in vars(estimator).items():
        if not name.endswith("_") or name.startswith("_") or name[:-1] in networks:
            continue
        if name == "prior_":
            continue  # rebuilt from the prior parameter
        if name == "device_":
            attributes[name] = str(value)
        elif isinstance(value, np.ndarray) and value.dtype.kind in "iuf":
            native = value.astype(value.dtype.newbyteorder("="), copy=False)
            tensors[f"{_ARRAY}{name}"] = torch.from_numpy(np.ascontiguousarray(native))
        else:
            attributes[name] = _to_json(value, f"the fitted attribute {name}")
    random_state = None
    if isinstance(getattr(estimator, "_random_state", None), np.random.RandomState):
        random_state = numpy_state(estimator._random_state)
        if random_state is not None:  # None: the global generator, not the model's own
            tensors["random_state/keys"] = random_state.pop(1)
    metadata = {
        "format": _FORMAT_NAME,
        "format_version": str(FORMAT_VERSION),
        "skaae_version": _skaae_version(),
        "torch_version": torch.__version__,
        "estimator": type(estimator).__name__,
        "params": json.dumps(params),
        "attributes": json.dumps(attributes),
        "random_state": json.dumps(random_state),
    }
    write_atomically(path, lambda temporary: save_file(tensors, temporary, metadata=metadata))


def _skaae_version():
    from . import __version__

    return __version__


# -- load -------------------------------------------------------------------------
def load(path, *, device=None):
    """Read an estimator written by :func:`save`; no code from the file is run.

    Parameters
    ----------
    path : str or path-like
    device : str or torch.device, default=None
        Where to put the networks. ``None`` resolves the estimator's own
        ``device`` parameter; a device that this machine lacks falls back to
        the CPU with a warning, as an unpickled model does.

    Returns
    -------
    estimator : fitted skaae estimator
        Its ``transform``, ``predict`` and ``sample`` give the saved model's
        results; ``get_params()`` gives its parameters.

    Raises
    ------
    ValueError
        The file is not a skaae model file, or comes from a newer skaae whose
        format this one cannot read.
    """
    from ._base import resolve_device

    path = os.fspath(path)
    try:
        with safe_open(path, framework="pt") as handle:
            metadata = handle.metadata() or {}
            tensors = {key: handle.get_tensor(key) for key in handle.keys()}
    except Exception as error:  # safetensors raises its own error types
        raise ValueError(f"{path} is not a safetensors file: {error}") from None
    if metadata.get("format") != _FORMAT_NAME:
        raise ValueError(f"{path} is a safetensors file but not a skaae model file.")
    version = int(metadata.get("format_version", "0"))
    if version > FORMAT_VERSION:
        raise ValueError(
            f"{path} was written by skaae {metadata.get('skaae_version', '?')} in model "
            f"format {version}; this skaae ({_skaae_version()}) reads format "
            f"{FORMAT_VERSION} and older. Upgrade skaae to load it."
        )
    classes = _estimator_classes()
    if metadata.get("estimator") not in classes:
        raise ValueError(f"{path} holds an unknown estimator {metadata.get('estimator')!r}.")
    params = {k: _from_json(v) for k, v in json.loads(metadata["params"]).items()}
    estimator_class = classes[metadata["estimator"]]
    # A file from before a parameter existed: the value that does what that version did.
    params = {**estimator_class._OLDER_DEFAULTS, **params}
    estimator = estimator_class(**params)
    for name, value in json.loads(metadata["attributes"]).items():
        setattr(estimator, name, _from_json(value))
    for key, tensor in tensors.items():
        if key.startswith(_ARRAY):
            setattr(estimator, key[len(_ARRAY):], tensor.numpy())
    if hasattr(estimator, "history_"):  # a file from before a step was renamed
        estimator.history_ = [with_current_step_names(record) for record in estimator.history_]

    target = estimator.device if device is None else device
    try:
        target = resolve_device(target)
    except ValueError:
        warnings.warn(
            f"This model asks for device {target!r}, which is not available here; it was "
            "loaded on the CPU.",
            RuntimeWarning,
        )
        target = torch.device("cpu")
    # The networks' shapes follow from the parameters and fitted attributes;
    # their initial weights are overwritten by the stored ones.
    estimator.prior_, networks = estimator._build_model(
        estimator.n_features_in_, torch.Generator().manual_seed(0),
        getattr(estimator, "classes_", None), estimator.reconstruction_loss_,
    )
    for key, net in networks.items():
        prefix = f"{_NETWORK}{key}/"
        state = {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)}
        net.load_state_dict(state, strict=True)
        net.eval()
    estimator._networks = {k: v.to(target) for k, v in networks.items()}
    estimator._optimizers = {}
    estimator.device_ = target
    random_state = json.loads(metadata.get("random_state", "null"))
    if random_state is not None:
        random_state.insert(1, tensors["random_state/keys"])
        estimator._random_state = np.random.RandomState()
        restore_numpy_state(estimator._random_state, random_state)
    estimator._publish_networks()
    return estimator
