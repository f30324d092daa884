"""Attention math: einsum projections, masked softmax, scaled dot-product attention,
additive (Bahdanau) scores, each with its backward.

Einsum gradients: for ``z = einsum("X,Y->Z", a, b)`` the chain rule gives
``da = einsum("Z,Y->X", dz, b)`` and ``db = einsum("X,Z->Y", a, dz)``: a letter of X
found in neither Z nor Y was summed away in the forward pass, so its gradient is the
same along it (a broadcast).

Masked softmax (Keras's): masked logits are replaced by -1e9 before the softmax and
the probabilities are zeroed where masked after it (a row masked throughout gives
zeros, not a uniform row). Its backward is the softmax's, ``dx = p * (dp - sum(dp *
p))``, zero where masked (``where`` passes no gradient to the replaced logits).
"""

from __future__ import annotations

import string

import numpy as np

LARGE_NEGATIVE = -1e9


# ---------------------------------------------------------------- einsum
def _split(equation):
    """``"ab,bc->ac"`` -> ``("ab", "bc", "ac")`` (ellipses kept)."""
    operands, out = equation.replace(" ", "").split("->")
    a, b = operands.split(",")
    return a, b, out


def _einsum_into(spec_a, a, spec_b, b, target, shape):
    """``einsum("A,B->target")`` where letters of ``target`` missing from A and B
    (summed in the forward pass) are broadcast back to ``shape``."""
    letters = set((spec_a + spec_b).replace(".", ""))
    kept = "".join(c for c in target if c == "." or c in letters)
    out = np.einsum(f"{spec_a},{spec_b}->{kept}", a, b)
    if kept == target:
        return out
    # put size-1 axes where the missing letters were, then broadcast
    plain = target.replace("...", "")
    index = [i for i, c in enumerate(plain) if c not in letters]
    offset = len(shape) - len(plain)  # the ellipsis's axes come first when elided left
    for i in index:
        out = np.expand_dims(out, i + offset if target.startswith("...") else i)
    return np.broadcast_to(out, shape).copy()


def _without_ellipsis(equation, ndim):
    """The equation with its ``...`` spelled as letters of its own (the input has
    ``ndim`` axes): NumPy cannot sum an ellipsis away in a gradient's equation."""
    a, b, out = _split(equation)
    if "..." not in a:
        return equation
    free = [c for c in string.ascii_letters if c not in a + b + out]
    letters = "".join(free[: ndim - (len(a) - 3)])
    return f"{a.replace('...', letters)},{b}->{out.replace('...', letters)}"


def einsum_forward(equation, x, kernel):
    """``einsum(equation, x, kernel)``: EinsumDense's product (without its bias)."""
    return np.einsum(equation, x, kernel)


def einsum_backward(equation, x, kernel, grad, need_x=True):
    """``(dx, dkernel)`` of ``z = einsum(equation, x, kernel)`` given ``dL/dz``.

    dx = einsum("Z,K->X", dz, kernel); dkernel = einsum("X,Z->K", x, dz).
    ``dx`` is None unless ``need_x``.
    """
    spec_x, spec_k, spec_z = _split(_without_ellipsis(equation, x.ndim))
    dkernel = _einsum_into(spec_x, x, spec_z, grad, spec_k, kernel.shape)
    dx = _einsum_into(spec_z, grad, spec_k, kernel, spec_x, x.shape) if need_x else None
    return dx, dkernel


# ---------------------------------------------------------------- softmax
def masked_softmax_forward(x, mask=None, axes=(-1,)):
    """Softmax over ``axes`` of ``x``; where ``mask`` (broadcastable to ``x``) is false
    the logit counts as -1e9 and the probability is set to 0."""
    if mask is not None:
        x = np.where(mask, x, np.asarray(LARGE_NEGATIVE, x.dtype))
    axes = tuple(axes)
    e = np.exp(x - np.max(x, axis=axes, keepdims=True))
    p = e / np.sum(e, axis=axes, keepdims=True)
    if mask is not None:
        p = np.where(mask, p, np.asarray(0, p.dtype))
    return p


def masked_softmax_backward(p, grad, mask=None, axes=(-1,)):
    """dL/dx of ``masked_softmax_forward`` from its output ``p`` and dL/dp:
    ``p * (dp - sum(dp * p))`` (p is already 0 where masked, and so is dx)."""
    return p * (grad - np.sum(grad * p, axis=tuple(axes), keepdims=True))


