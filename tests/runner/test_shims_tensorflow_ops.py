"""TensorFlow's everyday functions as the served ``tensorflow`` gives them: values against
NumPy, TensorFlow's result dtypes, and gradients on the tape."""

from __future__ import annotations

import io

import numpy as np
import pytest

from tinyann.runner.shims import modules
from tinyann.runner.shims import tensorflow as tf
from tinyann.runner.shims._errors import NotServedError

RNG = np.random.default_rng(0)
A = RNG.normal(size=(3, 4)).astype("float32")
B = RNG.normal(size=(4, 2)).astype("float32")
V = np.array([3.0, -1.0, 2.5, 0.0, -4.0], dtype="float32")
SPD = (A[:, :3].T @ A[:, :3] + 3 * np.eye(3)).astype("float32")


def _np(x):
    return np.asarray(x.numpy() if hasattr(x, "numpy") else x)


def _close(got, want, rtol=1e-5, atol=1e-6):
    np.testing.assert_allclose(_np(got), want, rtol=rtol, atol=atol)


# ---------------------------------------------------------------------- values vs NumPy
VALUES = [
    ("add_n", lambda: tf.add_n([A, A, 2 * A]), 4 * A),
    ("broadcast_to", lambda: tf.broadcast_to(V[:3], [2, 3]), np.broadcast_to(V[:3], (2, 3))),
    ("clip_by_value", lambda: tf.clip_by_value(V, -1.0, 2.0), np.clip(V, -1, 2)),
    ("clip_by_norm", lambda: tf.clip_by_norm(V, 1.0), V / np.linalg.norm(V)),
    ("clip_by_norm small", lambda: tf.clip_by_norm(V, 100.0), V),
    ("cumsum", lambda: tf.cumsum(V), np.cumsum(V)),
    ("cumsum exclusive reverse", lambda: tf.cumsum(V, exclusive=True, reverse=True),
     np.cumsum(V[::-1])[::-1] - V),
    ("cumprod exclusive", lambda: tf.math.cumprod(V, exclusive=True),
     np.concatenate([[1.0], np.cumprod(V)[:-1]])),
    ("einsum", lambda: tf.einsum("ij,jk->ik", A, B), A @ B),
    ("equal", lambda: tf.equal(V, 0.0), V == 0),
    ("not_equal", lambda: tf.not_equal(V, 0.0), V != 0),
    ("greater_equal", lambda: tf.greater_equal(V, 2.5), V >= 2.5),
    ("less_equal", lambda: tf.less_equal(V, 0.0), V <= 0),
    ("eye", lambda: tf.eye(2, 3), np.eye(2, 3)),
    ("eye batch", lambda: tf.eye(2, batch_shape=[3]), np.broadcast_to(np.eye(2), (3, 2, 2))),
    ("fill", lambda: tf.fill([2, 3], 7), np.full((2, 3), 7)),
    ("floor", lambda: tf.floor(V / 2), np.floor(V / 2)),
    ("ceil", lambda: tf.math.ceil(V / 2), np.ceil(V / 2)),
    ("round half to even", lambda: tf.round([0.5, 1.5, 2.5, -0.5]), [0.0, 2.0, 2.0, -0.0]),
    ("gather axis 1", lambda: tf.gather(A, [2, 0], axis=1), A[:, [2, 0]]),
    ("gather batch_dims", lambda: tf.gather(A, [[1], [0], [3]], axis=1, batch_dims=1),
     A[np.arange(3)[:, None], [[1], [0], [3]]]),
    ("gather_nd", lambda: tf.gather_nd(A, [[0, 1], [2, 3]]), A[[0, 2], [1, 3]]),
    ("gather_nd rows", lambda: tf.gather_nd(A, [[2], [0]]), A[[2, 0]]),
    ("identity", lambda: tf.identity(A), A),
    ("linspace", lambda: tf.linspace(0.0, 1.0, 5), np.linspace(0, 1, 5)),
    ("logical_and", lambda: tf.logical_and(V > -2, V < 3), (V > -2) & (V < 3)),
    ("logical_or", lambda: tf.logical_or(V > 2, V < -2), (V > 2) | (V < -2)),
    ("logical_not", lambda: tf.logical_not(V > 0), ~(V > 0)),
    ("logical_xor", lambda: tf.math.logical_xor(V > 0, V > 2.7), (V > 0) ^ (V > 2.7)),
    ("meshgrid", lambda: tf.meshgrid([1, 2, 3], [4, 5])[0], np.meshgrid([1, 2, 3], [4, 5])[0]),
    ("negative", lambda: tf.negative(V), -V),
    ("norm", lambda: tf.norm(A), np.linalg.norm(A)),
    ("norm axis", lambda: tf.norm(A, axis=1), np.linalg.norm(A, axis=1)),
    ("norm ord 1", lambda: tf.norm(V, ord=1), np.abs(V).sum()),
    ("pad", lambda: tf.pad(A, [[1, 0], [0, 2]]), np.pad(A, [(1, 0), (0, 2)])),
    ("pad reflect", lambda: tf.pad(A, [[1, 1], [2, 0]], mode="REFLECT"),
     np.pad(A, [(1, 1), (2, 0)], mode="reflect")),
    ("pad symmetric", lambda: tf.pad(A, [[1, 1], [0, 0]], "SYMMETRIC"),
     np.pad(A, [(1, 1), (0, 0)], mode="symmetric")),
    ("pad value", lambda: tf.pad(V, [[1, 1]], constant_values=9.0), np.pad(V, 1,
                                                                           constant_values=9)),
    ("pow", lambda: tf.pow(np.abs(V), 1.5), np.abs(V) ** 1.5),
    ("reduce_all", lambda: tf.reduce_all(A > -10, axis=0), np.all(A > -10, axis=0)),
    ("reduce_any", lambda: tf.reduce_any(A > 1, axis=1), np.any(A > 1, axis=1)),
    ("reduce_std", lambda: tf.math.reduce_std(A, axis=0), A.std(axis=0)),
    ("reduce_variance", lambda: tf.math.reduce_variance(A, axis=[0, 1]), A.var()),
    ("reduce_euclidean_norm", lambda: tf.math.reduce_euclidean_norm(A, 1),
     np.linalg.norm(A, axis=1)),
    ("reduce_sum keepdims", lambda: tf.reduce_sum(A, axis=1, keepdims=True),
     A.sum(1, keepdims=True)),
    ("repeat", lambda: tf.repeat(A, 2, axis=0), np.repeat(A, 2, axis=0)),
    ("reverse", lambda: tf.reverse(A, [1]), A[:, ::-1]),
    ("roll", lambda: tf.roll(V, shift=2, axis=0), np.roll(V, 2)),
    ("roll two axes", lambda: tf.roll(A, [1, -1], [0, 1]), np.roll(A, (1, -1), (0, 1))),
    ("searchsorted", lambda: tf.searchsorted([1.0, 2.0, 3.0], [2.0, 0.5]), [1, 0]),
    ("searchsorted rows", lambda: tf.searchsorted([[1, 3], [2, 4]], [[2], [5]],
                                                  side="right"), [[1], [2]]),
    ("sign", lambda: tf.sign(V), np.sign(V)),
    ("sin", lambda: tf.sin(V), np.sin(V)),
    ("cos", lambda: tf.math.cos(V), np.cos(V)),
    ("tanh", lambda: tf.tanh(V), np.tanh(V)),
    ("sigmoid", lambda: tf.sigmoid(V), 1 / (1 + np.exp(-V))),
    ("log", lambda: tf.math.log(np.abs(V) + 1), np.log(np.abs(V) + 1)),
    ("sort", lambda: tf.sort(V), np.sort(V)),
    ("sort descending", lambda: tf.sort(A, axis=0, direction="DESCENDING"),
     -np.sort(-A, axis=0)),
    ("argsort", lambda: tf.argsort(V), np.argsort(V)),
    ("argsort descending", lambda: tf.argsort(V, direction="DESCENDING"), np.argsort(-V)),
    ("squeeze", lambda: tf.squeeze(A[None, :, None, :], axis=[0, 2]), A),
    ("stack", lambda: tf.stack([V, V], axis=1), np.stack([V, V], axis=1)),
    ("unstack", lambda: tf.unstack(A, axis=1)[2], A[:, 2]),
    ("tensordot", lambda: tf.tensordot(A, B, axes=1), A @ B),
    ("tile", lambda: tf.tile(A, [2, 1]), np.tile(A, (2, 1))),
    ("where 3-arg", lambda: tf.where(V > 0, V, -V), np.abs(V)),
    ("where 1-arg", lambda: tf.where(A > 0.5), np.argwhere(A > 0.5)),
    ("zeros", lambda: tf.zeros([2, 3], dtype=tf.int32), np.zeros((2, 3), int)),
    ("ones", lambda: tf.ones((2,)), np.ones(2)),
    ("transpose", lambda: tf.transpose(A), A.T),
    ("reshape with tf.shape", lambda: tf.reshape(A, [tf.shape(A)[0], -1, 2]),
     A.reshape(3, -1, 2)),
    ("one_hot on/off", lambda: tf.one_hot([1, 0], 3, on_value=5.0, off_value=-1.0),
     [[-1, 5, -1], [5, -1, -1]]),
    ("numpy_function", lambda: tf.numpy_function(np.cumsum, [V], tf.float32), np.cumsum(V)),
    ("py_function", lambda: tf.py_function(lambda x: x.numpy() * 2, [V], tf.float32), 2 * V),
    # tf.math
    ("abs", lambda: tf.math.abs(V), np.abs(V)),
    ("exp", lambda: tf.math.exp(V), np.exp(V)),
    ("log1p", lambda: tf.math.log1p(np.abs(V)), np.log1p(np.abs(V))),
    ("sqrt", lambda: tf.math.sqrt(np.abs(V)), np.sqrt(np.abs(V))),
    ("rsqrt", lambda: tf.math.rsqrt(np.abs(V) + 1), 1 / np.sqrt(np.abs(V) + 1)),
    ("square", lambda: tf.math.square(V), V ** 2),
    ("reciprocal", lambda: tf.math.reciprocal(V + 10), 1 / (V + 10)),
    ("floordiv", lambda: tf.math.floordiv(V, 2.0), np.floor_divide(V, 2)),
    ("floormod", lambda: tf.math.floormod(V, 2.0), np.mod(V, 2)),
    ("mod ints", lambda: tf.math.mod([-7, 7], 3), [2, 1]),
    ("truediv", lambda: tf.math.truediv(V, 4.0), V / 4),
    ("divide_no_nan", lambda: tf.math.divide_no_nan(V, V), (V != 0).astype("float32")),
    ("squared_difference", lambda: tf.math.squared_difference(V, 1.0), (V - 1) ** 2),
    ("is_nan", lambda: tf.math.is_nan([1.0, np.nan]), [False, True]),
    ("is_inf", lambda: tf.math.is_inf([np.inf, 1.0]), [True, False]),
    ("is_finite", lambda: tf.math.is_finite([np.inf, 1.0, np.nan]), [False, True, False]),
    ("top_k values", lambda: tf.math.top_k(V, k=2).values, [3.0, 2.5]),
    ("nn.top_k indices", lambda: tf.nn.top_k(A, 2).indices, np.argsort(-A, axis=1)[:, :2]),
    ("in_top_k", lambda: tf.math.in_top_k([0, 2, 1], A[:, :3], 1),
     A[:, :3].argmax(1) == [0, 2, 1]),
    ("count_nonzero", lambda: tf.math.count_nonzero(V), 4),
    ("count_nonzero axis", lambda: tf.math.count_nonzero(A > 0, axis=0), (A > 0).sum(0)),
    ("bincount", lambda: tf.math.bincount([1, 1, 3], minlength=5), [0, 2, 0, 1, 0]),
    ("bincount weights", lambda: tf.math.bincount([1, 1, 3], weights=[0.5, 1.0, 2.0]),
     [0, 1.5, 0, 2.0]),
    ("segment_sum", lambda: tf.math.segment_sum(A, [0, 0, 1]), [A[0] + A[1], A[2]]),
    ("unsorted_segment_sum", lambda: tf.math.unsorted_segment_sum(A, [2, 0, 2], 3),
     [A[1], np.zeros(4), A[0] + A[2]]),
    ("l2_normalize", lambda: tf.math.l2_normalize(A, axis=1),
     A / np.linalg.norm(A, axis=1, keepdims=True)),
    ("softmax", lambda: tf.math.softmax(A), np.exp(A) / np.exp(A).sum(1, keepdims=True)),
    ("log_softmax", lambda: tf.math.log_softmax(A, axis=0),
     A - np.log(np.exp(A).sum(0, keepdims=True))),
    ("log_sigmoid", lambda: tf.math.log_sigmoid(V), -np.log1p(np.exp(-V))),
    ("erf", lambda: tf.math.erf([0.0, 0.5]), [0.0, 0.5204998778]),
    ("tan", lambda: tf.math.tan(V / 4), np.tan(V / 4)),
    ("reduce_min", lambda: tf.math.reduce_min(A, axis=0), A.min(0)),
    ("argmin", lambda: tf.math.argmin(A, axis=1), A.argmin(1)),
    ("confusion_matrix", lambda: tf.math.confusion_matrix([0, 1, 2, 1], [0, 2, 2, 1]),
     [[1, 0, 0], [0, 1, 1], [0, 0, 1]]),
    ("confusion_matrix weights", lambda: tf.math.confusion_matrix(
        [0, 1], [1, 1], num_classes=3, weights=[2.0, 0.5], dtype=tf.float32),
     [[0, 2, 0], [0, 0.5, 0], [0, 0, 0]]),
    # tf.nn
    ("nn.l2_normalize", lambda: tf.nn.l2_normalize(V), V / np.linalg.norm(V)),
    ("bias_add", lambda: tf.nn.bias_add(A, V[:4]), A + V[:4]),
    ("embedding_lookup", lambda: tf.nn.embedding_lookup(A, [[2, 0]]), A[[[2, 0]]]),
    ("selu", lambda: tf.nn.selu(V), 1.0507009873554805 * np.where(
        V > 0, V, 1.6732632423543772 * (np.exp(V) - 1))),
    ("softsign", lambda: tf.nn.softsign(V), V / (1 + np.abs(V))),
    ("weighted_cross_entropy_with_logits", lambda: tf.nn.weighted_cross_entropy_with_logits(
        [1.0, 0.0, 1.0], V[:3], pos_weight=2.0),
     [1, 0, 1] * -np.log(1 / (1 + np.exp(-V[:3]))) * 2
     + [0, 1, 0] * -np.log(1 - 1 / (1 + np.exp(-V[:3])))),
    ("relu", lambda: tf.nn.relu(features=V), np.maximum(V, 0)),
    ("gelu exact by default", lambda: tf.nn.gelu(np.array([-1.0, 0.5, 2.0], "float32")),
     [-0.15865526, 0.34573123, 1.9544997]),
    ("leaky_relu alpha", lambda: tf.nn.leaky_relu(V, alpha=0.1), np.where(V > 0, V, 0.1 * V)),
    ("silu beta", lambda: tf.nn.silu(V, beta=2.0), V / (1 + np.exp(-2 * V))),
    ("elu", lambda: tf.nn.elu(V), np.where(V > 0, V, np.exp(V) - 1)),
    ("batch_normalization", lambda: tf.nn.batch_normalization(V, 0.5, 2.0, 1.0, 3.0, 1e-3),
     (V - 0.5) / np.sqrt(2.001) * 3 + 1),
    ("compute_average_loss", lambda: tf.nn.compute_average_loss(V, global_batch_size=10),
     V.sum() / 10),
    ("atan2", lambda: tf.math.atan2(V, 2.0), np.arctan2(V, 2)),
    ("top-level atan2", lambda: tf.atan2(V, 2.0), np.arctan2(V, 2)),
    ("asin", lambda: tf.asin(V / 5), np.arcsin(V / 5)),
    ("cosh", lambda: tf.math.cosh(V), np.cosh(V)),
    ("math.softsign", lambda: tf.math.softsign(V), V / (1 + np.abs(V))),
    # tf.linalg
    ("linalg.matmul", lambda: tf.linalg.matmul(A, A, transpose_b=True), A @ A.T),
    ("linalg.inv", lambda: tf.linalg.inv(SPD), np.linalg.inv(SPD)),
    ("linalg.inv adjoint", lambda: tf.linalg.inv(A[:, :3], adjoint=True),
     np.linalg.inv(A[:, :3]).T),
    ("linalg.pinv", lambda: tf.linalg.pinv(A), np.linalg.pinv(A)),
    ("linalg.det", lambda: tf.linalg.det(SPD), np.linalg.det(SPD)),
    ("linalg.norm", lambda: tf.linalg.norm(A, ord="fro", axis=[0, 1]), np.linalg.norm(A)),
    ("linalg.diag", lambda: tf.linalg.diag(A[:2, :3]), [np.diag(A[0, :3]), np.diag(A[1, :3])]),
    ("linalg.diag_part", lambda: tf.linalg.diag_part(SPD), np.diag(SPD)),
    ("linalg.trace", lambda: tf.linalg.trace(SPD), np.trace(SPD)),
    ("linalg.eye", lambda: tf.linalg.eye(3), np.eye(3)),
    ("linalg.band_part", lambda: tf.linalg.band_part(SPD, 0, -1), np.triu(SPD)),
    ("linalg.band_part lower 1", lambda: tf.linalg.band_part(A, 1, 0),
     np.tril(A) - np.tril(A, -2)),
    ("linalg.l2_normalize", lambda: tf.linalg.l2_normalize(V), V / np.linalg.norm(V)),
    ("linalg.solve", lambda: tf.linalg.solve(SPD, A[:, :2]), np.linalg.solve(SPD, A[:, :2])),
    ("linalg.cholesky", lambda: tf.linalg.cholesky(SPD), np.linalg.cholesky(SPD)),
    ("linalg.svd", lambda: tf.linalg.svd(A)[0], np.linalg.svd(A, compute_uv=False)),
    ("linalg.matvec", lambda: tf.linalg.matvec(A, V[:4]), A @ V[:4]),
]


