"""Softmax (sigmoid) + cross-entropy on a GradientTape: the loss hands dL/dz to the
model's node, skipping the activation's derivative, as fit does, and only when that
is exact (every other use of the probabilities takes the ordinary path)."""

from __future__ import annotations

import numpy as np
import pytest

import tinyann as keras
from tinyann import kernels, ops
from tinyann.autodiff import GradientTape, Tensor


@pytest.fixture
def softmax_calls(monkeypatch):
    """How many times the softmax's derivative ran (the fused path skips it)."""
    calls = []
    original = kernels.softmax_backward

    def counting(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(kernels, "softmax_backward", counting)
    return calls


def _model(activation="softmax", units=4):
    keras.utils.set_random_seed(3)
    return keras.Sequential([keras.Input((5,)), keras.layers.Dense(6, activation="tanh"),
                             keras.layers.Dense(units, activation=activation)])


def _data(n=7, classes=4):
    rng = np.random.default_rng(0)
    return rng.standard_normal((n, 5)), rng.integers(0, classes, n), rng.uniform(0.5, 2, n)


def _reference(model, x, dz):
    """Gradients of the two Dense layers' weights given dL/dz of the last one (float64)."""
    (w1, b1), (w2, _) = [layer.get_weights() for layer in model.layers]
    h = np.tanh(x @ w1 + b1)
    dh = (dz @ w2.T) * (1 - h * h)
    return [x.T @ dh, dh.sum(0), h.T @ dz, dz.sum(0)]


def _probs(model, x):
    (w1, b1), (w2, b2) = [layer.get_weights() for layer in model.layers]
    z = np.tanh(x @ w1 + b1) @ w2 + b2
    e = np.exp(z - z.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def _close(grads, expected, rtol=1e-9):
    assert len(grads) == len(expected)
    for g, e in zip(grads, expected):
        np.testing.assert_allclose(np.asarray(g), e, rtol=rtol, atol=1e-12)


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "sum"])
def test_sparse_crossentropy_on_a_softmax_model_is_fused(float64, softmax_calls, weighted,
                                                          reduction):
    model = _model()
    x, y, w = _data()
    sw = w if weighted else None
    loss_fn = keras.losses.SparseCategoricalCrossentropy(reduction=reduction)
    with GradientTape() as tape:
        loss = loss_fn(y, model(x, training=True), sample_weight=sw)
    grads = tape.gradient(loss, model.trainable_weights)
    assert not softmax_calls
    p = _probs(model, x)
    per = -np.log(p[np.arange(len(y)), y]) * (1 if sw is None else sw)
    scale = (1 if sw is None else sw[:, None]) / (len(y) if reduction != "sum" else 1)
    np.testing.assert_allclose(float(loss), per.sum() / (len(y) if reduction != "sum" else 1),
                               rtol=1e-9)
    _close(grads, _reference(model, x, (p - np.eye(4)[y]) * scale))


def test_reduction_sum_on_a_tensor_is_the_sum(float64):
    """Keras's reduction="sum" (it was the mean on a Tensor), fused or not."""
    rng = np.random.default_rng(1)
    p = rng.uniform(0.1, 1, (6, 3))
    p /= p.sum(-1, keepdims=True)
    y = rng.integers(0, 3, 6)
    for loss_fn in (keras.losses.SparseCategoricalCrossentropy(reduction="sum"),
                    keras.losses.MeanSquaredError(reduction="sum")):
        target = y if loss_fn.name.startswith("sparse") else p[::-1]
        pred = Tensor(p)
        with GradientTape() as tape:
            tape.watch(pred)
            loss = loss_fn(target, pred)
        np.testing.assert_allclose(float(loss), float(loss_fn(target, p)), rtol=1e-12)
        grad = tape.gradient(loss, pred).numpy()
        mean = type(loss_fn)()
        with GradientTape() as tape:
            tape.watch(pred)
            mean_loss = mean(target, pred)
        np.testing.assert_allclose(grad, tape.gradient(mean_loss, pred).numpy() * 6, rtol=1e-12)


