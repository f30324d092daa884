"""Max / average pooling, local and global: values, gradients, ties, shapes, config."""

import numpy as np
import pytest

from tinyann.layers import (
    AveragePooling2D,
    AvgPool2D,
    GlobalAveragePooling2D,
    GlobalMaxPooling2D,
    Input,
    MaxPool2D,
    MaxPooling2D,
)

# (input shape, pool_size, strides, padding)
GEOMETRIES = {
    "2x2": ((2, 6, 4, 3), 2, None, "valid"),
    "2x2_odd_input": ((2, 7, 5, 2), 2, None, "valid"),
    "2x2_same_odd": ((1, 7, 5, 2), 2, None, "same"),
    "3x3_s2_same": ((1, 7, 6, 2), 3, 2, "same"),
    "3x3_s2_valid": ((2, 7, 7, 1), 3, 2, "valid"),
    "2x2_s1_overlap": ((1, 5, 4, 2), 2, 1, "valid"),
    "2x3_s1x2_same": ((1, 5, 7, 2), (2, 3), (1, 2), "same"),
    "2x2_s3_gaps": ((1, 8, 7, 2), 2, 3, "valid"),
    "1x2": ((2, 3, 6, 2), (1, 2), None, "valid"),
    "1x1": ((1, 3, 3, 2), 1, None, "valid"),
}