@pytest.mark.parametrize("call,expected", [v[1:] for v in VALUES],
                         ids=[v[0] for v in VALUES])
def test_values_match_numpy(call, expected):
    got = call()
    expected = np.asarray(expected)
    if expected.dtype == bool or expected.dtype.kind in "iu":
        np.testing.assert_array_equal(_np(got), expected)
    else:
        _close(got, expected, rtol=1e-4, atol=1e-5)


def test_split_by_count_and_by_sizes():
    x = np.arange(12.0).reshape(2, 6)
    parts = tf.split(x, 3, axis=1)
    assert [p.shape for p in parts] == [(2, 2)] * 3
    parts = tf.split(x, [1, -1, 2], axis=1)
    assert [tuple(p.shape) for p in parts] == [(2, 1), (2, 3), (2, 2)]
    np.testing.assert_array_equal(_np(parts[1]), x[:, 1:4])


def test_unique_keeps_first_appearance_order():
    y, idx = tf.unique([4, 1, 4, 7, 1])
    assert _np(y).tolist() == [4, 1, 7] and _np(idx).tolist() == [0, 1, 0, 2, 1]
    assert y.dtype == np.int32 and idx.dtype == np.int32


def test_boolean_mask():
    mask = np.array([True, False, True])
    np.testing.assert_array_equal(_np(tf.boolean_mask(A, mask)), A[mask])
    np.testing.assert_array_equal(_np(tf.boolean_mask(A, A > 0)), A[A > 0])
    cols = np.array([True, False, False, True])
    np.testing.assert_array_equal(_np(tf.boolean_mask(A, cols, axis=1)), A[:, cols])


