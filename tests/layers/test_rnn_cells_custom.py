"""RNN over users' cells (the "Working with RNNs" guide's MinimalRNNCell, a cell with
nested states), the cells' own surface (call, get_initial_state, dropout, errors),
masks from Embedding, initial and stateful states, Bidirectional, configs and files."""

import json

import numpy as np
import pytest

import tinyann as keras
from tinyann import layers, ops
from tinyann.autodiff import GradientTape


class MinimalRNNCell(keras.layers.Layer):
    """The guide's cell: ``h = x W + h_prev U`` (its call takes no ``training``)."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.state_size = units

    def build(self, input_shape):
        self.kernel = self.add_weight(shape=(input_shape[-1], self.units),
                                      initializer="random_uniform", name="kernel")
        self.recurrent_kernel = self.add_weight(shape=(self.units, self.units),
                                                initializer="random_uniform",
                                                name="recurrent_kernel")

    def call(self, inputs, states):
        output = ops.matmul(inputs, self.kernel) + ops.matmul(states[0],
                                                              self.recurrent_kernel)
        return output, [output]

    def get_config(self):
        return dict(super().get_config(), units=self.units)


class NestedStateCell(keras.layers.Layer):
    """States nested ``[a, [b, c]]``; output ``tanh(x W + a + b * c)``."""

    state_size = [3, [3, 3]]
    output_size = 3

    def build(self, input_shape):
        self.kernel = self.add_weight(shape=(input_shape[-1], 3), name="kernel")

    def call(self, inputs, states, training=False):
        a, (b, c) = states[0], states[1]
        out = ops.tanh(ops.matmul(inputs, self.kernel) + a + b * c)
        return out, [out, [0.5 * b + 0.1 * out, c * 0.9]]


def _seq(shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape).astype("float32")


# ------------------------------------------------------------------ users' cells
def test_minimal_cell_learns_a_sequence_task_under_fit():
    x = _seq((256, 6, 2))
    y = x[:, :, 0].sum(axis=1, keepdims=True) - x[:, :, 1].mean(axis=1, keepdims=True)
    keras.utils.set_random_seed(1)
    model = keras.Sequential([keras.Input((6, 2)), layers.RNN(MinimalRNNCell(8)),
                              layers.Dense(1)])
    model.compile("adam", "mse")
    history = model.fit(x, y, epochs=20, batch_size=32, verbose=0).history["loss"]
    assert history[-1] < 0.2 * history[0]
    rnn = model.layers[0]
    assert [w.path for w in model.weights[:2]] == [
        f"{model.name}/{rnn.name}/{rnn.cell.name}/{w}" for w in ("kernel", "recurrent_kernel")]


def test_minimal_cell_gradients_numerical(gradcheck):
    rng = np.random.default_rng(2)
    layer = layers.RNN(MinimalRNNCell(3), return_sequences=True, go_backwards=True)
    x = rng.normal(size=(2, 4, 2))
    mask = np.array([[1, 1, 1, 0], [0, 1, 1, 1]], bool)
    layer.build((None, 4, 2))
    g = rng.normal(size=(2, 4, 3))

    def loss():
        return float((layer.call(x, training=False, mask=mask) * g).sum())

    layer.call(x, training=True, mask=mask)
    dx = layer.backward(g)
    gradcheck.assert_close(dx, gradcheck.numerical_grad(loss, x))
    for w in layer.trainable_weights:
        gradcheck.assert_close(w.grad, gradcheck.numerical_grad(loss, w.value))


def test_nested_state_cell_runs_returns_flat_states_and_trains():
    layer = layers.RNN(NestedStateCell(), return_state=True)
    assert layer.state_size == [3, 3, 3]
    symbolic = layer(keras.Input((5, 2)))
    assert [t.shape for t in symbolic] == [(None, 3)] * 4
    x = _seq((4, 5, 2))
    states = [_seq((4, 3), s) for s in (1, 2, 3)]
    out, a, b, c = (np.asarray(v) for v in layer(x, initial_state=[states[0], states[1:]]))
    np.testing.assert_allclose(out, a, atol=1e-6)      # the cell's output is state a
    np.testing.assert_allclose(c, states[2] * 0.9 ** 5, rtol=1e-5)
    model = keras.Sequential([keras.Input((5, 2)), layers.RNN(NestedStateCell()),
                              layers.Dense(1)])
    model.compile(keras.optimizers.SGD(0.1), "mse")
    before = model.get_weights()[0].copy()
    model.fit(x, _seq((4, 1)), epochs=1, verbose=0)
    assert not np.allclose(before, model.get_weights()[0])


def test_stacked_user_cells_and_list_of_cells():
    layer = layers.RNN([MinimalRNNCell(4), MinimalRNNCell(2)], return_state=True)
    assert isinstance(layer.cell, layers.StackedRNNCells)
    assert layer.cell.state_size == [4, 2] and layer.cell.output_size == 2
    out, h1, h2 = layer(_seq((3, 5, 6)))
    assert np.shape(out) == (3, 2) and np.shape(h1) == (3, 4)
    np.testing.assert_array_equal(np.asarray(out), np.asarray(h2))
    cell_names = [c.name for c in layer.cell.cells]
    assert [w.path for w in layer.weights] == [
        f"{layer.name}/{layer.cell.name}/{name}/{w}" for name in cell_names
        for w in ("kernel", "recurrent_kernel")]


def test_rnn_on_a_user_gradient_tape():
    layer = layers.RNN(MinimalRNNCell(3))
    x = keras.Variable(_seq((2, 4, 2)))
    with GradientTape() as tape:
        tape.watch(x)
        loss = ops.sum(layer(x) ** 2)
    grads = tape.gradient(loss, [x, *layer.trainable_weights])
    assert all(g is not None and np.any(np.asarray(g) != 0) for g in grads)


# ------------------------------------------------------------------ the cells' surface
@pytest.mark.parametrize("make,n_states", [(layers.SimpleRNNCell, 1), (layers.LSTMCell, 2),
                                           (layers.GRUCell, 1)])
def test_cell_call_and_initial_state(make, n_states):
    cell = make(4)
    assert cell.output_size == 4
    assert cell.state_size == (4 if n_states == 1 else [4, 4])
    states = cell.get_initial_state(batch_size=3)
    assert len(states) == n_states and all(s.shape == (3, 4) for s in states)
    out, new = cell(_seq((3, 2)), states)
    assert np.shape(out) == (3, 4) and len(new) == n_states
    np.testing.assert_array_equal(np.asarray(out), np.asarray(new[0]))
    assert [w.name for w in cell.weights] == ["kernel", "recurrent_kernel", "bias"]
    bias_shape = (2, 12) if make is layers.GRUCell else (4 * cell.gates,)
    assert cell.bias.shape == bias_shape


def test_lstm_cell_unit_forget_bias():
    cell = layers.LSTMCell(3)
    cell.build((None, 2))
    np.testing.assert_array_equal(cell.bias.value, [0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0])
    cell = layers.LSTMCell(3, unit_forget_bias=False)
    cell.build((None, 2))
    assert not cell.bias.value.any()


@pytest.mark.parametrize("fast", [True, False], ids=["kernels", "tape"])
def test_dropout_only_in_training_and_one_mask_per_sequence(fast):
    layer = layers.RNN(layers.SimpleRNNCell(6, dropout=0.5, recurrent_dropout=0.3, seed=1),
                       return_sequences=True)
    layer._fast = layer._fast and fast
    x = np.ones((2, 5, 3), "float32")
    inference = np.asarray(layer(x))
    np.testing.assert_array_equal(inference, np.asarray(layer(x, training=False)))
    trained = np.asarray(layer(x, training=True))
    assert not np.allclose(trained, inference)
    assert layer.cell._dropout_mask is None   # reset after the sequence


def test_bad_arguments_raise_keras_errors():
    with pytest.raises(ValueError, match="expected a positive integer"):
        layers.LSTMCell(0)
    with pytest.raises(ValueError, match="between 0 and 1"):
        layers.GRUCell(3, dropout=1.5)
    with pytest.raises(ValueError, match="should have a `call` method"):
        layers.RNN(object())
    with pytest.raises(ValueError, match="state_size"):
        layers.RNN(keras.layers.Dense(3))
    layer = layers.RNN(layers.LSTMCell(3))
    with pytest.raises(ValueError, match="expects 2 initial state"):
        layer(_seq((2, 4, 2)), initial_state=[np.zeros((2, 3), "float32")])
    with pytest.raises(ValueError, match="ndim=3"):
        layers.RNN(layers.LSTMCell(3))(np.zeros((2, 3), "float32"))


# ------------------------------------------------------------------ masks, states, wrappers
@pytest.mark.parametrize("fast", [True, False], ids=["kernels", "tape"])
def test_embedding_mask_matches_lstm_layer(fast):
    tokens = np.array([[3, 1, 2, 0, 0], [0, 0, 4, 2, 1], [5, 5, 5, 5, 5]])

    def model(recurrent):
        inp = keras.Input((5,), dtype="int32")
        e = layers.Embedding(8, 3, mask_zero=True)(inp)
        return keras.Model(inp, recurrent(e))

    a = model(layers.LSTM(4, return_sequences=True))
    cell_rnn = layers.RNN(layers.LSTMCell(4), return_sequences=True)
    b = model(cell_rnn)
    cell_rnn._fast = fast
    b.set_weights(a.get_weights())
    np.testing.assert_allclose(b.predict(tokens, verbose=0), a.predict(tokens, verbose=0),
                               atol=1e-6)


def test_symbolic_initial_state_and_return_state():
    seq, h0, c0 = keras.Input((5, 2)), keras.Input((4,)), keras.Input((4,))
    out, h, c = layers.RNN(layers.LSTMCell(4), return_state=True)(seq, initial_state=[h0, c0])
    model = keras.Model([seq, h0, c0], [out, h, c])
    x, s = _seq((2, 5, 2)), [_seq((2, 4), 1), _seq((2, 4), 2)]
    got = model.predict([x, *s], verbose=0)
    lstm = layers.LSTM(4, return_state=True)
    lstm.build((None, 5, 2))
    lstm.set_weights(model.get_weights())
    for g, w in zip(got, lstm(x, initial_state=s), strict=True):
        np.testing.assert_allclose(g, np.asarray(w), atol=1e-6)


@pytest.mark.parametrize("cell", [lambda: layers.GRUCell(3), lambda: MinimalRNNCell(3)],
                         ids=["gru", "user"])
def test_stateful_carries_states_and_resets(cell):
    layer = layers.RNN(cell(), stateful=True)
    layer.build((2, 4, 2))
    layer.set_weights([_seq(w.shape, 5) * 0.5 for w in layer.weights])
    x = _seq((2, 4, 2))
    first, second = np.asarray(layer(x)), np.asarray(layer(x))
    assert not np.allclose(first, second)
    layer.reset_state()
    np.testing.assert_allclose(np.asarray(layer(x)), first, atol=1e-6)


def test_bidirectional_over_rnn_of_lstm_cell_matches_bidirectional_lstm():
    x = _seq((2, 5, 3))
    a = layers.Bidirectional(layers.LSTM(4, return_sequences=True))
    b = layers.Bidirectional(layers.RNN(layers.LSTMCell(4), return_sequences=True))
    a.build((None, 5, 3))
    b.build((None, 5, 3))
    assert b.backward_layer.go_backwards and b.forward_layer._fast
    b.set_weights(a.get_weights())
    np.testing.assert_allclose(np.asarray(b(x)), np.asarray(a(x)), atol=1e-6)
    model = keras.Sequential([keras.Input((5, 3)), b, layers.GlobalAveragePooling1D(),
                              layers.Dense(1)])
    model.compile("sgd", "mse")
    model.fit(x, _seq((2, 1)), epochs=1, verbose=0)


def test_input_spec_is_exported_by_layers():
    assert keras.layers.InputSpec is keras.InputSpec


# ------------------------------------------------------------------ configs and files
def test_config_round_trip_with_stacked_cells():
    layer = layers.RNN([layers.LSTMCell(3, dropout=0.1), layers.GRUCell(2, reset_after=False)],
                       return_sequences=True, go_backwards=True)
    config = json.loads(json.dumps(layer.get_config()))
    assert config["cell"]["class_name"] == "StackedRNNCells"
    assert [c["class_name"] for c in config["cell"]["config"]["cells"]] == ["LSTMCell",
                                                                           "GRUCell"]
    rebuilt = layers.RNN.from_config(config)
    assert rebuilt.get_config() == config
    assert rebuilt.cell.cells[1].reset_after is False


def test_keras_file_round_trip(tmp_path):
    model = keras.Sequential([keras.Input((5, 2)), layers.RNN(layers.LSTMCell(4)),
                              layers.Dense(1)])
    x = _seq((3, 5, 2))
    path = tmp_path / "rnn_cell.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert type(loaded.layers[0].cell) is layers.LSTMCell and loaded.layers[0]._fast
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0),
                               atol=1e-6)


class ProjectedLSTMCell(keras.layers.Layer):
    """A user's cell around a built-in cell: LSTMCell's step, then a projection."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.inner = layers.LSTMCell(units)
        self.state_size = self.inner.state_size
        self.output_size = 2

    def build(self, input_shape):
        self.projection = self.add_weight(shape=(self.inner.units, 2), name="projection")

    def call(self, inputs, states, training=False):
        h, new_states = self.inner(inputs, states, training=training)
        return ops.matmul(h, self.projection), new_states


