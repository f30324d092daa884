"""Models with several outputs, and ``metrics_names`` / ``model.metrics`` in Keras 3's form.

Reference values from real Keras 3.15.1 (``multi_output_facts.json``, written by
``tools/keras_reference/make_multi_output_facts.py``): the same two-output model,
weights, data and SGD steps give the same names, orders and numbers (to 1e-5).
"""

from __future__ import annotations

import contextlib
import io
import re

import numpy as np
import pytest

import tinyann as keras
from tinyann import layers

LAYER_NAMES = ("hidden", "out_a", "out_b")


@pytest.fixture
def facts(keras_fact):
    return keras_fact("multi_output_facts.json")


@pytest.fixture
def data(facts):
    d = facts["data"]
    weights = [np.array(w["values"], dtype="float32").reshape(w["shape"]) for w in d["weights"]]
    return {"x": np.array(d["x"], dtype="float32"), "y_a": np.array(d["y_a"]),
            "y_b": np.array(d["y_b"], dtype="float32")[:, None],
            "sw": np.array(d["sample_weight"], dtype="float32"), "weights": weights}


def two_output_model(data, dict_outputs=False, l2=None):
    """x (4,) -> Dense(6, relu) -> [Dense(3, softmax) 'out_a', Dense(1) 'out_b']."""
    inp = keras.Input((4,), name="x")
    reg = keras.regularizers.L2(l2) if l2 else None
    h = layers.Dense(6, activation="relu", name="hidden", kernel_regularizer=reg)(inp)
    a = layers.Dense(3, activation="softmax", name="out_a")(h)
    b = layers.Dense(1, name="out_b")(h)
    model = keras.Model(inp, {"b_key": b, "a_key": a} if dict_outputs else [a, b])
    # layer by layer: Keras orders a dict of outputs' weights by sorted key
    for k, name in enumerate(LAYER_NAMES):
        model.get_layer(name).set_weights(data["weights"][2 * k:2 * k + 2])
    return model


def targets(data, kind):
    if kind == "one_hot":
        return [np.eye(3, dtype="float32")[data["y_a"]], data["y_b"]]
    if kind == "dict":
        return {"out_a": data["y_a"], "out_b": data["y_b"]}
    if kind == "dict_keys":
        return {"a_key": data["y_a"], "b_key": data["y_b"]}
    return [data["y_a"], data["y_b"]]


def rows(y, selection):
    if isinstance(y, dict):
        return {k: v[selection] for k, v in y.items()}
    return [v[selection] for v in y]


def assert_values(got, want, what):
    """Same keys in the same order (dicts), same length (lists), values within 1e-5."""
    if isinstance(want, dict):
        assert list(got) == list(want), what
        got, want = list(got.values()), list(want.values())
    got = got if isinstance(got, list) else [got]
    want = want if isinstance(want, list) else [want]
    assert len(got) == len(want), what
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-5, err_msg=what)


def case_ids():
    import json
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "fixtures" / "keras" / (
        "multi_output_facts.json")
    return list(json.loads(path.read_text(encoding="utf-8"))["cases"])