def test_qr_and_svd_reconstruct():
    q, r = tf.linalg.qr(A.T)
    _close(_np(q) @ _np(r), A.T, atol=1e-5)
    s, u, v = tf.linalg.svd(A)  # TensorFlow's order, and v (not its transpose)
    _close(_np(u) @ np.diag(_np(s)) @ _np(v).T, A, atol=1e-5)


def test_conv2d_and_pools_nhwc():
    images = RNG.normal(size=(1, 5, 5, 2)).astype("float32")
    kernel = RNG.normal(size=(3, 3, 2, 4)).astype("float32")
    out = _np(tf.nn.conv2d(images, kernel, strides=[1, 1, 1, 1], padding="VALID"))
    want = np.einsum("hwc,hwcf->f", images[0, 1:4, 2:5], kernel)
    assert out.shape == (1, 3, 3, 4)
    _close(out[0, 1, 2], want, atol=1e-4)
    assert _np(tf.nn.conv2d(images, kernel, 2, "SAME")).shape == (1, 3, 3, 4)
    pooled = _np(tf.nn.max_pool2d(images, ksize=2, strides=2, padding="VALID"))
    _close(pooled[0, 0, 0], images[0, :2, :2].max(axis=(0, 1)))
    avg = _np(tf.nn.avg_pool2d(images, 2, 2, "VALID"))
    _close(avg[0, 1, 1], images[0, 2:4, 2:4].mean(axis=(0, 1)))


