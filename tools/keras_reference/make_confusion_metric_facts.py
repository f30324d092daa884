"""Reference results of Keras 3's confusion-matrix metrics (TruePositives ...
FalseNegatives, Precision, Recall, AUC) for tests/test_confusion_metrics.py.

Runs ONLY in the separate Keras venv (see README.md beside this file); it never
imports tinyann. Writes tests/fixtures/keras/confusion_metrics.json: the data (made
here from a seed), and per case the metric's class, arguments, what update_state got
(two batches, with or without sample weights) and result() (a number or a list), and
get_config().

Usage:  /work/kerasenv/bin/python tools/keras_reference/make_confusion_metric_facts.py
"""

from __future__ import annotations

import json
import os

os.environ.setdefault("KERAS_BACKEND", "jax")

import keras  # noqa: E402
import numpy as np  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "..", "tests", "fixtures", "keras", "confusion_metrics.json")

CASES = [
    ("TruePositives", {}), ("FalsePositives", {"thresholds": [0.2, 0.5, 0.8]}),
    ("TrueNegatives", {"thresholds": 0.3}), ("FalseNegatives", {}),
    ("Precision", {}), ("Precision", {"thresholds": [0.1, 0.5, 0.9]}),
    ("Precision", {"top_k": 2}), ("Precision", {"class_id": 1}),
    ("Precision", {"top_k": 1, "class_id": 2}),
    ("Recall", {}), ("Recall", {"thresholds": 0.7}), ("Recall", {"top_k": 2}),
    ("Recall", {"class_id": 0}),
    ("AUC", {}), ("AUC", {"curve": "PR"}), ("AUC", {"summation_method": "minoring"}),
    ("AUC", {"curve": "PR", "summation_method": "majoring"}),
    ("AUC", {"num_thresholds": 7}), ("AUC", {"thresholds": [0.1, 0.35, 0.6, 0.95]}),
    ("AUC", {"multi_label": True}), ("AUC", {"multi_label": True, "curve": "PR"}),
    ("AUC", {"multi_label": True, "label_weights": [0.2, 1.0, 0.5]}),
    ("AUC", {"label_weights": [0.2, 1.0, 0.5]}),
    ("AUC", {"from_logits": True}),
]


def data():
    rng = np.random.default_rng(7)
    y_true = (rng.random((2, 30, 3)) < 0.4).astype("float32")
    y_pred = np.clip(0.6 * y_true + 0.5 * rng.random((2, 30, 3)), 0, 1).astype("float32")
    y_pred[0, :4] = [0.5, 0.0, 1.0]  # on thresholds and ends
    logits = (4 * (y_pred - 0.5)).astype("float32")
    weights = rng.random((2, 30)).astype("float32")
    return y_true, y_pred, logits, weights


def main():
    y_true, y_pred, logits, weights = data()
    facts = {"y_true": y_true.tolist(), "y_pred": y_pred.tolist(), "logits": logits.tolist(),
             "sample_weight": weights.tolist(), "cases": []}
    for name, kwargs in CASES:
        for weighted in (False, True):
            metric = getattr(keras.metrics, name)(**kwargs)
            preds = logits if kwargs.get("from_logits") else y_pred
            for b in range(2):
                metric.update_state(y_true[b], preds[b],
                                    sample_weight=weights[b] if weighted else None)
            result = np.asarray(metric.result()).tolist()
            config = {k: (np.asarray(v).tolist() if hasattr(v, "shape") else v)
                      for k, v in metric.get_config().items() if k != "name"}
            facts["cases"].append({"class": name, "kwargs": kwargs, "weighted": weighted,
                                   "result": result, "config": config})
    with open(OUT, "w", encoding="utf-8") as f:
        json.dump(facts, f, indent=1)
    print(f"wrote {len(facts['cases'])} cases to {os.path.normpath(OUT)}")


if __name__ == "__main__":
    main()
