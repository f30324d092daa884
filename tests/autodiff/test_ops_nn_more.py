"""tinyann.ops.nn_more: the rest of keras.ops.nn. Values against the math written
out in NumPy (float64), tape gradients against central differences, second
derivatives against finite differences of first ones, float32 in -> float32 out, and
the argument errors."""

from __future__ import annotations

import numpy as np
import pytest

from tests.autodiff.gradient_table import (
    check_central_differences,
    check_float32,
    check_hessian_vector_product,
)
from tinyann import ops
from tinyann.autodiff import GradientTape, Tensor


def normal(rng, shape):
    # away from the kinks at 0, ±0.5 (shrinks), ±1 (sparse_*, hard_tanh), ±3 (hard_sigmoid)
    mag = rng.uniform(0.1, 0.4, size=shape) + rng.choice([0.0, 0.6, 1.2, 3.3], size=shape)
    return mag * np.where(rng.random(shape) < 0.5, -1, 1)


def positive(rng, shape):
    return rng.uniform(0.5, 2.0, size=shape)


def attention(**kw):
    return lambda q, k, v: ops.dot_product_attention(q, k, v, **kw)


BIAS = np.random.default_rng(3).standard_normal((1, 2, 3, 4))
MASK = np.random.default_rng(4).random((2, 1, 3, 4)) < 0.7
MASK[..., 0] = True

# (name, function, [(shape, sampler), ...]); every one is differentiable twice
CASES = [
    ("selu", ops.selu, [((3, 4), normal)]),
    ("celu", lambda x: ops.celu(x, alpha=1.5), [((3, 4), normal)]),
    ("glu", lambda x: ops.glu(x, axis=0), [((4, 3), normal)]),
    ("hard_sigmoid", ops.hard_sigmoid, [((3, 4), normal)]),
    ("hard_silu", ops.hard_silu, [((3, 4), normal)]),
    ("hard_swish", ops.nn.hard_swish, [((3, 4), normal)]),
    ("hard_tanh", ops.hard_tanh, [((3, 4), normal)]),
    ("hard_shrink", ops.hard_shrink, [((3, 4), normal)]),
    ("soft_shrink", ops.soft_shrink, [((3, 4), normal)]),
    ("tanh_shrink", ops.tanh_shrink, [((3, 4), normal)]),
    ("log_sigmoid", ops.log_sigmoid, [((3, 4), normal)]),
    ("softsign", ops.softsign, [((3, 4), normal)]),
    ("sparse_plus", ops.sparse_plus, [((3, 4), normal)]),
    ("sparse_sigmoid", ops.sparse_sigmoid, [((3, 4), normal)]),
    ("squareplus", lambda x: ops.squareplus(x, b=2), [((3, 4), normal)]),
    ("threshold", lambda x: ops.threshold(x, 0.5, -2.0), [((3, 4), normal)]),
    ("sparsemax", lambda x: ops.sparsemax(x * 0.3, axis=0), [((5, 3), normal)]),
    ("batch_normalization", lambda x, m, v, o, s: ops.batch_normalization(
        x, m, v, axis=1, offset=o, scale=s),
     [((2, 3, 2), normal), ((3,), normal), ((3,), positive), ((3,), normal),
      ((3,), normal)]),
    ("layer_normalization", lambda x, g, b: ops.layer_normalization(x, g, b, axis=-1),
     [((3, 4), normal), ((4,), normal), ((4,), normal)]),
    ("layer_normalization two axes", lambda x, g: ops.layer_normalization(
        x, gamma=g, axis=(1, 2), epsilon=1e-3), [((2, 3, 2), normal), ((3, 2), normal)]),
    ("rms_normalization", lambda x, s: ops.rms_normalization(x, s, axis=-1),
     [((3, 4), normal), ((4,), normal)]),
    ("psnr", lambda a, b: ops.psnr(a, b, 2.0), [((3, 4), normal), ((3, 4), normal)]),
    ("dot_product_attention", attention(), [((2, 3, 2, 4), normal), ((2, 4, 2, 4), normal),
                                           ((2, 4, 2, 4), normal)]),
    ("attention bias mask scale", attention(bias=BIAS, mask=MASK, scale=0.3),
     [((2, 3, 2, 4), normal), ((2, 4, 2, 4), normal), ((2, 4, 2, 4), normal)]),
    ("attention causal grouped soft cap", attention(is_causal=True, attn_logits_soft_cap=2.0),
     [((2, 3, 4, 2), normal), ((2, 3, 2, 2), normal), ((2, 3, 2, 2), normal)]),
    ("depth_to_space", lambda x: ops.depth_to_space(x, 2), [((1, 2, 1, 8), normal)]),
    ("adaptive_average_pool", lambda x: ops.adaptive_average_pool(x, (2, 3)),
     [((2, 5, 7, 2), normal)]),
    ("adaptive_max_pool channels_first 1-D", lambda x: ops.adaptive_max_pool(
        x, 3, data_format="channels_first"), [((2, 2, 7), normal)]),
    ("space_to_depth channels_first", lambda x: ops.space_to_depth(
        x, 2, data_format="channels_first"), [((1, 2, 4, 2), normal)]),
]
IDS = [c[0] for c in CASES]


