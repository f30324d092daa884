"""Each fast op against its reference op, on tables of shapes and geometries.

Tolerance (float32 inputs): elementwise ops (activations, the fused gradient, the
optimizer updates) agree to ``rtol=1e-6`` (a few units in the last place: the two
sets may round in another order); ops that sum products or windows (dense,
conv2d, average pooling) to ``rtol=1e-5`` plus ``atol=1e-6`` times the largest
reference value, since BLAS and the reference add in different orders. Max
pooling selects, so it agrees exactly. Inputs come both C- and F-ordered.
"""

import numpy as np
import pytest

from tinyann import kernels
from tinyann.kernels import jit
from tinyann.kernels.reference.activations import FROM_INPUT

REF = kernels.functions_of("reference")
# the NumPy set, and the compiled set where numba is installed (CI installs it)
FAST_SETS = ["numpy"] + (["compiled"] if jit.available() else [])


@pytest.fixture(params=FAST_SETS, scope="module")
def fast(request):
    return kernels.functions_of(request.param)

ELEMENTWISE = {"rtol": 1e-6, "atol": 1e-7}


def close_sums(actual, expected):
    scale = max(float(np.max(np.abs(expected), initial=0.0)), 1.0)
    np.testing.assert_allclose(actual, expected, rtol=1e-5, atol=1e-6 * scale)


def ordered(x, order):
    return np.asfortranarray(x) if order == "F" else np.ascontiguousarray(x)


ORDERS = ["C", "F"]


# ---------------------------------------------------------------------- dense
DENSE = {  # (rows, inputs, units): few units (transposed kernel), many, many rows
    "batch1": (1, 5, 3),
    "seed": (32, 784, 10),
    "odd": (7, 13, 33),
    "many_rows": (130, 20, 10),
    "wide": (33, 40, 64),
    # up to FEW_ROWS_DX rows, many units: dx computed transposed (the CNN's half-batch)
    "few_rows_many_units": (16, 300, 100),
}


@pytest.mark.parametrize("geometry", DENSE.values(), ids=DENSE.keys())
@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("use_bias", [True, False], ids=["bias", "no_bias"])
def test_dense(fast, geometry, order, use_bias):
    rows, inputs, units = geometry
    rng = np.random.default_rng(rows * units)
    x = ordered(rng.normal(size=(rows, inputs)).astype("float32"), order)
    kernel = np.asarray(rng.normal(size=(inputs, units)).astype("float32"),
                        order=fast["dense_kernel_order"](units))
    bias = rng.normal(size=units).astype("float32") if use_bias else None
    dz = rng.normal(size=(rows, units)).astype("float32")
    close_sums(fast["dense_forward"](x, kernel, bias), REF["dense_forward"](x, kernel, bias))
    grads = {}
    for name, functions in (("fast", fast), ("ref", REF)):
        dkernel = np.zeros_like(kernel, order="K")
        dbias = np.zeros(units, "float32") if use_bias else None
        dx = functions["dense_backward"](dz.copy(), x, kernel, dkernel, dbias)
        grads[name] = (dx, dkernel, dbias)
    for fast_value, ref_value in zip(grads["fast"], grads["ref"]):
        if ref_value is not None:
            close_sums(fast_value, ref_value)


