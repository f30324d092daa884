"""tinyann.ops.linalg (``keras.ops.linalg``, also flat in ``keras.ops``): values against
NumPy (and SciPy where installed), tape gradients against central differences
(float64, a random output gradient, batched), second derivatives of the ops whose
gradients are written with ops, a clear error for the NumPy-only ones (a second
derivative) and for those without a gradient, and a few of TensorFlow's gradient
values (Keras on TensorFlow) where conventions could differ."""

from __future__ import annotations

import numpy as np
import pytest

from tests.autodiff.gradient_table import check_hessian_vector_product
from tinyann import ops
from tinyann.autodiff import GradientTape, Tensor


def normal(rng, shape):
    return rng.standard_normal(shape)


def well_conditioned(rng, shape):
    # square matrices (batched) far from singular
    n = shape[-1]
    return rng.standard_normal(shape) + n * np.eye(n)


def upper_and_lower(rng, shape):
    # a triangle with a strong diagonal, whatever the other triangle holds
    n = shape[-1]
    return rng.standard_normal(shape) * 0.5 + n * np.eye(n)


def tall(rng, shape):
    return rng.standard_normal(shape) + np.eye(*shape[-2:])


def spread_singular_values(rng, shape):
    # distinct singular values (2, 3.5, 5...) in random bases: svd's gradient is defined
    m, n = shape[-2:]
    k = min(m, n)
    u, _ = np.linalg.qr(rng.standard_normal((m, m)))
    v, _ = np.linalg.qr(rng.standard_normal((n, n)))
    s = np.zeros((m, n))
    s[range(k), range(k)] = 2.0 + 1.5 * np.arange(k)
    return u @ s @ v.T


def symmetric_spread(rng, shape):
    # a symmetric matrix with eigenvalues 1, 2.5, 4... apart from each other
    n = shape[-1]
    q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    return q @ np.diag(1.0 + 1.5 * np.arange(n)) @ q.T


def spd(a):
    """A symmetric positive-definite matrix made of any square ``a`` (with ops)."""
    n = a.shape[-1]
    return ops.matmul(a, ops.swapaxes(a, -1, -2)) + n * np.eye(n, dtype=a.dtype)


def sign_free(u):
    """A function of singular or eigen vectors that does not depend on their signs."""
    return u * u


