"""Keras 3's everyday API outside layers, losses, metrics and ops: keras.utils
(clear_session, registration, (de)serialization, pack/unpack, split_dataset,
get_source_inputs, Config, interactive logging), keras.backend's dtype helpers,
keras.config extras, initializers' other names, OrthogonalRegularizer, InputSpec and
the top-level names. Keras's numbers: tests/fixtures/keras/api_facts.json."""

import json
import logging
from pathlib import Path

import numpy as np
import pytest

import tinyann as keras
from tinyann import backend, initializers, regularizers
from tinyann.saving import registry

FACTS = json.loads((Path(__file__).resolve().parent / "fixtures" / "keras" /
                    "api_facts.json").read_text(encoding="utf-8"))


# ---------------------------------------------------------------- names
def test_top_level_names():
    assert keras.Initializer is initializers.Initializer
    assert keras.Regularizer is regularizers.Regularizer
    assert keras.Loss is keras.losses.Loss
    assert keras.Metric is keras.metrics.Metric
    assert keras.Optimizer is keras.optimizers.Optimizer
    assert keras.Layer is keras.layers.Layer
    assert keras.InputSpec is keras.layers.input_spec.InputSpec
    assert keras.DTypePolicy is keras.dtype_policies.DTypePolicy
    assert keras.mixed_precision.Policy is keras.DTypePolicy
    assert isinstance(keras.Input((3,)), keras.KerasTensor)
    with keras.name_scope("block"):
        v = keras.Variable(np.zeros(2), name="w")
    assert v.path == "block/w"
    for name in ("constraints", "dtype_policies", "mixed_precision"):
        assert name in keras.__all__


def test_utils_expose_the_saving_registry_objects():
    for name in ("register_keras_serializable", "get_custom_objects", "custom_object_scope",
                 "CustomObjectScope", "get_registered_name", "get_registered_object",
                 "serialize_keras_object", "deserialize_keras_object"):
        assert getattr(keras.utils, name) is getattr(keras.saving, name), name
    assert keras.utils.clear_session is keras.backend.clear_session
    assert keras.utils.is_keras_tensor is keras.backend.is_keras_tensor
    assert keras.utils.standardize_dtype is keras.backend.standardize_dtype


def test_registration_through_utils():
    try:
        @keras.utils.register_keras_serializable(package="pkg")
        def double(x):
            return x * 2

        assert keras.utils.get_registered_name(double) == "pkg>double"
        assert keras.utils.get_registered_object("pkg>double") is double
        assert keras.utils.get_custom_objects()["pkg>double"] is double
        with keras.utils.custom_object_scope({"triple": len}):
            assert keras.utils.get_registered_object("triple") is len
        assert keras.utils.get_registered_object("triple") is None
        entry = keras.utils.serialize_keras_object(double)
        assert entry == {"module": "builtins", "class_name": "function",
                         "config": "pkg>double", "registered_name": "function"}
        assert keras.utils.deserialize_keras_object(entry) is double
    finally:
        registry.clear_custom_objects()


# ---------------------------------------------------------------- clear_session
def test_clear_session_resets_auto_names():
    for clear in (keras.utils.clear_session, keras.backend.clear_session):
        keras.layers.Dense(2)
        keras.layers.Dense(2)
        clear()
        assert keras.layers.Dense(2).name == "dense"
        assert keras.layers.Dense(2).name == "dense_1"
    keras.utils.clear_session(free_memory=False)
    assert keras.backend.get_uid("dense") == 1
    assert keras.backend.get_uid("dense") == 2
    assert keras.layers.Dense(1).name == "dense_2"  # the counter auto names share
    keras.utils.clear_session()


# ---------------------------------------------------------------- (de)serialization
def _round_trip(obj):
    entry = keras.utils.serialize_keras_object(obj)
    json.dumps(entry)
    return entry, keras.utils.deserialize_keras_object(entry)


