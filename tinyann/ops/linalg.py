"""``keras.ops.linalg``: matrix ops (``inv``, ``det``, ``solve``, ``cholesky``, ``svd``,
``qr``, ``norm``, ...), batched over leading axes as NumPy's; each is also exported flat
(``keras.ops.inv``), as Keras does. ``slogdet`` and ``logdet``, flat in ``keras.ops`` only,
are here too (outside ``__all__``).

Gradients:

- written with ops, so differentiable again (the closures record on an outer tape):
  ``inv``, ``det``, ``slogdet``, ``logdet``, ``solve``, ``solve_triangular``,
  ``cholesky``, ``cholesky_inverse``, ``lstsq``, ``pinv``, and ``norm`` (composed of ops,
  except its singular-value orders);
- NumPy-only closures, first derivatives only (a second derivative through them raises
  NotImplementedError): ``svd``, ``qr``, ``eigh`` and so ``norm``'s ``'nuc'``, ``2`` and
  ``-2`` matrix orders;
- none (differentiating through them raises NotImplementedError): ``eig`` (complex
  eigenvectors), ``lu_factor``; ``matrix_rank`` is an integer.

The math of each gradient is in the comment beside it.
"""

from __future__ import annotations

import numpy as np

from tinyann import backend
from tinyann.autodiff import Tensor, record
from tinyann.ops import numpy as _knp
from tinyann.ops.core import value_of as _v
from tinyann.ops.math import divide_no_nan
from tinyann.ops.numpy import _rec, _tracked, _unb

__all__ = ["cholesky", "cholesky_inverse", "det", "eig", "eigh", "inv", "lstsq",
           "lu_factor", "matrix_rank", "norm", "pinv", "qr", "solve", "solve_triangular",
           "svd"]


# ---------------------------------------------------------------------- helpers
def _matrix_float(x) -> np.ndarray:
    """``x``'s value as a float array (integers, bools and Python lists of numbers as
    ``floatx()``, as Keras's ``convert_to_tensor`` makes them)."""
    a = np.asarray(_v(x))
    if a.dtype.kind in "biu" or (isinstance(x, (list, tuple)) and a.dtype == np.float64):
        a = a.astype(backend.floatx())
    return a


def _t(x):
    """The matrix transpose (the last two axes) as an op."""
    return _knp.swapaxes(x, -1, -2)


def _nt(a):
    """The matrix transpose of an ndarray."""
    return np.swapaxes(a, -1, -2)


def _no_gradient(name, why):
    def vjp(g):
        raise NotImplementedError(
            f"The gradient of ops.{name} is not implemented: {why}. Expected a "
            f"computation whose gradient is not taken through ops.{name}.")
    return vjp


def _eye_like(a, n=None):
    return np.eye(a.shape[-1] if n is None else n, dtype=a.dtype)


def _tri_mask(n, lower, dtype):
    return (np.tril if lower else np.triu)(np.ones((n, n), dtype=dtype))


# ---------------------------------------------------------------------- inverse, determinant
def inv(x):
    # Y = A⁻¹: dY = -Y dA Y, so dL/dA = -Yᵀ G Yᵀ
    y = _rec(np.linalg.inv(_matrix_float(x)), (x,),
             lambda g: (_knp.negative(_knp.matmul(_knp.matmul(_t(y), g), _t(y))),))
    return y


def slogdet(x):
    """``(sign, log|det x|)`` of square matrices (batched over leading axes); flat in
    ``keras.ops``, not in ``keras.ops.linalg``."""
    # the sign is a step (no gradient); d log|det A| = tr(A⁻¹ dA): dL/dA = g · A⁻ᵀ
    sign, logabs = np.linalg.slogdet(_matrix_float(x))

    def vjp(g):
        return (_knp.multiply(_knp.expand_dims(g, (-1, -2)), _t(inv(x))),)
    return Tensor(np.asarray(sign)), _rec(np.asarray(logabs), (x,), vjp)


def logdet(x):
    """log|det x| of square matrices (Keras's numpy backend takes it from slogdet; its
    gradient is A⁻ᵀ); flat in ``keras.ops``, not in ``keras.ops.linalg``."""
    return slogdet(x)[1]


