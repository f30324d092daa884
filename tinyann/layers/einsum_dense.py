"""EinsumDense: a dense layer whose product is any einsum of the input and a kernel
(Keras's, the projections inside MultiHeadAttention)."""

from __future__ import annotations

import re

import numpy as np

from tinyann import activations, constraints, initializers, regularizers
from tinyann.kernels.reference import attention as attention_kernels
from tinyann.layers._kernel_layer import deactivate
from tinyann.layers.layer import Layer

_FORMS = (  # (pattern over the equation with "..." as "0", where the ellipsis is)
    (re.compile(r"^([a-zA-Z]+),([a-zA-Z]+)->([a-zA-Z]+)$"), None),
    (re.compile(r"^0([a-zA-Z]+),([a-zA-Z]+)->0([a-zA-Z]+)$"), "left"),
    (re.compile(r"^([a-zA-Z]{2,})0,([a-zA-Z]+)->([a-zA-Z]+)0$"), "right"),
)


def analyze_equation(equation, bias_axes, input_shape, output_shape):
    """Keras's reading of an EinsumDense equation.

    Returns ``(kernel_shape, bias_shape or None, full_output_shape, input_axes,
    output_axes)``: the kernel's axes that the input's axes give (input_axes) and
    those the output's give (output_axes), which set the initializer's fans.
    """
    text = equation.replace(" ", "").replace("...", "0")
    found = [(p.match(text), side) for p, side in _FORMS if p.match(text)]
    if found:
        match, elided_side = found[0]
    else:
        raise ValueError(
            f"Invalid einsum equation '{equation}'. Equations must be in the form "
            "[X],[Y]->[Z], ...[X],[Y]->...[Z], or [X]...,[Y]->[Z]....")
    in_spec, w_spec, out_spec = match.groups()
    input_shape = tuple(input_shape)
    elided = len(input_shape) - len(in_spec)
    if elided < 0 or (elided > 0 and elided_side is None):
        raise ValueError(
            f"The equation '{equation}' expects inputs of rank {len(in_spec)}"
            f"{' or more' if elided_side else ''}. Received input shape {input_shape}")
    partial = [output_shape] if isinstance(output_shape, int) else list(output_shape)
    # the full output: the batch axis, then the elided axes where the ellipsis is
    full = [input_shape[0]] + partial
    if elided_side == "left":
        full[1:1] = list(input_shape[1:elided])
    elif elided_side == "right":
        full += list(input_shape[len(input_shape) - elided:])
    first_in = elided if elided_side == "left" else 0
    first_out = elided if elided_side == "left" else 0
    in_axis = {c: first_in + i for i, c in enumerate(in_spec)}
    out_axis = {c: first_out + i for i, c in enumerate(out_spec)}
    named = len(out_spec) if elided_side == "left" else len(out_spec) - 1
    if len(partial) != named:
        raise ValueError(
            f"The output_shape {tuple(partial)} does not fit the equation '{equation}' "
            f"for input shape {input_shape}: expected {named} sizes (the output's named "
            "axes, without the batch axis)")
    for c in in_spec:
        if c in out_axis:
            size, given = input_shape[in_axis[c]], full[out_axis[c]]
            if given is None:
                full[out_axis[c]] = size
            elif size is not None and given != size:
                raise ValueError(
                    f"Input shape and output shape do not match at shared dimension '{c}'. "
                    f"Input shape is {size}, and output shape is {given}.")
    for c in out_spec:
        if c not in in_spec and c not in w_spec:
            raise ValueError(
                f"Dimension '{c}' was specified in the output '{out_spec}' but has no "
                f"corresponding dim in the input spec '{in_spec}' or weight spec "
                f"'{w_spec}'")
    kernel_shape, input_axes, output_axes = [], [], []
    for i, c in enumerate(w_spec):
        if c in out_axis:
            kernel_shape.append(full[out_axis[c]])
            output_axes.append(i)
        elif c in in_axis:
            kernel_shape.append(input_shape[in_axis[c]])
            input_axes.append(i)
        else:
            raise ValueError(
                f"Weight dimension '{c}' did not have a match in either the input spec "
                f"'{in_spec}' or the output spec '{out_spec}'. For this layer, the weight "
                "must be fully specified.")
    if None in kernel_shape:
        raise ValueError(f"The kernel of equation '{equation}' needs defined sizes; "
                         f"received input shape {input_shape} and output_shape "
                         f"{tuple(partial)}")
    bias_shape = None
    if bias_axes is not None:
        for c in bias_axes:
            if c not in out_spec:
                raise ValueError(f"Bias dimension '{c}' was requested, but is not part of "
                                 f"the output spec '{out_spec}'")
        # the bias spans the output from its first biased axis on (size 1 elsewhere)
        first = min(out_spec.find(c) for c in bias_axes)
        bias_shape = [full[out_axis[c]] if c in bias_axes else 1 for c in out_spec[first:]]
        if elided_side == "right":
            bias_shape += [1] * elided
    return tuple(kernel_shape), bias_shape and tuple(bias_shape), tuple(full), \
        input_axes, output_axes


def _fan_initializer(initializer, kernel_shape, input_axes, output_axes):
    """Keras's VarianceScaling for an einsum kernel: the fans are the products of the
    input and output axes' sizes, so draw a ``(fan_in, fan_out)`` matrix and lay it
    out as the kernel."""
    if not isinstance(initializer, initializers.VarianceScaling):
        return initializer

    def draw(shape, dtype=None):
        sizes_in = [kernel_shape[a] for a in input_axes]
        sizes_out = [kernel_shape[a] for a in output_axes]
        flat = initializer((int(np.prod(sizes_in)), int(np.prod(sizes_out))), dtype=dtype)
        grouped = np.asarray(flat).reshape(sizes_in + sizes_out)
        order = list(input_axes) + list(output_axes)
        return np.transpose(grouped, np.argsort(order)).copy()

    return draw


