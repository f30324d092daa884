"""Normalization against real Keras 3 (tests/fixtures/keras/norm_layers.*, made by
tools/keras_reference/make_norm_layers_fixtures.py): adapted statistics, outputs,
weights, configs and files; the TF regression tutorial's pattern end to end."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import tinyann as keras
from tinyann import layers

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "keras"


@pytest.fixture(scope="module")
def ref():
    return dict(np.load(FIXTURES / "norm_layers.npz"))


@pytest.fixture(scope="module")
def facts():
    return json.loads((FIXTURES / "norm_layers.json").read_text())["normalization"]


def _strip_name(config):
    return {k: v for k, v in config.items() if k != "name"}


@pytest.mark.parametrize("case", ["last", "none", "two", "middle", "invert"])
def test_adapt_and_outputs_match_keras(case, ref, facts):
    fact = facts[case]
    layer = layers.Normalization(**fact["kwargs"])
    layer.adapt(ref["norm:data"])
    np.testing.assert_allclose(layer.adapt_mean.numpy(), ref[f"norm_{case}:mean"], rtol=1e-6)
    np.testing.assert_allclose(layer.adapt_variance.numpy(), ref[f"norm_{case}:variance"],
                               rtol=1e-6)
    y = layer(ref["norm:x"]).numpy()
    np.testing.assert_allclose(y, ref[f"norm_{case}:y"], rtol=1e-5, atol=1e-5)
    assert list(layer.mean.shape) == fact["broadcast_mean_shape"]
    assert [[w.path, list(w.shape), w.dtype, w.trainable] for w in layer.weights] == [
        [path.replace(fact["config"]["name"], layer.name), shape, dtype, trainable]
        for path, shape, dtype, trainable in fact["weights"]]
    assert json.loads(json.dumps(layer.get_config())) == dict(fact["config"],
                                                              name=layer.name)


def test_adapt_over_batches_combines_as_keras(ref):
    data = ref["norm:data"]
    expected = (ref["norm_batches:mean"], ref["norm_batches:variance"])
    sources = {"list": [data[:16], data[16:30], data[30:]],
               "generator": (b for b in (data[:16], data[16:30], data[30:])),
               "pairs": [(data[:16], None), (data[16:], None)]}

    class Batches(keras.utils.PyDataset):
        def __len__(self):
            return 3

        def __getitem__(self, i):
            return data[[0, 16, 30, 40][i]:[0, 16, 30, 40][i + 1]], np.zeros(1)

    sources["py_dataset"] = Batches()
    from tinyann.runner.shims.data import Dataset  # tf.data as `tinyann run` serves it

    sources["dataset"] = Dataset.from_tensor_slices((data, np.zeros(40))).batch(16)
    for name, source in sources.items():
        layer = layers.Normalization()
        layer.adapt(source)
        np.testing.assert_allclose(layer.adapt_mean.numpy(), expected[0], rtol=1e-6,
                                   err_msg=name)
        np.testing.assert_allclose(layer.adapt_variance.numpy(), expected[1], rtol=1e-5,
                                   err_msg=name)


def test_adapt_over_an_unbatched_dataset_of_vectors():
    from tinyann.runner.shims.data import Dataset

    x = np.random.default_rng(5).normal(size=(300, 3)) * [1.0, 5.0, 9.0]
    layer = layers.Normalization()
    layer.adapt(Dataset.from_tensor_slices(x))
    np.testing.assert_allclose(layer.adapt_mean.numpy(), x.mean(axis=0), rtol=1e-5)
    np.testing.assert_allclose(layer.adapt_variance.numpy(), x.var(axis=0), rtol=1e-5)
    assert layer(x[:2].astype("float32")).shape == (2, 3)  # built for batches


@pytest.mark.parametrize("case", ["vector", "scalar", "scalar_invert"])
def test_given_mean_and_variance_match_keras(case, ref, facts):
    fact = facts[case]
    layer = layers.Normalization(**fact["kwargs"])
    np.testing.assert_allclose(layer(ref["norm:x"]).numpy(), ref[f"norm_{case}:y"],
                               rtol=1e-6, atol=1e-6)
    assert len(layer.weights) == fact["weights"] == 0
    assert json.loads(json.dumps(layer.get_config())) == dict(fact["config"],
                                                              name=layer.name)


def test_zero_variance_divides_by_epsilon(ref):
    layer = layers.Normalization()
    data = ref["norm:data"]
    layer.adapt(np.concatenate([data[:, :1], np.full((40, 1, 4), 7.0)], axis=1))
    np.testing.assert_allclose(layer(ref["norm_constant:x"]).numpy(), ref["norm_constant:y"],
                               rtol=1e-4)


def test_errors_as_keras():
    with pytest.raises(ValueError, match="both `mean` and `variance` must be set"):
        layers.Normalization(mean=1.0)
    with pytest.raises(ValueError, match="`mean` and `variance` must have the same shape"):
        layers.Normalization(mean=[1.0, 2.0], variance=1.0)
    with pytest.raises(ValueError, match="The rank of `mean` must be less than or equal"):
        layers.Normalization(axis=None, mean=[1.0], variance=[1.0])
    with pytest.raises(ValueError, match=r"All `axis` values must be in the range"):
        layers.Normalization(axis=3).adapt(np.ones((4, 2)))
    layer = layers.Normalization()
    layer.adapt(np.ones((4, 2)))
    with pytest.raises(ValueError, match="The layer was built with input_shape"):
        layer.adapt(np.ones((4, 3)))
    with pytest.raises(ValueError, match="adapt\\(\\) received an empty iterable"):
        layers.Normalization().adapt([])


def test_gradient(gradcheck, helpers):
    rng = np.random.default_rng(0)
    for kwargs in ({}, {"invert": True}, {"axis": None}):
        layer = layers.Normalization(**kwargs)
        layer.adapt(rng.normal(size=(20, 3, 4)) * 5 + 2)
        helpers.check_layer(gradcheck, layer, rng.normal(size=(2, 3, 4)), rng)


def test_trains_after_other_layers():
    """Backward through the layer: a Dense before it still learns."""
    rng = np.random.default_rng(1)
    x = rng.normal(size=(64, 3)).astype("float32")
    norm = layers.Normalization(mean=[1.0, 2.0], variance=[4.0, 0.25])
    first = layers.Dense(2)
    model = keras.Sequential([keras.Input((3,)), first, norm, layers.Dense(1)])
    kernel = first.kernel.numpy()
    model.compile(optimizer="sgd", loss="mse")
    model.fit(x, x[:, :1], epochs=1, batch_size=16, verbose=0)
    assert not np.allclose(first.kernel.numpy(), kernel)


def test_summary_counts_the_statistics_as_keras():
    """The TF tutorial's summary: 9 features -> 19 non-trainable parameters."""
    norm = layers.Normalization(axis=-1)
    norm.adapt(np.random.default_rng(2).normal(size=(30, 9)))
    model = keras.Sequential([norm, layers.Dense(64, activation="relu"), layers.Dense(1)])
    model.build((None, 9))
    lines = []
    model.summary(print_fn=lines.append)
    text = "\n".join(lines)
    assert "(Normalization)" in text
    assert norm.count_params() == 19
    assert " Non-trainable params: 19 " in text


