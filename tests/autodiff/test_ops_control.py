"""tinyann.ops.control: Keras's control flow run eagerly (gradients flow through the
ops the branches and loops run), custom_gradient's node and saturate_cast."""

from __future__ import annotations

import numpy as np
import pytest

from tinyann import ops
from tinyann.autodiff import GradientTape, Tensor


def grad_of(fn, x):
    x = Tensor(np.asarray(x, dtype=np.float64))
    with GradientTape() as tape:
        tape.watch(x)
        y = fn(x)
    return y, tape.gradient(y, x)


def test_cond_and_switch_run_one_branch_and_differentiate_it():
    y, g = grad_of(lambda x: ops.cond(ops.sum(x) > 0, lambda: ops.sum(x * x),
                                      lambda: ops.sum(x)), [1.0, 2.0])
    assert float(y) == 5.0
    np.testing.assert_allclose(g.numpy(), [2.0, 4.0])
    y, g = grad_of(lambda x: ops.cond(ops.sum(x) > 0, lambda: ops.sum(x * x),
                                      lambda: ops.sum(x * 3.0)), [-1.0, -2.0])
    np.testing.assert_allclose(g.numpy(), [3.0, 3.0])
    branches = [lambda a, b: a + b, lambda a, b: a * b, lambda a, b: a - b]
    assert float(ops.switch(1, branches, 3.0, 4.0)) == 12.0
    assert float(ops.switch(7, branches, 3.0, 4.0)) == -1.0   # clamped to the last
    assert float(ops.switch(-3, branches, 3.0, 4.0)) == 7.0   # clamped to the first
    with pytest.raises(ValueError, match="scalar"):
        ops.cond(np.array([True, False]), lambda: 1, lambda: 2)


def test_while_loop_and_fori_loop_gradients():
    # x doubled while below 10: 1.5 -> 3 -> 6 -> 12, dy/dx = 8
    y, g = grad_of(lambda x: ops.while_loop(lambda v: v < 10.0, lambda v: v * 2.0, x), 1.5)
    assert float(y) == 12.0 and float(g) == 8.0
    i, v = ops.while_loop(lambda i, v: i < 100, lambda i, v: (i + 1, v + i), (0, 0),
                          maximum_iterations=4)
    assert (i, v) == (4, 6)
    out = ops.while_loop(lambda i, v: i < 3, lambda i, v: [i + 1, v * 2], [0, 1])
    assert out == [3, 8]
    # Π_{i=1..3} (x + i) at x = 1: 2·3·4; the derivative Σ_i Π_{j≠i} = 12 + 8 + 6
    y, g = grad_of(lambda x: ops.fori_loop(1, 4, lambda i, v: v * (x + float(i)), 1.0), 1.0)
    assert float(y) == 24.0 and float(g) == 26.0


def test_scan_matches_a_loop_and_its_gradient():
    xs = np.array([1.0, 2.0, 3.0, 4.0])

    def cumulative(init):
        return ops.scan(lambda c, x: (c * 0.5 + x, c * x), init, xs)

    init = Tensor(np.float64(2.0))
    with GradientTape() as tape:
        tape.watch(init)
        carry, ys = cumulative(init)
        total = carry + ops.sum(ys)
    c, want = 2.0, []
    for x in xs:
        want.append(c * x)
        c = c * 0.5 + x
    np.testing.assert_allclose(ys.numpy(), want)
    assert float(carry) == c
    # the carry after step k is 2·0.5^k + ...: d carry_k / d init = 0.5^k
    g = tape.gradient(total, init)
    np.testing.assert_allclose(float(g), 0.5 ** 4 + sum(0.5 ** k * x for k, x in enumerate(xs)))
    carry, ys = ops.scan(lambda c, x: (c + x, c), 0.0, xs, reverse=True)
    np.testing.assert_allclose(ys.numpy(), [9.0, 7.0, 4.0, 0.0])
    carry, ys = ops.scan(lambda c, _: (c + 1, c), 0, length=3)
    assert carry == 3 and list(ys.numpy()) == [0, 1, 2]
    with pytest.raises(ValueError, match="length"):
        ops.scan(lambda c, x: (c, c), 0)


def test_map_vectorized_map_and_associative_scan():
    xs = np.arange(6.0).reshape(3, 2)
    np.testing.assert_allclose(ops.map(lambda r: ops.sum(r * r), xs).numpy(), [1, 13, 41])
    np.testing.assert_allclose(ops.vectorized_map(lambda r: r[::-1], xs).numpy(), xs[:, ::-1])
    pair = ops.map(lambda t: (t[0] + 1, t[1] * 2), (np.arange(3), np.arange(3.0)))
    np.testing.assert_array_equal(pair[0].numpy(), [1, 2, 3])
    np.testing.assert_array_equal(pair[1].numpy(), [0, 2, 4])
    a = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    np.testing.assert_allclose(ops.associative_scan(ops.add, a, axis=1).numpy(),
                               np.cumsum(a, axis=1))
    np.testing.assert_allclose(ops.associative_scan(ops.multiply, a, reverse=True).numpy(),
                               [[4, 10, 18], [4, 5, 6]])
    y, g = grad_of(lambda x: ops.sum(ops.associative_scan(ops.add, x)), [1.0, 2.0, 3.0])
    np.testing.assert_allclose(g.numpy(), [3.0, 2.0, 1.0])


