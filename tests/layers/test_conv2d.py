"""Conv2D: forward against a direct loop and real Keras, gradients, shapes, config, errors."""

import numpy as np
import pytest

from tinyann import activations
from tinyann.kernels import jit
from tinyann.layers import Conv2D, Convolution2D, Input

# (input shape, filters, kernel_size, strides, padding, dilation_rate)
GEOMETRIES = {
    "3x3_same": ((2, 5, 6, 2), 3, 3, 1, "same", 1),
    "3x3_valid": ((2, 5, 6, 2), 3, 3, 1, "valid", 1),
    "stride2_same_odd": ((1, 7, 5, 3), 2, 3, 2, "same", 1),
    "stride2_valid_odd": ((2, 7, 5, 1), 2, (3, 2), 2, "valid", 1),
    "stride_2x1_same": ((1, 6, 5, 2), 2, (3, 2), (2, 1), "same", 1),
    "even_kernel_same": ((1, 8, 7, 2), 2, 4, 2, "same", 1),
    "dilated_same": ((1, 7, 8, 2), 2, 3, 1, "same", 2),
    "dilated_valid_2x1": ((2, 7, 6, 1), 2, 3, 1, "valid", (2, 1)),
    "nine_channels_same": ((2, 4, 5, 9), 2, 3, 1, "same", 1),
    "nine_channels_stride": ((1, 7, 6, 9), 3, 3, 2, "valid", 1),
    "1x1": ((2, 3, 4, 3), 4, 1, 1, "valid", 1),
}


