"""Gradients of gradients (nested GradientTapes, as TensorFlow): the ops' backward is
recorded on the outer tape, checked against finite differences of first gradients;
NumPy-only gradients (built-in layers, einsum, conv) raise a clear error instead of
giving a silent None or zero."""

from __future__ import annotations

import numpy as np
import pytest

from tests.autodiff.test_op_gradients import CASES
from tinyann import layers, ops
from tinyann.autodiff import GradientTape, Tensor
from tinyann.variables import Variable

# ops whose gradient closure is NumPy only: a second derivative through them raises
FIRST_ORDER_ONLY = {"dot nd", "einsum matmul", "einsum sum-only axis", "einsum implicit",
                    "tensordot", "prod", "conv valid", "conv same strided", "max_pool",
                    "average_pool same"}


def first_gradients(fn, arrays, upstream):
    """d/dx of sum(upstream * fn(x)) for each input, as float64 arrays (one tape)."""
    inputs = [Tensor(a) for a in arrays]
    with GradientTape() as tape:
        tape.watch(inputs)
        out = fn(*inputs)
    grads = tape.gradient(out, inputs, output_gradients=Tensor(upstream),
                          unconnected_gradients="zero")
    return [g.numpy() for g in grads]


def hvp(fn, arrays, upstream, vectors):
    """H v of sum(upstream * fn(x)) by nested tapes; None where not connected."""
    inputs = [Tensor(a) for a in arrays]
    with GradientTape() as outer:
        outer.watch(inputs)
        with GradientTape() as inner:
            inner.watch(inputs)
            out = fn(*inputs)
        grads = inner.gradient(out, inputs, output_gradients=Tensor(upstream),
                               unconnected_gradients="zero")
    return outer.gradient(grads, inputs, output_gradients=[Tensor(v) for v in vectors])


def numeric_hvp(fn, arrays, upstream, vectors, eps=1e-5):
    plus = first_gradients(fn, [a + eps * v for a, v in zip(arrays, vectors)], upstream)
    minus = first_gradients(fn, [a - eps * v for a, v in zip(arrays, vectors)], upstream)
    return [(p - m) / (2 * eps) for p, m in zip(plus, minus)]


def sample(name, specs):
    rng = np.random.default_rng(abs(hash(name)) % 2**32)
    arrays = [sampler(rng, shape).astype(np.float64) for shape, sampler in specs]
    return rng, arrays


@pytest.mark.parametrize("name, fn, specs", [c for c in CASES if c[0] not in FIRST_ORDER_ONLY],
                         ids=[c[0] for c in CASES if c[0] not in FIRST_ORDER_ONLY])
def test_every_op_hessian_vector_product_matches_finite_differences(name, fn, specs):
    rng, arrays = sample(name, specs)
    out_shape = np.shape(fn(*[Tensor(a) for a in arrays]))
    upstream = rng.standard_normal(out_shape)
    # small steps: no kink (relu, max, clip) is crossed
    vectors = [rng.standard_normal(a.shape) * 0.01 for a in arrays]
    got = hvp(fn, arrays, upstream, vectors)
    want = numeric_hvp(fn, arrays, upstream, vectors)
    for i, (g, w) in enumerate(zip(got, want)):
        if g is None:
            # TensorFlow's None: the first gradient does not depend on this input
            np.testing.assert_allclose(w, 0, atol=1e-6, err_msg=f"input {i}")
        else:
            assert g.shape == arrays[i].shape
            np.testing.assert_allclose(g.numpy(), w, rtol=1e-4, atol=1e-6,
                                       err_msg=f"input {i}")


@pytest.mark.parametrize("name, fn, specs", [c for c in CASES if c[0] in FIRST_ORDER_ONLY],
                         ids=[c[0] for c in CASES if c[0] in FIRST_ORDER_ONLY])
def test_numpy_only_gradients_refuse_a_second_derivative(name, fn, specs):
    rng, arrays = sample(name, specs)
    upstream = rng.standard_normal(np.shape(fn(*[Tensor(a) for a in arrays])))
    with pytest.raises(NotImplementedError, match="not differentiable again"):
        hvp(fn, arrays, upstream, [np.ones_like(a) for a in arrays])


def test_x_cubed_second_and_third_derivatives():
    x = Tensor(np.array([0.5, -1.2, 2.0]))
    with GradientTape() as t3:
        t3.watch(x)
        with GradientTape() as t2:
            t2.watch(x)
            with GradientTape() as t1:
                t1.watch(x)
                y = x ** 3
            g = t1.gradient(y, x)
        gg = t2.gradient(g, x)
    ggg = t3.gradient(gg, x)
    np.testing.assert_allclose(g.numpy(), 3 * x.numpy() ** 2)
    np.testing.assert_allclose(gg.numpy(), 6 * x.numpy())
    np.testing.assert_allclose(ggg.numpy(), [6.0, 6.0, 6.0])