# ---------------------------------------------------------------------- conv2d
CONV = {  # input shape, kernel (kh, kw), strides, padding, dilation, filters
    "3x3_valid": ((2, 7, 7, 1), (3, 3), (1, 1), "valid", (1, 1), 4),
    "3x3_same": ((2, 7, 7, 3), (3, 3), (1, 1), "same", (1, 1), 4),
    "1x1": ((2, 5, 6, 3), (1, 1), (1, 1), "valid", (1, 1), 2),
    "5x5_same_odd": ((1, 9, 7, 3), (5, 5), (1, 1), "same", (1, 1), 3),
    "stride2_valid_odd": ((2, 9, 8, 1), (3, 3), (2, 2), "valid", (1, 1), 3),
    "stride2_same_odd": ((1, 9, 7, 3), (3, 3), (2, 2), "same", (1, 1), 2),
    "stride2_same_even": ((2, 8, 8, 9), (3, 3), (2, 2), "same", (1, 1), 5),
    "dilated_valid": ((1, 9, 9, 3), (3, 3), (1, 1), "valid", (2, 2), 2),
    "dilated_same_many_channels": ((2, 8, 7, 9), (3, 3), (1, 1), "same", (2, 2), 4),
    "5x5_stride2_many_channels": ((1, 11, 11, 9), (5, 5), (2, 2), "valid", (1, 1), 3),
    "rect_kernel_same": ((2, 6, 7, 9), (1, 3), (1, 2), "same", (1, 1), 4),
    "batch1_channels3": ((1, 5, 5, 3), (3, 3), (1, 1), "valid", (1, 1), 1),
    # 3x3, stride 1, 8+ channels: the compiled set's Winograd F(2x2, 3x3)
    "3x3_same_many_channels_odd": ((2, 7, 9, 9), (3, 3), (1, 1), "same", (1, 1), 5),
    "3x3_valid_many_channels": ((2, 8, 7, 16), (3, 3), (1, 1), "valid", (1, 1), 3),
    "3x3_same_batch1_even": ((1, 6, 6, 8), (3, 3), (1, 1), "same", (1, 1), 4),
    # batches of more tiles than winograd.CHUNK_TILES: in chunks, the last smaller
    "3x3_same_chunks": ((7, 9, 9, 8), (3, 3), (1, 1), "same", (1, 1), 3),
    "3x3_valid_odd_chunks": ((7, 13, 12, 9), (3, 3), (1, 1), "valid", (1, 1), 2),
}


def _conv_case(name, order, use_bias):
    shape, window, strides, padding, dilation, filters = CONV[name]
    rng = np.random.default_rng(len(name))
    x = ordered(rng.normal(size=shape).astype("float32"), order)
    kernel = rng.normal(size=window + (shape[-1], filters)).astype("float32")
    bias = rng.normal(size=filters).astype("float32") if use_bias else None
    return x, kernel, bias, (strides, padding, dilation)


@pytest.mark.parametrize("name", CONV)
@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("use_bias", [True, False], ids=["bias", "no_bias"])
def test_conv2d(fast, name, order, use_bias):
    x, kernel, bias, geometry = _conv_case(name, order, use_bias)
    results = {}
    for set_name, functions in (("fast", fast), ("ref", REF)):
        z, ctx = functions["conv2d_forward"](x, kernel, bias, *geometry, {}, True)
        z = z.copy()
        dz = np.random.default_rng(1).normal(size=z.shape).astype("float32")
        dkernel = np.zeros_like(kernel)
        dbias = np.zeros_like(bias) if use_bias else None
        dx = functions["conv2d_backward"](dz, ctx, kernel, dkernel, dbias)
        results[set_name] = (z, dx, dkernel, dbias)
    for fast_value, ref_value in zip(results["fast"], results["ref"]):
        if ref_value is not None:
            close_sums(fast_value, ref_value)


CONV_POOL = {  # conv input shape, kernel, conv padding, filters; then max pooling
    "few_channels_same": ((2, 8, 8, 1), (3, 3), "same", 4, (2, 2), (2, 2), "valid"),
    # one grey channel, 3x3: the compiled set's unrolled kernel; three: the general one
    "grey_valid_odd": ((2, 9, 7, 1), (3, 3), "valid", 5, (2, 2), (2, 2), "valid"),
    "rgb_same": ((1, 6, 6, 3), (3, 3), "same", 4, (2, 2), (2, 2), "valid"),
    "few_channels_odd_even_kernel": ((1, 7, 9, 3), (2, 2), "same", 3, (2, 2), (2, 2),
                                     "valid"),
    "many_channels_same": ((2, 6, 6, 8), (3, 3), "same", 5, (2, 2), (2, 2), "valid"),
    "many_channels_valid_odd": ((1, 9, 8, 12), (3, 3), "valid", 4, (2, 2), (2, 2),
                                "valid"),
    # in chunks (see CONV), an odd row of tiles past the pooled rows
    "many_channels_same_chunks": ((7, 9, 10, 8), (3, 3), "same", 3, (2, 2), (2, 2), "valid"),
    "many_channels_valid_chunks": ((9, 12, 12, 8), (3, 3), "valid", 2, (2, 2), (2, 2),
                                   "valid"),
    # pooling the fused kernels do not take: the two ops one after the other
    "overlapping_pool": ((1, 6, 6, 8), (3, 3), "same", 3, (3, 3), (1, 1), "valid"),
    "strided_conv": ((1, 8, 8, 2), (3, 3), "same", 3, (2, 2), (2, 2), "same"),
}


