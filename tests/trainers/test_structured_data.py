"""Inputs and targets as Keras takes them: dicts keyed by input / output names, lists
and tuples, and datasets or generators of such batches for models with several
inputs and outputs; callback hooks get dicts; .h5 files keep loss objects."""

from collections.abc import Mapping

import numpy as np
import pytest

import tinyann as keras
from tinyann import layers


def two_by_two(seed=0):
    keras.utils.set_random_seed(seed)
    a = keras.Input((3,), name="a")
    b = keras.Input((2,), name="b")
    h = layers.Concatenate()([a, b])
    model = keras.Model([a, b], [layers.Dense(1, name="p")(h),
                                 layers.Dense(3, activation="softmax", name="d")(h)])
    model.compile("sgd", loss={"p": "mse", "d": "sparse_categorical_crossentropy"},
                  metrics={"d": ["accuracy"]})
    return model


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    return {"a": rng.normal(size=(16, 3)).astype("float32"),
            "b": rng.normal(size=(16, 2)).astype("float32"),
            "p": rng.normal(size=(16, 1)).astype("float32"),
            "d": rng.integers(0, 3, 16)}


def test_dicts_lists_and_tuples_give_the_same_training(data):
    forms = [({"a": data["a"], "b": data["b"]}, {"p": data["p"], "d": data["d"]}),
             ({"b": data["b"], "a": data["a"]}, [data["p"], data["d"]]),
             ((data["a"], data["b"]), (data["p"], data["d"]))]
    results = []
    for x, y in forms:
        model = two_by_two()
        history = model.fit(x, y, epochs=2, batch_size=8, shuffle=False, verbose=0)
        results.append((history.history["loss"], model.evaluate(x, y, verbose=0),
                        model.predict(x, verbose=0)[0],
                        model.train_on_batch(x, y), model.test_on_batch(x, y),
                        model.predict_on_batch(x)[1]))
    for other in results[1:]:
        for got, want in zip(other, results[0]):
            np.testing.assert_allclose(got, want, rtol=1e-6)


def test_a_dict_missing_an_input_names_it(data):
    with pytest.raises(ValueError, match=r'Missing data for input "b". You passed a data '
                                         r"dictionary with keys \['a'\]"):
        two_by_two().predict({"a": data["a"]}, verbose=0)


def test_generators_of_structured_batches_train_as_the_arrays_do(data):
    def batches():
        yield {"a": data["a"][:8], "b": data["b"][:8]}, (data["p"][:8], data["d"][:8])
        yield (data["a"][8:], data["b"][8:]), {"p": data["p"][8:], "d": data["d"][8:]}

    from_gen = two_by_two()
    gen_logs = from_gen.fit(batches(), epochs=1, verbose=0,
                            validation_data=batches()).history
    from_arrays = two_by_two()
    arr_logs = from_arrays.fit([data["a"], data["b"]], [data["p"], data["d"]], epochs=1,
                               batch_size=8, shuffle=False, verbose=0,
                               validation_data=([data["a"], data["b"]],
                                                [data["p"], data["d"]])).history
    assert sorted(gen_logs) == sorted(arr_logs)
    for key in arr_logs:
        np.testing.assert_allclose(gen_logs[key], arr_logs[key], rtol=1e-5)
    np.testing.assert_allclose(from_gen.evaluate(batches(), verbose=0),
                               from_arrays.evaluate([data["a"], data["b"]],
                                                    [data["p"], data["d"]], verbose=0),
                               rtol=1e-5)
    out = from_gen.predict(((x,) for x, _ in batches()), verbose=0)
    assert [o.shape for o in out] == [(16, 1), (16, 3)]


def test_every_hook_gets_a_dict(data):
    seen = {}

    def recorder(name):
        return lambda self, *args: seen.setdefault(name, args[-1])

    hooks = [h for h in dir(keras.callbacks.Callback) if h.startswith("on_")]
    Recorder = type("Recorder", (keras.callbacks.Callback,), {h: recorder(h) for h in hooks})

    model = two_by_two()
    x, y = [data["a"], data["b"]], [data["p"], data["d"]]
    model.fit(x, y, epochs=1, batch_size=8, verbose=0, validation_data=(x, y),
              callbacks=[Recorder()])
    model.predict(x, batch_size=8, verbose=0, callbacks=[Recorder()])
    assert seen["on_train_begin"] == {} and seen["on_epoch_begin"] == {}
    assert seen["on_train_batch_begin"] == {} and seen["on_test_begin"] == {}
    assert seen["on_predict_begin"] == {} and seen["on_predict_end"] == {}
    # the per-batch logs are a read-only mapping computed when read (tinyann's speed)
    assert all(isinstance(logs, Mapping) for logs in seen.values()), seen
    assert sorted(seen["on_train_batch_end"]) == ["d_accuracy", "d_loss", "loss", "p_loss"]


def test_h5_keeps_loss_and_metric_objects(tmp_path):
    model = keras.Sequential([keras.Input((3,)), layers.Dense(3)])
    model.compile("adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=[keras.metrics.SparseCategoricalAccuracy()])
    model.save(tmp_path / "m.h5")
    loaded = keras.models.load_model(tmp_path / "m.h5")
    assert isinstance(loaded.loss, keras.losses.SparseCategoricalCrossentropy)
    assert loaded.loss.get_config()["from_logits"] is True


class TwoInputs(keras.Model):
    def __init__(self):
        super().__init__()
        self.concat = layers.Concatenate()
        self.out = layers.Dense(1)

    def call(self, inputs):
        return self.out(self.concat([inputs["a"], inputs["b"]]))


@pytest.mark.parametrize("first", ["call", "fit"])
def test_a_subclassed_model_takes_a_dict_of_inputs(data, first):
    model = TwoInputs()
    x = {"b": data["b"], "a": data["a"]}
    if first == "call":
        assert model(x).shape == (16, 1)
    model.compile("sgd", "mse")
    model.fit(x, data["p"], epochs=1, verbose=0)
    concat = np.concatenate([data["a"], data["b"]], axis=1)
    kernel, bias = model.out.get_weights()
    np.testing.assert_allclose(model.predict(x, verbose=0), concat @ kernel + bias, rtol=1e-5,
                               atol=1e-6)