@pytest.mark.parametrize("name, fn, specs", CASES, ids=IDS)
def test_tape_gradient_matches_central_differences(gradcheck, name, fn, specs):
    check_central_differences(gradcheck, name, fn, specs)


@pytest.mark.parametrize("name, fn, specs", CASES, ids=IDS)
def test_hessian_vector_product_matches_finite_differences(name, fn, specs):
    check_hessian_vector_product(name, fn, specs)


@pytest.mark.parametrize("name, fn, specs", CASES, ids=IDS)
def test_float32_inputs_give_float32_results_and_gradients(name, fn, specs):
    check_float32(fn, specs)


# ---------------------------------------------------------------------- values
def _sigmoid(a):
    return 1 / (1 + np.exp(-a))


ACTIVATIONS_AS_NUMPY = {
    "selu": lambda a: 1.0507009873554805 * np.where(a > 0, a, 1.6732632423543772 * np.expm1(a)),
    "celu": lambda a: np.maximum(a, 0) + np.minimum(0, np.expm1(a)),
    "hard_sigmoid": lambda a: np.clip(a / 6 + 0.5, 0, 1),
    "hard_silu": lambda a: a * np.clip(a / 6 + 0.5, 0, 1),
    "hard_tanh": lambda a: np.clip(a, -1, 1),
    "hard_shrink": lambda a: np.where(np.abs(a) > 0.5, a, 0),
    "soft_shrink": lambda a: np.sign(a) * np.maximum(np.abs(a) - 0.5, 0),
    "tanh_shrink": lambda a: a - np.tanh(a),
    "log_sigmoid": lambda a: np.log(_sigmoid(a)),
    "softsign": lambda a: a / (1 + np.abs(a)),
    "sparse_plus": lambda a: np.where(a <= -1, 0, np.where(a >= 1, a, (a + 1) ** 2 / 4)),
    "sparse_sigmoid": lambda a: np.clip((a + 1) / 2, 0, 1),
    "squareplus": lambda a: (a + np.sqrt(a * a + 4)) / 2,
}


@pytest.mark.parametrize("name", sorted(ACTIVATIONS_AS_NUMPY))
def test_activation_values_are_the_formulas(name):
    a = np.array([-4.0, -3.0, -1.5, -1.0, -0.5, -0.2, 0.0, 0.3, 0.5, 0.9, 1.0, 2.5, 4.0])
    got = getattr(ops, name)(a.astype(np.float32))
    assert got.dtype == np.float32
    np.testing.assert_allclose(got.numpy(), ACTIVATIONS_AS_NUMPY[name](a), rtol=1e-6,
                               atol=1e-6)
    np.testing.assert_allclose(getattr(ops.nn, name)(a).numpy(),
                               ACTIVATIONS_AS_NUMPY[name](a), rtol=1e-12, atol=1e-12)