# (name, function, [(shape, sampler), ...]); written with ops: differentiable twice
CASES = [
    ("inv", ops.inv, [((3, 3), well_conditioned)]),
    ("inv batched", ops.linalg.inv, [((2, 3, 3), well_conditioned)]),
    ("det", ops.det, [((3, 3), well_conditioned)]),
    ("det batched", ops.det, [((2, 3, 3), well_conditioned)]),
    ("logdet", ops.logdet, [((3, 3), well_conditioned)]),
    ("slogdet of a negative determinant",
     lambda a: ops.slogdet(a * np.array([[-1.0], [1.0], [1.0]], dtype=a.dtype))[1],
     [((3, 3), well_conditioned)]),
    ("solve", ops.solve, [((3, 3), well_conditioned), ((3, 2), normal)]),
    ("solve vector", ops.linalg.solve, [((3, 3), well_conditioned), ((3,), normal)]),
    ("solve batched broadcast", ops.solve, [((2, 3, 3), well_conditioned), ((3, 2), normal)]),
    ("solve_triangular lower", lambda a, b: ops.solve_triangular(a, b, lower=True),
     [((3, 3), upper_and_lower), ((3, 2), normal)]),
    ("solve_triangular upper vector", ops.solve_triangular,
     [((3, 3), upper_and_lower), ((3,), normal)]),
    ("solve_triangular batched", lambda a, b: ops.solve_triangular(a, b, lower=True),
     [((2, 3, 3), upper_and_lower), ((2, 3, 1), normal)]),
    ("cholesky of an spd product", lambda a: ops.cholesky(spd(a)), [((3, 3), normal)]),
    ("cholesky upper batched", lambda a: ops.cholesky(spd(a), upper=True),
     [((2, 3, 3), normal)]),
    ("cholesky_inverse", lambda a: ops.cholesky_inverse(ops.cholesky(spd(a))),
     [((3, 3), normal)]),
    ("cholesky_inverse upper", lambda a: ops.cholesky_inverse(
        ops.cholesky(spd(a), upper=True), upper=True), [((3, 3), normal)]),
    ("lstsq", ops.lstsq, [((5, 3), tall), ((5, 2), normal)]),
    ("lstsq vector", ops.linalg.lstsq, [((4, 3), tall), ((4,), normal)]),
    ("pinv tall", ops.pinv, [((4, 3), tall)]),
    ("pinv wide", ops.linalg.pinv, [((2, 4), lambda r, s: tall(r, s[::-1]).T)]),
    ("norm", ops.norm, [((3, 4), normal)]),
    ("norm axis keepdims", lambda a: ops.norm(a, axis=1, keepdims=True), [((3, 4), normal)]),
    ("norm ord 1", lambda a: ops.norm(a, ord=1, axis=0), [((3, 4), normal)]),
    ("norm ord 2", lambda a: ops.norm(a, ord=2, axis=-1), [((3, 4), normal)]),
    ("norm ord inf", lambda a: ops.norm(a, ord=np.inf, axis=0), [((3, 4), normal)]),
    ("norm ord -inf", lambda a: ops.norm(a, ord=-np.inf), [((5,), normal)]),
    ("norm ord 3", lambda a: ops.norm(a, ord=3, axis=1), [((3, 4), normal)]),
    ("norm ord 0.5", lambda a: ops.norm(a, ord=0.5), [((4,), normal)]),
    ("norm fro", lambda a: ops.norm(a, ord="fro", axis=(2, 0)), [((3, 2, 4), normal)]),
    ("norm matrix 1", lambda a: ops.norm(a, ord=1, axis=(0, 1)), [((3, 4), normal)]),
    ("norm matrix -1 keepdims", lambda a: ops.norm(a, ord=-1, axis=(1, 2), keepdims=True),
     [((2, 3, 4), normal)]),
    ("norm matrix inf", lambda a: ops.norm(a, ord=np.inf), [((3, 4), normal)]),
    ("norm matrix -inf", lambda a: ops.norm(a, ord=-np.inf, axis=(1, 0)), [((3, 4), normal)]),
]
IDS = [c[0] for c in CASES]

# NumPy-only gradient closures: first derivatives only
FIRST_ORDER = [
    ("svd s", lambda a: ops.svd(a, compute_uv=False), [((4, 3), spread_singular_values)]),
    ("svd reduced", lambda a: [sign_free(t) for t in ops.svd(a, full_matrices=False)],
     [((4, 3), spread_singular_values)]),
    ("svd wide reduced", lambda a: [sign_free(t) for t in ops.svd(a, full_matrices=False)],
     [((2, 4), spread_singular_values)]),
    ("svd square full batched", lambda a: [sign_free(t) for t in ops.svd(a)],
     [((2, 3, 3), spread_singular_values)]),
    ("svd reconstruction", lambda a: (lambda u, s, vh: ops.matmul(u * s[..., None, :], vh))(
        *ops.svd(a, full_matrices=False)), [((4, 3), spread_singular_values)]),
    ("qr", lambda a: list(ops.qr(a)), [((4, 3), tall)]),
    ("qr square batched", lambda a: list(ops.qr(a, mode="complete")),
     [((2, 3, 3), well_conditioned)]),
    ("eigh", lambda a: (lambda w, v: [w, sign_free(v)])(*ops.eigh(a)),
     [((3, 3), symmetric_spread)]),
    ("norm nuc", lambda a: ops.norm(a, ord="nuc", axis=(0, 1)),
     [((4, 3), spread_singular_values)]),
    ("norm matrix 2", lambda a: ops.norm(a, ord=2, axis=(0, 1)),
     [((3, 4), spread_singular_values)]),
    ("norm matrix -2 keepdims", lambda a: ops.norm(a, ord=-2, axis=(1, 0), keepdims=True),
     [((4, 3), spread_singular_values)]),
]
FIRST_IDS = [c[0] for c in FIRST_ORDER]