@pytest.mark.parametrize("name", CONV_POOL)
@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("use_bias", [True, False], ids=["bias", "no_bias"])
@pytest.mark.parametrize("need_dx", [True, False], ids=["dx", "no_dx"])
def test_conv2d_max_pool(fast, name, order, use_bias, need_dx):
    shape, window, padding, filters, pool, pool_strides, pool_padding = CONV_POOL[name]
    rng = np.random.default_rng(len(name))
    x = rng.normal(size=shape).astype("float32")
    x[:, : shape[1] // 2] = 0  # ties: windows of equal outputs (the bias) route to the first
    x = ordered(x, order)
    kernel = rng.normal(size=window + (shape[-1], filters)).astype("float32")
    bias = rng.normal(size=filters).astype("float32") if use_bias else None
    strides = (2, 2) if name == "strided_conv" else (1, 1)
    geometry = (strides, padding, (1, 1), pool, pool_strides, pool_padding)
    results = {}
    for set_name, functions in (("fast", fast), ("ref", REF)):
        state = {}
        y, ctx = functions["conv2d_max_pool_forward"](x, kernel, bias, *geometry, state, True)
        y = y.copy()
        inferred, _ = functions["conv2d_max_pool_forward"](x, kernel, bias, *geometry, state)
        np.testing.assert_array_equal(inferred, y)
        dy = np.random.default_rng(1).normal(size=y.shape).astype("float32")
        dkernel = np.zeros_like(kernel)
        dbias = np.zeros_like(bias) if use_bias else None
        dx = functions["conv2d_max_pool_backward"](dy, ctx, kernel, dkernel, dbias, need_dx)
        assert (dx is None) != need_dx
        results[set_name] = (y, dx, dkernel, dbias)
    for fast_value, ref_value in zip(results["fast"], results["ref"]):
        if ref_value is not None:
            close_sums(fast_value, ref_value)


@pytest.mark.parametrize("name", ["3x3_same_chunks", "3x3_valid_odd_chunks"])
def test_winograd_cases_run_in_chunks(name):
    """The chunked cases above do cut their batch (a later CHUNK_TILES would make them
    one chunk, testing nothing new): whole images each, the last chunk smaller."""
    from tinyann.kernels.compiled import winograd

    shape, window, strides, padding, dilation, filters = CONV[name]
    ws = winograd.Workspace(shape, window + (shape[-1], filters), padding, "float32", "c")
    firsts = [first for first, _ in ws.chunks]
    sizes = [count for _, count in ws.chunks]
    assert len(sizes) > 1 and sizes[-1] < sizes[0]
    assert firsts == list(np.cumsum([0] + sizes[:-1])) and sum(sizes) == shape[0]
    assert sizes[0] * ws.tiles_hw[0] * ws.tiles_hw[1] <= winograd.CHUNK_TILES


def test_winograd_chunks_are_even():
    from tinyann.kernels.compiled.winograd import CHUNK_TILES, _chunks

    assert _chunks(16, 49) == [(0, 4), (4, 4), (8, 4), (12, 4)]  # 784 tiles: 4 chunks
    assert _chunks(1, 10 * CHUNK_TILES) == [(0, 1)]  # an image is never cut
    assert _chunks(3, 1) == [(0, 3)]


def test_conv2d_inference_and_training_buffers_agree(fast):
    x, kernel, bias, geometry = _conv_case("3x3_same", "C", True)
    state = {}
    trained, _ = fast["conv2d_forward"](x, kernel, bias, *geometry, state, True)
    inferred, _ = fast["conv2d_forward"](x, kernel, bias, *geometry, state, False)
    np.testing.assert_array_equal(trained, inferred)
    assert not np.shares_memory(trained, inferred)


# ---------------------------------------------------------------------- pooling
POOL = {  # input shape, pool size, strides, padding
    "2x2": ((2, 8, 8, 3), (2, 2), (2, 2), "valid"),
    "2x2_odd": ((1, 7, 9, 1), (2, 2), (2, 2), "valid"),
    "2x2_same_odd": ((2, 7, 5, 3), (2, 2), (2, 2), "same"),
    "3x3_stride1": ((1, 6, 7, 3), (3, 3), (1, 1), "valid"),
    "3x3_stride2_same": ((2, 7, 7, 1), (3, 3), (2, 2), "same"),
    "3x3_stride3_same": ((1, 8, 7, 3), (3, 3), (3, 3), "same"),
    "1x1": ((1, 4, 4, 3), (1, 1), (1, 1), "valid"),
    "2x3_stride1_same": ((2, 5, 6, 1), (2, 3), (1, 1), "same"),
}


def _pool_input(shape, order, ties=False):
    rng = np.random.default_rng(sum(shape))
    if ties:  # few distinct values: many windows hold their maximum twice
        x = rng.integers(0, 3, size=shape).astype("float32")
    else:  # distinct values
        x = rng.permutation(np.arange(np.prod(shape), dtype="float32")).reshape(shape)
    return ordered(x, order)


@pytest.mark.parametrize("name", POOL)
@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("mode", ["max", "avg"])
@pytest.mark.parametrize("ties", [False, True], ids=["distinct", "ties"])
def test_pooling(fast, name, order, mode, ties):
    shape, pool_size, strides, padding = POOL[name]
    x = _pool_input(shape, order, ties)
    results = {}
    for set_name, functions in (("fast", fast), ("ref", REF)):
        y, ctx = functions[f"{mode}_pool2d_forward"](x, pool_size, strides, padding, {}, True)
        y = y.copy()
        dy = np.random.default_rng(2).normal(size=y.shape).astype("float32")
        dx = functions[f"{mode}_pool2d_backward"](dy, ctx).copy()
        results[set_name] = (y, dx)
    if mode == "max":  # selection and routing to the first maximum: exact
        for fast_value, ref_value in zip(results["fast"], results["ref"]):
            np.testing.assert_array_equal(fast_value, ref_value)
    else:
        for fast_value, ref_value in zip(results["fast"], results["ref"]):
            close_sums(fast_value, ref_value)


# ---------------------------------------------------------------------- activations
# (op, its keyword arguments): every op with a form in a fast set, Keras's arguments too
ACTIVATIONS = {
    "linear": ("linear", {}), "relu": ("relu", {}), "sigmoid": ("sigmoid", {}),
    "tanh": ("tanh", {}), "softmax": ("softmax", {}), "exponential": ("exponential", {}),
    "softmax_axis0": ("softmax", {"axis": 0}), "leaky_relu": ("leaky_relu", {}),
    "leaky_relu_steep": ("leaky_relu", {"negative_slope": 1.5}), "elu": ("elu", {}),
    "elu_half": ("elu", {"alpha": 0.5}), "selu": ("selu", {}),
    "gelu": ("gelu", {}), "gelu_approximate": ("gelu", {"approximate": True}),
}
SHAPES = {"one": (1, 1), "batch1": (1, 10), "odd": (7, 5), "3d": (2, 3, 4)}


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("shape", SHAPES.values(), ids=SHAPES.keys())
@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("in_place", [False, True], ids=["new", "in_place"])
def test_activation(fast, activation, shape, order, in_place):
    op, options = ACTIVATIONS[activation]
    rng = np.random.default_rng(3)
    x = ordered(rng.normal(0, 3, size=shape).astype("float32"), order)
    g = ordered(rng.normal(size=shape).astype("float32"), order)
    forward, backward = f"{op}_forward", f"{op}_backward"
    y_ref = REF[forward](x.copy(), **options)
    x_fast = x.copy(order="K")
    y_fast = fast[forward](x_fast, x_fast if in_place else None, **options)
    np.testing.assert_allclose(y_fast, y_ref, **ELEMENTWISE)
    # the derivative from the output, or (gelu) from the input and the output
    first = (x, y_ref) if op in FROM_INPUT else (y_ref,)
    dx_ref = REF[backward](*first, g.copy(), **options)
    g_fast = g.copy(order="K")
    dx_fast = fast[backward](*first, g_fast, g_fast if in_place else None, **options)
    np.testing.assert_allclose(dx_fast, dx_ref, **ELEMENTWISE)


def test_sigmoid_saturates_without_warnings(fast):
    x = np.array([[-1000.0, 0.0, 1000.0]], dtype="float32")
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        for functions in (fast, REF):
            np.testing.assert_allclose(functions["sigmoid_forward"](x), [[0.0, 0.5, 1.0]],
                                       atol=1e-30)


# ---------------------------------------------------------------------- softmax + CE
@pytest.mark.parametrize("rows", [1, 7, 32])
@pytest.mark.parametrize("weighted", [False, True], ids=["1/n", "w/n"])
@pytest.mark.parametrize("aliased", [False, True], ids=["new", "out=probs"])
def test_softmax_cross_entropy_grad(fast, rows, weighted, aliased):
    rng = np.random.default_rng(rows)
    probs = REF["softmax_forward"](rng.normal(size=(rows, 10)).astype("float32"))
    onehot = np.eye(10, dtype="float32")[rng.integers(0, 10, rows)]
    scale = (rng.random((rows, 1)).astype("float32") / rows if weighted
             else np.float32(1.0 / rows))
    expected = REF["softmax_cross_entropy_grad"](probs, onehot, scale)
    target = probs.copy()
    got = fast["softmax_cross_entropy_grad"](target, onehot, scale,
                                             out=target if aliased else None)
    assert (got is target) == aliased
    np.testing.assert_allclose(got, expected, **ELEMENTWISE)
    # the reference writes into ``out`` too, aliased or not
    target = probs.copy()
    assert REF["softmax_cross_entropy_grad"](target, onehot, scale, out=target) is target
    np.testing.assert_allclose(target, expected, **ELEMENTWISE)


@pytest.mark.parametrize("rows", [0, 1, 7, 32])
@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("weighted", [False, True], ids=["1/n", "w/n"])
def test_sparse_softmax_cross_entropy(fast, rows, order, dtype, weighted):
    rng = np.random.default_rng(rows + 3)
    probs = ordered(REF["softmax_forward"](rng.normal(size=(rows, 10))).astype(dtype), order)
    probs[:1, :1] = 0.0   # clipped to epsilon
    labels = rng.integers(0, 10, rows)
    labels[:1] = 0
    scale = (rng.random((rows, 1)).astype(dtype) / max(rows, 1) if weighted
             else np.dtype(dtype).type(1.0 / max(rows, 1)))
    kept = probs.copy()
    per, dz = fast["sparse_softmax_cross_entropy"](probs, labels, 1e-7, scale)
    ref_per, ref_dz = REF["sparse_softmax_cross_entropy"](probs, labels, 1e-7, scale)
    np.testing.assert_array_equal(probs, kept)   # the input is left alone
    assert per.shape == (rows,) and dz.shape == (rows, 10)
    assert per.dtype == dz.dtype == np.dtype(dtype)
    np.testing.assert_allclose(per, ref_per, **ELEMENTWISE)
    np.testing.assert_allclose(dz, ref_dz, **ELEMENTWISE)
    # dL/dz as the one-hot fused gradient gives it, bit for bit
    onehot = np.eye(10, dtype=dtype)[labels]
    np.testing.assert_array_equal(dz, fast["softmax_cross_entropy_grad"](probs, onehot, scale))


@pytest.mark.parametrize("bad", [-1, 10])
@pytest.mark.parametrize("label_dtype", ["int64", "int32", "uint8"])
def test_sparse_softmax_cross_entropy_refuses_labels_out_of_range(fast, bad, label_dtype):
    probs = REF["softmax_forward"](np.zeros((3, 10), "float32"))
    labels = np.array([1, 2, 3])
    if bad < 0 and label_dtype == "uint8":
        bad = 255
    labels[1] = bad
    labels = labels.astype(label_dtype)
    for functions in (fast, REF):
        assert functions["sparse_softmax_cross_entropy"](probs, labels, 1e-7, 1 / 3) is None


# ---------------------------------------------------------------------- optimizers
OPTIMIZERS = {  # op -> (slot names, hyperparameters after lr, before scratch)
    "sgd": ("sgd_update", [], lambda s: (None, 0.0, False)),
    "sgd_momentum": ("sgd_update", ["m"], lambda s: (s["m"], 0.9, False)),
    "sgd_nesterov": ("sgd_update", ["m"], lambda s: (s["m"], 0.9, True)),
    "rmsprop": ("rmsprop_update", ["v"], lambda s: (s["v"], None, None, 0.9, 0.0, 1e-7)),
    "rmsprop_momentum_centered": ("rmsprop_update", ["v", "m", "a"],
                                  lambda s: (s["v"], s["m"], s["a"], 0.9, 0.5, 1e-7)),
    "adam": ("adam_update", ["m", "v"],
             lambda s: (s["m"], s["v"], None, 0.9, 0.999, 1e-7)),
    "adam_amsgrad": ("adam_update", ["m", "v", "h"],
                     lambda s: (s["m"], s["v"], s["h"], 0.9, 0.999, 1e-7)),
    "adamax": ("adamax_update", ["m", "u"], lambda s: (s["m"], s["u"], 0.9, 0.999, 1e-7)),
    "adagrad": ("adagrad_update", ["acc"], lambda s: (s["acc"], 1e-7)),
    "adadelta": ("adadelta_update", ["a", "s"], lambda s: (s["a"], s["s"], 0.95, 1e-7)),
}
_WITH_STEP = {"adam_update", "adamax_update"}


@pytest.mark.parametrize("name", OPTIMIZERS)
@pytest.mark.parametrize("shape", [(1,), (7, 5), (300,)], ids=["one", "matrix", "flat"])
def test_optimizer_update(fast, name, shape):
    op, slot_names, args = OPTIMIZERS[name]
    rng = np.random.default_rng(4)
    w0 = rng.normal(size=shape).astype("float32")
    grads = [rng.normal(size=shape).astype("float32") for _ in range(4)]
    states = {}
    for set_name, functions in (("fast", fast), ("ref", REF)):
        w = w0.copy()
        slots = {k: np.full(shape, 0.1 if k == "acc" else 0.0, "float32") for k in slot_names}
        scratch = (np.empty_like(w), np.empty_like(w))
        for t, g in enumerate(grads, start=1):
            extra = (t,) if op in _WITH_STEP else ()
            functions[op](w, g, 0.01, *args(slots), *extra, scratch=scratch)
            functions["weight_decay_update"](w, 0.01, 0.004)
        states[set_name] = (w, slots)
    np.testing.assert_allclose(states["fast"][0], states["ref"][0], **ELEMENTWISE)
    for k in slot_names:
        np.testing.assert_allclose(states["fast"][1][k], states["ref"][1][k], **ELEMENTWISE)


def test_conv2d_inference_in_several_threads_at_once(fast):
    """Each thread's inference has its own columns: concurrent predictions give the
    serial results."""
    from concurrent.futures import ThreadPoolExecutor

    rng = np.random.default_rng(5)
    x = rng.normal(size=(8, 16, 16, 9)).astype("float32")
    kernel = rng.normal(size=(3, 3, 9, 16)).astype("float32")
    bias, geometry = np.zeros(16, "float32"), ((1, 1), "same", (1, 1))
    inputs = [x * (k + 1) for k in range(8)]
    state = {}
    serial = [fast["conv2d_forward"](a, kernel, bias, *geometry, {}, False)[0] for a in inputs]

    def predict(a):
        return [fast["conv2d_forward"](a, kernel, bias, *geometry, state, False)[0].copy()
                for _ in range(10)]

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(predict, inputs))
    for expected, runs in zip(serial, results):
        for got in runs:
            np.testing.assert_array_equal(got, expected)


