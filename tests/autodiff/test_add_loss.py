"""``add_loss`` in a layer's or a model's ``call``, ``model.losses`` and
``compute_loss`` as Keras 3 has them: the terms are per call, fit / train_on_batch /
evaluate add them to the loss (logs included), and they are differentiated (checked
against the tape and against central differences)."""

from __future__ import annotations

import numpy as np
import pytest

import tinyann as keras
from tinyann import layers, ops
from tinyann.autodiff import GradientTape, Tensor


class ActivityPenalty(layers.Layer):
    """tanh(x w) with the loss term ``rate * sum(h^2)``. (n, d) -> (n, units)."""

    def __init__(self, units, rate=0.1, **kwargs):
        super().__init__(**kwargs)
        self.units, self.rate = units, rate

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1], self.units))

    def call(self, x):
        h = ops.tanh(ops.matmul(x, self.w))
        self.add_loss(self.rate * ops.sum(ops.square(h)))
        return h


class PenalisedModel(keras.Model):
    """A subclassed model that adds its own term with ``self.add_loss``."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.hidden = layers.Dense(4, activation="tanh")
        self.out = layers.Dense(1)

    def call(self, x):
        h = self.hidden(x)
        self.add_loss(0.05 * ops.mean(ops.abs(h)))
        return self.out(h)


def data(rows=8):
    rng = np.random.default_rng(0)
    return (rng.standard_normal((rows, 3)).astype("float32"),
            rng.standard_normal((rows, 1)).astype("float32"))


def sequential():
    return keras.Sequential([keras.Input((3,)), ActivityPenalty(4),
                             layers.Dense(1, kernel_regularizer=keras.regularizers.L2(0.01))])


def tape_loss_and_grads(model, x, y):
    """Keras's custom-loop loss: mse + sum(model.losses), and its tape gradients."""
    with GradientTape() as tape:
        pred = model(x, training=True)
        loss = ops.mean(ops.square(pred - y)) + ops.sum(ops.stack(model.losses))
    return float(loss), tape.gradient(loss, model.trainable_weights)


@pytest.mark.parametrize("make", [sequential, PenalisedModel], ids=["layer", "model"])
def test_fit_adds_the_terms_to_the_loss_and_its_gradient(make):
    x, y = data()
    model = make()
    model(x)
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    before = [w.numpy().copy() for w in model.trainable_weights]
    expected_loss, grads = tape_loss_and_grads(model, x, y)
    assert all(g is not None for g in grads)
    history = model.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    assert history.history["loss"][0] == pytest.approx(expected_loss, rel=1e-5)
    for w, start, g in zip(model.trainable_weights, before, grads):
        np.testing.assert_allclose(w.numpy(), start - 0.1 * g.numpy(), atol=1e-6)


@pytest.mark.parametrize("make", [sequential, PenalisedModel], ids=["layer", "model"])
def test_evaluate_and_train_on_batch_report_the_terms(make):
    x, y = data(16)
    model = make()
    model(x)
    model.compile(optimizer=keras.optimizers.SGD(0.0), loss="mse")
    # Keras averages the per-batch losses: each batch's terms with its own rows
    per_batch = []
    for rows in (slice(0, 8), slice(8, 16)):
        pred = model(x[rows])
        per_batch.append(float(ops.mean(ops.square(pred - y[rows])))
                         + sum(float(t) for t in model.losses))
    assert model.evaluate(x, y, batch_size=8, verbose=0) == pytest.approx(
        np.mean(per_batch), rel=1e-5)
    assert model.train_on_batch(x[:8], y[:8]) == pytest.approx(per_batch[0], rel=1e-5)


def test_terms_are_per_call_and_losses_include_regularizers():
    x, _ = data()
    model = sequential()
    model(x)
    first = [float(t) for t in model.losses]
    assert len(first) == 2          # the layer's term, then the Dense's L2 penalty
    model(x[:2])                    # a new call: its own term, not added to the old
    second = [float(t) for t in model.losses]
    assert len(second) == 2 and second[0] < first[0]
    kernel = model.layers[1].kernel.numpy()
    assert second[1] == pytest.approx(0.01 * float(np.sum(kernel ** 2)), rel=1e-6)
    h = np.tanh(x[:2] @ model.layers[0].w.numpy())
    assert second[0] == pytest.approx(0.1 * float(np.sum(h ** 2)), rel=1e-5)


def test_losses_gradient_matches_central_differences(gradcheck):
    rng = np.random.default_rng(1)
    x = Tensor(rng.standard_normal((5, 3)))
    layer = ActivityPenalty(2, rate=0.3)
    layer(x)
    with GradientTape() as tape:
        tape.watch(x)
        layer(x)
        total = ops.sum(ops.stack(layer.losses))
    dw, dx = tape.gradient(total, [layer.w, x])

    def value():
        layer(x)
        return float(layer.losses[0])
    gradcheck.assert_close(dw.numpy(), gradcheck.numerical_grad(value, layer.w.value))
    gradcheck.assert_close(dx.numpy(), gradcheck.numerical_grad(value, x.value))


