"""CategoryEncoding, and what Keras's categorical preprocessing layers share: the
encoding of integer ids (``encode``) and a base class for layers without weights that
compute on data (``DataLayer``: strings or ints in, no gradient).

``encode(ids, mode, depth)`` with Keras's (TensorFlow's) shapes::

    one_hot    (..., 1) -> (..., depth); (...) -> (..., depth) otherwise
    multi_hot  (batch, n) -> (batch, depth); (n,) -> (depth,): a 1 per id present
    count      the same shapes, the number of times each id occurs
    rank 3+    one-hot on a new last axis, then reduced over axis 1, as Keras's
               ``nn.multi_hot`` does: (b, k, n) -> (b, n, depth)
"""

from __future__ import annotations

import numpy as np

from tinyann.autodiff.tensor import Tensor
from tinyann.layers.keras_tensor import KerasTensor, Node, flatten, is_symbolic
from tinyann.layers.layer import Layer

ENCODINGS = ("one_hot", "multi_hot", "count")


def as_array(inputs) -> np.ndarray:
    """A layer's input as a NumPy array (Tensors, lists, scalars and strings)."""
    if hasattr(inputs, "numpy") and not isinstance(inputs, np.ndarray):
        inputs = inputs.numpy()
    return np.asarray(inputs)


def encode(ids, output_mode, depth, dtype, count_weights=None) -> np.ndarray:
    """Integer ids (any shape, values in ``[0, depth)``) encoded by ``output_mode``
    (see the module docstring). ``count_weights``: with ``'count'``, each occurrence
    adds its weight instead of 1 (same shape as ``ids``)."""
    ids = np.asarray(ids)
    if output_mode == "int":
        return ids.astype(dtype)
    if ids.ndim == 0:
        ids = ids[None]
    if output_mode == "one_hot":
        if ids.ndim > 1 and ids.shape[-1] == 1:
            ids = ids[..., 0]
        out = np.zeros(ids.shape + (depth,), dtype)
        np.put_along_axis(out, ids[..., None], 1, axis=-1)
        return out
    axis = 1 if ids.ndim > 1 else 0
    if ids.ndim > 2 or count_weights is not None and output_mode == "count":
        one_hot = np.zeros(ids.shape + (depth,), "float64" if count_weights is not None
                           else dtype)
        np.put_along_axis(one_hot, ids[..., None], 1, axis=-1)
        if output_mode == "multi_hot":
            return one_hot.max(axis=axis).astype(dtype)
        if count_weights is not None:
            one_hot *= np.asarray(count_weights, "float64")[..., None]
        return one_hot.sum(axis=axis).astype(dtype)
    rows = ids.reshape(1, -1) if ids.ndim == 1 else ids
    # (batch, n) ids -> (batch, depth): a 1 (or +1) at each (row, id)
    out = np.zeros((len(rows), depth), dtype)
    row_index = np.repeat(np.arange(len(rows)), rows.shape[1])
    if output_mode == "multi_hot":
        out[row_index, rows.ravel()] = 1
    else:
        np.add.at(out, (row_index, rows.ravel()), 1)
    return out[0] if ids.ndim == 1 else out


def encoded_shape(input_shape, output_mode, depth) -> tuple:
    """The shape ``encode`` gives for inputs of ``input_shape`` (None for unknown)."""
    input_shape = tuple(input_shape)
    if output_mode == "int":
        return input_shape
    if not input_shape:
        return (depth,)
    if output_mode == "one_hot":
        if len(input_shape) > 1 and input_shape[-1] == 1:
            return input_shape[:-1] + (depth,)
        return input_shape + (depth,)
    if len(input_shape) == 1:
        return (depth,)
    return (input_shape[0],) + input_shape[2:] + (depth,)


def check_ids(ids, depth, layer_name, what="values") -> None:
    """Raises when integer ids fall outside ``[0, depth)`` (TensorFlow drops them)."""
    if ids.size and (ids.min() < 0 or ids.max() >= depth):
        bad = ids.min() if ids.min() < 0 else ids.max()
        raise ValueError(
            f"Layer '{layer_name}' expected input {what} in the range [0, {depth}), but "
            f"received {what} including {bad}.")