class EinsumDense(Layer):
    """``output = activation(einsum(equation, inputs, kernel) + bias)``.

    Args:
        equation: ``"ab,bc->ac"`` (Dense), ``"abc,cde->abde"`` (a projection to heads),
            or with an ellipsis: ``"...b,bc->...c"``. The first input letter is the batch.
        output_shape: the output's shape without the batch axis (None for a size the
            input gives); an int for one axis.
        activation: an activation name or object (None: linear).
        bias_axes: the output letters the bias spans (None: no bias).
        kernel_initializer, bias_initializer, kernel_regularizer, bias_regularizer,
        kernel_constraint, bias_constraint: as Dense's.

    Weights: ``kernel`` (its letters' sizes), ``bias`` (from its first biased output axis
    on, 1 on the others).

    Example:
        >>> EinsumDense("abc,cde->abde", (5, 2, 3), bias_axes="de")(np.ones((4, 5, 8))).shape
        (4, 5, 2, 3)
    """

    _grads_written = True   # (see Layer)

    def __init__(self, equation, output_shape, activation=None, bias_axes=None,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, kernel_constraint=None,
                 bias_constraint=None, lora_rank=None, lora_alpha=None,
                 gptq_unpacked_column_size=None, quantization_config=None,
                 activity_regularizer=None, **kwargs):
        if lora_rank is not None or quantization_config is not None or (
                activity_regularizer is not None):
            raise NotImplementedError("EinsumDense: lora_rank, quantization_config and "
                                      "activity_regularizer are not supported by tinyann yet")
        if not isinstance(equation, str) or "->" not in equation or "," not in equation:
            raise ValueError("Invalid einsum equation: expected a string such as "
                             f"'ab,bc->ac'. Received: equation={equation!r}")
        super().__init__(**kwargs)
        self.equation = equation
        self.partial_output_shape = (output_shape,) if isinstance(output_shape, int) \
            else tuple(output_shape)
        self.bias_axes = bias_axes
        self.activation = activations.get(activation)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.kernel = self.bias = None
        self._x = self._y = self._z = None

    def build(self, input_shape):
        kernel_shape, bias_shape, full, in_axes, out_axes = analyze_equation(
            self.equation, self.bias_axes, input_shape, self.partial_output_shape)
        self._input_rank = len(input_shape)
        self._full_output_shape = full
        self.kernel = self.add_weight(
            kernel_shape, _fan_initializer(self.kernel_initializer, kernel_shape, in_axes,
                                           out_axes),
            name="kernel", regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint)
        if bias_shape is not None:
            self.bias = self.add_weight(bias_shape, self.bias_initializer, name="bias",
                                        regularizer=self.bias_regularizer,
                                        constraint=self.bias_constraint)
        self.built = True

    def _check_input(self, shape):
        if len(shape) != self._input_rank:
            raise ValueError(
                f"Input 0 of layer '{self.name}' is incompatible with the layer: expected "
                f"ndim={self._input_rank}, found ndim={len(shape)}. Full shape received: "
                f"{tuple(shape)}")

    def compute_output_shape(self, input_shape):
        full = analyze_equation(self.equation, self.bias_axes, input_shape,
                                self.partial_output_shape)[2]
        return self.activation.output_shape(full)

    def call(self, inputs, training=False):
        z = attention_kernels.einsum_forward(self.equation, inputs, self.kernel.value)
        if self.bias is not None:
            z += self.bias.value
        if self.activation.needs_input:
            y = self.activation.forward(z, self.activation.new_output(z))
        else:
            y = self.activation.forward(z, z)
        if training:
            self._x, self._y = inputs, y
            self._z = z if self.activation.needs_input else None
        return y

    def backward(self, grad_output):
        g = np.array(grad_output, dtype=self._y.dtype).reshape(self._y.shape)
        dz = deactivate(self, g)
        return self.backward_preactivation(dz)

    def backward_preactivation(self, dz, out_shape=None):
        """The backward pass from dL/dz (z = einsum(x, kernel) + bias)."""
        if self.bias is not None:
            # db: dz summed over the axes the bias is broadcast along
            lead = dz.ndim - self.bias.value.ndim
            axes = tuple(range(lead)) + tuple(
                lead + i for i, s in enumerate(self.bias.shape)
                if s == 1 and dz.shape[lead + i] != 1)
            self.bias.grad[...] = np.sum(dz, axis=axes).reshape(self.bias.shape)
        dx, dk = attention_kernels.einsum_backward(self.equation, self._x, self.kernel.value,
                                                   dz, self._needs_input_grad)
        self.kernel.grad[...] = dk
        return dx

    def get_config(self):
        config = super().get_config()
        config.update(
            output_shape=self.partial_output_shape, equation=self.equation,
            activation=self.activation.name, bias_axes=self.bias_axes,
            kernel_initializer=initializers.serialize(self.kernel_initializer),
            bias_initializer=initializers.serialize(self.bias_initializer),
            kernel_regularizer=regularizers.serialize(self.kernel_regularizer),
            bias_regularizer=regularizers.serialize(self.bias_regularizer),
            activity_regularizer=None,
            kernel_constraint=constraints.serialize(self.kernel_constraint),
            bias_constraint=constraints.serialize(self.bias_constraint),
            quantization_config=None)
        return config