def test_integer_inputs_give_floatx_and_threshold_keeps_integers():
    ints = np.array([-2, 0, 3], dtype=np.int32)
    for fn in (ops.selu, ops.hard_sigmoid, ops.softsign, ops.log_sigmoid, ops.sparse_plus):
        assert fn(ints).dtype == np.float32, fn.__name__
    out = ops.threshold(ints, 0, 7)
    assert out.dtype == np.int32
    np.testing.assert_array_equal(out.numpy(), [7, 7, 3])


def test_glu_and_sparsemax_values():
    x = np.array([[1.0, 2.0, 3.0, 4.0]])
    np.testing.assert_allclose(ops.glu(x).numpy(), [[1 * _sigmoid(3.0), 2 * _sigmoid(4.0)]])
    with pytest.raises(ValueError, match="even size"):
        ops.glu(np.ones((2, 3)))
    s = ops.sparsemax(np.array([[1.0, 2.0, 0.5], [0.0, 0.0, 0.0], [0.9, 0.1, -0.5]])).numpy()
    np.testing.assert_allclose(s[0], [0, 1, 0])
    np.testing.assert_allclose(s[1], [1 / 3] * 3)
    # 0.9 and 0.1 in the support: τ = (1.0 - 1)/2 = 0
    np.testing.assert_allclose(s[2], [0.9, 0.1, 0.0], atol=1e-12)
    # all three in the support: τ = (0.2 - 1)/3
    np.testing.assert_allclose(ops.sparsemax([0.3, 0.1, -0.2]).numpy(),
                               np.array([0.3, 0.1, -0.2]) + 0.8 / 3, rtol=1e-6)
    np.testing.assert_allclose(s.sum(axis=1), 1)


def test_normalizations_are_the_formulas():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 3, 5))
    mean, var = rng.standard_normal(3), rng.uniform(0.5, 2, 3)
    off, sc = rng.standard_normal(3), rng.standard_normal(3)
    want = (x - mean[:, None]) / np.sqrt(var[:, None] + 1e-3) * sc[:, None] + off[:, None]
    got = ops.batch_normalization(x, mean, var, axis=1, offset=off, scale=sc)
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-12)
    got = ops.batch_normalization(x, mean, var, axis=1, epsilon=0.1)
    np.testing.assert_allclose(got.numpy(), (x - mean[:, None]) / np.sqrt(var[:, None] + 0.1))
    with pytest.raises(ValueError, match=r"shape \(3,\)"):
        ops.batch_normalization(x, np.zeros(5), var, axis=1)

    g, b = rng.standard_normal(5), rng.standard_normal(5)
    m, v = x.mean(-1, keepdims=True), x.var(-1, keepdims=True)
    np.testing.assert_allclose(ops.layer_normalization(x, g, b).numpy(),
                               (x - m) / np.sqrt(v + 1e-7) * g + b, rtol=1e-10)
    m, v = x.mean((1, 2), keepdims=True), x.var((1, 2), keepdims=True)
    np.testing.assert_allclose(ops.layer_normalization(x, axis=[1, 2], epsilon=0.5).numpy(),
                               (x - m) / np.sqrt(v + 0.5), rtol=1e-10)
    rms = np.sqrt((x ** 2).mean(-1, keepdims=True) + 1e-7)
    np.testing.assert_allclose(ops.rms_normalization(x, g).numpy(), x / rms * g, rtol=1e-10)


def test_multi_hot():
    got = ops.multi_hot(np.array([[0, 2], [1, 1]]), 4)
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got.numpy(), [[1, 0, 1, 0], [0, 1, 0, 0]])
    np.testing.assert_array_equal(ops.multi_hot([3, 0], num_classes=4).numpy(), [1, 0, 0, 1])
    np.testing.assert_array_equal(ops.nn.multi_hot([[1]], num_tokens=3, dtype="int32").numpy(),
                                  [[0, 1, 0]])
    with pytest.raises(ValueError, match="num_classes"):
        ops.multi_hot([1, 2], 0)