class DataLayer(Layer):
    """A layer without weights that computes on data of any dtype (strings, ints):
    its input is not converted to floats, its output has the dtype Keras gives it,
    and it passes no gradient (its outputs are ids or counts).

    Subclasses define ``call(inputs)`` on arrays, ``compute_output_shape`` and
    ``output_dtype`` (the dtype of the symbolic output).
    """

    _grads_written = True

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.built = True
        self._input_shape_seen = None

    @property
    def output_dtype(self) -> str:
        return self.dtype

    def __call__(self, inputs, training=None, **kwargs):
        if is_symbolic(inputs):
            tensors = flatten(inputs)
            shapes = [t.shape for t in tensors]
            shape = self.compute_output_shape(shapes if isinstance(inputs, (list, tuple))
                                              else inputs.shape)
            out = KerasTensor(shape, dtype=self.output_dtype)
            # (the mode is kept for the model's config; these layers compute the same
            # in both)
            self._inbound_nodes.append(Node(self, tensors, [out], training=training))
            return out
        if isinstance(inputs, (list, tuple)) and self._takes_list():
            inputs = [as_array(x) for x in inputs]
        else:
            inputs = as_array(inputs)
        return Tensor(self._call_eagerly(inputs, **kwargs))

    def _call_eagerly(self, inputs, **kwargs):
        """An eager call's result (a graph step runs ``call``)."""
        return self.call(inputs, **kwargs)

    def _takes_list(self) -> bool:
        """Whether a list given to the layer is several inputs (HashedCrossing), not
        one input written as a list."""
        return False

    def call(self, inputs, training=False):
        raise NotImplementedError

    def backward(self, grad_output):
        # ids and counts are piecewise constant in the input: no gradient flows back
        shapes = self._input_shape_seen
        if isinstance(shapes, list):
            return [np.zeros(s, grad_output.dtype) for s in shapes]
        return np.zeros(shapes if shapes is not None else grad_output.shape[:1],
                        grad_output.dtype)

    def _remember_shape(self, inputs) -> None:
        self._input_shape_seen = ([np.shape(x) for x in inputs]
                                  if isinstance(inputs, list) else np.shape(inputs))


class CategoryEncoding(DataLayer):
    """Integer ids in ``[0, num_tokens)`` as one-hot, multi-hot or count vectors.

    Args:
        num_tokens: the number of ids (the output's last axis).
        output_mode: ``'multi_hot'`` (default; ``'binary'`` is an alias), ``'one_hot'``
            or ``'count'``.
        sparse: False only (tinyann gives dense arrays).

    Input shape: ``(batch,)``, ``(batch, n)`` or more. Output shape: see
    ``encode``; float32 (the layer's dtype). ``call(inputs, count_weights=...)``
    weights each occurrence in ``'count'`` mode.

    Example:
        >>> CategoryEncoding(num_tokens=4, output_mode="one_hot")([3, 2, 0]).numpy()[0]
        array([0., 0., 0., 1.], dtype=float32)
    """

    def __init__(self, num_tokens=None, output_mode="multi_hot", sparse=False, **kwargs):
        super().__init__(**kwargs)
        if output_mode == "binary":
            output_mode = "multi_hot"
        if output_mode not in ENCODINGS:
            raise ValueError(f"Unknown arg for output_mode: {output_mode}. Expected one of "
                             f"{list(ENCODINGS)}.")
        if num_tokens is None:
            raise ValueError(
                "num_tokens must be set to use this layer. If the number of tokens is not "
                "known beforehand, use the IntegerLookup layer instead.")
        if not isinstance(num_tokens, (int, np.integer)) or num_tokens < 1:
            raise ValueError(f"`num_tokens` must be >= 1. Received: num_tokens={num_tokens}.")
        if sparse:
            raise NotImplementedError("tinyann's CategoryEncoding gives dense arrays "
                                      "(sparse=False).")
        self.num_tokens = int(num_tokens)
        self.output_mode = output_mode
        self.sparse = False

    def compute_output_shape(self, input_shape):
        return encoded_shape(input_shape, self.output_mode, self.num_tokens)

    def call(self, inputs, training=False, count_weights=None):
        ids = np.asarray(inputs)
        self._remember_shape(ids)
        if count_weights is not None and self.output_mode != "count":
            raise ValueError("`count_weights` is not used when `output_mode` is not "
                             f"`'count'`. Received `count_weights={count_weights}`.")
        if ids.dtype.kind == "f":
            if not np.all(np.isfinite(ids)) or np.any(ids != np.round(ids)):
                raise ValueError(f"Layer '{self.name}' expected integer ids, but received "
                                 "non-integer values.")
            ids = ids.astype("int64")
        elif ids.dtype.kind not in "biu":
            raise ValueError(f"Layer '{self.name}' expected integer ids, but received an "
                             f"array of dtype {ids.dtype}.")
        check_ids(ids, self.num_tokens, self.name)
        if count_weights is not None:
            count_weights = np.asarray(count_weights, self.dtype)
            if count_weights.shape != ids.shape:
                raise ValueError(f"`count_weights` must have the shape of the inputs "
                                 f"{ids.shape}. Received: shape {count_weights.shape}")
        return encode(ids, self.output_mode, self.num_tokens, self.dtype, count_weights)

    def get_config(self):
        config = super().get_config()
        config.update(num_tokens=self.num_tokens, output_mode=self.output_mode)
        return config