@pytest.mark.parametrize("make", [
    lambda: keras.losses.MeanSquaredError(),
    lambda: keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    lambda: keras.metrics.SparseCategoricalAccuracy(),
    lambda: keras.optimizers.Adam(learning_rate=0.01),
    lambda: keras.optimizers.SGD(learning_rate=keras.optimizers.schedules.ExponentialDecay(
        0.1, 10, 0.9)),
    lambda: keras.initializers.HeNormal(seed=1),
    lambda: keras.initializers.Identity(gain=2.0),
    lambda: keras.regularizers.L2(0.1),
    lambda: keras.regularizers.OrthogonalRegularizer(0.1, mode="columns"),
    lambda: keras.constraints.MaxNorm(3),
    lambda: keras.optimizers.schedules.CosineDecayRestarts(0.1, 10),
    lambda: keras.DTypePolicy("float64"),
], ids=lambda make: type(make()).__name__)
def test_serialize_round_trip_of_each_family(make):
    obj = make()
    entry, back = _round_trip(obj)
    assert entry["class_name"] == type(obj).__name__
    assert type(back) is type(obj)
    assert back.get_config() == obj.get_config()


def test_serialize_entries_match_keras():
    expected = FACTS["serialize"]
    s = keras.utils.serialize_keras_object
    assert s(keras.activations.relu) == expected["relu"]
    assert s(keras.losses.mean_squared_error) == expected["mse_function"]
    assert s(keras.constraints.MaxNorm(3)) == expected["max_norm"]
    assert s(keras.optimizers.schedules.ExponentialDecay(0.1, 10, 0.9)) == expected[
        "exponential_decay"]
    assert s(keras.regularizers.L2(0.1)) == expected["l2"]
    assert s(np.array([1, 2], dtype="int64")) == expected["array"]
    for value in (None, 3, 2.5, "relu", True):
        assert s(value) == value
    assert s([1, (2, 3), {"a": np.float32(1.5)}]) == [1, (2, 3), {"a": 1.5}]


def test_deserialize_functions_layers_and_plain_values():
    d = keras.utils.deserialize_keras_object
    assert d(FACTS["serialize"]["relu"]) is keras.activations.relu
    assert d(FACTS["serialize"]["mse_function"]) is keras.losses.mean_squared_error
    np.testing.assert_array_equal(d(FACTS["serialize"]["array"]), [1, 2])
    layer = d({"module": "keras.layers", "class_name": "Dense", "config": {"units": 3},
               "registered_name": None})
    assert isinstance(layer, keras.layers.Dense) and layer.units == 3
    # tinyann's earlier entries of layers had no module: still layers
    dense = keras.layers.Dense(4, activation="relu")
    again = d(keras.utils.serialize_keras_object(dense))
    assert isinstance(again, keras.layers.Dense) and again.units == 4
    assert d("relu") == "relu" and d(None) is None and d([1, 2]) == [1, 2]
    assert d("max_norm", module_objects={"max_norm": keras.constraints.MaxNorm}) is (
        keras.constraints.MaxNorm)
    with pytest.raises(keras.saving.UnknownObjectError, match="Could not locate"):
        d({"module": "keras.layers", "class_name": "NoSuchLayer", "config": {}})
    with pytest.raises(keras.saving.UnknownObjectError):
        d({"module": "builtins", "class_name": "function", "config": "no_such_fn"})
    # no code is run from an entry
    with pytest.raises(keras.saving.UnsafeObjectError):
        d({"module": None, "class_name": "__lambda__", "config": {"code": "x"}})


def test_deserialize_custom_objects_first():
    class MyNorm(keras.constraints.Constraint):
        def __init__(self, scale=1.0):
            self.scale = scale

        def get_config(self):
            return {"scale": self.scale}

    entry = keras.utils.serialize_keras_object(MyNorm(2.0))
    assert entry == {"module": None, "class_name": "MyNorm", "config": {"scale": 2.0},
                     "registered_name": "MyNorm"} or entry["class_name"] == "MyNorm"
    back = keras.utils.deserialize_keras_object(entry, custom_objects={"MyNorm": MyNorm})
    assert isinstance(back, MyNorm) and back.scale == 2.0


# ---------------------------------------------------------------- data helpers
def test_pack_and_unpack():
    x, y, w = np.ones(3), np.zeros(3), np.full(3, 0.5)
    pack, unpack = keras.utils.pack_x_y_sample_weight, keras.utils.unpack_x_y_sample_weight
    assert pack(x) is x
    assert pack((x,)) == ((x,),)
    assert pack(x, y) == (x, y) and pack(x, y, w) == (x, y, w)
    assert unpack(x) == (x, None, None)
    assert unpack((x,)) == (x, None, None)
    assert unpack([x, y]) == (x, y, None)
    assert unpack((x, y, w)) == (x, y, w)
    with pytest.raises(ValueError, match="Data is expected to be in format"):
        unpack((x, y, w, w))