@pytest.mark.parametrize("kind", ["categorical", "binary"])
def test_categorical_and_binary_crossentropy_fuse_too(float64, monkeypatch, kind):
    activation = "softmax" if kind == "categorical" else "sigmoid"
    calls = []
    original = getattr(kernels, f"{activation}_backward")
    monkeypatch.setattr(kernels, f"{activation}_backward",
                        lambda *a: calls.append(1) or original(*a))
    model = _model(activation)
    x, y, _ = _data()
    targets = np.eye(4)[y] if kind == "categorical" else (np.eye(4)[y] > 0).astype(float)
    loss_fn = (keras.losses.CategoricalCrossentropy() if kind == "categorical"
               else keras.losses.BinaryCrossentropy())
    with GradientTape() as tape:
        loss = loss_fn(targets, model(x, training=True))
    grads = tape.gradient(loss, model.trainable_weights)
    assert not calls
    (w1, b1), (w2, b2) = [layer.get_weights() for layer in model.layers]
    z = np.tanh(x @ w1 + b1) @ w2 + b2
    if kind == "categorical":
        p = np.exp(z - z.max(-1, keepdims=True))
        p /= p.sum(-1, keepdims=True)
        dz = (p - targets) / len(y)
    else:
        dz = (1 / (1 + np.exp(-z)) - targets) / targets.size
    _close(grads, _reference(model, x, dz))


def _unfused_grads(model, x, y, sw=None):
    """The same gradients through the ordinary path: dL/dp through the softmax."""
    loss_fn = keras.losses.SparseCategoricalCrossentropy()
    with GradientTape() as tape:
        pred = model(x, training=True)
        # (the probabilities used by a second, zero-weighted op: no fusion)
        loss = loss_fn(y, pred, sample_weight=sw) + 0.0 * ops.sum(pred)
    return [g.numpy() for g in tape.gradient(loss, model.trainable_weights)]


def test_probabilities_used_elsewhere_take_the_ordinary_path(float64, softmax_calls):
    model = _model()
    x, y, _ = _data()
    loss_fn = keras.losses.SparseCategoricalCrossentropy()
    with GradientTape() as tape:
        pred = model(x, training=True)
        loss = loss_fn(y, pred) + ops.mean(ops.square(pred))
    grads = tape.gradient(loss, model.trainable_weights)
    assert softmax_calls
    p = _probs(model, x)
    # d/dp of the loss through the normalisation, plus 2p / size; then the softmax's
    dp = -np.eye(4)[y] / p / len(y) + np.eye(4)[y].sum(-1, keepdims=True) / len(y)
    dp += 2 * p / p.size
    dz = p * (dp - (dp * p).sum(-1, keepdims=True))
    _close(grads, _reference(model, x, dz), rtol=1e-8)


def test_loss_applied_twice_fuses_both(float64, softmax_calls):
    model = _model()
    x, y, w = _data()
    y2 = (y + 1) % 4
    loss_fn = keras.losses.SparseCategoricalCrossentropy()
    with GradientTape() as tape:
        pred = model(x, training=True)
        loss = loss_fn(y, pred) + 2.0 * loss_fn(y2, pred, sample_weight=w)
    grads = tape.gradient(loss, model.trainable_weights)
    assert not softmax_calls
    p = _probs(model, x)
    dz = (p - np.eye(4)[y]) / len(y) + 2 * (p - np.eye(4)[y2]) * w[:, None] / len(y)
    _close(grads, _reference(model, x, dz))


def test_probabilities_as_a_source_get_dl_dp(float64):
    model = _model()
    x, y, _ = _data()
    loss_fn = keras.losses.SparseCategoricalCrossentropy()
    with GradientTape() as tape:
        pred = model(x, training=True)
        loss = loss_fn(y, pred)
    dp, *grads = tape.gradient(loss, [pred, *model.trainable_weights])
    p = _probs(model, x)
    # dL/dp_j = (1 - onehot_j / p_j) / N (the loss normalises p by its sum)
    np.testing.assert_allclose(dp.numpy(), (1 - np.eye(4)[y] / p) / len(y), rtol=1e-9)
    _close(grads, _reference(model, x, (p - np.eye(4)[y]) / len(y)))


def test_persistent_tape_gives_the_same_gradients_twice(float64):
    model = _model()
    x, y, _ = _data()
    loss_fn = keras.losses.SparseCategoricalCrossentropy()
    with GradientTape(persistent=True) as tape:
        pred = model(x, training=True)
        loss = loss_fn(y, pred)
    first = [g.numpy() for g in tape.gradient(loss, model.trainable_weights)]
    dp = tape.gradient(loss, pred)   # the probabilities now a source: unfused
    second = [g.numpy() for g in tape.gradient(loss, model.trainable_weights)]
    assert dp is not None
    _close(second, first, rtol=1e-12)
    _close(first, _unfused_grads(model, x, y), rtol=1e-9)


@pytest.mark.parametrize("case", ["from_logits", "other_activation", "outer_tape",
                                  "user_backward"])