def det(x):
    # d det A = det A · tr(A⁻¹ dA): dL/dA = g · det A · A⁻ᵀ
    a = _matrix_float(x)

    def vjp(g):
        scale = _knp.expand_dims(_knp.multiply(g, y), (-1, -2))
        return (_knp.multiply(scale, _t(inv(x))),)
    y = _rec(np.asarray(np.linalg.det(a)), (x,), vjp)
    return y


# ---------------------------------------------------------------------- linear systems
def solve(a, b):
    """X with A X = B (B a vector when 1-D, else matrices; batched and broadcast)."""
    # X = A⁻¹ B: dL/dB = A⁻ᵀ G (a solve with Aᵀ), dL/dA = -(dL/dB) Xᵀ
    av, bv = _matrix_float(a), _matrix_float(b)
    vector = bv.ndim == 1

    def vjp(g):
        g2 = _knp.expand_dims(g, -1) if vector else g
        gb = solve(_t(a), g2)
        ga = gb2 = None
        if _tracked(a):
            x2 = _knp.expand_dims(y, -1) if vector else y
            ga = _unb(_knp.negative(_knp.matmul(gb, _t(x2))), a)
        if _tracked(b):
            gb2 = _unb(_knp.squeeze(gb, -1) if vector else gb, b)
        return ga, gb2
    # (a vector solved as a one-column matrix: the same rule whatever NumPy's version)
    out = np.linalg.solve(av, bv[..., None])[..., 0] if vector else np.linalg.solve(av, bv)
    y = _rec(out, (a, b), vjp)
    return y


def solve_triangular(a, b, lower=False):
    """X with T X = B, T the lower (``lower=True``) or upper triangle of ``a`` (the
    other triangle is not read); B is a vector when it has one axis less than ``a``."""
    av, bv = np.asarray(_v(a)), np.asarray(_v(b))
    return _solve_triangular(a, b, lower, vector=bv.ndim == av.ndim - 1)


def _solve_triangular(a, b, lower, vector):
    # X = T⁻¹ B: dL/dB = T⁻ᵀ G (a solve with the transposed triangle), dL/dA = the
    # triangle of -(dL/dB) Xᵀ (the other triangle does not affect X)
    av, bv = _matrix_float(a), _matrix_float(b)
    n = av.shape[-1]
    mask = _tri_mask(n, lower, av.dtype)
    bm = bv[..., None] if vector else bv
    out = np.linalg.solve(av * mask, bm)

    def vjp(g):
        g2 = _knp.expand_dims(g, -1) if vector else g
        gb = _solve_triangular(_t(a), g2, not lower, vector=False)
        ga = gb2 = None
        if _tracked(a):
            x2 = _knp.expand_dims(y, -1) if vector else y
            ga = _unb(_knp.multiply(_knp.negative(_knp.matmul(gb, _t(x2))), mask), a)
        if _tracked(b):
            gb2 = _unb(_knp.squeeze(gb, -1) if vector else gb, b)
        return ga, gb2
    y = _rec(out[..., 0] if vector else out, (a, b), vjp)
    return y


def lstsq(a, b, rcond=None):
    """The least-squares solution X of A X = B (``np.linalg.lstsq``'s first result),
    A one matrix; B a vector or a matrix."""
    # X = A⁺ B: dL/dB = A⁺ᵀ G, and dL/dA is pinv's gradient (below) for dL/dA⁺ = G Bᵀ
    # (A's rank constant near A, as for pinv)
    av, bv = _matrix_float(a), _matrix_float(b)
    vector = bv.ndim == 1

    def vjp(g):
        p = pinv(a)
        g2 = _knp.expand_dims(g, -1) if vector else g
        ga = gb = None
        if _tracked(a):
            b2 = _knp.expand_dims(b, -1) if vector else b
            ga = _pinv_vjp(a, p, _knp.matmul(g2, _t(b2)))
        if _tracked(b):
            gb = _knp.matmul(_t(p), g2)
            gb = _knp.squeeze(gb, -1) if vector else gb
        return ga, gb
    y = _rec(np.linalg.lstsq(av, bv, rcond=rcond)[0], (a, b), vjp)
    return y


