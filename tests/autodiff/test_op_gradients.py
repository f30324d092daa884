"""Every differentiable op's tape gradient against central differences (float64), for
a random output gradient, with broadcasting; plus dtype behaviour in float32 and for
integer inputs."""

from __future__ import annotations

import numpy as np
import pytest

from tests.autodiff.gradient_table import check_central_differences, check_float32
from tinyann import ops
from tinyann.autodiff import GradientTape, Tensor


def positive(rng, shape):
    return rng.uniform(0.5, 2.0, size=shape)


def normal(rng, shape):
    # values away from 0 and from each other: no kink (relu, abs, max) within reach
    return rng.uniform(0.2, 1.5, size=shape) * np.where(rng.random(shape) < 0.5, -1, 1)


def distinct(rng, shape):
    return rng.permutation(np.prod(shape, dtype=int)).reshape(shape) * 0.1 + 0.05


# (name, function, [(shape, sampler), ...])
CASES = [
    ("add broadcast", ops.add, [((3, 4), normal), ((4,), normal)]),
    ("subtract broadcast", ops.subtract, [((3, 1), normal), ((1, 4), normal)]),
    ("multiply", ops.multiply, [((2, 3), normal), ((2, 3), normal)]),
    ("divide broadcast", ops.divide, [((2, 3), normal), ((3,), positive)]),
    ("power", ops.power, [((2, 3), positive), ((2, 3), normal)]),
    ("power scalar", lambda a: ops.power(a, 3), [((4,), normal)]),
    ("negative", ops.negative, [((3,), normal)]),
    ("maximum", ops.maximum, [((3, 4), normal), ((4,), normal)]),
    ("minimum", ops.minimum, [((3, 4), normal), ((3, 4), normal)]),
    ("exp", ops.exp, [((2, 3), normal)]),
    ("log", ops.log, [((2, 3), positive)]),
    ("log1p", ops.log1p, [((2, 3), positive)]),
    ("expm1", ops.expm1, [((2, 3), normal)]),
    ("sqrt", ops.sqrt, [((2, 3), positive)]),
    ("square", ops.square, [((2, 3), normal)]),
    ("abs", ops.abs, [((2, 3), normal)]),
    ("sin", ops.sin, [((5,), normal)]),
    ("cos", ops.cos, [((5,), normal)]),
    ("tanh", ops.tanh, [((5,), normal)]),
    ("reciprocal", ops.reciprocal, [((5,), positive)]),
    ("clip", lambda a: ops.clip(a, -0.9, 0.9), [((4, 3), normal)]),
    ("where", lambda a, b: ops.where(a > 0, a, b), [((3, 4), normal), ((4,), normal)]),
    ("matmul", ops.matmul, [((3, 4), normal), ((4, 2), normal)]),
    ("matmul batched broadcast", ops.matmul, [((2, 3, 4), normal), ((4, 5), normal)]),
    ("matmul vector", ops.matmul, [((4,), normal), ((4, 3), normal)]),
    ("matmul matrix-vector", ops.matmul, [((3, 4), normal), ((4,), normal)]),
    ("matmul vector-vector", ops.matmul, [((4,), normal), ((4,), normal)]),
    ("dot", ops.dot, [((3, 4), normal), ((4, 2), normal)]),
    ("dot nd", ops.dot, [((2, 3, 4), normal), ((4, 2), normal)]),
    ("einsum matmul", lambda a, b: ops.einsum("ij,jk->ik", a, b),
     [((3, 4), normal), ((4, 2), normal)]),
    ("einsum sum-only axis", lambda a, b: ops.einsum("ijl,jk->ik", a, b),
     [((3, 4, 2), normal), ((4, 2), normal)]),
    ("einsum implicit", lambda a, b: ops.einsum("bi,bj", a, b),
     [((3, 4), normal), ((3, 2), normal)]),
    ("tensordot", lambda a, b: ops.tensordot(a, b, axes=([1, 2], [0, 1])),
     [((2, 3, 4), normal), ((3, 4, 5), normal)]),
    ("sum axis", lambda a: ops.sum(a, axis=1), [((3, 4), normal)]),
    ("sum keepdims", lambda a: ops.sum(a, axis=(0, 2), keepdims=True), [((2, 3, 4), normal)]),
    ("mean", lambda a: ops.mean(a, axis=-1), [((3, 4), normal)]),
    ("max", lambda a: ops.max(a, axis=0), [((3, 4), distinct)]),
    ("min all", ops.min, [((3, 4), distinct)]),
    ("prod", lambda a: ops.prod(a, axis=1), [((3, 4), normal)]),
    ("var", lambda a: ops.var(a, axis=0), [((5, 3), normal)]),
    ("std", ops.std, [((5, 3), normal)]),
    ("logsumexp", lambda a: ops.logsumexp(a, axis=1), [((3, 4), normal)]),
    ("cumsum", lambda a: ops.cumsum(a, axis=1), [((3, 4), normal)]),
    ("reshape", lambda a: ops.reshape(a, (4, 3)), [((3, 4), normal)]),
    ("transpose", lambda a: ops.transpose(a, (2, 0, 1)), [((2, 3, 4), normal)]),
    ("swapaxes", lambda a: ops.swapaxes(a, 0, 2), [((2, 3, 4), normal)]),
    ("expand_dims", lambda a: ops.expand_dims(a, 1), [((3, 4), normal)]),
    ("squeeze", lambda a: ops.squeeze(a, 1), [((3, 1, 4), normal)]),
    ("broadcast_to", lambda a: ops.broadcast_to(a, (2, 3, 4)), [((3, 1), normal)]),
    ("concatenate", lambda a, b: ops.concatenate([a, b], axis=1),
     [((2, 3), normal), ((2, 2), normal)]),
    ("stack", lambda a, b: ops.stack([a, b], axis=1), [((2, 3), normal), ((2, 3), normal)]),
    ("tile", lambda a: ops.tile(a, (2, 3)), [((2, 3), normal)]),
    ("getitem slice", lambda a: a[1:, ::2], [((3, 4), normal)]),
    ("getitem repeated index", lambda a: a[np.array([0, 2, 0])], [((3, 4), normal)]),
    ("take", lambda a: ops.take(a, np.array([1, 1, 0]), axis=1), [((3, 4), normal)]),
    ("operators", lambda a, b: (a * 2 - b) / 3 + a @ b.T, [((3, 3), normal), ((3, 3), normal)]),
    ("reflected operators", lambda a: 1.0 - 2.0 / a + 2.0 ** a, [((4,), positive)]),
    ("cast", lambda a: ops.cast(a, a.dtype.name) * 2, [((3,), normal)]),
    ("relu", ops.relu, [((3, 4), normal)]),
    ("relu6", lambda a: ops.relu6(a * 5), [((3, 4), normal)]),
    ("sigmoid", ops.sigmoid, [((3, 4), normal)]),
    ("softplus", ops.softplus, [((3, 4), normal)]),
    ("silu", ops.silu, [((3, 4), normal)]),
    ("gelu", ops.gelu, [((3, 4), normal)]),
    ("gelu exact", lambda a: ops.gelu(a, approximate=False), [((3, 4), normal)]),
    ("elu", ops.elu, [((3, 4), normal)]),
    ("leaky_relu", ops.leaky_relu, [((3, 4), normal)]),
    ("softmax", ops.softmax, [((3, 4), normal)]),
    ("softmax axis 0", lambda a: ops.softmax(a, axis=0), [((3, 4), normal)]),
    ("log_softmax", ops.log_softmax, [((3, 4), normal)]),
    ("conv valid", lambda a, k: ops.conv(a, k), [((2, 5, 5, 2), normal), ((3, 3, 2, 3), normal)]),
    ("conv same strided", lambda a, k: ops.conv(a, k, strides=2, padding="same"),
     [((1, 6, 5, 2), normal), ((3, 2, 2, 2), normal)]),
    ("max_pool", lambda a: ops.max_pool(a, 2), [((2, 4, 4, 2), distinct)]),
    ("average_pool same", lambda a: ops.average_pool(a, 3, strides=2, padding="same"),
     [((1, 5, 5, 2), normal)]),
    ("moments", lambda a: ops.add(*ops.moments(a, axes=[0])), [((5, 3), normal)]),
    ("normalize", ops.normalize, [((3, 4), normal)]),
    ("categorical_crossentropy", lambda t, p: ops.categorical_crossentropy(
        ops.softmax(t), ops.softmax(p)), [((3, 4), normal), ((3, 4), normal)]),
    ("categorical_crossentropy logits", lambda t, p: ops.categorical_crossentropy(
        ops.softmax(t), p, from_logits=True), [((3, 4), normal), ((3, 4), normal)]),
    ("sparse_categorical_crossentropy", lambda p: ops.sparse_categorical_crossentropy(
        np.array([0, 3, 1]), p, from_logits=True), [((3, 4), normal)]),
    ("binary_crossentropy", lambda t, p: ops.binary_crossentropy(
        ops.sigmoid(t), ops.sigmoid(p)), [((3, 4), normal), ((3, 4), normal)]),
    ("binary_crossentropy logits", lambda t, p: ops.binary_crossentropy(
        ops.sigmoid(t), p, from_logits=True), [((3, 4), normal), ((3, 4), normal)]),
]