def test_custom_train_step_guide_pattern():
    """keras.io's 'customizing what happens in fit' unpacks its data with the helper."""
    data = keras.utils.pack_x_y_sample_weight(np.ones((2, 3)), np.zeros((2, 1)))
    x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
    assert x.shape == (2, 3) and y.shape == (2, 1) and sample_weight is None


def test_split_dataset_arrays_as_keras():
    facts = FACTS["split_dataset"]
    left, right = keras.utils.split_dataset(np.arange(20), left_size=0.7, shuffle=True,
                                            seed=42)
    assert [int(v) for v in left] == facts["left"]
    assert [int(v) for v in right] == facts["right"]
    left, right = keras.utils.split_dataset((np.arange(10), np.arange(10) * 2),
                                            right_size=3)
    assert [tuple(int(t) for t in v) for v in left] == [(i, 2 * i) for i in range(7)]
    assert [tuple(int(t) for t in v) for v in right] == [(i, 2 * i) for i in range(7, 10)]
    assert len(left) == 7 and left.cardinality() == 7
    batches = list(left.batch(3))
    assert [b[0].shape for b in batches] == [(3,), (3,), (1,)]


def test_split_dataset_then_fit():
    keras.utils.set_random_seed(1)
    x = np.random.default_rng(0).normal(size=(50, 4)).astype("float32")
    y = (x.sum(axis=1) > 0).astype("int64")
    train, val = keras.utils.split_dataset((x, y), left_size=0.8, shuffle=True, seed=3)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(train.shuffle(40).batch(8), validation_data=val.batch(8), epochs=2,
                        verbose=0)
    assert len(history.history["val_loss"]) == 2


def test_split_dataset_of_a_batched_dataset_keeps_the_batch_size():
    ds = keras.utils.timeseries_dataset_from_array(np.arange(40, dtype="float32"), None,
                                                   sequence_length=4, batch_size=5)
    total = sum(len(b) for b in ds)
    left, right = keras.utils.split_dataset(ds, left_size=0.75)
    left_rows = [row for batch in left for row in batch]
    right_rows = [row for batch in right for row in batch]
    assert len(left_rows) + len(right_rows) == total
    assert max(len(b) for b in left) == 5
    np.testing.assert_array_equal(left_rows[0], [0, 1, 2, 3])


def test_split_dataset_errors():
    split = keras.utils.split_dataset
    with pytest.raises(ValueError, match="At least one of"):
        split(np.arange(10))
    with pytest.raises(ValueError, match="left_size"):
        split(np.arange(10), left_size=1.5)
    with pytest.raises(ValueError, match="left_size"):
        split(np.arange(10), left_size=10)
    with pytest.raises(TypeError):
        split(np.arange(10), left_size="half")
    with pytest.raises(ValueError, match="greater than 1"):
        split(np.arange(10), left_size=0.6, right_size=0.6)
    with pytest.raises(ValueError, match="different"):
        split([np.arange(10), np.arange(9)], left_size=0.5)
    with pytest.raises(ValueError, match="empty"):
        split(np.arange(1), left_size=0.3)


def test_get_source_inputs_and_is_keras_tensor():
    a, b = keras.Input((3,)), keras.Input((3,))
    h = keras.layers.Dense(3)(a)
    out = keras.layers.Add()([h, keras.layers.Dense(3)(b)])
    out = keras.layers.Add()([out, h])
    assert keras.utils.get_source_inputs(out) == [a, b]
    assert keras.utils.get_source_inputs(a) == [a]
    assert keras.utils.is_keras_tensor(out) and keras.backend.is_keras_tensor(a)
    assert not keras.utils.is_keras_tensor(np.ones(3))
    assert keras.utils.get_source_inputs("x") == "x"


# ---------------------------------------------------------------- dtypes
def test_standardize_dtype_and_kinds():
    sd = keras.utils.standardize_dtype
    assert sd(None) == "float32" and sd(np.float32) == "float32"
    assert sd(np.dtype("int64")) == "int64" and sd(float) == "float32" and sd(int) == "int64"
    assert sd(bool) == "bool" and sd("int") == "int64" and sd("bfloat16") == "bfloat16"
    with pytest.raises(ValueError, match="Invalid dtype"):
        sd("float")
    assert keras.backend.is_float_dtype("bfloat16") and not keras.backend.is_float_dtype(int)
    assert keras.backend.is_int_dtype("uint8") and not keras.backend.is_int_dtype("float16")


