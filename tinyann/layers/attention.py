"""Attention (Luong's dot-product) and AdditiveAttention (Bahdanau's), Keras 3's
layers: ``softmax(scores(query, key)) @ value`` over ``[query, value(, key)]``.

The math (scores, the masked softmax, their gradients) is in
kernels/reference/attention.py; ``backward`` chains it by hand.
"""

from __future__ import annotations

import numpy as np

from tinyann import backend
from tinyann.autodiff import Tensor, recording
from tinyann.kernels.reference import attention as attention_kernels
from tinyann.layers.keras_tensor import is_symbolic
from tinyann.layers.layer import Layer
from tinyann.layers.multi_head_attention import causal_mask, note_options
from tinyann.layers.taped_packing import taped_multi_call


class Attention(Layer):
    """Dot-product attention: ``softmax(scores) @ value`` with ``scores = query @ key^T``
    (``score_mode='dot'``) or ``sum(tanh(query + key))`` (``'concat'``).

    Args:
        use_scale: learn a scalar ``scale`` multiplying the scores (for ``'concat'``
            it multiplies ``query + key`` inside the tanh).
        score_mode: ``'dot'`` or ``'concat'`` (with a learned scalar
            ``concat_score_weight`` on the sum).
        dropout: the dropout rate on the attention weights (training only).
        seed: for the dropout.

    Call: ``layer([query, value])`` or ``layer([query, value, key])`` (key: the value
    when not given), ``mask=[query_mask, value_mask]``, ``return_attention_scores``,
    ``use_causal_mask``. Shapes: query ``(B, Tq, dim)``, value ``(B, Tv, dim_v)``, key
    ``(B, Tv, dim)``; output ``(B, Tq, dim_v)``, scores ``(B, Tq, Tv)``. A masked value
    step is not attended to; a masked query step gives zeros. The output's mask is
    the query's.
    """

    supports_masking = True
    takes_mask = True
    # a model's graph hands it one mask per input (query, value, key)
    mask_per_input = True
    _SCORE_MODES = ("dot", "concat")

    def __init__(self, use_scale=False, score_mode="dot", dropout=0.0, seed=None, **kwargs):
        if score_mode not in self._SCORE_MODES:
            raise ValueError("Invalid value for argument score_mode. Expected one of "
                             f"{{'dot', 'concat'}}. Received: score_mode={score_mode}")
        if not 0.0 <= float(dropout) < 1.0:
            raise ValueError("Invalid value received for argument `dropout`. Expected a "
                             f"float value between 0 and 1. Received: dropout={dropout!r}")
        super().__init__(**kwargs)
        self.use_scale = bool(use_scale)
        self.score_mode = score_mode
        self.dropout = float(dropout)
        self.seed = seed
        self._rng = None if seed is None else np.random.default_rng(seed)
        self.scale = self.concat_score_weight = None
        self._graph_options = {}
        self._cache = None

    # ---------------------------------------------------------------- calling
    def __call__(self, inputs, mask=None, training=None, return_attention_scores=False,
                 use_causal_mask=False, **kwargs):
        self._validate(inputs, mask)
        options = {"use_causal_mask": bool(use_causal_mask),
                   "return_attention_scores": bool(return_attention_scores)}
        if is_symbolic(inputs):
            if self._inbound_nodes and options != self._graph_options:
                raise NotImplementedError(
                    f"Layer '{self.name}': tinyann calls an attention layer in a model with "
                    "one set of options; this call differs from its first")
            self._graph_options = options
            out = super().__call__(list(inputs), training=training, **kwargs)
            note_options(self, options)
            return out
        call_kwargs = dict(options, mask=mask)
        if recording() and return_attention_scores:
            arrays = [np.asarray(getattr(x, "value", x), dtype=self.dtype) for x in inputs]
            self._maybe_build([a.shape for a in arrays])
            return tuple(taped_multi_call(
                self, list(inputs), arrays,
                lambda xs: list(self._caching_runner(training, call_kwargs)(xs)),
                lambda gs: self.backward(gs)))
        out = super().__call__(list(inputs), training=training, **call_kwargs, **kwargs)
        if isinstance(out, tuple):
            return tuple(Tensor(o) if isinstance(o, np.ndarray) else o for o in out)
        return out

    def _validate(self, inputs, mask):
        name = type(self).__name__
        if not isinstance(inputs, (list, tuple)):
            raise ValueError(f"{name} layer must be called on a list of inputs, namely "
                             f"[query, value] or [query, value, key]. Received: "
                             f"inputs={inputs!r}.")
        if not 2 <= len(inputs) <= 3:
            raise ValueError(f"{name} layer accepts inputs list of length 2 or 3, namely "
                             "[query, value] or [query, value, key]. Received length: "
                             f"{len(inputs)}.")
        if mask is not None and (not isinstance(mask, (list, tuple))
                                 or not 2 <= len(mask) <= 3):
            raise ValueError(f"{name} layer mask must be a list of length 2 or 3, namely "
                             f"[query_mask, value_mask]. Received: mask={mask!r}.")

    # ---------------------------------------------------------------- building
    def _check_shapes(self, input_shape):
        query, value = input_shape[0], input_shape[1]
        key = input_shape[2] if len(input_shape) > 2 else value
        if query[-1] is not None and key[-1] is not None and query[-1] != key[-1]:
            raise ValueError(
                f"Layer '{self.name}' ({type(self).__name__}): query and key must have the "
                f"same last dimension. Received: query shape {tuple(query)}, key shape "
                f"{tuple(key)}")
        if key[-2] is not None and value[-2] is not None and key[-2] != value[-2]:
            raise ValueError(
                f"Layer '{self.name}' ({type(self).__name__}): value and key must have "
                f"the same number of steps. Received: value shape {tuple(value)}, key "
                f"shape {tuple(key)}")

    def build(self, input_shape):
        self._check_shapes(input_shape)
        if self.use_scale:
            self.scale = self.add_weight((), "ones", name="scale")
        if self.score_mode == "concat":
            self.concat_score_weight = self.add_weight((), "ones", name="concat_score_weight")
        self.built = True

    def compute_output_shape(self, input_shape):
        self._check_shapes(input_shape)
        query, value = tuple(input_shape[0]), tuple(input_shape[1])
        key = tuple(input_shape[2]) if len(input_shape) > 2 else value
        out = query[:-1] + (value[-1],)
        if self._graph_options.get("return_attention_scores"):
            return [out, query[:-1] + (key[-2],)]
        return out

    def compute_mask(self, inputs, mask=None):
        if isinstance(mask, (list, tuple)):
            return mask[0]
        return mask

    # ---------------------------------------------------------------- forward
    def _scores(self, q, k):
        if self.score_mode == "dot":
            return attention_kernels.dot_scores(
                q, k, None if self.scale is None else self.scale.value), None
        return attention_kernels.tanh_scores(
            q, k, inner=None if self.scale is None else self.scale.value,
            outer=self.concat_score_weight.value)

    def _score_grads(self, q, k, t, grad):
        """(dquery, dkey) and the weights' gradients written."""
        if self.score_mode == "dot":
            dq, dk, dscale = attention_kernels.dot_scores_backward(
                q, k, grad, None if self.scale is None else self.scale.value)
        else:
            dq, dk, dscale, _, douter = attention_kernels.tanh_scores_backward(
                q, k, t, grad, inner=None if self.scale is None else self.scale.value,
                outer=self.concat_score_weight.value)
            self.concat_score_weight.grad[...] = douter
        if self.scale is not None:
            self.scale.grad[...] = dscale
        return dq, dk

    def _masks(self, mask, inputs):
        """(query_mask, value_mask): a list as given, or the one mask a model's graph
        passes (its first input's: the query's, and the value's when value is query)."""
        if mask is None:
            return None, None
        if isinstance(mask, (list, tuple)):
            return mask[0], mask[1]
        return mask, mask if inputs[1] is inputs[0] else None

    def call(self, inputs, training=False, mask=None, use_causal_mask=None,
             return_attention_scores=None):
        q, v = inputs[0], inputs[1]
        k = inputs[2] if len(inputs) > 2 else v
        options = self._graph_options
        causal = options.get("use_causal_mask", False) if use_causal_mask is None \
            else use_causal_mask
        with_scores = options.get("return_attention_scores", False) \
            if return_attention_scores is None else return_attention_scores
        q_mask, v_mask = self._masks(mask, inputs)
        scores, t = self._scores(q, k)
        score_mask = None if v_mask is None else np.asarray(v_mask).astype(bool)[:, None, :]
        if causal:
            tri = causal_mask(scores.shape[-2], scores.shape[-1])
            score_mask = tri if score_mask is None else score_mask & tri
        weights = attention_kernels.padded_softmax_forward(scores, score_mask)
        keep = None
        if training and self.dropout > 0:
            rng = self._rng if self._rng is not None else backend.rng()
            keep = (rng.random(weights.shape) >= self.dropout).astype(weights.dtype) * \
                weights.dtype.type(1.0 / (1.0 - self.dropout))
        out = np.matmul(weights if keep is None else weights * keep, v)
        row_mask = None
        if q_mask is not None:
            row_mask = np.asarray(q_mask).astype(bool)[..., None]
            out = np.where(row_mask, out, np.asarray(0, out.dtype))
        out = out.astype(q.dtype, copy=False)
        if training:
            self._cache = (q, k, v, t, weights, keep, row_mask, len(inputs) > 2)
        return (out, weights.astype(q.dtype, copy=False)) if with_scores else out

    def _frozen_call(self, inputs, mask=None, **kwargs):
        """Inference mode in a training step: no dropout, the cache kept."""
        rate, self.dropout = self.dropout, 0.0
        try:
            return self.call(inputs, training=True, mask=mask, **kwargs)
        finally:
            self.dropout = rate

    def _caching_runner(self, training, kwargs=None):
        """On a tape: the call with its options, in inference mode unless training."""
        kwargs = kwargs or {}
        if training:
            return lambda x: self.call(x, training=True, **kwargs)
        return lambda x: self._frozen_call(x, **kwargs)

    # ---------------------------------------------------------------- backward
    def backward(self, grad_output):
        if isinstance(grad_output, (list, tuple)):
            grad, grad_weights = grad_output[0], grad_output[1]
        else:
            grad, grad_weights = grad_output, None
        q, k, v, t, weights, keep, row_mask, has_key = self._cache
        if row_mask is not None:
            grad = np.where(row_mask, grad, 0)
        used = weights if keep is None else weights * keep
        # out = P V: dV = P^T dout, dP = dout V^T
        dv = np.matmul(np.swapaxes(used, -1, -2), grad)
        dp = np.matmul(grad, np.swapaxes(v, -1, -2))
        if keep is not None:
            dp = dp * keep
        if grad_weights is not None:
            dp = dp + grad_weights
        dscores = attention_kernels.padded_softmax_backward(weights, dp)
        dq, dk = self._score_grads(q, k, t, dscores)
        if not self._needs_input_grad:  # (one None per input, as a tape's node wants)
            return [None] * (2 + has_key)
        dtype = q.dtype
        if has_key:
            return [dq.astype(dtype), dv.astype(dtype), dk.astype(dtype)]
        return [dq.astype(dtype), (dv + dk).astype(dtype)]

    # ---------------------------------------------------------------- config
    def get_config(self):
        config = super().get_config()
        config.update(use_scale=self.use_scale, score_mode=self.score_mode,
                      dropout=self.dropout, seed=self.seed)
        return config


