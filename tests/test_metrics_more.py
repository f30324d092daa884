"""The metrics added for Keras 3's list: Sum; the hinge, probabilistic and regression
wrappers; IoU family; correlations; the rate-at-constraint metrics; the function forms,
strings in compile, configs and deserialize. Expected numbers are the formulas written
out here, or Keras 3.15's values for the same data (noted where used)."""

import numpy as np
import pytest

import tinyann as keras
from tinyann import losses, metrics

Y = np.array([[0, 1, 0], [1, 0, 0.]])
P = np.array([[0.2, 0.7, 0.1], [0.3, 0.3, 0.4]])
W = np.array([0.3, 0.7])


def test_sum():
    m = metrics.Sum()
    m.update_state([1, 2, 3], [1, 0, 1])
    assert float(m.result()) == 4.0
    m.update_state(np.array([0.5]))
    assert float(m.result()) == 4.5
    m.update_state(np.ones((2, 3)), [2.0, 0.5])  # a weight per row
    assert float(m.result()) == 4.5 + 6.0 + 1.5
    m.reset_state()
    assert float(m.result()) == 0.0
    assert m.get_config() == {"name": "sum", "dtype": "float32"}


# Keras 3.15's results of update_state(Y, P, W) on a fresh metric
KERAS_WEIGHTED = {
    "Hinge": 1.0533332824707031, "SquaredHinge": 1.2400000095367432,
    "CategoricalHinge": 0.9199999570846558, "KLDivergence": 0.9497805237770081,
    "Poisson": 0.6499277353286743, "LogCoshError": 0.08848509937524796,
    "MeanAbsolutePercentageError": 193333344.0,
    "MeanSquaredLogarithmicError": 0.09265231341123581,
    "CosineSimilarity": 0.6459208130836487,
}
FUNCTIONS = {
    "Hinge": losses.hinge, "SquaredHinge": losses.squared_hinge,
    "CategoricalHinge": losses.categorical_hinge, "KLDivergence": losses.kl_divergence,
    "Poisson": losses.poisson, "LogCoshError": losses.log_cosh,
    "MeanAbsolutePercentageError": losses.mean_absolute_percentage_error,
    "MeanSquaredLogarithmicError": losses.mean_squared_logarithmic_error,
    "CosineSimilarity": lambda y, p: -losses.cosine_similarity(y, p),
}
NAMES = {"LogCoshError": "logcosh"}


@pytest.mark.parametrize("name", KERAS_WEIGHTED)
def test_wrapper_metrics_are_weighted_means_of_the_functions(name):
    m = getattr(metrics, name)()
    assert m.name == NAMES.get(name, backend_name(name))
    m.update_state(Y, P, W)
    np.testing.assert_allclose(float(m.result()), KERAS_WEIGHTED[name], rtol=1e-6)
    per = np.asarray(FUNCTIONS[name](Y, P), dtype="float64")
    np.testing.assert_allclose(float(m.result()), np.sum(per * W) / W.sum(), rtol=1e-6)
    # a second batch: the mean over every sample seen
    m.update_state(Y[:1], P[:1])
    np.testing.assert_allclose(float(m.result()), (np.sum(per * W) + per[0]) / (W.sum() + 1),
                               rtol=1e-6)
    again = metrics.deserialize(metrics.serialize(m))
    assert type(again) is type(m) and again.get_config() == m.get_config()


def backend_name(name):
    return keras.backend.to_snake_case(name)


def test_cosine_similarity_axis_in_config():
    m = metrics.CosineSimilarity(axis=0)
    assert m.get_config()["axis"] == 0
    assert metrics.deserialize(metrics.serialize(m)).axis == 0
    assert "axis" not in metrics.CosineSimilarity().get_config()  # Keras's config