def test_result_type_matches_keras_table():
    weak = {"int": int, "float": float}
    for key, expected in FACTS["result_type"].items():
        a, b = key.split(",")
        assert backend.result_type(a, weak.get(b, b)) == expected, key
    assert backend.result_type() == "float32"
    assert backend.result_type(int, float) == "float32"
    with pytest.raises(ValueError, match="float8"):
        backend.result_type("float8_e4m3fn", "float32")


# ---------------------------------------------------------------- config / backend
def test_image_data_format():
    keras.config.set_image_data_format("channels_last")
    keras.backend.set_image_data_format("CHANNELS_LAST")
    assert keras.config.image_data_format() == "channels_last"
    with pytest.raises(NotImplementedError, match="channels_last"):
        keras.config.set_image_data_format("channels_first")
    with pytest.raises(ValueError, match="data_format"):
        keras.config.set_image_data_format("nchw")
    assert keras.config.image_data_format() == "channels_last"


def test_traceback_filtering_flag():
    assert keras.config.is_traceback_filtering_enabled()
    keras.config.disable_traceback_filtering()
    assert not keras.config.is_traceback_filtering_enabled()
    keras.config.enable_traceback_filtering()
    assert keras.config.is_traceback_filtering_enabled()


def test_interactive_logging_sends_progress_to_logging(capsys, caplog):
    assert keras.utils.is_interactive_logging_enabled is keras.config.is_interactive_logging_enabled
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    keras.utils.disable_interactive_logging()
    try:
        assert not keras.config.is_interactive_logging_enabled()
        with caplog.at_level(logging.INFO, logger="tinyann"):
            model.fit(np.ones((4, 2), "float32"), np.ones((4, 1), "float32"), epochs=1,
                      verbose=1)
            model.summary()
        assert capsys.readouterr().out == ""
        text = "\n".join(r.getMessage() for r in caplog.records)
        assert "loss:" in text and "Total params" in text
    finally:
        keras.utils.enable_interactive_logging()
    assert keras.config.is_interactive_logging_enabled()


def test_config_object():
    config = keras.utils.Config(learning_rate=0.1, momentum=0.9)
    config.batch_size = 32
    config["epochs"] = 3
    assert config.learning_rate == 0.1 and config["batch_size"] == 32
    assert list(config) == ["batch_size", "epochs", "learning_rate", "momentum"]
    assert len(config) == 4 and "epochs" in config
    assert json.loads(config.to_json())["momentum"] == 0.9
    with pytest.raises(AttributeError, match="Did you mean 'momentum'"):
        config.momentun  # noqa: B018
    config.freeze()
    assert config.frozen
    with pytest.raises(ValueError, match="frozen"):
        config.epochs = 4
    with pytest.raises(ValueError, match="frozen"):
        del config["epochs"]
    config.unfreeze()
    config.update(epochs=5)
    assert config.as_dict()["epochs"] == 5 and config.pop("epochs") == 5


# ---------------------------------------------------------------- initializers
def test_initializer_other_names_are_the_classes():
    i = keras.initializers
    pairs = [(i.constant, i.Constant), (i.random_normal, i.RandomNormal),
             (i.random_uniform, i.RandomUniform), (i.truncated_normal, i.TruncatedNormal),
             (i.variance_scaling, i.VarianceScaling), (i.lecun_normal, i.LecunNormal),
             (i.lecun_uniform, i.LecunUniform), (i.identity, i.Identity),
             (i.IdentityInitializer, i.Identity), (i.OrthogonalInitializer, i.Orthogonal)]
    for alias, cls in pairs:
        assert alias is cls
    assert type(i.get("identity")) is i.Identity
    assert type(i.get("random_normal")) is i.RandomNormal
    layer = keras.layers.Dense(3, kernel_initializer=i.random_normal(stddev=0.1, seed=2))
    layer.build((None, 4))
    assert abs(float(layer.kernel.numpy().std()) - 0.1) < 0.06