def _pinv_vjp(a, p, g):
    """dL/dA of P = A⁺ for dL/dP = G, with the rank of A constant (Golub and Pereyra):
    -Pᵀ G Pᵀ + (I - A P) Gᵀ P Pᵀ + Pᵀ P Gᵀ (I - P A)."""
    av = np.asarray(_v(a))
    m, n = av.shape[-2], av.shape[-1]
    eye_m = np.eye(m, dtype=av.dtype)
    eye_n = np.eye(n, dtype=av.dtype)
    pt, gt = _t(p), _t(g)
    first = _knp.negative(_knp.matmul(_knp.matmul(pt, g), pt))
    second = _knp.matmul(_knp.matmul(_knp.subtract(eye_m, _knp.matmul(a, p)), gt),
                         _knp.matmul(p, pt))
    third = _knp.matmul(_knp.matmul(_knp.matmul(pt, p), gt),
                        _knp.subtract(eye_n, _knp.matmul(p, a)))
    return _knp.add(_knp.add(first, second), third)


def pinv(x, rcond=None):
    """The Moore-Penrose pseudo-inverse (its gradient: Golub and Pereyra's, for a rank
    that is constant near ``x``)."""
    a = _matrix_float(x)
    value = np.linalg.pinv(a) if rcond is None else np.linalg.pinv(a, rcond=rcond)
    y = _rec(value, (x,), lambda g: (_pinv_vjp(x, y, g),))
    return y


def matrix_rank(x, tol=None):
    """The number of singular values above ``tol``, an int32 tensor (no gradient)."""
    a = _matrix_float(x)
    if a.ndim < 2:
        raise ValueError(f"Expected input to have rank >= 2. Received input with shape "
                         f"{a.shape}.")
    return Tensor(np.asarray(np.linalg.matrix_rank(a, tol=tol)).astype(np.int32))


# ---------------------------------------------------------------------- factorizations
def _cholesky_lower(x):
    # L Lᵀ = A (Murray 2016, as TensorFlow): with Φ(M) the lower triangle of M with its
    # diagonal halved, S = L⁻ᵀ Φ(Lᵀ G) L⁻¹ and dL/dA = (S + Sᵀ) / 2 (symmetric: A is)
    a = _matrix_float(x)
    n = a.shape[-1]
    phi = np.tril(np.ones((n, n), dtype=a.dtype)) - 0.5 * np.eye(n, dtype=a.dtype)

    def vjp(g):
        l_inv = _solve_triangular(y, np.eye(n, dtype=a.dtype), True, vector=False)
        middle = _knp.multiply(_knp.matmul(_t(y), g), phi)
        s = _knp.matmul(_knp.matmul(_t(l_inv), middle), l_inv)
        return (_knp.multiply(_knp.add(s, _t(s)), 0.5),)
    y = _rec(np.linalg.cholesky(a), (x,), vjp)
    return y


def cholesky(x, upper=False):
    """The Cholesky factor of symmetric positive-definite matrices: lower L with
    L Lᵀ = x, or (``upper=True``) U = Lᵀ."""
    lower = _cholesky_lower(x)
    return _t(lower) if upper else lower


def cholesky_inverse(x, upper=False):
    """A⁻¹ from A's Cholesky factor ``x`` (lower L with A = L Lᵀ, or upper U with
    A = Uᵀ U), composed of triangular solves (so its gradient is theirs)."""
    a = _matrix_float(x)
    inv_chol = _solve_triangular(x, np.eye(a.shape[-1], dtype=a.dtype), not upper,
                                 vector=False)
    if upper:
        return _knp.matmul(inv_chol, _t(inv_chol))
    return _knp.matmul(_t(inv_chol), inv_chol)


def lu_factor(x):
    """LAPACK's partial-pivoting LU factorization, as ``scipy.linalg.lu_factor``:
    ``(lu, piv)``, L's unit-diagonal lower part and U in one matrix, and the row each
    row i was swapped with (int32). Batched over leading axes. No gradient."""
    a = _matrix_float(x)
    lu = np.array(a, copy=True)
    *batch, m, n = lu.shape
    k = min(m, n)
    piv = np.zeros((*batch, k), dtype=np.int32)
    flat = lu.reshape(-1, m, n)
    flat_piv = piv.reshape(-1, k)
    rows = np.arange(flat.shape[0])
    for j in range(k):
        p = j + np.argmax(np.abs(flat[:, j:, j]), axis=1)
        flat_piv[:, j] = p
        row_j = flat[rows, j].copy()
        flat[rows, j] = flat[rows, p]
        flat[rows, p] = row_j
        pivot = flat[:, j, j]
        nonzero = pivot != 0
        # (a zero pivot leaves its column as it is and goes on, as LAPACK)
        flat[:, j + 1:, j] /= np.where(nonzero, pivot, 1)[:, None]
        flat[:, j + 1:, j + 1:] -= flat[:, j + 1:, j:j + 1] * flat[:, j:j + 1, j + 1:]
    why = "LU gradients are not supported"
    return (record(lu, (x,), _no_gradient("lu_factor", why), label="ops.lu_factor"),
            Tensor(piv))


