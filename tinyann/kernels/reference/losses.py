"""Softmax (or sigmoid) followed by cross-entropy: the value and the fused gradient.

Shapes: ``probs`` and ``onehot`` (n, C), probabilities (softmax rows) and
targets; per-sample values (n,).

    loss_i   = -sum_c onehot_ic log(probs_ic)    (probs clipped to [eps, 1 - eps])
    dL/dz_i  = (probs_i - onehot_i) * scale_i    (z: the logits before the softmax)

With sparse targets (class indices, ``labels`` (n,)), ``sparse_softmax_cross_entropy``
gives both at once: the per-sample values and dL/dz, ``onehot`` being row ``labels_i``
of the identity.

``scale`` is the reduction's weight of each sample: a scalar ``1/n``, or an (n, 1)
array ``w_i / n`` with sample weights. The same formula is the gradient of a
sigmoid output through binary cross-entropy, with targets in place of ``onehot``.
"""

from __future__ import annotations

import numpy as np

from tinyann.kernels.reference._out import into


def softmax_cross_entropy(probs, onehot, epsilon):
    """Per-sample cross-entropy of probabilities against targets: (n, C) -> (n,)."""
    return -(onehot * np.log(np.clip(probs, epsilon, 1.0 - epsilon))).sum(axis=-1)


def softmax_cross_entropy_grad(probs, onehot, scale, out=None):
    """``dL/dz = (probs - onehot) * scale``; ``out`` may be ``probs`` itself."""
    return into((probs - onehot) * scale, out)


def sparse_softmax_cross_entropy(probs, labels, epsilon, scale):
    """Per-sample values (n,) and ``dL/dz`` (n, C) of softmax probabilities against
    class indices ``labels`` (n,) ints; None when a label lies outside [0, C) (the
    caller then raises its error)."""
    n, classes = probs.shape
    labels = np.asarray(labels)
    if n and (labels.min() < 0 or labels.max() >= classes):
        return None
    onehot = np.eye(classes, dtype=probs.dtype)[labels]
    per = -np.log(np.clip(probs[np.arange(n), labels], epsilon, 1.0 - epsilon))
    return per.astype(probs.dtype), ((probs - onehot) * scale).astype(probs.dtype)
