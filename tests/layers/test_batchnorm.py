"""BatchNormalization: batch statistics in training, moving ones otherwise, as Keras."""

import numpy as np
import pytest

import tinyann as keras
from tinyann.layers import BatchNormalization, Conv2D, Dense, GlobalAveragePooling2D, Input


def _layer(rng, shape, **kwargs):
    layer = BatchNormalization(**kwargs)
    layer.build((None,) + shape[1:])
    layer.set_weights([rng.uniform(0.5, 2.0, size=w.shape) if w.name in ("gamma",
                       "moving_variance") else rng.normal(size=w.shape)
                       for w in layer.weights])
    return layer


@pytest.mark.parametrize("shape, axis", [((4, 3, 3, 2), -1), ((6, 3), -1), ((3, 2, 4, 5), 1),
                                         ((5, 4, 3), 1)])
@pytest.mark.parametrize("center, scale", [(True, True), (False, True), (True, False)])
def test_training_mode_gradients(gradcheck, helpers, shape, axis, center, scale):
    rng = np.random.default_rng(1)
    layer = _layer(rng, shape, axis=axis, center=center, scale=scale)
    x = rng.normal(size=shape)
    helpers.check_layer(gradcheck, layer, x, rng)


def test_frozen_layer_in_a_training_step_uses_moving_statistics(gradcheck, helpers):
    rng = np.random.default_rng(2)
    layer = _layer(rng, (4, 3, 3, 2))
    layer.trainable = False
    moving = [layer.moving_mean.numpy(), layer.moving_variance.numpy()]
    x = rng.normal(size=(4, 3, 3, 2))
    y = layer(x, training=True)
    np.testing.assert_allclose(y, layer(x, training=False))
    np.testing.assert_array_equal(layer.moving_mean.numpy(), moving[0])
    helpers.check_layer(gradcheck, layer, x, rng)


def test_training_statistics_and_moving_update_by_hand():
    rng = np.random.default_rng(3)
    x = rng.normal(2.0, 3.0, size=(8, 5, 5, 4)).astype("float32")
    layer = BatchNormalization(momentum=0.9, epsilon=1e-3)
    y = layer(x, training=True)
    mean, var = x.mean(axis=(0, 1, 2)), x.var(axis=(0, 1, 2))
    np.testing.assert_allclose(y, (x - mean) / np.sqrt(var + 1e-3), rtol=1e-4, atol=1e-5)
    # Keras's rule: moving = moving * momentum + batch * (1 - momentum)
    np.testing.assert_allclose(layer.moving_mean.numpy(), 0.1 * mean, rtol=1e-5)
    np.testing.assert_allclose(layer.moving_variance.numpy(), 0.9 + 0.1 * var, rtol=1e-5)
    inference = layer(x)
    expected = (x - 0.1 * mean) / np.sqrt(0.9 + 0.1 * var + 1e-3)
    np.testing.assert_allclose(inference, expected, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name", ["batchnorm_train", "batchnorm_infer"])
def test_matches_keras(cnn_facts, name):
    from tinyann import layers as L  # noqa: N812, F401 (eval namespace)

    case = cnn_facts["numerics"][name]
    layer = eval(case["layer"])
    x = np.array(case["x"], dtype="float32")
    layer.build(x.shape)
    layer.set_weights([np.array(w, dtype="float32") for w in case["weights"]])
    if not case["training"]:
        np.testing.assert_allclose(layer(x), case["y"], rtol=1e-5, atol=1e-5)
        # the inference-mode gradient, through a frozen layer in a training step
        layer.trainable = False
    y = layer(x, training=True)  # updates the moving statistics once when trainable
    np.testing.assert_allclose(y, case["y"], rtol=1e-5, atol=1e-5)
    dx = layer.backward(np.array(case["r"], dtype="float32"))
    np.testing.assert_allclose(dx, case["dx"], rtol=1e-4, atol=1e-5)
    if case["training"]:
        for var, expected in zip(layer.trainable_weights, case["dweights"]):
            np.testing.assert_allclose(var.grad, expected, rtol=1e-5, atol=1e-5)
    for var, expected in zip(layer.weights, case["weights_after"]):
        np.testing.assert_allclose(var.numpy(), expected, rtol=1e-5, atol=1e-6)


def test_weights_order_and_summary_show_non_trainable(cnn_facts):
    facts = cnn_facts["summaries"]["batchnorm"]
    keras.backend.clear_session()
    model = keras.Sequential([Input((8, 8, 3)), Conv2D(4, 3), BatchNormalization(),
                              GlobalAveragePooling2D(), Dense(2)])
    bn = model.layers[1]
    assert [w.name for w in bn.weights] == ["gamma", "beta", "moving_mean", "moving_variance"]
    assert [w.name for w in bn.trainable_weights] == ["gamma", "beta"]
    assert [w.name for w in bn.non_trainable_weights] == ["moving_mean", "moving_variance"]
    keras_names = [p.split("/", 1)[1] for p in facts["weights"]]
    ours = [f"{layer.name}/{w.name}" for layer in model.layers for w in layer.weights]
    assert [n.split("/")[1] for n in ours] == [n.split("/")[1] for n in keras_names]
    lines = []
    model.summary(print_fn=lines.append, line_length=88)
    text = "".join(lines)
    for line in facts["text"].splitlines()[-3:]:
        assert line in text  # Total 138, Trainable 130, Non-trainable 8 (32.00 B)
    assert "Non-trainable params: 8 (32.00 B)" in text


def test_fit_updates_moving_statistics_but_not_through_the_optimizer():
    rng = np.random.default_rng(4)
    x = rng.normal(3.0, 2.0, size=(64, 6)).astype("float32")
    y = rng.integers(0, 2, size=64)
    model = keras.Sequential([Input((6,)), BatchNormalization(), Dense(2, activation="softmax")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    model.fit(x, y, epochs=3, batch_size=16, verbose=0)
    bn = model.layers[0]
    # 12 updates with momentum 0.99 move the moving mean towards the data mean of 3
    assert np.all(bn.moving_mean.numpy() > 0.3) and np.all(bn.moving_mean.numpy() < 3.0)
    assert len(model.trainable_weights) == 4 and len(model.non_trainable_weights) == 2


def test_config_matches_keras_and_round_trips(cnn_facts):
    keras_config = cnn_facts["configs"]["BatchNormalization"]
    config = BatchNormalization.from_config(keras_config).get_config()
    assert set(config) == set(keras_config)
    for key, value in keras_config.items():
        if key.endswith("_initializer"):
            assert config[key]["class_name"] == value["class_name"]
        else:
            assert config[key] == value, key
    assert BatchNormalization.from_config(config).get_config() == config


def test_errors():
    with pytest.raises(ValueError, match=r"Axis 3 is out of bounds for input shape "
                                         r"\(None, 4, 4\). Received: axis=3"):
        BatchNormalization(axis=3)(Input((4, 4)))
    layer = BatchNormalization()
    layer(np.zeros((2, 5)))
    with pytest.raises(ValueError, match="expected axis -1 of input shape to have value 5"):
        layer(np.zeros((2, 4)))
    with pytest.raises(NotImplementedError, match="renorm"):
        BatchNormalization(renorm=True)
