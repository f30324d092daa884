"""Losses: ``value_and_grad`` against finite differences of ``__call__``, the fused
softmax / sigmoid gradients against finite differences through the activation,
the fast path against the slow one, values, reductions and lookups."""

import numpy as np
import pytest

from tinyann import activations, losses


def _probs(rng, shape):
    """Rows of positive probabilities summing to 1, none near 0 or 1."""
    p = rng.uniform(0.2, 1.0, size=shape)
    return p / p.sum(axis=-1, keepdims=True)


def _check(gradcheck, loss, y_true, y_pred, sample_weight=None):
    value, grad = loss.value_and_grad(y_true, y_pred.copy(), sample_weight)
    assert isinstance(value, float) and grad.shape == y_pred.shape

    def f():
        return loss(y_true, y_pred, sample_weight=sample_weight)

    np.testing.assert_allclose(value, f(), rtol=1e-12)
    gradcheck.assert_close(grad, gradcheck.numerical_grad(f, y_pred))


WEIGHTS = [None, "weights"]


def _weights(rng, kind, n):
    return None if kind is None else rng.uniform(0.2, 2.0, size=n)


# ------------------------------------------------------------ value_and_grad vs __call__
@pytest.mark.parametrize("from_logits", [False, True], ids=["probs", "logits"])
@pytest.mark.parametrize("weights", WEIGHTS)
@pytest.mark.parametrize("label_shape", ["flat", "column"])
def test_sparse_categorical_crossentropy(gradcheck, from_logits, weights, label_shape):
    rng = np.random.default_rng(0)
    y_pred = rng.normal(size=(5, 4)) if from_logits else _probs(rng, (5, 4))
    y_true = rng.integers(0, 4, size=5)
    if label_shape == "column":
        y_true = y_true[:, None]
    loss = losses.SparseCategoricalCrossentropy(from_logits=from_logits)
    _check(gradcheck, loss, y_true, y_pred, _weights(rng, weights, 5))


@pytest.mark.parametrize("from_logits", [False, True], ids=["probs", "logits"])
def test_sparse_categorical_crossentropy_3d(gradcheck, from_logits):
    rng = np.random.default_rng(1)
    y_pred = rng.normal(size=(2, 3, 4)) if from_logits else _probs(rng, (2, 3, 4))
    y_true = rng.integers(0, 4, size=(2, 3))
    loss = losses.SparseCategoricalCrossentropy(from_logits=from_logits)
    _check(gradcheck, loss, y_true, y_pred, rng.uniform(0.5, 2.0, size=2))


@pytest.mark.parametrize("from_logits", [False, True], ids=["probs", "logits"])
@pytest.mark.parametrize("weights", WEIGHTS)
@pytest.mark.parametrize("label_smoothing", [0.0, 0.2])
def test_categorical_crossentropy(gradcheck, from_logits, weights, label_smoothing):
    rng = np.random.default_rng(2)
    y_pred = rng.normal(size=(5, 4)) if from_logits else _probs(rng, (5, 4))
    y_true = np.eye(4)[rng.integers(0, 4, size=5)]
    loss = losses.CategoricalCrossentropy(from_logits=from_logits,
                                          label_smoothing=label_smoothing)
    _check(gradcheck, loss, y_true, y_pred, _weights(rng, weights, 5))


@pytest.mark.parametrize("from_logits", [False, True], ids=["probs", "logits"])
@pytest.mark.parametrize("weights", WEIGHTS)
@pytest.mark.parametrize("label_smoothing", [0.0, 0.2])
@pytest.mark.parametrize("shape", [(5, 3), (5, 1)])
def test_binary_crossentropy(gradcheck, from_logits, weights, label_smoothing, shape):
    rng = np.random.default_rng(3)
    y_pred = rng.normal(size=shape) if from_logits else rng.uniform(0.05, 0.95, size=shape)
    y_true = rng.integers(0, 2, size=shape).astype("float64")
    loss = losses.BinaryCrossentropy(from_logits=from_logits, label_smoothing=label_smoothing)
    _check(gradcheck, loss, y_true, y_pred, _weights(rng, weights, 5))