def test_sin_exp_tanh_second_derivatives_in_closed_form():
    a = np.array([0.3, -0.7, 1.1])
    cases = [
        (lambda x: ops.sin(ops.exp(x)),
         # d/dx = cos(e^x) e^x ; d2 = -sin(e^x) e^2x + cos(e^x) e^x
         lambda v: -np.sin(np.exp(v)) * np.exp(2 * v) + np.cos(np.exp(v)) * np.exp(v)),
        (ops.tanh, lambda v: -2 * np.tanh(v) * (1 - np.tanh(v) ** 2)),
    ]
    for f, second in cases:
        x = Variable(a.copy(), dtype="float64")
        with GradientTape() as outer:
            with GradientTape() as inner:
                y = f(x)
            g = inner.gradient(y, x)
        np.testing.assert_allclose(outer.gradient(g, x).numpy(), second(a), rtol=1e-10)


def test_matmul_and_softmax_mixed_second_derivative():
    # d/dW of (d/dx of sum(c * softmax(x W))): a mixed second derivative
    rng = np.random.default_rng(0)
    x0, w0 = rng.standard_normal((2, 3)), rng.standard_normal((3, 4))
    c = rng.standard_normal((2, 4))
    w = Variable(w0.copy(), dtype="float64")

    def grad_x(w_value):
        x = Tensor(x0)
        with GradientTape() as tape:
            tape.watch(x)
            y = ops.sum(ops.softmax(ops.matmul(x, w_value)) * c)
        return tape.gradient(y, x)

    v = rng.standard_normal((2, 3))
    x = Tensor(x0)
    with GradientTape() as outer:
        with GradientTape() as inner:
            inner.watch(x)
            y = ops.sum(ops.softmax(ops.matmul(x, w)) * c)
        gx = inner.gradient(y, x)
        probe = ops.sum(gx * v)
    got = outer.gradient(probe, w).numpy()
    eps = 1e-6
    want = np.zeros_like(w0)
    for idx in np.ndindex(*w0.shape):
        d = np.zeros_like(w0)
        d[idx] = eps
        want[idx] = (np.sum(grad_x(Tensor(w0 + d)).numpy() * v)
                     - np.sum(grad_x(Tensor(w0 - d)).numpy() * v)) / (2 * eps)
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-9)


def test_tiny_mlp_in_ops_hessian_vector_product():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((5, 3))
    y = rng.standard_normal((5, 2))
    shapes = [(3, 4), (4,), (4, 2), (2,)]
    params0 = [rng.standard_normal(s) * 0.5 for s in shapes]
    vectors = [rng.standard_normal(s) for s in shapes]

    def loss(params):
        w1, b1, w2, b2 = params
        h = ops.tanh(ops.matmul(x, w1) + b1)
        out = ops.sigmoid(ops.matmul(h, w2) + b2)
        return ops.mean(ops.square(out - y))

    def grads(values):
        params = [Variable(v, dtype="float64") for v in values]
        with GradientTape() as tape:
            value = loss(params)
        return [g.numpy() for g in tape.gradient(value, params)]

    params = [Variable(v.copy(), dtype="float64") for v in params0]
    with GradientTape() as outer:
        with GradientTape() as inner:
            value = loss(params)
        g = inner.gradient(value, params)
        # H v as the gradient of g . v (v constant)
        dot = ops.add(ops.add(ops.sum(g[0] * vectors[0]), ops.sum(g[1] * vectors[1])),
                      ops.add(ops.sum(g[2] * vectors[2]), ops.sum(g[3] * vectors[3])))
    got = outer.gradient(dot, params)
    eps = 1e-5
    plus = grads([p + eps * v for p, v in zip(params0, vectors)])
    minus = grads([p - eps * v for p, v in zip(params0, vectors)])
    for g_, p, m in zip(got, plus, minus):
        np.testing.assert_allclose(g_.numpy(), (p - m) / (2 * eps), rtol=1e-5, atol=1e-9)


def test_first_gradient_alone_is_unchanged_by_an_unused_outer_tape():
    # an outer tape open for other reasons (a GAN's two tapes) must not disturb the
    # inner gradient, even through a built-in layer whose backward is NumPy only
    dense = layers.Dense(3)
    x = Tensor(np.ones((2, 4), dtype="float32"))
    with GradientTape() as other, GradientTape() as tape:
        y = ops.sum(ops.square(dense(x)))
        grads = tape.gradient(y, dense.trainable_weights)
    assert all(g is not None and np.all(np.isfinite(g.numpy())) for g in grads)
    assert other.gradient(y, dense.kernel) is not None


def test_builtin_layer_second_derivative_names_the_layer():
    dense = layers.Dense(3, activation="tanh", name="my_dense")
    x = Tensor(np.ones((2, 4), dtype="float32"))
    with GradientTape() as outer:
        outer.watch(x)
        with GradientTape() as inner:
            inner.watch(x)
            y = ops.sum(ops.square(dense(x)))
        gx = inner.gradient(y, x)
        penalty = ops.sum(ops.square(gx))   # a gradient penalty (WGAN-GP)
    with pytest.raises(NotImplementedError, match=r"layer 'my_dense' \(Dense\)"):
        outer.gradient(penalty, dense.kernel)
