"""Models whose inputs are strings and integers (the "classify structured data"
tutorial): each input keeps its declared dtype until the layer that takes it, as in
Keras 3; float inputs are still given to the layers in floatx."""

import numpy as np
import pytest

import tinyann as keras
from tinyann import layers
from tinyann.autodiff import GradientTape
from tinyann.runner.shims import data as tfdata

KINDS = np.array(["Cat", "Dog", "Bird"])


def _data(n=240, seed=0):
    """Mixed features and a label that needs all three: the kind, the age bucket
    and the sign of the fee."""
    rng = np.random.default_rng(seed)
    kind = rng.choice(KINDS, (n, 1))
    age = rng.integers(0, 6, (n, 1))
    fee = rng.normal(3.0, 2.0, (n, 1)).astype("float32")
    y = ((kind == "Cat").astype(int) + (age > 2) + (fee > 3.0) >= 2).astype("float32")
    return {"Type": kind, "Age": age, "Fee": fee}, y


def _model(x):
    kind = keras.Input(shape=(1,), name="Type", dtype="string")
    age = keras.Input(shape=(1,), name="Age", dtype="int64")
    fee = keras.Input(shape=(1,), name="Fee")
    lookup = layers.StringLookup(output_mode="one_hot")
    lookup.adapt(x["Type"])
    ages = layers.IntegerLookup(output_mode="one_hot")
    ages.adapt(x["Age"])
    norm = layers.Normalization()
    norm.adapt(x["Fee"])
    features = layers.concatenate([
        lookup(kind), ages(age), layers.CategoryEncoding(num_tokens=6)(age), norm(fee)])
    hidden = layers.Dense(16, activation="relu")(features)
    out = layers.Dense(1, activation="sigmoid")(hidden)
    model = keras.Model({"Type": kind, "Age": age, "Fee": fee}, out)
    model.compile(optimizer=keras.optimizers.Adam(0.02), loss="binary_crossentropy",
                  metrics=["accuracy"])
    return model


def test_inputs_keep_their_declared_dtypes():
    assert keras.Input(shape=(1,), dtype="string").dtype == "string"
    assert keras.Input(shape=(1,), dtype="int64").dtype == "int64"
    assert keras.Input(shape=(1,)).dtype == "float32"


