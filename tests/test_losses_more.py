"""BinaryFocalCrossentropy, CategoricalFocalCrossentropy, CategoricalHinge, Dice, Tversky,
CategoricalGeneralizedCrossEntropy:
values (written out from the formulas, and checked against Keras 3 while developing),
numerical gradient checks of value_and_grad, reductions and sample weights, configs,
strings, the function forms, a GradientTape and fit."""

import numpy as np
import pytest

import tinyann as keras
from tinyann import losses
from tinyann.autodiff import GradientTape, Tensor

Y = np.array([[0, 1, 0], [1, 0, 0.]])
P = np.array([[0.2, 0.7, 0.1], [0.3, 0.3, 0.4]])


def _bfce(y, p, balance=False, alpha=0.25, gamma=2.0):
    """The binary focal formula, element by element (no clip needed inside (0, 1))."""
    bce = -(y * np.log(p) + (1 - y) * np.log(1 - p))
    p_t = y * p + (1 - y) * (1 - p)
    out = (1 - p_t) ** gamma * bce
    if balance:
        out = out * (y * alpha + (1 - y) * (1 - alpha))
    return out.mean(axis=-1)


def _cfce(y, p, alpha=0.25, gamma=2.0):
    o = p / p.sum(axis=-1, keepdims=True)
    return (alpha * (1 - o) ** gamma * -y * np.log(o)).sum(axis=-1)


def test_values_are_the_formulas_and_keras():
    np.testing.assert_allclose(losses.binary_focal_crossentropy(Y, P), _bfce(Y, P), rtol=1e-6)
    # Keras 3.15: [0.0140267, 0.23459317], [0.00802519, 0.14748667], [0.5, 1.1]
    np.testing.assert_allclose(losses.binary_focal_crossentropy(Y, P),
                               [0.0140267, 0.23459317], rtol=1e-6)
    np.testing.assert_allclose(losses.categorical_focal_crossentropy(Y, P), _cfce(Y, P),
                               rtol=1e-6)
    np.testing.assert_allclose(losses.categorical_focal_crossentropy(Y, P),
                               [0.00802519, 0.14748667], rtol=1e-6)
    np.testing.assert_allclose(losses.categorical_hinge(Y, P), [0.5, 1.1], rtol=1e-6)
    inter, total = (Y * P).sum(), Y.sum() + P.sum()
    np.testing.assert_allclose(losses.dice(Y, P), 1 - 2 * inter / (total + 1e-7), rtol=1e-9)
    np.testing.assert_allclose(losses.dice(Y, P, axis=(1,)),
                               1 - 2 * (Y * P).sum(1) / (Y.sum(1) + P.sum(1) + 1e-7))
    fp, fn = ((1 - P) * Y).sum(), (P * (1 - Y)).sum()
    np.testing.assert_allclose(losses.tversky(Y, P, 0.3, 0.7),
                               1 - inter / (inter + 0.3 * fp + 0.7 * fn + 1e-7), rtol=1e-9)


def test_generalized_cross_entropy():
    labels = np.array([0, 2, 1])
    probs = np.array([[0.7, 0.2, 0.1], [0.1, 0.5, 0.4], [0.3, 0.3, 0.4]])
    p_y = probs[np.arange(3), labels]
    np.testing.assert_allclose(losses.categorical_generalized_cross_entropy(labels, probs, 0.7),
                               (1 - p_y ** 0.7) / 0.7, rtol=1e-9)
    # Keras 3.15
    np.testing.assert_allclose(losses.categorical_generalized_cross_entropy(labels, probs, 0.7),
                               [0.31563441, 0.67635303, 0.81355483], rtol=1e-7)
    # (N, 1) labels read as (N,); a label outside [0, C) picks no class: 1 / q
    np.testing.assert_allclose(
        losses.categorical_generalized_cross_entropy(np.array([[0], [5]]), probs[:2], 0.5),
        [(1 - 0.7 ** 0.5) / 0.5, 2.0])
    with pytest.raises(ValueError, match=r"q must be in the interval \(0, 1\)"):
        losses.CategoricalGeneralizedCrossEntropy(q=1.0)


