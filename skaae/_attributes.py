"""Attributes tied to code dimensions (Pati & Lerch, 2020): input checks, and
the monotone map from attribute values to code values that ``sample`` uses.

The training term itself is :func:`skaae._losses.attribute_loss`.
"""

import numpy as np
from sklearn.utils import check_array

#: Quantiles kept per attribute for the attribute-to-code map: enough for a
#: smooth map, few enough to keep the fitted model small.
N_QUANTILES = 101


def check_attributes(attributes, n_samples, n_components, n_fitted=None):
    """``attributes`` as a finite float array of shape ``(n_samples, n_attributes)``.

    ``n_fitted`` is the number of attributes of an earlier fit (continued training).
    """
    attributes = check_array(
        attributes, ensure_2d=False, dtype=[np.float64, np.float32], input_name="attributes"
    )
    if attributes.ndim == 1:
        attributes = attributes.reshape(-1, 1)
    if len(attributes) != n_samples:
        raise ValueError(
            f"attributes has {len(attributes)} rows, but X has {n_samples} samples; "
            "pass one row of attribute values per sample."
        )
    n_attributes = attributes.shape[1]
    if n_attributes > n_components:
        raise ValueError(
            f"attributes has {n_attributes} columns, but the code has only "
            f"n_components={n_components} dimensions; column j of attributes is tied to "
            "code dimension j, so raise n_components or pass fewer attributes."
        )
    if n_fitted is not None and n_attributes != n_fitted:
        raise ValueError(
            f"attributes has {n_attributes} columns, but this model was first fitted with "
            f"{n_fitted}; continued training (warm_start or partial_fit) needs the same "
            "attributes."
        )
    return attributes


def fit_code_map(attributes, codes):
    """Quantiles of each attribute and of its code dimension, at the same levels.

    Returns ``(attribute_quantiles, code_quantiles)``, each of shape
    ``(N_QUANTILES, n_attributes)``, both non-decreasing down each column.
    """
    levels = np.linspace(0, 1, N_QUANTILES)
    n_attributes = attributes.shape[1]
    return (
        np.quantile(attributes, levels, axis=0),
        np.quantile(codes[:, :n_attributes], levels, axis=0),
    )


def attributes_to_codes(values, attribute_quantiles, code_quantiles):
    """Map attribute values to code values by matching quantiles.

    An attribute value at the q-th quantile of the training attribute gets the
    q-th quantile of its code dimension; values between quantiles are
    interpolated, values outside the training range get the extreme codes.
    NaN stays NaN.
    """
    codes = np.full(values.shape, np.nan)
    for j in range(values.shape[1]):
        # Repeated attribute quantiles (a discrete attribute) get the mean of
        # their code quantiles, which leaves an increasing grid to interpolate on.
        grid, inverse = np.unique(attribute_quantiles[:, j], return_inverse=True)
        targets = np.bincount(inverse, code_quantiles[:, j]) / np.bincount(inverse)
        known = ~np.isnan(values[:, j])
        codes[known, j] = np.interp(values[known, j], grid, targets)
    return codes


def check_requested_attributes(attributes, n_samples, n_attributes):
    """``sample``'s ``attributes`` as a float array of shape ``(n_samples, n_attributes)``.

    A scalar or a 1-D array is taken as the one attribute of a model fitted with
    one; one row is used for every sample; NaN marks a value not requested.
    """
    values = np.asarray(attributes, dtype=np.float64)
    if values.ndim <= 1 and n_attributes == 1:
        values = values.reshape(-1, 1)
    if values.ndim != 2 or values.shape[1] != n_attributes or len(values) not in (1, n_samples):
        raise ValueError(
            f"attributes must have shape ({n_samples}, {n_attributes}) or (1, {n_attributes}) "
            f"for n_samples={n_samples} and a model fitted with {n_attributes} attribute(s)"
            + (" (or be a scalar or one value per sample)" if n_attributes == 1 else "")
            + f"; got shape {values.shape}."
        )
    if np.isinf(values).any():
        raise ValueError("attributes contains infinite values; use NaN to leave a value free.")
    return np.broadcast_to(values, (n_samples, n_attributes))
