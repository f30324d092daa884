"""A built-in layer or model on a tape (layers/taped_call.py): the first layer's dx only
when a tape may ask for it, each call's own cache without copying every cache, one
flat copy of a packed model's gradients that the optimizer reads in place."""

from __future__ import annotations

import numpy as np

import tinyann as keras
from tinyann import kernels, ops
from tinyann.autodiff import GradientTape, Tensor
from tinyann.layers.taped_call import _NODE


def _model(units=3):
    return keras.Sequential([keras.Input((4,)), keras.layers.Dense(units, activation="tanh"),
                             keras.layers.Dense(2)])


def _spy_dense_backward(monkeypatch):
    """Records ``need_dx`` of each Dense backward, by the kernel's own argument."""
    seen = []
    original = kernels.dense_backward

    def dense_backward(dz, x, kernel, dkernel, dbias, need_dx=True):
        seen.append((kernel.shape, bool(need_dx)))
        return original(dz, x, kernel, dkernel, dbias, need_dx)
    monkeypatch.setattr(kernels, "dense_backward", dense_backward)
    return seen


def test_model_on_a_constant_input_skips_the_first_layers_dx(float64, monkeypatch):
    model = _model()
    seen = _spy_dense_backward(monkeypatch)
    x = np.random.default_rng(0).standard_normal((5, 4))
    with GradientTape() as tape:
        loss = ops.sum(model(x, training=True))
    grads = tape.gradient(loss, model.trainable_variables)
    assert seen == [((3, 2), True), ((4, 3), False)]
    assert all(g is not None for g in grads)
    # the graph's flags are as they were (fit decides them itself)
    assert model.layers[0]._needs_input_grad is False


def test_model_on_a_watched_input_gives_its_gradient(gradcheck, monkeypatch):
    model = _model()
    seen = _spy_dense_backward(monkeypatch)
    x = Tensor(np.random.default_rng(1).standard_normal((5, 4)))
    g = np.random.default_rng(2).standard_normal((5, 2))
    with GradientTape() as tape:
        tape.watch(x)
        y = model(x, training=True)
    dx = tape.gradient(y, x, output_gradients=g)
    assert seen == [((3, 2), True), ((4, 3), True)]
    assert model.layers[0]._needs_input_grad is False
    numeric = gradcheck.numerical_grad(
        lambda: float(np.sum(model.predict(x.numpy(), verbose=0) * g)), x.numpy())
    gradcheck.assert_close(dx.numpy(), numeric)


def test_layer_on_a_constant_input_skips_dx_and_on_a_layers_output_does_not(
        float64, monkeypatch):
    first, second = keras.layers.Dense(3), keras.layers.Dense(2)
    seen = _spy_dense_backward(monkeypatch)
    with GradientTape() as tape:
        loss = ops.sum(second(first(np.ones((2, 4)))))
    assert tape.gradient(loss, first.kernel) is not None
    assert seen == [((3, 2), True), ((4, 3), False)]
    assert first._needs_input_grad is True   # restored


def test_model_called_twice_on_one_tape_sums_both_calls_gradients(float64):
    model = _model()
    rng = np.random.default_rng(3)
    a, b = rng.standard_normal((3, 4)), rng.standard_normal((2, 4))

    def grads(*inputs):
        with GradientTape() as tape:
            loss = sum(ops.sum(ops.square(model(x, training=True))) for x in inputs)
        return [g.numpy() for g in tape.gradient(loss, model.trainable_variables)]

    both, only_a, only_b = grads(a, b), grads(a), grads(b)
    for g, ga, gb in zip(both, only_a, only_b):
        np.testing.assert_allclose(g, ga + gb, rtol=1e-12)


def test_layer_called_inside_a_model_and_alone_keeps_each_calls_cache(float64):
    model = _model()
    first = model.layers[0]
    rng = np.random.default_rng(4)
    a, b = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    with GradientTape() as tape:
        loss = ops.sum(model(a, training=True)) + ops.sum(ops.square(first(b)))
    got = tape.gradient(loss, first.kernel).numpy()
    with GradientTape() as tape:
        loss = ops.sum(model(a, training=True))
    expected = tape.gradient(loss, first.kernel).numpy()
    with GradientTape() as tape:
        loss = ops.sum(ops.square(first(b)))
    expected = expected + tape.gradient(loss, first.kernel).numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_persistent_tape_gives_the_same_gradients_twice(float64):
    layer = keras.layers.Dense(3, activation="relu")
    rng = np.random.default_rng(5)
    a, b = rng.standard_normal((2, 4)), rng.standard_normal((2, 4))
    with GradientTape(persistent=True) as tape:
        loss = ops.sum(layer(a)) + ops.sum(ops.square(layer(b)))
    first = tape.gradient(loss, layer.kernel).numpy()
    second = tape.gradient(loss, layer.kernel).numpy()
    np.testing.assert_array_equal(first, second)


def test_a_finished_tape_leaves_no_node_to_save_a_cache_for(float64):
    """After a tape's gradient the next call copies no cache (its node is gone)."""
    layer = keras.layers.Dense(3)
    with GradientTape() as tape:
        loss = ops.sum(layer(np.ones((2, 4))))
    tape.gradient(loss, layer.kernel)
    assert layer.__dict__[_NODE]() is None
    with GradientTape() as tape:
        layer(np.ones((2, 4)))
        node = layer.__dict__[_NODE]()
        assert node is not None and node.saved is None


def test_packed_model_gradients_are_views_of_one_buffer_the_optimizer_reads(float64):
    model = _model()
    optimizer = keras.optimizers.SGD(0.1)
    x = np.random.default_rng(6).standard_normal((4, 4))
    for step in range(2):   # the first apply packs the weights, the second step reads
        if step:
            optimizer._flat_grads[...] = np.nan   # the first step's gathered gradients
        with GradientTape() as tape:
            loss = ops.sum(ops.square(model(x, training=True)))
        grads = tape.gradient(loss, model.trainable_variables)
        before = [v.numpy() for v in model.trainable_variables]
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        for v, g, w in zip(model.trainable_variables, grads, before):
            np.testing.assert_allclose(v.numpy(), w - 0.1 * g.numpy(), rtol=1e-12)
    bases = {id(g.numpy().base) for g in grads}
    assert len(bases) == 1 and np.isnan(optimizer._flat_grads).all()   # not gathered


def test_flat_gradient_copies_reuse_a_buffer_only_once_nothing_holds_it(float64):
    model = _model()
    optimizer = keras.optimizers.SGD(0.1)
    x = np.random.default_rng(7).standard_normal((4, 4))

    def step():
        with GradientTape() as tape:
            loss = ops.sum(ops.square(model(x, training=True)))
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        return grads

    step()   # packs the weights
    first = step()
    first_copy = [g.numpy().copy() for g in first]
    second = step()
    buffer = id(first[0].numpy().base)   # an id: a reference would hold the buffer
    assert id(second[0].numpy().base) != buffer   # the first step's are still held
    for g, kept in zip(first, first_copy):
        np.testing.assert_array_equal(g.numpy(), kept)
    del first, g
    third = step()
    assert id(third[0].numpy().base) == buffer   # the pool keeps it: the id is its own