def test_dropout_zeroes_and_rescales():
    x = np.ones((200, 50), "float32")
    out = _np(tf.nn.dropout(x, rate=0.25, seed=3))
    assert set(np.unique(out)) <= {0.0, np.float32(1 / 0.75)}
    assert 0.2 < (out == 0).mean() < 0.3


# ---------------------------------------------------------------------- TensorFlow's dtypes
def test_result_dtypes_follow_tensorflow():
    assert tf.argmax(A, axis=1).dtype == np.int64
    assert tf.argmax(A, axis=1, output_type=tf.int32).dtype == np.int32
    s = tf.shape(A)
    assert s.dtype == np.int32 and _np(s).tolist() == [3, 4] and int(s[0]) == 3
    assert tf.range(5).dtype == np.int32 and _np(tf.range(5)).tolist() == [0, 1, 2, 3, 4]
    assert tf.range(1, 2, 0.25).dtype == np.float32
    np.testing.assert_allclose(_np(tf.range(1, 2, 0.25)), [1, 1.25, 1.5, 1.75])
    assert tf.range(5.0).dtype == np.float32
    assert tf.range(3, dtype=tf.float64).dtype == np.float64
    assert tf.size(A).dtype == np.int32 and int(tf.size(A)) == 12
    assert tf.rank(A).dtype == np.int32 and int(tf.rank(A)) == 2
    assert tf.fill([2], 3).dtype == np.int32 and tf.fill([2], 3.0).dtype == np.float32
    assert tf.where(A > 0).dtype == np.int64
    assert tf.argsort(V).dtype == np.int32 and tf.math.top_k(V).indices.dtype == np.int32
    assert tf.math.count_nonzero(V).dtype == np.int64
    assert tf.math.confusion_matrix([0], [0]).dtype == np.int32
    assert tf.linspace(0.0, 1.0, 3).dtype == np.float32
    assert tf.searchsorted([1, 2], [1]).dtype == np.int32
    assert tf.linspace(0, 4, 5).dtype == np.float64  # ints: float64, as TensorFlow
    # Python lists convert as tf.constant does: floats float32, ints int32
    assert tf.sin([1.0]).dtype == np.float32 and tf.add([1, 2], 3).dtype == np.int32
    assert tf.reduce_sum([1.0, 2.0]).dtype == np.float32
    assert tf.math.add(1, 2).dtype == np.int32 and tf.add(A, 1).dtype == np.float32
    assert tf.reduce_sum([1, 2, 3]).dtype == np.int32  # NumPy's sum would give int64
    assert tf.linalg.matmul([[1]], [[2, 3]]).dtype == np.int32
    assert tf.nn.weighted_cross_entropy_with_logits([1.0], [0.5], 2.0).dtype == np.float32
    assert tf.nn.batch_normalization(V, 0.5, 2.0, 1.0, None, 1e-3).dtype == np.float32