# ---------------------------------------------------------------- Keras's facts
@pytest.mark.parametrize("name", case_ids())
def test_two_output_training_as_keras(name, facts, data):
    case = facts["cases"][name]
    model = two_output_model(data, case["dict_outputs"], case["l2"])
    assert model.metrics_names == case["metrics_names_before_compile"]
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.1), **case["compile"])
    assert model.metrics_names == case["metrics_names_after_compile"]
    x, y = data["x"], targets(data, case["y"])
    sw = data["sw"] if case["sample_weight"] else None

    initial = model.evaluate(x, y, sample_weight=sw, batch_size=8, verbose=0,
                             return_dict=True)
    assert_values(initial, case["evaluate_initial"], "evaluate before fit")
    assert model.metrics_names == case["metrics_names_after_evaluate"]

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        history = model.fit(x, y, sample_weight=sw, batch_size=8, epochs=2, shuffle=False,
                            validation_data=(x, y) if sw is None else (x, y, data["sw"]),
                            verbose=2)
    assert list(history.history) == case["history_keys"]
    for key, values in case["history"].items():
        assert_values(history.history[key], values, f"history {key}")
    last_line = [line for line in out.getvalue().splitlines() if "/step" in line][-1]
    assert re.findall(r" - ([A-Za-z_0-9]+): ", last_line) == case["epoch_line_names"]

    assert model.metrics_names == case["metrics_names_after_fit"]
    assert [type(m).__name__ for m in model.metrics] == case["metrics_classes"]
    # after fit the metrics hold the last validation pass, as Keras's
    assert_values(model.metrics[1].result(), case["metrics_1_result"], "metrics[1]")
    assert_values(model.get_metrics_result(), case["get_metrics_result"], "get_metrics_result")
    assert_values(model.evaluate(x, y, sample_weight=sw, batch_size=8, verbose=0),
                  case["evaluate_list"], "evaluate list")
    assert_values(model.evaluate(x, y, sample_weight=sw, batch_size=8, verbose=0,
                                 return_dict=True), case["evaluate_dict"], "evaluate dict")
    assert_values(model.train_on_batch(x[:8], rows(y, slice(None, 8)),
                                       sample_weight=None if sw is None else sw[:8]),
                  case["train_on_batch"], "train_on_batch")
    assert_values(model.test_on_batch(x[8:], rows(y, slice(8, None)), return_dict=True),
                  case["test_on_batch_dict"], "test_on_batch")

    pred = model.predict(x, verbose=0)
    assert type(pred).__name__ == case["predict_type"]
    if case["predict_keys"] is not None:
        assert list(pred) == case["predict_keys"]
        pred = list(pred.values())
    assert [list(p.shape) for p in pred] == case["predict_shapes"]
    final = [w for n in LAYER_NAMES for w in model.get_layer(n).get_weights()]
    for got, want in zip(final, case["final_weights"]):
        np.testing.assert_allclose(got.ravel(), want, rtol=0, atol=1e-5)


@pytest.mark.parametrize("label", ["none", "empty", "accuracy_topk", "duplicate"])
def test_single_output_metrics_as_keras(label, facts, data):
    case = facts["single"][label]
    inp = keras.Input((4,))
    model = keras.Model(inp, layers.Dense(3, activation="softmax", name="d")(inp))
    model.set_weights([data["weights"][2][:4], data["weights"][3]])
    kwargs = {} if case["metrics"] is None else {"metrics": case["metrics"]}
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", **kwargs)
    assert model.metrics_names == case["names_after_compile"]
    assert [type(m).__name__ for m in model.metrics] == case["classes_after_compile"]
    before = case["get_metrics_result_before_fit"]
    if before == "ok":
        assert model.get_metrics_result() == {"loss": 0.0}
    else:
        with pytest.raises(Exception, match=re.escape(before["message"])) as error:
            model.get_metrics_result()
        assert type(error.value).__name__ == before["type"]
    model.fit(data["x"], data["y_a"], batch_size=8, epochs=1, shuffle=False, verbose=0)
    assert model.metrics_names == case["names_after_fit"]
    assert_values(model.metrics[0].result(), case["metrics_0_result"], "metrics[0]")
    if "metrics_1_result" in case:
        assert_values(model.metrics[1].result(), case["metrics_1_result"], "metrics[1]")
        assert [m.name for m in model.metrics[1].metrics] == case["metrics_1_sub_names"]
    assert_values(model.get_metrics_result(), case["get_metrics_result"], "get_metrics_result")
    result = model.evaluate(data["x"], data["y_a"], verbose=0)
    assert isinstance(result, list) == isinstance(case["evaluate_list"], list)
    assert_values(result, case["evaluate_list"], "evaluate list")
    assert_values(model.evaluate(data["x"], data["y_a"], verbose=0, return_dict=True),
                  case["evaluate_dict"], "evaluate dict")


def test_loss_weight_on_a_single_output_scales_its_loss(facts, data):
    inp = keras.Input((4,))
    model = keras.Model(inp, layers.Dense(3, activation="softmax", name="d")(inp))
    model.set_weights([data["weights"][2][:4], data["weights"][3]])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", loss_weights=2.0,
                  metrics=[["accuracy"]])
    assert model.metrics_names == facts["single"]["loss_weight_2"]["names"]
    assert_values(model.evaluate(data["x"], data["y_a"], verbose=0, return_dict=True),
                  facts["single"]["loss_weight_2"]["evaluate_dict"], "weight 2")
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    logs = model.evaluate(data["x"], data["y_a"], verbose=0, return_dict=True)
    assert_values(logs["loss"], facts["single"]["loss_weight_none"]["evaluate_dict"]["loss"],
                  "no weight")
    # Keras 3.15 keeps the previous compile's metrics when compile() is given none
    # ('accuracy' is still in its logs); tinyann's compile replaces them all
    assert list(logs) == ["loss"]


