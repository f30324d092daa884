"""keras.constraints: Keras 3's formulas (numbers from Keras 3.15), names, configs, and
the optimizer applying a weight's constraint after each update, as Keras does."""

import numpy as np
import pytest

import tinyann as keras
from tinyann import constraints
from tinyann.saving import registry

W = np.array([[0.5, -2.0, 3.0], [1.5, 0.25, -4.0]], dtype="float32")

# constraint -> Keras 3.15's output on W
KERAS = [
    (constraints.MaxNorm(2.0), [[0.49999997, -1.9845557, 1.2], [1.4999999, 0.24806947, -1.6]]),
    (constraints.MaxNorm(1.0, axis=1), [[0.13736056, -0.54944223, 0.82416332],
                                        [0.35052374, 0.05842062, -0.93472999]]),
    (constraints.NonNeg(), [[0.5, 0.0, 3.0], [1.5, 0.25, 0.0]]),
    (constraints.UnitNorm(), [[0.31622773, -0.99227786, 0.6], [0.9486832, 0.12403473, -0.8]]),
    (constraints.UnitNorm(axis=1), [[0.13736056, -0.54944223, 0.82416338],
                                    [0.35052374, 0.05842062, -0.93472999]]),
    (constraints.MinMaxNorm(1.0, 2.0, rate=0.5), [[0.49999997, -1.9922779, 2.0999999],
                                                  [1.4999999, 0.24903473, -2.79999995]]),
    (constraints.MinMaxNorm(3.0, 4.0, axis=[0, 1]), [[0.35599533, -1.4239813, 2.135972],
                                                     [1.067986, 0.17799766, -2.8479626]]),
]


@pytest.mark.parametrize("constraint,expected", KERAS, ids=lambda c: type(c).__name__)
def test_formulas_match_keras(constraint, expected):
    out = constraint(W)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, expected, rtol=1e-6, atol=1e-7)


def test_names_aliases_and_get():
    assert constraints.max_norm is constraints.MaxNorm
    assert constraints.non_neg is constraints.NonNeg
    assert constraints.unit_norm is constraints.UnitNorm
    assert constraints.min_max_norm is constraints.MinMaxNorm
    for name, cls in [("max_norm", constraints.MaxNorm), ("MaxNorm", constraints.MaxNorm),
                      ("non_neg", constraints.NonNeg), ("unit_norm", constraints.UnitNorm),
                      ("min_max_norm", constraints.MinMaxNorm)]:
        assert type(constraints.get(name)) is cls
    assert constraints.get(None) is None
    assert type(constraints.get(constraints.NonNeg)) is constraints.NonNeg
    fn = lambda w: w  # noqa: E731  (any callable is a constraint, as in Keras)
    assert constraints.get(fn) is fn
    with pytest.raises(ValueError, match="constraint"):
        constraints.get("no_such_constraint")
    np.testing.assert_array_equal(constraints.Constraint()(W), W)


def test_serialize_round_trip_and_keras_entries():
    c = constraints.MinMaxNorm(0.5, 2.0, rate=0.3, axis=[0, 1])
    entry = constraints.serialize(c)
    assert entry == {"module": "keras.constraints", "class_name": "MinMaxNorm",
                     "config": {"min_value": 0.5, "max_value": 2.0, "rate": 0.3,
                                "axis": [0, 1]}, "registered_name": None}
    back = constraints.deserialize(entry)
    assert type(back) is constraints.MinMaxNorm and back.get_config() == c.get_config()
    # as Keras writes it
    keras_entry = {"module": "keras.constraints", "class_name": "MaxNorm",
                   "config": {"max_value": 3, "axis": 0}, "registered_name": None}
    assert constraints.get(keras_entry).max_value == 3
    assert keras.utils.deserialize_keras_object(keras_entry).get_config() == {
        "max_value": 3, "axis": 0}
    assert keras.utils.serialize_keras_object(constraints.NonNeg()) == {
        "module": "keras.constraints", "class_name": "NonNeg", "config": {},
        "registered_name": None}
    assert constraints.serialize(None) is None


