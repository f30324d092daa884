"""The depthwise convolution ops: the NumPy and compiled sets against the reference on
a table of geometries, a direct loop against the reference, and central differences
of the reference's gradients."""

import numpy as np
import pytest

from tinyann import kernels
from tinyann.kernels import jit

REF = kernels.functions_of("reference")
FAST = kernels.functions_of("numpy")
# the compiled set where numba is installed (depth_multiplier 1 in float32 compiled)
FAST_SETS = ["numpy"] + (["compiled"] if jit.available() else [])

# input shape, kernel window, depth_multiplier, strides, padding, dilation
GEOMETRIES = {
    "same_3x3": ((2, 6, 5, 3), (3, 3), 1, (1, 1), "same", (1, 1)),
    "valid_dm2": ((2, 5, 6, 2), (2, 3), 2, (1, 1), "valid", (1, 1)),
    "stride2_same_odd": ((3, 7, 5, 4), (3, 3), 1, (2, 2), "same", (1, 1)),
    "stride_2x1_valid_dm3": ((1, 8, 6, 2), (3, 2), 3, (2, 1), "valid", (1, 1)),
    "dilated_same": ((2, 7, 7, 3), (3, 3), 2, (1, 1), "same", (2, 2)),
    "big_kernel_same": ((1, 5, 5, 2), (5, 5), 1, (2, 2), "same", (1, 1)),
    "one_row": ((4, 1, 9, 3), (1, 3), 2, (1, 2), "same", (1, 1)),
    # more output per image than a block holds: one image per block
    "many_pixels": ((3, 70, 60, 17), (3, 3), 1, (1, 1), "same", (1, 1)),
}


def _inputs(geometry, seed, dtype="float32"):
    shape, window, m, *_ = geometry
    rng = np.random.default_rng(seed)
    x = rng.normal(size=shape).astype(dtype)
    kernel = rng.normal(size=window + (shape[-1], m)).astype(dtype)
    bias = rng.normal(size=shape[-1] * m).astype(dtype)
    return x, kernel, bias


def _run(ops, geometry, x, kernel, bias, g=None, need_dx=True):
    _, _, _, strides, padding, dilation = geometry
    z, ctx = ops["depthwise_conv2d_forward"](x, kernel, bias, strides, padding, dilation)
    if g is None:
        return z, None, None, None
    dkernel = np.zeros_like(kernel)
    dbias = None if bias is None else np.zeros_like(bias)
    dx = ops["depthwise_conv2d_backward"](g.copy(), ctx, kernel, dkernel, dbias, need_dx)
    return z, dx, dkernel, dbias


def _close(actual, expected):
    scale = max(float(np.max(np.abs(expected))), 1.0)
    np.testing.assert_allclose(actual, expected, rtol=1e-5, atol=1e-5 * scale)


@pytest.mark.parametrize("kernel_set", FAST_SETS)
@pytest.mark.parametrize("use_bias", [True, False], ids=["bias", "no_bias"])
@pytest.mark.parametrize("geometry", GEOMETRIES.values(), ids=GEOMETRIES.keys())
def test_fast_matches_reference(geometry, use_bias, kernel_set):
    fast_ops = kernels.functions_of(kernel_set)
    x, kernel, bias = _inputs(geometry, 1)
    bias = bias if use_bias else None
    z_ref = _run(REF, geometry, x, kernel, bias)[0]
    g = np.random.default_rng(2).normal(size=z_ref.shape).astype("float32")
    for need_dx in (True, False):
        ref = _run(REF, geometry, x, kernel, bias, g, need_dx)
        fast = _run(fast_ops, geometry, x, kernel, bias, g, need_dx)
        for got, want in zip(fast, ref):
            if want is None:
                assert got is None
            else:
                assert got.shape == want.shape and got.dtype == want.dtype
                _close(got, want)


def test_reference_matches_a_direct_loop():
    geometry = GEOMETRIES["stride_2x1_valid_dm3"]
    x, kernel, bias = _inputs(geometry, 3, "float64")
    (kh, kw), (sh, sw) = geometry[1], geometry[3]
    z = _run(REF, geometry, x, kernel, bias)[0]
    n, oh, ow, _ = z.shape
    for y in range(oh):
        for xx in range(ow):
            patch = x[:, y * sh:y * sh + kh, xx * sw:xx * sw + kw, :]  # (n, kh, kw, c)
            want = np.einsum("nijc,ijcm->ncm", patch, kernel).reshape(n, -1) + bias
            np.testing.assert_allclose(z[:, y, xx], want, rtol=1e-12)


@pytest.mark.parametrize("name", ["same_3x3", "valid_dm2", "stride2_same_odd", "dilated_same"])
def test_reference_gradients_are_central_differences(gradcheck, name):
    geometry = GEOMETRIES[name]
    x, kernel, bias = _inputs(geometry, 4, "float64")
    x = x[:1]
    z = _run(REF, geometry, x, kernel, bias)[0]
    g = np.random.default_rng(5).normal(size=z.shape)

    def loss():
        return float(np.sum(g * _run(REF, geometry, x, kernel, bias)[0]))

    _, dx, dkernel, dbias = _run(REF, geometry, x, kernel, bias, g)
    gradcheck.assert_close(dx, gradcheck.numerical_grad(loss, x))
    gradcheck.assert_close(dkernel, gradcheck.numerical_grad(loss, kernel))
    gradcheck.assert_close(dbias, gradcheck.numerical_grad(loss, bias))


# pixels, c*m, filters
POINTWISE = {"few": (50, 6, 4), "many": (20000, 8, 5), "wide": (300, 64, 48)}


@pytest.mark.parametrize("use_bias", [True, False], ids=["bias", "no_bias"])
@pytest.mark.parametrize("shape", POINTWISE.values(), ids=POINTWISE.keys())
def test_fast_pointwise_matches_reference(shape, use_bias):
    rows, width, filters = shape
    rng = np.random.default_rng(rows)
    u = rng.normal(size=(rows, width)).astype("float32")
    kernel = rng.normal(size=(width, filters)).astype("float32")
    bias = rng.normal(size=filters).astype("float32") if use_bias else None
    dz = rng.normal(size=(rows, filters)).astype("float32")
    _close(FAST["pointwise_forward"](u, kernel, bias), REF["pointwise_forward"](u, kernel, bias))
    grads = []
    for ops in (FAST, REF):
        dkernel, dbias = np.zeros_like(kernel), None if bias is None else np.zeros_like(bias)
        du = ops["pointwise_backward"](dz, u, kernel, dkernel, dbias)
        grads.append((du, dkernel, dbias))
    for got, want in zip(*grads):
        if want is not None:
            _close(got, want)


def test_reference_pointwise_gradients_are_central_differences(gradcheck):
    rng = np.random.default_rng(6)
    u, kernel, bias = rng.normal(size=(7, 4)), rng.normal(size=(4, 3)), rng.normal(size=3)
    g = rng.normal(size=(7, 3))

    def loss():
        return float(np.sum(g * REF["pointwise_forward"](u, kernel, bias)))

    dkernel, dbias = np.zeros_like(kernel), np.zeros_like(bias)
    du = REF["pointwise_backward"](g, u, kernel, dkernel, dbias)
    gradcheck.assert_close(du, gradcheck.numerical_grad(loss, u))
    gradcheck.assert_close(dkernel, gradcheck.numerical_grad(loss, kernel))
    gradcheck.assert_close(dbias, gradcheck.numerical_grad(loss, bias))