def test_custom_gradient_uses_grad_fn():
    @ops.custom_gradient
    def log1pexp(x):
        e = ops.exp(x)

        def grad(upstream):
            return ops.multiply(upstream, 1.0 - 1.0 / ops.add(1.0, e))
        return ops.log(1.0 + e), grad

    x = np.array([0.0, 100.0, -3.0])
    y, g = grad_of(log1pexp, x)
    np.testing.assert_allclose(y.numpy()[[0, 2]], np.log1p(np.exp(x[[0, 2]])))
    np.testing.assert_allclose(g.numpy(), 1 / (1 + np.exp(-x)))   # finite at x = 100

    @ops.custom_gradient
    def clip_grad(a, b):
        # the value a·b, a made-up gradient (2 g, 3 g) so the test sees grad_fn is used
        return ops.multiply(a, b), lambda g: (2.0 * g, 3.0 * g)

    a, b = Tensor(np.array([1.0, 2.0])), Tensor(np.array([5.0, 7.0]))
    with GradientTape() as tape:
        tape.watch([a, b])
        out = ops.sum(clip_grad(a, b) * np.array([1.0, 10.0]))
    ga, gb = tape.gradient(out, [a, b])
    np.testing.assert_allclose(ga.numpy(), [2.0, 20.0])
    np.testing.assert_allclose(gb.numpy(), [3.0, 30.0])


def test_custom_gradient_keyword_upstream_and_second_derivative():
    @ops.custom_gradient
    def cube(x):
        def grad(*args, upstream=None):
            if upstream is None:
                (upstream,) = args
            return ops.multiply(upstream, ops.multiply(3.0, ops.square(x)))
        return ops.power(x, 3), grad

    x = Tensor(np.array([2.0, -1.0]))
    with GradientTape() as outer:
        outer.watch(x)
        with GradientTape() as inner:
            inner.watch(x)
            y = ops.sum(cube(x))
        g = inner.gradient(y, x)
        s = ops.sum(g)
    np.testing.assert_allclose(g.numpy(), [12.0, 3.0])
    np.testing.assert_allclose(outer.gradient(s, x).numpy(), [12.0, -6.0])   # 6x

    @ops.custom_gradient
    def bad(x):
        return x * 2.0, lambda g: (g, g)
    xt = Tensor(np.array([1.0]))
    with GradientTape() as tape:
        tape.watch(xt)
        y = bad(xt)
    with pytest.raises(ValueError, match="one gradient per argument"):
        tape.gradient(y, xt)
    with pytest.raises(ValueError, match=r"\(output, grad_fn\)"):
        ops.custom_gradient(lambda x: x)(1.0)


def test_saturate_cast_clips_instead_of_wrapping():
    out = ops.saturate_cast(np.array([300.0, -5.0, 3.7, 255.9]), "uint8")
    assert out.dtype == np.uint8
    np.testing.assert_array_equal(out.numpy(), [255, 0, 3, 255])
    out = ops.saturate_cast(np.array([70000, -70000, 5], dtype=np.int64), "int16")
    np.testing.assert_array_equal(out.numpy(), [32767, -32768, 5])
    out = ops.saturate_cast(np.array([1e300, -1e300, 1.5]), "float32")
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out.numpy(), [np.finfo(np.float32).max,
                                                np.finfo(np.float32).min, 1.5])
    big = ops.saturate_cast(np.array([3e9, -3e9], dtype=np.float32), "int32").numpy()
    np.testing.assert_array_equal(big, [2147483520, -2147483648])


def test_vectorize_elementwise_and_with_a_signature():
    add = ops.vectorize(lambda a, b: a + b)
    np.testing.assert_array_equal(add(np.array([1, 2]), 3).numpy(), [4, 5])
    total = ops.vectorize(lambda a: ops.sum(a), signature="(n)->()")
    np.testing.assert_allclose(total(np.arange(12.0).reshape(3, 4)).numpy(), [6, 22, 38])
    dot = ops.vectorize(lambda a, b: ops.sum(a * b), signature="(n),(n)->()")
    a, b = np.arange(6.0).reshape(2, 3), np.array([1.0, 0.0, 2.0])
    np.testing.assert_allclose(dot(a, b).numpy(), a @ b)
    scale = ops.vectorize(lambda a, k: a * k, excluded={1})
    np.testing.assert_allclose(scale(np.ones((2, 2)), 3.0).numpy(), np.full((2, 2), 3.0))
    # gradients flow through each call: d/dx Σ sin(x) x = cos(x) x + sin(x)
    y, g = grad_of(lambda x: ops.sum(ops.vectorize(lambda e: ops.sin(e) * e)(x)),
                   [[0.5, 1.0], [1.5, 2.0]])
    x = np.array([[0.5, 1.0], [1.5, 2.0]])
    np.testing.assert_allclose(g.numpy(), np.cos(x) * x + np.sin(x))
    with pytest.raises(ValueError, match="signature"):
        ops.vectorize(lambda a: a, signature="(n)")(np.ones(3))
    with pytest.raises(ValueError, match="inputs"):
        ops.vectorize(lambda a, b: a, signature="(n)->()")(np.ones(3), np.ones(3))