def test_psnr_is_the_formula():
    a = np.linspace(0, 1, 12).reshape(3, 4)
    b = a + np.linspace(-0.1, 0.2, 12).reshape(3, 4)
    want = 20 * np.log10(1.0) - 10 * np.log10(np.mean((a - b) ** 2))
    np.testing.assert_allclose(float(ops.psnr(a, b, 1.0)), want, rtol=1e-12)
    with pytest.raises(ValueError, match="same"):
        ops.psnr(a, b[:2], 1.0)


def _attention_numpy(q, k, v, bias=None, mask=None, scale=None, causal=False):
    heads = q.shape[2]
    k = np.repeat(k, heads // k.shape[2], axis=2)
    v = np.repeat(v, heads // v.shape[2], axis=2)
    scale = 1 / np.sqrt(q.shape[-1]) if scale is None else scale
    logits = np.einsum("btnh,bsnh->bnts", q, k) * scale
    if bias is not None:
        logits = logits + bias
    keep = np.ones(logits.shape, dtype=bool)
    if mask is not None:
        keep = keep & mask
    if causal:
        keep = keep & np.tril(np.ones(logits.shape[-2:], dtype=bool))
    logits = np.where(keep, logits, -np.inf)
    w = np.exp(logits - logits.max(-1, keepdims=True))
    w /= w.sum(-1, keepdims=True)
    return np.einsum("bnts,bsnh->btnh", w, v)


def test_dot_product_attention_values():
    rng = np.random.default_rng(0)
    q, k, v = (rng.standard_normal((2, 3, 2, 4)), rng.standard_normal((2, 4, 2, 4)),
               rng.standard_normal((2, 4, 2, 4)))
    np.testing.assert_allclose(ops.dot_product_attention(q, k, v).numpy(),
                               _attention_numpy(q, k, v), rtol=1e-10)
    np.testing.assert_allclose(
        ops.dot_product_attention(q, k, v, bias=BIAS, mask=MASK, scale=0.3).numpy(),
        _attention_numpy(q, k, v, BIAS, MASK, 0.3), rtol=1e-10)
    kk, vv = k[:, :3, :1], v[:, :3, :1]
    np.testing.assert_allclose(ops.dot_product_attention(q, kk, vv, is_causal=True).numpy(),
                               _attention_numpy(q, kk, vv, causal=True), rtol=1e-10)
    out = ops.dot_product_attention(q.astype(np.float32), k.astype(np.float32),
                                    v.astype(np.float32))
    assert out.dtype == np.float32 and out.shape == (2, 3, 2, 4)
    with pytest.raises(ValueError, match="4D"):
        ops.dot_product_attention(q[0], k[0], v[0])


def test_depth_to_space_and_back():
    x = np.arange(2 * 2 * 3 * 8, dtype=np.float32).reshape(2, 2, 3, 8)
    y = ops.depth_to_space(x, 2).numpy()
    assert y.shape == (2, 4, 6, 2)
    # out[n, h·b + i, w·b + j, c] = x[n, h, w, (i·b + j)·C + c]
    assert y[1, 2 * 1 + 1, 2 * 2 + 0, 1] == x[1, 1, 2, (1 * 2 + 0) * 2 + 1]
    np.testing.assert_array_equal(ops.space_to_depth(y, 2).numpy(), x)
    np.testing.assert_array_equal(
        ops.space_to_depth(np.arange(16.0).reshape(1, 4, 4, 1), 2).numpy()[0, 0, 0],
        [0, 1, 4, 5])
    xf = np.moveaxis(x, -1, 1)
    np.testing.assert_array_equal(ops.depth_to_space(xf, 2, data_format="channels_first"
                                                      ).numpy(), np.moveaxis(y, -1, 1))
    with pytest.raises(ValueError, match="divisible"):
        ops.space_to_depth(np.ones((1, 3, 4, 1)), 2)
    with pytest.raises(ValueError, match="block_size"):
        ops.depth_to_space(x, 0)


# ---------------------------------------------------------------------- convolutions
def _depthwise_numpy(x, k, stride=1):
    """Direct loops: out[n, y, x, c·m + j] = Σ_ab x[n, y·s + a, x·s + b, c] k[a, b, c, j]."""
    n, h, w, c = x.shape
    kh, kw, _, m = k.shape
    oh, ow = (h - kh) // stride + 1, (w - kw) // stride + 1
    out = np.zeros((n, oh, ow, c * m))
    for yy in range(oh):
        for xx in range(ow):
            patch = x[:, yy * stride:yy * stride + kh, xx * stride:xx * stride + kw, :]
            out[:, yy, xx, :] = np.einsum("nabc,abcj->ncj", patch, k).reshape(n, c * m)
    return out


def _transpose_numpy(x, k, stride):
    """Direct scatter, padding "valid" (stride <= kernel size): every input pixel adds
    x[n, y, x, :] @ k[a, b]ᵀ at (y·s + a, x·s + b)."""
    n, h, w, _ = x.shape
    kh, kw, f, _ = k.shape
    out = np.zeros((n, (h - 1) * stride + kh, (w - 1) * stride + kw, f))
    for yy in range(h):
        for xx in range(w):
            for a in range(kh):
                for b in range(kw):
                    out[:, yy * stride + a, xx * stride + b] += x[:, yy, xx] @ k[a, b].T
    return out


def test_depthwise_separable_and_transposed_conv_values():
    rng = np.random.default_rng(0)
    x, k = rng.standard_normal((2, 5, 6, 3)), rng.standard_normal((3, 2, 3, 2))
    np.testing.assert_allclose(ops.depthwise_conv(x, k).numpy(), _depthwise_numpy(x, k),
                               rtol=1e-10)
    np.testing.assert_allclose(ops.nn.depthwise_conv(x, k, strides=2).numpy(),
                               _depthwise_numpy(x, k, 2), rtol=1e-10)
    same = ops.depthwise_conv(x.astype(np.float32), k.astype(np.float32), padding="same")
    assert same.shape == (2, 5, 6, 6) and same.dtype == np.float32
    p = rng.standard_normal((1, 1, 6, 4))
    np.testing.assert_allclose(ops.separable_conv(x, k, p).numpy(),
                               _depthwise_numpy(x, k) @ p[0, 0], rtol=1e-10)
    kt = rng.standard_normal((3, 3, 4, 3))
    for stride in (1, 2, 3):
        np.testing.assert_allclose(ops.conv_transpose(x, kt, stride).numpy(),
                                   _transpose_numpy(x, kt, stride), rtol=1e-10)
    # "same": the output is input size · stride
    assert ops.conv_transpose(x, kt, 2, padding="same").shape == (2, 10, 12, 4)
    with pytest.raises(ValueError, match="depthwise_conv"):
        ops.depthwise_conv(x, rng.standard_normal((3, 3, 2, 1)))
    with pytest.raises(ValueError, match="conv_transpose"):
        ops.conv_transpose(x, rng.standard_normal((3, 3, 4, 2)))


CONV_CASES = [
    ("depthwise_conv same strided", lambda x, k: ops.depthwise_conv(
        x, k, strides=(1, 2), padding="same"), [(1, 4, 5, 2), (3, 2, 2, 2)]),
    ("separable_conv dilated", lambda x, k, p: ops.separable_conv(x, k, p, dilation_rate=2),
     [(2, 5, 5, 2), (2, 2, 2, 1), (1, 1, 2, 3)]),
    ("conv_transpose valid", lambda x, k: ops.conv_transpose(x, k, 2), [(2, 3, 2, 2),
                                                                         (3, 2, 3, 2)]),
    ("conv_transpose same output_padding", lambda x, k: ops.conv_transpose(
        x, k, (2, 3), padding="same", output_padding=1), [(1, 3, 2, 2), (3, 3, 2, 2)]),
]


@pytest.mark.parametrize("name, fn, shapes", CONV_CASES, ids=[c[0] for c in CONV_CASES])
def test_conv_gradients_match_central_differences(gradcheck, name, fn, shapes):
    rng = np.random.default_rng(sum(map(ord, name)))
    arrays = [rng.standard_normal(s) for s in shapes]
    inputs = [Tensor(a) for a in arrays]
    with GradientTape() as tape:
        tape.watch(inputs)
        out = fn(*inputs)
    upstream = rng.standard_normal(out.shape)
    grads = tape.gradient(out, inputs, output_gradients=Tensor(upstream))
    for array, grad in zip(arrays, grads):
        def scalar():
            return float(np.sum(np.asarray(fn(*[Tensor(a) for a in arrays])) * upstream))
        gradcheck.assert_close(grad.numpy(), gradcheck.numerical_grad(scalar, array),
                               rtol=1e-5, atol=1e-7)
    x32 = [Tensor(a.astype(np.float32)) for a in arrays]
    with GradientTape() as tape:
        tape.watch(x32)
        out = fn(*x32)
    assert out.dtype == np.float32
    assert all(g.dtype == np.float32 for g in tape.gradient(out, x32))


def test_conv_second_derivative_raises_a_clear_error():
    rng = np.random.default_rng(2)
    x, k = Tensor(rng.standard_normal((1, 3, 3, 2))), Tensor(rng.standard_normal((2, 2, 2, 2)))
    for fn, label in ((ops.conv_transpose, "ops.conv_transpose"),
                      (ops.depthwise_conv, "ops.conv")):
        with GradientTape() as outer:
            outer.watch(x)
            with GradientTape() as inner:
                inner.watch(x)
                y = ops.sum(ops.square(fn(x, k)))
            g = ops.sum(inner.gradient(y, x))
        with pytest.raises(NotImplementedError, match=label):
            outer.gradient(g, x)


def test_adaptive_pools_are_bins_as_pytorch():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 5, 7, 3))
    # bin i of length L into n: [floor(i L / n), ceil((i + 1) L / n))
    rows, cols = [(0, 3), (2, 5)], [(0, 3), (2, 5), (4, 7)]
    avg, mx = ops.adaptive_average_pool(x, (2, 3)).numpy(), ops.adaptive_max_pool(x, (2, 3))
    for i, (r0, r1) in enumerate(rows):
        for j, (c0, c1) in enumerate(cols):
            np.testing.assert_allclose(avg[:, i, j], x[:, r0:r1, c0:c1].mean(axis=(1, 2)))
            np.testing.assert_allclose(mx.numpy()[:, i, j], x[:, r0:r1, c0:c1].max(axis=(1, 2)))
    np.testing.assert_allclose(
        ops.adaptive_average_pool(np.arange(7.0).reshape(1, 7, 1), 3).numpy()[0, :, 0],
        [1, 3, 5])
    cube = ops.adaptive_max_pool(rng.standard_normal((1, 4, 4, 4, 2)).astype(np.float32), 2)
    assert cube.shape == (1, 2, 2, 2, 2) and cube.dtype == np.float32
    assert ops.adaptive_average_pool(np.ones((1, 4, 4, 1), np.int32), 2).dtype == np.float32
    with pytest.raises(ValueError, match="output_size"):
        ops.adaptive_average_pool(x, (2, 0))
    with pytest.raises(ValueError, match="3-D, 4-D or 5-D"):
        ops.adaptive_max_pool(np.ones((3, 4)), 2)


