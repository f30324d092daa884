"""Models and layers with several inputs or outputs, called on a GradientTape: every
trainable weight (and each watched input) gets its gradient, checked against central
differences in float64 (these gradients used to be silently None)."""

from __future__ import annotations

import numpy as np
import pytest

import tinyann as keras
from tinyann import layers, ops
from tinyann.autodiff import GradientTape, Tensor


def check_against_numeric(gradcheck, model, loss_of, inputs, watch=()):
    """Tape gradients of ``loss_of(model outputs)`` for the model's trainable weights and
    the Tensors in ``watch``, against central differences."""
    with GradientTape() as tape:
        tape.watch(list(watch))
        value = loss_of(model(inputs, training=True))
    weights = model.trainable_weights
    grads = tape.gradient(value, [*weights, *watch])
    assert len(weights) > 0
    for w, g in zip(weights, grads):
        assert g is not None, f"no gradient for {w.path}"
        numeric = gradcheck.numerical_grad(lambda: loss_of(model(inputs)), w.value)
        gradcheck.assert_close(g.numpy(), numeric, rtol=1e-6)
    for x, g in zip(watch, grads[len(weights):]):
        assert g is not None, "no gradient for a watched input"
        numeric = gradcheck.numerical_grad(lambda: loss_of(model(inputs)), x.value)
        gradcheck.assert_close(g.numpy(), numeric, rtol=1e-6)


def two_in_two_out():
    a = keras.Input((3,), name="a")
    b = keras.Input((2,), name="b")
    h = layers.Concatenate()([layers.Dense(4, activation="tanh")(a),
                              layers.Dense(4, activation="tanh")(b)])
    return keras.Model([a, b], [layers.Dense(2, name="o1")(h),
                                layers.Dense(1, activation="sigmoid", name="o2")(h)])


def two_output_loss(outs):
    first, second = outs
    return ops.sum(ops.square(first)) + ops.mean(second)


@pytest.mark.parametrize("as_dict", [False, True], ids=["list", "dict"])
def test_functional_model_two_inputs_two_outputs(gradcheck, as_dict):
    rng = np.random.default_rng(0)
    model = two_in_two_out()
    xa, xb = Tensor(rng.standard_normal((5, 3))), Tensor(rng.standard_normal((5, 2)))
    inputs = {"a": xa, "b": xb} if as_dict else [xa, xb]
    check_against_numeric(gradcheck, model, two_output_loss, inputs, watch=(xa, xb))


def test_one_input_two_outputs_and_dict_outputs(gradcheck):
    rng = np.random.default_rng(1)
    x = keras.Input((3,))
    h = layers.Dense(4, activation="relu")(x)
    model = keras.Model(x, {"mean": layers.Dense(2)(h), "scale": layers.Dense(1)(h)})
    data = Tensor(gradcheck.away_from_zero(rng, (6, 3)))

    def loss(outs):
        assert set(outs) == {"mean", "scale"}
        return ops.sum(outs["mean"] * outs["scale"])
    check_against_numeric(gradcheck, model, loss, data, watch=(data,))


def test_a_builtin_layer_with_a_list_of_inputs(gradcheck):
    rng = np.random.default_rng(2)
    left, right = layers.Dense(3), layers.Dense(3)
    x = Tensor(rng.standard_normal((4, 2)))

    class Pair:  # the two Dense layers and Add / Concatenate as one function
        trainable_weights = None

        def __init__(self, merge):
            self.merge = merge
            left.build((None, 2))
            right.build((None, 2))
            self.trainable_weights = left.trainable_weights + right.trainable_weights

        def __call__(self, inputs, training=False):
            return self.merge([left(inputs), right(inputs)])

    for merge in (layers.Add(), layers.Concatenate(), layers.Multiply()):
        check_against_numeric(gradcheck, Pair(merge), lambda y: ops.sum(ops.square(y)),
                              x, watch=(x,))


def test_subclassed_model_with_two_inputs(gradcheck):
    class TwoTowers(keras.Model):
        def __init__(self):
            super().__init__()
            self.da = layers.Dense(3, activation="tanh")
            self.db = layers.Dense(3)
            self.out = layers.Dense(1)

        def call(self, inputs):
            a, b = inputs
            return self.out(self.da(a) + self.db(b))

    rng = np.random.default_rng(3)
    model = TwoTowers()
    xa, xb = rng.standard_normal((4, 2)), rng.standard_normal((4, 5))
    model([xa, xb])
    check_against_numeric(gradcheck, model, lambda y: ops.sum(ops.square(y)), [xa, xb])


