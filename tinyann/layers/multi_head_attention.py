"""MultiHeadAttention (Vaswani et al., 2017), Keras 3's layer: four EinsumDense
projections around scaled dot-product attention, with Keras's weight names, shapes
and order (``query/kernel (d, heads, key_dim)``, ``query/bias (heads, key_dim)``, key,
value, ``attention_output/kernel (heads, value_dim, d)``, ``attention_output/bias``).

Forward and backward are explicit: each projection is an EinsumDense (its own
backward), and the attention between them is the reference kernel
``dot_product_attention_forward`` / ``_backward`` (kernels/reference/attention.py).
"""

from __future__ import annotations

import string

import numpy as np

from tinyann import backend, constraints, initializers, regularizers
from tinyann.autodiff import Tensor, recording
from tinyann.kernels.reference import attention as attention_kernels
from tinyann.layers.activations import Softmax
from tinyann.layers.einsum_dense import EinsumDense
from tinyann.layers.keras_masks import get_keras_mask, set_keras_mask
from tinyann.layers.keras_tensor import Node, is_symbolic
from tinyann.layers.layer import Layer
from tinyann.layers.regularization import Dropout
from tinyann.layers.taped_packing import taped_multi_call


class OptionsNode(Node):
    """A call node that also records the call's non-tensor options
    (``use_causal_mask=True``), which a config's ``inbound_nodes`` keeps."""

    options: dict = {}

    @property
    def call_kwargs(self) -> dict:
        kwargs = dict(Node.call_kwargs.fget(self))
        kwargs.update(self.options)
        return kwargs


def note_options(layer, options, tensor_kwargs=None) -> None:
    """Marks ``layer``'s last node with the options it was called with (only those
    that differ from the defaults, as Keras writes them)."""
    node = layer._inbound_nodes[-1]
    node.__class__ = OptionsNode
    node.options = {k: v for k, v in options.items() if v}
    if tensor_kwargs:
        node.tensor_kwargs = dict(tensor_kwargs)


def causal_mask(t, s) -> np.ndarray:
    """``(1, T, S)``: true where key position j <= query position i (lower triangle)."""
    return np.tril(np.ones((t, s), dtype=bool))[None]


def _letters(n, start=0):
    return string.ascii_lowercase[start:start + n]


def projection_equation(free_dims, bound_dims, output_dims):
    """Keras's projection einsum: ``free`` axes kept, ``bound`` axes contracted with
    the kernel, ``output`` axes made: e.g. (2, 1, 2) -> ``"abc,cde->abde"``, bias ``"de"``."""
    free = _letters(free_dims)
    bound = _letters(bound_dims, free_dims)
    made = _letters(output_dims, free_dims + bound_dims)
    return f"{free}{bound},{bound}{made}->{free}{made}", made, free_dims + output_dims


def attention_equations(rank, attention_axes):
    """The dot and combine einsums of projected tensors of ``rank`` (batch, ...,
    heads, channels) attending over ``attention_axes``: scores are laid out as
    (batch and other axes, heads, query attention axes, key attention axes)."""
    target = _letters(rank)
    batch = [i for i in range(rank) if i not in attention_axes and i != rank - 1]
    source, extra = list(target), rank
    for i in attention_axes:
        source[i] = string.ascii_lowercase[extra]
        extra += 1
    source = "".join(source)
    product = "".join([target[i] for i in batch] + [target[i] for i in attention_axes]
                      + [source[i] for i in attention_axes])
    return f"{source},{target}->{product}", f"{product},{source}->{target}", len(product)