def test_binary_crossentropy_flat_labels(gradcheck):
    """Labels (N,) against predictions (N, 1), as a sigmoid output gets them."""
    rng = np.random.default_rng(4)
    y_pred = rng.uniform(0.05, 0.95, size=(6, 1))
    _check(gradcheck, losses.BinaryCrossentropy(), rng.integers(0, 2, size=6), y_pred)


def _regression_pair(rng, shape, kinks=(), margin=0.05):
    """(y_true, y_pred) whose |differences| stay ``margin`` away from each of ``kinks``."""
    y_true = rng.normal(size=shape)
    for _ in range(200):
        diff = rng.normal(0.0, 1.5, size=shape)
        if all(np.min(np.abs(np.abs(diff) - k)) > margin for k in kinks):
            return y_true, y_true + diff
    raise AssertionError("could not draw differences away from the kinks")


@pytest.mark.parametrize("name", ["mse", "mae", "huber", "huber_half"])
@pytest.mark.parametrize("weights", WEIGHTS)
@pytest.mark.parametrize("shape", [(5, 3), (2, 3, 2)])
def test_regression_losses(gradcheck, name, weights, shape):
    rng = np.random.default_rng(5)
    loss = {"mse": losses.MeanSquaredError(), "mae": losses.MeanAbsoluteError(),
            "huber": losses.Huber(), "huber_half": losses.Huber(delta=0.5)}[name]
    kinks = {"mae": (0.0,), "huber": (1.0,), "huber_half": (0.5,)}.get(name, ())
    y_true, y_pred = _regression_pair(rng, shape, kinks)
    _check(gradcheck, loss, y_true, y_pred, _weights(rng, weights, shape[0]))


# ------------------------------------------------------------ fused paths
@pytest.mark.parametrize("weights", WEIGHTS)
@pytest.mark.parametrize("kind", ["sparse", "categorical", "categorical_smoothed"])
def test_fused_softmax_crossentropy_gradient_is_dl_dlogits(gradcheck, weights, kind):
    """fused=True takes the softmax output and returns dL/dlogits."""
    rng = np.random.default_rng(6)
    z = rng.normal(size=(5, 4))
    labels = rng.integers(0, 4, size=5)
    if kind == "sparse":
        loss, y_true = losses.SparseCategoricalCrossentropy(), labels
    else:
        smoothing = 0.1 if kind == "categorical_smoothed" else 0.0
        loss, y_true = losses.CategoricalCrossentropy(label_smoothing=smoothing), np.eye(4)[labels]
    assert loss.fused_activation == "softmax"
    sw = _weights(rng, weights, 5)

    value, grad = loss.value_and_grad(y_true, activations.softmax(z), sw, fused=True)

    def f():
        return loss(y_true, activations.softmax(z), sample_weight=sw)

    np.testing.assert_allclose(value, f(), rtol=1e-12)
    gradcheck.assert_close(grad, gradcheck.numerical_grad(f, z))


@pytest.mark.parametrize("weights", WEIGHTS)
@pytest.mark.parametrize("label_smoothing", [0.0, 0.2])
@pytest.mark.parametrize("shape", [(5, 1), (5, 3)])
def test_fused_sigmoid_binary_crossentropy_gradient_is_dl_dlogits(gradcheck, weights,
                                                                   label_smoothing, shape):
    rng = np.random.default_rng(7)
    z = rng.normal(size=shape)
    y_true = rng.integers(0, 2, size=shape).astype("float64")
    loss = losses.BinaryCrossentropy(label_smoothing=label_smoothing)
    assert loss.fused_activation == "sigmoid"
    sw = _weights(rng, weights, shape[0])

    value, grad = loss.value_and_grad(y_true, activations.sigmoid(z), sw, fused=True)

    def f():
        return loss(y_true, activations.sigmoid(z), sample_weight=sw)

    np.testing.assert_allclose(value, f(), rtol=1e-12)
    gradcheck.assert_close(grad, gradcheck.numerical_grad(f, z))