@pytest.mark.parametrize("name, fn, specs", CASES, ids=[c[0] for c in CASES])
def test_tape_gradient_matches_central_differences(gradcheck, name, fn, specs):
    check_central_differences(gradcheck, name, fn, specs)


@pytest.mark.parametrize("name, fn, specs", CASES, ids=[c[0] for c in CASES])
def test_float32_inputs_give_float32_results_and_gradients(name, fn, specs):
    check_float32(fn, specs)


def test_integer_inputs_compute_like_numpy_and_comparisons_have_no_gradient():
    a = ops.convert_to_tensor([1, 2, 3])
    assert a.dtype == np.int32
    assert ops.add(a, 1).numpy().tolist() == [2, 3, 4]
    assert ops.mean(a).numpy() == pytest.approx(2.0)
    x = Tensor(np.array([1.0, -2.0]))
    with GradientTape() as tape:
        tape.watch(x)
        flags = ops.greater(x, 0)
        picked = ops.argmax(x)
    assert flags.dtype == bool and int(picked) == 0
    assert tape.gradient(flags, x) is None


def test_einsum_with_a_trace_says_it_is_not_supported():
    x = Tensor(np.eye(3))
    with GradientTape() as tape:
        tape.watch(x)
        y = ops.einsum("ii->", x)
    with pytest.raises(NotImplementedError, match="trace"):
        tape.gradient(y, x)


def test_conv_and_pools_compute_the_textbook_values():
    x = np.arange(2 * 4 * 4 * 1, dtype=np.float64).reshape(2, 4, 4, 1)
    k = np.ones((2, 2, 1, 1))
    windows = x[:, :-1, :-1] + x[:, 1:, :-1] + x[:, :-1, 1:] + x[:, 1:, 1:]
    np.testing.assert_allclose(ops.conv(x, k).numpy(), windows)
    np.testing.assert_allclose(ops.max_pool(x, 2).numpy(), x[:, 1::2, 1::2])
    np.testing.assert_allclose(ops.average_pool(x, 2).numpy(), windows[:, ::2, ::2] / 4)
    with pytest.raises(NotImplementedError, match="channels_last"):
        ops.max_pool(x, 2, data_format="channels_first")