def qr(x, mode="reduced"):
    """``(q, r)`` with q's columns orthonormal and r upper triangular; ``mode``
    ``'reduced'`` or ``'complete'``."""
    if mode not in {"reduced", "complete"}:
        raise ValueError(f"`mode` argument value not supported. Expected one of "
                         f"{{'reduced', 'complete'}}. Received: mode={mode}")
    a = _matrix_float(x)
    q, r = np.linalg.qr(a, mode=mode)
    m, n = a.shape[-2:]

    # NumPy-only closures, first derivatives only: TensorFlow's QR gradient (for m >= n
    # and R invertible), its math in _qr_grad
    def grad(gq, gr):
        if m < n or (mode == "complete" and m != n):
            raise NotImplementedError(
                "The gradient of ops.qr is implemented for matrices with at least as "
                "many rows as columns (mode='reduced', or square matrices). Received "
                f"shape {a.shape} with mode={mode!r}.")
        return (_qr_grad(q, r, gq, gr),)
    zeros_q, zeros_r = np.zeros_like(q), np.zeros_like(r)
    return (record(q, (x,), lambda g: grad(g, zeros_r), label="ops.qr"),
            record(r, (x,), lambda g: grad(zeros_q, g), label="ops.qr"))


def _qr_grad(q, r, gq, gr):
    """dL/dA of A = QR (real, m >= n): with M = Qᵀ Q̄ - Q̄ᵀ Q + R R̄ᵀ - R̄ Rᵀ,
    dL/dA = Q (R̄ + tril(M) R⁻ᵀ) + (Q̄ - Q Qᵀ Q̄) R⁻ᵀ."""
    qdq = _nt(q) @ gq
    rdr = r @ _nt(gr)
    low = np.tril(qdq - _nt(qdq) + rdr - _nt(rdr))

    def times_r_inv_t(v):
        # v R⁻ᵀ = (R⁻¹ vᵀ)ᵀ, R upper triangular
        return _nt(np.linalg.solve(np.triu(r), _nt(v)))
    return q @ (gr + times_r_inv_t(low)) + times_r_inv_t(gq - q @ qdq)


def svd(x, full_matrices=True, compute_uv=True):
    """``(u, s, vh)`` with x = u diag(s) vh (NumPy's ``svd``), or ``s`` alone."""
    a = _matrix_float(x)
    m, n = a.shape[-2:]
    k = min(m, n)
    # NumPy-only closures, first derivatives only
    if not compute_uv:
        s = np.linalg.svd(a, compute_uv=False)

        def vjp_s(g):
            # ds_i = u_iᵀ dA v_i: dL/dA = U diag(s̄) Vᵀ
            u, _, vh = np.linalg.svd(a, full_matrices=False)
            return ((u * g[..., None, :]) @ vh,)
        return record(s, (x,), vjp_s, label="ops.svd")
    u, s, vh = np.linalg.svd(a, full_matrices=full_matrices)
    ur, vr = u[..., :, :k], _nt(vh[..., :k, :])

    def grad(gu, gs, gv):
        if gu is not None or gv is not None:
            if full_matrices and m != n:
                raise NotImplementedError(
                    "The gradient of ops.svd's u and vh is implemented for "
                    "full_matrices=False or square matrices (the extra columns of a full "
                    f"u or v are not unique). Received shape {a.shape} with "
                    "full_matrices=True.")
        return (_svd_grad(ur, s, vr, gu, gs, gv),)
    return (record(u, (x,), lambda g: grad(g, None, None), label="ops.svd"),
            record(s, (x,), lambda g: grad(None, g, None), label="ops.svd"),
            record(vh, (x,), lambda g: grad(None, None, _nt(g)), label="ops.svd"))