def test_users_ops_layer_with_two_inputs(gradcheck):
    class Bilinear(layers.Layer):
        def build(self, input_shape):
            self.w = self.add_weight(shape=(input_shape[0][-1], input_shape[1][-1]))

        def call(self, inputs):
            a, b = inputs
            return ops.sum(ops.matmul(a, self.w) * b, axis=-1)

    rng = np.random.default_rng(4)
    layer = Bilinear()
    xa, xb = Tensor(rng.standard_normal((3, 2))), Tensor(rng.standard_normal((3, 4)))

    class Wrapped:
        def __call__(self, inputs, training=False):
            return layer(inputs)

        @property
        def trainable_weights(self):
            layer([xa, xb])
            return layer.trainable_weights

    check_against_numeric(gradcheck, Wrapped(), lambda y: ops.sum(ops.square(y)),
                          [xa, xb], watch=(xa, xb))



def test_a_layer_called_with_a_mask_is_recorded(gradcheck):
    # `layer(x, mask=m)` on a tape used to run unrecorded: gradients silently None
    rng = np.random.default_rng(6)
    rnn = layers.SimpleRNN(3, return_sequences=True)
    x = rng.standard_normal((2, 4, 5))
    mask = np.array([[1, 1, 1, 0], [1, 1, 0, 0]], dtype=bool)
    rnn(x)

    def value():
        return float(ops.sum(ops.square(rnn(x, mask=mask))))
    with GradientTape() as tape:
        loss = ops.sum(ops.square(rnn(x, mask=mask, training=True)))
    assert float(loss) == pytest.approx(value(), rel=1e-12)
    for w, g in zip(rnn.trainable_weights, tape.gradient(loss, rnn.trainable_weights)):
        assert g is not None, w.path
        # the recurrent kernels are exact to ~1e-7 relative here
        gradcheck.assert_close(g.numpy(), gradcheck.numerical_grad(value, w.value, eps=1e-5),
                               rtol=1e-5, atol=1e-6)
    with GradientTape(), pytest.raises(NotImplementedError, match=r"received \['mask'\]"):
        rnn(x, mask=mask, training=False)


class TwoTowerOps(keras.Model):
    """Two inputs combined with keras.ops (not traceable into layers): list or dict."""

    def __init__(self, keyed=False, **kwargs):
        super().__init__(**kwargs)
        self.keyed = keyed
        self.da = layers.Dense(3, activation="tanh")
        self.db = layers.Dense(3)
        self.head = layers.Dense(1)

    def call(self, inputs):
        a, b = (inputs["a"], inputs["b"]) if self.keyed else inputs
        return self.head(ops.sin(self.da(a)) * self.db(b))


@pytest.mark.parametrize("keyed", [False, True], ids=["list", "dict"])
def test_subclassed_ops_model_with_two_inputs_on_a_tape_and_in_fit(gradcheck, keyed):
    rng = np.random.default_rng(7)
    xa, xb = rng.standard_normal((6, 2)), rng.standard_normal((6, 4))
    y = rng.standard_normal((6, 1))
    inputs = {"a": xa, "b": xb} if keyed else [xa, xb]
    model = TwoTowerOps(keyed=keyed)
    model(inputs)
    check_against_numeric(gradcheck, model, lambda out: ops.mean(ops.square(out - y)), inputs)
    with GradientTape() as tape:
        loss = ops.mean(ops.square(model(inputs, training=True) - y))
    grads = tape.gradient(loss, model.trainable_weights)
    before = [w.numpy().copy() for w in model.trainable_weights]
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    history = model.fit(inputs, y, batch_size=6, epochs=1, shuffle=False, verbose=0)
    assert history.history["loss"][0] == pytest.approx(float(loss), rel=1e-10)
    for w, start, g in zip(model.trainable_weights, before, grads):
        np.testing.assert_allclose(w.numpy(), start - 0.1 * g.numpy(), atol=1e-12)
    np.testing.assert_allclose(model.predict(inputs, verbose=0), model(inputs).numpy())
