"""Conv1D and the 1-D pooling layers: gradients, parity with Keras (outputs, input and
weight gradients, configs, training), masks, shapes, errors.

The reference numbers come from real Keras 3 (JAX backend):
tools/keras_reference/make_layers_1d_fixtures.py.
"""

import json

import numpy as np
import pytest

import tinyann as keras
from tinyann import layers as L  # noqa: N812
from tinyann.layers import (
    AveragePooling1D,
    Conv1D,
    GlobalAveragePooling1D,
    GlobalMaxPooling1D,
    MaxPooling1D,
)
from tinyann.utils import conv_utils

from .conftest import assert_trains_as_keras


@pytest.fixture(scope="module")
def ref():
    from tests.conftest import KERAS_FIXTURES
    with np.load(KERAS_FIXTURES / "layers_1d.npz") as data:
        arrays = dict(data)
    facts = json.loads((KERAS_FIXTURES / "layers_1d.json").read_text(encoding="utf-8"))
    return arrays, facts


def _case_names():
    from tests.conftest import KERAS_FIXTURES
    facts = json.loads((KERAS_FIXTURES / "layers_1d.json").read_text(encoding="utf-8"))
    return sorted(facts["cases"])


def _jsonable(value):
    return json.loads(json.dumps(value))


@pytest.mark.parametrize("name", _case_names())
def test_outputs_and_gradients_match_keras(ref, name):
    arrays, facts = ref
    case = facts["cases"][name]
    layer = getattr(L, case["class_name"])(**case["kwargs"])
    layer.build(tuple(case["shape"]))
    layer.set_weights([arrays[f"{name}/w{k}"] for k in range(case["weights"])])
    y = layer(arrays[f"{name}/x"], training=True)
    np.testing.assert_allclose(y, arrays[f"{name}/y"], atol=1e-5, rtol=0)
    dx = layer.backward(arrays[f"{name}/g"].copy())
    np.testing.assert_allclose(dx, arrays[f"{name}/dx"], atol=1e-5, rtol=0)
    for k, w in enumerate(layer.trainable_weights):
        np.testing.assert_allclose(w.grad, arrays[f"{name}/dw{k}"], atol=1e-5, rtol=0,
                                   err_msg=w.path)
    assert layer.compute_output_shape(tuple(case["shape"])) == tuple(case["output_shape"])
    assert [w.path.split("/")[-1] for w in layer.weights] == [
        p.split("/")[-1] for p in case["paths"]]


@pytest.mark.parametrize("name", _case_names())
def test_configs_match_keras(ref, name):
    case = ref[1]["cases"][name]
    layer = getattr(L, case["class_name"])(**case["kwargs"])
    got = _jsonable(layer.get_config())
    want = dict(case["config"])
    got.pop("name"), want.pop("name")
    for key in ("kernel_initializer", "bias_initializer"):
        # (Keras 3.15's initializers list more arguments: not this layer's business)
        if key in want:
            assert got.pop(key)["class_name"] == want.pop(key)["class_name"]
    assert got == want
    rebuilt = type(layer).from_config(layer.get_config())
    assert rebuilt.get_config() == layer.get_config()
    # and Keras's config loads
    assert _jsonable(type(layer).from_config(case["config"]).get_config())[
        "data_format"] == case["config"]["data_format"]


@pytest.mark.parametrize("fmt", ["last", "first"])
def test_masked_global_average_matches_keras(ref, fmt):
    arrays = ref[0]
    layer = GlobalAveragePooling1D(data_format=f"channels_{fmt}")
    key = f"masked_{fmt}"
    y = layer.call(arrays[f"{key}/x"], training=True, mask=arrays[f"{key}/mask"])
    np.testing.assert_allclose(y, arrays[f"{key}/y"], atol=1e-6, rtol=0)
    dx = layer.backward(arrays[f"{key}/g"].copy())
    np.testing.assert_allclose(dx, arrays[f"{key}/dx"], atol=1e-6, rtol=0)
    assert layer.compute_mask(arrays[f"{key}/x"], arrays[f"{key}/mask"]) is None


@pytest.mark.parametrize("name, make", [
    ("ties_gmp", GlobalMaxPooling1D),
    ("ties_maxpool", lambda: MaxPooling1D(3, strides=2, padding="same"))])
def test_tied_maxima_as_keras(ref, name, make):
    """Keras's global max shares the gradient among tied maxima; its max pooling gives
    it to the first of each window."""
    arrays = ref[0]
    layer = make()
    y = layer(arrays[f"{name}/x"], training=True)
    np.testing.assert_array_equal(y, arrays[f"{name}/y"])
    dx = layer.backward(arrays[f"{name}/g"].copy())
    np.testing.assert_allclose(dx, arrays[f"{name}/dx"], atol=1e-6, rtol=0)


