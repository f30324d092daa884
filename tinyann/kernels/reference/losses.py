"""Softmax (or sigmoid) followed by cross-entropy: the value and the fused gradient.

Shapes: ``probs`` and ``onehot`` (n, C), probabilities (softmax rows) and
targets; per-sample values (n,).

    loss_i   = -sum_c onehot_ic log(probs_ic)    (probs clipped to [eps, 1 - eps])
    dL/dz_i  = (probs_i - onehot_i) * scale_i    (z: the logits before the softmax)

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
