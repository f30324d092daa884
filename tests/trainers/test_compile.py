"""compile(): strings, lists and objects; recompiling; how 'accuracy' resolves."""

from __future__ import annotations

import numpy as np
import pytest

import tinyann as keras
from tinyann import layers, losses, metrics, optimizers


def small_model(units=3, activation="softmax", input_dim=4):
    return keras.Sequential([keras.Input((input_dim,)),
                             layers.Dense(units, activation=activation)])


@pytest.mark.parametrize("name, cls", [("sgd", optimizers.SGD), ("adam", optimizers.Adam),
                                       ("rmsprop", optimizers.RMSprop),
                                       ("adagrad", optimizers.Adagrad)])
def test_optimizer_strings(name, cls):
    model = small_model()
    model.compile(optimizer=name, loss="sparse_categorical_crossentropy")
    assert type(model.optimizer) is cls


def test_default_optimizer_is_rmsprop():
    model = small_model()
    model.compile(loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    assert isinstance(model.optimizer, optimizers.RMSprop)
    assert model.optimizer.learning_rate == pytest.approx(0.001)


def test_optimizer_and_loss_objects_are_used_as_given():
    model = small_model()
    opt = optimizers.SGD(learning_rate=0.5)
    loss = losses.SparseCategoricalCrossentropy()
    model.compile(optimizer=opt, loss=loss)
    assert model.optimizer is opt and model.loss is loss


@pytest.mark.parametrize("loss, cls", [
    ("sparse_categorical_crossentropy", losses.SparseCategoricalCrossentropy),
    ("categorical_crossentropy", losses.CategoricalCrossentropy),
    ("binary_crossentropy", losses.BinaryCrossentropy),
    ("mse", losses.MeanSquaredError),
    ("mean_squared_error", losses.MeanSquaredError),
])
def test_loss_strings(loss, cls):
    model = small_model()
    model.compile(optimizer="sgd", loss=loss)
    assert isinstance(model.loss, cls)


def test_loss_function_trains_like_its_string(tiny_data):
    histories = []
    for loss in ("sparse_categorical_crossentropy", losses.sparse_categorical_crossentropy):
        keras.utils.set_random_seed(3)
        model = small_model()
        model.compile(optimizer="sgd", loss=loss)
        histories.append(model.fit(tiny_data.x, tiny_data.y, shuffle=False,
                                   verbose=0).history["loss"])
    assert histories[0] == histories[1]


@pytest.mark.parametrize("metric_arg", ["accuracy", ["accuracy"], ("accuracy",)],
                         ids=["string", "list", "tuple"])
def test_metrics_as_a_string_like_seed_001(metric_arg, tiny_data):
    model = small_model()
    model.compile(loss="sparse_categorical_crossentropy", metrics=metric_arg)
    history = model.fit(tiny_data.x, tiny_data.y, verbose=0)
    assert list(history.history) == ["accuracy", "loss"]


def test_metric_objects_keep_their_names(tiny_data):
    model = small_model()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy",
                  metrics=[metrics.SparseCategoricalAccuracy(),
                           metrics.SparseTopKCategoricalAccuracy(k=2, name="top2")])
    history = model.fit(tiny_data.x, tiny_data.y, verbose=0)
    assert list(history.history) == ["loss", "sparse_categorical_accuracy", "top2"]


def test_keras_only_compile_arguments_are_accepted():
    model = small_model()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", run_eagerly=True,
                  jit_compile=False, steps_per_execution=1)
    assert model.compiled


def test_unknown_compile_argument_is_a_type_error():
    with pytest.raises(TypeError, match="lossess"):
        small_model().compile(optimizer="sgd", lossess="mse")


def test_recompiling_keeps_the_weights(tiny_data):
    model = small_model()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(tiny_data.x, tiny_data.y, epochs=2, verbose=0)
    trained = model.get_weights()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    for got, want in zip(model.get_weights(), trained):
        np.testing.assert_array_equal(got, want)
    # and training continues from them with the new optimizer
    before = model.evaluate(tiny_data.x, tiny_data.y, verbose=0)[0]
    history = model.fit(tiny_data.x, tiny_data.y, batch_size=64, shuffle=False, verbose=0)
    assert history.history["loss"][0] == pytest.approx(before, rel=1e-6)


def test_no_loss_cannot_fit(tiny_data):
    model = small_model()
    model.compile(optimizer="sgd")
    with pytest.raises(ValueError, match="No loss to compute"):
        model.fit(tiny_data.x, tiny_data.y, verbose=0)


