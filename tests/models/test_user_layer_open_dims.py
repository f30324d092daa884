"""A user's layer computing on values (``ops.shape``, ``ops.arange``) behind an input
with an open dimension (``Input(shape=(None,), dtype="int64")``, Deep Learning with
Python's PositionalEmbedding): its output keeps that dimension open, and it trains."""

import numpy as np

import tinyann as keras
from tinyann import layers, ops


class PositionalEmbedding(layers.Layer):
    def __init__(self, sequence_length, input_dim, output_dim, **kwargs):
        super().__init__(**kwargs)
        self.token_embeddings = layers.Embedding(input_dim, output_dim)
        self.position_embeddings = layers.Embedding(sequence_length, output_dim)

    def call(self, inputs):
        length = ops.shape(inputs)[-1]
        positions = ops.arange(0, length, 1)
        return self.token_embeddings(inputs) + self.position_embeddings(positions)


def _model():
    keras.utils.set_random_seed(0)
    inputs = keras.Input(shape=(None,), dtype="int64")
    x = PositionalEmbedding(12, 30, 8)(inputs)
    x = layers.GlobalAveragePooling1D()(x)
    outputs = layers.Dense(1, activation="sigmoid")(x)
    return keras.Model(inputs, outputs), x


def test_the_open_dimension_stays_open_and_the_model_trains():
    model, pooled = _model()
    embedded = model.layers[1].output
    assert tuple(embedded.shape) == (None, None, 8)
    assert tuple(pooled.shape) == (None, 8)
    rng = np.random.default_rng(1)
    x = rng.integers(1, 30, (64, 10))
    y = (x[:, 0] > 15).astype("float32")
    model.compile(optimizer="adam", loss="binary_crossentropy")
    before = [w.numpy().copy() for w in model.trainable_weights]
    history = model.fit(x, y, epochs=3, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    # the positions' embedding learned too: its gradient reached it through the tape
    assert all(not np.array_equal(a, w.numpy()) for a, w in zip(before, model.trainable_weights))
    # other lengths than the fit's
    assert model.predict(x[:3, :5], verbose=0).shape == (3, 1)
    assert model.predict(x[:3, :12], verbose=0).shape == (3, 1)
