"""Variable names and paths as Keras 3 gives them, and in legacy .h5 files.

``variable_paths.json`` (made by tools/keras_reference/make_variable_path_facts.py)
holds, per case, the Keras code that was run and what it produced. Each test runs
that same code with ``keras = tinyann`` and compares.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import h5py
import numpy as np
import pytest

import tinyann as keras
from tinyann import backend

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "keras"
FACTS = json.loads((FIXTURES / "variable_paths.json").read_text("utf-8"))


def _run(code, tmp_path):
    """Runs a case's code on tinyann, as the script ran it on Keras; its ``result``."""
    backend.clear_session()
    namespace = {"keras": keras, "np": np, "os": os, "tmp": str(tmp_path)}
    exec(FACTS["prelude"], namespace)  # noqa: S102 - the committed fixture's code
    exec(code, namespace)  # noqa: S102
    return namespace["result"]


@pytest.mark.parametrize("case", sorted(FACTS["cases"]))
def test_paths_as_in_keras(case, tmp_path):
    fact = FACTS["cases"][case]
    assert _run(fact["code"], tmp_path) == fact["result"]


@pytest.mark.parametrize("optimizer", sorted(FACTS["optimizer"]["result"]))
def test_optimizer_weight_names_in_legacy_h5(optimizer, tmp_path):
    """Keras names a slot '<weight path with _>_<slot>'; tinyann writes those names
    into a legacy .h5 file's optimizer_weights (it keeps the slots as arrays)."""
    want = [path for _, path in FACTS["optimizer"]["result"][optimizer]]
    arguments = {"SGD": {"momentum": 0.9}, "Adam": {"amsgrad": True}}.get(optimizer, {})
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3),
                              keras.layers.BatchNormalization(), keras.layers.Dense(2)])
    model.compile(optimizer=getattr(keras.optimizers, optimizer)(**arguments), loss="mse")
    model.train_on_batch(np.ones((4, 4), dtype="float32"), np.ones((4, 2), dtype="float32"))
    model.save(tmp_path / "m.h5")
    with h5py.File(tmp_path / "m.h5", "r") as f:
        names = _text(f["optimizer_weights"].attrs["weight_names"])
    assert names == want


def test_shape_mismatch_in_a_legacy_file_names_the_weight_path(tmp_path):
    message = _run(FACTS["errors"]["code"], tmp_path)
    keras_path = re.search(r"for weight (\S+)\. ", FACTS["errors"]["result"]).group(1)
    assert keras_path == "net/dense/kernel"
    assert f"for weight {keras_path}. Weight expects shape (5, 3)" in message


def _text(values):
    return [v.decode() if isinstance(v, bytes) else str(v) for v in values]


def _name_attributes(filename):
    out = {}
    with h5py.File(filename, "r") as f:
        def visit(name, obj):
            for key in ("layer_names", "weight_names"):
                if key in obj.attrs:
                    out[f"{name}:{key}"] = _text(obj.attrs[key])
        f.visititems(visit)
    return out


@pytest.mark.parametrize("name", ["mlp", "conv", "branches"])
def test_keras_h5_loaded_and_saved_again_keeps_keras_names(name, tmp_path):
    """A Keras-made legacy .h5 file, loaded by tinyann and saved again: the same layer
    names, weight names (paths) and optimizer weight names as Keras wrote."""
    source = FIXTURES / "saving" / f"{name}.h5"
    shutil.copy(source, tmp_path / "keras.h5")
    model = keras.models.load_model(tmp_path / "keras.h5")
    model.save(tmp_path / "tinyann.h5")
    want = _name_attributes(source)
    assert any(k.endswith(":weight_names") and v for k, v in want.items())
    assert _name_attributes(tmp_path / "tinyann.h5") == want


def test_a_variable_path_follows_open_name_scopes():
    from tinyann.variables import Variable, name_scope

    with name_scope("outer"):
        with name_scope("inner", parent=""):
            inside = Variable(np.zeros(2), name="v")
        after = Variable(np.zeros(2), name="w")
    assert (inside.path, after.path, Variable(np.zeros(1), name="x").path) == (
        "inner/v", "outer/w", "x")


def test_a_scope_is_left_when_build_fails():
    from tinyann.variables import current_path

    model = keras.Sequential([keras.layers.Dense(3)])
    with pytest.raises(ValueError):
        model.build((None, None))
    assert current_path() == ""
    model.build((None, 4))
    assert model.weights[0].path == "sequential/dense/kernel"