def _svd_grad(u, s, v, gu, gs, gv):
    """dL/dA of A = U S Vᵀ (real, reduced; Townsend 2016), with F_ij = 1/(s_j² - s_i²)
    off the diagonal:
    U [(F ∘ (UᵀŪ - ŪᵀU)) S + diag(s̄) + S (F ∘ (VᵀV̄ - V̄ᵀV))] Vᵀ
      + (I - UUᵀ) Ū S⁻¹ Vᵀ + U S⁻¹ V̄ᵀ (I - VVᵀ)."""
    k = s.shape[-1]
    s2 = s * s
    diff = s2[..., None, :] - s2[..., :, None]
    off = ~np.eye(k, dtype=bool)
    with np.errstate(divide="ignore"):
        f = np.where(off, 1.0 / np.where(off, diff, 1.0), 0.0).astype(s.dtype)
    inner = np.zeros(s.shape[:-1] + (k, k), dtype=s.dtype)
    if gs is not None:
        inner = inner + gs[..., None, :] * np.eye(k, dtype=s.dtype)
    out = 0
    if gu is not None:
        j = f * (_nt(u) @ gu - _nt(gu) @ u)
        inner = inner + j * s[..., None, :]
        if u.shape[-2] > k:
            # the part of Ū outside U's columns (none when U is square)
            proj = gu - u @ (_nt(u) @ gu)
            out = out + (proj / s[..., None, :]) @ _nt(v)
    if gv is not None:
        kk = f * (_nt(v) @ gv - _nt(gv) @ v)
        inner = inner + s[..., :, None] * kk
        if v.shape[-2] > k:
            proj = gv - v @ (_nt(v) @ gv)
            out = out + u @ _nt(proj / s[..., None, :])
    return u @ inner @ _nt(v) + out


def eigh(x):
    """``(w, v)``: the eigenvalues (ascending) and eigenvectors of symmetric matrices,
    read from the lower triangle (NumPy's ``eigh``)."""
    a = _matrix_float(x)
    w, v = np.linalg.eigh(a)

    # NumPy-only closures, first derivatives only (TensorFlow's): with
    # F_ij = 1/(w_j - w_i) off the diagonal, G = V (diag(w̄) + F ∘ (Vᵀ V̄)) Vᵀ; eigh reads
    # the lower triangle only, so dL/dA is the lower triangle of G + Gᵀ, its diagonal G's
    def grad(gw, gv):
        k = w.shape[-1]
        inner = np.zeros(w.shape[:-1] + (k, k), dtype=w.dtype)
        if gw is not None:
            inner = inner + gw[..., None, :] * np.eye(k, dtype=w.dtype)
        if gv is not None:
            diff = w[..., None, :] - w[..., :, None]
            off = ~np.eye(k, dtype=bool)
            with np.errstate(divide="ignore"):
                f = np.where(off, 1.0 / np.where(off, diff, 1.0), 0.0).astype(w.dtype)
            inner = inner + f * (_nt(v) @ gv)
        full = v @ inner @ _nt(v)
        sym = np.tril(full + _nt(full))
        idx = np.arange(k)
        sym[..., idx, idx] = full[..., idx, idx]
        return (sym,)
    return (record(w, (x,), lambda g: grad(g, None), label="ops.eigh"),
            record(v, (x,), lambda g: grad(None, g), label="ops.eigh"))


def eig(x):
    """``(w, v)``: the eigenvalues and right eigenvectors of square matrices (complex
    in general, as NumPy's ``eig``). No gradient."""
    a = _matrix_float(x)
    w, v = np.linalg.eig(a)
    why = "general eigendecompositions are complex; for symmetric matrices use ops.eigh"
    return (record(w, (x,), _no_gradient("eig", why), label="ops.eig"),
            record(v, (x,), _no_gradient("eig", why), label="ops.eig"))


# ---------------------------------------------------------------------- norms
def _l2(x, axes, keepdims):
    # r = √Σx²: dr/dx = x / r (0 where r = 0: the zero vector's subgradient)
    a = _matrix_float(x)

    def vjp(g):
        r = y if keepdims else _knp.expand_dims(y, axes)
        gk = g if keepdims else _knp.expand_dims(g, axes)
        return (_knp.multiply(gk, divide_no_nan(x, r)),)
    y = _rec(np.sqrt(np.sum(a * a, axis=axes, keepdims=keepdims)), (x,), vjp)
    return y