# ---------------------------------------------------------------- 'accuracy'
_SHAPES = {
    # accuracy_resolution.json "shapes" -> (output units, y maker)
    "y int (16,), output (16,3)": (3, lambda r: r.integers(0, 3, 16)),
    "y int (16,1), output (16,3)": (3, lambda r: r.integers(0, 3, (16, 1))),
    "y one-hot (16,3), output (16,3)": (3, lambda r: np.eye(3)[r.integers(0, 3, 16)]),
    "y (16,), output (16,1)": (1, lambda r: r.integers(0, 2, 16).astype("float32")),
    "y (16,1), output (16,1)": (1, lambda r: r.integers(0, 2, (16, 1)).astype("float32")),
    "multi-label y (16,3), output (16,3)": (3, lambda r: r.integers(0, 2, (16, 3))
                                            .astype("float32")),
    "y float (16,), output (16,1)": (1, lambda r: r.standard_normal(16)),
    "y float (16,2), output (16,2)": (2, lambda r: r.standard_normal((16, 2))),
}
_ACTIVATION = {"sparse_categorical_crossentropy": "softmax",
               "categorical_crossentropy": "softmax", "binary_crossentropy": "sigmoid",
               "mse": None}


def _resolution_cases():
    import json
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "fixtures" / "keras" / (
        "accuracy_resolution.json")
    cases = json.loads(path.read_text(encoding="utf-8"))["cases"]
    # the one case where Keras fails in fit (binary_accuracy on sparse labels) is left out
    return [c for c in cases if "resolved_class" in c]


@pytest.mark.parametrize("case", _resolution_cases(),
                         ids=lambda c: f"{c['loss']}-{c['shapes']}-{c['metric_string']}")
def test_accuracy_resolves_as_keras(case):
    units, make_y = _SHAPES[case["shapes"]]
    rng = np.random.default_rng(0)
    y, y_val = make_y(rng), make_y(rng)
    model = small_model(units, _ACTIVATION[case["loss"]])
    model.compile(optimizer="sgd", loss=case["loss"], metrics=[case["metric_string"]])
    # Keras's cases with val_ keys were run with validation data
    validation = (rng.standard_normal((16, 4)), y_val)
    history = model.fit(rng.standard_normal((16, 4)), y, verbose=0,
                        validation_data=validation if "val_loss" in case["history_keys"]
                        else None)
    # Keras 3: model.metrics is [loss tracker, CompileMetrics]; the resolved metric
    # objects are the CompileMetrics's own `metrics`
    assert [m.name for m in model.metrics] == case["model.metrics names"]
    resolved = model.metrics[1].metrics
    assert [type(m).__name__ for m in resolved] == case["resolved_class"]
    assert [m.name for m in resolved] == case["resolved_name"]
    assert list(history.history) == case["history_keys"]


def test_accuracy_values_follow_the_resolved_metric():
    model = small_model(3)
    model.compile(optimizer="sgd", loss="categorical_crossentropy", metrics=["acc"])
    model.set_weights([np.eye(4, 3), np.zeros(3)])
    x = np.array([[1.0, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 1, 0, 0]])
    onehot = np.eye(3)[[0, 1, 2, 0]]  # the last one is predicted as class 1: wrong
    assert model.evaluate(x, onehot, verbose=0)[1] == pytest.approx(0.75)


def test_compile_builds_one_compile_state_the_trainer_reads():
    from tinyann.trainers.compile_state import CompileState

    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])
    assert model._compile_state is None and not model.compiled and model.metrics == []
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    state = model._compile_state
    assert isinstance(state, CompileState)
    assert model.loss is state.loss and state.output_spec is None
    assert not state.fused  # decided at the first data
    rng = np.random.default_rng(0)
    model.fit(rng.standard_normal((16, 4)), rng.integers(0, 3, 16), verbose=0)
    assert state.fused  # softmax output + sparse cross-entropy
    assert model.metrics == [state.loss_tracker, state.metrics]
    assert model.compiled_metrics == state.metric_list
    assert [m.name for m in state.metric_list] == ["accuracy"]
    assert state.config == {"loss": "sparse_categorical_crossentropy", "loss_weights": None,
                            "metrics": ["accuracy"]}
    model.compile(optimizer="sgd", loss="mse")
    assert model._compile_state is not state  # compiling again starts afresh