# ---------------------------------------------------------------------- images
INTERPOLATIONS = ["bilinear", "nearest", "bicubic", "area", "lanczos3", "lanczos5"]
RESIZE = {  # input shape, output (height, width)
    "batch1_gray_up": ((1, 5, 7, 1), (9, 11)),
    "rgb_down": ((2, 7, 8, 3), (3, 5)),
    "odd_mixed": ((3, 9, 4, 3), (4, 11)),
    "same_rows": ((2, 6, 5, 3), (6, 2)),  # one axis unchanged (the fast set skips it)
    "same_size": ((1, 4, 5, 2), (4, 5)),
    "big_shrink": ((1, 40, 33, 1), (6, 5)),
    # large enough for the compiled set's banded sums (kernels/compiled/image.py)
    "large_up": ((4, 130, 140, 3), (150, 171)),
    "large_down": ((3, 200, 180, 3), (97, 61)),
}


@pytest.mark.parametrize("name", RESIZE)
@pytest.mark.parametrize("interpolation", INTERPOLATIONS)
@pytest.mark.parametrize("antialias", [False, True], ids=["plain", "antialias"])
@pytest.mark.parametrize("order", ORDERS)
def test_resize(fast, name, interpolation, antialias, order):
    shape, (height, width) = RESIZE[name]
    rng = np.random.default_rng(len(name))
    x = ordered(rng.uniform(0, 255, size=shape).astype("float32"), order)
    args = (interpolation, antialias)
    y = fast["resize_forward"](x, height, width, *args)
    assert y.dtype == np.float32 and y.shape == (shape[0], height, width, shape[3])
    close_sums(y, REF["resize_forward"](x, height, width, *args))
    g = ordered(rng.normal(size=y.shape).astype("float32"), order)
    dx = fast["resize_backward"](g, shape, *args)
    assert dx.dtype == np.float32 and dx.shape == shape
    close_sums(dx, REF["resize_backward"](g, shape, *args))
    if (height, width) == shape[1:3]:
        np.testing.assert_array_equal(y, x)  # the same size is the identity


