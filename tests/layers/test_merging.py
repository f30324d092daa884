"""Merge layers and functional models that branch and join."""

import numpy as np
import pytest

import tinyann as keras
from tinyann import layers
from tinyann.layers import (
    Add,
    Average,
    Concatenate,
    Conv2D,
    Dense,
    GlobalMaxPooling2D,
    Input,
    Maximum,
    Minimum,
    Multiply,
    Subtract,
)

ELEMENTWISE = {
    "add": (Add, [(2, 3, 4)] * 3, lambda xs: xs[0] + xs[1] + xs[2]),
    "add_broadcast": (Add, [(2, 1, 4), (2, 3, 4)], lambda xs: xs[0] + xs[1]),
    "subtract": (Subtract, [(2, 5)] * 2, lambda xs: xs[0] - xs[1]),
    "multiply": (Multiply, [(2, 3, 2)] * 3, lambda xs: xs[0] * xs[1] * xs[2]),
    "multiply_broadcast": (Multiply, [(2, 3, 1), (2, 3, 4)], lambda xs: xs[0] * xs[1]),
    "average": (Average, [(3, 4)] * 2, lambda xs: (xs[0] + xs[1]) / 2),
    "maximum": (Maximum, [(2, 4)] * 3, lambda xs: np.maximum(np.maximum(xs[0], xs[1]), xs[2])),
    "minimum": (Minimum, [(2, 4)] * 2, lambda xs: np.minimum(xs[0], xs[1])),
}


@pytest.mark.parametrize("name", sorted(ELEMENTWISE))
def test_elementwise_values_and_gradients(gradcheck, helpers, name):
    cls, shapes, expected = ELEMENTWISE[name]
    rng = np.random.default_rng(1)
    xs = [helpers.distinct_values(rng, s) + k * 0.013 for k, s in enumerate(shapes)]
    layer = cls()
    np.testing.assert_allclose(layer(xs), expected(xs))
    grads = helpers.check_layer(gradcheck, layer, xs, rng)
    assert len({id(g) for g in grads}) == len(grads)


@pytest.mark.parametrize("axis, shapes", [(-1, [(2, 3, 2), (2, 3, 4)]), (1, [(2, 1, 3), (2, 4, 3)]),
                                          (-1, [(2, 2), (2, 3), (2, 1)])])
def test_concatenate_values_and_gradients(gradcheck, helpers, axis, shapes):
    rng = np.random.default_rng(2)
    xs = [rng.normal(size=s) for s in shapes]
    layer = Concatenate(axis=axis)
    np.testing.assert_array_equal(layer(xs), np.concatenate(xs, axis=axis))
    assert layer.compute_output_shape([(None,) + s[1:] for s in shapes]) == (
        (None,) + np.concatenate(xs, axis=axis).shape[1:])
    for g in helpers.check_layer(gradcheck, layer, xs, rng):
        assert g.flags.c_contiguous


def test_add_gives_each_input_its_own_gradient_array():
    layer = Add()
    a, b = np.ones((2, 3), "float32"), np.ones((2, 3), "float32")
    layer([a, b], training=True)
    g = np.full((2, 3), 2.0, "float32")
    ga, gb = layer.backward(g)
    ga *= 10  # a receiving layer may overwrite its gradient in place
    np.testing.assert_array_equal(gb, np.full((2, 3), 2.0))


def _merge_model():
    inp = Input((8, 8, 3), name="input_layer_2")
    a = Conv2D(4, 3, padding="same", name="conv2d_3")(inp)
    b = Conv2D(4, 1, name="conv2d_4")(inp)
    s = layers.Add(name="add")([a, b])
    c = layers.Concatenate(name="concatenate")([s, inp])
    out = Dense(2, name="dense_3")(GlobalMaxPooling2D(name="global_max_pooling2d")(c))
    return keras.Model(inp, out, name="functional_2")


def test_merge_model_summary_matches_keras(cnn_facts):
    model = _merge_model()
    lines = []
    model.summary(print_fn=lines.append, line_length=108)
    assert "".join(lines).rstrip("\n") == cnn_facts["summaries"]["merge"]["text"].rstrip("\n")


def test_merge_model_gradients_through_branches_and_skip(gradcheck):
    """The input feeds three layers (two convolutions and the concatenation): its
    gradient is the sum of three paths; every weight is checked too."""
    model = _merge_model()
    model._needs_input_grad = True  # as when nested: the input gradient is wanted
    rng = np.random.default_rng(3)
    for w in model.weights:
        w.assign(rng.normal(0, 0.5, size=w.shape))
    x = rng.normal(size=(2, 8, 8, 3))
    out = model._graph.forward([x], training=True)[0]
    g = rng.normal(size=out.shape)
    (dx,) = model._graph.backward([g.copy()])

    def loss():
        return float(np.sum(g * model._graph.forward([x], training=True)[0]))

    gradcheck.assert_close(dx, gradcheck.numerical_grad(loss, x))
    analytic = [w.grad.copy() for w in model.trainable_weights]
    for w, grad in zip(model.trainable_weights, analytic):
        gradcheck.assert_close(grad, gradcheck.numerical_grad(loss, w.value))


def test_two_input_model_trains_and_predicts():
    rng = np.random.default_rng(4)
    left, right = Input((4,)), Input((4,))
    joined = layers.concatenate([Dense(3, activation="relu")(left), layers.subtract([left,
                                                                                     right])])
    out = Dense(2, activation="softmax")(layers.add([Dense(7)(joined), Dense(7)(joined)]))
    model = keras.Model([left, right], out)
    x1, x2 = rng.normal(size=(64, 4)), rng.normal(size=(64, 4))
    y = (x1[:, 0] > x2[:, 0]).astype(int)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit([x1, x2], y, epochs=30, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert model.predict([x1, x2], verbose=0).shape == (64, 2)


@pytest.mark.parametrize("key, cls", [("Add", Add), ("Concatenate", Concatenate),
                                      ("Concatenate_axis", Concatenate)])
def test_config_matches_keras_and_round_trips(cnn_facts, key, cls):
    keras_config = cnn_facts["configs"][key]
    config = cls.from_config(keras_config).get_config()
    assert config == keras_config
    assert cls.from_config(config).get_config() == config


@pytest.mark.parametrize("expr", [
    "L.Add()([keras.Input((4,)), keras.Input((5,))])",
    "L.Concatenate()([keras.Input((4, 2)), keras.Input((5, 3))])",
    "L.Subtract()([keras.Input((4,)), keras.Input((4,)), keras.Input((4,))])",
])
def test_errors_match_keras(cnn_facts, expr):
    L = layers  # noqa: N806, F841 (eval namespace)
    expected = cnn_facts["errors"][expr]
    with pytest.raises(ValueError) as info:
        eval(expr)
    assert str(info.value) == expected["message"]


def test_merge_layer_needs_a_list():
    with pytest.raises(ValueError, match="A merge layer should be called on a list of inputs"):
        Add()(Input((4,)))
    with pytest.raises(ValueError, match="should be called on a list of inputs"):
        Concatenate()(np.zeros((2, 3)))
