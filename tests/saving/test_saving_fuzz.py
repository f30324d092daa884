"""Corrupted and truncated files: loading either works or raises tinyann's own errors."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tinyann as keras
from tinyann import layers
from tinyann.saving import SavingError


def _model():
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((3,)), layers.Dense(4, activation="relu"),
                              layers.Dropout(0.1), layers.Dense(2, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    model.fit(np.eye(3, dtype=np.float32), np.array([0, 1, 1]), verbose=0)
    return model


@pytest.fixture(scope="module")
def originals():
    """The bytes of one small trained model in each format."""
    model = _model()
    out = {}
    with tempfile.TemporaryDirectory() as d:
        for suffix in (".keras", ".h5", ".weights.h5"):
            path = Path(d) / f"m{suffix}"
            model.save_weights(path) if suffix == ".weights.h5" else model.save(path)
            out[suffix] = path.read_bytes()
    return out


def _load(path, suffix):
    if suffix == ".weights.h5":
        _model().load_weights(path)
    else:
        keras.models.load_model(path)


corruptions = st.one_of(
    st.tuples(st.just("flip"), st.lists(st.tuples(st.floats(0, 1, exclude_max=True),
                                                  st.integers(1, 255)),
                                        min_size=1, max_size=8)),
    st.tuples(st.just("truncate"), st.floats(0, 1, exclude_max=True)),
    st.tuples(st.just("zero_block"), st.tuples(st.floats(0, 1, exclude_max=True),
                                               st.integers(1, 512))),
)


def _corrupt(data: bytes, corruption) -> bytes:
    kind, how = corruption
    buf = bytearray(data)
    if kind == "flip":
        for where, mask in how:
            buf[int(where * len(buf))] ^= mask
    elif kind == "truncate":
        del buf[int(how * len(buf)):]
    else:
        where, length = how
        start = int(where * len(buf))
        buf[start:start + length] = bytes(len(buf[start:start + length]))
    return bytes(buf)


@pytest.mark.parametrize("suffix", [".keras", ".h5", ".weights.h5"])
# derandomized so CI is repeatable; TINYANN_FUZZ_EXAMPLES=2000 explores further by hand
@settings(max_examples=int(os.environ.get("TINYANN_FUZZ_EXAMPLES", 150)), deadline=None,
          database=None, derandomize="TINYANN_FUZZ_EXAMPLES" not in os.environ,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(corruption=corruptions)
def test_corrupted_files_raise_only_tinyann_errors(originals, suffix, corruption):
    data = _corrupt(originals[suffix], corruption)
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / f"m{suffix}"
        path.write_bytes(data)
        try:
            _load(path, suffix)
        except SavingError as e:
            assert str(path) in str(e)
