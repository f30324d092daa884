"""Stateful metrics: hand-worked values, true means over batches, names, lookup."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tinyann import losses, metrics

PROBS = np.array([[0.7, 0.2, 0.1],
                  [0.1, 0.5, 0.4],
                  [0.3, 0.3, 0.4],
                  [0.05, 0.9, 0.05]], dtype="float32")
LABELS = np.array([0, 2, 2, 1])  # predicted: 0, 1, 2, 1 -> 3 of 4 right


def test_sparse_categorical_accuracy():
    m = metrics.SparseCategoricalAccuracy()
    assert m.name == "sparse_categorical_accuracy"
    m.update_state(LABELS, PROBS)
    assert m.result() == pytest.approx(0.75)
    # labels of shape (N, 1) and float labels read the same
    m.reset_state()
    m.update_state(LABELS[:, None].astype("float32"), PROBS)
    assert m.result() == pytest.approx(0.75)


def test_categorical_accuracy():
    m = metrics.CategoricalAccuracy()
    m.update_state(np.eye(3)[LABELS], PROBS)
    assert m.result() == pytest.approx(0.75)


def test_binary_accuracy_and_threshold():
    y = np.array([[1.0], [0.0], [1.0], [0.0]])
    p = np.array([[0.9], [0.6], [0.4], [0.1]])
    assert metrics.BinaryAccuracy()(y, p) == pytest.approx(0.5)
    # > 0.3: [1, 1, 1, 0] -> 3 of 4 right; > 0.95: all 0 -> 2 of 4
    assert metrics.BinaryAccuracy(threshold=0.3)(y, p) == pytest.approx(0.75)
    assert metrics.BinaryAccuracy(threshold=0.95)(y, p) == pytest.approx(0.5)
    # (N,) labels against (N, 1) outputs
    assert metrics.BinaryAccuracy()(y[:, 0], p) == pytest.approx(0.5)


def test_top_k():
    m = metrics.SparseTopKCategoricalAccuracy(k=2)
    m.update_state(LABELS, PROBS)
    # sample 1: label 2 (0.4) is second best: in the top 2; all are
    assert m.result() == pytest.approx(1.0)
    m1 = metrics.SparseTopKCategoricalAccuracy(k=1)
    m1.update_state(LABELS, PROBS)
    assert m1.result() == pytest.approx(0.75)
    t = metrics.TopKCategoricalAccuracy(k=1)
    t.update_state(np.eye(3)[LABELS], PROBS)
    assert t.result() == pytest.approx(0.75)


def test_results_are_true_means_over_batches_of_different_sizes():
    m = metrics.SparseCategoricalAccuracy()
    m.update_state(LABELS[:3], PROBS[:3])  # 2 of 3 right
    m.update_state(LABELS[3:], PROBS[3:])  # 1 of 1 right
    assert m.result() == pytest.approx(3 / 4)  # not (2/3 + 1) / 2
    mean = metrics.Mean()
    mean.update_state([1.0, 2.0, 3.0])
    mean.update_state([10.0])
    assert mean.result() == pytest.approx(4.0)


def test_sample_weights():
    m = metrics.SparseCategoricalAccuracy()
    m.update_state(LABELS, PROBS, sample_weight=np.array([1.0, 3.0, 1.0, 1.0]))
    # the wrong sample weighs 3: (1 + 0 + 1 + 1) / 6
    assert m.result() == pytest.approx(0.5)
    mean = metrics.Mean()
    mean.update_state([2.0, 4.0], sample_weight=[3.0, 1.0])
    assert mean.result() == pytest.approx(2.5)


def test_reset_state_and_empty_result():
    m = metrics.CategoricalAccuracy()
    assert m.result() == 0.0
    m.update_state(np.eye(3)[LABELS], PROBS)
    m.reset_state()
    assert m.result() == 0.0


def test_regression_metrics():
    y = np.array([[1.0, 2.0], [3.0, 4.0]])
    p = np.array([[1.5, 2.0], [2.0, 6.0]])
    assert metrics.MeanSquaredError()(y, p) == pytest.approx((0.25 + 0 + 1 + 4) / 4)
    assert metrics.MeanAbsoluteError()(y, p) == pytest.approx((0.5 + 0 + 1 + 2) / 4)
    assert metrics.RootMeanSquaredError()(y, p) == pytest.approx(np.sqrt(5.25 / 4))


def test_regression_metrics_broadcast_a_label_column_as_keras():
    # Keras's 'mae' with labels (N, 1) against softmax outputs (N, C): |y - p| over C;
    # tinyann hands metrics such labels as (N,), which must read the same
    y = LABELS[:, None].astype("float32")
    want = np.abs(y - PROBS).mean()
    assert metrics.MeanAbsoluteError()(y, PROBS) == pytest.approx(want)
    assert metrics.MeanAbsoluteError()(y[:, 0], PROBS) == pytest.approx(want)
    assert metrics.MeanSquaredError()(y[:, 0], PROBS) == pytest.approx(
        np.square(y - PROBS).mean())
    with pytest.raises(ValueError, match=r"broadcastable.*\(4, 2\).*\(4, 3\)"):
        metrics.MeanAbsoluteError()(np.zeros((4, 2)), PROBS)


@pytest.mark.parametrize("cls, fn", [
    (metrics.SparseCategoricalCrossentropy, losses.sparse_categorical_crossentropy),
    (metrics.CategoricalCrossentropy, losses.categorical_crossentropy),
])
def test_crossentropy_metrics_are_the_mean_loss(cls, fn):
    y = LABELS if cls is metrics.SparseCategoricalCrossentropy else np.eye(3)[LABELS]
    want = -np.log(PROBS[np.arange(4), LABELS].astype(np.float64)).mean()
    assert cls()(y, PROBS) == pytest.approx(want, rel=1e-6)
    assert float(np.mean(fn(y, PROBS))) == pytest.approx(want, rel=1e-6)


@pytest.mark.parametrize("name, cls", [
    ("sparse_categorical_accuracy", metrics.SparseCategoricalAccuracy),
    ("categorical_accuracy", metrics.CategoricalAccuracy),
    ("binary_accuracy", metrics.BinaryAccuracy),
    ("mse", metrics.MeanSquaredError),
    ("mean_absolute_error", metrics.MeanAbsoluteError),
    ("mae", metrics.MeanAbsoluteError),
    ("SparseCategoricalAccuracy", metrics.SparseCategoricalAccuracy),
])
def test_get_by_string_keeps_the_string_as_name(name, cls):
    m = metrics.get(name)
    assert type(m) is cls
    assert m.name == (name if name[0].islower() else "sparse_categorical_accuracy")


def test_get_instances_classes_configs_and_functions():
    m = metrics.BinaryAccuracy(threshold=0.7, name="ba")
    assert metrics.get(m) is m
    assert type(metrics.get(metrics.CategoricalAccuracy)) is metrics.CategoricalAccuracy
    rebuilt = metrics.get(metrics.serialize(m))
    assert type(rebuilt) is metrics.BinaryAccuracy
    assert rebuilt.threshold == 0.7 and rebuilt.name == "ba"

    def hits(y_true, y_pred):
        return (np.asarray(y_pred).argmax(-1) == y_true).astype("float32")

    wrapped = metrics.get(hits)
    assert wrapped.name == "hits"
    assert wrapped(LABELS, PROBS) == pytest.approx(0.75)


def test_unknown_metric_lists_the_valid_names():
    with pytest.raises(ValueError, match=r"Could not interpret metric identifier: 'dice_score'\. "
                                         r"Expected one of \[.*'accuracy'.*'mse'"):
        metrics.get("dice_score")
    with pytest.raises(ValueError, match="Unknown metric class 'F1'"):
        metrics.get({"class_name": "F1", "config": {}})


def _resolution_rule_cases():
    path = Path(__file__).resolve().parent / "fixtures" / "keras" / "accuracy_resolution.json"
    return [c for c in json.loads(path.read_text(encoding="utf-8"))["cases"]
            if c["metric_string"] in ("accuracy", "acc")]


_SHAPES = {
    "y int (16,), output (16,3)": ((16,), (16, 3)),
    "y int (16,1), output (16,3)": ((16, 1), (16, 3)),
    "y one-hot (16,3), output (16,3)": ((16, 3), (16, 3)),
    "y (16,), output (16,1)": ((16,), (16, 1)),
    "y (16,1), output (16,1)": ((16, 1), (16, 1)),
    "multi-label y (16,3), output (16,3)": ((16, 3), (16, 3)),
    "y float (16,), output (16,1)": ((16,), (16, 1)),
    "y float (16,2), output (16,2)": ((16, 2), (16, 2)),
}


@pytest.mark.parametrize("case", _resolution_rule_cases(),
                         ids=lambda c: f"{c['shapes']}-{c['metric_string']}")
def test_resolve_accuracy_from_shapes_as_keras(case):
    y_shape, out_shape = _SHAPES[case["shapes"]]
    m = metrics.resolve(case["metric_string"], y_shape, (None,) + out_shape[1:])
    assert [type(m).__name__] == case["resolved_class"]
    assert [m.name] == case["resolved_name"]


def test_resolve_leaves_other_metrics_alone():
    assert type(metrics.resolve("mae", (16,), (None, 3))) is metrics.MeanAbsoluteError
    m = metrics.CategoricalAccuracy()
    assert metrics.resolve(m, (16,), (None, 3)) is m
