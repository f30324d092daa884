"""Numerical gradient checks of the reference ops (float64, central differences), and
of the compiled set's convolutions (Winograd, direct sums), where numba is installed.

For an op ``y = f(x, weights)`` and a random ``G``, the scalar is ``sum(G * y)``:
its gradient with respect to every input must be what the op's backward gives.
Inputs stay away from ReLU's kink and from pooling ties.
"""

import numpy as np
import pytest

from tinyann import kernels
from tinyann.kernels import jit
from tinyann.kernels.reference import activations as reference_activations

REF = kernels.functions_of("reference")
# the sets whose convolutions are checked: the reference, and the compiled set's own
# kernels (CI installs numba)
CONV_SETS = ["reference"] + (["compiled"] if jit.available() else [])


def test_dense(gradcheck):
    rng = np.random.default_rng(0)
    x, kernel, bias = rng.normal(size=(4, 5)), rng.normal(size=(5, 3)), rng.normal(size=3)
    g = rng.normal(size=(4, 3))
    dkernel, dbias = np.empty_like(kernel), np.empty_like(bias)
    dx = REF["dense_backward"](g, x, kernel, dkernel, dbias)

    def loss():
        return np.sum(g * REF["dense_forward"](x, kernel, bias))

    for analytic, wrt in ((dx, x), (dkernel, kernel), (dbias, bias)):
        gradcheck.assert_close(analytic, gradcheck.numerical_grad(loss, wrt))
    assert REF["dense_backward"](g, x, kernel, dkernel, None, need_dx=False) is None


CONV = {
    "3x3_valid": ((2, 5, 5, 2), (3, 3), (1, 1), "valid", (1, 1)),
    "3x3_same": ((1, 5, 4, 2), (3, 3), (1, 1), "same", (1, 1)),
    "stride2_same_odd": ((1, 5, 5, 1), (3, 3), (2, 2), "same", (1, 1)),
    "dilated": ((1, 6, 6, 2), (2, 2), (1, 1), "same", (2, 2)),
    "1x1": ((2, 3, 3, 3), (1, 1), (1, 1), "valid", (1, 1)),
    # 3x3, stride 1, 8+ channels: the compiled set's Winograd F(2x2, 3x3)
    "3x3_same_many_channels_odd": ((1, 5, 3, 8), (3, 3), (1, 1), "same", (1, 1)),
    "3x3_valid_many_channels": ((2, 6, 5, 9), (3, 3), (1, 1), "valid", (1, 1)),
}


@pytest.mark.parametrize("kernel_set", CONV_SETS)
@pytest.mark.parametrize("name", CONV)
def test_conv2d(gradcheck, name, kernel_set):
    functions = kernels.functions_of(kernel_set)
    shape, window, strides, padding, dilation = CONV[name]
    rng = np.random.default_rng(1)
    x = rng.normal(size=shape)
    kernel = rng.normal(size=window + (shape[-1], 2))
    bias = rng.normal(size=2)
    z, ctx = functions["conv2d_forward"](x, kernel, bias, strides, padding, dilation)
    g = rng.normal(size=z.shape)
    dkernel, dbias = np.empty_like(kernel), np.empty_like(bias)
    dx = functions["conv2d_backward"](g, ctx, kernel, dkernel, dbias).copy()

    def loss():
        return np.sum(g * functions["conv2d_forward"](x, kernel, bias, strides, padding,
                                                      dilation)[0])

    for analytic, wrt in ((dx, x), (dkernel, kernel), (dbias, bias)):
        gradcheck.assert_close(analytic, gradcheck.numerical_grad(loss, wrt))


CONV_POOL = {  # input shape, kernel window, conv padding; 2x2 max pooling after it
    "few_channels_same": ((2, 6, 5, 1), (3, 3), "same"),  # compiled: direct sums
    "few_channels_valid_even_kernel": ((1, 7, 6, 3), (2, 2), "valid"),
    "many_channels_same_odd": ((1, 5, 7, 8), (3, 3), "same"),  # compiled: Winograd
    "many_channels_valid": ((2, 6, 6, 9), (3, 3), "valid"),
}


@pytest.mark.parametrize("kernel_set", CONV_SETS)
@pytest.mark.parametrize("need_dx", [True, False], ids=["dx", "no_dx"])
@pytest.mark.parametrize("name", CONV_POOL)
def test_conv2d_max_pool(gradcheck, name, need_dx, kernel_set):
    functions = kernels.functions_of(kernel_set)
    shape, window, padding = CONV_POOL[name]
    rng = np.random.default_rng(2)
    x = rng.normal(size=shape)
    kernel = rng.normal(size=window + (shape[-1], 3))
    bias = rng.normal(size=3)
    geometry = ((1, 1), padding, (1, 1), (2, 2), (2, 2), "valid")
    y, ctx = functions["conv2d_max_pool_forward"](x, kernel, bias, *geometry, {}, True)
    g = rng.normal(size=y.shape)
    dkernel, dbias = np.empty_like(kernel), np.empty_like(bias)
    dx = functions["conv2d_max_pool_backward"](g, ctx, kernel, dkernel, dbias, need_dx)

    def loss():
        return np.sum(g * functions["conv2d_max_pool_forward"](x, kernel, bias, *geometry)[0])

    checks = [(dkernel, kernel), (dbias, bias)] + ([(dx.copy(), x)] if need_dx else [])
    assert (dx is None) != need_dx
    for analytic, wrt in checks:
        gradcheck.assert_close(analytic, gradcheck.numerical_grad(loss, wrt))