def test_function_forms_are_keras_metrics_names():
    for name in ("binary_crossentropy", "categorical_crossentropy",
                 "sparse_categorical_crossentropy", "hinge", "squared_hinge",
                 "categorical_hinge", "kl_divergence", "poisson", "log_cosh", "huber",
                 "mean_absolute_percentage_error", "mean_squared_logarithmic_error",
                 "binary_focal_crossentropy", "categorical_focal_crossentropy"):
        assert getattr(metrics, name) is getattr(losses, name)
    np.testing.assert_allclose(metrics.pearson_correlation(
        [[0, 1, 0.5], [1, 1, 0.2]], [[0.1, 0.9, 0.5], [1, 0.9, 0.2]]), [1.0, 0.99339927],
        rtol=1e-6)


def _pearson(y, p):
    return np.array([np.corrcoef(a, b)[0, 1] for a, b in zip(y, p)])


def test_correlations():
    rng = np.random.default_rng(0)
    y, p = rng.normal(size=(6, 5)), rng.normal(size=(6, 5))
    np.testing.assert_allclose(metrics.pearson_correlation(y, p), _pearson(y, p), rtol=1e-9)
    ym, pm = y.mean(1, keepdims=True), p.mean(1, keepdims=True)
    # Keras's form: y_true centred on mean(y_pred) in the numerator
    expected = (2 * (y - pm) * (p - pm) / (y.var(1, keepdims=True) + p.var(1, keepdims=True)
                                           + (ym - pm) ** 2 + 1e-7)).mean(1)
    np.testing.assert_allclose(metrics.concordance_correlation(y, p), expected, rtol=1e-9)
    # Keras 3.15 for these weighted batches: 0.9947194, 0.98524505
    yt, yp = [[0, 1, 0.5], [1, 1, 0.2]], [[0.1, 0.9, 0.5], [1, 0.9, 0.2]]
    for cls, value in ((metrics.PearsonCorrelation, 0.9947194),
                       (metrics.ConcordanceCorrelation, 0.98524505)):
        m = cls()
        m.update_state(yt, yp, [0.2, 0.8])
        np.testing.assert_allclose(float(m.result()), value, rtol=1e-6)
        assert m.get_config() == {"name": m.name, "dtype": "float32", "axis": -1}
        assert metrics.deserialize(metrics.serialize(m)).get_config() == m.get_config()


def test_iou_by_hand():
    # classes 0..2; confusion matrix (rows true, columns predicted) of the weighted pairs
    y_true = [0, 1, 2, 2, 1, 0, 5]     # 5: outside [0, 3), counts nothing
    y_pred = [0, 2, 2, 1, 1, 0, 1]
    weights = [1, 2, 0.5, 1, 1, 3, 1]  # 0.5 -> 0 in the int64 metric, as Keras
    cm = np.zeros((3, 3))
    for t, p, w in zip(y_true, y_pred, weights):
        if t < 3:
            cm[t, p] += int(w)
    tp = np.diag(cm)
    iou = tp / (cm.sum(0) + cm.sum(1) - tp)
    m = metrics.IoU(3, [0, 2])
    m.update_state(y_true, y_pred, weights)
    np.testing.assert_allclose(np.asarray(m.result()), (iou[0] + iou[2]) / 2, rtol=1e-6)
    assert np.asarray(m.result()).dtype == np.float32
    np.testing.assert_allclose(np.asarray(m.result()), 0.5, rtol=1e-6)  # Keras 3.15
    mean = metrics.MeanIoU(3)
    mean.update_state(y_true, y_pred, weights)
    np.testing.assert_allclose(np.asarray(mean.result()), iou.mean(), rtol=1e-6)


