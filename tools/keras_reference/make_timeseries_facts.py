"""Reference batches of keras.utils.timeseries_dataset_from_array, for
tests/test_batched_datasets.py.

Runs ONLY in the separate Keras venv (see README.md beside this file), on TensorFlow
(Keras's own loader returns a tf.data.Dataset). Writes
tests/fixtures/keras/timeseries.json: for a 50 x 2 series and its targets, the batches
each set of arguments gives (the windows of a shuffled one as a sorted set: tf.data's
buffer shuffle orders them with TensorFlow's random streams).

Usage:  /work/kerasenv/bin/python tools/keras_reference/make_timeseries_facts.py
"""

from __future__ import annotations

import json
import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras  # noqa: E402
import numpy as np  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "..", "tests", "fixtures", "keras", "timeseries.json")
CASES = [dict(sequence_length=5),
         dict(sequence_length=4, sequence_stride=3, sampling_rate=2, batch_size=4),
         dict(sequence_length=3, start_index=5, end_index=30, batch_size=7),
         dict(sequence_length=6, batch_size=None),
         dict(sequence_length=5, shuffle=True, seed=3, batch_size=100)]


def facts(utils):
    data = np.arange(100, dtype="float32").reshape(50, 2)
    targets = np.arange(50) * 10
    out = {}
    for kwargs in CASES:
        for with_targets in (True, False):
            ds = utils.timeseries_dataset_from_array(
                data, targets if with_targets else None, **kwargs)
            batches = [[np.asarray(part).tolist() for part in b] if with_targets
                       else np.asarray(b).tolist() for b in ds]
            if kwargs.get("shuffle"):
                windows = np.asarray(batches[0][0] if with_targets else batches[0])
                batches = sorted(map(list, windows.reshape(len(windows), -1).tolist()))
            out[json.dumps(kwargs) + str(with_targets)] = batches
    return out


if __name__ == "__main__":
    with open(OUT, "w", encoding="utf-8") as f:
        json.dump(facts(keras.utils), f, sort_keys=True)
    print("wrote", os.path.normpath(OUT))
