"""TensorBoard callback: event files read back with TensorBoard's own readers, and the tags
and steps compared with what Keras 3 writes (tests/fixtures/keras/tensorboard_facts.json)."""

from __future__ import annotations

import glob
import json
import os
import re

import numpy as np
import pytest

import tinyann as keras

# an optional extra: `make test` installs it (pip install 'tinyann[tensorboard]')
pytest.importorskip("tensorboard")
from tensorboard.backend.event_processing import event_accumulator  # noqa: E402
from tensorboard.backend.event_processing.event_file_loader import (  # noqa: E402
    EventFileLoader,
)
from tensorboard.util import tensor_util  # noqa: E402

FACTS = os.path.join(os.path.dirname(__file__), "..", "fixtures", "keras",
                     "tensorboard_facts.json")


def _fit(log_dir, epochs=2, **kwargs):
    """The fixture's run: 40 samples, validation_split 0.25, batches of 10 (3 + 1 per epoch)."""
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.random((40, 4)).astype("float32")
    y = (x.sum(axis=1) > 2).astype("int32")
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="relu"),
                              keras.layers.Dense(2, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    history = model.fit(x, y, epochs=epochs, batch_size=10, validation_split=0.25, verbose=0,
                        callbacks=[keras.callbacks.TensorBoard(log_dir=log_dir, **kwargs)])
    return model, history


def _events(log_dir):
    """{run: [(step, tag, plugin)]} read with TensorBoard's event file loader."""
    runs = {}
    for path in sorted(glob.glob(os.path.join(log_dir, "**", "events.out.tfevents.*"),
                                 recursive=True)):
        rows = runs.setdefault(os.path.relpath(os.path.dirname(path), log_dir), [])
        for event in EventFileLoader(path).Load():
            for value in event.summary.value:
                rows.append((event.step, value.tag, value.metadata.plugin_data.plugin_name))
    return runs


def _unnumbered(tag):
    # Keras's auto names carry counters (sequential_3/dense_6); compare without them
    return re.sub(r"_\d+(?=/)", "", tag)


@pytest.mark.parametrize("case", ["default", "batch", "every2", "histograms"])
def test_tags_and_steps_match_keras(case, tmp_path):
    facts = json.load(open(FACTS))["cases"][case]
    _fit(tmp_path, **facts["kwargs"])
    ours = {run: [(s, _unnumbered(t), p) for s, t, p in rows]
            for run, rows in _events(tmp_path).items()}
    theirs = {run: [(s, _unnumbered(t), p) for s, t, p in rows]
              for run, rows in facts["runs"].items()}
    assert ours == theirs


def test_epoch_scalars_hold_the_history_values(tmp_path):
    _, history = _fit(tmp_path, epochs=3)
    for run, prefix in (("train", ""), ("validation", "val_")):
        acc = event_accumulator.EventAccumulator(str(tmp_path / run))
        acc.Reload()
        for name in ("loss", "accuracy"):
            events = acc.Tensors(f"epoch_{name}")
            assert [e.step for e in events] == [0, 1, 2]
            values = [float(tensor_util.make_ndarray(e.tensor_proto)) for e in events]
            np.testing.assert_allclose(values, history.history[prefix + name], rtol=1e-6)
    acc = event_accumulator.EventAccumulator(str(tmp_path / "train"))
    acc.Reload()
    lr = [float(tensor_util.make_ndarray(e.tensor_proto))
          for e in acc.Tensors("epoch_learning_rate")]
    np.testing.assert_allclose(lr, [0.001] * 3, rtol=1e-6)


def test_histograms_count_every_weight_entry(tmp_path):
    model, _ = _fit(tmp_path, epochs=1, histogram_freq=1, write_graph=False)
    acc = event_accumulator.EventAccumulator(str(tmp_path / "train"))
    acc.Reload()
    for weight in model.weights:
        (event,) = acc.Tensors(f"{weight.path}/histogram")
        buckets = tensor_util.make_ndarray(event.tensor_proto)  # (k, 3): left, right, count
        assert buckets[:, 2].sum() == weight.numpy().size
        assert buckets[0, 0] == pytest.approx(weight.numpy().min())
        assert buckets[-1, 1] == pytest.approx(weight.numpy().max())


def test_graph_is_the_model_json(tmp_path):
    model, _ = _fit(tmp_path, epochs=1)
    acc = event_accumulator.EventAccumulator(str(tmp_path / "train"))
    acc.Reload()
    (event,) = acc.Tensors("keras")
    text = tensor_util.make_ndarray(event.tensor_proto).item().decode()
    assert json.loads(text) == json.loads(model.to_json())


def test_bad_arguments_raise_value_error(tmp_path):
    with pytest.raises(ValueError, match="update_freq"):
        keras.callbacks.TensorBoard(tmp_path, update_freq="sometimes")
    with pytest.raises(ValueError, match="update_freq"):
        keras.callbacks.TensorBoard(tmp_path, update_freq=0)
    with pytest.raises(ValueError, match="histogram_freq"):
        keras.callbacks.TensorBoard(tmp_path, histogram_freq=-1)
    with pytest.raises(ValueError, match="profile_batch"):
        keras.callbacks.TensorBoard(tmp_path, profile_batch=2)