def test_user_cell_calling_a_builtin_cell_trains_both():
    layer = layers.RNN(ProjectedLSTMCell(4), return_sequences=True)
    model = keras.Sequential([keras.Input((5, 3)), layer])
    assert model.output_shape == (None, 5, 2)
    assert len(model.trainable_weights) == 4       # projection, then the LSTMCell's three
    model.compile(keras.optimizers.SGD(0.5), "mse")
    before = [w.copy() for w in model.get_weights()]
    model.fit(_seq((4, 5, 3)), _seq((4, 5, 2), 1), epochs=1, verbose=0)
    assert all(not np.allclose(a, b) for a, b in zip(before, model.get_weights()))


def test_stacked_cells_called_as_a_cell_and_rnn_initial_state():
    stacked = layers.StackedRNNCells([layers.LSTMCell(3), layers.SimpleRNNCell(2)])
    states = stacked.get_initial_state(batch_size=4)
    assert [np.shape(s) for s in states[0]] == [(4, 3), (4, 3)] and states[1].shape == (4, 2)
    out, new = stacked(_seq((4, 6)), states)
    assert np.shape(out) == (4, 2) and len(new[0]) == 2 and np.shape(new[1]) == (4, 2)
    layer = layers.RNN(stacked)
    assert [s.shape for s in layer.get_initial_state(4)] == [(4, 3), (4, 3), (4, 2)]
    assert stacked.compute_output_shape((None, 6)) == (None, 2)
    with pytest.raises(ValueError, match="state_size"):
        layers.StackedRNNCells([layers.Dense(2)])


