"""No lost data and no code from files: atomic writes, unknown classes, lambdas, links."""

from __future__ import annotations

import json
import zipfile

import h5py
import numpy as np
import pytest

import tinyann as keras
from tinyann import layers, saving
from tinyann.saving import (
    InvalidFileError,
    UnknownObjectError,
    UnsafeObjectError,
    legacy_h5,
    registry,
    state,
)


class Boom(RuntimeError):
    pass


def _save(model, path):
    model.save_weights(path) if str(path).endswith(".weights.h5") else model.save(path)


# ---------------------------------------------------------------- atomic writes
@pytest.mark.parametrize("suffix", [".keras", ".h5", ".weights.h5"])
def test_failure_mid_save_keeps_the_previous_file(tmp_path, trained_mlp, monkeypatch, suffix):
    model, x, _ = trained_mlp
    path = tmp_path / f"m{suffix}"
    _save(model, path)
    previous = path.read_bytes()
    writes = []

    if suffix == ".keras":
        original = zipfile.ZipFile.writestr

        def failing(self, info, data, *args, **kwargs):  # the 3rd entry: the weights
            writes.append(info)
            if len(writes) == 3:
                raise Boom("disk full")
            return original(self, info, data, *args, **kwargs)

        monkeypatch.setattr(zipfile.ZipFile, "writestr", failing)
    else:
        original = legacy_h5._save_names if suffix == ".h5" else state.own_variables
        target = (legacy_h5, "_save_names") if suffix == ".h5" else (state, "own_variables")

        def failing(*args, **kwargs):  # after some of the file is written
            writes.append(args)
            if len(writes) == 3:
                raise Boom("disk full")
            return original(*args, **kwargs)

        monkeypatch.setattr(*target, failing)
    model.layers[1].kernel.assign(np.zeros(model.layers[1].kernel.shape))
    with pytest.raises(Boom):
        _save(model, path)
    assert len(writes) == 3
    assert path.read_bytes() == previous
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]


def test_failure_on_first_save_leaves_no_file(tmp_path, trained_mlp, monkeypatch):
    model, _, _ = trained_mlp

    def failing(*args, **kwargs):
        raise Boom("no space")

    monkeypatch.setattr(state, "write", failing)
    with pytest.raises(Boom):
        model.save_weights(tmp_path / "w.weights.h5")
    assert list(tmp_path.iterdir()) == []


def test_saved_file_gets_ordinary_permissions(tmp_path, trained_mlp):
    import os

    model, _, _ = trained_mlp
    model.save(tmp_path / "m.keras")
    umask = os.umask(0)
    os.umask(umask)
    assert (tmp_path / "m.keras").stat().st_mode & 0o777 == 0o666 & ~umask


@pytest.mark.parametrize("answer,replaced", [("n", False), ("y", True)])
def test_overwrite_false_asks_first(tmp_path, trained_mlp, monkeypatch, answer, replaced):
    model, _, _ = trained_mlp
    path = tmp_path / "m.keras"
    path.write_bytes(b"old")
    prompts = []
    monkeypatch.setattr("builtins.input", lambda prompt: prompts.append(prompt) or answer)
    model.save(path, overwrite=False)
    assert prompts == [f"[WARNING] {path} already exists - overwrite? [y/n]"]
    assert (path.read_bytes() != b"old") is replaced


def test_overwrite_false_without_a_terminal(tmp_path, trained_mlp, monkeypatch):
    model, _, _ = trained_mlp
    path = tmp_path / "w.weights.h5"
    path.write_bytes(b"old")

    def no_terminal(prompt):
        raise EOFError

    monkeypatch.setattr("builtins.input", no_terminal)
    with pytest.raises(FileExistsError, match="already exists and overwrite=False"):
        model.save_weights(path, overwrite=False)
    assert path.read_bytes() == b"old"