def test_fully_masked_rows_give_nan_as_keras():
    x = np.ones((2, 3, 2), "float32")
    mask = np.array([[True, False, False], [False, False, False]])
    y = GlobalAveragePooling1D().call(x, mask=mask)
    np.testing.assert_array_equal(y[0], [1, 1])
    assert np.isnan(y[1]).all()


def _model(name):
    if name == "text":
        return keras.Sequential([keras.Input((12,)), L.Embedding(30, 8, mask_zero=True),
                                 L.GlobalAveragePooling1D(), L.Dense(8, activation="relu"),
                                 L.Dense(1)])
    if name == "conv":
        return keras.Sequential([
            keras.Input((20, 3)),
            L.Conv1D(6, 3, padding="causal", activation="relu"),
            L.MaxPooling1D(2),
            L.Conv1D(4, 3, strides=2, padding="same", activation="tanh"),
            L.AveragePooling1D(2, padding="same"),
            L.Conv1D(5, 2, dilation_rate=2, use_bias=False),
            L.GlobalMaxPooling1D(),
            L.Dense(1)])
    return keras.Sequential([
        keras.Input((16, 2)),
        L.Conv1D(4, 5, padding="same", activation="relu"),
        L.AveragePooling1D(3, strides=2),
        L.Conv1D(3, 3, data_format="channels_first", activation="sigmoid"),
        L.GlobalAveragePooling1D(data_format="channels_first"),
        L.Dense(3, activation="softmax")])


_TRAINING = {
    "text": (lambda: keras.optimizers.Adam(0.01),
             lambda: keras.losses.BinaryCrossentropy(from_logits=True)),
    "conv": (lambda: keras.optimizers.SGD(0.05), lambda: "mse"),
    "conv_gap": (lambda: keras.optimizers.Adam(0.01),
                 lambda: "sparse_categorical_crossentropy"),
}


@pytest.mark.parametrize("name", sorted(_TRAINING))
def test_models_train_as_keras(ref, name):
    """10 steps of batch 16 from Keras's initial weights give its weights (1e-5);
    'text' is the masked Embedding + GlobalAveragePooling1D classifier."""
    arrays, facts = ref
    model = _model(name)
    optimizer, loss = _TRAINING[name]
    model.compile(optimizer=optimizer(), loss=loss())
    sub = {key.split("/", 1)[1]: value for key, value in arrays.items()
           if key.startswith(f"model_{name}/")}
    assert_trains_as_keras(model, sub, facts["models"][name]["count"])


@pytest.mark.parametrize("name", sorted(_TRAINING))
def test_summary_shapes_params_and_paths_match_keras(ref, name, capsys):
    facts = ref[1]["models"][name]
    model = _model(name)
    assert model.count_params() == facts["total_params"]
    rows = [[type(layer).__name__, list(layer.output.shape), layer.count_params()]
            for layer in model.layers]
    assert rows == [row[1:] for row in facts["layers"]]
    # paths as Keras's, up to the auto-numbering of the names
    strip = [p.split("/")[-2].rstrip("_0123456789") + "/" + p.split("/")[-1]
             for p in facts["paths"]]
    assert [v.path.split("/", 1)[1].split("/")[0].rstrip("_0123456789") + "/"
            + v.path.split("/")[-1] for v in model.weights] == strip
    model.summary()
    out = capsys.readouterr().out
    rows = [line for line in out.splitlines() if "│ (None" in line]  # one per layer
    assert len(rows) == len(facts["layers"])
    for row, (_, cls, shape, params) in zip(rows, facts["layers"]):
        assert str(tuple(shape)) in row and row.rstrip(" │").endswith(f" {params:,}")
        assert f"({cls}" in out
    assert f"Total params: {facts['total_params']:,}" in out


def test_conv1d_weight_paths():
    layer = Conv1D(3, 2)
    layer.build((None, 5, 4))
    assert [w.path for w in layer.weights] == [f"{layer.name}/kernel", f"{layer.name}/bias"]
    assert layer.kernel.shape == (2, 4, 3) and layer.bias.shape == (3,)