@pytest.mark.parametrize("loss", [losses.SparseCategoricalCrossentropy(),
                                  losses.SparseCategoricalCrossentropy(from_logits=True),
                                  losses.CategoricalCrossentropy(),
                                  losses.BinaryCrossentropy(),
                                  losses.BinaryCrossentropy(from_logits=True)],
                         ids=["sparse", "sparse_logits", "categorical", "binary",
                              "binary_logits"])
def test_the_fused_gradient_is_the_op(monkeypatch, loss):
    """Every fused (and from_logits) gradient comes from one op:
    tinyann.kernels.softmax_cross_entropy_grad, or for sparse labels on softmax
    probabilities sparse_softmax_cross_entropy (the value and the gradient at once)."""
    from tinyann import kernels

    calls = []
    sparse_probs = type(loss).__name__ == "SparseCategoricalCrossentropy" and not loss.from_logits
    name = "sparse_softmax_cross_entropy" if sparse_probs else "softmax_cross_entropy_grad"
    op = getattr(kernels, name)

    def spy(probs, *args, **kwargs):
        calls.append(probs.shape)
        return op(probs, *args, **kwargs)

    monkeypatch.setattr(kernels, name, spy)
    rng = np.random.default_rng(10)
    probs = _probs(rng, (4, 3)).astype("float32")
    labels = rng.integers(0, 3, size=4)
    y_true = {"SparseCategoricalCrossentropy": labels,
              "CategoricalCrossentropy": np.eye(3)[labels],
              "BinaryCrossentropy": rng.integers(0, 2, size=(4, 3))}[type(loss).__name__]
    loss.value_and_grad(y_true, probs, fused=True)
    assert calls == [(4, 3)]


def test_value_and_grad_leaves_inputs_alone():
    rng = np.random.default_rng(9)
    probs = activations.softmax(rng.normal(size=(4, 3)))
    kept = probs.copy()
    y = rng.integers(0, 3, size=4)
    for checked in (False, True):
        losses.SparseCategoricalCrossentropy().value_and_grad(y, probs, None, True, checked)
        np.testing.assert_array_equal(probs, kept)


# ------------------------------------------------------------ values and reductions
def test_categorical_crossentropy_known_values():
    """The example in Keras's documentation of categorical_crossentropy."""
    y_true = np.eye(3, dtype="float32")
    y_pred = np.array([[.9, .05, .05], [.05, .89, .06], [.05, .01, .94]], dtype="float32")
    np.testing.assert_allclose(losses.categorical_crossentropy(y_true, y_pred),
                               [0.10536, 0.11653, 0.06188], atol=1e-5)
    np.testing.assert_allclose(
        losses.sparse_categorical_crossentropy([0, 1, 2], y_pred), [0.10536, 0.11653, 0.06188],
        atol=1e-5)


def test_binary_crossentropy_formula_and_clipping():
    y = np.array([[0.0, 1.0, 1.0]])
    p = np.array([[0.2, 0.7, 1.0]])
    eps = 1e-7
    expected = -np.mean([np.log(0.8), np.log(0.7), np.log(1.0 - eps)])
    np.testing.assert_allclose(losses.binary_crossentropy(y, p), [expected], rtol=1e-6)
    logits = np.array([[-50.0, 0.0, 50.0]])
    np.testing.assert_allclose(losses.binary_crossentropy(y, logits, from_logits=True),
                               [np.mean([0.0, np.log(2.0), 0.0])], atol=1e-12)


def test_huber_formula():
    err = np.array([[0.5, -2.0]])
    expected = np.mean([0.5 * 0.25, 0.5 + 1.0 * (2.0 - 1.0)])
    np.testing.assert_allclose(losses.huber(np.zeros((1, 2)), err), [expected])