def test_compute_loss_in_train_step_includes_the_terms_and_is_differentiable(gradcheck):
    class Stepped(PenalisedModel):
        def train_step(self, batch):
            x, y = batch
            with GradientTape() as tape:
                pred = self(x, training=True)
                loss = self.compute_loss(x=x, y=y, y_pred=pred)
            grads = tape.gradient(loss, self.trainable_weights)
            self.optimizer.apply_gradients(zip(grads, self.trainable_weights))
            self.seen = (float(loss), [g.numpy().copy() for g in grads])
            return {"loss": loss}

    x, y = (a.astype("float64") for a in data())
    model = Stepped()
    model(x)
    model.hidden.kernel.regularizer = keras.regularizers.L1(0.02)
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    before = [w.numpy().copy() for w in model.trainable_weights]
    pred = model(x)
    expected = float(ops.mean(ops.square(pred - y))) + sum(float(t) for t in model.losses)
    assert len(model.losses) == 2   # the model's add_loss term and the L1 penalty
    model.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    loss, grads = model.seen
    assert loss == pytest.approx(expected, rel=1e-5)
    # the gradient of compute_loss by central differences
    model.set_weights(before)

    def value():
        p = model(x)
        return float(model.compute_loss(x=x, y=y, y_pred=p))
    for w, g in zip(model.trainable_weights, grads):
        gradcheck.assert_close(g, gradcheck.numerical_grad(value, w.value),
                               rtol=1e-6)


def test_add_loss_refuses_what_is_not_a_number():
    layer = layers.Dense(2)
    with pytest.raises(TypeError, match="expects a number or a Tensor"):
        layer.add_loss("0.1")


class InnerOpsModel(keras.Model):
    """A subclassed model of ops with its own term, used as a layer of another model."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.dense = layers.Dense(3)

    def call(self, x):
        h = ops.tanh(self.dense(x))
        self.add_loss(0.1 * ops.sum(h * h))
        return h * 2.0


class Block(layers.Layer):
    """A layer made of layers (traced) whose second sublayer runs ops and adds a term."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.first = layers.Dense(3)
        self.second = ActivityPenalty(2, rate=0.2)

    def call(self, x):
        return self.second(self.first(x))


def nested_model():
    inputs = keras.Input((5,))
    return keras.Model(inputs, layers.Dense(1)(InnerOpsModel()(layers.Dense(4)(inputs))))


def block_model():
    return keras.Sequential([keras.Input((5,)), Block(), layers.Dense(1)])


@pytest.mark.parametrize("make", [nested_model, block_model], ids=["nested-model", "block"])
def test_terms_deep_inside_a_model_on_a_tape_and_in_fit(gradcheck, make):
    rng = np.random.default_rng(6)
    x, y = rng.standard_normal((4, 5)), rng.standard_normal((4, 1))
    model = make()

    def value():
        out = model(x)
        return float(ops.mean(ops.square(out - y))) + sum(float(t) for t in model.losses)
    with GradientTape() as tape:
        out = model(x, training=True)
        loss = ops.mean(ops.square(out - y)) + ops.sum(ops.stack(model.losses))
    assert len(model.losses) == 1
    grads = tape.gradient(loss, model.trainable_weights)
    for w, g in zip(model.trainable_weights, grads):
        gradcheck.assert_close(g.numpy(), gradcheck.numerical_grad(value, w.value))
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    before = [w.numpy().copy() for w in model.trainable_weights]
    history = model.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0)
    assert history.history["loss"][0] == pytest.approx(float(loss), rel=1e-10)
    for w, start, g in zip(model.trainable_weights, before, grads):
        np.testing.assert_allclose(w.numpy(), start - 0.1 * g.numpy(), atol=1e-12)


def test_a_term_on_weights_only_is_recomputed_at_every_step():
    # the call would trace into layers; its add_loss makes it run on values instead,
    # so the term follows the weights as they change
    class WeightPenalty(keras.Model):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.dense = layers.Dense(1)

        def call(self, x):
            out = self.dense(x)   # builds the kernel (Keras needs this order too)
            self.add_loss(0.5 * ops.sum(ops.square(self.dense.kernel)))
            return out

    x, y = data()
    model = WeightPenalty()
    model(x)
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    losses = []
    for _ in range(3):
        expected, grads = tape_loss_and_grads(model, x, y)
        kernel = model.dense.kernel.numpy().copy()
        losses.append(model.train_on_batch(x, y))
        assert losses[-1] == pytest.approx(expected, rel=1e-5)
        np.testing.assert_allclose(model.dense.kernel.numpy(), kernel - 0.1 * grads[0].numpy(),
                                   atol=1e-6)
    assert losses[2] < losses[0]
