"""Where a packed model's gradients go on a GradientTape: its weights' ``grad`` point
into a spare buffer for the backward, whose views are the gradients handed out; the
model's own gradient buffer and ``Variable.grad`` arrays are left as they were."""

from __future__ import annotations

import numpy as np
import pytest

import tinyann as keras
from tinyann import ops
from tinyann.autodiff import GradientTape


def _packed_model():
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4, activation="relu"),
                              keras.layers.Dense(2)])
    model.compile(optimizer="sgd", loss="mse")
    model.fit(np.ones((2, 3)), np.ones((2, 2)), epochs=1, verbose=0)   # packs the weights
    return model


def test_the_models_own_gradients_stay_as_they_were():
    model = _packed_model()
    weights = model.trainable_weights
    before = [v.grad for v in weights]
    contents = [g.copy() for g in before]
    x = np.linspace(-1, 1, 6).reshape(2, 3).astype("float32")
    with GradientTape() as tape:
        loss = ops.sum(ops.square(model(x, training=True)))
    grads = tape.gradient(loss, weights)
    assert all(v.grad is g for v, g in zip(weights, before))
    for g, c in zip(before, contents):
        np.testing.assert_array_equal(g, c)
    base = grads[0].numpy().base
    assert all(g.numpy().base is base for g in grads) and base is not before[0].base
    # the same numbers as fit's backward into the model's own buffer
    model._graph.backward([2 * np.asarray(model(x, training=True))])
    for g, v in zip(grads, weights):
        np.testing.assert_allclose(g.numpy(), v.grad, rtol=1e-6)


def test_a_failing_backward_puts_the_gradients_back(monkeypatch):
    model = _packed_model()
    weights = model.trainable_weights
    before = [v.grad for v in weights]
    dense = model.layers[-1]

    def failing(*args, **kwargs):
        raise RuntimeError("backward failed")

    with GradientTape() as tape:
        loss = ops.sum(model(np.ones((2, 3), "float32"), training=True))
    monkeypatch.setattr(dense, "backward", failing)
    with pytest.raises(RuntimeError, match="backward failed"):
        tape.gradient(loss, weights)
    assert all(v.grad is g for v, g in zip(weights, before))


def test_unreached_weights_get_zeros_not_an_earlier_steps_numbers():
    """A spare buffer is zeroed each backward: weights the backward does not reach
    (a second, unused head) get zeros, never what the buffer held before."""
    x = keras.Input((3,))
    hidden = keras.layers.Dense(4)(x)
    model = keras.Model(x, [keras.layers.Dense(2)(hidden), keras.layers.Dense(2)(hidden)])
    model.compile(optimizer="sgd", loss="mse")
    model.fit(np.ones((2, 3)), [np.ones((2, 2))] * 2, epochs=1, verbose=0)
    for step in range(5):
        with GradientTape() as tape:
            first, second = model(np.full((2, 3), step + 1.0, "float32"), training=True)
            loss = ops.sum(first) if step % 2 else ops.sum(first) + ops.sum(second)
        grads = tape.gradient(loss, model.trainable_weights)
        unused = [g for g, v in zip(grads, model.trainable_weights)
                  if any(v is w for w in model.layers[-1].trainable_weights)]
        assert len(unused) == 2 and all(np.any(np.asarray(g) != 0) != bool(step % 2)
                                        for g in unused)


@pytest.fixture
def zeroing(monkeypatch):
    """Whether each backward zeroed its spare buffer first."""
    from tinyann.layers import taped_call

    calls = []
    original = taped_call.spare_views

    def spy(flat, offsets, shapes, orders, zero=True):
        calls.append(zero)
        return original(flat, offsets, shapes, orders, zero)

    monkeypatch.setattr(taped_call, "spare_views", spy)
    return calls


def _steps(model, steps=4):
    rng = np.random.default_rng(5)
    out = []
    for _ in range(steps):
        x = rng.standard_normal((3, 2, 3)).astype("float32")
        with GradientTape() as tape:
            loss = ops.sum(ops.square(model(x, training=True)))
        grads = tape.gradient(loss, model.trainable_weights)
        out.append([g.numpy().copy() for g in grads])
    return out


def test_a_chain_of_dense_layers_is_not_zeroed_and_gives_the_same_gradients(
        zeroing, monkeypatch):
    """Dense writes its gradients in full: no zeros first, the same numbers."""
    from tinyann.layers import taped_call
    from tinyann.variables import structure_changed

    keras.utils.set_random_seed(4)
    model = keras.Sequential([keras.Input((2, 3)), keras.layers.Flatten(),
                              keras.layers.Dense(5, activation="relu"),
                              keras.layers.Dropout(0.0), keras.layers.Dense(2)])
    model.compile(optimizer="sgd", loss="mse")
    model.fit(np.ones((2, 2, 3)), np.ones((2, 2)), epochs=1, verbose=0)
    unzeroed = _steps(model)
    assert zeroing and not any(zeroing)
    monkeypatch.setattr(taped_call, "_grads_written", lambda owner, layers: False)
    structure_changed()   # (what a call found about the model is kept until then)
    zeroed = _steps(model)
    assert all(zeroing[len(unzeroed):])
    for a, b in zip(unzeroed, zeroed):
        for x, y in zip(a, b):
            np.testing.assert_array_equal(x, y)


def test_other_layers_get_zeros_first(zeroing):
    class MyDense(keras.layers.Dense):   # a user's subclass may add to its gradients
        pass

    model = keras.Sequential([keras.Input((2, 3)), keras.layers.Flatten(), MyDense(2)])
    model.compile(optimizer="sgd", loss="mse")
    model.fit(np.ones((2, 2, 3)), np.ones((2, 2)), epochs=1, verbose=0)
    _steps(model, steps=2)
    assert zeroing and all(zeroing)


def test_a_spare_buffer_is_reused_once_its_gradients_are_dropped():
    model = _packed_model()
    x = np.ones((2, 3), "float32")

    def grads():
        with GradientTape() as tape:
            loss = ops.sum(model(x, training=True))
        return tape.gradient(loss, model.trainable_weights)

    first = grads()
    buffer = id(first[0].numpy().base)   # (the pool keeps it alive: the id stays its)
    del first
    second = grads()
    assert id(second[0].numpy().base) == buffer
    kept = second[1].numpy()[:1]   # a slice of one of them, kept
    del second
    third = grads()
    assert id(third[0].numpy().base) != buffer
    assert id(kept.base) == buffer
