"""A layer (or a model) called more than once in a model trains as Keras's does: its
weights' gradient is the sum over its calls, which the same model with a separate copy
per call gives (the copies' gradients added)."""

import numpy as np
import pytest

import tinyann as keras
from tinyann import layers, ops
from tinyann.autodiff import GradientTape


class Scaled(layers.Layer):
    """A user's layer of ops with a weight of its own."""

    def build(self, shape):
        self.w = self.add_weight(shape=(shape[-1],), initializer="ones")

    def call(self, x):
        return ops.tanh(x * self.w)


def _tower(kind):
    """``(make, input shape, sample maker)``: ``make()`` gives a fresh tower."""
    if kind == "dense":
        return (lambda: layers.Dense(5, activation="tanh"), (6,), "normal")
    if kind == "conv_model":  # a nested model, Conv2D + MaxPooling2D fused inside
        return (lambda: keras.Sequential([
            keras.Input((6, 6, 2)), layers.Conv2D(3, 3, activation="relu", padding="same"),
            layers.MaxPooling2D(), layers.Flatten()]), (6, 6, 2), "normal")
    if kind == "lstm":
        return (lambda: layers.LSTM(4), (5, 3), "normal")
    if kind == "masked_gru_model":
        return (lambda: keras.Sequential([keras.Input((5,)),
                                          layers.Embedding(10, 3, mask_zero=True),
                                          layers.GRU(4)]), (5,), "ids")
    if kind == "batchnorm_model":
        return (lambda: keras.Sequential([keras.Input((6,)), layers.Dense(4),
                                          layers.BatchNormalization(), layers.ReLU()]),
                (6,), "normal")
    if kind == "user_layer":
        return (lambda: Scaled(), (6,), "normal")
    raise ValueError(kind)


def _siamese(towers, shape):
    a, b = keras.Input(shape), keras.Input(shape)
    first, second = towers
    flat = [layers.Flatten()(t) for t in (first(a), second(b))]
    head = layers.Dense(1)
    return keras.Model([a, b], head(layers.concatenate(flat))), head


def _data(shape, maker, n=16):
    rng = np.random.default_rng(0)
    if maker == "ids":
        x = [rng.integers(0, 10, (n,) + shape) for _ in range(2)]
        x[0][:, -2:] = 0  # padding that the mask hides
    else:
        x = [rng.standard_normal((n,) + shape).astype("float32") for _ in range(2)]
    return x, rng.standard_normal((n, 1)).astype("float32")


KINDS = ["dense", "conv_model", "lstm", "masked_gru_model", "batchnorm_model", "user_layer"]


def _gradients(kind, how):
    """(shared model's gradients of the tower's weights and of the head's, the
    two-copy model's: tower copy 1 + copy 2, head)."""
    make, shape, maker = _tower(kind)
    keras.utils.set_random_seed(4)
    tower = make()
    shared, head = _siamese([tower, tower], shape)
    one, two = make(), make()
    copies, head2 = _siamese([one, two], shape)
    for t in (one, two):
        t.set_weights(tower.get_weights())
    head2.set_weights(head.get_weights())
    x, y = _data(shape, maker)
    out = []
    for model, tower_sets in ((shared, [tower]), (copies, [one, two])):
        model.compile(optimizer=keras.optimizers.SGD(1.0), loss="mse")
        watched = [w for t in tower_sets for w in t.trainable_weights] + head.trainable_weights \
            if model is shared else \
            [w for t in tower_sets for w in t.trainable_weights] + head2.trainable_weights
        if how == "tape":
            with GradientTape() as tape:
                loss = ops.mean(ops.square(model(x, training=True) - y))
            grads = [np.asarray(g) for g in tape.gradient(loss, watched)]
        else:  # fit: one SGD step of rate 1 moves each weight by minus its gradient
            before = [np.array(w.numpy()) for w in watched]
            model.train_on_batch(x, y)
            grads = [b - np.array(w.numpy()) for b, w in zip(before, watched)]
        out.append(grads)
    got, parts = out
    count = len(tower.trainable_weights)
    expected = [p + q for p, q in zip(parts[:count], parts[count:2 * count])] + parts[2 * count:]
    return got, expected


@pytest.mark.parametrize("how", ["fit", "tape"])
@pytest.mark.parametrize("kind", KINDS)
def test_a_shared_tower_trains_as_its_copies_summed(kind, how):
    got, expected = _gradients(kind, how)
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g, e, rtol=2e-4, atol=2e-6)
    assert any(np.abs(e).max() > 1e-4 for e in expected)  # the check means something


def test_a_shared_tower_fits_and_learns():
    keras.utils.set_random_seed(0)
    tower = keras.Sequential([keras.Input((4,)), layers.Dense(8, activation="relu")])
    a, b = keras.Input((4,)), keras.Input((4,))
    distance = layers.Subtract()([tower(a), tower(b)])
    model = keras.Model([a, b], layers.Dense(1, activation="sigmoid")(
        layers.Lambda(lambda d: ops.abs(d))(distance)))
    rng = np.random.default_rng(1)
    xa = rng.standard_normal((256, 4)).astype("float32")
    same = rng.random(256) < 0.5
    xb = np.where(same[:, None], xa + 0.05 * rng.standard_normal((256, 4)),
                  rng.standard_normal((256, 4))).astype("float32")
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    history = model.fit([xa, xb], same.astype("float32"), epochs=30, batch_size=32, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert history.history["accuracy"][-1] > 0.8
