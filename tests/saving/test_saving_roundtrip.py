"""tinyann -> file -> tinyann: predictions, compile state and training resume exactly."""

from __future__ import annotations

import json

import numpy as np
import pytest

import tinyann as keras
from tinyann import layers, optimizers

SUFFIXES = [".keras", ".h5"]


def _optimizers():
    return {
        "adam": lambda: "adam",
        "adam_amsgrad": lambda: optimizers.Adam(0.01, amsgrad=True),
        "rmsprop_centered_momentum": lambda: optimizers.RMSprop(0.01, momentum=0.5,
                                                                centered=True),
        "sgd_nesterov": lambda: optimizers.SGD(0.05, momentum=0.9, nesterov=True),
        "adagrad": lambda: optimizers.Adagrad(0.05),
        "adamax": lambda: optimizers.Adamax(0.01),
        "adadelta": lambda: optimizers.Adadelta(1.0),
        "adamw_schedule": lambda: optimizers.AdamW(
            optimizers.schedules.ExponentialDecay(0.01, 3, 0.5)),
        "lion": lambda: optimizers.Lion(0.003),
        "ftrl": lambda: optimizers.Ftrl(0.1, l1_regularization_strength=0.01),
        "lamb": lambda: optimizers.Lamb(0.01, weight_decay=0.01),
        "adafactor": lambda: optimizers.Adafactor(0.05),
    }