POOL = {
    "2x2": ((1, 4, 4, 2), (2, 2), (2, 2), "valid"),
    "3x3_overlapping_same": ((1, 5, 5, 1), (3, 3), (2, 2), "same"),
    "2x2_same_odd": ((2, 3, 5, 1), (2, 2), (2, 2), "same"),
}


@pytest.mark.parametrize("name", POOL)
@pytest.mark.parametrize("mode", ["max", "avg"])
def test_pooling(gradcheck, name, mode):
    shape, pool_size, strides, padding = POOL[name]
    rng = np.random.default_rng(2)
    # values 0.05 apart: no ties, and a step of 1e-6 never changes a window's maximum
    x = rng.permutation(np.arange(np.prod(shape)) * 0.05).reshape(shape)
    forward, backward = REF[f"{mode}_pool2d_forward"], REF[f"{mode}_pool2d_backward"]
    y, ctx = forward(x, pool_size, strides, padding)
    g = rng.normal(size=y.shape)
    dx = backward(g, ctx)
    numeric = gradcheck.numerical_grad(
        lambda: np.sum(g * forward(x, pool_size, strides, padding)[0]), x)
    gradcheck.assert_close(dx, numeric)


# every activation op at its defaults (threshold has none), and with Keras's arguments
ACTIVATIONS = {name: (name, {}) for name in sorted(
    op[:-len("_forward")] for op in vars(reference_activations) if op.endswith("_forward"))
    if name != "threshold"}
ACTIVATIONS.update({
    "relu_options": ("relu_options", {"negative_slope": 0.1, "max_value": 1.5,
                                      "threshold": 0.3}),
    "relu_options_negative_threshold": ("relu_options", {"threshold": -0.7,
                                                         "negative_slope": 0.5}),
    "leaky_relu_01": ("leaky_relu", {"negative_slope": 0.1}),
    "elu_half": ("elu", {"alpha": 0.5}), "celu_2": ("celu", {"alpha": 2.0}),
    "gelu_approximate": ("gelu", {"approximate": True}),
    "squareplus_1": ("squareplus", {"b": 1}), "squareplus_0": ("squareplus", {"b": 0}),
    "hard_shrink_1": ("hard_shrink", {"threshold": 1.0}),
    "soft_shrink_1": ("soft_shrink", {"threshold": 1.0}),
    "threshold": ("threshold", {"threshold": 0.4, "default_value": -2.0}),
    "softmax_axis0": ("softmax", {"axis": 0}), "log_softmax_axis0": ("log_softmax", {"axis": 0}),
    "sparsemax_axis0": ("sparsemax", {"axis": 0}), "glu_axis0": ("glu", {"axis": 0}),
})


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_activation(gradcheck, activation):
    """From the output (``backward(y, g)``), or from the input too (``backward(x, y, g)``,
    the ops in FROM_INPUT); inputs away from every kink (0, +-0.3 ... 3, 6)."""
    op, options = ACTIVATIONS[activation]
    rng = np.random.default_rng(3)
    x = gradcheck.away_from_zero(rng, (4, 6), low=0.1, high=4.0)
    for kink in (0.3, 0.4, 0.5, 0.7, 1.0, 1.5, 3.0):
        x[np.abs(np.abs(x) - kink) < 0.05] += 0.1
    forward, backward = REF[f"{op}_forward"], REF[f"{op}_backward"]
    y = forward(x, **options)
    g = rng.normal(size=y.shape)
    first = (x, y) if op in reference_activations.FROM_INPUT else (y,)
    dx = backward(*first, g, **options)
    gradcheck.assert_close(dx, gradcheck.numerical_grad(
        lambda: np.sum(g * forward(x, **options)), x))


@pytest.mark.parametrize("weighted", [False, True])
def test_softmax_cross_entropy_grad(gradcheck, weighted):
    """The fused gradient is d/dz of the reduced loss ``sum(w_i loss_i) / n`` with
    ``loss_i = cross_entropy(softmax(z_i), onehot_i)``."""
    rng = np.random.default_rng(4)
    n, classes = 5, 4
    z = rng.normal(size=(n, classes))
    onehot = np.eye(classes)[rng.integers(0, classes, n)]
    w = rng.random((n, 1)) + 0.5 if weighted else np.ones((n, 1))

    def loss():
        per = REF["softmax_cross_entropy"](REF["softmax_forward"](z), onehot, 1e-12)
        return np.sum(w[:, 0] * per) / n

    scale = w / n if weighted else 1.0 / n
    grad = REF["softmax_cross_entropy_grad"](REF["softmax_forward"](z), onehot, scale)
    gradcheck.assert_close(grad, gradcheck.numerical_grad(loss, z))