def sample(name, specs):
    rng = np.random.default_rng(abs(hash(name)) % 2**32)
    return rng, [sampler(rng, shape).astype(np.float64) for shape, sampler in specs]


def as_list(out):
    return list(out) if isinstance(out, (list, tuple)) else [out]


@pytest.mark.parametrize("name, fn, specs", CASES + FIRST_ORDER, ids=IDS + FIRST_IDS)
def test_tape_gradient_matches_central_differences(gradcheck, name, fn, specs):
    rng, arrays = sample(name, specs)
    inputs = [Tensor(a) for a in arrays]
    with GradientTape() as tape:
        tape.watch(inputs)
        outs = as_list(fn(*inputs))
    upstream = [rng.standard_normal(o.shape) for o in outs]
    grads = tape.gradient(outs, inputs, output_gradients=[Tensor(u) for u in upstream])
    for i, (array, grad) in enumerate(zip(arrays, grads)):
        def scalar():
            values = as_list(fn(*[Tensor(a) for a in arrays]))
            return sum(float(np.sum(np.asarray(v) * u)) for v, u in zip(values, upstream))

        numeric = gradcheck.numerical_grad(scalar, array)
        assert grad is not None, f"no gradient for input {i}"
        assert grad.shape == array.shape and grad.dtype == np.float64
        gradcheck.assert_close(grad.numpy(), numeric, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("name, fn, specs", CASES, ids=IDS)
def test_hessian_vector_product_matches_finite_differences(name, fn, specs):
    check_hessian_vector_product(name, fn, specs)


@pytest.mark.parametrize("name, fn, specs", [c for c in FIRST_ORDER if "reduced" not in c[0]],
                         ids=[i for i in FIRST_IDS if "reduced" not in i])
def test_numpy_only_gradients_refuse_a_second_derivative(name, fn, specs):
    _, arrays = sample(name, specs)
    inputs = [Tensor(a) for a in arrays]
    with GradientTape() as outer:
        outer.watch(inputs)
        with GradientTape() as inner:
            inner.watch(inputs)
            outs = as_list(fn(*inputs))
        grads = inner.gradient(outs, inputs)
    with pytest.raises(NotImplementedError, match="not differentiable again"):
        outer.gradient(grads, inputs)


@pytest.mark.parametrize("name, fn, specs", CASES + FIRST_ORDER, ids=IDS + FIRST_IDS)
def test_float32_inputs_give_float32_results_and_gradients(name, fn, specs):
    _, arrays = sample(name, specs)
    inputs = [Tensor(a.astype(np.float32)) for a in arrays]
    with GradientTape() as tape:
        tape.watch(inputs)
        outs = as_list(fn(*inputs))
    for out in outs:
        assert out.dtype == np.float32
    for x, g in zip(inputs, tape.gradient(outs, inputs)):
        assert g.dtype == np.float32 and g.shape == x.shape


# ---------------------------------------------------------------------- values
def test_values_are_numpy_s():
    rng = np.random.default_rng(0)
    a = well_conditioned(rng, (2, 3, 3))
    b = rng.standard_normal((2, 3, 2))
    m = tall(rng, (5, 3))
    s = spd(Tensor(a)).numpy()
    np.testing.assert_allclose(ops.inv(a).numpy(), np.linalg.inv(a))
    np.testing.assert_allclose(ops.det(a).numpy(), np.linalg.det(a))
    np.testing.assert_allclose(ops.solve(a, b).numpy(), np.linalg.solve(a, b))
    np.testing.assert_allclose(ops.solve(a[0], b[0, :, 0]).numpy(),
                               np.linalg.solve(a[0], b[0, :, 0]))
    np.testing.assert_allclose(ops.cholesky(s).numpy(), np.linalg.cholesky(s))
    np.testing.assert_allclose(ops.cholesky(s, upper=True).numpy(),
                               np.swapaxes(np.linalg.cholesky(s), -1, -2))
    np.testing.assert_allclose(ops.cholesky_inverse(np.linalg.cholesky(s)).numpy(),
                               np.linalg.inv(s))
    sign, logabs = ops.slogdet(a * np.array([-1.0, 1.0])[:, None, None])
    want_sign, want_logabs = np.linalg.slogdet(a * np.array([-1.0, 1.0])[:, None, None])
    np.testing.assert_array_equal(sign.numpy(), want_sign)
    np.testing.assert_allclose(logabs.numpy(), want_logabs)
    np.testing.assert_allclose(ops.logdet(a).numpy(), want_logabs)
    rhs = rng.standard_normal(5)
    np.testing.assert_allclose(ops.lstsq(m, rhs).numpy(), np.linalg.lstsq(m, rhs)[0])
    assert ops.lstsq(m.tolist(), rhs.tolist()).dtype == np.float32   # lists: floatx
    np.testing.assert_allclose(ops.pinv(m).numpy(), np.linalg.pinv(m))
    rank = ops.matrix_rank(np.outer([1.0, 2.0, 3.0], [1.0, 1.0]))
    assert rank.dtype == np.int32 and int(rank) == 1
    with pytest.raises(ValueError, match="rank >= 2"):
        ops.matrix_rank(np.ones(3))
    for got, want in zip(ops.svd(m), np.linalg.svd(m)):
        np.testing.assert_allclose(got.numpy(), want)
    for got, want in zip(ops.qr(m, mode="complete"), np.linalg.qr(m, mode="complete")):
        np.testing.assert_allclose(got.numpy(), want)
    with pytest.raises(ValueError, match="mode"):
        ops.qr(m, mode="r")
    for got, want in zip(ops.eigh(s), np.linalg.eigh(s)):
        np.testing.assert_allclose(got.numpy(), want)
    for got, want in zip(ops.eig(a), np.linalg.eig(a)):
        np.testing.assert_allclose(got.numpy(), want)


def test_solve_triangular_reads_only_its_triangle():
    rng = np.random.default_rng(1)
    a = upper_and_lower(rng, (3, 3))
    b = rng.standard_normal((3, 2))
    np.testing.assert_allclose(ops.solve_triangular(a, b, lower=True).numpy(),
                               np.linalg.solve(np.tril(a), b))
    np.testing.assert_allclose(ops.solve_triangular(a, b[:, 0]).numpy(),
                               np.linalg.solve(np.triu(a), b[:, 0]))
    linalg = pytest.importorskip("scipy.linalg")
    np.testing.assert_allclose(ops.solve_triangular(a, b, lower=True).numpy(),
                               linalg.solve_triangular(a, b, lower=True))


@pytest.mark.parametrize("shape", [(4, 4), (5, 3), (3, 5), (2, 4, 4)])
def test_lu_factor_is_lapack_s(shape):
    rng = np.random.default_rng(2)
    a = rng.standard_normal(shape)
    lu, piv = ops.lu_factor(a)
    assert piv.dtype == np.int32 and piv.shape == shape[:-2] + (min(shape[-2:]),)
    # P A = L U: rebuild each matrix from the factors and the row swaps
    for index in np.ndindex(shape[:-2]):
        m, n = shape[-2:]
        k = min(m, n)
        lu_i, piv_i = lu.numpy()[index], piv.numpy()[index]
        lower = np.tril(lu_i, -1)[:, :k] + np.eye(m, k)
        upper = np.triu(lu_i)[:k]
        permuted = a[index].copy()
        for row, other in enumerate(piv_i):
            permuted[[row, other]] = permuted[[other, row]]
        np.testing.assert_allclose(lower @ upper, permuted, atol=1e-12)
    linalg = pytest.importorskip("scipy.linalg")
    if len(shape) == 2:
        want_lu, want_piv = linalg.lu_factor(a)
        np.testing.assert_allclose(lu.numpy(), want_lu, atol=1e-12)
        np.testing.assert_array_equal(piv.numpy(), want_piv)


NORMS = [(None, None), (None, 0), (1, 1), (2, 0), (np.inf, 1), (-np.inf, 0), (0, 1),
         (3, 0), (0.5, 1), ("fro", (0, 1)), ("nuc", (1, 0)), (1, (0, 1)), (-1, (1, 0)),
         (2, (0, 1)), (-2, (0, 1)), (np.inf, (0, 1)), (-np.inf, (1, 0)), (None, (0, 1)),
         (1, None), (2, None), ("fro", None), ("nuc", None), (np.inf, None)]


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("ord, axis", NORMS, ids=[f"{o}-{a}" for o, a in NORMS])
def test_norm_values_are_numpy_s(ord, axis, keepdims):
    x = np.random.default_rng(3).standard_normal((4, 3)).astype(np.float32)
    x[0, 0] = 0.0
    got = ops.norm(x, ord=ord, axis=axis, keepdims=keepdims)
    want = np.linalg.norm(x, ord=ord, axis=axis, keepdims=keepdims)
    assert got.shape == want.shape and got.dtype == np.float32
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-5)