@pytest.mark.parametrize("loss_weights", [2.0, [2.0], {"d": 2.0}])
def test_a_loss_weight_doubles_a_single_outputs_gradient(data, loss_weights):
    """Weight 2 with SGD(lr) moves the weights as weight 1 with SGD(2 * lr)."""
    moved = []
    for weights, lr in ((loss_weights, 0.05), (None, 0.1)):
        inp = keras.Input((4,))
        model = keras.Model(inp, layers.Dense(3, activation="softmax", name="d")(inp))
        model.set_weights([data["weights"][2][:4], data["weights"][3]])
        model.compile(optimizer=keras.optimizers.SGD(learning_rate=lr),
                      loss="sparse_categorical_crossentropy", loss_weights=weights)
        model.fit(data["x"], data["y_a"], batch_size=4, epochs=2, shuffle=False, verbose=0)
        moved.append(model.get_weights())
    for a, b in zip(*moved):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------- the gradient
def test_weighted_total_loss_gradient_of_a_three_output_model(gradcheck):
    """SGD(1) moves each weight by -dL/dw, L the weighted sum of three losses (one output
    also feeding another) plus an L2 penalty: checked against central differences of the
    loss that test_on_batch computes."""
    rng = np.random.default_rng(5)
    inp = keras.Input((4,))
    h = layers.Dense(5, activation="tanh", name="h",
                     kernel_regularizer=keras.regularizers.L2(0.05))(inp)
    a = layers.Dense(3, activation="softmax", name="a")(h)
    b = layers.Dense(2, name="b")(h)
    c = layers.Dense(1, activation="sigmoid", name="c")(b)
    model = keras.Model(inp, [a, b, c])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=1.0),
                  loss=["sparse_categorical_crossentropy", "mse", "binary_crossentropy"],
                  loss_weights=[0.3, 2.0, 0.7])
    for w in model.weights:
        w.assign(rng.normal(0, 0.6, size=w.shape))
    x = rng.normal(size=(6, 4))
    y = [rng.integers(0, 3, 6), rng.normal(size=(6, 2)), rng.integers(0, 2, (6, 1))]
    sw = rng.uniform(0.2, 2.0, 6)

    before = [w.numpy().copy() for w in model.trainable_weights]
    model.train_on_batch(x, y, sample_weight=sw)
    analytic = [b - w.numpy() for b, w in zip(before, model.trainable_weights)]
    for w, b in zip(model.trainable_weights, before):
        w.assign(b)

    def total_loss():
        return model.test_on_batch(x, y, sample_weight=sw)[0]

    for w, g in zip(model.trainable_weights, analytic):
        gradcheck.assert_close(g, gradcheck.numerical_grad(total_loss, w.value))


def test_one_tensor_given_twice_as_outputs_gets_both_gradients(gradcheck):
    rng = np.random.default_rng(6)
    inp = keras.Input((3,))
    out = layers.Dense(2, activation="tanh", name="d")(inp)
    model = keras.Model(inp, [out, out])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=1.0), loss=["mse", "mae"],
                  loss_weights=[1.0, 0.5])
    x, y = rng.normal(size=(5, 3)), [rng.normal(size=(5, 2)), rng.normal(size=(5, 2))]
    before = [w.numpy().copy() for w in model.trainable_weights]
    model.train_on_batch(x, y)
    analytic = [b - w.numpy() for b, w in zip(before, model.trainable_weights)]
    for w, b in zip(model.trainable_weights, before):
        w.assign(b)
    for w, g in zip(model.trainable_weights, analytic):
        gradcheck.assert_close(g, gradcheck.numerical_grad(
            lambda: model.test_on_batch(x, y)[0], w.value))