# ---------------------------------------------------------------- dot-product attention
def dot_product_attention_forward(query, key, value, dot_equation, combine_equation,
                                  scale, mask=None, norm_axes=(-1,), dropout_keep=None):
    """Multi-head scaled dot-product attention (Vaswani et al., 2017)::

        scores = softmax(einsum(dot_equation, key, query * scale), mask)
        output = einsum(combine_equation, scores * dropout_keep, value)

    Shapes in the common case (one attention axis): query ``(B, T, N, H)``, key
    ``(B, S, N, H)``, value ``(B, S, N, Hv)``; scores ``(B, N, T, S)``; output
    ``(B, T, N, Hv)``. ``mask``: broadcastable to the scores, true where attending
    is allowed. ``dropout_keep``: None, or ``keep(shape, dtype)`` giving the
    dropout's scaled keep mask (0 or 1 / (1 - rate)) for the scores.

    Returns ``(output, scores, keep)``: the scores before dropout (as Keras returns
    them) and the keep mask drawn (None without dropout), which backward takes.
    """
    logits = np.einsum(dot_equation, key, query * scale)
    scores = masked_softmax_forward(logits, mask, norm_axes)
    keep = None if dropout_keep is None else dropout_keep(scores.shape, scores.dtype)
    used = scores if keep is None else scores * keep
    return np.einsum(combine_equation, used, value), scores, keep


def dot_product_attention_backward(query, key, value, scores, grad, dot_equation,
                                   combine_equation, scale, mask=None, norm_axes=(-1,),
                                   dropout_keep=None, grad_scores=None):
    """``(dquery, dkey, dvalue)`` of ``dot_product_attention_forward`` from dL/doutput
    (and dL/dscores when the scores are an output too); ``dropout_keep``: the keep
    mask the forward pass returned::

        dvalue = einsum("P,O->V", used, dout)    dused = einsum("O,V->P", dout, value)
        dlogits = softmax backward of dscores    (dscores = dused * keep [+ grad_scores])
        dkey = einsum("P,Q->K", dlogits, query * scale)
        dquery = scale * einsum("K,P->Q", key, dlogits)
    """
    spec_k, spec_q, spec_p = _split(dot_equation)
    _, spec_v, spec_o = _split(combine_equation)
    used = scores if dropout_keep is None else scores * dropout_keep
    dvalue = np.einsum(f"{spec_p},{spec_o}->{spec_v}", used, grad)
    dscores = np.einsum(f"{spec_o},{spec_v}->{spec_p}", grad, value)
    if dropout_keep is not None:
        dscores = dscores * dropout_keep
    if grad_scores is not None:
        dscores = dscores + grad_scores
    dlogits = masked_softmax_backward(scores, dscores, mask, norm_axes)
    dkey = np.einsum(f"{spec_p},{spec_q}->{spec_k}", dlogits, query * scale)
    dquery = np.einsum(f"{spec_k},{spec_p}->{spec_q}", key, dlogits) * scale
    return dquery, dkey, dvalue


# ---------------------------------------------------------------- Attention / AdditiveAttention
def luong_scores(query, key, scale=None):
    """Dot scores ``query @ key^T`` (times ``scale``): ``(B, Tq, D), (B, Tv, D) -> (B, Tq, Tv)``."""
    scores = np.matmul(query, np.swapaxes(key, -1, -2))
    return scores if scale is None else scores * scale


def bahdanau_scores(query, key, scale=None):
    """Additive scores ``sum(scale * tanh(q_i + k_j))`` over the features:
    ``(B, Tq, D), (B, Tv, D) -> (B, Tq, Tv)``; also returns the tanh for backward."""
    t = np.tanh(query[:, :, None, :] + key[:, None, :, :])
    return (np.sum(t * scale, axis=-1) if scale is not None else np.sum(t, axis=-1)), t


def bahdanau_scores_backward(t, grad, scale=None):
    """``(dquery, dkey, dscale)`` of ``bahdanau_scores`` from dL/dscores:
    d/du sum(s * tanh(u)) = s * (1 - tanh(u)^2)."""
    dt = grad[..., None] * (1.0 if scale is None else scale)
    du = dt * (1.0 - t * t)
    dscale = None if scale is None else np.sum(grad[..., None] * t, axis=(0, 1, 2))
    return np.sum(du, axis=2), np.sum(du, axis=1), dscale