def test_dtypes_namespace():
    assert tf.dtypes.float32 == tf.float32 == "float32" == tf.as_dtype(np.float32)
    assert tf.float32.name == "float32" and tf.float32.is_floating
    assert tf.int64.is_integer and not tf.int64.is_floating
    assert tf.as_dtype("int8").max == 127
    assert tf.constant([1.0]).dtype == tf.float32
    assert tf.cast(tf.constant([1.7]), tf.int32).dtype == tf.int32


def test_random_namespace():
    x = np.arange(10)
    shuffled = _np(tf.random.shuffle(x, seed=1))
    assert sorted(shuffled.tolist()) == x.tolist() and shuffled.tolist() != x.tolist()
    samples = _np(tf.random.categorical(np.log([[0.1, 0.9], [1.0, 1e-9]]), 400, seed=2))
    assert samples.shape == (2, 400) and samples.dtype == np.int64
    assert 0.8 < samples[0].mean() < 0.97 and samples[1].sum() == 0
    t = _np(tf.random.truncated_normal([5000], mean=1.0, stddev=2.0, seed=3))
    assert t.dtype == np.float32 and np.abs(t - 1).max() <= 4 and abs(t.mean() - 1) < 0.1
    ints = _np(tf.random.uniform([100], minval=2, maxval=5, dtype=tf.int32, seed=4))
    assert ints.dtype == np.int32 and set(ints.tolist()) == {2, 3, 4}
    with pytest.raises(ValueError, match="maxval"):
        tf.random.uniform([2], dtype=tf.int32)