def test_total_is_the_weighted_sum_of_the_output_losses(data):
    model = two_output_model(data)
    model.compile(optimizer="sgd", loss=["sparse_categorical_crossentropy", "mse"],
                  loss_weights={"out_a": 0.25, "out_b": 3.0})
    logs = model.evaluate(data["x"], [data["y_a"], data["y_b"]], verbose=0, return_dict=True)
    assert logs["loss"] == pytest.approx(0.25 * logs["out_a_loss"] + 3.0 * logs["out_b_loss"],
                                         rel=1e-6)
    # the per-output losses are unweighted: as computed by the loss functions themselves
    probs, reg = model.predict(data["x"], verbose=0)
    assert logs["out_a_loss"] == pytest.approx(float(keras.losses.SparseCategoricalCrossentropy()(
        data["y_a"], probs)), rel=1e-5)
    assert logs["out_b_loss"] == pytest.approx(float(keras.losses.MeanSquaredError()(
        data["y_b"], reg)), rel=1e-5)


# ---------------------------------------------------------------- data forms
def test_per_output_sample_weights(data):
    model = two_output_model(data)
    model.compile(optimizer="sgd", loss=["sparse_categorical_crossentropy", "mse"])
    x, y, sw = data["x"], [data["y_a"], data["y_b"]], data["sw"]
    both = model.evaluate(x, y, sample_weight=sw, verbose=0, return_dict=True)
    plain = model.evaluate(x, y, verbose=0, return_dict=True)
    for per_output in ([sw, np.ones(16)], {"out_b": np.ones(16), "out_a": sw}):
        mixed = model.evaluate(x, y, sample_weight=per_output, verbose=0, return_dict=True)
        assert mixed["out_a_loss"] == pytest.approx(both["out_a_loss"], rel=1e-6)
        assert mixed["out_b_loss"] == pytest.approx(plain["out_b_loss"], rel=1e-6)
        assert mixed["out_b_loss"] != pytest.approx(both["out_b_loss"], rel=1e-3)


def test_validation_split_cuts_every_target(data):
    x, y = data["x"], [data["y_a"], data["y_b"]]
    histories = []
    for kwargs in ({"validation_split": 0.25},
                   {"validation_data": (x[12:], rows(y, slice(12, None)))}):
        model = two_output_model(data)
        model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.1),
                      loss=["sparse_categorical_crossentropy", "mse"], metrics=["accuracy", "mae"])
        xs, ys = (x, y) if "validation_split" in kwargs else (x[:12], rows(y, slice(None, 12)))
        histories.append(model.fit(xs, ys, batch_size=4, epochs=2, shuffle=False, verbose=0,
                                   **kwargs).history)
    assert list(histories[0]) == list(histories[1])
    for key in histories[0]:
        np.testing.assert_allclose(histories[0][key], histories[1][key], rtol=1e-6)


def test_predict_and_predict_on_batch_of_dict_outputs_are_dicts(data):
    model = two_output_model(data, dict_outputs=True)
    for pred in (model.predict(data["x"], verbose=0), model.predict_on_batch(data["x"]),
                 model.predict(data["x"], batch_size=4, verbose=0)):
        assert list(pred) == ["b_key", "a_key"]
        assert pred["a_key"].shape == (16, 3) and pred["b_key"].shape == (16, 1)
        np.testing.assert_allclose(pred["a_key"].sum(axis=1), 1.0, rtol=1e-6)


def test_shuffled_multi_output_fit_learns(data):
    model = two_output_model(data)
    model.compile(optimizer=keras.optimizers.Adam(0.03),
                  loss=["sparse_categorical_crossentropy", "mse"],
                  metrics=[["accuracy"], ["mae"]])
    x, y = data["x"], [data["y_a"], data["y_b"]]
    before = model.evaluate(x, y, verbose=0, return_dict=True)
    model.fit(x, y, batch_size=4, epochs=100, verbose=0)
    after = model.evaluate(x, y, verbose=0, return_dict=True)
    assert after["loss"] < 0.7 * before["loss"]
    assert after["out_a_loss"] < before["out_a_loss"] and after["out_b_loss"] < before[
        "out_b_loss"]


def test_single_output_fast_path_is_kept(data):
    """A plain single-output compile keeps the fused path (no per-output machinery)."""
    model = keras.Sequential([keras.Input((4,)), layers.Dense(3, activation="softmax")])
    model.compile(optimizer="sgd", loss=["sparse_categorical_crossentropy"],
                  metrics={model.layers[-1].name: ["accuracy"]})
    model.fit(data["x"], data["y_a"], verbose=0)
    state = model._compile_state
    assert state.output_spec is None and state.fused
    assert isinstance(model.loss, keras.losses.SparseCategoricalCrossentropy)
    assert model.metrics_names == ["loss", "compile_metrics"]
    assert list(model.get_metrics_result()) == ["loss", "accuracy"]


