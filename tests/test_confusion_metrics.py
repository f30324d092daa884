"""TruePositives ... FalseNegatives, Precision, Recall and AUC against Keras 3's results
(tests/fixtures/keras/confusion_metrics.json, made by
tools/keras_reference/make_confusion_metric_facts.py), a brute-force count, and in fit."""

import json
from pathlib import Path

import numpy as np
import pytest

import tinyann as keras
from tinyann.confusion_metrics import confusion_counts

FACTS = json.loads((Path(__file__).parent / "fixtures" / "keras" /
                    "confusion_metrics.json").read_text(encoding="utf-8"))
Y_TRUE = np.array(FACTS["y_true"], dtype="float32")
Y_PRED = np.array(FACTS["y_pred"], dtype="float32")
LOGITS = np.array(FACTS["logits"], dtype="float32")
WEIGHTS = np.array(FACTS["sample_weight"], dtype="float32")


def _case_id(case):
    return f"{case['class']}-{json.dumps(case['kwargs'])}-{'w' if case['weighted'] else 'u'}"


@pytest.mark.parametrize("case", FACTS["cases"], ids=_case_id)
def test_results_and_configs_are_keras(case):
    metric = getattr(keras.metrics, case["class"])(**case["kwargs"])
    preds = LOGITS if case["kwargs"].get("from_logits") else Y_PRED
    for b in range(2):
        metric.update_state(Y_TRUE[b], preds[b],
                            sample_weight=WEIGHTS[b] if case["weighted"] else None)
    np.testing.assert_allclose(np.asarray(metric.result()), case["result"], rtol=2e-5,
                               atol=1e-6)
    config = metric.get_config()
    config.pop("name")
    assert config == case["config"]


def test_counts_are_the_brute_force_ones():
    rng = np.random.default_rng(0)
    y_true = rng.random(500) < 0.3
    y_pred = np.round(rng.random(500), 2)  # many predictions equal to a threshold
    w = rng.random(500)
    thresholds = np.array([0.9, 0.0, 0.25, 0.5, 1.0, 0.31])  # unsorted on purpose
    tp, fp, tn, fn = confusion_counts(y_true, y_pred, thresholds, w)
    above = y_pred[None, :] > thresholds[:, None]
    np.testing.assert_allclose(tp, (above & y_true) @ w)
    np.testing.assert_allclose(fp, (above & ~y_true) @ w)
    np.testing.assert_allclose(tn, (~above & ~y_true) @ w)
    np.testing.assert_allclose(fn, (~above & y_true) @ w)


def test_reset_state_and_strings():
    metric = keras.metrics.get("auc")
    assert isinstance(metric, keras.metrics.AUC) and metric.name == "auc"
    metric.update_state([0, 1, 1], [0.2, 0.9, 0.4])
    assert float(metric.result()) > 0
    metric.reset_state()
    assert float(metric.result()) == 0.0
    assert keras.metrics.get("precision").name == "precision"


def test_arguments_keras_refuses():
    with pytest.raises(ValueError, match="num_thresholds"):
        keras.metrics.AUC(num_thresholds=1)
    with pytest.raises(ValueError, match="AUCCurve"):
        keras.metrics.AUC(curve="XY")
    with pytest.raises(ValueError, match="multi_label"):
        keras.metrics.AUC(num_labels=3)
    with pytest.raises(ValueError, match="class_id"):
        keras.metrics.Precision(class_id=1).update_state([1, 0], [0.3, 0.9])


def test_fit_logs_precision_recall_auc():
    """The TensorFlow tutorial on imbalanced data compiles these by name."""
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((400, 5)).astype("float32")
    y = (x[:, 0] + 0.3 * rng.standard_normal(400) > 0.8).astype("float32")
    model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss="binary_crossentropy",
                  metrics=[keras.metrics.Precision(name="precision"),
                           keras.metrics.Recall(name="recall"),
                           keras.metrics.AUC(name="auc"), keras.metrics.AUC(name="prc",
                                                                            curve="PR")])
    history = model.fit(x, y, epochs=8, batch_size=64, validation_split=0.25, verbose=0)
    for key in ("precision", "recall", "auc", "prc", "val_auc", "val_precision"):
        assert key in history.history
    assert history.history["auc"][-1] > 0.9
    results = model.evaluate(x, y, verbose=0, return_dict=True)
    probs = model.predict(x, verbose=0)[:, 0]
    expected = keras.metrics.Precision()
    expected.update_state(y, probs)
    np.testing.assert_allclose(results["precision"], float(expected.result()), rtol=1e-5)