class AdditiveAttention(Attention):
    """Additive (Bahdanau-style) attention: ``scores = sum(scale * tanh(query + key))``
    over the features, then as ``Attention``.

    Args:
        use_scale: learn ``scale`` ``(dim,)`` (Glorot-uniform), else 1.
        dropout: the dropout rate on the attention weights.

    Call and shapes: as ``Attention``; query and key share their last axis ``dim``.
    """

    def __init__(self, use_scale=True, dropout=0.0, **kwargs):
        super().__init__(use_scale=use_scale, dropout=dropout, **kwargs)

    def build(self, input_shape):
        self._check_shapes(input_shape)
        if self.use_scale:
            self.scale = self.add_weight((input_shape[0][-1],), "glorot_uniform",
                                         name="scale")
        self.built = True

    def _scores(self, q, k):
        return attention_kernels.tanh_scores(
            q, k, features=None if self.scale is None else self.scale.value)

    def _score_grads(self, q, k, t, grad):
        dq, dk, _, dscale, _ = attention_kernels.tanh_scores_backward(
            q, k, t, grad, features=None if self.scale is None else self.scale.value)
        if self.scale is not None:
            self.scale.grad[...] = dscale
        return dq, dk

    def get_config(self):
        config = super().get_config()
        del config["score_mode"]
        return config