def test_iou_variants_match_keras():
    m = metrics.MeanIoU(3, ignore_class=1)
    m.update_state([0, 1, 2, 2, 1, 0], [0, 2, 2, 1, 1, 0], [1, 2, 0.5, 1, 1, 3])
    np.testing.assert_allclose(np.asarray(m.result()), 1 / 3, rtol=1e-6)
    b = metrics.BinaryIoU(threshold=0.4)  # predictions >= 0.4 are 1
    b.update_state([0, 1, 1, 0], [0.4, 0.3, 0.9, 0.1])
    np.testing.assert_allclose(np.asarray(b.result()), 1 / 3, rtol=1e-6)
    o = metrics.OneHotMeanIoU(3)
    o.update_state(np.eye(3)[[0, 1, 2, 2]],
                   [[0.5, 0.3, 0.2], [0.1, 0.2, 0.7], [0.2, 0.2, 0.6], [0.1, 0.8, 0.1]])
    np.testing.assert_allclose(np.asarray(o.result()), 4 / 9, rtol=1e-6)
    one = metrics.OneHotIoU(3, [2])
    one.update_state(np.eye(3)[[0, 1, 2, 2]],
                     [[0.5, 0.3, 0.2], [0.1, 0.2, 0.7], [0.2, 0.2, 0.6], [0.1, 0.8, 0.1]])
    np.testing.assert_allclose(np.asarray(one.result()), 1 / 3, rtol=1e-6)  # tp 1, fp 1, fn 1
    assert float(metrics.MeanIoU(2).result()) == 0.0


def test_iou_configs_are_keras():
    assert metrics.IoU(3, [0, 2]).get_config() == {
        "name": "io_u", "dtype": "int64", "num_classes": 3, "target_class_ids": [0, 2],
        "ignore_class": None, "sparse_y_true": True, "sparse_y_pred": True, "axis": -1}
    assert metrics.BinaryIoU().get_config() == {
        "target_class_ids": [0, 1], "threshold": 0.5, "name": "binary_io_u",
        "dtype": "int64"}
    assert metrics.OneHotMeanIoU(3).get_config() == {
        "num_classes": 3, "name": "one_hot_mean_io_u", "dtype": "int64",
        "ignore_class": None, "sparse_y_pred": False, "axis": -1}
    for m in (metrics.IoU(3, [1]), metrics.MeanIoU(4, ignore_class=0), metrics.BinaryIoU([1]),
              metrics.OneHotIoU(3, [0, 1]), metrics.OneHotMeanIoU(3)):
        again = metrics.deserialize(metrics.serialize(m))
        assert type(again) is type(m) and again.get_config() == m.get_config()
    with pytest.raises(ValueError, match="out of range"):
        metrics.IoU(3, [3])


def _rates(y, p, w, thresholds):
    above = p[None, :] > thresholds[:, None]
    pos = y.astype(bool)[None, :]
    tp = (above & pos) @ w
    fp = (above & ~pos) @ w
    fn = (~above & pos) @ w
    tn = (~above & ~pos) @ w
    with np.errstate(invalid="ignore"):
        return {"sensitivity": np.nan_to_num(tp / (tp + fn)),
                "specificity": np.nan_to_num(tn / (tn + fp)),
                "precision": np.nan_to_num(tp / (tp + fp)),
                "recall": np.nan_to_num(tp / (tp + fn))}


AT = {  # class -> (constraint, maximised); Keras 3.15 at 0.3 and 0.8 on the data below
    "PrecisionAtRecall": ("recall", "precision", 0.9946084, 0.6303489),
    "RecallAtPrecision": ("precision", "recall", 1.0, 0.6752367),
    "SensitivityAtSpecificity": ("specificity", "sensitivity", 0.7979629, 0.4886795),
    "SpecificityAtSensitivity": ("sensitivity", "specificity", 0.9971118, 0.2927997),
}


