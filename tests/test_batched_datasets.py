"""The datasets tinyann's loaders return: tf.data's chainable methods (take, skip, map,
shuffle, cache, prefetch, repeat, unbatch/batch) as the TensorFlow tutorials chain them,
and timeseries_dataset_from_array against Keras's batches
(tests/fixtures/keras/timeseries.json, tools/keras_reference/make_timeseries_facts.py)."""

import json
from pathlib import Path

import numpy as np
import pytest

import tinyann as keras
from tinyann.utils.batched_dataset import BatchedDataset

ROOT = Path(__file__).resolve().parents[1]


def test_timeseries_batches_are_keras(keras_maker):
    expected = json.loads((ROOT / "tests" / "fixtures" / "keras" / "timeseries.json"
                           ).read_text(encoding="utf-8"))
    got = json.loads(json.dumps(keras_maker("make_timeseries_facts.py").facts(keras.utils)))
    assert got.keys() == expected.keys()
    for key in expected:
        assert got[key] == expected[key], key


def test_timeseries_errors():
    data = np.zeros((10, 1))
    with pytest.raises(ValueError, match="`start_index` must be 0 or greater"):
        keras.utils.timeseries_dataset_from_array(data, None, 3, start_index=-1)
    with pytest.raises(ValueError, match="`sampling_rate` must be higher than 0"):
        keras.utils.timeseries_dataset_from_array(data, None, 3, sampling_rate=0)
    with pytest.raises(ValueError, match="`end_index` must be lower than the length"):
        keras.utils.timeseries_dataset_from_array(data, None, 3, end_index=10)


def test_a_forecasting_model_fits_on_windows():
    series = np.sin(np.arange(600) / 10.0).astype("float32")[:, None]
    train = keras.utils.timeseries_dataset_from_array(
        series[:-10], series[10:, 0], sequence_length=10, batch_size=32, shuffle=True, seed=1)
    model = keras.Sequential([keras.Input((10, 1)), keras.layers.LSTM(8), keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    history = model.fit(train, epochs=4, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]


class _Numbers(BatchedDataset):
    """Batches of 0..n-1 in a reshuffled or fixed order, counting the passes."""

    def __init__(self, n=10, batch=2):
        super().__init__()
        self.x, self.batch, self.passes = np.arange(n), batch, 0

    def __len__(self):
        return -(-len(self.x) // self.batch)

    def __getitem__(self, i):
        rows = self.x[i * self.batch:(i + 1) * self.batch]
        return rows.astype("float32")[:, None], rows % 2

    def on_epoch_end(self):
        self.passes += 1


def _flat(ds):
    return [int(v) for x, _ in ds for v in np.asarray(x).ravel()]


def test_take_skip_repeat_cardinality():
    ds = _Numbers()
    assert _flat(ds.take(2)) == [0, 1, 2, 3] and _flat(ds.skip(3)) == [6, 7, 8, 9]
    assert len(ds.take(99)) == 5 and ds.take(-1).cardinality() == 5
    assert _flat(ds.repeat(2)) == list(range(10)) * 2
    with pytest.raises(NotImplementedError, match="repeat"):
        ds.repeat()


def test_shuffle_is_a_buffer_shuffle_new_each_pass():
    ds = _Numbers(n=40, batch=1).shuffle(4, seed=0)
    first, second = _flat(ds), _flat(ds)
    assert sorted(first) == list(range(40)) and first != second
    # a buffer of 4: an element comes out at most 3 places before its turn
    assert all(pos >= value - 3 for pos, value in enumerate(first))


def test_cache_replays_the_first_pass():
    source = _Numbers()
    ds = source.map(lambda x, y: (x * 10, y)).cache()
    assert _flat(ds) == [v * 10 for v in range(10)]
    passes = source.passes
    assert _flat(ds) == [v * 10 for v in range(10)] and source.passes == passes


def test_map_takes_layers_and_gives_arrays():
    ds = _Numbers().map(lambda x, y: (keras.layers.Rescaling(0.5)(x), y))
    x, y = ds[1]
    assert isinstance(x, np.ndarray) and x.ravel().tolist() == [1.0, 1.5]


def test_unbatch_then_batch():
    ds = _Numbers(n=7, batch=3).unbatch()
    assert len(ds) == 7 and ds[4][0].shape == (1,)
    again = ds.batch(4)
    assert [len(b[0]) for b in again] == [4, 3]
    assert len(ds.batch(4, drop_remainder=True)) == 1


def test_the_flowers_tutorial_pipeline(tmp_path):
    from PIL import Image

    rng = np.random.default_rng(0)
    for name in ("roses", "tulips"):
        (tmp_path / name).mkdir()
        for i in range(12):
            Image.fromarray((rng.random((30, 20, 3)) * 255).astype("uint8")).save(
                tmp_path / name / f"{i}.png")
    train = keras.utils.image_dataset_from_directory(
        tmp_path, validation_split=0.25, subset="training", seed=123, image_size=(16, 16),
        batch_size=6)
    assert train.class_names == ["roses", "tulips"]
    for images, labels in train.take(1):
        assert images.shape == (6, 16, 16, 3) and labels.shape == (6,)
    train = train.cache().shuffle(1000).prefetch(buffer_size=-1)
    normalized = train.map(lambda x, y: (keras.layers.Rescaling(1.0 / 255)(x), y))
    image_batch, _ = next(iter(normalized))
    assert 0.0 <= float(np.min(image_batch)) and float(np.max(image_batch)) <= 1.0
    model = keras.Sequential([keras.Input((16, 16, 3)), keras.layers.Flatten(),
                              keras.layers.Dense(2)])
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    assert len(model.fit(normalized, epochs=2, verbose=0).history["loss"]) == 2