# ------------------------------------------------------------ numerical gradients
GRAD_CASES = {
    "conv_valid": lambda: Conv1D(3, 3, activation="tanh"),
    "conv_same_s2": lambda: Conv1D(2, 4, strides=2, padding="same"),
    "conv_causal_d2": lambda: Conv1D(2, 3, padding="causal", dilation_rate=2,
                                     activation="sigmoid"),
    "conv_first_nobias": lambda: Conv1D(2, 2, data_format="channels_first", use_bias=False),
    "max": lambda: MaxPooling1D(3, strides=2, padding="same"),
    "max_first": lambda: MaxPooling1D(2, data_format="channels_first"),
    "avg": lambda: AveragePooling1D(3, strides=2, padding="same"),
    "avg_first": lambda: AveragePooling1D(2, strides=1, data_format="channels_first"),
    "gap": lambda: GlobalAveragePooling1D(),
    "gap_first_keep": lambda: GlobalAveragePooling1D("channels_first", keepdims=True),
    "gmp": lambda: GlobalMaxPooling1D(keepdims=True),
    "gmp_first": lambda: GlobalMaxPooling1D("channels_first"),
}


@pytest.mark.parametrize("name", sorted(GRAD_CASES))
def test_numerical_gradients(gradcheck, helpers, name):
    rng = np.random.default_rng(4)
    layer = GRAD_CASES[name]()
    x = helpers.distinct_values(rng, (2, 7, 3))  # no ties: max pooling is smooth here
    helpers.check_layer(gradcheck, layer, x, rng)


class _MaskedGap(GlobalAveragePooling1D):
    """Calls with a fixed mask, for check_layer."""

    def call(self, inputs, training=False, mask=None):
        return super().call(inputs, training, mask=np.array(
            [[1, 1, 0, 1, 0], [0, 1, 1, 1, 1]], bool))


def test_masked_global_average_numerical_gradient(gradcheck, helpers):
    rng = np.random.default_rng(5)
    x = rng.normal(size=(2, 5, 3))
    dx = helpers.check_layer(gradcheck, _MaskedGap(), x, rng)
    assert not dx[0, 2].any() and not dx[1, 0].any()  # masked steps get no gradient


# ------------------------------------------------------------ behaviour
def test_causal_output_never_sees_the_future():
    rng = np.random.default_rng(6)
    layer = Conv1D(2, 3, padding="causal", dilation_rate=2)
    x = rng.normal(size=(1, 10, 2)).astype("float32")
    y = layer(x)
    x2 = x.copy()
    x2[:, 6:] += 1.0
    np.testing.assert_array_equal(layer(x2)[:, :6], y[:, :6])


def test_mask_reaches_global_average_in_a_model():
    """Padding zeros do not change the prediction: the mean skips them."""
    model = keras.Sequential([L.Embedding(10, 4, mask_zero=True), L.GlobalAveragePooling1D(),
                              L.Dense(1)])
    short = np.array([[3, 5, 0, 0, 0]])
    y1 = model.predict(short, verbose=0)
    y2 = model.predict(np.array([[3, 5, 0, 0, 0, 0, 0, 0]]), verbose=0)
    np.testing.assert_allclose(y1, y2, rtol=1e-6)
    emb = model.layers[0].embeddings.value
    dense = model.layers[-1]
    expected = emb[[3, 5]].mean(0) @ dense.kernel.value + dense.bias.value
    np.testing.assert_allclose(y1[0], expected, rtol=1e-5)