class MultiHeadAttention(Layer):
    """Multi-head attention: ``softmax(Q K^T / sqrt(key_dim)) V``, per head, projected back.

    Args:
        num_heads: the number of heads.
        key_dim: the size of each head for query and key.
        value_dim: the size of each head for value (``key_dim`` when None).
        dropout: the dropout rate on the attention scores (training only).
        use_bias: whether the projections have biases.
        output_shape: the output's last axes (the query's last axis when None).
        attention_axes: the axes attention runs over (all between batch and features
            when None).
        kernel_initializer, bias_initializer, kernel_regularizer, bias_regularizer,
        kernel_constraint, bias_constraint: for the four projections.

    Call: ``mha(query, value, key=None, attention_mask=None,
    return_attention_scores=False, training=None, use_causal_mask=False)``; query
    ``(B, T, dim)``, value ``(B, S, dim_v)``, key ``(B, S, dim_k)`` (value when None),
    attention_mask ``(B, T, S)`` (true: may attend). Inputs' Keras masks (from
    ``Embedding(mask_zero=True)``) mask the query rows and the value/key positions.

    Output: ``(B, T, dim)`` (or ``output_shape``); with ``return_attention_scores``
    also the scores ``(B, num_heads, T, S)``. The output's mask is the query's.
    """

    supports_masking = True
    takes_mask = True
    # a model's graph hands it one mask per input (query, value, key)
    mask_per_input = True
    # a config's call writes query and value as two positional arguments
    _positional_inputs = True

    def __init__(self, num_heads, key_dim, value_dim=None, dropout=0.0, use_bias=True,
                 output_shape=None, attention_axes=None, flash_attention=None,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, seed=None, use_gate=False,
                 sliding_window=None, **kwargs):
        for name, value in (("num_heads", num_heads), ("key_dim", key_dim)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or (
                    value <= 0):
                raise ValueError(f"Received an invalid value for `{name}`, expected a "
                                 f"positive integer. Received: {name}={value!r}")
        if use_gate or sliding_window is not None or activity_regularizer is not None:
            raise NotImplementedError("MultiHeadAttention: use_gate, sliding_window and "
                                      "activity_regularizer are not supported by tinyann yet")
        if not 0.0 <= float(dropout) < 1.0:
            raise ValueError("Invalid value received for argument `dropout`. Expected a "
                             f"float value between 0 and 1. Received: dropout={dropout!r}")
        super().__init__(**kwargs)
        self.num_heads, self.key_dim = int(num_heads), int(key_dim)
        self.value_dim = int(value_dim) if value_dim is not None else self.key_dim
        self.dropout = float(dropout)
        self.use_bias = bool(use_bias)
        if isinstance(output_shape, int):
            output_shape = (output_shape,)
        self._output_shape = None if output_shape is None else tuple(output_shape)
        if isinstance(attention_axes, int):
            attention_axes = (attention_axes,)
        self._attention_axes = None if attention_axes is None else tuple(attention_axes)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.seed = seed
        self._rng = None if seed is None else np.random.default_rng(seed)
        self._inverse_sqrt_key_dim = 1.0 / float(np.sqrt(self.key_dim))
        # how the inputs of a symbolic call are laid out (key given? attention_mask
        # given?) and its options: the graph calls `call(inputs)` with them implied
        self._layout = (False, False)
        self._graph_options = {}
        self._cache = None
        self._frozen = False   # inference mode that still caches (_frozen_call)

    # ---------------------------------------------------------------- properties
    query_dense = property(lambda self: self._tracked_get("query_dense"))
    key_dense = property(lambda self: self._tracked_get("key_dense"))
    value_dense = property(lambda self: self._tracked_get("value_dense"))
    output_dense = property(lambda self: self._tracked_get("output_dense"))

    def _tracked_get(self, name):
        return self.__dict__.get("_tracked", {}).get(name)

    @property
    def attention_axes(self):
        return self._attention_axes

    # ---------------------------------------------------------------- calling
    def __call__(self, query, value=None, key=None, query_mask=None, value_mask=None,
                 key_mask=None, attention_mask=None, return_attention_scores=False,
                 training=None, use_causal_mask=False, **kwargs):
        if value is None and isinstance(query, (list, tuple)) and 2 <= len(query) <= 3:
            # a replayed config's positional arguments, [query, value(, key)]
            query, value, key = (list(query) + [key])[:3]
        if value is None:
            raise ValueError(f"Layer '{self.name}' (MultiHeadAttention) needs `query` and "
                             "`value`: call it as mha(query, value).")
        layout = (key is not None, attention_mask is not None)
        inputs = [query, value] + ([key] if key is not None else []) + (
            [attention_mask] if attention_mask is not None else [])
        options = {"use_causal_mask": bool(use_causal_mask),
                   "return_attention_scores": bool(return_attention_scores)}
        if self.built:
            self._check_features(inputs, layout)
        self._build_layout = layout
        if is_symbolic(inputs):
            if self._inbound_nodes and (layout, options) != (self._layout, self._graph_options):
                raise NotImplementedError(
                    f"Layer '{self.name}': tinyann calls a MultiHeadAttention in a model "
                    "with one set of inputs and options; this call differs from its first")
            self._layout, self._graph_options = layout, options
            out = super().__call__(inputs, training=training, **kwargs)
            # key and attention_mask are keyword arguments (Keras's configs write them so)
            note_options(self, options, {name: (1, False) for name, given in
                                         zip(("key", "attention_mask"), layout) if given})
            return out
        # as Keras 3: an eager call reads the query's mask from the query tensor itself
        # (which arrays do not carry), never from `query_mask=`; value_mask and key_mask
        # are used as given
        masks = [get_keras_mask(query),
                 value_mask if value_mask is not None else get_keras_mask(value),
                 key_mask if key_mask is not None or key is None else get_keras_mask(key)]
        for each in (query, value, key):   # as Keras, which takes them off the inputs
            set_keras_mask(each, None)
        call_kwargs = dict(options, mask=masks if any(m is not None for m in masks) else None,
                           layout=layout)
        if recording() and return_attention_scores:
            return self._taped_pair(inputs, training, call_kwargs)
        out = super().__call__(inputs, training=training, **call_kwargs, **kwargs)
        if isinstance(out, tuple):
            return tuple(Tensor(o) if isinstance(o, np.ndarray) else o for o in out)
        return out

    def _taped_pair(self, inputs, training, call_kwargs):
        """An eager call on a tape that returns (output, scores): one node, two outputs."""
        arrays = [np.asarray(getattr(x, "value", x), dtype=self.dtype) for x in inputs]
        self._maybe_build([a.shape for a in arrays])
        return tuple(taped_multi_call(
            self, list(inputs), arrays,
            lambda xs: list(self._caching_runner(training, call_kwargs)(xs)),
            lambda gs: self.backward(gs)))

    def _check_features(self, inputs, layout):
        """Keras-like errors when a built layer gets inputs of other feature sizes."""
        named = [("query", inputs[0], self.query_dense), ("value", inputs[1], self.value_dense)]
        if layout[0]:
            named.append(("key", inputs[2], self.key_dense))
        for name, x, dense in named:
            shape = tuple(x.shape) if hasattr(x, "shape") else np.shape(x)
            if shape and shape[-1] is not None and shape[-1] != dense.kernel.shape[0]:
                raise ValueError(
                    f"Layer '{self.name}' (MultiHeadAttention) was built for a {name} with "
                    f"last dimension {dense.kernel.shape[0]}, but received a {name} of "
                    f"shape {shape}")

    # ---------------------------------------------------------------- building
    def _split_shapes(self, shapes, layout=None):
        has_key, has_mask = layout or getattr(self, "_build_layout", self._layout)
        query, value = tuple(shapes[0]), tuple(shapes[1])
        key = tuple(shapes[2]) if has_key else value
        return query, value, key

    def build(self, input_shape):
        query_shape, value_shape, key_shape = self._split_shapes(input_shape)
        if value_shape[1:-1] != key_shape[1:-1]:
            raise ValueError(
                "All dimensions of `value` and `key`, except the last one, must be equal. "
                f"Received: value_shape={value_shape} and key_shape={key_shape}")
        common = dict(kernel_regularizer=self.kernel_regularizer,
                      bias_regularizer=self.bias_regularizer,
                      kernel_constraint=self.kernel_constraint,
                      bias_constraint=self.bias_constraint, dtype=self.dtype)

        def dense(rank, bound, made_shape, name):
            equation, bias_axes, out_rank = projection_equation(rank - 1, bound,
                                                                len(made_shape))
            # each projection draws its own kernel from a copy of the initializer
            return EinsumDense(
                equation, [None] * (out_rank - 1 - len(made_shape)) + list(made_shape),
                bias_axes=bias_axes if self.use_bias else None, name=name,
                kernel_initializer=type(self.kernel_initializer).from_config(
                    self.kernel_initializer.get_config()),
                bias_initializer=type(self.bias_initializer).from_config(
                    self.bias_initializer.get_config()), **common)

        heads_key, heads_value = [self.num_heads, self.key_dim], [self.num_heads, self.value_dim]
        query_dense = dense(len(query_shape), 1, heads_key, "query")
        key_dense = dense(len(key_shape), 1, heads_key, "key")
        value_dense = dense(len(value_shape), 1, heads_value, "value")
        out_shape = list(self._output_shape or [query_shape[-1]])
        output_dense = dense(len(query_shape), 2, out_shape, "attention_output")
        query_dense._maybe_build(query_shape)
        key_dense._maybe_build(key_shape)
        value_dense._maybe_build(value_shape)
        rank = len(query_shape) + 1
        if self._attention_axes is None:
            self._attention_axes = tuple(range(1, rank - 2))
        else:
            self._attention_axes = tuple(a if a >= 0 else rank - 1 + a
                                         for a in self._attention_axes)
        self._dot_equation, self._combine_equation, scores_rank = attention_equations(
            rank, self._attention_axes)
        self._norm_axes = tuple(range(scores_rank - len(self._attention_axes), scores_rank))
        projected = list(query_dense.compute_output_shape(query_shape))
        projected[-1] = self.value_dim
        output_dense._maybe_build(tuple(projected))
        # Keras's attributes, in its order: the weights list query, key, value, output;
        # its files hold the softmax and dropout (no weights) too
        self._tracked = {"query_dense": query_dense, "key_dense": key_dense,
                         "value_dense": value_dense, "output_dense": output_dense,
                         "_softmax": Softmax(axis=self._norm_axes, dtype=self.dtype),
                         "_dropout_layer": Dropout(self.dropout, dtype=self.dtype)}
        self._build_shapes = (query_shape, value_shape,
                              key_shape if self._split_layout()[0] else None)
        self.built = True

    def _split_layout(self):
        return getattr(self, "_build_layout", self._layout)

    def build_config(self):
        """Keras's ``build_config``: ``{"shapes_dict": {"query_shape", "value_shape"...}}``."""
        if not self.built or not hasattr(self, "_build_shapes"):
            return None
        query, value, key = self._build_shapes
        shapes = {"query_shape": list(query), "value_shape": list(value)}
        if key is not None:
            shapes["key_shape"] = list(key)
        return {"shapes_dict": shapes}

    def compute_output_shape(self, input_shape):
        query, value, key = self._split_shapes(input_shape)
        if value[1:-1] != key[1:-1]:
            raise ValueError(
                "All dimensions of `value` and `key`, except the last one, must be equal. "
                f"Received: value_shape={value} and key_shape={key}")
        out = tuple(query[:-1]) + (self._output_shape or (query[-1],))
        if not self._graph_options.get("return_attention_scores"):
            return out
        axes = self._attention_axes or tuple(range(1, len(query) - 1))
        others = [query[i] for i in range(1, len(query) - 1) if i not in axes]
        scores = (query[0], *others, self.num_heads, *[query[i] for i in axes],
                  *[value[i] for i in axes])
        return [out, scores]

    def compute_mask(self, inputs, mask=None):
        if isinstance(mask, (list, tuple)):
            return mask[0]
        return mask

    # ---------------------------------------------------------------- forward
    def _attention_mask(self, query, value, key, masks, attention_mask, causal):
        """Keras's combined boolean mask ``(B, T, S)`` (None when nothing masks):
        the query mask on rows, value and key masks on columns, the causal triangle,
        the given attention_mask, all and-ed."""
        query_mask, value_mask, key_mask = masks
        out = None

        def both(a, b):
            return b if a is None else a & b

        if query_mask is not None:
            out = np.asarray(query_mask).astype(bool)[..., None]
        if value_mask is not None:
            out = both(out, np.asarray(value_mask).astype(bool)[..., None, :])
        if key_mask is not None:
            out = both(out, np.asarray(key_mask).astype(bool)[..., None, :])
        if causal:
            out = both(out, causal_mask(query.shape[1], value.shape[1]))
        if attention_mask is not None:
            out = both(np.asarray(attention_mask) != 0, out) if out is not None else (
                np.asarray(attention_mask) != 0)
        return out

    def _masks(self, mask, query, value, key, has_key):
        """``[query_mask, value_mask, key_mask]`` from the ``mask`` a call received: a
        list (eager calls; a model's graph passes one per input), or the query's alone:
        it is then also the value's (and key's) when value is the query."""
        if mask is None:
            return [None, None, None]
        if isinstance(mask, (list, tuple)):
            masks = list(mask) + [None] * (3 - len(mask))
            return masks[:3]
        return [mask, mask if value is query else None,
                mask if has_key and key is query else None]

    def call(self, inputs, training=False, mask=None, use_causal_mask=None,
             return_attention_scores=None, layout=None):
        layout = layout or self._layout
        has_key, has_mask = layout
        query, value = inputs[0], inputs[1]
        key = inputs[2] if has_key else value
        attention_mask = inputs[-1] if has_mask else None
        options = self._graph_options
        causal = options.get("use_causal_mask", False) if use_causal_mask is None \
            else use_causal_mask
        with_scores = options.get("return_attention_scores", False) \
            if return_attention_scores is None else return_attention_scores
        masks = self._masks(mask, query, value, key, has_key)
        full_mask = self._attention_mask(query, value, key, masks, attention_mask, causal)
        q = self.query_dense.call(query, training=training)
        k = self.key_dense.call(key, training=training)
        v = self.value_dense.call(value, training=training)
        if full_mask is not None:
            # (B, T, S) -> the scores' rank: size-1 axes where the heads are
            scores_rank = len(self._norm_axes) * 2 + (q.ndim - 1 - len(self._attention_axes))
            while full_mask.ndim < scores_rank:
                full_mask = np.expand_dims(full_mask, -len(self._attention_axes) * 2 - 1)
        scale = q.dtype.type(self._inverse_sqrt_key_dim)
        dropping = training and self.dropout > 0 and not self._frozen
        keep = self._dropout_keep if dropping else None
        # Keras runs a fused kernel unless it must return the scores, has dropout or
        # projects to other than 4 axes: a query row masked throughout then attends
        # uniformly to every step; its Softmax layer's path gives that row zeros
        fused = not with_scores and self.dropout == 0 and q.ndim == 4
        out, scores, keep = attention_kernels.dot_product_attention_forward(
            q, k, v, self._dot_equation, self._combine_equation, scale, full_mask,
            self._norm_axes, keep, zero_masked=not fused)
        y = self.output_dense.call(out.astype(query.dtype, copy=False), training=training)
        if training:
            self._cache = (q, k, v, scores, full_mask, keep, scale, layout, key is value)
        return (y, scores) if with_scores else y

    def _dropout_keep(self, shape, dtype):
        """Inverted dropout's scaled keep mask: 0 or 1 / (1 - rate)."""
        rng = self._rng if self._rng is not None else backend.rng()
        return (rng.random(shape) >= self.dropout).astype(dtype) * dtype.type(
            1.0 / (1.0 - self.dropout))

    def _frozen_call(self, inputs, mask=None, **kwargs):
        """Inference mode in a training step: no dropout, the cache kept."""
        self._frozen = True
        try:
            return self.call(inputs, training=True, mask=mask, **kwargs)
        finally:
            self._frozen = False

    def _caching_runner(self, training, kwargs=None):
        """On a tape: the call with its options, in inference mode unless training."""
        kwargs = kwargs or {}
        if training:
            return lambda x: self.call(x, training=True, **kwargs)
        return lambda x: self._frozen_call(x, **kwargs)

    # ---------------------------------------------------------------- backward
    def backward(self, grad_output):
        if isinstance(grad_output, (list, tuple)):
            grad, grad_scores = grad_output[0], grad_output[1]
        else:
            grad, grad_scores = grad_output, None
        q, k, v, scores, full_mask, keep, scale, layout, key_is_value = self._cache
        has_key, has_mask = layout
        for sub in (self.query_dense, self.key_dense, self.value_dense):
            sub._needs_input_grad = self._needs_input_grad
        self.output_dense._needs_input_grad = True
        d_out = self.output_dense.backward(grad)
        dq, dk, dv = attention_kernels.dot_product_attention_backward(
            q, k, v, scores, d_out, self._dot_equation, self._combine_equation, scale,
            full_mask, self._norm_axes, keep, grad_scores)
        d_query = self.query_dense.backward(dq.astype(q.dtype, copy=False))
        d_key = self.key_dense.backward(dk.astype(k.dtype, copy=False))
        d_value = self.value_dense.backward(dv.astype(v.dtype, copy=False))
        if not self._needs_input_grad:  # (one None per input, as a tape's node wants)
            return [None] * (2 + has_key + has_mask)
        grads = [d_query, d_value if has_key else d_value + d_key]
        if has_key:
            grads.append(d_key)
        if has_mask:
            grads.append(None)
        return grads

    # ---------------------------------------------------------------- config
    def get_config(self):
        config = super().get_config()
        config.update(
            num_heads=self.num_heads, key_dim=self.key_dim, value_dim=self.value_dim,
            dropout=self.dropout, use_bias=self.use_bias, use_gate=False,
            output_shape=self._output_shape,
            attention_axes=None if self._attention_axes is None else list(
                self._attention_axes),
            sliding_window=None,
            kernel_initializer=initializers.serialize(self.kernel_initializer),
            bias_initializer=initializers.serialize(self.bias_initializer),
            kernel_regularizer=regularizers.serialize(self.kernel_regularizer),
            bias_regularizer=regularizers.serialize(self.bias_regularizer),
            activity_regularizer=None,
            kernel_constraint=constraints.serialize(self.kernel_constraint),
            bias_constraint=constraints.serialize(self.bias_constraint), seed=self.seed)
        return config