def test_misc_top_level():
    assert tf.executing_eagerly() is True
    assert tf.is_tensor(tf.constant(1.0)) and tf.is_tensor(tf.Variable(1.0))
    assert not tf.is_tensor(np.ones(2)) and not tf.is_tensor([1.0])
    assert tf.is_tensor(next(iter(tf.data.Dataset.from_tensor_slices(np.ones((2, 2))))))
    spec = tf.TensorSpec(shape=(None, 3), dtype=tf.float32)
    assert spec.shape == (None, 3) and spec.dtype == "float32"

    @tf.function(input_signature=[spec])
    def double(x):
        return x * 2

    _close(double(tf.constant([[1.0, 2.0, 3.0]])), [[2.0, 4.0, 6.0]])


def test_device_scope_and_unconnected_gradients():
    with tf.device("CPU:0"):
        x = tf.Variable(2.0)
        unused = tf.Variable(1.0)
        with tf.GradientTape() as tape:
            y = x * x
    dx, du = tape.gradient(y, [x, unused],
                           unconnected_gradients=tf.UnconnectedGradients.ZERO)
    assert float(dx) == 4.0 and float(du) == 0.0


def test_print_writes_tensors_as_tensorflow_does(capsys):
    tf.print(tf.constant([1.0, 2.5]), "loss:", tf.constant(3), tf.range(20))
    assert capsys.readouterr().out == "[1 2.5] loss: 3 [0 1 2 ... 17 18 19]\n"
    stream = io.StringIO()
    tf.print([[1, 2], [3, 4]], output_stream=stream, sep="|")
    assert stream.getvalue() == "[[1, 2], [3, 4]]\n"
    tf.print(tf.constant([[1, 2], [3, 4]]), end="!")
    assert capsys.readouterr().out == "[[1 2]\n [3 4]]!"


