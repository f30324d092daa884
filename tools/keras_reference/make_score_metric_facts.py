"""Reference results of Keras 3's FBetaScore, F1Score and R2Score, for
tests/test_score_metrics.py.

Runs ONLY in the separate Keras venv (see README.md beside this file); it never
imports tinyann. Writes tests/fixtures/keras/score_metrics.json: the data (made here
from a seed) and, per case, the class, its arguments, whether sample weights were
given, result() after two batches, and get_config().

Usage:  /work/kerasenv/bin/python tools/keras_reference/make_score_metric_facts.py
"""

from __future__ import annotations

import json
import os

os.environ.setdefault("KERAS_BACKEND", "jax")

import keras  # noqa: E402
import numpy as np  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "..", "tests", "fixtures", "keras", "score_metrics.json")
CASES = [("F1Score", {}), ("F1Score", {"average": "micro"}), ("F1Score", {"average": "macro"}),
         ("F1Score", {"average": "weighted"}), ("F1Score", {"threshold": 0.4}),
         ("FBetaScore", {"beta": 2.0}), ("FBetaScore", {"beta": 0.5, "average": "macro",
                                                         "threshold": 0.3}),
         ("R2Score", {}), ("R2Score", {"class_aggregation": None}),
         ("R2Score", {"class_aggregation": "variance_weighted_average"}),
         ("R2Score", {"num_regressors": 2})]


def data():
    rng = np.random.default_rng(11)
    labels = np.eye(4, dtype="float32")[rng.integers(0, 4, (2, 25))]
    scores = rng.random((2, 25, 4)).astype("float32") + 0.8 * labels
    scores /= scores.sum(-1, keepdims=True)
    targets = rng.standard_normal((2, 25, 3)).astype("float32")
    preds = (targets + 0.5 * rng.standard_normal((2, 25, 3))).astype("float32")
    weights = rng.random((2, 25)).astype("float32")
    return labels, scores, targets, preds, weights


def main():
    labels, scores, targets, preds, weights = data()
    facts = {"labels": labels.tolist(), "scores": scores.tolist(), "targets": targets.tolist(),
             "preds": preds.tolist(), "weights": weights.tolist(), "cases": []}
    for name, kwargs in CASES:
        for weighted in (False, True):
            metric = getattr(keras.metrics, name)(**kwargs)
            y, p = (targets, preds) if name == "R2Score" else (labels, scores)
            for b in range(2):
                metric.update_state(y[b], p[b], sample_weight=weights[b] if weighted else None)
            config = {k: v for k, v in metric.get_config().items() if k != "name"}
            facts["cases"].append({"class": name, "kwargs": kwargs, "weighted": weighted,
                                   "result": np.asarray(metric.result()).tolist(),
                                   "config": config})
    with open(OUT, "w", encoding="utf-8") as f:
        json.dump(facts, f, indent=1)
    print(f"wrote {len(facts['cases'])} cases to {os.path.normpath(OUT)}")


if __name__ == "__main__":
    main()
