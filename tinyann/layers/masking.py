"""Masking: time steps whose features all equal ``mask_value`` are skipped downstream."""

from __future__ import annotations

import numpy as np

from tinyann.layers.layer import Layer


class Masking(Layer):
    """Marks the time steps whose features all equal ``mask_value`` as padding: the
    output is the input with those steps set to 0, and its mask (``compute_mask``:
    ``any(inputs != mask_value, axis=-1)``) makes the recurrent layers after it keep
    their state over them, and the loss and metrics weigh them 0, as Keras's.

    Input and output shape: ``(batch, steps, features)`` (any rank; the last axis is
    the features). Mask shape: ``(batch, steps)``.

    Example:
        >>> Masking(mask_value=0.0).compute_mask(np.array([[[1., 0.], [0., 0.]]]))
        array([[ True, False]])
    """

    supports_masking = True
    # the layer graph (tinyann/models/functional.py) takes a layer with a true
    # `mask_zero` for a source of masks, as Embedding(mask_zero=True) is
    mask_zero = True

    def __init__(self, mask_value=0.0, **kwargs):
        super().__init__(**kwargs)
        if isinstance(mask_value, dict) and mask_value.get("config"):
            # Keras may serialize the value as a tensor: {"class_name": "__tensor__", ...}
            mask_value = np.asarray(mask_value["config"].get("value")).tolist()
        self.mask_value = mask_value
        self._keep = None

    def _kept(self, x):
        """Whether each step holds a feature other than ``mask_value``, keepdims."""
        return np.any(x != np.asarray(self.mask_value, x.dtype), axis=-1, keepdims=True)

    def compute_mask(self, inputs, mask=None):
        if inputs is None:  # asked whether a mask comes out: it does
            return True
        return self._kept(np.asarray(inputs))[..., 0]

    def call(self, inputs, training=False):
        keep = self._kept(inputs)
        if training:
            self._keep = keep
        return np.where(keep, inputs, inputs.dtype.type(0))

    def backward(self, grad_output):
        # the masked steps' outputs are constants
        return grad_output * self._keep

    def get_config(self):
        config = super().get_config()
        config["mask_value"] = self.mask_value
        return config