@pytest.mark.parametrize("name", AT)
def test_rate_at_constraint(name):
    rng = np.random.default_rng(0)
    y = (rng.uniform(size=(40,)) > 0.5).astype("float32")
    p = rng.uniform(size=(40,)).astype("float32")
    w = rng.uniform(size=40).astype("float32")
    constraint, maximised, at_03, at_08 = AT[name]
    thresholds = np.array([0.0] + [(i + 1) / 199 for i in range(198)] + [1.0])
    rates = _rates(y, p.astype("float64"), w.astype("float64"), thresholds)
    for value, keras_value in ((0.3, at_03), (0.8, at_08)):
        m = getattr(metrics, name)(value)
        m.update_state(y, p, w)
        expected = np.max(np.where(rates[constraint] >= value, rates[maximised], 0.0))
        np.testing.assert_allclose(float(m.result()), expected, rtol=1e-6)
        np.testing.assert_allclose(float(m.result()), keras_value, rtol=1e-5)
    m = getattr(metrics, name)(0.5, num_thresholds=7, class_id=1)
    assert m.get_config() == {"name": backend_name(name), "dtype": "float32", "class_id": 1,
                              "num_thresholds": 7, constraint: 0.5}
    again = metrics.deserialize(metrics.serialize(m))
    assert type(again) is type(m) and again.get_config() == m.get_config()
    with pytest.raises(ValueError, match=f"`{constraint}` must be in the range"):
        getattr(metrics, name)(1.5)


@pytest.mark.parametrize("string,cls", [
    ("mape", metrics.MeanAbsolutePercentageError), ("MAPE", metrics.MeanAbsolutePercentageError),
    ("msle", metrics.MeanSquaredLogarithmicError), ("bce", metrics.BinaryCrossentropy),
    ("MSE", metrics.MeanSquaredError), ("kl_divergence", metrics.KLDivergence),
    ("poisson", metrics.Poisson), ("cosine_similarity", metrics.CosineSimilarity),
    ("log_cosh_error", metrics.LogCoshError), ("hinge", metrics.Hinge),
    ("categorical_hinge", metrics.CategoricalHinge), ("sum", metrics.Sum),
    ("pearson_correlation", metrics.PearsonCorrelation), ("LogCoshError", metrics.LogCoshError)])
def test_strings(string, cls):
    m = metrics.get(string)
    assert type(m) is cls
    assert type(metrics.deserialize(string)) is cls


def test_strings_keras_refuses():
    with pytest.raises(ValueError, match="Could not interpret metric"):
        metrics.get("kld")


def test_compile_with_metric_strings():
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((32, 4)).astype("float32")
    y = (1 / (1 + np.exp(-x[:, :2]))).astype("float32")
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, activation="sigmoid")])
    names = ["mape", "msle", "kl_divergence", "poisson", "cosine_similarity", "hinge",
             "log_cosh_error", "pearson_correlation"]
    model.compile(optimizer="adam", loss="mse", metrics=names)
    history = model.fit(x, y, epochs=1, batch_size=8, verbose=0).history
    for name in names:
        assert np.isfinite(history[name][0])
    pred = model.predict(x, verbose=0)
    results = model.evaluate(x, y, verbose=0, return_dict=True)
    np.testing.assert_allclose(results["mape"],
                               np.mean(losses.mean_absolute_percentage_error(y, pred)),
                               rtol=1e-4)
    np.testing.assert_allclose(results["pearson_correlation"],
                               np.mean(metrics.pearson_correlation(y, pred)), rtol=1e-4)


def test_model_with_new_loss_and_metrics_saves_and_loads(tmp_path):
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(1)
    x = rng.random((16, 4)).astype("float32")
    y = (rng.random((16, 3)) > 0.5).astype("float32")
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="sigmoid")])
    model.compile(optimizer="lion", loss=losses.BinaryFocalCrossentropy(gamma=1.0),
                  metrics=[metrics.MeanIoU(3, sparse_y_true=False, sparse_y_pred=False),
                           "mape", metrics.PrecisionAtRecall(0.4), metrics.Hinge()])
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    assert loaded.loss.get_config() == model.loss.get_config()
    assert type(loaded.optimizer) is keras.optimizers.Lion
    assert loaded.evaluate(x, y, verbose=0, return_dict=True) == model.evaluate(
        x, y, verbose=0, return_dict=True)