# ---------------------------------------------------------------- classes and code
class Scale(layers.Layer):
    """A custom layer: multiplies by ``factor``."""

    def __init__(self, factor=2.0, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def call(self, inputs, training=False):
        return inputs * self.factor

    def get_config(self):
        return dict(super().get_config(), factor=self.factor)


def _custom_model(tmp_path):
    model = keras.Sequential([keras.Input((3,)), layers.Dense(2), Scale(3.0, name="scale")])
    model.save(tmp_path / "c.keras")
    return model


def test_unknown_layer_class_is_refused(tmp_path):
    _custom_model(tmp_path)
    with pytest.raises(UnknownObjectError, match=r"c\.keras': Could not locate class "
                       r"'Scale'.*register_keras_serializable"):
        keras.models.load_model(tmp_path / "c.keras")
    with pytest.raises(TypeError):  # Keras's exception class for this error
        keras.models.load_model(tmp_path / "c.keras")


def test_custom_objects_and_registration_resolve_the_class(tmp_path):
    model = _custom_model(tmp_path)
    x = np.ones((2, 3), dtype=np.float32)
    loaded = keras.models.load_model(tmp_path / "c.keras", custom_objects={"Scale": Scale})
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    with saving.custom_object_scope({"Scale": Scale}):
        assert keras.models.load_model(tmp_path / "c.keras").layers[-1].factor == 3.0
    before = _snapshot()
    try:
        registered = saving.register_keras_serializable("tests")(Scale)
        model = keras.Sequential([keras.Input((3,)), registered(5.0)])
        model.save(tmp_path / "r.keras")
        entry = json.loads(zipfile.ZipFile(tmp_path / "r.keras").read("config.json"))
        assert entry["config"]["layers"][1]["registered_name"] == "tests>Scale"
        assert keras.models.load_model(tmp_path / "r.keras").layers[-1].factor == 5.0
        assert saving.get_custom_objects()["tests>Scale"] is Scale
    finally:
        _restore(before)


def test_registration_needs_get_config():
    class NoConfig:
        pass

    with pytest.raises(ValueError, match="does not have a get_config"):
        saving.register_keras_serializable()(NoConfig)


def _with_layer_entry(tmp_path, entry):
    model = keras.Sequential([keras.Input((3,)), layers.Dense(2)])
    model.save(tmp_path / "m.keras")
    with zipfile.ZipFile(tmp_path / "m.keras") as zf:
        config = json.loads(zf.read("config.json"))
        weights = zf.read("model.weights.h5")
    config["config"]["layers"].append(entry)
    with zipfile.ZipFile(tmp_path / "bad.keras", "w") as zf:
        zf.writestr("config.json", json.dumps(config))
        zf.writestr("model.weights.h5", weights)
    return tmp_path / "bad.keras"


@pytest.mark.parametrize("safe_mode", [True, False])
def test_lambda_layers_never_run(tmp_path, safe_mode):
    entry = {"module": "keras.layers", "class_name": "Lambda", "registered_name": None,
             "config": {"name": "lambda", "function": {
                 "class_name": "__lambda__", "config": {"code": "4wEAAAAA", "defaults": None,
                                                        "closure": None}}}}
    path = _with_layer_entry(tmp_path, entry)
    with pytest.raises(UnsafeObjectError, match=r"bad\.keras': .*'Lambda'.*never runs code"):
        keras.models.load_model(path, safe_mode=safe_mode)


def test_lambda_activation_never_runs(tmp_path):
    entry = {"module": "keras.layers", "class_name": "Dense", "registered_name": None,
             "config": {"name": "d", "units": 2, "activation": {
                 "class_name": "__lambda__", "config": {"code": "4wEAAAAA"}}}}
    with pytest.raises(UnsafeObjectError, match="'__lambda__'"):
        keras.models.load_model(_with_layer_entry(tmp_path, entry))


def test_unknown_activation_function_is_refused(tmp_path):
    entry = {"module": "keras.layers", "class_name": "Dense", "registered_name": None,
             "config": {"name": "d", "units": 2, "activation": {
                 "module": "my.module", "class_name": "function", "config": "swishy",
                 "registered_name": "function"}}}
    path = _with_layer_entry(tmp_path, entry)
    with pytest.raises(UnknownObjectError, match="Could not locate function 'swishy'"):
        keras.models.load_model(path)


def test_links_in_weights_files_are_refused(tmp_path):
    model = keras.Sequential([keras.Input((2,)), layers.Dense(1)])
    with h5py.File(tmp_path / "w.weights.h5", "w") as f:  # as Keras writes: no checksum
        state.write(f, model)
    with h5py.File(tmp_path / "w.weights.h5", "a") as f:
        del f["layers/dense/vars/0"]
        f["layers/dense/vars/0"] = h5py.ExternalLink("/etc/passwd", "/x")
    with pytest.raises(InvalidFileError, match=r"w\.weights\.h5': '0' is a ExternalLink; "
                       "links are not allowed"):
        model.load_weights(tmp_path / "w.weights.h5")
    with h5py.File(tmp_path / "w.weights.h5", "a") as f:
        del f["layers/dense/vars/0"]
        f["layers/dense/vars/0"] = h5py.SoftLink("/layers/dense/vars/1")
    with pytest.raises(InvalidFileError, match="'0' is a SoftLink; links are not allowed"):
        model.load_weights(tmp_path / "w.weights.h5")


def test_no_pickle_anywhere(tmp_path, trained_mlp):
    model, _, _ = trained_mlp
    model.save(tmp_path / "m.keras")
    model.save(tmp_path / "m.h5")
    for path in (tmp_path / "m.keras", tmp_path / "m.h5"):
        assert b"\x80\x04\x95" not in path.read_bytes()  # pickle protocol 4 header
    import tinyann.saving

    source_dir = tinyann.saving.__file__.rsplit("/", 1)[0]
    import pathlib

    for source in pathlib.Path(source_dir).glob("*.py"):
        text = source.read_text()
        assert "import pickle" not in text and "allow_pickle=True" not in text, source


def cube(x):
    return x * x * x


def test_custom_activation_functions(tmp_path):
    x = np.linspace(-1, 1, 6, dtype=np.float32).reshape(2, 3)
    model = keras.Sequential([keras.Input((3,)), layers.Dense(2, activation=cube)])
    model.save(tmp_path / "plain.keras")
    with pytest.raises(UnknownObjectError, match="Could not locate function 'cube'"):
        keras.models.load_model(tmp_path / "plain.keras")
    loaded = keras.models.load_model(tmp_path / "plain.keras", custom_objects={"cube": cube})
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    before = _snapshot()
    try:
        saving.register_keras_serializable("tests")(cube)
        model.save(tmp_path / "registered.keras")
        config = json.loads(zipfile.ZipFile(tmp_path / "registered.keras").read("config.json"))
        assert config["config"]["layers"][1]["config"]["activation"]["config"] == "tests>cube"
        loaded = keras.models.load_model(tmp_path / "registered.keras")
        np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    finally:
        _restore(before)


def _snapshot():
    """The registrations made before a test (other test modules register theirs)."""
    return dict(registry._GLOBAL_CUSTOM_OBJECTS), dict(registry._GLOBAL_CUSTOM_NAMES)


def _restore(before):
    """Forgets what the test registered, keeping what was there before it."""
    registry.clear_custom_objects()
    registry._GLOBAL_CUSTOM_OBJECTS.update(before[0])
    registry._GLOBAL_CUSTOM_NAMES.update(before[1])
