"""Deep Learning with Python's VAE pattern: a Model with its own ``train_step`` and no
``call``, compiled without a loss, fitted on x alone; a layer whose ``call`` takes two
positional arguments (``sampler(z_mean, z_log_var)``)."""

import numpy as np
import pytest

import tinyann as keras
from tinyann import ops
from tinyann.autodiff import GradientTape


class Sampler(keras.layers.Layer):
    def call(self, z_mean, z_log_var):
        epsilon = keras.random.normal(shape=ops.shape(z_mean), seed=1)
        return z_mean + ops.exp(0.5 * z_log_var) * epsilon


class Shift(keras.layers.Layer):
    def call(self, inputs, amount, training=None):
        return inputs + amount * (2.0 if training else 1.0)


def test_positional_arguments_go_to_call_by_its_signature():
    x = np.ones((2, 3), "float32")
    assert np.allclose(Shift()(x, 1.0), 2.0)
    assert np.allclose(Shift()(x, 1.0, True), 3.0)
    assert np.allclose(Shift()(x, amount=1.0, training=True), 3.0)
    with pytest.raises(TypeError, match="positional argument"):
        Shift()(x, 1.0, True, 4)
    with pytest.raises(TypeError, match="multiple values for argument 'amount'"):
        Shift()(x, 1.0, amount=2.0)


class VAE(keras.Model):
    def __init__(self, encoder, decoder, **kwargs):
        super().__init__(**kwargs)
        self.encoder, self.decoder, self.sampler = encoder, decoder, Sampler()
        self.loss_tracker = keras.metrics.Mean(name="total_loss")

    @property
    def metrics(self):
        return [self.loss_tracker]

    def train_step(self, data):
        with GradientTape() as tape:
            z_mean, z_log_var = self.encoder(data)
            z = self.sampler(z_mean, z_log_var)
            reconstruction = self.decoder(z)
            loss = ops.mean(ops.sum(ops.square(data - reconstruction), axis=1))
            loss = loss + ops.mean(-0.5 * (1 + z_log_var - ops.square(z_mean)
                                           - ops.exp(z_log_var)))
        grads = tape.gradient(loss, self.trainable_weights)
        self.optimizer.apply_gradients(zip(grads, self.trainable_weights))
        self.loss_tracker.update_state(loss)
        return {"total_loss": self.loss_tracker.result()}


def test_a_model_that_steps_itself_fits_on_x_alone_without_a_loss():
    keras.utils.set_random_seed(0)
    inputs = keras.Input((6,))
    hidden = keras.layers.Dense(8, activation="relu")(inputs)
    encoder = keras.Model(inputs, [keras.layers.Dense(2)(hidden), keras.layers.Dense(2)(hidden)])
    decoder = keras.Sequential([keras.Input((2,)), keras.layers.Dense(6)])
    vae = VAE(encoder, decoder)
    vae.compile(optimizer=keras.optimizers.Adam(0.01))
    x = np.random.default_rng(0).normal(size=(64, 6)).astype("float32")
    history = vae.fit(x, epochs=5, batch_size=16, verbose=0)
    losses = history.history["total_loss"]
    assert len(losses) == 5 and losses[-1] < losses[0]
    # a model without a loss of its own still needs one for the built-in step
    plain = keras.Sequential([keras.Input((6,)), keras.layers.Dense(1)])
    plain.compile(optimizer="adam")
    with pytest.raises(ValueError, match="No loss to compute"):
        plain.fit(x, np.zeros(64), verbose=0)