def test_summary_counts_the_cells_weights():
    model = keras.Sequential([keras.Input((7, 3)), layers.RNN(layers.GRUCell(4))])
    # GRU, reset_after: 3 * 4 * (3 + 4) + 2 * 3 * 4
    assert model.count_params() == 3 * 4 * 7 + 24
    assert model.layers[0].compute_output_shape((None, 7, 3)) == (None, 4)


def test_keras_made_file_with_cells_loads_and_predicts_the_same():
    """Made by Keras 3 (tools/keras_reference/make_rnn_cell_facts.py)."""
    from pathlib import Path

    folder = Path(__file__).resolve().parents[1] / "fixtures" / "rnn_cells"
    model = keras.saving.load_model(folder / "keras_rnn_cells.keras")
    assert isinstance(model.layers[1].cell, layers.StackedRNNCells)
    with np.load(folder / "keras_rnn_cells.npz") as data:
        np.testing.assert_allclose(model.predict(data["x"], verbose=0), data["y"], atol=1e-5)


def test_builtin_cell_with_a_users_activation_runs_the_tape_engine():
    def my_tanh(x):
        return ops.tanh(x)

    users = layers.RNN(layers.SimpleRNNCell(3, activation=my_tanh))
    builtin = layers.RNN(layers.SimpleRNNCell(3))
    users.build((None, 4, 2))
    builtin.build((None, 4, 2))
    builtin.set_weights(users.get_weights())
    assert not users._fast and builtin._fast
    x = _seq((2, 4, 2))
    np.testing.assert_allclose(np.asarray(users(x)), np.asarray(builtin(x)), atol=1e-6)