def test_norm_of_higher_rank_tensors_integers_and_bad_orders():
    x = np.random.default_rng(4).standard_normal((2, 3, 4))
    for ord, axis in [(None, None), ("fro", (2, 0)), ("nuc", (0, 2)), (1, (2, 1)),
                      (2, -1), (None, (0, 2))]:
        for keepdims in (False, True):
            np.testing.assert_allclose(
                ops.norm(x, ord=ord, axis=axis, keepdims=keepdims).numpy(),
                np.linalg.norm(x, ord=ord, axis=axis, keepdims=keepdims))
    assert ops.norm(np.array([3, 4])).dtype == np.float32 and float(ops.norm([3, 4])) == 5
    with pytest.raises(ValueError, match="Invalid norm order 'fro' for vectors"):
        ops.norm(x, ord="fro", axis=0)
    with pytest.raises(ValueError, match="Invalid norm order for matrices"):
        ops.norm(x, ord=3, axis=(0, 1))
    with pytest.raises(ValueError, match="Improper number of dimensions"):
        ops.norm(x, ord=2)
    with pytest.raises(ValueError, match="Duplicate axes"):
        ops.norm(x, axis=(1, -2))


# ---------------------------------------------------------------------- gradient conventions
def gradient(fn, *arrays):
    inputs = [Tensor(np.asarray(a, dtype=np.float64)) for a in arrays]
    with GradientTape() as tape:
        tape.watch(inputs)
        out = fn(*inputs)
    return [g.numpy() for g in tape.gradient(out, inputs)]


