"""CSVLogger inside fit (the exact text format is compared with Keras in
test_callback_keras_parity.py)."""

from __future__ import annotations

import csv

import pytest

import tinyann as keras


def _rows(path):
    with open(path, newline="") as f:
        return list(csv.reader(f))


def test_one_row_per_epoch_with_the_history_values(make_model, make_data, tmp_path):
    x, y = make_data()
    model = make_model()
    path = tmp_path / "log.csv"
    history = model.fit(x, y, epochs=3, verbose=0, validation_split=0.25,
                        callbacks=[keras.callbacks.CSVLogger(path)])
    rows = _rows(path)
    assert rows[0] == ["epoch", "accuracy", "loss", "val_accuracy", "val_loss"]
    assert [r[0] for r in rows[1:]] == ["0", "1", "2"]
    for i, row in enumerate(rows[1:]):
        for key, value in zip(rows[0][1:], row[1:]):
            assert float(value) == history.history[key][i]


def test_append_continues_a_file_without_a_second_header(make_model, make_data, tmp_path):
    x, y = make_data()
    model = make_model()
    path = tmp_path / "log.csv"
    model.fit(x, y, epochs=2, verbose=0, callbacks=[keras.callbacks.CSVLogger(path)])
    model.fit(x, y, epochs=1, verbose=0,
              callbacks=[keras.callbacks.CSVLogger(path, append=True)])
    rows = _rows(path)
    assert [r[0] for r in rows] == ["epoch", "0", "1", "0"]
    model.fit(x, y, epochs=1, verbose=0, callbacks=[keras.callbacks.CSVLogger(path)])
    assert [r[0] for r in _rows(path)] == ["epoch", "0"]


def test_no_temporary_files_are_left(make_model, make_data, tmp_path):
    x, y = make_data()
    model = make_model()
    model.fit(x, y, epochs=2, verbose=0,
              callbacks=[keras.callbacks.CSVLogger(tmp_path / "log.csv", separator=";")])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["log.csv"]
    assert _rows(tmp_path / "log.csv")[0] == ["epoch;accuracy;loss;val_accuracy;val_loss"]


def test_bad_separator():
    with pytest.raises(ValueError, match=r"`separator` must be a single character\. "
                                         r"Received: separator=', '"):
        keras.callbacks.CSVLogger("log.csv", separator=", ")
