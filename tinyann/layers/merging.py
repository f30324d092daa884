"""Merge layers: Add, Subtract, Multiply, Average, Maximum, Minimum, Concatenate.

They take a list of tensors (``Add()([a, b])``) and, in ``backward``, return a list
of gradients, one per input, each a separate array: the layers that receive them
may overwrite them in place. Elementwise merges broadcast as Keras does (a size-1
axis stretches); the gradient of a broadcast input is summed back to its shape.
"""

from __future__ import annotations

import numpy as np

from tinyann.layers.layer import Layer


def _is_shape_list(input_shape):
    return isinstance(input_shape, (list, tuple)) and bool(input_shape) and all(
        isinstance(s, (list, tuple)) for s in input_shape)


def _check_list(inputs, layer, note=""):
    """Raises Keras's error (``layer`` its subject) unless ``inputs`` is a list or tuple."""
    if not isinstance(inputs, (list, tuple)):
        raise ValueError(f"{layer} should be called on a list of inputs. "
                         f"Received: inputs={inputs!r}{note}")


def _broadcast_shapes(shape1, shape2):
    """Keras's elementwise output shape (without the batch axis)."""
    if len(shape1) < len(shape2):
        shape1, shape2 = shape2, shape1
    if not shape2:
        return tuple(shape1)
    out = list(shape1[: len(shape1) - len(shape2)])
    for i, j in zip(shape1[len(shape1) - len(shape2):], shape2):
        if i is None or j is None:
            out.append(None)
        elif i == 1 or j == 1:
            out.append(j if i == 1 else i)
        elif i != j:
            raise ValueError(
                f"Inputs have incompatible shapes. Received shapes {tuple(shape1)} and "
                f"{tuple(shape2)}"
            )
        else:
            out.append(i)
    return tuple(out)


def _sum_to_shape(grad, shape):
    """Sums a broadcast gradient back to ``shape``; always a new array or ``grad``."""
    if grad.shape == tuple(shape):
        return grad
    axes = tuple(i for i, (g, s) in enumerate(zip(grad.shape, shape)) if s == 1 and g != 1)
    return np.sum(grad, axis=axes, keepdims=True)


class _Merge(Layer):
    """Base of the elementwise merge layers.

    Keras's masks: the output's mask is the logical OR of the inputs' masks
    ``(batch, steps)`` when every input has one, else None (Keras 3's
    ``Merge.compute_mask``)."""

    _min_inputs = 1
    supports_masking = True
    _max_inputs = None

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._shapes = self._inputs = None

    def _check_shapes(self, input_shape):
        if not _is_shape_list(input_shape):
            raise ValueError(
                "A merge layer should be called on a list of inputs. Received: "
                f"input_shape={input_shape} (not a list of shapes)"
            )
        n = len(input_shape)
        if n < self._min_inputs or (self._max_inputs is not None and n > self._max_inputs):
            expected = (f"exactly {self._min_inputs}" if self._min_inputs == self._max_inputs
                        else f"at least {self._min_inputs}")
            raise ValueError(
                f"A `{type(self).__name__}` layer should be called on {expected} inputs. "
                f"Received: input_shape={[tuple(s) for s in input_shape]}"
            )
        batch_sizes = {s[0] for s in input_shape if s} - {None}
        if len(batch_sizes) > 1:
            raise ValueError(
                "Cannot merge tensors with different batch sizes. Received tensors with "
                f"shapes {[tuple(s) for s in input_shape]}"
            )
        if len({len(s) for s in input_shape}) > 1:
            raise NotImplementedError(
                "tinyann merges tensors of the same rank only. Received shapes "
                f"{[tuple(s) for s in input_shape]}"
            )
        out = tuple(input_shape[0][1:])
        for shape in input_shape[1:]:
            out = _broadcast_shapes(out, tuple(shape[1:]))
        return (next(iter(batch_sizes)) if batch_sizes else None,) + out

    def build(self, input_shape):
        self._check_shapes(input_shape)
        self.built = True

    def compute_output_shape(self, input_shape):
        return self._check_shapes(input_shape)

    def call(self, inputs, training=False):
        _check_list(inputs, "A merge layer", " (not a list of tensors)")
        self._check_shapes([x.shape for x in inputs])
        if training:
            self._shapes = [x.shape for x in inputs]
            self._inputs = list(inputs) if self._keeps_inputs else None
        return self._merge(inputs)

    _keeps_inputs = False

    def compute_mask(self, inputs, mask=None):
        return _or_masks(mask, self)

    def _merge(self, inputs):
        raise NotImplementedError

    def _input_grads(self, grad):
        """dL/dinput_i (broadcast to the output shape) for each input."""
        raise NotImplementedError

    def backward(self, grad_output):
        grads = self._input_grads(grad_output)
        out, seen = [], set()
        for g, shape in zip(grads, self._shapes):
            g = _sum_to_shape(g, shape)
            if id(g) in seen:
                g = g.copy()  # each receiver may overwrite its gradient in place
            seen.add(id(g))
            out.append(g)
        return out