@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "sum", "none"])
def test_reductions(reduction, float64):
    rng = np.random.default_rng(10)
    y_true, y_pred = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    sw = rng.uniform(0.5, 2.0, size=4)
    per = np.mean((y_true - y_pred) ** 2, axis=-1) * sw
    expected = {"sum_over_batch_size": per.sum() / 4, "sum": per.sum(), "none": per}[reduction]
    result = losses.MeanSquaredError(reduction=reduction)(y_true, y_pred, sample_weight=sw)
    np.testing.assert_allclose(result, expected, rtol=1e-12)
    assert np.asarray(result).dtype == np.float64


def test_invalid_reduction():
    with pytest.raises(ValueError, match="Invalid value for argument `reduction`"):
        losses.MeanSquaredError(reduction="average")


# ------------------------------------------------------------ errors
def test_sparse_labels_out_of_range():
    probs = np.full((2, 3), 1 / 3)
    with pytest.raises(ValueError, match=r"integers in \[0, 3\)\. Received: max label 3"):
        losses.SparseCategoricalCrossentropy().value_and_grad(np.array([0, 3]), probs)
    with pytest.raises(ValueError, match="min label -1"):
        losses.sparse_categorical_crossentropy(np.array([-1, 0]), probs)


def test_sparse_labels_not_integers():
    with pytest.raises(ValueError, match="non-integer values such as \\[0.5\\]"):
        losses.sparse_categorical_crossentropy(np.array([0.5, 1.0]), np.full((2, 3), 1 / 3))


def test_one_hot_shape_mismatch_hints_sparse():
    with pytest.raises(ValueError, match="same shape.*sparse_categorical_crossentropy"):
        losses.categorical_crossentropy(np.array([0, 2]), np.full((2, 3), 1 / 3))


# ------------------------------------------------------------ lookups
ALL_LOSSES = [
    losses.SparseCategoricalCrossentropy(from_logits=True),
    losses.CategoricalCrossentropy(label_smoothing=0.1),
    losses.BinaryCrossentropy(from_logits=True, label_smoothing=0.2),
    losses.MeanSquaredError(reduction="sum"),
    losses.MeanAbsoluteError(),
    losses.Huber(delta=0.5),
]


@pytest.mark.parametrize("loss", ALL_LOSSES, ids=lambda loss: type(loss).__name__)
def test_serialize_deserialize_round_trip(loss):
    config = losses.serialize(loss)
    assert config["class_name"] == type(loss).__name__
    for restored in (losses.deserialize(config), losses.get(config)):
        assert type(restored) is type(loss)
        assert restored.get_config() == loss.get_config()


@pytest.mark.parametrize("name, cls", [
    ("sparse_categorical_crossentropy", losses.SparseCategoricalCrossentropy),
    ("categorical_crossentropy", losses.CategoricalCrossentropy),
    ("binary_crossentropy", losses.BinaryCrossentropy),
    ("mse", losses.MeanSquaredError), ("mean_squared_error", losses.MeanSquaredError),
    ("mae", losses.MeanAbsoluteError), ("huber", losses.Huber),
    ("MeanSquaredError", losses.MeanSquaredError),
])
def test_get_from_string(name, cls):
    assert type(losses.get(name)) is cls
    assert type(losses.deserialize(name)) is cls


def test_get_from_function_and_class():
    assert type(losses.get(losses.mean_squared_error)) is losses.MeanSquaredError
    assert type(losses.get(losses.sparse_categorical_crossentropy)) is (
        losses.SparseCategoricalCrossentropy)
    assert type(losses.get(losses.Huber)) is losses.Huber


def test_unknown_string_lists_valid_names():
    with pytest.raises(ValueError, match=r"Could not interpret loss identifier: 'msee'.*'mse'"):
        losses.get("msee")


@pytest.mark.parametrize("bad", [{"name": "mse"}, ["mse"], 3])
def test_get_rejects_other_types(bad):
    with pytest.raises(ValueError, match="Could not interpret loss identifier"):
        losses.get(bad)


def test_unknown_class_name():
    with pytest.raises(ValueError, match="Unknown loss class 'Triplet'"):
        losses.deserialize({"class_name": "Triplet", "config": {}})