@pytest.mark.skipif(not jit.available(), reason="numba is not installed")
def test_resize_large_images_take_the_compiled_banded_sums():
    from tinyann.kernels.compiled import image

    for name in ("large_up", "large_down"):
        shape, (height, width) = RESIZE[name]
        grad_shape = (shape[0], height, width, shape[3])
        for interpolation in ("bilinear", "nearest", "bicubic", "area", "lanczos3"):
            # forward: the images to (height, width); backward: the gradient to the input
            assert image._plan(shape, "<f4", height, width, interpolation, False,
                               False) is not None
            assert image._plan(grad_shape, "<f4", shape[1], shape[2], interpolation, False,
                               True) is not None
    # small images stay with the NumPy set's products
    shape, (height, width) = RESIZE["rgb_down"]
    assert image._plan(shape, "<f4", height, width, "bilinear", False, False) is None


def _transforms(n, rows, cols, rng):
    """Rotations about the centre, a zoom and a shift: reads inside and outside."""
    angle = rng.uniform(-0.6, 0.6, size=n)
    zoom = rng.uniform(0.7, 1.4, size=n)
    cos, sin = np.cos(angle) * zoom, np.sin(angle) * zoom
    cx, cy = (cols - 1) / 2, (rows - 1) / 2
    shift = rng.uniform(-2, 2, size=(2, n))
    zeros = np.zeros(n)
    return np.stack([cos, -sin, cx - cx * cos + cy * sin + shift[0],
                     sin, cos, cy - cx * sin - cy * cos + shift[1], zeros, zeros], axis=1)