def test_gradients_match_tensorflow_s_values():
    # Keras 3 on TensorFlow, ops.sum of each result, float64
    a = [[1.0, 2.0], [3.0, 4.0]]
    np.testing.assert_allclose(gradient(ops.det, a)[0], [[4.0, -3.0], [-2.0, 1.0]])
    np.testing.assert_allclose(gradient(lambda x: ops.slogdet(x)[1], a)[0],
                               [[-2.0, 1.5], [1.0, -0.5]])
    np.testing.assert_allclose(gradient(ops.logdet, [[2.0, 1.0], [1.0, 3.0]])[0],
                               [[0.6, -0.2], [-0.2, 0.4]])
    # cholesky reads the lower triangle; TensorFlow's gradient is symmetric
    np.testing.assert_allclose(gradient(ops.cholesky, [[4.0, 2.0], [1.0, 3.0]])[0],
                               [[0.20634446, 0.17462216], [0.17462216, 0.30151134]])
    # eigh reads the lower triangle, and so does its gradient
    np.testing.assert_allclose(
        gradient(lambda x: ops.eigh(x)[0] * np.array([1.0, 2.0]), [[2.0, 1.0], [0.5, 3.0]])[0],
        [[1.14644661, 0.0], [0.70710678, 1.85355339]])
    ga, gb = gradient(lambda x, y: ops.solve_triangular(x, y, lower=True),
                      [[4.0, 2.0], [1.0, 3.0]], [[1.0], [2.0]])
    np.testing.assert_allclose(ga, [[-0.04166667, 0.0], [-0.08333333, -0.19444444]])
    np.testing.assert_allclose(gb, [[0.16666667], [0.33333333]])
    ga, gb = gradient(ops.lstsq, [[1.0, 2.0], [3.0, 4.0], [5.0, 7.0]], [1.0, 2.0, 3.0])
    np.testing.assert_allclose(ga, [[0.06122449, 0.21428571], [0.32653061, -0.35714286],
                                    [-0.19387755, 0.07142857]], atol=1e-8)
    np.testing.assert_allclose(gb, [-0.57142857, 0.28571429, 0.14285714])
    np.testing.assert_allclose(gradient(lambda x: ops.norm(x, ord="nuc", axis=(0, 1)), a)[0],
                               [[-0.51449576, 0.85749293], [0.85749293, 0.51449576]])
    np.testing.assert_allclose(gradient(lambda x: ops.norm(x, ord=2, axis=(0, 1)), a)[0],
                               [[0.23304246, 0.3306884], [0.52680453, 0.74753822]])
    np.testing.assert_allclose(gradient(lambda x: ops.norm(x, ord=np.inf), [3.0, -3.0])[0],
                               [0.5, -0.5])
    np.testing.assert_allclose(gradient(lambda x: ops.norm(x, ord=1), [0.0, -2.0])[0],
                               [0.0, -1.0])