def test_keras_files_load_and_predict_the_same(ref, tmp_path):
    model = keras.models.load_model(FIXTURES / "saving" / "norm_layers_model.keras")
    np.testing.assert_allclose(model.predict(ref["saved:x"], verbose=0), ref["saved:pred"],
                               rtol=1e-5, atol=1e-5)
    norm = model.layers[0]
    assert isinstance(norm, layers.Normalization)
    assert [w.name for w in norm.weights] == ["mean", "variance", "count"]
    # the weights file into a model built here
    twin = keras.Sequential([keras.Input((4,)), layers.Normalization(),
                             layers.Dense(3, activation="relu"), layers.LayerNormalization(),
                             layers.Dense(1)])
    twin.load_weights(FIXTURES / "saving" / "norm_layers_model.weights.h5")
    np.testing.assert_allclose(twin.predict(ref["saved:x"], verbose=0), ref["saved:pred"],
                               rtol=1e-5, atol=1e-5)
    # and back out: tinyann's files hold Keras's layout (mean, variance, count as int64)
    path = tmp_path / "again.weights.h5"
    twin.save_weights(path)
    import h5py

    with h5py.File(path) as f, h5py.File(FIXTURES / "saving" / "norm_layers_model.weights.h5") as k:
        ours = {}
        f.visititems(lambda n, o: ours.__setitem__(n, (o.shape, o.dtype))
                     if hasattr(o, "dtype") else None)
        theirs = {}
        k.visititems(lambda n, o: theirs.__setitem__(n, (o.shape, o.dtype))
                     if hasattr(o, "dtype") else None)
    assert ours == theirs


def test_regression_tutorial_pattern(tmp_path):
    """TensorFlow's "basic regression" tutorial on synthetic data: adapt, look at the
    mean, fit, evaluate, predict, save and load."""
    rng = np.random.default_rng(3)
    features = rng.normal(size=(200, 9)) * rng.uniform(1, 50, 9) + rng.uniform(-100, 100, 9)
    labels = features @ (rng.normal(size=9) / 20) + 20.0
    normalizer = layers.Normalization(axis=-1)
    normalizer.adapt(np.array(features))
    np.testing.assert_allclose(normalizer.mean.numpy(), features.mean(axis=0, keepdims=True),
                               rtol=1e-5)
    first = np.array(features[:1])
    np.testing.assert_allclose(normalizer(first).numpy(),
                               (first - features.mean(0)) / features.std(0), rtol=1e-4)
    model = keras.Sequential([normalizer, layers.Dense(64, activation="relu"),
                              layers.Dense(64, activation="relu"), layers.Dense(1)])
    model.compile(loss="mean_absolute_error", optimizer=keras.optimizers.Adam(0.01))
    history = model.fit(features, labels, validation_split=0.2, verbose=0, epochs=30)
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]
    loss = model.evaluate(features, labels, verbose=0)
    prediction = model.predict(features[:10], verbose=0)
    assert prediction.shape == (10, 1)
    model.save(tmp_path / "dnn_model.keras")
    reloaded = keras.models.load_model(tmp_path / "dnn_model.keras")
    np.testing.assert_allclose(reloaded.predict(features[:10], verbose=0), prediction,
                               rtol=1e-6)
    np.testing.assert_allclose(reloaded.evaluate(features, labels, verbose=0), loss,
                               rtol=1e-6)
    np.testing.assert_allclose(reloaded.layers[0].mean.numpy(), normalizer.mean.numpy())


def test_config_round_trip_keeps_given_statistics():
    layer = layers.Normalization(axis=(1, 2), mean=[[1.0, 2.0]], variance=[[3.0, 4.0]],
                                 invert=True)
    config = json.loads(json.dumps(layer.get_config()))
    rebuilt = layers.Normalization.from_config(config)
    x = np.random.default_rng(4).normal(size=(2, 1, 2)).astype("float32")
    np.testing.assert_allclose(rebuilt(x).numpy(), layer(x).numpy())