def test_fit_from_a_dict_learns_above_chance():
    keras.utils.set_random_seed(0)
    x, y = _data()
    model = _model(x)
    before = model.evaluate(x, y, verbose=0)[1]
    history = model.fit(x, y, epochs=30, batch_size=32, verbose=0)
    loss, accuracy = model.evaluate(x, y, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert accuracy > max(0.85, before)
    assert accuracy == pytest.approx(np.mean((model.predict(x, verbose=0) > 0.5) == y))


def test_fit_from_the_tf_data_shim_and_validation():
    keras.utils.set_random_seed(0)
    x, y = _data()
    model = _model(x)
    train = tfdata.Dataset.from_tensor_slices((x, y)).shuffle(240, seed=1).batch(32)
    history = model.fit(train, epochs=30, verbose=0, validation_data=train)
    assert history.history["val_accuracy"][-1] > 0.85
    assert model.evaluate(train, verbose=0)[1] > 0.85
    predictions = model.predict(tfdata.Dataset.from_tensor_slices(x).batch(50), verbose=0)
    np.testing.assert_allclose(predictions, model.predict(x, verbose=0), rtol=1e-5, atol=1e-6)


def test_shuffled_fit_with_validation_split_and_object_strings():
    keras.utils.set_random_seed(0)
    x, y = _data()
    x = dict(x, Type=x["Type"].astype(object))  # pandas columns of strings are object
    model = _model(x)
    history = model.fit(x, y, epochs=3, batch_size=16, validation_split=0.25, verbose=0)
    assert len(history.history["val_loss"]) == 3
    assert np.isfinite(history.history["val_loss"]).all()
    history = model.fit(x, y, epochs=1, batch_size=16, validation_data=(x, y), verbose=0)
    assert history.history["val_loss"][0] == pytest.approx(model.evaluate(x, y, verbose=0)[0],
                                                           rel=1e-4)


def test_eager_call_and_predict_agree():
    x, y = _data(n=40)
    model = _model(x)
    eager = np.asarray(model(x))
    assert eager.shape == (40, 1) and eager.dtype == np.float32
    np.testing.assert_allclose(model.predict(x, verbose=0), eager, rtol=1e-6)
    np.testing.assert_allclose(model.predict(x, batch_size=7, verbose=0), eager, rtol=1e-6)
    one = {k: v[:1] for k, v in x.items()}
    np.testing.assert_allclose(model.predict_on_batch(one), eager[:1], rtol=1e-6)


def test_the_layers_receive_strings_and_ints():
    seen = {}

    class Spy(layers.Layer):
        def call(self, inputs):
            seen[self.name] = np.asarray(inputs).dtype
            return inputs

    kind = keras.Input(shape=(1,), name="Type", dtype="string")
    age = keras.Input(shape=(1,), name="Age", dtype="int32")
    ids = layers.StringLookup(vocabulary=["Cat", "Dog"])(Spy(name="spy_kind")(kind))
    model = keras.Model([kind, age], [ids, Spy(name="spy_age")(age)])
    out = model([np.array([["Dog"], ["Cat"]]), np.array([[4], [5]], dtype="int64")])
    assert seen["spy_kind"].kind in "UO" and seen["spy_age"] == np.int32
    np.testing.assert_array_equal(np.asarray(out[0]), [[2], [1]])
    np.testing.assert_array_equal(np.asarray(out[1]), [[4], [5]])


def test_gradient_tape_reaches_the_weights_past_string_inputs():
    x, y = _data(n=20)
    model = _model(x)
    with GradientTape() as tape:
        loss = keras.ops.mean(keras.ops.square(model(x, training=True) - y))
    grads = tape.gradient(loss, model.trainable_weights)
    assert all(g is not None and np.abs(np.asarray(g)).sum() > 0 for g in grads)


def test_a_model_of_int_inputs_only_trains():
    keras.utils.set_random_seed(0)
    age = keras.Input(shape=(1,), dtype="int64")
    out = layers.Dense(1, activation="sigmoid")(layers.CategoryEncoding(6)(age))
    model = keras.Model(age, out)
    model.compile("adam", "binary_crossentropy")
    ages = np.arange(60).reshape(-1, 1) % 6
    y = (ages >= 3).astype("float32")
    with GradientTape() as tape:
        loss = keras.ops.mean(keras.ops.square(model(ages, training=True) - y))
    assert all(g is not None for g in tape.gradient(loss, model.trainable_weights))
    history = model.fit(ages, y, epochs=5, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]


def test_int_outputs_stay_ints_in_predict():
    age = keras.Input(shape=(1,), dtype="int64")
    model = keras.Model(age, layers.Hashing(7)(age))
    ages = np.arange(10).reshape(-1, 1)
    out = model.predict(ages, verbose=0)
    assert out.dtype == np.int64
    np.testing.assert_array_equal(out, np.asarray(layers.Hashing(7)(ages)))
    np.testing.assert_array_equal(model.predict(ages, batch_size=3, verbose=0), out)


def test_float_data_of_whole_numbers_feeds_an_int_input():
    age = keras.Input(shape=(1,), dtype="int64")
    model = keras.Model(age, layers.CategoryEncoding(4, output_mode="one_hot")(age))
    np.testing.assert_array_equal(np.asarray(model(np.array([[1.0], [3.0]]))),
                                  [[0, 1, 0, 0], [0, 0, 0, 1]])
    # cast as Keras casts (truncated)
    np.testing.assert_array_equal(np.asarray(model(np.array([[1.5]]))), [[0, 1, 0, 0]])


@pytest.mark.parametrize("call", ["call", "predict", "fit"])
def test_strings_for_a_float_input_name_the_input(call):
    x, y = _data(n=8)
    model = _model(x)
    bad = dict(x, Fee=x["Type"])
    with pytest.raises(ValueError, match=r"input 'Fee'.* numeric array.*Received: an array "
                                         r"of dtype <U"):
        if call == "call":
            model(bad)
        elif call == "predict":
            model.predict(bad, verbose=0)
        else:
            model.fit(bad, y, verbose=0)


def test_strings_for_an_int_input_say_the_dtype_expected():
    age = keras.Input(shape=(1,), name="Age", dtype="int64")
    model = keras.Model(age, layers.CategoryEncoding(4)(age))
    with pytest.raises(ValueError, match=r"input 'Age'.* dtype int64.*Received: .*<U"):
        model(np.array([["3"]]))


def test_strings_for_a_float_model_still_raise():
    inputs = keras.Input(shape=(2,))
    model = keras.Model(inputs, layers.Dense(1)(inputs))
    with pytest.raises(ValueError, match="numeric array.*Received: an array of dtype <U"):
        model.predict(np.array([["a", "b"]]), verbose=0)


def test_on_batch_methods_take_dicts_of_strings():
    keras.utils.set_random_seed(0)
    x, y = _data(n=32)
    model = _model(x)
    first = model.test_on_batch(x, y)[0]
    for _ in range(20):
        model.train_on_batch(x, y)
    assert model.test_on_batch(x, y)[0] < first


def test_sequential_with_an_int_input():
    seen = []

    class Spy(layers.Layer):
        def call(self, inputs):
            seen.append(np.asarray(inputs).dtype)
            return inputs

    model = keras.Sequential([keras.Input(shape=(1,), dtype="int64"), Spy(),
                              layers.CategoryEncoding(5, output_mode="one_hot"),
                              layers.Dense(1)])
    ids = np.array([[4], [0]], dtype="int32")
    out = np.asarray(model(ids))
    # the second call of the same shape would take the cached float path
    np.testing.assert_array_equal(np.asarray(model(ids)), out)
    np.testing.assert_allclose(model.predict(ids, verbose=0), out, rtol=1e-6)
    # (the first entry: the shape inference of a layer without compute_output_shape)
    assert seen[-3:] == [np.int64] * 3