def test_norm_gradient_at_zero_is_zero():
    # the Euclidean norm's subgradient at 0 (TensorFlow gives NaN there)
    np.testing.assert_array_equal(gradient(ops.norm, [0.0, 0.0])[0], [0.0, 0.0])
    np.testing.assert_array_equal(
        gradient(lambda x: ops.norm(x, axis=1), [[0.0, 0.0], [3.0, 4.0]])[0],
        [[0.0, 0.0], [0.6, 0.8]])
    x = Tensor(np.array([1.0, 2.0]))
    with GradientTape() as tape:
        tape.watch(x)
        count = ops.norm(x, ord=0)
    assert float(count) == 2.0 and tape.gradient(count, x) is None


@pytest.mark.parametrize("name, fn", [
    ("eig", lambda a: ops.eig(a)[0]),
    ("lu_factor", lambda a: ops.lu_factor(a)[0]),
    ("qr", lambda a: ops.qr(a)[0]),
    ("svd", lambda a: ops.svd(a)[0]),
])
def test_unsupported_gradients_raise_a_clear_error(name, fn):
    # eig and lu_factor: none; qr of a wide matrix, svd's u of a full non-square one
    a = Tensor(np.random.default_rng(5).standard_normal((3, 4) if name in ("qr", "svd")
                                                           else (3, 3)))
    with GradientTape() as tape:
        tape.watch(a)
        out = fn(a)
    with pytest.raises(NotImplementedError, match=f"ops.{name}"):
        tape.gradient(out, a)


def test_svd_singular_values_of_a_full_non_square_svd_have_a_gradient():
    a = spread_singular_values(np.random.default_rng(6), (4, 3))
    u, _, vh = np.linalg.svd(a, full_matrices=False)
    (g,) = gradient(lambda x: ops.svd(x)[1], a)
    np.testing.assert_allclose(g, u @ vh)   # d Σs / dA = U Vᵀ


def test_namespace_is_keras_s():
    from tinyann.ops import linalg

    names = ["cholesky", "cholesky_inverse", "det", "eig", "eigh", "inv", "lstsq",
             "lu_factor", "matrix_rank", "norm", "pinv", "qr", "solve", "solve_triangular",
             "svd"]
    assert sorted(linalg.__all__) == names
    for name in names:
        assert getattr(ops, name) is getattr(ops.linalg, name), name
        assert name in ops.__all__
    for name in ("slogdet", "logdet"):
        assert callable(getattr(ops, name))