def test_options_match_keras():
    z = P * 3 - 1
    # Keras 3.15's values for these arguments
    np.testing.assert_allclose(
        losses.binary_focal_crossentropy(Y, z, apply_class_balancing=True, from_logits=True,
                                         label_smoothing=0.1, gamma=1.5),
        [0.06028107, 0.15398457], rtol=1e-6)
    np.testing.assert_allclose(
        losses.categorical_focal_crossentropy(Y, z, alpha=[0.2, 0.3, 0.5], from_logits=True,
                                              label_smoothing=0.1, gamma=1.5),
        [0.052296, 0.14667368], rtol=1e-5)
    np.testing.assert_allclose(
        float(losses.Dice(reduction="sum", axis=(1,))(Y, P, sample_weight=[0.3, 0.9])), 0.72,
        rtol=1e-6)
    sig = 1 / (1 + np.exp(-z))
    np.testing.assert_allclose(
        losses.binary_focal_crossentropy(Y, z, apply_class_balancing=True, from_logits=True),
        _bfce(Y, sig, balance=True), rtol=1e-6)


CASES = {
    "bfce": lambda: losses.BinaryFocalCrossentropy(),
    "bfce_logits_balanced": lambda: losses.BinaryFocalCrossentropy(
        apply_class_balancing=True, from_logits=True, label_smoothing=0.1, gamma=1.5),
    "bfce_gamma0": lambda: losses.BinaryFocalCrossentropy(gamma=0.0),
    "cfce": lambda: losses.CategoricalFocalCrossentropy(),
    "cfce_logits": lambda: losses.CategoricalFocalCrossentropy(
        alpha=[0.2, 0.3, 0.5], gamma=1.5, from_logits=True, label_smoothing=0.1),
    "categorical_hinge": lambda: losses.CategoricalHinge(),
    "dice": lambda: losses.Dice(),
    "dice_axis": lambda: losses.Dice(axis=(1,)),
    "tversky": lambda: losses.Tversky(alpha=0.3, beta=0.7, axis=(1,)),
    "gce": lambda: losses.CategoricalGeneralizedCrossEntropy(q=0.7),
}


def _data(name, rng):
    y = np.eye(3)[rng.integers(0, 3, 5)]
    if name.startswith("bfce"):
        y = (rng.uniform(size=(5, 3)) > 0.5).astype("float64")
    p = rng.uniform(0.1, 0.9, (5, 3))
    if "logits" in name:
        p = rng.normal(size=(5, 3))
    if name == "categorical_hinge":  # margins away from 0 and from ties
        p = y * 0.9 + rng.uniform(0.0, 0.5, (5, 3)) * (1 - y)
    if name == "gce":  # integer labels
        y = y.argmax(axis=-1)
    return y, p


@pytest.mark.parametrize("name", CASES)
@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "sum"])
@pytest.mark.parametrize("weighted", [False, True])
def test_numerical_gradient(gradcheck, name, reduction, weighted):
    rng = np.random.default_rng(3)
    loss = CASES[name]()
    y, p = _data(name, rng)
    w = rng.uniform(0.2, 2.0, 5) if weighted and name != "dice" else None
    value, grad = loss.value_and_grad(y, p.copy(), w)
    mean = loss.__class__.from_config({**loss.get_config(), "reduction": reduction})

    def f():
        return float(loss(y, p, sample_weight=w))

    np.testing.assert_allclose(value, f(), rtol=1e-10)
    gradcheck.assert_close(grad, gradcheck.numerical_grad(f, p))
    # on a tape: one node whose gradient is value_and_grad's (times the count for sum)
    tensor = Tensor(p)
    with GradientTape() as tape:
        tape.watch(tensor)
        out = mean(y, tensor, sample_weight=w)
    tape_grad = np.asarray(tape.gradient(out, tensor))
    count = np.size(loss.call(y, p))
    factor = count if reduction == "sum" else 1
    np.testing.assert_allclose(float(out), value * factor, rtol=1e-9)
    np.testing.assert_allclose(tape_grad, grad * factor, rtol=1e-9, atol=1e-15)


@pytest.mark.parametrize("name", CASES)
def test_reductions_and_weights(name):
    loss = CASES[name]()
    rng = np.random.default_rng(4)
    y, p = _data(name, rng)
    per = loss.call(y, p)
    config = loss.get_config()
    none = loss.__class__.from_config({**config, "reduction": "none"})
    total = loss.__class__.from_config({**config, "reduction": "sum"})
    np.testing.assert_allclose(none(y, p), per)
    np.testing.assert_allclose(float(total(y, p)), np.sum(per), rtol=1e-9)
    np.testing.assert_allclose(float(loss(y, p)), np.mean(per), rtol=1e-9)
    if np.ndim(per):
        w = rng.uniform(0.2, 2.0, 5)
        np.testing.assert_allclose(float(loss(y, p, sample_weight=w)),
                                   np.sum(per * w) / per.size, rtol=1e-9)