# ---------------------------------------------------------------------- gradients
def _grad(fn, value):
    x = tf.Variable(value)
    with tf.GradientTape() as tape:
        y = fn(x)
    return _np(tape.gradient(y, x))


def test_gradient_clip_by_value():
    g = _grad(lambda x: tf.reduce_sum(tf.clip_by_value(x, -1.0, 2.0) * 3.0), V)
    # V holds -1.0, on the bound: its gradient passes, as in TensorFlow
    np.testing.assert_allclose(g, np.where((V >= -1) & (V <= 2), 3.0, 0.0))


def test_gradient_gather_and_gather_nd():
    g = _grad(lambda x: tf.reduce_sum(tf.gather(x, [1, 1, 3])), V)
    np.testing.assert_allclose(g, [0, 2, 0, 1, 0])
    g = _grad(lambda x: tf.reduce_sum(tf.gather_nd(x, [[0, 1], [2, 3], [0, 1]])), A)
    want = np.zeros_like(A)
    want[0, 1], want[2, 3] = 2, 1
    np.testing.assert_allclose(g, want)


def test_gradient_reduce_std():
    g = _grad(lambda x: tf.math.reduce_std(x), V)
    np.testing.assert_allclose(g, (V - V.mean()) / (V.size * V.std()), rtol=1e-5)