class Add(_Merge):
    """Elementwise sum of a list of tensors: ``Add()([x1, x2])``."""

    def _merge(self, inputs):
        out = inputs[0] + inputs[1] if len(inputs) > 1 else inputs[0].copy()
        for x in inputs[2:]:
            out += x
        return out

    def _input_grads(self, grad):
        return [grad] * len(self._shapes)


class Subtract(_Merge):
    """``x1 - x2`` for exactly two tensors."""

    _min_inputs = _max_inputs = 2

    def _merge(self, inputs):
        return inputs[0] - inputs[1]

    def _input_grads(self, grad):
        return [grad, -grad]


class Multiply(_Merge):
    """Elementwise product of a list of tensors.

    With Keras's masks (``mask``: one ``(batch, steps)`` or None per input), as
    Keras 3: a masked step of an input counts as 1, and when every input has a mask
    the steps masked in all of them give 0."""

    _keeps_inputs = True
    takes_mask = True
    mask_per_input = True

    def call(self, inputs, training=False, mask=None):
        if mask is None or all(m is None for m in mask):
            if training:
                self._gates = None
            return super().call(inputs, training=training)
        _check_list(inputs, "A merge layer", " (not a list of tensors)")
        masks = [None if m is None else np.asarray(m, bool)[..., None] for m in mask]
        # masked steps hold 1 (the product's identity)
        inputs = [x if m is None else np.where(m, x, x.dtype.type(1))
                  for x, m in zip(inputs, masks)]
        keep = None
        if all(m is not None for m in masks):
            keep = np.logical_or.reduce(np.broadcast_arrays(*masks))
        out = super().call(inputs, training=training)
        if keep is not None:
            out = np.where(keep, out, out.dtype.type(0))
        if training:
            self._gates = (masks, keep)
        return out

    def backward(self, grad_output):
        gates = getattr(self, "_gates", None)
        if gates is None:
            return super().backward(grad_output)
        masks, keep = gates
        if keep is not None:
            grad_output = np.where(keep, grad_output, grad_output.dtype.type(0))
        grads = super().backward(grad_output)
        # a masked step's 1 is a constant: no gradient reaches the input there
        return [g if m is None else np.where(m, g, g.dtype.type(0)).astype(g.dtype)
                for g, m in zip(grads, masks)]

    def _merge(self, inputs):
        out = inputs[0] * inputs[1] if len(inputs) > 1 else inputs[0].copy()
        for x in inputs[2:]:
            out *= x
        return out

    def _input_grads(self, grad):
        # d(x1 x2 ... xn)/dxi = the product of the others
        grads = []
        for i in range(len(self._inputs)):
            g = grad.copy()
            for j, x in enumerate(self._inputs):
                if j != i:
                    g = g * x
            grads.append(g)
        return grads


class Average(_Merge):
    """Elementwise mean of a list of tensors."""

    def _merge(self, inputs):
        out = Add._merge(self, inputs)
        out *= out.dtype.type(1.0 / len(inputs))
        return out

    def _input_grads(self, grad):
        g = grad * grad.dtype.type(1.0 / len(self._shapes))
        return [g] * len(self._shapes)


class _Extremum(_Merge):
    _keeps_inputs = True
    _ufunc = None

    def _merge(self, inputs):
        out = inputs[0].copy() if len(inputs) == 1 else self._ufunc(inputs[0], inputs[1])
        for x in inputs[2:]:
            self._ufunc(out, x, out=out)
        return out

    def _input_grads(self, grad):
        # the gradient goes to the first input holding the extreme value
        out = self._merge(self._inputs)
        rest = grad.copy()
        grads = []
        for x in self._inputs:
            hit = np.broadcast_to(x, out.shape) == out
            grads.append(np.where(hit, rest, 0).astype(grad.dtype, copy=False))
            rest[hit] = 0
        return grads


class Maximum(_Extremum):
    """Elementwise maximum of a list of tensors."""

    _ufunc = np.maximum


class Minimum(_Extremum):
    """Elementwise minimum of a list of tensors."""

    _ufunc = np.minimum


