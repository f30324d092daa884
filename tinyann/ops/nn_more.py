"""The rest of Keras's ``keras.ops.nn``: more activations, the normalizations,
attention, ``multi_hot``, ``psnr`` and the depth/space rearrangements.

Each is composed of the differentiable ops of ``ops.numpy`` and ``ops.nn`` (so its
gradient, and its gradient's gradient, follow by the chain rule); ``sparsemax`` records
its own short gradient. Integer inputs of the float activations give floatx, as Keras's
JAX backend does.
"""

from __future__ import annotations

import numpy as np

from tinyann.ops import arrays as _arrays
from tinyann.ops import nn as _nn
from tinyann.ops import numpy as knp
from tinyann.ops.core import cast as _cast
from tinyann.ops.core import value_of as _v
from tinyann.ops.numpy import _rec

__all__ = ["selu", "celu", "glu", "hard_sigmoid", "hard_silu", "hard_swish", "hard_tanh",
           "hard_shrink", "soft_shrink", "tanh_shrink", "log_sigmoid", "softsign",
           "sparse_plus", "sparse_sigmoid", "sparsemax", "squareplus", "threshold",
           "batch_normalization", "layer_normalization", "rms_normalization", "multi_hot",
           "dot_product_attention", "psnr", "depth_to_space", "space_to_depth",
           "depthwise_conv", "separable_conv", "conv_transpose", "adaptive_average_pool",
           "adaptive_max_pool", "ctc_loss", "ctc_decode"]

_SELU_ALPHA = 1.6732632423543772
_SELU_SCALE = 1.0507009873554805
_EPSILON = 1e-7   # keras.config.epsilon()


def _float(x):
    """``x`` itself if floating, else cast to floatx (float activations of integers)."""
    from tinyann import backend
    if np.issubdtype(np.asarray(_v(x)).dtype, np.floating):
        return x
    return _cast(x, backend.floatx())


# ---------------------------------------------------------------------- activations
def selu(x):
    """scale · elu(x, alpha) with the self-normalizing constants."""
    return knp.multiply(_nn.elu(_float(x), _SELU_ALPHA), _SELU_SCALE)


def celu(x, alpha=1.0):
    """max(x, 0) + alpha (e^(min(x, 0)/alpha) - 1)."""
    x = _float(x)
    neg = knp.multiply(knp.expm1(knp.divide(knp.minimum(x, 0.0), float(alpha))), float(alpha))
    return knp.add(knp.maximum(x, 0.0), neg)


