"""A subclassed model whose call uses keras.ops between its layers trains under fit
(the exact gradient), runs eagerly on a tape, and saves and loads."""

from __future__ import annotations

import numpy as np

import tinyann as keras
from tinyann import ops
from tinyann.autodiff import GradientTape


@keras.saving.register_keras_serializable(package="tests_autodiff")
class OpsBetweenLayers(keras.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.d1 = keras.layers.Dense(6)
        self.d2 = keras.layers.Dense(3)

    def call(self, x):
        h = ops.tanh(self.d1(x)) * 2.0
        return self.d2(h + ops.square(h))


def test_fit_takes_the_exact_gradient_step(tiny_data, float64):
    model = OpsBetweenLayers()
    model.compile(optimizer=keras.optimizers.SGD(0.1),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    x, y = tiny_data.x[:16].astype("float64"), tiny_data.y[:16]
    model.build((None, 4))
    before = [w.copy() for w in model.get_weights()]
    with GradientTape() as tape:
        logits = model(x)
        loss = ops.mean(ops.sparse_categorical_crossentropy(y, logits, from_logits=True))
    grads = tape.gradient(loss, model.trainable_variables)
    model.fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0)
    for after, start, g in zip(model.get_weights(), before, grads):
        np.testing.assert_allclose(after, start - 0.1 * g.numpy(), atol=1e-10)


def test_saves_and_loads(tmp_path, tiny_data):
    model = OpsBetweenLayers()
    model.compile(optimizer="adam", loss="mse")
    target = np.eye(3)[tiny_data.y]
    model.fit(tiny_data.x, target, epochs=1, verbose=0)
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras")
    np.testing.assert_allclose(loaded.predict(tiny_data.x, verbose=0),
                               model.predict(tiny_data.x, verbose=0), rtol=1e-6)