def _ctc_brute_force(logits, labels, blank):
    """-log Σ over every path of length T that collapses to ``labels`` (merge repeats,
    drop blanks) of Π_t softmax(logits)[t, path_t]."""
    import itertools
    steps, classes = logits.shape
    p = np.exp(logits - logits.max(-1, keepdims=True))
    p /= p.sum(-1, keepdims=True)
    total = 0.0
    for path in itertools.product(range(classes), repeat=steps):
        merged = [k for i, k in enumerate(path) if i == 0 or k != path[i - 1]]
        if [k for k in merged if k != blank] == list(labels):
            total += np.prod(p[np.arange(steps), path])
    return -np.log(total)


def test_ctc_loss_matches_the_sum_over_paths(gradcheck):
    rng = np.random.default_rng(0)
    logits = rng.standard_normal((3, 5, 3))
    target = np.array([[1, 2, 0], [1, 1, 0], [2, 0, 0]])
    t_len, o_len = np.array([2, 2, 1]), np.array([5, 4, 3])
    got = ops.ctc_loss(target, logits, t_len, o_len)
    want = [_ctc_brute_force(logits[b, :o_len[b]], target[b, :t_len[b]], 0) for b in range(3)]
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-10)
    # blank at index 2: the label 2 is not used then
    got = ops.ctc_loss(np.array([[1, 0]]), logits[:1], np.array([2]), np.array([5]),
                       mask_index=2)
    np.testing.assert_allclose(got.numpy(), [_ctc_brute_force(logits[0], [1, 0], 2)],
                               rtol=1e-10)
    # the gradient by the logits, against central differences (zero past output_length)
    z = Tensor(logits)
    upstream = rng.standard_normal(3)
    with GradientTape() as tape:
        tape.watch(z)
        loss = ops.ctc_loss(target, z, t_len, o_len)
    grad = tape.gradient(loss, z, output_gradients=Tensor(upstream)).numpy()

    def scalar():
        return float(np.sum(ops.ctc_loss(target, logits, t_len, o_len).numpy() * upstream))
    gradcheck.assert_close(grad, gradcheck.numerical_grad(scalar, logits), rtol=1e-5,
                           atol=1e-7)
    assert np.all(grad[1, 4:] == 0) and np.all(grad[2, 3:] == 0)
    out32 = ops.ctc_loss(target, logits.astype(np.float32), t_len, o_len)
    assert out32.dtype == np.float32
    # a label too long for its steps has no path: infinite loss
    assert np.isinf(ops.ctc_loss(np.array([[1, 1]]), logits[:1, :2], np.array([2]),
                                 np.array([2])).numpy()[0])
    with pytest.raises(ValueError, match="batch size"):
        ops.ctc_loss(target[:2], logits, t_len, o_len)