def glu(x, axis=-1):
    """Gated linear unit: the first half of ``axis`` times σ(the second half)."""
    n = np.shape(_v(x))[axis]
    if n % 2:
        raise ValueError(f"glu expects an even size along axis {axis}. Received: "
                         f"x.shape={np.shape(_v(x))}")
    x = _float(x)
    a = knp.take(x, np.arange(n // 2), axis=axis)
    b = knp.take(x, np.arange(n // 2, n), axis=axis)
    return knp.multiply(a, _nn.sigmoid(b))


def hard_sigmoid(x):
    """relu6(x + 3) / 6: 0 below -3, 1 above 3, x/6 + 1/2 between."""
    return knp.divide(_nn.relu6(knp.add(_float(x), 3.0)), 6.0)


def hard_silu(x):
    """x · hard_sigmoid(x)."""
    x = _float(x)
    return knp.multiply(x, hard_sigmoid(x))


hard_swish = hard_silu


def hard_tanh(x):
    """x clipped into [-1, 1]."""
    return knp.clip(_float(x), -1.0, 1.0)


def hard_shrink(x, threshold=0.5):
    """x where |x| > threshold, else 0."""
    x = _float(x)
    return knp.where(np.abs(_v(x)) > threshold, x, 0.0)


def soft_shrink(x, threshold=0.5):
    """x - threshold above threshold, x + threshold below -threshold, else 0."""
    x = _float(x)
    a = np.asarray(_v(x))
    t = float(threshold)
    return knp.where(a > t, knp.subtract(x, t), knp.where(a < -t, knp.add(x, t), 0.0))


def tanh_shrink(x):
    """x - tanh(x)."""
    x = _float(x)
    return knp.subtract(x, knp.tanh(x))


def log_sigmoid(x):
    """log σ(x) = -softplus(-x)."""
    return knp.negative(_nn.softplus(knp.negative(_float(x))))


def softsign(x):
    """x / (1 + |x|)."""
    x = _float(x)
    return knp.divide(x, knp.add(knp.abs(x), 1.0))


def sparse_plus(x):
    """0 for x <= -1, x for x >= 1, (x + 1)²/4 between (a smooth relu)."""
    x = _float(x)
    a = np.asarray(_v(x))
    middle = knp.multiply(knp.square(knp.add(x, 1.0)), 0.25)
    return knp.where(a <= -1, 0.0, knp.where(a >= 1, x, middle))


def sparse_sigmoid(x):
    """0 for x <= -1, 1 for x >= 1, (x + 1)/2 between."""
    x = _float(x)
    a = np.asarray(_v(x))
    return knp.where(a <= -1, 0.0, knp.where(a >= 1, 1.0, knp.multiply(knp.add(x, 1.0), 0.5)))


def squareplus(x, b=4):
    """(x + √(x² + b)) / 2."""
    x = _float(x)
    return knp.multiply(knp.add(x, knp.sqrt(knp.add(knp.square(x), float(b)))), 0.5)


def threshold(x, threshold, default_value):
    """x where x > threshold, else ``default_value`` (integers stay integers)."""
    return knp.where(np.asarray(_v(x)) > threshold, x, default_value)


def sparsemax(x, axis=-1):
    """The Euclidean projection of ``x`` onto the probability simplex along ``axis``:
    max(x - τ, 0) with τ chosen so that the result sums to 1."""
    x = _float(x)
    a = np.asarray(_v(x))
    z = np.moveaxis(a, axis, -1)
    desc = -np.sort(-z, axis=-1)
    k = np.arange(1, z.shape[-1] + 1, dtype=z.dtype)
    cums = np.cumsum(desc, axis=-1)
    support = 1 + k * desc > cums
    count = np.sum(support, axis=-1, keepdims=True)
    tau = (np.take_along_axis(cums, count - 1, axis=-1) - 1) / count
    out = np.moveaxis(np.maximum(z - tau, 0), -1, axis).astype(a.dtype, copy=False)
    mask = out > 0
    size = np.sum(mask, axis=axis, keepdims=True).astype(a.dtype)

    def vjp(g):
        # on the support S the Jacobian is I - 1 1ᵀ/|S|: dx = g - mean_S(g) on S, 0 off it
        mean_s = knp.divide(knp.sum(knp.multiply(g, mask), axis=axis, keepdims=True), size)
        return (knp.multiply(knp.subtract(g, mean_s), mask),)
    return _rec(out, (x,), vjp)


# ---------------------------------------------------------------------- normalizations
def _broadcast_along(p, ndim, axes):
    """``p`` (one value per position of ``axes``) reshaped to broadcast against a
    rank-``ndim`` tensor."""
    if p is None:
        return None
    shape = np.shape(_v(p))
    if len(shape) == ndim:
        return p
    full = [1] * ndim
    for ax, n in zip(axes, shape if len(shape) == len(axes) else (int(np.prod(shape)),)):
        full[ax] = n
    return knp.reshape(p, tuple(full))


def _axes(axis, ndim):
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    return tuple(sorted(int(a) % ndim for a in axes))


def batch_normalization(x, mean, variance, axis, offset=None, scale=None, epsilon=1e-3):
    """(x - mean) / √(variance + epsilon) · scale + offset, with the statistics (one
    value per position of ``axis``) broadcast along ``axis``."""
    x = _float(x)
    ndim = len(np.shape(_v(x)))
    axes = _axes(axis, ndim)
    size = np.shape(_v(x))[axes[0]]
    for name, p in (("mean", mean), ("variance", variance), ("offset", offset),
                    ("scale", scale)):
        if p is not None and np.shape(_v(p)) not in ((size,), ()) and \
                len(np.shape(_v(p))) != ndim:
            raise ValueError(f"Argument `{name}` must have shape ({size},) (the size of axis "
                             f"{axis} of x). Received: {name}.shape={np.shape(_v(p))}")
    m, v = _broadcast_along(mean, ndim, axes), _broadcast_along(variance, ndim, axes)
    inv = knp.divide(1.0, knp.sqrt(knp.add(v, float(epsilon))))
    if scale is not None:
        inv = knp.multiply(inv, _broadcast_along(scale, ndim, axes))
    out = knp.multiply(knp.subtract(x, m), inv)
    if offset is not None:
        out = knp.add(out, _broadcast_along(offset, ndim, axes))
    return out


def layer_normalization(x, gamma=None, beta=None, axis=-1, epsilon=None, **kwargs):
    """(x - mean) / √(var + epsilon) · gamma + beta, the statistics over ``axis``
    (epsilon defaults to keras.config.epsilon())."""
    if kwargs:
        raise TypeError(f"layer_normalization got unexpected arguments: {sorted(kwargs)}")
    x = _float(x)
    ndim = len(np.shape(_v(x)))
    axes = _axes(axis, ndim)
    eps = _EPSILON if epsilon is None else float(epsilon)
    mean = knp.mean(x, axis=axes, keepdims=True)
    centred = knp.subtract(x, mean)
    var = knp.mean(knp.square(centred), axis=axes, keepdims=True)
    out = knp.divide(centred, knp.sqrt(knp.add(var, eps)))
    if gamma is not None:
        out = knp.multiply(out, _broadcast_along(gamma, ndim, axes))
    if beta is not None:
        out = knp.add(out, _broadcast_along(beta, ndim, axes))
    return out


def rms_normalization(x, scale=None, axis=-1, epsilon=None):
    """x / √(mean(x²) + epsilon) · scale, the mean over ``axis``."""
    x = _float(x)
    ndim = len(np.shape(_v(x)))
    axes = _axes(axis, ndim)
    eps = _EPSILON if epsilon is None else float(epsilon)
    ms = knp.mean(knp.square(x), axis=axes, keepdims=True)
    out = knp.divide(x, knp.sqrt(knp.add(ms, eps)))
    if scale is not None:
        out = knp.multiply(out, _broadcast_along(scale, ndim, axes))
    return out


# ---------------------------------------------------------------------- encodings, metrics
def multi_hot(inputs, num_classes=None, axis=-1, dtype=None, sparse=False, **kwargs):
    """A multi-hot encoding: 1 at every class present in each row of the integer
    ``inputs`` (a 1-D input is one row). No gradient."""
    from tinyann import backend
    from tinyann.autodiff import Tensor
    if num_classes is None:
        num_classes = kwargs.pop("num_tokens", None)
    if kwargs:
        raise TypeError(f"multi_hot got unexpected arguments: {sorted(kwargs)}")
    if num_classes is None or int(num_classes) <= 0:
        raise ValueError(f"Argument `num_classes` must be a positive integer. "
                         f"Received: num_classes={num_classes!r}")
    if sparse:
        raise ValueError("multi_hot(sparse=True) is not supported: tinyann has no sparse "
                         "tensors. Received: sparse=True")
    idx = np.asarray(_v(inputs)).astype(np.int64)
    single = idx.ndim == 1
    rows = idx[None] if single else idx
    hot = np.any(rows[..., None] == np.arange(int(num_classes)), axis=-2)
    hot = hot.astype(dtype or backend.floatx())
    if single:
        hot = hot[0]
    elif axis != -1:
        hot = np.moveaxis(hot, -1, axis)
    return Tensor(hot)


def psnr(x1, x2, max_val):
    """Peak signal-to-noise ratio: 20 log10(max_val) - 10 log10(mean((x1 - x2)²))."""
    if np.shape(_v(x1)) != np.shape(_v(x2)):
        raise ValueError(f"Input shapes must be the same. Received: x1.shape="
                         f"{np.shape(_v(x1))}, x2.shape={np.shape(_v(x2))}")
    x1, x2 = _float(x1), _float(x2)
    mse = knp.mean(knp.square(knp.subtract(x1, x2)))
    # log10(m) = log(m) / log(10)
    return knp.subtract(float(20 * np.log10(max_val)),
                        knp.multiply(knp.log(mse), float(10 / np.log(10))))


# ---------------------------------------------------------------------- attention
def dot_product_attention(query, key, value, bias=None, mask=None, scale=None,
                          is_causal=False, flash_attention=None, attn_logits_soft_cap=None):
    """softmax(q kᵀ · scale + bias, masked) v for 4-D (batch, length, heads, head_dim)
    inputs; ``key``/``value`` may have fewer heads (grouped-query attention).

    ``mask`` (bool, broadcast to (batch, heads, q_len, k_len)) keeps the True logits;
    ``is_causal`` keeps position t from seeing s > t; ``scale`` defaults to 1/√head_dim.
    ``flash_attention`` computes the same values and is accepted for compatibility.
    """
    shapes = [np.shape(_v(t)) for t in (query, key, value)]
    if any(len(s) != 4 for s in shapes):
        raise ValueError(f"dot_product_attention only supports 4D inputs. Received: "
                         f"query.shape={shapes[0]}, key.shape={shapes[1]}, "
                         f"value.shape={shapes[2]}")
    heads, kv_heads = shapes[0][2], shapes[1][2]
    if heads % kv_heads or shapes[1][2] != shapes[2][2] or shapes[0][3] != shapes[1][3]:
        raise ValueError(f"dot_product_attention: query heads must be a multiple of the key "
                         f"heads, and query and key must share head_dim. Received: "
                         f"query.shape={shapes[0]}, key.shape={shapes[1]}, "
                         f"value.shape={shapes[2]}")
    query, key, value = _float(query), _float(key), _float(value)
    if heads != kv_heads:
        key = _arrays.repeat(key, heads // kv_heads, axis=2)
        value = _arrays.repeat(value, heads // kv_heads, axis=2)
    if scale is None:
        scale = 1.0 / np.sqrt(shapes[0][3])
    q = knp.transpose(query, (0, 2, 1, 3))            # (b, n, t, h)
    k = knp.transpose(key, (0, 2, 3, 1))              # (b, n, h, s)
    v = knp.transpose(value, (0, 2, 1, 3))            # (b, n, s, h)
    logits = knp.multiply(knp.matmul(q, k), float(scale))
    if bias is not None:
        if not hasattr(bias, "value"):
            # a constant bias takes the logits' dtype (float32 stays float32)
            bias = np.asarray(bias, dtype=np.asarray(_v(logits)).dtype)
        logits = knp.add(logits, bias)
    if attn_logits_soft_cap is not None:
        cap = float(attn_logits_soft_cap)
        logits = knp.multiply(knp.tanh(knp.divide(logits, cap)), cap)
    t, s = shapes[0][1], shapes[1][1]
    keep = None
    if mask is not None:
        keep = np.asarray(_v(mask)).astype(bool)
    if is_causal:
        causal = np.tril(np.ones((t, s), dtype=bool))
        keep = causal if keep is None else keep & causal
    if keep is not None:
        # masked logits get a large negative value: their softmax weight is 0
        floor = float(-0.7 * np.finfo(np.asarray(_v(logits)).dtype).max)
        logits = knp.where(keep, logits, floor)
    probs = _nn.softmax(logits, axis=-1)
    return knp.transpose(knp.matmul(probs, v), (0, 2, 1, 3))


# ---------------------------------------------------------------------- depth <-> space
def _check_block(x, block_size, data_format, name):
    if np.ndim(_v(x)) != 4:
        raise ValueError(f"{name} expects a 4-D input. Received: x.shape={np.shape(_v(x))}")
    if not isinstance(block_size, (int, np.integer)) or block_size < 1:
        raise ValueError(f"Argument `block_size` must be a positive integer. "
                         f"Received: block_size={block_size!r}")
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(f"Argument `data_format` must be 'channels_last' or "
                         f"'channels_first'. Received: data_format={data_format!r}")


def depth_to_space(x, block_size, data_format="channels_last"):
    """Moves blocks of channels into block_size x block_size spatial blocks:
    out[n, h·b + i, w·b + j, c] = x[n, h, w, (i·b + j)·C + c]."""
    _check_block(x, block_size, data_format, "depth_to_space")
    if data_format == "channels_first":
        x = knp.transpose(x, (0, 2, 3, 1))
    n, h, w, c = np.shape(_v(x))
    b = int(block_size)
    if c % (b * b):
        raise ValueError(f"depth_to_space: the channels ({c}) must be divisible by "
                         f"block_size² ({b * b})")
    y = knp.reshape(x, (n, h, w, b, b, c // (b * b)))
    y = knp.reshape(knp.transpose(y, (0, 1, 3, 2, 4, 5)), (n, h * b, w * b, c // (b * b)))
    return knp.transpose(y, (0, 3, 1, 2)) if data_format == "channels_first" else y


def space_to_depth(x, block_size, data_format="channels_last"):
    """The inverse of ``depth_to_space``: each block_size x block_size block becomes
    channels, out[n, h, w, (i·b + j)·C + c] = x[n, h·b + i, w·b + j, c]."""
    _check_block(x, block_size, data_format, "space_to_depth")
    if data_format == "channels_first":
        x = knp.transpose(x, (0, 2, 3, 1))
    n, h, w, c = np.shape(_v(x))
    b = int(block_size)
    if h % b or w % b:
        raise ValueError(f"space_to_depth: the height and width ({h}, {w}) must be "
                         f"divisible by block_size ({b})")
    y = knp.reshape(x, (n, h // b, b, w // b, b, c))
    y = knp.reshape(knp.transpose(y, (0, 1, 3, 2, 4, 5)), (n, h // b, w // b, b * b * c))
    return knp.transpose(y, (0, 3, 1, 2)) if data_format == "channels_first" else y


# ---------------------------------------------------------------------- more convolutions
# 2-D, channels last, over the reference kernels (NumPy-only gradients: first derivatives)
def depthwise_conv(inputs, kernel, strides=1, padding="valid", data_format=None,
                   dilation_rate=1):
    """Each input channel convolved with its own ``depth_multiplier`` filters:
    ``inputs`` (n, h, w, c), ``kernel`` (kh, kw, c, m) -> (n, h', w', c·m), output channel
    c·m + j from input channel c and filter j."""
    x_shape, k_shape = np.shape(_v(inputs)), np.shape(_v(kernel))
    if len(k_shape) != 4 or len(x_shape) != 4 or k_shape[2] != x_shape[3]:
        raise ValueError(f"depthwise_conv expects inputs (batch, rows, cols, channels) and a "
                         f"kernel (rows, cols, channels, depth_multiplier) with the same "
                         f"channels. Received: inputs.shape={x_shape}, kernel.shape={k_shape}")
    # channel c alone through its own (kh, kw, 1, m) kernel: ops.conv's gradient for each
    outs = [_nn.conv(knp.take(inputs, [c], axis=3), knp.take(kernel, [c], axis=2), strides,
                     padding, data_format, dilation_rate) for c in range(x_shape[3])]
    return outs[0] if len(outs) == 1 else knp.concatenate(outs, axis=3)


def separable_conv(inputs, depthwise_kernel, pointwise_kernel, strides=1, padding="valid",
                   data_format=None, dilation_rate=1):
    """``depthwise_conv`` then a 1x1 convolution by ``pointwise_kernel`` (1, 1, c·m, f)."""
    mid = depthwise_conv(inputs, depthwise_kernel, strides, padding, data_format, dilation_rate)
    return _nn.conv(mid, pointwise_kernel, 1, "valid", data_format, 1)


def conv_transpose(inputs, kernel, strides=1, padding="valid", output_padding=None,
                   data_format=None, dilation_rate=1):
    """The transposed 2-D convolution (the gradient of ``conv`` by its input, used
    forward): ``inputs`` (n, h, w, c), ``kernel`` (kh, kw, f, c) -> (n, h', w', f), the
    output size as Keras's (``output_padding`` fixes it when given)."""
    from tinyann.autodiff import record
    from tinyann.kernels.reference import conv_transpose as ref

    x, k = np.asarray(_v(inputs)), np.asarray(_v(kernel))
    _nn._check_2d(x, data_format, "conv_transpose")
    if k.ndim != 4 or k.shape[3] != x.shape[3]:
        raise ValueError(f"conv_transpose expects a kernel (rows, cols, filters, channels) "
                         f"whose last axis is the input's channels. Received: "
                         f"inputs.shape={x.shape}, kernel.shape={k.shape}")
    if str(padding).lower() not in ("valid", "same"):
        raise ValueError(f"Argument `padding` must be 'valid' or 'same'. "
                         f"Received: padding={padding!r}")
    strides = _nn._pair(strides, "strides")
    dilation = _nn._pair(dilation_rate, "dilation_rate")
    out_pad = (None, None) if output_padding is None else _nn._pair(output_padding,
                                                                    "output_padding")
    windows = tuple(ref.transpose_window(x.shape[1 + a], k.shape[a], strides[a], dilation[a],
                                         padding.lower(), out_pad[a]) for a in range(2))
    dtype = np.result_type(x, k)
    x, k = x.astype(dtype, copy=False), k.astype(dtype, copy=False)
    out = ref.conv2d_transpose_forward(x, k, None, strides, dilation, windows)

    def vjp(g):
        # dx = the convolution of g by the kernel; dK = Σ g_tapᵀ x (the kernel's backward)
        dk = np.empty_like(k)
        dx = ref.conv2d_transpose_backward(np.asarray(g, dtype), x, k, dk, None, strides,
                                           dilation, windows)
        return dx, dk
    return record(out, (inputs, kernel), vjp, label="ops.conv_transpose")


# ---------------------------------------------------------------------- adaptive pooling
def _adaptive_pool(reduce, inputs, output_size, data_format, name):
    """Bin i of an axis of length L into n bins covers [⌊i L / n⌋, ⌈(i + 1) L / n⌉) (as
    PyTorch's adaptive pools); each bin reduced by ``reduce`` over the spatial axes."""
    import itertools
    fmt = data_format or "channels_last"
    if fmt not in ("channels_last", "channels_first"):
        raise ValueError(f"Argument `data_format` must be 'channels_last' or 'channels_first'. "
                         f"Received: data_format={data_format!r}")
    ndim = np.ndim(_v(inputs))
    if ndim not in (3, 4, 5):
        raise ValueError(f"{name} expects a 3-D, 4-D or 5-D input (batch, spatial..., "
                         f"channels). Received: inputs.shape={np.shape(_v(inputs))}")
    spatial = ndim - 2
    sizes = (output_size,) * spatial if isinstance(output_size, (int, np.integer)) else \
        tuple(output_size)
    if len(sizes) != spatial or any(int(s) <= 0 for s in sizes):
        raise ValueError(f"Argument `output_size` must be a positive int or a tuple of "
                         f"{spatial} positive ints. Received: output_size={output_size!r}")
    x = _float(inputs)
    if fmt == "channels_first":
        x = _arrays.moveaxis(x, 1, -1)
    shape = np.shape(_v(x))
    axes = tuple(range(1, 1 + spatial))
    bins = [[(i * n_in // n, -(-(i + 1) * n_in // n)) for i in range(n)]
            for n_in, n in zip(shape[1:1 + spatial], sizes)]
    cells = []
    for window in itertools.product(*bins):
        key = (slice(None),) + tuple(slice(a, b) for a, b in window) + (slice(None),)
        cells.append(reduce(knp.getitem(x, key), axis=axes))
    out = knp.reshape(knp.stack(cells, axis=1), (shape[0],) + tuple(sizes) + (shape[-1],))
    return _arrays.moveaxis(out, -1, 1) if fmt == "channels_first" else out


def adaptive_average_pool(inputs, output_size, data_format=None):
    """The mean of each of ``output_size`` near-equal bins per spatial axis."""
    return _adaptive_pool(knp.mean, inputs, output_size, data_format, "adaptive_average_pool")


def adaptive_max_pool(inputs, output_size, data_format=None):
    """The maximum of each of ``output_size`` near-equal bins per spatial axis."""
    return _adaptive_pool(knp.max, inputs, output_size, data_format, "adaptive_max_pool")


# ---------------------------------------------------------------------- CTC
def _logsumexp(a, b):
    """log(e^a + e^b), -inf where both are -inf."""
    m = np.maximum(a, b)
    safe = np.where(np.isfinite(m), m, 0.0)
    with np.errstate(divide="ignore"):
        return np.where(np.isfinite(m), safe + np.log(np.exp(a - safe) + np.exp(b - safe)), m)


def ctc_loss(target, output, target_length, output_length, mask_index=0):
    """Connectionist temporal classification loss per sample: -log p(target | output).

    ``target`` (batch, max_label_len) integer labels, ``output`` (batch, max_time,
    classes) logits (log-softmaxed here), the lengths (batch,), ``mask_index`` the blank.
    The forward-backward recursions over the blank-extended label run in NumPy, in log
    space; the gradient (NumPy-only) is dL/dz[t, k] = softmax(z)[t, k] - Σ_{s: l'_s = k}
    α_t(s) β_t(s) / p, zero past ``output_length``.
    """
    from tinyann.autodiff import record
    logits = np.asarray(_v(output))
    if logits.ndim != 3:
        raise ValueError(f"ctc_loss expects output of shape (batch, max_time, num_classes). "
                         f"Received: output.shape={logits.shape}")
    if not np.issubdtype(logits.dtype, np.floating):
        logits = logits.astype(np.float32)
    labels = np.asarray(_v(target)).astype(np.int64)
    t_len = np.asarray(_v(target_length)).astype(np.int64).reshape(-1)
    o_len = np.asarray(_v(output_length)).astype(np.int64).reshape(-1)
    n, _, classes = logits.shape
    if labels.shape[0] != n or t_len.shape[0] != n or o_len.shape[0] != n:
        raise ValueError(f"ctc_loss: target, target_length and output_length must have the "
                         f"batch size of output ({n}). Received: target.shape={labels.shape}, "
                         f"target_length.shape={t_len.shape}, output_length.shape={o_len.shape}")
    z = logits.astype(np.float64)
    logp = z - z.max(-1, keepdims=True)
    logp = logp - np.log(np.exp(logp).sum(-1, keepdims=True))
    losses = np.zeros(n)
    grad = np.zeros_like(z)
    blank = int(mask_index)
    for b in range(n):
        steps, lab = int(o_len[b]), labels[b, :int(t_len[b])]
        ext = np.full(2 * len(lab) + 1, blank)
        ext[1::2] = lab
        size = len(ext)
        # a skip from s - 2 to s is allowed onto a label differing from the one before
        skip = np.zeros(size, dtype=bool)
        skip[2:] = (ext[2:] != blank) & (ext[2:] != ext[:-2])
        lp = logp[b, :steps][:, ext]                          # (steps, size)
        alpha = np.full((steps, size), -np.inf)
        beta = np.full((steps, size), -np.inf)
        if steps == 0:
            losses[b] = np.inf if len(lab) else 0.0
            continue
        alpha[0, 0] = lp[0, 0]
        if size > 1:
            alpha[0, 1] = lp[0, 1]
        for t in range(1, steps):
            prev = alpha[t - 1]
            acc = prev.copy()
            acc[1:] = _logsumexp(acc[1:], prev[:-1])
            acc[2:] = np.where(skip[2:], _logsumexp(acc[2:], prev[:-2]), acc[2:])
            alpha[t] = acc + lp[t]
        beta[-1, -1] = lp[-1, -1]
        if size > 1:
            beta[-1, -2] = lp[-1, -2]
        for t in range(steps - 2, -1, -1):
            nxt = beta[t + 1]
            acc = nxt.copy()
            acc[:-1] = _logsumexp(acc[:-1], nxt[1:])
            acc[:-2] = np.where(skip[2:], _logsumexp(acc[:-2], nxt[2:]), acc[:-2])
            beta[t] = acc + lp[t]
        log_p = _logsumexp(alpha[-1, -1], alpha[-1, -2]) if size > 1 else alpha[-1, -1]
        losses[b] = -log_p
        if np.isfinite(log_p):
            # α_t(s) β_t(s) / y_t(l'_s) = p(paths through s at t) · p: the occupancy
            occ = np.exp(alpha + beta - lp - log_p)
            post = np.zeros((steps, classes))
            for s, k in enumerate(ext):
                post[:, k] += occ[:, s]
            grad[b, :steps] = np.exp(logp[b, :steps]) - post

    def vjp(g):
        # dL_b/dz = grad[b]; the labels and lengths are integers: no gradient
        g = np.asarray(g, dtype=np.float64).reshape(n, 1, 1)
        return None, (g * grad).astype(logits.dtype), None, None
    return record(losses.astype(logits.dtype), (target, output, target_length, output_length),
                  vjp, label="ops.ctc_loss")


def ctc_decode(inputs, sequence_lengths, strategy="greedy", beam_width=100, top_paths=1,
               merge_repeated=True, mask_index=0):
    """Greedy CTC decoding: the best class per step, repeats merged (if
    ``merge_repeated``), blanks (``mask_index``) dropped, padded with -1. Returns
    (decoded (1, batch, max_time) int32, scores (batch, 1): minus the sum over the
    steps of the largest input, as TensorFlow's greedy decoder). Beam search is not
    available."""
    from tinyann.autodiff import Tensor
    if strategy != "greedy":
        raise NotImplementedError(f"ctc_decode supports strategy='greedy' in tinyann. "
                                  f"Received: strategy={strategy!r}")
    z = np.asarray(_v(inputs))
    if z.ndim != 3:
        raise ValueError(f"ctc_decode expects inputs of shape (batch, max_time, num_classes). "
                         f"Received: inputs.shape={z.shape}")
    lengths = np.asarray(_v(sequence_lengths)).astype(np.int64).reshape(-1)
    n, steps, _ = z.shape
    zf = z.astype(np.float64)
    best = zf.argmax(-1)
    decoded = np.full((n, steps), -1, dtype=np.int32)
    scores = np.zeros((n, 1))
    for b in range(n):
        seq = best[b, :lengths[b]]
        scores[b, 0] = -np.sum(zf[b, np.arange(lengths[b]), seq])
        keep = seq != mask_index
        if merge_repeated:
            keep &= np.concatenate([[True], seq[1:] != seq[:-1]])
        out = seq[keep]
        decoded[b, :len(out)] = out
    return Tensor(decoded[None]), Tensor(scores.astype(z.dtype if np.issubdtype(
        z.dtype, np.floating) else np.float32))