AFFINE = {"batch1_gray": (1, 5, 7, 1), "rgb": (2, 7, 8, 3), "odd_tall": (3, 9, 4, 3),
          "one_row": (2, 1, 6, 2)}


@pytest.mark.parametrize("name", AFFINE)
@pytest.mark.parametrize("interpolation", ["bilinear", "nearest"])
@pytest.mark.parametrize("fill_mode", ["reflect", "wrap", "constant", "nearest"])
def test_affine_transform(fast, name, interpolation, fill_mode):
    shape = AFFINE[name]
    rng = np.random.default_rng(len(name) + len(fill_mode))
    x = rng.uniform(0, 255, size=shape).astype("float32")
    transforms = _transforms(shape[0], shape[1], shape[2], rng)
    results = {}
    for set_name, functions in (("fast", fast), ("ref", REF)):
        sampling = functions["affine_sampling"](shape, transforms, interpolation, fill_mode)
        y = functions["affine_transform_forward"](x, sampling, 2.5)
        g = np.random.default_rng(1).normal(size=y.shape).astype("float32")
        dx = functions["affine_transform_backward"](g, sampling)
        assert y.dtype == dx.dtype == np.float32 and y.shape == dx.shape == shape
        results[set_name] = (y, dx)
    close_sums(results["fast"][0], results["ref"][0])
    close_sums(results["fast"][1], results["ref"][1])
