"""Weight penalties added to the loss: ``L1``, ``L2``, ``L1L2``,
``OrthogonalRegularizer`` (Keras's formulas), each with its gradient."""

from __future__ import annotations

import math

import numpy as np

from tinyann import _identifiers, backend


class Regularizer(_identifiers.Configurable):
    """``penalty = regularizer(w)``; ``gradient(w)`` is d penalty / dw."""

    def __call__(self, w) -> float:
        raise NotImplementedError

    def gradient(self, w) -> np.ndarray:
        raise NotImplementedError


class L1L2(Regularizer):
    """``l1 * sum(|w|) + l2 * sum(w^2)``."""

    def __init__(self, l1=0.0, l2=0.0):
        for name, value in (("l1", l1), ("l2", l2)):
            if value < 0 or not np.isfinite(value):
                raise ValueError(
                    f"Value for argument `{name}` must be a non-negative number. "
                    f"Received: {name}={value!r}"
                )
        self.l1, self.l2 = float(l1), float(l2)

    def __call__(self, w):
        w = np.asarray(w)
        total = 0.0
        if self.l1:
            total += self.l1 * float(np.abs(w).sum())
        if self.l2:
            total += self.l2 * float(np.square(w).sum())
        return total

    def gradient(self, w):
        w = np.asarray(w)
        grad = np.zeros_like(w)
        if self.l1:
            grad += np.sign(w) * w.dtype.type(self.l1)
        if self.l2:
            grad += w * w.dtype.type(2.0 * self.l2)
        return grad

    def get_config(self):
        return {"l1": self.l1, "l2": self.l2}


class L1(L1L2):
    def __init__(self, l1=0.01):
        super().__init__(l1=l1)

    def get_config(self):
        return {"l1": self.l1}


class L2(L1L2):
    def __init__(self, l2=0.01):
        super().__init__(l2=l2)

    def get_config(self):
        return {"l2": self.l2}


class OrthogonalRegularizer(Regularizer):
    """Pushes the rows (``mode='rows'``) or the columns (``'columns'``) of a 2-D weight
    towards being orthogonal: ``factor * 0.5 * sum(|P - diag(P)|) / num_pairs``, where
    ``P`` holds the dot products of the L2-normalized rows (columns) and ``num_pairs``
    is ``n (n - 1) / 2`` for ``n`` of them."""

    def __init__(self, factor=0.01, mode="rows"):
        if isinstance(factor, bool) or not isinstance(factor, (float, int)) or (
                math.isinf(factor) or math.isnan(factor)) or factor < 0:
            raise ValueError("Invalid value for argument factor: expected a non-negative "
                             f"float.Received: factor={factor}")
        # float32, as Keras keeps it (its config says 0.10000000149011612 for 0.1)
        self.factor = float(np.float32(factor))
        if mode not in {"rows", "columns"}:
            raise ValueError("Invalid value for argument `mode`. Expected one of "
                             f'{{"rows", "columns"}}. Received: mode={mode}')
        self.mode = mode

    def _parts(self, w):
        """The rows (or columns, as rows) of ``w``, their scales 1/norm (at most
        1/epsilon, as Keras's normalize), the normalized rows and their products."""
        w = np.asarray(w)
        if w.ndim != 2:
            raise ValueError("Inputs to OrthogonalRegularizer must have rank 2. Received: "
                             f"inputs.shape={w.shape}")
        if w.dtype.kind != "f":
            w = w.astype(backend.floatx())
        rows = w if self.mode == "rows" else w.T
        kind = rows.dtype.type
        with np.errstate(divide="ignore"):
            scale = np.minimum(1.0 / np.sqrt(np.sum(np.square(rows), axis=1, keepdims=True)),
                               kind(1.0 / backend.epsilon()))
        normed = rows * scale
        product = normed @ normed.T
        np.fill_diagonal(product, 0.0)
        size = rows.shape[0]
        coefficient = kind(self.factor * 0.5 / (size * (size - 1.0) / 2.0)) if size > 1 else (
            kind(math.nan))
        return rows, scale, normed, product, coefficient

    def __call__(self, w):
        _, _, _, product, coefficient = self._parts(w)
        return float(coefficient * np.sum(np.abs(product)))

    def gradient(self, w):
        rows, scale, normed, product, coefficient = self._parts(w)
        g = 2.0 * coefficient * (np.sign(product) @ normed)  # dL/d(normalized rows)
        # through the normalization: only where the scale is 1/norm (not clipped)
        clipped = scale >= rows.dtype.type(1.0 / backend.epsilon())
        along = np.where(clipped, 0, np.sum(g * normed, axis=1, keepdims=True))
        grad = scale * (g - along * normed)
        return (grad if self.mode == "rows" else grad.T).astype(rows.dtype, copy=False)

    def get_config(self):
        return {"factor": self.factor, "mode": self.mode}


l1, l2, l1_l2 = L1, L2, L1L2
orthogonal_regularizer = OrthogonalRegularizer
_CLASSES = {"L1": L1, "L2": L2, "L1L2": L1L2, "l1": L1, "l2": L2, "l1_l2": L1L2, "l1l2": L1L2,
            "OrthogonalRegularizer": OrthogonalRegularizer,
            "orthogonal_regularizer": OrthogonalRegularizer}


def get(identifier):
    """A regularizer from None, a string (``'l2'``), a config dict or an instance."""
    if identifier is None or isinstance(identifier, Regularizer):
        return identifier
    if isinstance(identifier, str) and identifier in _CLASSES:
        return _CLASSES[identifier]()
    if isinstance(identifier, dict) and identifier.get("class_name") in _CLASSES:
        return _CLASSES[identifier["class_name"]].from_config(identifier.get("config") or {})
    raise _identifiers.not_understood(
        "regularizer", identifier, f"one of {sorted(_CLASSES)}, a config dict or a Regularizer.")


def serialize(regularizer):
    if regularizer is None:
        return None
    return _identifiers.serialize(regularizer, "keras.regularizers")


def deserialize(config, custom_objects=None):
    """A regularizer from ``serialize``'s output (or a name)."""
    return get(_identifiers.deserializable(config, "regularizer"))