def test_ctc_decode_greedy():
    z = np.log(np.array([[[0.1, 0.8, 0.1], [0.1, 0.8, 0.1], [0.8, 0.1, 0.1],
                          [0.1, 0.8, 0.1], [0.1, 0.1, 0.8], [0.8, 0.1, 0.1]]]))
    decoded, scores = ops.ctc_decode(z, np.array([6]))
    assert decoded.dtype == np.int32 and decoded.shape == (1, 1, 6)
    # argmax 1 1 0 1 2 0 -> merge repeats: 1 0 1 2 0 -> drop blanks: 1 1 2
    np.testing.assert_array_equal(decoded.numpy()[0, 0], [1, 1, 2, -1, -1, -1])
    np.testing.assert_allclose(scores.numpy(), [[-6 * np.log(0.8)]])
    decoded, _ = ops.ctc_decode(z, np.array([3]), merge_repeated=False)
    np.testing.assert_array_equal(decoded.numpy()[0, 0], [1, 1, -1, -1, -1, -1])
    with pytest.raises(NotImplementedError, match="greedy"):
        ops.ctc_decode(z, np.array([6]), strategy="beam_search")


def test_exported_flat_and_in_the_namespaces():
    from tinyann.ops import control, image, nn_more, signal
    for name in nn_more.__all__ + control.__all__ + signal.__all__:
        assert name in ops.__all__ and callable(getattr(ops, name)), name
    for name in nn_more.__all__:
        assert getattr(ops.nn, name) is getattr(ops, name), name
    for name in image.__all__:
        assert callable(getattr(ops.image, name)), name
