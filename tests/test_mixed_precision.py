"""keras.mixed_precision / keras.dtype_policies / keras.config.set_dtype_policy.

A mixed policy is accepted with a warning and computed in float32 (the weights are
float32 in Keras too); float policies set the layers' dtype, as floatx does."""

import numpy as np
import pytest

import tinyann as keras
from tinyann import dtype_policies

mp = keras.mixed_precision


@pytest.fixture(autouse=True)
def _reset_policy():
    yield
    keras.backend._DTYPE_POLICY = None


def test_names_are_keras_s():
    assert mp.set_global_policy is keras.config.set_dtype_policy
    assert mp.global_policy is keras.config.dtype_policy
    assert mp.Policy is mp.DTypePolicy is keras.DTypePolicy
    assert issubclass(keras.FloatDTypePolicy, keras.DTypePolicy)


def test_default_policy_follows_floatx():
    policy = mp.global_policy()
    assert repr(policy) == '<DTypePolicy "float32">'
    assert (policy.name, policy.compute_dtype, policy.variable_dtype) == (
        "float32", "float32", "float32")
    assert policy.quantization_mode is None
    keras.config.set_floatx("float64")
    try:
        assert mp.global_policy().name == "float64"
    finally:
        keras.config.set_floatx("float32")


def test_mixed_policy_is_accepted_and_computed_in_float32():
    with pytest.warns(UserWarning, match="computes it in float32"):
        mp.set_global_policy("mixed_float16")
    policy = mp.global_policy()
    assert policy.name == "mixed_float16"
    assert policy.variable_dtype == "float32"
    assert policy.compute_dtype == "float32"  # what tinyann computes in (Keras: float16)
    # the mixed precision guide's model
    inputs = keras.Input(shape=(16,))
    dense = keras.layers.Dense(32, activation="relu")
    x = dense(inputs)
    assert dense.dtype_policy.name == "mixed_float16"
    assert dense.dtype == dense.variable_dtype == dense.compute_dtype == "float32"
    x = keras.layers.Dense(4)(x)
    outputs = keras.layers.Activation("softmax", dtype="float32")(x)
    model = keras.Model(inputs, outputs)
    assert model.layers[-1].dtype_policy.name == "float32"
    model.compile("adam", "sparse_categorical_crossentropy")
    x = np.random.default_rng(0).normal(size=(32, 16)).astype("float32")
    y = np.arange(32) % 4
    model.fit(x, y, epochs=1, verbose=0)
    assert model.predict(x, verbose=0).dtype == np.float32
    assert all(w.dtype == "float32" for w in model.weights)


def test_mixed_bfloat16_too_and_layer_argument():
    with pytest.warns(UserWarning, match="computes it in float32"):
        layer = keras.layers.Dense(2, dtype="mixed_bfloat16")
    with pytest.warns(UserWarning, match="computes it in float32"):
        other = keras.layers.Dense(2, dtype=keras.DTypePolicy("mixed_bfloat16"))
    assert layer.dtype == other.dtype == "float32"
    assert layer.dtype_policy.name == other.dtype_policy.name == "mixed_bfloat16"
    assert mp.global_policy().name == "float32"


def test_float_policies_set_the_layers_dtype():
    keras.config.set_dtype_policy("float64")
    layer = keras.layers.Dense(2)
    layer.build((None, 3))
    assert layer.dtype == "float64" and layer.kernel.dtype == "float64"
    assert keras.layers.Dense(2, dtype="float32").dtype == "float32"
    assert keras.layers.Dense(2, dtype=np.float16).dtype == "float16"
    keras.utils.clear_session()  # resets the global policy, as in Keras
    assert mp.global_policy().name == "float32"
    assert keras.layers.Dense(2).dtype == "float32"


def test_policy_errors():
    with pytest.raises(ValueError, match="Cannot convert 'foo'"):
        mp.set_global_policy("foo")
    with pytest.raises(ValueError, match="Invalid `policy` argument"):
        mp.set_global_policy(None)
    with pytest.raises(TypeError, match="must be a string"):
        keras.DTypePolicy(3)
    with pytest.raises(NotImplementedError, match="bfloat16"):
        keras.DTypePolicy("bfloat16")
    with pytest.raises(ValueError):
        keras.layers.Dense(2, dtype="mixed_float64")


def test_serialization():
    policy = keras.DTypePolicy("mixed_float16")
    entry = dtype_policies.serialize(policy)
    assert entry == {"module": "keras", "class_name": "DTypePolicy",
                     "config": {"name": "mixed_float16"}, "registered_name": None}
    assert keras.utils.serialize_keras_object(policy) == entry
    assert dtype_policies.deserialize(entry) == policy
    assert keras.utils.deserialize_keras_object(entry) == policy
    assert dtype_policies.get("float16").compute_dtype == "float16"
    assert dtype_policies.get(None) == keras.DTypePolicy("float32")
    assert keras.DTypePolicy.from_config(policy.get_config()) == policy