class Concatenate(Layer):
    """Joins a list of tensors along ``axis`` (default -1, the channels or features).

    All other axes must match. Example: ``Concatenate()([a, b])`` with shapes
    ``(batch, 8, 8, 16)`` and ``(batch, 8, 8, 32)`` gives ``(batch, 8, 8, 48)``.
    """

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = int(axis)
        self._sizes = None

    def compute_output_shape(self, input_shape):
        if not _is_shape_list(input_shape):
            raise ValueError(
                "A `Concatenate` layer should be called on a list of inputs. "
                f"Received: input_shape={input_shape}"
            )
        shapes = [tuple(s) for s in input_shape]
        rank = len(shapes[0])
        if not -rank <= self.axis < rank:
            raise ValueError(
                f"Argument `axis`={self.axis} is out of bounds for inputs of rank {rank}. "
                f"Received: input_shape={shapes}"
            )
        axis = self.axis % rank
        for shape in shapes[1:]:
            if len(shape) != rank or any(
                    a is not None and b is not None and a != b
                    for k, (a, b) in enumerate(zip(shape, shapes[0])) if k != axis):
                raise ValueError(
                    "A `Concatenate` layer requires inputs with matching shapes except for "
                    f"the concatenation axis. Received: input_shape={shapes}"
                )
        sizes = [s[axis] for s in shapes]
        out = list(shapes[0])
        out[axis] = None if None in sizes else sum(sizes)
        return tuple(out)

    def build(self, input_shape):
        self.compute_output_shape(input_shape)
        self.built = True

    supports_masking = True

    def compute_mask(self, inputs, mask=None):
        """Keras's rule: the inputs' masks ``(batch, steps)`` (all True for an input
        without one) joined along ``axis``, then any over the last axis: joined
        along the steps, the masks are concatenated; along the features, a step is
        kept when any input keeps it."""
        if mask is None:
            return None
        _check_mask_list(mask, inputs, self)
        if all(m is None for m in mask):
            return None
        if inputs is None:  # asked whether a mask comes out: it does
            return True
        full = []
        for x, m in zip(inputs, mask):
            shape = np.shape(x)
            if m is None:
                full.append(np.ones(shape, bool))
            else:
                m = np.asarray(m, bool)
                full.append(np.broadcast_to(m[..., None], shape) if m.ndim < len(shape) else m)
        return np.any(np.concatenate(full, axis=self.axis), axis=-1)

    def call(self, inputs, training=False):
        _check_list(inputs, "A `Concatenate` layer")
        self.compute_output_shape([x.shape for x in inputs])
        if training:
            self._sizes = [x.shape[self.axis] for x in inputs]
        return np.concatenate(inputs, axis=self.axis)

    def backward(self, grad_output):
        cuts = np.cumsum(self._sizes)[:-1]
        # contiguous copies: the receivers reshape them and write in place
        return [np.ascontiguousarray(g) for g in np.split(grad_output, cuts, axis=self.axis)]

    def get_config(self):
        config = super().get_config()
        config["axis"] = self.axis
        return config


def _check_mask_list(mask, inputs, layer):
    if not isinstance(mask, (list, tuple)):
        raise ValueError(f"`mask` of the layer '{layer.name}' should be a list, one mask "
                         f"(or None) per input. Received: mask={mask!r}")
    if inputs is not None and len(mask) != len(inputs):
        raise ValueError(f"The lists `inputs` and `mask` of the layer '{layer.name}' should "
                         f"have the same length. Received: {len(inputs)} inputs and "
                         f"{len(mask)} masks")


def _or_masks(mask, layer):
    """Keras's merge mask: the OR of the inputs' masks if all have one, else None."""
    if mask is None:
        return None
    _check_mask_list(mask, None, layer)
    if any(m is None for m in mask):
        return None
    if all(m is True for m in mask):  # asked whether a mask comes out: it does
        return True
    return np.logical_or.reduce(np.broadcast_arrays(*[np.asarray(m, bool) for m in mask]))


def _functional_form(layer_class):
    """Keras's function for a merging layer: ``add([x1, x2])`` is ``Add()([x1, x2])``."""
    name = layer_class.__name__.lower()

    def merge(inputs, **kwargs):
        return layer_class(**kwargs)(inputs)

    merge.__name__ = merge.__qualname__ = name
    merge.__doc__ = f"Functional form of ``{layer_class.__name__}``: ``{name}([x1, x2])``."
    return merge


add, subtract, multiply, average, maximum, minimum = map(
    _functional_form, (Add, Subtract, Multiply, Average, Maximum, Minimum))


def concatenate(inputs, axis=-1, **kwargs):
    """Functional form of ``Concatenate``."""
    return Concatenate(axis=axis, **kwargs)(inputs)
