"""Normalization: standardizes features with a mean and variance set or adapted to data."""

from __future__ import annotations

import itertools
import math

import numpy as np

from tinyann import backend
from tinyann.autodiff.tensor import Tensor
from tinyann.layers.layer import Layer
from tinyann.utils.py_dataset import PyDataset


def _first_of(batch):
    """``x`` of a batch that may be ``(x, y)`` or ``(x, y, sample_weight)``."""
    return batch[0] if isinstance(batch, tuple) else batch


class Normalization(Layer):
    """``(inputs - mean) / max(sqrt(variance), epsilon)`` per index of ``axis``
    (``invert=True``: ``mean + inputs * max(sqrt(variance), epsilon)``), with Keras's
    ``epsilon()`` (1e-7).

    The mean and variance are given (``mean=``, ``variance=``: constants, no weights) or
    learned by ``adapt(data)``, which stores them in the non-trainable weights ``mean``,
    ``variance`` (each the shape of the kept axes) and ``count`` (an int64 scalar Keras
    keeps for old files, always 0), as Keras 3 does. ``layer.mean`` / ``layer.variance``
    are the statistics broadcast to the input's rank (``(1, features)``), as Tensors.

    Args:
        axis: int, tuple of ints or None: the axes that keep a separate mean and
            variance per index (-1: per feature); None: one scalar for everything.
        mean, variance: values broadcast to the kept axes; both or neither.
        invert: turn normalized values back into the original scale.

    Input and output shape: the same, any rank.

    Example:
        >>> norm = Normalization(axis=-1)
        >>> norm.adapt(np.array([[0., 7.], [2., 9.]]))
        >>> norm(np.array([[0., 7.]])).numpy()
        array([[-1., -1.]], dtype=float32)
    """

    supports_masking = True

    def __init__(self, axis=-1, mean=None, variance=None, invert=False, **kwargs):
        super().__init__(**kwargs)
        if axis is None:
            axis = ()
        elif isinstance(axis, (int, np.integer)):
            axis = (int(axis),)
        else:
            axis = tuple(int(a) for a in axis)
        self.axis = axis
        self.input_mean = mean
        self.input_variance = variance
        self.invert = bool(invert)
        if (mean is not None) != (variance is not None):
            raise ValueError(
                "When setting values directly, both `mean` and `variance` must be set. "
                f"Received: mean={mean} and variance={variance}")
        if mean is not None:
            if np.shape(mean) != np.shape(variance):
                raise ValueError(
                    "When setting values directly, `mean` and `variance` must have the same "
                    f"shape. Received: mean shape {np.shape(mean)} and variance shape "
                    f"{np.shape(variance)}")
            if len(np.shape(mean)) > len(self.axis):
                raise ValueError(
                    "The rank of `mean` must be less than or equal to the number of axes "
                    f"({len(self.axis)}). Received: mean shape {np.shape(mean)} for axis "
                    f"{self.axis}")
        self.adapt_mean = self.adapt_variance = self.count = None
        self._fixed = None  # (mean, variance) broadcast, when given
        self._build_input_shape = None
        self._denom = None

    # ------------------------------------------------------------------ build
    def build(self, input_shape):
        input_shape = tuple(input_shape)
        ndim = len(input_shape)
        self._build_input_shape = input_shape
        if any(a < -ndim or a >= ndim for a in self.axis):
            raise ValueError(
                "All `axis` values must be in the range [-ndim, ndim). Received inputs with "
                f"ndim={ndim}, while axis={self.axis}")
        self._keep_axis = tuple(sorted(a % ndim for a in self.axis))
        for d in self._keep_axis:
            if input_shape[d] is None:
                raise ValueError(
                    "All `axis` values to be kept must have a known shape. Received "
                    f"axis={self.axis}, inputs.shape={input_shape}, with unknown axis at "
                    f"index {d}")
        self._reduce_axis = tuple(d for d in range(ndim) if d not in self._keep_axis)
        self._broadcast_shape = tuple(input_shape[d] if d in self._keep_axis else 1
                                      for d in range(ndim))
        self._mean_and_var_shape = tuple(input_shape[d] for d in self._keep_axis)
        if self.input_mean is None:
            self.adapt_mean = self.add_weight(self._mean_and_var_shape, "zeros", name="mean",
                                              trainable=False)
            self.adapt_variance = self.add_weight(self._mean_and_var_shape, "ones",
                                                  name="variance", trainable=False)
            # Keras keeps it for files of older versions; int64 on TensorFlow
            self.count = self.add_weight((), "zeros", dtype="int64", name="count",
                                         trainable=False)
        else:
            self._fixed = tuple(self._broadcast_given(v) for v in (self.input_mean,
                                                                  self.input_variance))
        self.built = True

    def _broadcast_given(self, value):
        """A given mean or variance aligned with the kept axes from the right, then
        broadcast to ``_broadcast_shape`` (Keras's rule)."""
        value = np.asarray(value, dtype=self.dtype)
        if value.ndim:
            expanded = [1] * len(self._broadcast_shape)
            for i in range(1, value.ndim + 1):
                expanded[self._keep_axis[-i]] = value.shape[-i]
            value = value.reshape(expanded)
        return np.broadcast_to(value, self._broadcast_shape).copy()

    def _statistics(self):
        """``(mean, variance)`` of the broadcast shape, as arrays."""
        if self._fixed is not None:
            return self._fixed
        return (self.adapt_mean.value.reshape(self._broadcast_shape),
                self.adapt_variance.value.reshape(self._broadcast_shape))

    @property
    def mean(self):
        """The mean broadcast to the input's rank (None before the layer is built)."""
        return Tensor(self._statistics()[0].copy()) if self.built else None

    @property
    def variance(self):
        """The variance broadcast to the input's rank (None before the layer is built)."""
        return Tensor(self._statistics()[1].copy()) if self.built else None

    def finalize_state(self):
        """Keras's hook after adapt or loading: the statistics are read from the
        weights at every call here, so nothing to do."""

    # ------------------------------------------------------------------ adapt
    def adapt(self, data):
        """Computes the mean and variance of ``data`` per index of the kept axes.

        ``data``: an array (or Tensor), or batches: a ``PyDataset``, a dataset or any
        iterable of arrays (each element a batch, ``x`` or ``(x, y, ...)``), combined by
        Keras's running formula. A dataset of single feature vectors is batched by 128
        first, as Keras does.
        """
        batches = None
        if isinstance(data, PyDataset):
            batches = (_first_of(data[i]) for i in range(len(data)))
        elif isinstance(data, (np.ndarray, Tensor)) or (
                hasattr(data, "__array__") and not hasattr(data, "__next__")
                and not isinstance(data, (list, tuple))):
            data = np.asarray(data)
        elif hasattr(data, "__iter__"):
            batches = iter(data)
        else:
            raise TypeError(
                f"Unsupported data type: {type(data)}. `adapt` supports `np.ndarray`, "
                "tensors, `keras.utils.PyDataset`, and iterables of batches (e.g. list, "
                "generator).")
        if batches is not None:
            first = next(batches, None)
            if first is None:
                raise ValueError(
                    "adapt() received an empty iterable (no batches). Expected at least one "
                    "batch. Pass a non-empty iterable of arrays or tensors, e.g. "
                    "layer.adapt([x]) or layer.adapt(list_of_batches).")
            first = _first_of(first)
            if getattr(first, "shape", None) is None:
                raise TypeError(
                    "adapt() expects an iterable that yields arrays or tensors with a "
                    "`.shape` attribute (e.g. numpy arrays or backend tensors). Got an "
                    f"element of type {type(first).__name__}.")
            if len(first.shape) == 1 and callable(getattr(data, "batch", None)):
                # an unbatched dataset of feature vectors: Keras batches it by 128
                batches = iter(data.batch(128))
                first = _first_of(next(batches))
            shape = tuple(first.shape)
            batches = itertools.chain([first], batches)
        else:
            shape = data.shape
        if not self.built:
            self._maybe_build(shape)
        else:
            self._check_kept_axes(shape, "but adapt() is being called with data with an "
                                  f"incompatible shape, data.shape={shape}")
        if self._fixed is not None:
            raise ValueError(
                f"Layer '{self.name}' was given `mean` and `variance`: it has nothing to "
                "adapt.")
        if batches is None:
            # float64 sums, as NumPy gives Keras for a float64 array
            mean = np.mean(data, axis=self._reduce_axis, dtype=np.float64)
            var = np.var(data, axis=self._reduce_axis, dtype=np.float64)
        else:
            mean, var = self._running_moments(batches)
        self.adapt_mean.assign(mean)
        self.adapt_variance.assign(var)

    def _running_moments(self, batches):
        """Keras's combination of the batches' means and variances (the lack-of-fit
        sum of squares), so one pass needs no copy of the data."""
        mean = np.zeros(self._mean_and_var_shape)
        var = np.zeros(self._mean_and_var_shape)
        total = 0
        for batch in batches:
            batch = np.asarray(_first_of(batch), dtype=np.float64)
            self._check_kept_axes(batch.shape, "adapt() yielded a batch with an "
                                  f"incompatible shape {batch.shape}")
            batch_mean = np.mean(batch, axis=self._reduce_axis)
            batch_var = np.var(batch, axis=self._reduce_axis)
            count = math.prod(batch.shape[d] for d in self._reduce_axis)
            total += count
            weight = count / total
            new_mean = mean * (1 - weight) + batch_mean * weight
            var = ((var + (mean - new_mean) ** 2) * (1 - weight)
                   + (batch_var + (batch_mean - new_mean) ** 2) * weight)
            mean = new_mean
        return mean, var

    def _check_kept_axes(self, shape, what):
        if not self._keep_axis:
            return  # scalar statistics broadcast over any shape
        if len(shape) != len(self._build_input_shape) or any(
                shape[d] is not None and shape[d] != self._build_input_shape[d]
                for d in self._keep_axis):
            raise ValueError(
                f"The layer was built with input_shape={self._build_input_shape}, {what}")

    # ------------------------------------------------------------------ forward
    def _check_input(self, shape):
        self._check_kept_axes(tuple(shape), f"but it received an input with shape "
                              f"{tuple(shape)}")

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def call(self, inputs, training=False):
        mean, var = self._statistics()
        dtype = inputs.dtype
        denom = np.maximum(np.sqrt(var.astype(dtype, copy=False)),
                           dtype.type(backend.epsilon()))
        if training:
            self._denom = denom
        mean = mean.astype(dtype, copy=False)
        if self.invert:
            return mean + inputs * denom
        return (inputs - mean) / denom

    def backward(self, grad_output):
        # the statistics are constants: only the scale reaches the input
        if self.invert:
            return grad_output * self._denom
        return grad_output / self._denom

    # ------------------------------------------------------------------ config
    def get_config(self):
        config = super().get_config()
        config.update(axis=self.axis, invert=self.invert,
                      mean=np.array(self.input_mean).tolist(),
                      variance=np.array(self.input_variance).tolist())
        return config