def test_identity_initializer():
    init = keras.initializers.Identity(gain=2.0)
    np.testing.assert_array_equal(init((2, 3)), [[2, 0, 0], [0, 2, 0]])
    assert init((3, 3)).dtype == np.float32
    with pytest.raises(ValueError, match="2D"):
        init((2, 3, 4))
    layer = keras.layers.Dense(3, kernel_initializer="identity")
    layer.build((None, 3))
    np.testing.assert_array_equal(layer.kernel.numpy(), np.eye(3))


# ---------------------------------------------------------------- OrthogonalRegularizer
@pytest.mark.parametrize("mode", ["rows", "columns"])
def test_orthogonal_regularizer_matches_keras(mode):
    facts = FACTS["orthogonal_regularizer"]
    w = np.array(facts["w"], dtype="float32")
    reg = keras.regularizers.OrthogonalRegularizer(0.1, mode=mode)
    assert reg.get_config() == facts[mode]["config"]
    assert reg(w) == pytest.approx(facts[mode]["penalty"], rel=1e-5)
    np.testing.assert_allclose(reg.gradient(w), facts[mode]["gradient"], rtol=1e-4, atol=1e-7)


def test_orthogonal_regularizer_gradient_is_the_derivative():
    w = np.random.default_rng(1).normal(size=(5, 3))
    for mode in ("rows", "columns"):
        reg = regularizers.orthogonal_regularizer(0.3, mode=mode)
        eps, numeric = 1e-6, np.zeros_like(w)
        for index in np.ndindex(w.shape):
            up, down = w.copy(), w.copy()
            up[index] += eps
            down[index] -= eps
            numeric[index] = (reg(up) - reg(down)) / (2 * eps)
        np.testing.assert_allclose(reg.gradient(w), numeric, atol=1e-8)


def test_orthogonal_regularizer_names_errors_and_training():
    assert type(regularizers.get("orthogonal_regularizer")) is regularizers.OrthogonalRegularizer
    assert regularizers.get("OrthogonalRegularizer").get_config() == {
        "factor": 0.009999999776482582, "mode": "rows"}
    with pytest.raises(ValueError, match="factor"):
        regularizers.OrthogonalRegularizer(-1)
    with pytest.raises(ValueError, match="mode"):
        regularizers.OrthogonalRegularizer(mode="diagonal")
    with pytest.raises(ValueError, match="rank 2"):
        regularizers.OrthogonalRegularizer()(np.ones((2, 2, 2)))
    assert regularizers.OrthogonalRegularizer()(np.zeros((3, 3))) == 0.0
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(
        4, kernel_regularizer=regularizers.OrthogonalRegularizer(1.0, mode="columns"))])
    model.compile(keras.optimizers.SGD(0.5), "mse")
    kernel = model.layers[0].kernel
    before = model.layers[0].kernel_regularizer(kernel.numpy())
    model.fit(np.zeros((8, 4), "float32"), np.zeros((8, 4), "float32"), epochs=20,
              verbose=0)
    assert model.layers[0].kernel_regularizer(kernel.numpy()) < before / 2


# ---------------------------------------------------------------- InputSpec
class _Images(keras.layers.Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.input_spec = keras.InputSpec(ndim=4, axes={-1: 3})

    def call(self, x):
        return x


def test_input_spec_checks_calls():
    layer = _Images(name="images")
    assert layer(np.zeros((1, 2, 2, 3), "float32")).shape == (1, 2, 2, 3)
    with pytest.raises(ValueError, match="expected ndim=4, found ndim=3"):
        layer(np.zeros((2, 2, 3), "float32"))
    with pytest.raises(ValueError, match="expected axis -1 of input shape to have value 3"):
        layer(keras.Input((5, 5, 1)))
    assert keras.layers.Dense(2).input_spec is None
    spec = keras.InputSpec(shape=(None, 28, 28, 1), allow_last_axis_squeeze=True,
                           dtype="float32")
    assert spec.ndim == 4 and spec.get_config()["shape"] == (None, 28, 28, 1)
    assert repr(spec) == "InputSpec(dtype=float32, shape=(None, 28, 28, 1), ndim=4)"
    keras.layers.input_spec.assert_input_compatibility(spec, np.zeros((2, 28, 28)), "l")
    with pytest.raises(ValueError, match="expected shape"):
        keras.layers.input_spec.assert_input_compatibility(spec, np.zeros((2, 28, 27)), "l")
    with pytest.raises(ValueError, match="maximum allowed value"):
        keras.InputSpec(ndim=2, axes={3: 1})