def test_gradient_l2_normalize():
    w = np.array([0.5, -2.0, 1.0], "float32")
    g = _grad(lambda x: tf.reduce_sum(tf.math.l2_normalize(x) * w), V[:3])
    n = np.linalg.norm(V[:3])
    np.testing.assert_allclose(g, w / n - V[:3] * (w @ V[:3]) / n ** 3, rtol=1e-5)


def test_gradient_where_and_boolean_mask():
    g = _grad(lambda x: tf.reduce_sum(tf.where(x > 0, x * x, -x)), V)
    np.testing.assert_allclose(g, np.where(V > 0, 2 * V, -1.0))
    g = _grad(lambda x: tf.reduce_sum(tf.boolean_mask(x, [True, False, True, False, True])),
              V)
    np.testing.assert_allclose(g, [1, 0, 1, 0, 1])


def test_gradient_cumsum_pad_and_norm():
    g = _grad(lambda x: tf.reduce_sum(tf.cumsum(x, exclusive=True)), V)
    np.testing.assert_allclose(g, [4, 3, 2, 1, 0])
    g = _grad(lambda x: tf.reduce_sum(tf.pad(x, [[2, 1]], mode="REFLECT")), V)
    np.testing.assert_allclose(g, [1, 2, 2, 2, 1])  # [v2 v1 | v0..v4 | v3]
    g = _grad(lambda x: tf.norm(x), V)
    np.testing.assert_allclose(g, V / np.linalg.norm(V), rtol=1e-5)


# ---------------------------------------------------------------------- what stays unserved
@pytest.mark.parametrize("get,symbol", [
    (lambda t: t.scatter_nd, "tf.scatter_nd"),
    (lambda t: t.RaggedTensor, "tf.RaggedTensor"),
    (lambda t: t.math.bessel_i0e, "tf.math.bessel_i0e"),
    (lambda t: t.nn.conv3d, "tf.nn.conv3d"),
    (lambda t: t.linalg.expm, "tf.linalg.expm"),
    # TensorFlow 2 has these in tf.math only
    (lambda t: t.reduce_std, "tf.reduce_std"),
    (lambda t: t.log, "tf.log"),
    (lambda t: t.nn.log_sigmoid, "tf.nn.log_sigmoid"),
    (lambda t: t.math.log10, "tf.math.log10"),
    (lambda t: t.random.poisson, "tf.random.poisson"),
    (lambda t: t.dtypes.complex64, "tf.dtypes.complex64"),
])
def test_unserved_names_still_raise(get, symbol):
    with pytest.raises(NotServedError, match=f"`{symbol}` is not served"):
        get(modules.module("tensorflow"))


def test_names_only_in_tf_math_point_there():
    served = modules.module("tensorflow")
    with pytest.raises(NotServedError, match=r"Use tf\.math\.reduce_std instead"):
        _ = served.reduce_std
    with pytest.raises(NotServedError, match=r"Use tf\.math\.log_sigmoid instead"):
        _ = served.nn.log_sigmoid
    with pytest.raises(NotServedError, match=r"Use tf\.keras\.ops\.log2 instead"):
        _ = served.math.log2


def test_served_module_exposes_the_new_names():
    served = modules.module("tensorflow")
    assert served.gather is tf.gather and served.linalg.inv is tf.linalg.inv
    assert {"gather", "range", "print", "linalg", "dtypes", "TensorSpec"} <= set(dir(served))