def test_states_on_a_user_tape_reach_the_initial_states_in_both_engines():
    x, h0 = keras.Variable(_seq((2, 4, 2))), keras.Variable(_seq((2, 3), 1))
    weights, results = None, []
    for fast in (True, False):
        layer = layers.RNN(layers.GRUCell(3), return_state=True)
        layer.build((None, 4, 2))
        weights = weights or layer.get_weights()
        layer.set_weights(weights)
        layer._fast = fast
        with GradientTape() as tape:
            out, h = layer(x, initial_state=[h0])
            loss = ops.sum(out * 2.0) + ops.sum(h ** 2)
        results.append([np.asarray(g) for g in tape.gradient(
            loss, [x, h0, *layer.trainable_weights])])
    assert np.abs(results[0][1]).sum() > 0
    for a, b in zip(*results, strict=True):
        np.testing.assert_allclose(a, b, atol=1e-5)


@pytest.mark.parametrize("cell", [lambda: layers.LSTMCell(3), lambda: MinimalRNNCell(3)],
                         ids=["lstm", "user"])
def test_zero_output_for_mask(cell):
    x = _seq((2, 5, 2))
    mask = np.array([[1, 1, 1, 0, 0], [0, 1, 1, 1, 1]], bool)
    zeros = layers.RNN(cell(), return_sequences=True, zero_output_for_mask=True)
    zeros.build((None, 5, 2))
    zeros.set_weights([_seq(w.shape, 3) * 0.5 for w in zeros.weights])
    repeats = layers.RNN(cell(), return_sequences=True)
    repeats.build((None, 5, 2))
    repeats.set_weights(zeros.get_weights())
    got, kept = np.asarray(zeros(x, mask=mask)), np.asarray(repeats(x, mask=mask))
    np.testing.assert_array_equal(got[~mask], 0.0)
    np.testing.assert_allclose(got[mask], kept[mask], atol=1e-6)
    np.testing.assert_allclose(kept[0, 3], kept[0, 2], atol=1e-6)  # repeated when kept
