"""ActivityRegularization: an L1 / L2 penalty on the activations, added to the loss."""

from __future__ import annotations

import numpy as np

from tinyann.autodiff.tensor import Tensor
from tinyann.layers import added_losses
from tinyann.layers.layer import Layer


class ActivityRegularization(Layer):
    """Passes its input through and adds ``(l1 * sum|x| + l2 * sum x**2) / batch`` to
    the loss (Keras 3 divides the activity penalty by the batch size), in every call:
    ``fit`` trains with it, the logged ``loss`` and ``evaluate`` include it, and
    ``layer.losses`` holds the last call's term.

    Args:
        l1, l2: the penalty factors (0 by default).

    Input and output shape: the same.
    """

    supports_masking = True

    def __init__(self, l1=0.0, l2=0.0, **kwargs):
        super().__init__(**kwargs)
        self.l1 = float(l1)
        self.l2 = float(l2)
        # fit and evaluate add the terms of the layers that hold a `_call_losses` list
        # (tinyann/layers/added_losses.py); this layer's backward adds the gradient
        added_losses.note_used()
        self._call_losses = []
        self._x = None

    def _batch(self, x):
        return x.shape[0] if x.ndim and x.shape[0] else 1

    def call(self, inputs, training=False):
        x = inputs
        penalty = 0.0
        if self.l1:
            penalty += self.l1 * float(np.sum(np.abs(x), dtype=np.float64))
        if self.l2:
            penalty += self.l2 * float(np.sum(np.square(x, dtype=np.float64)))
        # one term per call: fit runs the layer again each batch without clearing
        self._call_losses[:] = [Tensor(np.asarray(penalty / self._batch(x), dtype=x.dtype))]
        if training:
            self._x = x
        return x

    def backward(self, grad_output):
        x = self._x
        scale = x.dtype.type(1.0 / self._batch(x))
        dx = grad_output.copy()
        # d/dx (l1 |x| + l2 x**2) / batch
        if self.l1:
            dx += np.sign(x) * (x.dtype.type(self.l1) * scale)
        if self.l2:
            dx += x * (x.dtype.type(2.0 * self.l2) * scale)
        return dx

    def get_config(self):
        config = super().get_config()
        config.update(l1=self.l1, l2=self.l2)
        return config
