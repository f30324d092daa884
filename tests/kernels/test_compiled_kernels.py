"""The compiled (numba) kernels against plain NumPy, on tables of geometry.

Tolerance: the kernels do the reference's float32 operations in the same order, so
the pooling, im2col and optimizer results are equal bit for bit; col2im adds the
same terms in another order, within 1e-5 relative.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from numpy.lib.stride_tricks import sliding_window_view

pytest.importorskip("numba")

from tinyann.kernels.compiled import conv, optimizers, pooling  # noqa: E402


def conv_geometry(h, w, k, s, d, padding):
    span = (k - 1) * d + 1
    if padding == "same":
        oh, ow = -(-h // s), -(-w // s)
        pad_h = max((oh - 1) * s + span - h, 0)
        pad_w = max((ow - 1) * s + span - w, 0)
        return oh, ow, pad_h // 2, pad_w // 2, pad_h - pad_h // 2, pad_w - pad_w // 2
    return (h - span) // s + 1, (w - span) // s + 1, 0, 0, 0, 0


def reference_im2col(x, k, s, d, geo):
    oh, ow, top, left, bottom, right = geo
    padded = np.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)))
    span = (k - 1) * d + 1
    view = sliding_window_view(padded, (span, span), axis=(1, 2))[:, ::s, ::s, :, ::d, ::d]
    view = view[:, :oh, :ow].transpose(0, 1, 2, 4, 5, 3)
    return view.reshape(-1, k * k * x.shape[-1])


GEOMETRIES = list(itertools.product([(1, 5, 5, 8), (3, 7, 6, 16), (2, 14, 14, 32)],
                                    [1, 3], [1, 2], [1, 2], ["valid", "same"]))


@pytest.mark.parametrize("shape, k, s, d, padding", GEOMETRIES)
def test_im2col_and_col2im_match_numpy(shape, k, s, d, padding):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape).astype(np.float32)
    n, h, w, c = shape
    geo = conv_geometry(h, w, k, s, d, padding)
    oh, ow, top, left = geo[:4]
    assert oh > 0 and ow > 0  # every geometry of the table fits its image
    cols = np.full((n * oh * ow, k * k * c + 1), 7, np.float32)  # + the bias's column
    conv.im2col_kernel(x, k, k, s, s, d, d, top, left, oh, ow, cols)
    np.testing.assert_array_equal(cols[:, :-1], reference_im2col(x, k, s, d, geo))
    assert np.all(cols[:, -1] == 7)
    # col2im is im2col's transpose: every column entry added back where it came from
    dcols = rng.standard_normal((k * k, n, oh, ow, c)).astype(np.float32)
    dx = np.full(shape, np.nan, np.float32)
    conv.col2im_kernel(dcols, k, s, s, d, d, top, left, dx)
    padded = np.zeros((n, h + geo[2] + geo[4], w + geo[3] + geo[5], c))
    for ki in range(k):
        for kj in range(k):
            for i in range(oh):
                for j in range(ow):
                    padded[:, i * s + ki * d, j * s + kj * d] += dcols[ki * k + kj, :, i, j]
    np.testing.assert_allclose(dx, padded[:, top:top + h, left:left + w], rtol=1e-5,
                               atol=1e-5)


@pytest.mark.parametrize("shape, pool", [((2, 28, 28, 32), (2, 2)), ((1, 6, 9, 3), (2, 3)),
                                         ((3, 4, 4, 1), (1, 1)), ((2, 9, 6, 5), (3, 3))])
def test_max_pool_tiles_match_numpy_with_first_maximum_ties(shape, pool):
    rng = np.random.default_rng(1)
    # few distinct values: ties in most windows
    x = rng.integers(-2, 3, shape).astype(np.float32)
    n, h, w, c = shape
    ph, pw = pool
    out = np.empty((n, h // ph, w // pw, c), np.float32)
    offset = np.empty(out.shape, np.uint8)
    pooling.max_pool_tiles_forward(x, ph, pw, out, offset, True)
    windows = x.reshape(n, h // ph, ph, w // pw, pw, c).transpose(0, 1, 3, 5, 2, 4)
    windows = windows.reshape(out.shape + (ph * pw,))
    np.testing.assert_array_equal(out, windows.max(axis=-1))
    np.testing.assert_array_equal(offset, windows.argmax(axis=-1))  # argmax: the first
    dy = rng.standard_normal(out.shape).astype(np.float32)
    dx = np.full(shape, np.nan, np.float32)
    pooling.max_pool_tiles_backward(dy, offset, ph, pw, dx)
    onehot = np.eye(ph * pw, dtype=np.float32)[windows.argmax(axis=-1)] * dy[..., None]
    expected = onehot.reshape(n, h // ph, w // pw, c, ph, pw).transpose(0, 1, 4, 2, 5, 3)
    np.testing.assert_array_equal(dx, expected.reshape(shape))


def numpy_adam(w, g, m, v, alpha, b1c, b2c, eps):
    m += (g - m) * b1c
    v += (g * g - v) * b2c
    w -= (m * alpha) / (np.sqrt(v) + eps)


def numpy_rmsprop(w, g, v, lr, rho, one_minus_rho, eps):
    v *= rho
    v += (g * g) * one_minus_rho
    w -= (g * lr) / np.sqrt(v + eps)


@pytest.mark.parametrize("size", [1, 7, 8192, 333_526])
def test_optimizer_kernels_equal_numpy_bit_for_bit(size):
    rng = np.random.default_rng(2)
    f = np.float32
    w, g = (rng.standard_normal(size).astype(f) for _ in range(2))
    m, v = rng.standard_normal(size).astype(f), rng.random(size).astype(f)
    args = (f(1e-3 * 0.3), f(0.1), f(0.001), f(1e-7))
    mine = [a.copy() for a in (w, g, m, v)]
    theirs = [a.copy() for a in (w, g, m, v)]
    for _ in range(3):
        optimizers._adam(*mine, *args)
        numpy_adam(*theirs, *args)
    for a, b in zip(mine, theirs):
        np.testing.assert_array_equal(a, b)
    mine, theirs = [w.copy(), g, v.copy()], [w.copy(), g, v.copy()]
    for _ in range(3):
        optimizers._rmsprop(*mine, f(1e-3), f(0.9), f(0.1), f(1e-7))
        numpy_rmsprop(*theirs, f(1e-3), f(0.9), f(0.1), f(1e-7))
    np.testing.assert_array_equal(mine[0], theirs[0])
    np.testing.assert_array_equal(mine[2], theirs[2])