def naive_pool(x, pool, strides, padding, mode):
    """Window by window, skipping padded pixels (as TensorFlow does for both modes)."""
    n, rows, cols, c = x.shape
    (ph, pw), (sh, sw) = pool, strides
    if padding == "same":
        out = (-(-rows // sh), -(-cols // sw))
        top = max((out[0] - 1) * sh + ph - rows, 0) // 2
        left = max((out[1] - 1) * sw + pw - cols, 0) // 2
    else:
        out = ((rows - ph) // sh + 1, (cols - pw) // sw + 1)
        top = left = 0
    y = np.zeros((n,) + out + (c,))
    for r in range(out[0]):
        for q in range(out[1]):
            r0, q0 = r * sh - top, q * sw - left
            window = x[:, max(r0, 0):r0 + ph, max(q0, 0):q0 + pw, :]
            y[:, r, q] = window.max(axis=(1, 2)) if mode == "max" else window.mean(axis=(1, 2))
    return y


def _pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


def _make(cls, geometry):
    shape, pool, strides, padding = geometry
    return cls(pool, strides=strides, padding=padding)


@pytest.mark.parametrize("cls", [MaxPooling2D, AveragePooling2D], ids=["max", "avg"])
@pytest.mark.parametrize("name", sorted(GEOMETRIES))
def test_forward_matches_window_loop(cls, name):
    rng = np.random.default_rng(1)
    geometry = GEOMETRIES[name]
    layer = _make(cls, geometry)
    x = rng.normal(size=geometry[0]).astype("float32")
    y = layer(x)
    strides = geometry[2] if geometry[2] is not None else geometry[1]
    mode = "max" if cls is MaxPooling2D else "avg"
    expected = naive_pool(x.astype(np.float64), _pair(geometry[1]), _pair(strides),
                          geometry[3], mode)
    assert y.dtype == np.float32
    assert y.shape == layer.compute_output_shape(x.shape) == expected.shape
    np.testing.assert_allclose(y, expected, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("cls", [MaxPooling2D, AveragePooling2D], ids=["max", "avg"])
@pytest.mark.parametrize("name", sorted(GEOMETRIES))
def test_gradients(gradcheck, helpers, cls, name):
    rng = np.random.default_rng(2)
    geometry = GEOMETRIES[name]
    layer = _make(cls, geometry)
    x = helpers.distinct_values(rng, geometry[0])  # no ties: max pooling is smooth here
    helpers.check_layer(gradcheck, layer, x, rng)


@pytest.mark.parametrize("cls", [GlobalAveragePooling2D, GlobalMaxPooling2D])
@pytest.mark.parametrize("keepdims", [False, True])
def test_global_pooling_values_and_gradients(gradcheck, helpers, cls, keepdims):
    rng = np.random.default_rng(3)
    layer = cls(keepdims=keepdims)
    x = helpers.distinct_values(rng, (2, 3, 4, 5))
    y = layer(x)
    reduce = np.max if cls is GlobalMaxPooling2D else np.mean
    np.testing.assert_allclose(y, reduce(x, axis=(1, 2), keepdims=keepdims))
    assert y.shape == ((2, 1, 1, 5) if keepdims else (2, 5))
    assert layer.compute_output_shape((None, 3, 4, 5)) == (
        (None, 1, 1, 5) if keepdims else (None, 5))
    helpers.check_layer(gradcheck, layer, x, rng)


def test_max_pool_gradient_goes_to_the_first_of_tied_maxima(cnn_facts):
    """As TensorFlow: one input per window gets the gradient, the first in row order."""
    case = cnn_facts["numerics"]["maxpool_ties"]
    layer = MaxPooling2D(2)
    x = np.array(case["x"], dtype="float32")
    y = layer(x, training=True)
    np.testing.assert_array_equal(y, case["y"])
    dx = layer.backward(np.ones_like(y))
    np.testing.assert_array_equal(dx, case["dx"])


def test_tied_windows_of_zeros_send_the_gradient_once():
    layer = MaxPooling2D(2)
    x = np.zeros((1, 4, 4, 3), "float32")
    layer(x, training=True)
    g = np.arange(12, dtype="float32").reshape(1, 2, 2, 3) + 1
    dx = layer.backward(g.copy())
    assert dx.sum() == pytest.approx(g.sum())
    np.testing.assert_array_equal(dx[:, ::2, ::2], g)


POOL_CASES = ["maxpool_2", "maxpool_3s2_same", "avgpool_2_same", "avgpool_3s1",
              "global_avg", "global_max"]


@pytest.mark.parametrize("name", POOL_CASES)
def test_matches_keras_outputs_and_gradients(cnn_facts, name):
    from tinyann import layers as L  # noqa: N812, F401 (eval namespace)

    case = cnn_facts["numerics"][name]
    layer = eval(case["layer"])
    x = np.array(case["x"], dtype="float32")
    y = layer(x, training=True)
    np.testing.assert_allclose(y, case["y"], rtol=1e-5, atol=1e-6)
    dx = layer.backward(np.array(case["r"], dtype="float32"))
    np.testing.assert_allclose(dx, case["dx"], rtol=1e-5, atol=1e-6)


def test_output_shapes_match_keras(cnn_facts):
    for case in cnn_facts["shapes"]["pool"]:
        layer = MaxPooling2D(case["pool_size"], strides=case["strides"],
                             padding=case["padding"])
        shape = tuple(case["input"])
        assert layer.compute_output_shape(shape) == tuple(case["output"]), case
        assert layer(Input(shape[1:])).shape == tuple(case["output"])


@pytest.mark.parametrize("key, cls", [
    ("MaxPooling2D", MaxPooling2D), ("MaxPooling2D_args", MaxPooling2D),
    ("AveragePooling2D", AveragePooling2D), ("GlobalAveragePooling2D", GlobalAveragePooling2D),
    ("GlobalMaxPooling2D", GlobalMaxPooling2D)])
def test_config_matches_keras_and_round_trips(cnn_facts, key, cls):
    keras_config = cnn_facts["configs"][key]
    config = cls.from_config(keras_config).get_config()
    normalized = {k: tuple(v) if isinstance(v, list) else v for k, v in keras_config.items()}
    assert config == normalized
    assert cls.from_config(config).get_config() == config


def test_predict_outputs_are_fresh_and_training_ones_reused():
    from tinyann import kernels

    layer = MaxPooling2D()
    x = np.random.default_rng(4).normal(size=(2, 4, 4, 1))
    a, b = layer(x), layer(x)
    assert a is not b and not np.shares_memory(a, b)
    t1, t2 = layer(x, training=True), layer(x, training=True)
    # the fast kernels reuse the training output buffer; the reference makes new arrays
    assert np.shares_memory(t1, t2) == (kernels.kernel_set() != "reference")


def test_errors_match_keras(cnn_facts):
    import tinyann as keras

    expected = cnn_facts["errors"]["L.MaxPooling2D(0)"]["message"]
    with pytest.raises(ValueError) as info:
        MaxPooling2D(0)
    assert str(info.value) == expected
    keras_message = cnn_facts["errors"]["L.MaxPooling2D(2)(keras.Input((1, 1, 3)))"]["message"]
    with pytest.raises(ValueError) as info:
        MaxPooling2D(2)(keras.Input((1, 1, 3)))
    assert str(info.value) in keras_message
    with pytest.raises(ValueError, match="expected ndim=4, found ndim=5"):
        MaxPooling2D(2)(keras.Input((4, 4, 4, 3)))
    with pytest.raises(TypeError, match="pool_size"):
        AveragePooling2D()


def test_aliases():
    assert MaxPool2D is MaxPooling2D and AvgPool2D is AveragePooling2D
