"""Reference values and gradients of Keras 3's losses LogCosh, MeanSquaredLogarithmicError,
MeanAbsolutePercentageError, Hinge, SquaredHinge, Poisson, KLDivergence and
CosineSimilarity, for tests/test_losses_elementwise.py.

Runs ONLY in the separate Keras venv (see README.md beside this file), on JAX (for
jax.grad). Writes tests/fixtures/keras/extra_losses.json: the data (made here from a
seed), and per loss and weighting the value and dL/dy_pred.

Usage:  /work/kerasenv/bin/python tools/keras_reference/make_extra_loss_facts.py
"""

from __future__ import annotations

import json
import os

os.environ["KERAS_BACKEND"] = "jax"

import jax  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "..", "tests", "fixtures", "keras", "extra_losses.json")
NAMES = ["LogCosh", "MeanSquaredLogarithmicError", "MeanAbsolutePercentageError", "Hinge",
         "SquaredHinge", "Poisson", "KLDivergence", "CosineSimilarity"]


def data():
    rng = np.random.default_rng(3)
    y_true = rng.uniform(0.05, 1.0, (6, 4))
    y_true[0] = [0, 1, 1, 0]  # binary rows: hinge labels; a zero: MAPE's epsilon
    y_pred = rng.uniform(0.05, 0.95, (6, 4))
    y_pred[1] = [-0.3, 1.2, 0.4, 0.0]  # outside [0, 1]: the clips and maxima
    return y_true.astype("float32"), y_pred.astype("float32"), rng.uniform(
        0.2, 2.0, 6).astype("float32")


def main():
    y_true, y_pred, weights = data()
    facts = {"y_true": y_true.tolist(), "y_pred": y_pred.tolist(),
             "sample_weight": weights.tolist(), "cases": []}
    for name in NAMES:
        for binary in (False, True):
            y = (y_true > 0.5).astype("float32") if binary else y_true
            for weighted in (False, True):
                loss = getattr(keras.losses, name)()

                def f(p, y=y, weighted=weighted, loss=loss):
                    return loss(y, p, sample_weight=weights if weighted else None)

                value, grad = jax.value_and_grad(f)(y_pred)
                facts["cases"].append({"name": name, "binary": binary, "weighted": weighted,
                                       "value": float(value),
                                       "grad": np.asarray(grad).tolist(),
                                       "config": {k: v for k, v in loss.get_config().items()
                                                  if k != "dtype"}})
    with open(OUT, "w", encoding="utf-8") as f:
        json.dump(facts, f)
    print(f"wrote {len(facts['cases'])} cases to {os.path.normpath(OUT)}")


if __name__ == "__main__":
    main()
