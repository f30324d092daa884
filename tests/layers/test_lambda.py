"""Lambda: a function of keras.ops as a layer, called eagerly, in models, trained by
fit and on a tape, with Keras's config, and refused (with the way out) on loading."""

import numpy as np
import pytest

import tinyann as keras
from tinyann import layers, ops
from tinyann.autodiff import GradientTape


def test_eager_call_and_arguments():
    layer = layers.Lambda(lambda x, power: ops.abs(x) ** power, arguments={"power": 3})
    np.testing.assert_allclose(np.asarray(layer(np.array([[-2.0, 1.0]]))), [[8.0, 1.0]])


def test_output_shape_given_or_inferred():
    inputs = keras.Input((4, 3))
    assert layers.Lambda(lambda x: ops.sum(x, axis=-1))(inputs).shape == (None, 4)
    assert layers.Lambda(lambda x: x[:, 0], output_shape=(3,))(inputs).shape == (None, 3)
    shape_fn = layers.Lambda(lambda x: ops.reshape(x, (-1, 12)),
                             output_shape=lambda s: (s[0], 12))
    assert shape_fn(inputs).shape == (None, 12)


def test_several_inputs_a_siamese_distance():
    a, b = keras.Input((3,)), keras.Input((3,))
    distance = layers.Lambda(lambda t: ops.sqrt(ops.sum(ops.square(t[0] - t[1]), axis=1,
                                                        keepdims=True)))([a, b])
    model = keras.Model([a, b], distance)
    x, y = np.zeros((2, 3), "float32"), np.ones((2, 3), "float32") * 2
    np.testing.assert_allclose(model.predict([x, y], verbose=0), np.full((2, 1), np.sqrt(12)),
                               rtol=1e-6)


def test_the_input_gradient_is_the_numerical_one(gradcheck):
    layer = layers.Lambda(lambda x: ops.tanh(x) * ops.mean(x, axis=-1, keepdims=True))
    x = np.random.default_rng(0).standard_normal((3, 4))
    g = np.random.default_rng(1).standard_normal((3, 4))
    xt = ops.convert_to_tensor(x)
    with GradientTape() as tape:
        tape.watch(xt)
        out = layer(xt)
    analytic = np.asarray(tape.gradient(out, xt, output_gradients=g))

    def loss():
        return float(np.sum(g * np.asarray(layer(x))))

    gradcheck.assert_close(analytic, gradcheck.numerical_grad(loss, x), rtol=1e-6)


def test_fit_trains_through_it_as_the_tape_does():
    keras.utils.set_random_seed(2)
    model = keras.Sequential([keras.Input((3,)), layers.Dense(4),
                              layers.Lambda(lambda x: ops.square(x) + ops.relu(-x)),
                              layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(1.0), loss="mse")
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((8, 3)).astype("float32"), rng.standard_normal((8, 1))
    with GradientTape() as tape:
        loss = ops.mean(ops.square(model(x, training=True) - y))
    expected = [np.asarray(g) for g in tape.gradient(loss, model.trainable_weights)]
    before = [np.array(w.numpy()) for w in model.trainable_weights]
    model.train_on_batch(x, y)
    for b, w, e in zip(before, model.trainable_weights, expected):
        np.testing.assert_allclose(b - np.array(w.numpy()), e, rtol=1e-5, atol=1e-7)


def test_mask_and_training_keywords_reach_the_function():
    seen = {}

    def fn(x, mask=None, training=None):
        seen.update(mask=mask, training=training)
        return x

    layers.Lambda(fn)(np.ones((1, 2)), training=True)
    assert seen["training"] is True and seen["mask"] is None
    masked = layers.Lambda(lambda x: x, mask=lambda inputs, mask: "kept")
    assert masked.supports_masking and masked.compute_mask(None, None) == "kept"


def test_config_is_keras_and_loading_is_refused_with_the_way_out(tmp_path):
    model = keras.Sequential([keras.Input((2,)), layers.Lambda(lambda x: x * 2.0)])
    config = model.layers[0].get_config()
    assert config["function"]["class_name"] == "__lambda__"
    assert set(config["function"]["config"]) == {"code", "defaults", "closure"}
    path = tmp_path / "m.keras"
    model.save(path)
    with pytest.raises(Exception, match="never runs code from a model file"):
        keras.models.load_model(path)


def test_a_function_that_is_not_callable_is_refused():
    with pytest.raises(TypeError, match="callable"):
        layers.Lambda(3)