def norm(x, ord=None, axis=None, keepdims=False):
    """Vector or matrix norms, as ``np.linalg.norm``.

    Args:
        x: a tensor (integers give ``floatx()`` norms).
        ord: for vectors None or 2 (Euclidean), 1, ``inf``, ``-inf``, 0 (the count of
            nonzeros) or any number p ((Σ|x|^p)^(1/p)); for matrices None or ``'fro'``,
            ``'nuc'``, 1, -1, 2, -2, ``inf``, ``-inf``.
        axis: None (all of a vector, or a matrix; with ``ord=None`` all of any tensor),
            an axis (vector norms) or two (matrix norms).
        keepdims: keep the reduced axes with size 1.
    """
    a = np.asarray(_v(x))
    if a.dtype.kind in "biu":
        # (an integer tensor has no gradient: its float copy need not be recorded)
        x = Tensor(_matrix_float(a))
        a = x.value
    ndim = a.ndim
    if axis is None:
        if ord is None:
            return _l2(x, tuple(range(ndim)), keepdims)
        if ndim not in (1, 2):
            raise ValueError("Improper number of dimensions to norm.")
        axes = tuple(range(ndim))
    else:
        axes = (axis,) if isinstance(axis, int) else tuple(axis)
        axes = tuple(int(i) % ndim for i in axes)
    if len(axes) == 1:
        return _vector_norm(x, ord, axes, keepdims)
    if len(axes) == 2:
        if axes[0] == axes[1]:
            raise ValueError("Duplicate axes given.")
        return _matrix_norm(x, ord, axes, keepdims)
    raise ValueError("Improper number of dimensions to norm.")


def _vector_norm(x, ord, axes, keepdims):
    # composed of ops (abs, sum, max, power): their gradients are the norm's
    if ord is None or (not isinstance(ord, str) and ord == 2):
        return _l2(x, axes, keepdims)
    if isinstance(ord, str):
        raise ValueError(f"Invalid norm order '{ord}' for vectors")
    if ord == np.inf:
        return _knp.max(_knp.abs(x), axis=axes, keepdims=keepdims)
    if ord == -np.inf:
        return _knp.min(_knp.abs(x), axis=axes, keepdims=keepdims)
    if ord == 0:
        # the count of nonzeros: a step, no gradient
        a = np.asarray(_v(x))
        return Tensor(np.sum(a != 0, axis=axes, keepdims=keepdims).astype(a.dtype))
    if ord == 1:
        return _knp.sum(_knp.abs(x), axis=axes, keepdims=keepdims)
    ord = float(ord)
    return _knp.power(_knp.sum(_knp.power(_knp.abs(x), ord), axis=axes, keepdims=keepdims),
                      1.0 / ord)


def _matrix_norm(x, ord, axes, keepdims):
    row, col = axes
    if ord is None or ord == "fro":
        return _l2(x, axes, keepdims)
    if ord in ("nuc", 2, -2):
        # from the singular values (svd's gradient: U diag(s̄) Vᵀ)
        a = np.asarray(_v(x))
        rest = [i for i in range(a.ndim) if i not in axes]
        s = svd(_knp.transpose(x, (*rest, row, col)), compute_uv=False)
        reduce = {"nuc": _knp.sum, 2: _knp.max, -2: _knp.min}[ord]
        out = reduce(s, axis=-1)
        return _knp.expand_dims(out, tuple(sorted(axes))) if keepdims else out
    if not isinstance(ord, str) and ord in (1, -1, np.inf, -np.inf):
        # 1: the largest column sum of |x|; inf: the largest row sum (min for -1, -inf)
        summed, picked = (row, col) if abs(ord) == 1 else (col, row)
        sums = _knp.sum(_knp.abs(x), axis=summed, keepdims=True)
        pick = _knp.max if ord > 0 else _knp.min
        out = pick(sums, axis=picked, keepdims=True)
        return out if keepdims else _knp.squeeze(out, tuple(sorted(axes)))
    raise ValueError("Invalid norm order for matrices.")
