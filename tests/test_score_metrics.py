"""FBetaScore, F1Score and R2Score against Keras 3's results and configs
(tests/fixtures/keras/score_metrics.json, made by
tools/keras_reference/make_score_metric_facts.py), their errors, and in fit."""

import json
from pathlib import Path

import numpy as np
import pytest

import tinyann as keras

FACTS = json.loads((Path(__file__).parent / "fixtures" / "keras" / "score_metrics.json"
                    ).read_text(encoding="utf-8"))
ARRAYS = {k: np.array(FACTS[k], dtype="float32")
          for k in ("labels", "scores", "targets", "preds", "weights")}


@pytest.mark.parametrize("case", FACTS["cases"], ids=lambda c: f"{c['class']}-"
                         f"{json.dumps(c['kwargs'])}-{'w' if c['weighted'] else 'u'}")
def test_results_and_configs_are_keras(case):
    metric = getattr(keras.metrics, case["class"])(**case["kwargs"])
    regression = case["class"] == "R2Score"
    y = ARRAYS["targets" if regression else "labels"]
    p = ARRAYS["preds" if regression else "scores"]
    for b in range(2):
        metric.update_state(y[b], p[b],
                            sample_weight=ARRAYS["weights"][b] if case["weighted"] else None)
    np.testing.assert_allclose(np.asarray(metric.result()), case["result"], rtol=1e-5,
                               atol=1e-6)
    config = metric.get_config()
    config.pop("name")
    assert config == case["config"]


def test_errors_and_names():
    with pytest.raises(ValueError, match="Invalid `average` argument value"):
        keras.metrics.F1Score(average="mean")
    with pytest.raises(ValueError, match="should be a Python float"):
        keras.metrics.FBetaScore(beta=2)
    with pytest.raises(ValueError, match="expects 2D inputs"):
        keras.metrics.F1Score().update_state(np.ones(3), np.ones(3))
    with pytest.raises(ValueError, match="class_aggregation"):
        keras.metrics.R2Score(class_aggregation="median")
    assert isinstance(keras.metrics.get("f1_score"), keras.metrics.F1Score)
    assert isinstance(keras.metrics.get("r2_score"), keras.metrics.R2Score)


def test_r2_in_a_regression_fit():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((200, 3)).astype("float32")
    y = (x @ np.array([[1.0], [-2.0], [0.5]]) + 0.1 * rng.standard_normal((200, 1))
         ).astype("float32")
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.Adam(0.1), loss="mse",
                  metrics=[keras.metrics.R2Score()])
    history = model.fit(x, y, epochs=20, verbose=0)
    assert history.history["r2_score"][-1] > 0.95
    expected = keras.metrics.R2Score()
    expected.update_state(y, model.predict(x, verbose=0))
    np.testing.assert_allclose(model.evaluate(x, y, verbose=0, return_dict=True)["r2_score"],
                               float(expected.result()), rtol=1e-5)