def test_registered_custom_constraint_round_trip():
    try:
        @keras.saving.register_keras_serializable("pkg")
        class Clip(constraints.Constraint):
            def __init__(self, limit=1.0):
                self.limit = limit

            def __call__(self, w):
                return np.clip(w, -self.limit, self.limit)

            def get_config(self):
                return {"limit": self.limit}

        entry = constraints.serialize(Clip(0.5))
        assert entry["registered_name"] == "pkg>Clip" and entry["module"] is None
        back = constraints.deserialize(entry)
        assert isinstance(back, Clip) and back.limit == 0.5
    finally:
        registry.clear_custom_objects()


class _Positive(keras.layers.Layer):
    """A user's layer whose weight is kept non-negative by a constraint."""

    def build(self, input_shape):
        self.k = self.add_weight(shape=(2, 3), initializer=keras.initializers.Constant(1.0),
                                 constraint="non_neg", name="k")
        self.b = self.add_weight(shape=(3,), initializer="zeros", name="b")

    def call(self, x):
        return keras.ops.matmul(x, self.k) + self.b


def test_add_weight_keeps_the_constraint_and_apply_gradients_applies_it():
    layer = _Positive()
    layer.build((None, 2))
    assert isinstance(layer.k.constraint, constraints.NonNeg)
    assert layer.b.constraint is None
    opt = keras.optimizers.SGD(1.0)
    # Keras 3.15: [[0, 1, 1], [1, 0.5, 1]] after one SGD step and the projection
    opt.apply_gradients([(np.array([[2.0, 0, 0], [0, 0.5, 0]], "float32"), layer.k),
                         (np.array([1.0, -1.0, 0.0], "float32"), layer.b)])
    np.testing.assert_array_equal(layer.k.numpy(), [[0.0, 1.0, 1.0], [1.0, 0.5, 1.0]])
    np.testing.assert_array_equal(layer.b.numpy(), [-1.0, 1.0, 0.0])  # not constrained


def test_fit_applies_the_constraint_every_step():
    keras.utils.set_random_seed(0)
    x = np.random.default_rng(0).normal(size=(64, 2)).astype("float32")
    y = -np.abs(x @ np.array([[1.0, 2.0, 3.0], [2.0, 1.0, 0.5]], "float32"))
    model = keras.Sequential([keras.Input((2,)), _Positive()])
    model.compile(keras.optimizers.Adam(0.1), "mse")
    model.fit(x, y, epochs=3, batch_size=8, verbose=0)
    k = model.layers[-1].k.numpy()
    assert (k >= 0).all() and (k == 0).any()  # the fit pushed weights below zero


def test_unconstrained_optimizer_keeps_no_list():
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    model.compile("sgd", "mse")
    model.fit(np.ones((4, 3), "float32"), np.ones((4, 2), "float32"), verbose=0)
    assert model.optimizer._constrained == []


@pytest.mark.parametrize("make", [
    lambda: keras.layers.Dense(4, kernel_constraint=keras.constraints.MaxNorm(0.5),
                               bias_constraint="non_neg"),
    # a convolution's kernel (kh, kw, in, out): the norm of each filter, over axes 0-2
    lambda: keras.layers.Conv2D(4, 2, kernel_constraint=keras.constraints.MaxNorm(
        0.5, axis=[0, 1, 2]), bias_constraint="non_neg")])
def test_layers_keep_their_constraints_through_fit_and_saving(tmp_path, make):
    """Keras's kernel_constraint / bias_constraint: applied after each update of fit,
    written in the config and read back."""
    keras.utils.set_random_seed(1)
    layer = make()
    shape = (6,) if isinstance(layer, keras.layers.Dense) else (5, 5, 2)
    model = keras.Sequential([keras.Input(shape), layer, keras.layers.Flatten(),
                              keras.layers.Dense(1)])
    model.compile(keras.optimizers.Adam(0.05), "mse")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64,) + shape) * 3
    model.fit(x, x.reshape(64, -1).sum(axis=1, keepdims=True), epochs=5, verbose=0)
    kernel = layer.kernel.numpy()
    norms = np.sqrt(np.sum(kernel.reshape(-1, kernel.shape[-1]) ** 2, axis=0))
    assert norms.max() <= 0.5 + 1e-6
    assert (layer.bias.numpy() >= 0).all()
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    again = loaded.layers[0]
    assert type(again.kernel_constraint).__name__ == "MaxNorm"
    assert again.get_config()["kernel_constraint"] == layer.get_config()["kernel_constraint"]
    np.testing.assert_allclose(loaded.predict(x[:4], verbose=0), model.predict(x[:4], verbose=0))
