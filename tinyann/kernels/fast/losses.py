"""Softmax + cross-entropy's fused gradient, fast: in-place passes, no one-hot array."""

from __future__ import annotations

import numpy as np


def softmax_cross_entropy_grad(probs, onehot, scale, out=None):
    """``(probs - onehot) * scale`` into ``out``, which may be ``probs`` itself."""
    out = np.subtract(probs, onehot, out=out)
    return np.multiply(out, scale, out=out)


def sparse_softmax_cross_entropy(probs, labels, epsilon, scale):
    """Per-sample values (n,) and ``dL/dz`` (n, C) against class indices (n,); None
    when a label lies outside [0, C). dL/dz is probs * scale with ``(p - 1) * scale``
    at the labels: the bits of ``(probs - onehot) * scale``, since ``p - 0 == p``."""
    n, classes = probs.shape
    if n and (np.minimum.reduce(labels) < 0 or np.maximum.reduce(labels) >= classes):
        return None
    rows = np.arange(n)
    picked = probs[rows, labels]
    # np.clip's values without its Python layer
    per = np.log(np.minimum(np.maximum(picked, epsilon), 1.0 - epsilon))
    np.negative(per, out=per)
    dz = probs.copy(order="K")   # the output's memory order: the same BLAS path after
    dz[rows, labels] -= 1
    np.multiply(dz, scale, out=dz)
    return per, dz