def _assert_same_weights(a, b):
    assert len(a.weights) == len(b.weights)
    for wa, wb in zip(a.weights, b.weights):
        np.testing.assert_array_equal(wa.numpy(), wb.numpy(), err_msg=wa.path)


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_round_trip_predicts_identically(tmp_path, trained_mlp, suffix):
    model, x, _ = trained_mlp
    model.save(tmp_path / f"m{suffix}")
    loaded = keras.models.load_model(tmp_path / f"m{suffix}")
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    assert [layer.name for layer in loaded.layers] == [layer.name for layer in model.layers]
    assert loaded.name == model.name
    _assert_same_weights(model, loaded)


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_round_trip_restores_the_compile_state(tmp_path, trained_mlp, suffix):
    model, x, y = trained_mlp
    model.save(tmp_path / f"m{suffix}")
    loaded = keras.models.load_model(tmp_path / f"m{suffix}")
    assert loaded.compiled
    assert loaded.optimizer.get_config() == model.optimizer.get_config()
    assert loaded.loss.get_config() == model.loss.get_config()
    assert loaded.optimizer.iterations == model.optimizer.iterations == 3
    for a, b in zip(model.optimizer.variables, loaded.optimizer.variables, strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    # evaluate works at once, with the same metrics
    assert loaded.evaluate(x, y, verbose=0, return_dict=True) == model.evaluate(
        x, y, verbose=0, return_dict=True)


@pytest.mark.parametrize("suffix", [".keras", ".h5", ".weights.h5"])
@pytest.mark.parametrize("name", list(_optimizers()))
def test_save_load_continue_fit_equals_uninterrupted_fit(tmp_path, models, suffix, name):
    make_optimizer = _optimizers()[name]
    x, y = models.mlp_data()
    keras.utils.set_random_seed(7)
    straight = models.mlp(optimizer=make_optimizer())
    straight.fit(x, y, batch_size=16, epochs=3, verbose=0)

    keras.utils.set_random_seed(7)
    first = models.mlp(optimizer=make_optimizer())
    first.fit(x, y, batch_size=16, epochs=1, verbose=0)
    path = tmp_path / f"m{suffix}"
    if suffix == ".weights.h5":
        first.save_weights(path)
        # a fresh compiled model of the same architecture loads weights and optimizer
        # state; building it draws initial weights from the global random stream, which
        # is put back so that the shuffles match the uninterrupted run's
        state = keras.backend.rng().bit_generator.state
        resumed = models.mlp(optimizer=make_optimizer())
        keras.backend.rng().bit_generator.state = state
        resumed.load_weights(path)
    else:
        first.save(path)
        resumed = keras.models.load_model(path)
    resumed.fit(x, y, batch_size=16, epochs=3, initial_epoch=1, verbose=0)

    _assert_same_weights(straight, resumed)
    assert resumed.optimizer.iterations == straight.optimizer.iterations == 9
    for a, b in zip(straight.optimizer.variables, resumed.optimizer.variables, strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_loading_leaves_the_random_stream_alone(tmp_path, trained_mlp):
    model, _, _ = trained_mlp
    model.save(tmp_path / "m.keras")
    before = keras.backend.rng().bit_generator.state
    keras.models.load_model(tmp_path / "m.keras")
    assert keras.backend.rng().bit_generator.state == before


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_functional_model_with_branches_round_trips(tmp_path, models, suffix):
    model = models.functional()
    x, y = models.functional_data()
    model.fit(x, y, batch_size=8, epochs=1, verbose=0)
    model.save(tmp_path / f"f{suffix}")
    loaded = keras.models.load_model(tmp_path / f"f{suffix}")
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    assert [t.shape for t in loaded.inputs] == [(None, 5), (None, 3)]
    assert loaded.evaluate(x, y, verbose=0) == model.evaluate(x, y, verbose=0)


def test_nested_models_and_frozen_layers_round_trip(tmp_path, models):
    inner = keras.Sequential([keras.Input((4,)), layers.Dense(6, activation="relu"),
                              layers.Dense(5)], name="inner")
    inner.layers[0].trainable = False
    inputs = keras.Input((4,))
    outputs = layers.Dense(2, activation="softmax")(inner(inputs))
    model = keras.Model(inputs, outputs, name="outer")
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((16, 4)).astype(np.float32), rng.integers(0, 2, 16)
    model.fit(x, y, batch_size=8, epochs=1, verbose=0)
    for suffix in (".keras", ".h5"):
        model.save(tmp_path / f"n{suffix}")
        loaded = keras.models.load_model(tmp_path / f"n{suffix}")
        np.testing.assert_array_equal(loaded.predict(x, verbose=0),
                                      model.predict(x, verbose=0))
        assert loaded.get_layer("inner").layers[0].trainable is False
        assert loaded.optimizer.iterations == 2


def test_model_saved_before_training_keeps_a_fresh_optimizer(tmp_path, models):
    model = models.mlp()
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    assert loaded.compiled and not loaded.optimizer.built
    assert loaded.optimizer.iterations == 0
    x, y = models.mlp_data()
    loaded.fit(x, y, batch_size=16, epochs=1, verbose=0)
    assert loaded.optimizer.iterations == 3


def test_uncompiled_model_round_trips_uncompiled(tmp_path):
    model = keras.Sequential([layers.Dense(3, input_shape=(2,))])
    model.save(tmp_path / "u.keras")
    model.save(tmp_path / "u.h5")
    with pytest.warns(UserWarning, match="No training configuration found"):
        from_h5 = keras.models.load_model(tmp_path / "u.h5")
    for loaded in (keras.models.load_model(tmp_path / "u.keras"), from_h5):
        assert not loaded.compiled
        np.testing.assert_array_equal(loaded.predict(np.eye(2), verbose=0),
                                      model.predict(np.eye(2), verbose=0))


def test_weights_file_loads_into_a_model_with_other_names(tmp_path, trained_mlp, models):
    model, x, _ = trained_mlp
    model.save_weights(tmp_path / "w.weights.h5")
    other = models.mlp()
    assert [layer.name for layer in other.layers] != [layer.name for layer in model.layers]
    other.load_weights(tmp_path / "w.weights.h5")
    np.testing.assert_array_equal(other.predict(x, verbose=0), model.predict(x, verbose=0))


def test_keras_file_weights_load_with_load_weights(tmp_path, trained_mlp, models):
    model, x, _ = trained_mlp
    model.save(tmp_path / "m.keras")
    other = models.mlp()
    other.load_weights(tmp_path / "m.keras")
    np.testing.assert_array_equal(other.predict(x, verbose=0), model.predict(x, verbose=0))


def test_legacy_h5_load_weights_by_position_and_by_name(tmp_path, trained_mlp, models):
    model, x, _ = trained_mlp
    model.save(tmp_path / "m.h5")
    other = models.mlp()
    other.load_weights(tmp_path / "m.h5")
    np.testing.assert_array_equal(other.predict(x, verbose=0), model.predict(x, verbose=0))
    renamed = keras.models.clone_model(model)  # the same layer names
    renamed.load_weights(tmp_path / "m.h5", by_name=True)
    np.testing.assert_array_equal(renamed.predict(x, verbose=0), model.predict(x, verbose=0))


def test_to_json_and_model_from_json(trained_mlp):
    model, x, y = trained_mlp
    text = model.to_json()
    config = json.loads(text)
    assert config["class_name"] == "Sequential" and config["module"] == "keras"
    rebuilt = keras.models.model_from_json(text)
    assert rebuilt.to_json() == text
    assert rebuilt.compiled  # the JSON carries the compile config, as in Keras
    assert rebuilt.count_params() == model.count_params()


def test_functional_to_json_round_trip(models):
    model = models.functional()
    text = model.to_json()
    rebuilt = keras.models.model_from_json(text)
    assert json.loads(rebuilt.to_json()) == json.loads(text)
    assert json.loads(text)["class_name"] == "Functional"


def test_clone_model_has_the_architecture_and_new_weights(trained_mlp):
    model, x, _ = trained_mlp
    clone = keras.models.clone_model(model)
    assert clone.get_config() == model.get_config()
    assert clone is not model and not clone.compiled
    assert all(not np.array_equal(a.numpy(), b.numpy())
               for a, b in zip(model.trainable_weights, clone.trainable_weights)
               if a.name == "kernel")
    assert clone.predict(x, verbose=0).shape == (len(x), 3)


def test_clone_functional_model_with_inputs_and_clone_function(models):
    model = models.functional()
    a, b = keras.Input((5,), name="new_a"), keras.Input((3,), name="new_b")
    seen = []

    def clone_function(layer):
        seen.append(layer.name)
        return type(layer).from_config(layer.get_config())

    clone = keras.models.clone_model(model, input_tensors=[a, b],
                                     clone_function=clone_function)
    assert clone.inputs == [a, b]
    assert sorted(seen) == sorted(layer.name for layer in model.layers
                                  if not isinstance(layer, layers.InputLayer))
    x, _ = models.functional_data()
    clone.set_weights(model.get_weights())
    np.testing.assert_array_equal(clone.predict(x, verbose=0), model.predict(x, verbose=0))