@pytest.mark.parametrize("weighted", [False, True])
def test_sparse_softmax_cross_entropy(gradcheck, weighted):
    """Its dL/dz is d/dz of ``sum(w_i loss_i) / n``, its values the per-sample loss,
    with the labels as class indices."""
    rng = np.random.default_rng(6)
    n, classes = 5, 4
    z = rng.normal(size=(n, classes))
    labels = rng.integers(0, classes, n)
    w = rng.random((n, 1)) + 0.5 if weighted else np.ones((n, 1))

    def loss():
        per, _ = REF["sparse_softmax_cross_entropy"](REF["softmax_forward"](z), labels,
                                                      1e-12, 1.0)
        return np.sum(w[:, 0] * per) / n

    per, grad = REF["sparse_softmax_cross_entropy"](REF["softmax_forward"](z), labels, 1e-12,
                                                     w / n if weighted else 1.0 / n)
    np.testing.assert_allclose(per, -np.log(REF["softmax_forward"](z)[np.arange(n), labels]))
    gradcheck.assert_close(grad, gradcheck.numerical_grad(loss, z))


def test_sigmoid_binary_cross_entropy_grad(gradcheck):
    """The same op is the gradient of sigmoid + binary cross-entropy (FUSIONS)."""
    rng = np.random.default_rng(5)
    z = rng.normal(size=(4, 3))
    targets = rng.random((4, 3))

    def loss():
        p = REF["sigmoid_forward"](z)
        return -np.mean(targets * np.log(p) + (1 - targets) * np.log(1 - p))

    grad = REF["softmax_cross_entropy_grad"](REF["sigmoid_forward"](z), targets, 1.0 / z.size)
    gradcheck.assert_close(grad, gradcheck.numerical_grad(loss, z))
    assert kernels.FUSIONS[("sigmoid", "binary_crossentropy")] == "softmax_cross_entropy_grad"


@pytest.mark.parametrize("mode", ["max", "avg"])
@pytest.mark.parametrize("keepdims", [False, True])
def test_global_pooling(gradcheck, mode, keepdims):
    rng = np.random.default_rng(6)
    x = rng.permutation(np.arange(2 * 3 * 4 * 2) * 0.05).reshape(2, 3, 4, 2)
    forward = REF[f"global_{mode}_pool2d_forward"]
    y, ctx = forward(x, keepdims, training=True) if mode == "max" else forward(x, keepdims)
    assert y.shape == ((2, 1, 1, 2) if keepdims else (2, 2))
    g = rng.normal(size=y.shape)
    dx = REF[f"global_{mode}_pool2d_backward"](g, ctx)
    gradcheck.assert_close(dx, gradcheck.numerical_grad(lambda: np.sum(g * forward(x, keepdims)[0]),
                                                        x))


@pytest.mark.parametrize("interpolation",
                         ["bilinear", "nearest", "bicubic", "area", "lanczos3", "lanczos5"])
@pytest.mark.parametrize("antialias", [False, True], ids=["plain", "antialias"])
def test_resize(gradcheck, interpolation, antialias):
    rng = np.random.default_rng(7)
    x = rng.normal(size=(2, 6, 5, 2))
    g = rng.normal(size=(2, 4, 7, 2))
    dx = REF["resize_backward"](g, x.shape, interpolation, antialias)

    def loss():
        return np.sum(g * REF["resize_forward"](x, 4, 7, interpolation, antialias))

    gradcheck.assert_close(dx, gradcheck.numerical_grad(loss, x))


@pytest.mark.parametrize("interpolation", ["bilinear", "nearest"])
@pytest.mark.parametrize("fill_mode", ["reflect", "wrap", "constant", "nearest"])
def test_affine_transform(gradcheck, interpolation, fill_mode):
    rng = np.random.default_rng(8)
    x = rng.normal(size=(2, 5, 6, 2))
    # a rotation by 0.4 rad about (1.3, 2.1) and a zoom: sampling points off the grid
    cos, sin = 1.2 * np.cos(0.4), 1.2 * np.sin(0.4)
    transforms = np.array([[cos, -sin, 1.3, sin, cos, -2.1, 0.0, 0.0],
                           [1.1, 0.0, -0.6, 0.0, 0.8, 0.7, 0.0, 0.0]])
    sampling = REF["affine_sampling"](x.shape, transforms, interpolation, fill_mode)
    g = rng.normal(size=x.shape)
    dx = REF["affine_transform_backward"](g, sampling)

    def loss():
        return np.sum(g * REF["affine_transform_forward"](x, sampling, 1.5))

    gradcheck.assert_close(dx, gradcheck.numerical_grad(loss, x))
