"""Keras's masks: the registry of eager Tensors' masks, and how a model's graph hands
masks to its steps.

Keras keeps an eager tensor's mask in ``tensor._keras_mask``; tinyann's Tensor has
fixed slots, so the masks live here, keyed by the Tensor (a weak reference: a mask
goes with its Tensor). A mask is a boolean array ``(batch, steps)``.
"""

from __future__ import annotations

import weakref

import numpy as np

from tinyann.autodiff import Tensor

# id(tensor) -> (weak reference to it, its mask)
_KERAS_MASKS = {}


def set_keras_mask(tensor, mask) -> None:
    """Attaches a Keras mask ``(batch, steps)`` to an eager Tensor (None removes it)."""
    if not isinstance(tensor, Tensor):
        return
    key = id(tensor)
    if mask is None:
        _KERAS_MASKS.pop(key, None)
        return
    if not isinstance(mask, np.ndarray):
        mask = np.asarray(mask.value if isinstance(mask, Tensor) else mask)
    _KERAS_MASKS[key] = (weakref.ref(tensor, lambda _, k=key: _KERAS_MASKS.pop(k, None)),
                         mask.astype(bool, copy=False))


def get_keras_mask(tensor):
    """The Keras mask attached to an eager Tensor, or None."""
    entry = _KERAS_MASKS.get(id(tensor)) if _KERAS_MASKS else None
    return entry[1] if entry is not None and entry[0]() is tensor else None


def inputs_keras_mask(inputs):
    """The mask of an input, or for a list one per input (None when none has one)."""
    if not _KERAS_MASKS:
        return None
    if isinstance(inputs, (list, tuple)):
        masks = [get_keras_mask(x) for x in inputs]
        return masks if any(m is not None for m in masks) else None
    return get_keras_mask(inputs)


def per_input(layer) -> bool:
    """Whether a step of several inputs gets one mask per input: all but the layers
    whose ``call`` reads one mask (a recurrent layer given initial states)."""
    return not getattr(layer, "takes_mask", False) or getattr(layer, "mask_per_input", False)


def step_mask(masks, ins, per_input=True):
    """The ``mask`` a step receives: its input's, or for several inputs a list with one
    per input (None when no input has one; the first input's for a layer that reads
    one mask only)."""
    if len(ins) == 1 or not per_input:
        return masks[ins[0]]
    each = [masks[i] for i in ins]
    return each if any(m is not None for m in each) else None


def as_mask(mask):
    """A mask a layer computed, as NumPy (a user's ``compute_mask`` may return a Tensor
    of ``keras.ops``); several outputs' masks stay a list."""
    if mask is None or isinstance(mask, (bool, np.ndarray)):
        return mask
    if isinstance(mask, (list, tuple)):
        return [as_mask(m) for m in mask]
    return np.asarray(mask)