def test_classic_text_classifier_trains():
    rng = np.random.default_rng(7)
    model = keras.Sequential([L.Embedding(10000, 16), L.GlobalAveragePooling1D(),
                              L.Dense(16, activation="relu"), L.Dense(1)])
    model.compile(optimizer="adam",
                  loss=keras.losses.BinaryCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    x = rng.integers(1, 10000, (256, 20))
    y = (x[:, 0] < 5000).astype("float32")
    history = model.fit(x, y, epochs=3, batch_size=32, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]


def test_aliases():
    assert L.GlobalAvgPool1D is GlobalAveragePooling1D
    assert L.GlobalMaxPool1D is GlobalMaxPooling1D
    assert L.MaxPool1D is MaxPooling1D and L.AvgPool1D is AveragePooling1D
    assert L.Convolution1D is Conv1D


def test_defaults():
    pool = MaxPooling1D()
    assert pool.pool_size == (2,) and pool.strides == (2,) and pool.padding == "valid"
    assert AveragePooling1D(3).strides == (3,)
    with pytest.raises(TypeError):
        AveragePooling1D()  # pool_size is required, as in Keras
    conv = Conv1D(2, 3)
    assert conv.strides == (1,) and conv.dilation_rate == (1,) and conv.data_format == (
        "channels_last")


ERROR_CASES = {
    "conv_filters_0": lambda: Conv1D(0, 3),
    "conv_strides_dilation": lambda: Conv1D(2, 3, strides=2, dilation_rate=2),
    "pool_bad_format": lambda: AveragePooling1D(2, data_format="channels_middle"),
    "conv_short_input": lambda: Conv1D(2, 5)(np.zeros((1, 3, 2), "float32")),
    "conv_ndim": lambda: Conv1D(2, 3)(np.zeros((4, 3), "float32")),
    "gap_ndim": lambda: GlobalAveragePooling1D()(np.zeros((2, 4, 4, 3), "float32")),
    "maxpool_ndim": lambda: MaxPooling1D()(np.zeros((4, 3), "float32")),
}


@pytest.mark.parametrize("name", sorted(ERROR_CASES))
def test_errors_match_keras(ref, name):
    kind, message = ref[1]["errors"][name]
    with pytest.raises(ValueError) as info:
        ERROR_CASES[name]()
    assert type(info.value).__name__ == kind
    # Keras's input-spec messages also name the input tensor ("with name 'None'")
    tail = message.split(" of layer ")[-1].split("' ", 1)[-1] if "layer '" in message else (
        message)
    assert tail in str(info.value)


def test_padding_errors():
    with pytest.raises(ValueError, match="must be a list/tuple or one of"):
        Conv1D(2, 3, padding="full")
    pool = MaxPooling1D(2, padding="causal")  # as Keras: accepted here, refused when called
    with pytest.raises(ValueError, match="Invalid padding 'causal'"):
        pool(np.zeros((1, 4, 2), "float32"))


def test_channels_mismatch_after_build():
    layer = Conv1D(2, 3)
    layer(np.zeros((1, 5, 4), "float32"))
    with pytest.raises(ValueError, match="expected axis -1 of input shape to have value 4"):
        layer(np.zeros((1, 5, 3), "float32"))


def test_symbolic_shapes():
    inputs = keras.Input((None, 8))
    x = Conv1D(4, 3, padding="causal")(inputs)
    assert x.shape == (None, None, 4)
    assert MaxPooling1D(2)(x).shape == (None, None, 4)
    assert GlobalMaxPooling1D()(x).shape == (None, 4)
    assert conv_utils.output_length(None, 3, "valid", 1) is None


def test_tape_gradients_match_keras(ref):
    """Eager calls on a GradientTape (custom training loops) use the same backward;
    the mask of GlobalAveragePooling1D goes through as ``mask=``."""
    from tinyann import ops
    from tinyann.autodiff import GradientTape

    arrays, facts = ref
    for name in ("conv_causal_dilated", "avgpool_first_same"):
        case = facts["cases"][name]
        layer = getattr(L, case["class_name"])(**case["kwargs"])
        layer.build(tuple(case["shape"]))
        layer.set_weights([arrays[f"{name}/w{k}"] for k in range(case["weights"])])
        x = ops.convert_to_tensor(arrays[f"{name}/x"])
        with GradientTape() as tape:
            tape.watch(x)
            out = layer(x)
        dx = np.asarray(tape.gradient(out, x, output_gradients=arrays[f"{name}/g"]))
        np.testing.assert_allclose(dx, arrays[f"{name}/dx"], atol=1e-5, rtol=0)
    x = ops.convert_to_tensor(arrays["masked_last/x"])
    with GradientTape() as tape:
        tape.watch(x)
        out = GlobalAveragePooling1D()(x, mask=arrays["masked_last/mask"])
    dx = np.asarray(tape.gradient(out, x, output_gradients=arrays["masked_last/g"]))
    np.testing.assert_allclose(dx, arrays["masked_last/dx"], atol=1e-6, rtol=0)


def test_a_shared_conv_trains_as_the_sum_of_two_copies():
    """A Conv1D (and pooling) called on two inputs: its gradient is the sum of the two
    calls', as two separate copies of it get them one each."""
    rng = np.random.default_rng(8)
    a, b = rng.normal(size=(2, 16, 10, 2)).astype("float32")
    y = rng.normal(size=(16, 1)).astype("float32")

    def build(shared):
        inputs = [keras.Input((10, 2)), keras.Input((10, 2))]
        convs = [L.Conv1D(3, 3, padding="causal", activation="tanh")]
        convs = convs * 2 if shared else convs + [L.Conv1D(3, 3, padding="causal",
                                                           activation="tanh")]
        pool = L.MaxPooling1D(2)
        outs = [L.GlobalAveragePooling1D()(pool(c(x))) for c, x in zip(convs, inputs)]
        model = keras.Model(inputs, L.Dense(1)(L.Add()(outs)))
        model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
        return model

    shared, separate = build(True), build(False)
    w = shared.get_weights()
    separate.set_weights(w[:2] + w[:2] + w[2:])
    shared.fit([a, b], y, batch_size=16, verbose=0)
    separate.fit([a, b], y, batch_size=16, verbose=0)
    got, copies = shared.get_weights(), separate.get_weights()
    for k in range(2):
        np.testing.assert_allclose(got[k] - w[k], (copies[k] - w[k]) + (copies[k + 2] - w[k]),
                                   atol=1e-6)