def test_no_fusion_where_it_would_be_wrong(float64, softmax_calls, case):
    model = _model()
    x, y, _ = _data()
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=case == "from_logits")
    if case == "other_activation":
        loss_fn = keras.losses.BinaryCrossentropy()
        y = np.eye(4)[y]
    if case == "user_backward":
        class MyDense(keras.layers.Dense):
            def backward(self, grad_output):   # a user's derivative: never bypassed
                return super().backward(grad_output * 2.0)

        keras.utils.set_random_seed(3)
        model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(6, activation="tanh"),
                                  MyDense(4, activation="softmax")])
    outer = GradientTape(persistent=True)
    with outer:
        with GradientTape() as tape:
            loss = loss_fn(y, model(x, training=True))
        if case == "outer_tape":
            grads = tape.gradient(loss, model.trainable_weights)
    if case != "outer_tape":
        grads = tape.gradient(loss, model.trainable_weights)
    assert softmax_calls
    if case == "user_backward":
        expected = _unfused_grads(model, x, y)
        np.testing.assert_allclose(np.asarray(grads[2]), expected[2], rtol=1e-9)
    elif case == "outer_tape":
        _close(grads, _unfused_grads(model, x, y), rtol=1e-9)


def test_a_dense_layer_alone_fuses(float64, softmax_calls):
    keras.utils.set_random_seed(2)
    layer = keras.layers.Dense(3, activation="softmax")
    x, y, _ = _data(classes=3)
    with GradientTape() as tape:
        loss = keras.losses.SparseCategoricalCrossentropy()(y, layer(x))
    dw, db = tape.gradient(loss, [layer.kernel, layer.bias])
    assert not softmax_calls
    w, b = layer.get_weights()
    z = x @ w + b
    p = np.exp(z - z.max(-1, keepdims=True))
    p /= p.sum(-1, keepdims=True)
    dz = (p - np.eye(3)[y]) / len(y)
    _close([dw, db], [x.T @ dz, dz.sum(0)])


def test_a_tape_step_trains_as_fit_does():
    """The fused tape step and fit's step give the same weights (float32, bit for bit
    up to the loss's rounding)."""
    x, y, _ = _data(n=32, classes=4)
    x = x.astype("float32")
    fitted, taped = _model(), _model()
    fitted.compile(optimizer=keras.optimizers.Adam(), loss="sparse_categorical_crossentropy")
    fitted.fit(x, y, batch_size=32, epochs=3, shuffle=False, verbose=0)
    optimizer, loss_fn = keras.optimizers.Adam(), keras.losses.SparseCategoricalCrossentropy()
    for _ in range(3):
        with GradientTape() as tape:
            loss = loss_fn(y, taped(x, training=True))
        grads = tape.gradient(loss, taped.trainable_weights)
        optimizer.apply_gradients(zip(grads, taped.trainable_weights))
    for a, b in zip(fitted.get_weights(), taped.get_weights()):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-6)


@pytest.mark.parametrize("labels_dtype", ["int64", "int32", "uint8"])
@pytest.mark.parametrize("bad, received", [(4, "max label 4"), (-1, "min label -1")])
def test_labels_out_of_range_on_a_tape(labels_dtype, bad, received):
    """The one-pass sparse kernel checks the labels itself; a label outside [0, C)
    gets fit's error, whatever the labels' integer type."""
    model = _model()
    x, y, _ = _data()
    if labels_dtype == "uint8" and bad < 0:
        bad, received = 255, "max label 255"
    y[2] = bad
    with GradientTape():
        with pytest.raises(ValueError, match=(
                r"Labels for sparse_categorical_crossentropy must be integers in \[0, 4\)\. "
                f"Received: {received}")):
            keras.losses.SparseCategoricalCrossentropy()(y.astype(labels_dtype),
                                                         model(x, training=True))


def test_fused_sparse_step_matches_the_plain_formula(float64):
    """The fused sparse step on a tape: the loss value and the weights' gradients of
    -mean(log p_y) through the softmax, computed with ops (no fusion)."""
    model = _model()
    x, y, _ = _data()
    with GradientTape() as tape:
        loss = keras.losses.SparseCategoricalCrossentropy()(y, model(x, training=True))
    fused = [g.numpy() for g in tape.gradient(loss, model.trainable_weights)]
    with GradientTape() as tape:
        p = model(x, training=True)
        plain = -ops.mean(ops.log((p * 1.0)[np.arange(len(y)), y]))
    expected = [g.numpy() for g in tape.gradient(plain, model.trainable_weights)]
    np.testing.assert_allclose(float(loss), float(plain), rtol=1e-9)
    for got, want in zip(fused, expected):
        np.testing.assert_allclose(got, want, rtol=1e-7, atol=1e-12)
