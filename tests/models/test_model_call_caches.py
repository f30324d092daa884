"""What a model keeps between calls for the tape loop (which asks for the weights
several times a step and calls the model on same-shaped batches): its
``trainable_weights`` list and the last input shape it checked. Every change to its
layers or weights, and every other input, is seen."""

from __future__ import annotations

import numpy as np
import pytest

import tinyann as keras
from tinyann import backend
from tinyann.autodiff import GradientTape


def _model():
    return keras.Sequential([keras.Input((4,)), keras.layers.Dense(3), keras.layers.Dense(2)])


def _paths(weights):
    return [w.path for w in weights]


def test_the_list_is_kept_and_a_copy_is_returned():
    model = _model()
    first = model.trainable_weights
    first.append("not a weight")
    again = model.trainable_weights
    assert again is not first and len(again) == 4
    assert all(a is b for a, b in zip(again, model.trainable_weights))


def test_trainable_flags_new_layers_and_pops_are_seen():
    model = _model()
    dense = model.layers[0]
    assert len(model.trainable_weights) == 4
    dense.trainable = False
    assert _paths(model.trainable_weights) == _paths(model.layers[1].weights)
    dense.trainable = True
    dense.kernel.trainable = False
    assert dense.kernel not in model.trainable_weights and len(model.trainable_weights) == 3
    dense.kernel.trainable = True
    model.add(keras.layers.Dense(5))
    assert len(model.trainable_weights) == 6
    model.pop(rebuild=False)
    assert len(model.trainable_weights) == 4
    model.trainable = False
    assert model.trainable_weights == []


def test_a_layer_built_later_and_a_nested_model_are_seen():
    inner = keras.Sequential([keras.layers.Dense(3)])   # no input shape: no weights yet
    outer = keras.Sequential([keras.Input((4,)), inner, keras.layers.Dense(2)])
    assert len(outer.trainable_weights) == 4
    inner.layers[0].trainable = False
    assert len(outer.trainable_weights) == 2
    inner.add(keras.layers.Dense(6))
    inner.layers[0].trainable = True
    assert len(inner.trainable_weights) == 4


def test_a_users_list_of_layers_changed_in_place_is_seen():
    class Stack(keras.layers.Layer):
        def __init__(self):
            super().__init__()
            self.blocks = [keras.layers.Dense(3)]

        def call(self, x):
            for block in self.blocks:
                x = block(x)
            return x

    stack = Stack()
    x = keras.Input((4,))
    model = keras.Model(x, stack(x))
    assert len(model.trainable_weights) == 2
    extra = keras.layers.Dense(3)
    extra.build((None, 3))
    stack.blocks.append(extra)   # no attribute set: only a fresh listing sees it
    assert len(model.trainable_weights) == 4


def test_a_tape_step_after_freezing_a_layer_leaves_it_alone():
    model = _model()
    x, y = np.ones((2, 4), "float32"), np.ones((2, 2), "float32")
    optimizer = keras.optimizers.SGD(0.1)
    loss_fn = keras.losses.MeanSquaredError()
    first = model.layers[0]
    before = first.kernel.numpy()
    first.trainable = False
    with GradientTape() as tape:
        loss = loss_fn(y, model(x, training=True))
    grads = tape.gradient(loss, model.trainable_weights)
    assert len(grads) == 2
    optimizer.apply_gradients(zip(grads, model.trainable_weights))
    np.testing.assert_array_equal(first.kernel.numpy(), before)


def test_each_new_input_is_checked_after_a_checked_one():
    model = _model()
    x = np.ones((2, 4), "float32")
    model(x)
    with pytest.raises(ValueError, match="incompatible"):
        model(np.ones((2, 5), "float32"))
    assert model(x).shape == (2, 2)
    with pytest.raises(ValueError, match="numeric"):
        model(np.full((2, 4), "a"))
    assert model(np.ones((3, 4), "int64")).dtype == np.float32


def test_a_rebuilt_model_and_another_floatx_are_checked_again():
    model = _model()
    x = np.ones((2, 4), "float32")
    model(x)
    model.pop()
    assert model(x).shape == (2, 3)
    model.add(keras.layers.Dense(7))
    assert model(x).shape == (2, 7)
    first = model.layers[0]
    model.pop()
    model.pop()
    model.add(keras.layers.Dense(2))
    assert first.built and model(x).shape == (2, 2)
    previous = backend.floatx()
    backend.set_floatx("float64")
    try:
        assert model(x.astype("float64")).dtype == np.float64
    finally:
        backend.set_floatx(previous)
