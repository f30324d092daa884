"""Subclassed models (``class MyModel(keras.Model)`` with its own ``call``): traced
once into a layer graph, then trained, evaluated, predicted and summarised."""

import io

import numpy as np
import pytest

import tinyann as keras
from tinyann import layers
from tinyann.autodiff import GradientTape


class MLP(keras.Model):
    """The textbook's ReLU network, written as a subclass."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        # assigned out of calling order on purpose: `layers` follows assignment
        self.out = layers.Dense(10, activation="softmax")
        self.hidden = layers.Dense(16, activation="relu")
        self.drop = layers.Dropout(0.3)

    def call(self, inputs, training=False):
        x = self.hidden(inputs)
        x = self.drop(x, training=training)
        return self.out(x)


class Residual(keras.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.inner = layers.Dense(8, activation="tanh")
        self.head = layers.Dense(3, activation="softmax")

    def call(self, inputs):
        return self.head(inputs + self.inner(inputs))


class TwoInputs(keras.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.a = layers.Dense(4, activation="tanh")
        self.b = layers.Dense(4, activation="tanh")
        self.head = layers.Dense(3, activation="softmax")

    def call(self, inputs):
        left, right = inputs
        b = self.b(right)
        return self.head(self.a(left) * b + b)


def _data(n=64, features=8, classes=10, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, features)).astype("float32"), rng.integers(0, classes, n)


def test_layers_names_and_weights_follow_keras():
    model = MLP()
    assert model.name.startswith("mlp")
    assert [type(layer).__name__ for layer in model.layers] == ["Dense", "Dense", "Dropout"]
    assert not model.built and model.weights == []
    model.build((None, 8))
    assert model.built
    # weights in the order the layers were assigned, as Keras lists them
    assert [w.shape for w in model.weights] == [(16, 10), (10,), (8, 16), (16,)]
    assert model.count_params() == 16 * 10 + 10 + 8 * 16 + 16
    assert MLP(name="given").name == "given"


def test_summary_before_and_after_build():
    model = MLP(name="mlp_summary")
    before = io.StringIO()
    model.summary(print_fn=before.write)
    assert "0 (unbuilt)" in before.getvalue() and "?" in before.getvalue()
    model(np.zeros((2, 8), "float32"))  # built by its first call, as in Keras
    after = io.StringIO()
    model.summary(print_fn=after.write)
    text = after.getvalue()
    assert "(None, 10)" in text and "(None, 16)" in text
    assert "Total params: 314 (1.23 KB)" in text
    assert "Connected to" not in text  # Keras's layout for subclassed models


def test_trains_exactly_like_the_same_sequential():
    x, y = _data()
    keras.utils.set_random_seed(3)
    sub = MLP()
    sub.build((None, 8))
    seq = keras.Sequential([keras.Input((8,)), layers.Dense(16, activation="relu"),
                            layers.Dropout(0.3), layers.Dense(10, activation="softmax")])
    # the Sequential lists its weights in calling order
    hidden_k, hidden_b = sub.hidden.get_weights()
    out_k, out_b = sub.out.get_weights()
    seq.set_weights([hidden_k, hidden_b, out_k, out_b])
    histories = []
    for model in (sub, seq):
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"])
        keras.utils.set_random_seed(7)
        histories.append(model.fit(x, y, batch_size=16, epochs=3, verbose=0).history)
    assert histories[0] == histories[1]
    np.testing.assert_array_equal(sub.hidden.get_weights()[0], seq.layers[0].get_weights()[0])
    np.testing.assert_array_equal(sub.predict(x, verbose=0), seq.predict(x, verbose=0))
    assert sub.evaluate(x, y, verbose=0) == seq.evaluate(x, y, verbose=0)


def test_fit_builds_an_unbuilt_model_and_learns():
    x, y = _data(n=200, classes=3)
    y = (x[:, 0] > 0).astype(int) + (x[:, 1] > 0).astype(int)
    keras.utils.set_random_seed(1)
    model = Residual()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    history = model.fit(x, y, epochs=30, batch_size=20, verbose=0)
    assert history.history["loss"][-1] < 0.6 * history.history["loss"][0]
    assert [w.shape for w in model.weights] == [(8, 8), (8,), (8, 3), (3,)]
    assert isinstance(model.predict(x[:3], verbose=0), np.ndarray)


def _assert_sgd_step_is_minus_the_gradient(gradcheck, model, xs, y, rng):
    """With SGD(learning_rate=1), one train_on_batch moves the weights by minus the
    numerical gradient of the loss."""
    model.set_weights([rng.normal(0, 0.5, size=w.shape) for w in model.get_weights()])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=1.0),
                  loss="sparse_categorical_crossentropy")
    values, _, _ = model._packed_trainables()
    ce = keras.losses.SparseCategoricalCrossentropy()

    def loss():
        return ce(y, model._graph.forward(xs, training=False)[0])

    numeric = gradcheck.numerical_grad(loss, values)
    before = values.copy()
    model.train_on_batch(xs if len(xs) > 1 else xs[0], y)
    gradcheck.assert_close(before - values, numeric)


def test_residual_gradient_matches_numerical(gradcheck):
    rng = np.random.default_rng(4)
    model = Residual()
    model.build((None, 8))
    _assert_sgd_step_is_minus_the_gradient(
        gradcheck, model, [rng.normal(size=(6, 8))], rng.integers(0, 3, size=6), rng)


def test_two_inputs(gradcheck):
    rng = np.random.default_rng(5)
    model = TwoInputs()
    model.build([(None, 3), (None, 2)])
    _assert_sgd_step_is_minus_the_gradient(
        gradcheck, model, [rng.normal(size=(6, 3)), rng.normal(size=(6, 2))],
        rng.integers(0, 3, size=6), rng)


def test_nested_in_a_sequential_trains_like_the_flat_model():
    x, y = _data()
    keras.utils.set_random_seed(2)
    inner = MLP()
    outer = keras.Sequential([keras.Input((8,)), layers.Dense(8, activation="relu"), inner])
    flat = keras.Sequential([keras.Input((8,)), layers.Dense(8, activation="relu"),
                             layers.Dense(16, activation="relu"), layers.Dropout(0.3),
                             layers.Dense(10, activation="softmax")])
    first = outer.layers[0].get_weights()
    flat.set_weights(first + inner.hidden.get_weights() + inner.out.get_weights())
    for model in (outer, flat):
        model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
        keras.utils.set_random_seed(9)
        model.fit(x, y, batch_size=16, epochs=2, verbose=0)
    np.testing.assert_allclose(outer.layers[0].get_weights()[0], flat.layers[0].get_weights()[0],
                               rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(outer.predict(x, verbose=0), flat.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-6)


class NumpyInCall(keras.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.dense = layers.Dense(3)

    def call(self, inputs):
        return np.tanh(self.dense(inputs))


class BranchesOnTraining(keras.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.dense = layers.Dense(3)
        self.extra = layers.Dense(3)

    def call(self, inputs, training=None):
        x = self.dense(inputs)
        return self.extra(x) if training else x


class CallsOneLayerTwice(keras.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.dense = layers.Dense(4)

    def call(self, inputs):
        return self.dense(self.dense(inputs))


def test_call_using_numpy_runs_but_says_what_tinyann_can_train():
    # a call computing on values is one step trained through a tape; NumPy's own
    # functions record nothing, so training says what to use
    x, y = _data(n=8, features=4, classes=3)
    model = NumpyInCall()
    assert model.predict(x, verbose=0).shape == (8, 3)
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    with pytest.raises(NotImplementedError, match=r"may only call layers.*Write `call` with "
                                                  r"keras.ops"):
        model.fit(x, y, verbose=0)


def test_call_branching_on_training_is_refused():
    with pytest.raises(NotImplementedError, match="training=True than with training=False"):
        BranchesOnTraining().build((None, 4))


def test_layer_called_twice_trains_with_the_sum_of_its_calls_gradients():
    """fit's step equals a tape's gradient, which sums the layer's two calls
    (tests/models/test_shared_layers.py checks that sum against separate copies)."""
    x, y = _data(n=8, features=4, classes=4)
    model = CallsOneLayerTwice()
    assert model.predict(x, verbose=0).shape == (8, 4)
    model.compile(optimizer=keras.optimizers.SGD(1.0), loss="sparse_categorical_crossentropy")
    loss_fn = keras.losses.SparseCategoricalCrossentropy()
    with GradientTape() as tape:
        loss = loss_fn(y, model(x, training=True))
    expected = [np.asarray(g) for g in tape.gradient(loss, model.trainable_weights)]
    before = [np.array(w.numpy()) for w in model.trainable_weights]
    model.train_on_batch(x, y)
    for b, w, e in zip(before, model.trainable_weights, expected):
        np.testing.assert_allclose(b - np.array(w.numpy()), e, rtol=1e-5, atol=1e-7)


def test_build_without_shape_and_plain_model_errors():
    with pytest.raises(ValueError, match="needs an input shape"):
        MLP().build()
    x, y = _data(n=4)
    model = keras.Model()
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(ValueError, match="cannot be built from a shape alone"):
        model.fit(x, y, verbose=0)


def test_operators_between_symbolic_tensors_and_their_errors():
    a, b = keras.Input((3,)), keras.Input((3,))
    model = keras.Model([a, b], [a + b, a - b, a * b])
    left, right = np.arange(6.0).reshape(2, 3), np.ones((2, 3))
    added, subtracted, multiplied = model.predict([left, right], verbose=0)
    np.testing.assert_array_equal(added, left + right)
    np.testing.assert_array_equal(subtracted, left - right)
    np.testing.assert_array_equal(multiplied, left * right)
    with pytest.raises(TypeError, match="between two symbolic tensors.*int"):
        _ = a * 2


# ------------------------------------------------------------------ user layers
class ResidualBlock(layers.Layer):
    """A layer made of layers: ``x + dense2(dense1(x))``."""

    def __init__(self, width, **kwargs):
        super().__init__(**kwargs)
        self.first = layers.Dense(width, activation="tanh")
        self.second = layers.Dense(width)

    def call(self, inputs):
        return inputs + self.second(self.first(inputs))


class Doubler(layers.Layer):
    """NumPy in `call` and no `backward`: predicts, cannot be trained."""

    def call(self, inputs):
        return np.asarray(inputs) * 2.0


def test_layer_made_of_layers_is_one_step_with_its_sublayers_weights(gradcheck):
    rng = np.random.default_rng(6)
    x = rng.normal(size=(6, 4))
    y = rng.integers(0, 3, size=6)
    block = ResidualBlock(4)
    model = keras.Sequential([keras.Input((4,)), block, layers.Dense(3, activation="softmax")])
    assert [type(layer).__name__ for layer in model.layers] == ["ResidualBlock", "Dense"]
    assert [w.shape for w in block.weights] == [(4, 4), (4,), (4, 4), (4,)]
    assert block.count_params() == 40 and model.count_params() == 40 + 15
    text = io.StringIO()
    model.summary(print_fn=text.write)
    assert "(ResidualBlock)" in text.getvalue() and "(None, 4)" in text.getvalue()
    model.set_weights([rng.normal(0, 0.5, size=w.shape) for w in model.get_weights()])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=1.0),
                  loss="sparse_categorical_crossentropy")
    values, _, _ = model._packed_trainables()
    assert values.size == 55
    ce = keras.losses.SparseCategoricalCrossentropy()

    def loss():
        return ce(y, model.predict(x, verbose=0))

    numeric = gradcheck.numerical_grad(loss, values)
    before = values.copy()
    model.train_on_batch(x, y)
    gradcheck.assert_close(before - values, numeric)
    # called on arrays, the block runs the same graph
    np.testing.assert_allclose(block(x), x + block.second(block.first(x)))


def test_untraceable_layer_predicts_but_refuses_to_train():
    x, y = _data(n=8, features=4, classes=3)
    model = keras.Sequential([keras.Input((4,)), layers.Dense(3), Doubler(),
                              layers.Activation("softmax")])
    out = model.predict(x, verbose=0)
    dense = model.layers[0]
    logits = 2.0 * (x @ dense.kernel.numpy() + dense.bias.numpy())
    expected = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(out, expected, rtol=1e-5)
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    with pytest.raises(NotImplementedError, match="'doubler.*' .* has no `backward"):
        model.fit(x, y, verbose=0)


class Widen(layers.Layer):
    """A layer made of layers that changes the width: 4 -> 6."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.dense = layers.Dense(6, activation="relu")

    def call(self, inputs):
        return self.dense(inputs)


def test_layer_made_of_layers_that_changes_the_width_trains():
    x, y = _data(n=32, features=4, classes=3)
    block = Widen()
    model = keras.Sequential([keras.Input((4,)), block, layers.Dense(3, activation="softmax")])
    assert block.compute_output_shape((32, 4)) == (32, 6)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    history = model.fit(x, y, epochs=3, verbose=0)
    assert len(history.history["loss"]) == 3
    assert model.predict(x, verbose=0).shape == (32, 3)
    with pytest.raises(ValueError, match=r"expected shape=\(None, 4\), found shape=\(2, 5\)"):
        model.predict(np.zeros((2, 5), "float32"), verbose=0)