# ---------------------------------------------------------------- errors
def compiled(data, **kwargs):
    model = two_output_model(data)
    kwargs.setdefault("loss", ["sparse_categorical_crossentropy", "mse"])
    model.compile(optimizer="sgd", **kwargs)
    return model


@pytest.mark.parametrize("y, match", [
    (lambda d: [d["y_a"], d["y_b"], d["y_b"]],
     r"The model has 2 outputs \['out_a', 'out_b'\], so `y` must be a list of 2 arrays "
     r"\(one per output, in that order\) or a dict keyed by those names\. Received: a list "
     r"of 3 items"),
    (lambda d: [d["y_a"]], r"Received: a list of 1 items"),
    (lambda d: d["y_b"], r"so `y` must be a list of 2 arrays .* Received: a single array of "
                         r"shape \(16, 1\)"),
    (lambda d: {"out_a": d["y_a"], "zz": d["y_b"]},
     r"`y` as a dict must have one entry per output of the model, keyed by the output names "
     r"\['out_a', 'out_b'\]\. Received keys \['out_a', 'zz'\]: unknown name\(s\) \['zz'\]; "
     r"missing \['out_b'\]"),
])
def test_wrong_targets_are_named(data, y, match):
    model = compiled(data)
    for call in (lambda: model.fit(data["x"], y(data), verbose=0),
                 lambda: model.evaluate(data["x"], y(data), verbose=0),
                 lambda: model.train_on_batch(data["x"], y(data))):
        with pytest.raises(ValueError, match=match):
            call()


def test_targets_that_do_not_fit_their_output_name_it(data):
    model = compiled(data)
    with pytest.raises(ValueError, match=r"Targets for output 'out_a': Labels for "
                                         r"sparse_categorical_crossentropy must be integers "
                                         r"in \[0, 3\)\. Received: max label 7"):
        model.evaluate(data["x"], [np.full(16, 7), data["y_b"]], verbose=0)
    with pytest.raises(ValueError, match=r"every output's `y` must have the same number of "
                                         r"samples\. Received: 16 for 'out_a' and 15 for "
                                         r"'out_b'"):
        model.evaluate(data["x"], [data["y_a"], data["y_b"][:15]], verbose=0)


@pytest.mark.parametrize("kwargs, match", [
    ({"loss": {"out_a": "sparse_categorical_crossentropy", "zzz": "mse"}},
     r"Expected keys \['out_a', 'out_b'\] in loss dict, but found "
     r"loss\.keys\(\)=\['out_a', 'zzz'\]"),
    ({"loss": ["sparse_categorical_crossentropy", "mse", "mse"]},
     r"`loss` has 3 entries but the model has 2 output\(s\) \['out_a', 'out_b'\]"),
    ({"loss_weights": [1.0]},
     r"`loss_weights` must match the number of losses, got 2 losses and 1 weights"),
    ({"loss_weights": {"out_a": 1.0, "zz": 2.0}},
     r"`loss_weights` as a dict must give one weight per output, keyed by the output names "
     r"\['out_a', 'out_b'\]"),
    ({"loss_weights": 2.0},
     r"The model has 2 outputs \['out_a', 'out_b'\]: `loss_weights` must be a list or a dict"),
    ({"loss_weights": ["accuracy"]},
     r"Expected `loss_weights` to be a number .* Received: loss_weights=\['accuracy'\]"),
    ({"metrics": ["accuracy"]},
     r"Invalid `metrics` for a model with 2 outputs \['out_a', 'out_b'\]: expected a list "
     r"with one entry per output .* Received: metrics=\['accuracy'\]"),
    ({"metrics": {"out_a": "accuracy", "zz": "mae"}},
     r"Invalid `metrics` for a model with 2 outputs .* Received: metrics=\{'out_a': "
     r"'accuracy', 'zz': 'mae'\}"),
    ({"metrics": [["accuracy"], ["no_such_metric"]]},
     r"Could not interpret metric identifier: 'no_such_metric'"),
])
def test_compile_arguments_that_do_not_fit_the_outputs_fail_at_compile(data, kwargs, match):
    model = two_output_model(data)
    kwargs.setdefault("loss", ["sparse_categorical_crossentropy", "mse"])
    with pytest.raises(ValueError, match=match):
        model.compile(optimizer="sgd", **kwargs)