def naive_conv(x, kernel, bias, strides, padding, dilation):
    """Cross-correlation written out pixel by pixel, with TensorFlow's 'same' padding."""
    n, rows, cols, _ = x.shape
    kh, kw, _, filters = kernel.shape
    (sh, sw), (dh, dw) = strides, dilation
    span = ((kh - 1) * dh + 1, (kw - 1) * dw + 1)
    if padding == "same":
        out = (-(-rows // sh), -(-cols // sw))
        total = [max((o - 1) * s + k - size, 0)
                 for o, s, k, size in zip(out, (sh, sw), span, (rows, cols))]
        x = np.pad(x, ((0, 0), (total[0] // 2, total[0] - total[0] // 2),
                       (total[1] // 2, total[1] - total[1] // 2), (0, 0)))
    else:
        out = ((rows - span[0]) // sh + 1, (cols - span[1]) // sw + 1)
    y = np.zeros((n,) + out + (filters,))
    for r in range(out[0]):
        for c in range(out[1]):
            patch = x[:, r * sh: r * sh + span[0]: dh, c * sw: c * sw + span[1]: dw, :]
            y[:, r, c, :] = np.tensordot(patch, kernel, axes=3)
    return y + (0 if bias is None else bias)


def _tuple(v):
    return (v, v) if isinstance(v, int) else tuple(v)


def _layer(geometry, rng, activation=None, use_bias=True):
    shape, filters, kernel, strides, padding, dilation = geometry
    layer = Conv2D(filters, kernel, strides=strides, padding=padding, dilation_rate=dilation,
                   activation=activation, use_bias=use_bias)
    layer.build((None,) + shape[1:])
    weights = [rng.normal(0, 0.5, size=layer.kernel.shape)]
    if use_bias:
        weights.append(rng.normal(0, 0.3, size=(filters,)))
    layer.set_weights(weights)
    return layer


@pytest.mark.parametrize("name", sorted(GEOMETRIES))
def test_forward_matches_direct_loop(name):
    rng = np.random.default_rng(1)
    geometry = GEOMETRIES[name]
    layer = _layer(geometry, rng)
    x = rng.normal(size=geometry[0]).astype("float32")
    y = layer(x)
    expected = naive_conv(x.astype(np.float64), layer.kernel.value.astype(np.float64),
                          layer.bias.value, _tuple(geometry[3]), geometry[4],
                          _tuple(geometry[5]))
    assert y.dtype == np.float32
    assert y.shape == layer.compute_output_shape(x.shape) == expected.shape
    np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name", sorted(GEOMETRIES))
def test_gradients(gradcheck, helpers, name):
    rng = np.random.default_rng(2)
    geometry = GEOMETRIES[name]
    layer = _layer(geometry, rng, activation="tanh")
    x = rng.normal(size=geometry[0])
    helpers.check_layer(gradcheck, layer, x, rng)


@pytest.mark.parametrize("name", ["3x3_same", "nine_channels_stride"])
def test_gradients_relu_without_bias(gradcheck, helpers, name):
    rng = np.random.default_rng(3)
    geometry = GEOMETRIES[name]
    layer = _layer(geometry, rng, activation="relu", use_bias=False)
    for _ in range(100):  # an input whose pre-activations stay away from ReLU's kink
        x = rng.normal(size=geometry[0])
        z = naive_conv(x, layer.kernel.value, None, _tuple(geometry[3]), geometry[4],
                       _tuple(geometry[5]))
        if np.abs(z).min() > 0.02:
            break
    else:
        pytest.fail("no input away from the kink")
    assert len(layer.weights) == 1
    helpers.check_layer(gradcheck, layer, x, rng)


def test_backward_without_input_gradient_still_writes_weight_gradients(gradcheck):
    rng = np.random.default_rng(4)
    layer = _layer(GEOMETRIES["3x3_same"], rng)
    x = rng.normal(size=GEOMETRIES["3x3_same"][0])
    g = rng.normal(size=layer(x).shape)
    layer(x, training=True)
    full = layer.backward(g.copy())
    kernel_grad = layer.kernel.grad.copy()
    layer._needs_input_grad = False
    layer.kernel.grad[...] = 0
    assert layer.backward(g.copy()) is None
    assert full is not None
    # written, not added: the same batch twice gives the same gradient
    np.testing.assert_array_equal(layer.kernel.grad, kernel_grad)
    layer.backward(g.copy())
    np.testing.assert_array_equal(layer.kernel.grad, kernel_grad)


def _trained_once(rng):
    """A nine-channel layer after one training forward pass, its input's gradient
    ``g`` and the first backward pass's result."""
    layer = _layer(GEOMETRIES["nine_channels_same"], rng)
    x = rng.normal(size=GEOMETRIES["nine_channels_same"][0]).astype("float32")
    g = rng.normal(size=layer(x).shape).astype("float32")
    layer(x, training=True)
    return layer, x, g, layer.backward(g.copy()).copy()


def test_second_backward_needs_a_new_forward_when_columns_hold_the_gradient(use_kernels):
    use_kernels("numpy")  # its im2col keeps dL/dcols in the columns' memory
    layer, x, g, first = _trained_once(np.random.default_rng(7))
    with pytest.raises(RuntimeError, match="ran backward twice on one forward pass"):
        layer.backward(g.copy())
    layer(x, training=True)
    np.testing.assert_array_equal(layer.backward(g.copy()), first)


@pytest.mark.skipif(not jit.available(), reason="the compiled set needs numba (CI installs it)")
def test_backward_twice_on_one_forward_pass_is_the_same_with_winograd(use_kernels):
    use_kernels("compiled")  # its Winograd convolution keeps its input tiles intact
    layer, _, g, first = _trained_once(np.random.default_rng(7))
    np.testing.assert_array_equal(layer.backward(g.copy()), first)


@pytest.mark.parametrize("name", ["3x3_same", "nine_channels_same"])
def test_predict_between_forward_and_backward_leaves_the_gradients_alone(name):
    rng = np.random.default_rng(8)
    layer = _layer(GEOMETRIES[name], rng)
    shape = GEOMETRIES[name][0]
    x, other = rng.normal(size=shape), rng.normal(size=shape)
    g = rng.normal(size=layer(x).shape)
    layer(x, training=True)
    expected = layer.backward(g.astype("float32")).copy(), layer.kernel.grad.copy()
    layer(x, training=True)
    layer(other)  # inference on other data of the same shape
    dx = layer.backward(g.astype("float32"))
    np.testing.assert_array_equal(dx, expected[0])
    np.testing.assert_array_equal(layer.kernel.grad, expected[1])


def test_buffers_reused_across_batch_sizes_give_right_answers():
    rng = np.random.default_rng(5)
    geometry = GEOMETRIES["nine_channels_same"]
    layer = _layer(geometry, rng)
    xs = [rng.normal(size=(n,) + geometry[0][1:]).astype("float32") for n in (4, 3, 4, 1, 4)]
    for x in xs:
        y = layer(x, training=True)
        expected = naive_conv(x.astype(np.float64), layer.kernel.value, layer.bias.value,
                              (1, 1), "same", (1, 1))
        np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-5)


def test_inference_outputs_are_not_overwritten_by_the_next_call():
    rng = np.random.default_rng(6)
    layer = _layer(GEOMETRIES["3x3_same"], rng)
    a = rng.normal(size=(2, 5, 6, 2))
    first = layer(a)
    kept = first.copy()
    layer(rng.normal(size=(2, 5, 6, 2)))
    np.testing.assert_array_equal(first, kept)


def test_weights_have_keras_order_shapes_and_names():
    layer = Conv2D(32, 3, activation="relu", padding="same")
    y = layer(Input((28, 28, 1)))
    assert y.shape == (None, 28, 28, 32)
    assert [w.name for w in layer.weights] == ["kernel", "bias"]
    assert layer.weights[0].numpy().shape == (3, 3, 1, 32)
    assert layer.weights[0].shape == (3, 3, 1, 32)
    assert layer.weights[1].shape == (32,)
    assert layer.count_params() == 320
    assert layer.kernel.numpy().dtype == np.float32
    # glorot_uniform over fan_in = 3*3*1 and fan_out = 3*3*32
    limit = np.sqrt(6 / (9 + 288))
    assert np.abs(layer.kernel.numpy()).max() <= limit
    assert np.abs(layer.kernel.numpy()).max() > limit / 2
    assert np.all(layer.bias.numpy() == 0)


def test_accepts_integer_images_and_returns_float32():
    layer = Conv2D(2, 3)
    x = np.arange(2 * 5 * 5, dtype=np.uint8).reshape(2, 5, 5, 1)
    y = layer(x)
    assert y.dtype == np.float32 and y.shape == (2, 3, 3, 2)


def test_alias():
    assert Convolution2D is Conv2D


# ---------------------------------------------------------------------- real Keras
CONV_CASES = ["conv_same", "conv_valid_stride2", "conv_same_stride2_even",
              "conv_dilated_same", "conv_9ch"]


def _from_fixture(case):
    from tinyann import layers  # noqa: F401 (eval namespace)

    L = layers  # noqa: N806, F841
    layer = eval(case["layer"])
    x = np.array(case["x"], dtype="float32")
    layer.build(x.shape)
    layer.set_weights([np.array(w, dtype="float32") for w in case["weights"]])
    return layer, x


@pytest.mark.parametrize("name", CONV_CASES)
def test_matches_keras_outputs_and_gradients(cnn_facts, name):
    case = cnn_facts["numerics"][name]
    layer, x = _from_fixture(case)
    y = layer(x, training=True)
    np.testing.assert_allclose(y, case["y"], rtol=1e-5, atol=1e-5)
    dx = layer.backward(np.array(case["r"], dtype="float32"))
    np.testing.assert_allclose(dx, case["dx"], rtol=1e-5, atol=1e-5)
    for var, expected in zip(layer.trainable_weights, case["dweights"]):
        np.testing.assert_allclose(var.grad, expected, rtol=1e-5, atol=1e-5)


def test_output_shapes_match_keras(cnn_facts):
    for case in cnn_facts["shapes"]["conv"]:
        layer = Conv2D(case["filters"], case["kernel_size"], strides=case["strides"],
                       padding=case["padding"], dilation_rate=case["dilation_rate"])
        shape = tuple(case["input"])
        assert layer.compute_output_shape(shape) == tuple(case["output"]), case
        assert layer(Input(shape[1:])).shape == tuple(case["output"])


@pytest.mark.parametrize("key", ["Conv2D", "Conv2D_args"])
def test_config_matches_keras_and_round_trips(cnn_facts, key):
    keras_config = cnn_facts["configs"][key]
    layer = Conv2D.from_config(keras_config)
    config = layer.get_config()
    assert set(config) == set(keras_config)
    for name, value in keras_config.items():
        if name.endswith("_initializer"):
            assert config[name]["class_name"] == value["class_name"]
        else:
            assert config[name] == (tuple(value) if isinstance(value, list) else value), name
    again = Conv2D.from_config(config).get_config()
    assert again == config


# ---------------------------------------------------------------------- errors
@pytest.mark.parametrize("expr", [
    "L.Conv2D(0, 3)",
    "L.Conv2D(8, (3,))",
    "L.Conv2D(8, 3, padding='full')",
    "L.Conv2D(8, 3, strides=0)",
    "L.Conv2D(8, 3, strides=2, dilation_rate=2)",
    "L.Conv2D(8, 5)(keras.Input((4, 4, 1)))",
])
def test_errors_match_keras(cnn_facts, expr):
    import tinyann as keras  # noqa: F401 (eval namespace)
    from tinyann import layers as L  # noqa: N812, F401

    expected = cnn_facts["errors"][expr]
    with pytest.raises(ValueError) as info:
        eval(expr)
    assert expected["type"] == "ValueError"
    if "padding" in expr:  # Keras prints a set: its order depends on string hashing
        assert str(info.value).startswith("The `padding` argument must be a list/tuple")
        assert str(info.value).endswith("Received: full")
    else:
        assert str(info.value) == expected["message"]


def test_wrong_rank_and_channels_are_reported():
    layer = Conv2D(8, 3)
    with pytest.raises(ValueError, match=r"expected min_ndim=4, found ndim=3. Full shape "
                                         r"received: \(None, 28, 28\)"):
        layer(Input((28, 28)))
    layer(np.zeros((1, 5, 5, 2)))
    with pytest.raises(ValueError, match=r"expected axis -1 of input shape to have value 2, "
                                         r"but received input with shape \(1, 5, 5, 3\)"):
        layer(np.zeros((1, 5, 5, 3)))


def test_unsupported_arguments_say_so():
    with pytest.raises(NotImplementedError, match="channels_last"):
        Conv2D(4, 3, data_format="channels_first")
    with pytest.raises(NotImplementedError, match="groups=2"):
        Conv2D(4, 3, groups=2)
    with pytest.raises(ValueError, match="Expected a strictly positive value. Received "
                                         "filters=2.5"):
        Conv2D(2.5, 3)


def test_linear_activation_by_default():
    assert Conv2D(2, 3).activation is activations.get("linear")
