"""Parity of the categorical preprocessing layers with Keras 3 (TensorFlow): every
case of tests/fixtures/lookups/facts.json (tools/keras_reference/make_lookup_facts.py)
rebuilt in tinyann: the same vocabulary, IDF weights, boundaries, config and outputs
(values, dtype, shape)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import tinyann as keras

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "lookups"
with open(FIXTURES / "facts.json", encoding="utf-8") as _f:
    FACTS = json.load(_f)
CASES = FACTS["cases"]
# keys whose value tinyann writes differently on purpose (docs/keras_differences.md):
# an adapted layer's vocabulary and IDF weights live in its config
ADAPTED_KEYS = ("vocabulary", "idf_weights")


def _case_id(case):
    args = ",".join(f"{k}={v}" for k, v in case["kwargs"].items())
    return f"{case['class']}({args})"


def _array(values, dtype):
    return np.array(values, dtype=object if dtype.startswith("<U") or dtype == "string"
                    else dtype)


def _build(case):
    layer = getattr(keras.layers, case["class"])(**case["kwargs"])
    if case["adapt_batches"]:
        layer.adapt([_array(batch, case["adapt_dtype"]) for batch in case["adapt"]])
    elif case["adapt"] is not None:
        layer.adapt(_array(case["adapt"], case["adapt_dtype"]))
    return layer


def _input(call):
    if isinstance(call["input_dtype"], list):
        return [_array(v, d) for v, d in zip(call["input"], call["input_dtype"])]
    return _array(call["input"], call["input_dtype"])


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_outputs_match_keras(case):
    layer = _build(case)
    for call in case["calls"]:
        out = layer(_input(call)).numpy()
        assert list(out.shape) == call["shape"]
        if call["dtype"] == "string":
            assert out.tolist() == call["output"]
        else:
            assert str(out.dtype) == call["dtype"]
            np.testing.assert_allclose(out, np.array(call["output"]), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("case", [c for c in CASES if "vocabulary" in c], ids=_case_id)
def test_vocabulary_matches_keras(case):
    layer = _build(case)
    assert layer.get_vocabulary() == case["vocabulary"]
    assert layer.vocabulary_size() == case["vocabulary_size"]
    if "idf_weights" in case:
        np.testing.assert_allclose(layer.idf_weights, case["idf_weights"], rtol=1e-6)


@pytest.mark.parametrize("case", [c for c in CASES if c["class"] == "Discretization"],
                         ids=_case_id)
def test_bin_boundaries_match_keras(case):
    layer = _build(case)
    np.testing.assert_allclose(layer.bin_boundaries, case["bin_boundaries"], rtol=1e-6)


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_config_matches_keras(case):
    layer = _build(case)
    config = {k: v for k, v in layer.get_config().items() if k != "name"}
    expected = dict(case["config"])
    assert list(config) == list(expected)
    for key, value in expected.items():
        if key in ADAPTED_KEYS and case["adapt"] is not None:
            continue
        if isinstance(value, list) and value and isinstance(value[0], float):
            np.testing.assert_allclose(config[key], value, rtol=1e-6)
        else:
            assert config[key] == value, key