def test_class_weight_is_refused_with_kerass_message(facts, data):
    want = facts["errors"]["class_weight"]
    model = compiled(data)
    with pytest.raises(ValueError, match=re.escape(want["message"])):
        model.fit(data["x"], [data["y_a"], data["y_b"]], class_weight={0: 1.0, 1: 2.0},
                  verbose=0)


def test_what_is_not_supported_says_so(data):
    with pytest.raises(NotImplementedError, match=r"An output without a loss \(None in "
                                                  r"`loss`\) is not supported"):
        two_output_model(data).compile(optimizer="sgd", loss=[None, "mse"])
    model = compiled(data)
    with pytest.raises(ValueError, match=r"Each output's `sample_weight` must have one weight "
                                         r"per sample"):
        model.evaluate(data["x"], [data["y_a"], data["y_b"]],
                       sample_weight=[data["sw"], np.ones(15)], verbose=0)


def test_early_stopping_on_an_output_metric_needs_a_mode_as_in_keras(facts, data):
    want = facts["errors"]["early_stopping_auto_on_output_metric"]
    x, y = data["x"], [data["y_a"], data["y_b"]]
    model = compiled(data, metrics=[["accuracy"], []])
    with pytest.raises(ValueError, match=re.escape(want["message"])):
        model.fit(x, y, epochs=2, verbose=0, validation_data=(x, y),
                  callbacks=[keras.callbacks.EarlyStopping("val_out_a_accuracy")])
    # with a mode it watches the output's metric: accuracy cannot improve at lr 0
    model = compiled(data, metrics=[["accuracy"], []])
    model.optimizer.learning_rate = 0.0
    history = model.fit(x, y, epochs=5, verbose=0, validation_data=(x, y), callbacks=[
        keras.callbacks.EarlyStopping("val_out_a_accuracy", mode="max", patience=1)])
    assert len(history.history["loss"]) == 2


def test_a_weighted_single_loss_still_checks_its_labels(data):
    model = keras.Sequential([keras.Input((4,)), layers.Dense(3, activation="softmax")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", loss_weights=0.5)
    assert isinstance(model.loss, keras.losses.WeightedLoss)
    with pytest.raises(ValueError, match=r"Labels for sparse_categorical_crossentropy must be "
                                         r"integers in \[0, 3\)\. Received: max label 3"):
        model.fit(data["x"], np.full(16, 3), verbose=0)


def test_calling_a_dict_output_model_returns_a_dict():
    inputs = keras.Input((3,))
    model = keras.Model(inputs, {"b": keras.layers.Dense(2, name="b")(inputs),
                                 "a": keras.layers.Dense(1, name="a")(inputs)})
    x = np.ones((4, 3), "float32")
    out = model(x)
    assert list(out) == ["b", "a"]
    predicted = model.predict(x, verbose=0)
    for key in out:
        np.testing.assert_allclose(out[key], predicted[key], rtol=1e-6)


def test_dict_outputs_in_sorted_key_order_as_keras():
    """Keras 3.15.1, measured: Model(inp, {"zeta": ..., "alpha": ...}) lists its layers
    ['inp', 'h', 'alpha', 'zeta'], its outputs and output_names sorted by key, and
    predict returns the dict in the order it was given."""
    inputs = keras.Input((3,), name="inp")
    hidden = keras.layers.Dense(4, name="h")(inputs)
    model = keras.Model(inputs, {"zeta": keras.layers.Dense(2, name="zeta")(hidden),
                                 "alpha": keras.layers.Dense(1, name="alpha")(hidden)})
    assert [layer.name for layer in model.layers] == ["inp", "h", "alpha", "zeta"]
    assert [w.path for w in model.weights] == ["h/kernel", "h/bias", "alpha/kernel",
                                               "alpha/bias", "zeta/kernel", "zeta/bias"]
    assert [t.shape for t in model.outputs] == [(None, 1), (None, 2)]
    assert model.output_names == ["alpha", "zeta"]
    out = model.predict(np.ones((2, 3)), verbose=0)
    assert list(out) == ["zeta", "alpha"]
    assert out["zeta"].shape == (2, 2) and out["alpha"].shape == (2, 1)
    assert not hasattr(keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)]),
                       "output_names")