@pytest.mark.parametrize("name", CASES)
def test_config_round_trip(name):
    loss = CASES[name]()
    again = losses.deserialize(losses.serialize(loss))
    assert type(again) is type(loss) and again.get_config() == loss.get_config()


def test_keras_configs():
    assert losses.BinaryFocalCrossentropy().get_config() == {
        "name": "binary_focal_crossentropy", "reduction": "sum_over_batch_size",
        "from_logits": False, "label_smoothing": 0.0, "axis": -1,
        "apply_class_balancing": False, "alpha": 0.25, "gamma": 2.0}
    assert losses.CategoricalFocalCrossentropy().get_config() == {
        "name": "categorical_focal_crossentropy", "reduction": "sum_over_batch_size",
        "from_logits": False, "label_smoothing": 0.0, "axis": -1, "alpha": 0.25,
        "gamma": 2.0}
    assert losses.CategoricalHinge().get_config() == {
        "name": "categorical_hinge", "reduction": "sum_over_batch_size"}
    assert losses.Dice().get_config() == {"name": "dice", "reduction": "sum_over_batch_size",
                                          "axis": None}
    assert losses.Tversky().get_config() == {
        "name": "tversky", "reduction": "sum_over_batch_size", "alpha": 0.5, "beta": 0.5,
        "axis": None}


@pytest.mark.parametrize("string,cls", [
    ("binary_focal_crossentropy", losses.BinaryFocalCrossentropy),
    ("categorical_focal_crossentropy", losses.CategoricalFocalCrossentropy),
    ("categorical_hinge", losses.CategoricalHinge), ("dice", losses.Dice),
    ("tversky", losses.Tversky), ("Dice", losses.Dice),
    ("categorical_generalized_cross_entropy", losses.CategoricalGeneralizedCrossEntropy)])
def test_strings_and_functions(string, cls):
    assert type(losses.get(string)) is cls
    function = getattr(losses, cls().name)
    assert type(losses.get(function)) is cls
    assert function.__module__ == "tinyann.losses"


def test_overlap_labels_of_one_rank_less():
    y, p = np.array([1.0, 0.0, 1.0]), np.array([[0.8], [0.3], [0.6]])
    np.testing.assert_allclose(losses.dice(y, p), losses.dice(y[:, None], p))
    np.testing.assert_allclose(losses.tversky(y, p), losses.tversky(y[:, None], p))


def test_categorical_focal_warns_on_one_class():
    with pytest.warns(SyntaxWarning, match="num_classes > 1"):
        losses.categorical_focal_crossentropy(np.ones((2, 1)), np.full((2, 1), 0.5))


@pytest.mark.parametrize("loss,last,labels", [
    ("binary_focal_crossentropy", "sigmoid", "binary"),
    ("categorical_focal_crossentropy", "softmax", "onehot"),
    ("categorical_hinge", "linear", "onehot"),
    ("dice", "sigmoid", "binary"), ("tversky", "sigmoid", "binary")])
def test_fit_with_each_loss_lowers_it(loss, last, labels):
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 4)).astype("float32")
    y = (x[:, :3] > 0).astype("float32") if labels == "binary" else np.eye(3, dtype="float32")[
        x[:, :3].argmax(axis=1)]
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation=last)])
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss=loss)
    history = model.fit(x, y, epochs=10, batch_size=16, verbose=0).history["loss"]
    assert history[-1] < history[0]


def test_generalized_cross_entropy_trains_by_fit_on_class_indices():
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])
    model.compile("adam", keras.losses.CategoricalGeneralizedCrossEntropy())
    rng = np.random.default_rng(0)
    x, y = rng.random((32, 4)), rng.integers(0, 3, 32)
    before = model.evaluate(x, y, verbose=0)
    model.fit(x, y, epochs=20, verbose=0)
    assert model.evaluate(x, y, verbose=0) < before
    y[0] = 3
    with pytest.raises(ValueError, match=r"must be integers in \[0, 3\)"):
        model.fit(x, y, verbose=0)
