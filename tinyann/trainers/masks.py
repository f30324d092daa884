"""Keras 3's masked losses and metrics: when a mask (Embedding(mask_zero=True) ->
LSTM(return_sequences=True) -> Dense...) reaches a model output, the masked steps
weigh nothing in that output's loss and metrics.

Keras's rule (``keras.src.losses.loss.apply_mask``): for the default reduction
``sum_over_batch_size`` each unmasked element weighs ``total / valid`` (``total``: the
mask's size, ``valid``: its unmasked count; 0 when all are masked), times the sample
weight, so a batch's loss is ``sum(loss * sample_weight over unmasked) / valid``;
with ``sum`` the mask is the weight as is. A metric weighs its values by the mask
alone (compiled ``metrics`` take no sample weight): the mean over unmasked elements.

Sample weights may be per step ``(batch, steps)`` or per sample ``(batch,)``; Keras
3.15 fails on the latter with a mask (``Incompatible shapes for broadcasting``),
tinyann spreads each sample's weight over its steps.
"""

from __future__ import annotations

import numpy as np


def loss_weights(mask, sample_weight, reduction, dtype):
    """The per-element weights ``(batch, steps)`` a loss with ``reduction`` gets for an
    output with ``mask (batch, steps)`` and ``sample_weight`` (``(batch,)`` or None)."""
    m = np.asarray(mask, dtype=bool)
    if reduction in ("sum_over_batch_size", "mean"):
        valid = int(np.count_nonzero(m))
        weight = m.size / valid if valid else 0.0
        w = np.where(m, weight, 0.0).astype(dtype)
    else:
        w = m.astype(dtype)
    return _times_sample_weight(w, sample_weight)


def metric_weights(mask, dtype="float64"):
    """The weights of a compiled metric's values: the mask as 0 / 1."""
    return np.asarray(mask, dtype=bool).astype(dtype)


def _times_sample_weight(w, sample_weight):
    if sample_weight is None:
        return w
    sw = np.asarray(sample_weight, dtype=w.dtype)
    while sw.ndim > w.ndim and sw.shape[-1] == 1:
        sw = sw[..., 0]
    return w * sw.reshape(sw.shape + (1,) * (w.ndim - sw.ndim))
