"""Bad paths and bad files: each gets a clear error naming the file and the problem."""

from __future__ import annotations

import io
import json
import zipfile

import h5py
import numpy as np
import pytest

import tinyann as keras
from tinyann import layers, saving
from tinyann.saving import InvalidFileError, keras_zip


def _rewrite_keras(src, dst, replace=None, extra=(), drop=()):
    """Copies a .keras archive, replacing entries ``{name: bytes}``, adding
    ``[(name, bytes)]`` and dropping names."""
    replace = replace or {}
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for info in zin.infolist():
            if info.filename not in drop:
                zout.writestr(info.filename, replace.get(info.filename,
                                                         zin.read(info.filename)))
        for name, data in extra:
            zout.writestr(name, data)


# ---------------------------------------------------------------- extensions (Keras's)
def test_save_with_a_wrong_extension(trained_mlp, tmp_path):
    model, _, _ = trained_mlp
    with pytest.raises(ValueError, match=r"Invalid filepath extension for saving.*`\.keras`"
                       r".*Received: filepath=.*model\.pkl"):
        model.save(tmp_path / "model.pkl")


def test_save_weights_with_a_wrong_extension(trained_mlp, tmp_path):
    model, _, _ = trained_mlp
    for name in ("w.h5", "w.keras", "w.weights"):
        with pytest.raises(ValueError, match=r"The filename must end in `\.weights\.h5`. "
                           rf"Received: filepath=.*{name}"):
            model.save_weights(tmp_path / name)


def test_load_with_a_wrong_extension(tmp_path, trained_mlp):
    model, _, _ = trained_mlp
    with pytest.raises(ValueError, match=r"File format not supported: filepath=.*model\.pb"):
        keras.models.load_model(tmp_path / "model.pb")
    with pytest.raises(ValueError, match=r"File format not supported: filepath=.*w\.npz"):
        model.load_weights(tmp_path / "w.npz")


def test_by_name_is_only_for_legacy_files(trained_mlp, tmp_path):
    model, _, _ = trained_mlp
    with pytest.raises(ValueError, match="`by_name` only supports loading legacy"):
        model.load_weights(tmp_path / "w.weights.h5", by_name=True)


def test_unsupported_save_arguments(trained_mlp, tmp_path):
    model, _, _ = trained_mlp
    with pytest.raises(ValueError, match=r"argument\(s\) are not supported: \['compress'\]"):
        model.save(tmp_path / "m.keras", compress=True)


def test_unbuilt_model_weights(tmp_path):
    model = keras.Sequential([layers.Dense(2)])
    with pytest.raises(ValueError, match="saving a model that has not yet been built"):
        model.save_weights(tmp_path / "w.weights.h5")
    with pytest.raises(ValueError, match="loading weights into a model that has not yet"):
        model.load_weights(tmp_path / "w.weights.h5")


# ---------------------------------------------------------------- missing / wrong format
@pytest.mark.parametrize("name", ["gone.keras", "gone.h5"])
def test_missing_model_file(tmp_path, name):
    with pytest.raises(InvalidFileError, match=rf"Cannot load '.*{name}': no such file"):
        keras.models.load_model(tmp_path / name)


def test_missing_weights_file(tmp_path, trained_mlp):
    model, _, _ = trained_mlp
    with pytest.raises(InvalidFileError, match=r"gone\.weights\.h5': no such file"):
        model.load_weights(tmp_path / "gone.weights.h5")


def test_text_file_named_keras(tmp_path):
    (tmp_path / "m.keras").write_text("not a model")
    with pytest.raises(InvalidFileError, match=r"m\.keras': not a valid `\.keras` zip"):
        keras.models.load_model(tmp_path / "m.keras")


def test_h5_file_named_keras_and_keras_file_named_h5(tmp_path, trained_mlp):
    model, _, _ = trained_mlp
    model.save(tmp_path / "real.h5")
    model.save(tmp_path / "real.keras")
    (tmp_path / "swapped.keras").write_bytes((tmp_path / "real.h5").read_bytes())
    (tmp_path / "swapped.h5").write_bytes((tmp_path / "real.keras").read_bytes())
    with pytest.raises(InvalidFileError, match=r"swapped\.keras': this is an HDF5 file.*\.h5"):
        keras.models.load_model(tmp_path / "swapped.keras")
    with pytest.raises(InvalidFileError, match=r"swapped\.h5'.*`\.keras` zip archive"):
        keras.models.load_model(tmp_path / "swapped.h5")


def test_weights_file_that_is_not_hdf5(tmp_path, trained_mlp):
    model, _, _ = trained_mlp
    (tmp_path / "w.weights.h5").write_bytes(b"\x00" * 4096)
    with pytest.raises(InvalidFileError, match=r"w\.weights\.h5': not a readable HDF5 file"):
        model.load_weights(tmp_path / "w.weights.h5")


def test_hdf5_file_without_a_model(tmp_path):
    with h5py.File(tmp_path / "data.h5", "w") as f:
        f["x"] = np.zeros(3)
    with pytest.raises(InvalidFileError, match=r"data\.h5': No model config found"):
        keras.models.load_model(tmp_path / "data.h5")


def test_zip_without_config(tmp_path, trained_mlp):
    model, _, _ = trained_mlp
    model.save(tmp_path / "m.keras")
    _rewrite_keras(tmp_path / "m.keras", tmp_path / "bad.keras", drop={"config.json"})
    with pytest.raises(InvalidFileError, match=r"bad\.keras': the archive has no config\.json"):
        keras.models.load_model(tmp_path / "bad.keras")
    _rewrite_keras(tmp_path / "m.keras", tmp_path / "bad2.keras", drop={"model.weights.h5"})
    with pytest.raises(InvalidFileError, match=r"bad2\.keras': .*no model\.weights\.h5"):
        keras.models.load_model(tmp_path / "bad2.keras")


def test_config_that_is_not_json(tmp_path, trained_mlp):
    model, _, _ = trained_mlp
    model.save(tmp_path / "m.keras")
    _rewrite_keras(tmp_path / "m.keras", tmp_path / "bad.keras",
                   replace={"config.json": b"{not json"})
    with pytest.raises(InvalidFileError, match=r"bad\.keras': config\.json is not valid JSON"):
        keras.models.load_model(tmp_path / "bad.keras")


def test_model_from_invalid_json():
    with pytest.raises(InvalidFileError, match="model_from_json received invalid JSON"):
        keras.models.model_from_json("{'single': 'quotes'}")


# ---------------------------------------------------------------- truncated / corrupt
@pytest.mark.parametrize("suffix", [".keras", ".h5", ".weights.h5"])
def test_truncated_files(tmp_path, trained_mlp, suffix, models):
    model, _, _ = trained_mlp
    path = tmp_path / f"m{suffix}"
    model.save_weights(path) if suffix == ".weights.h5" else model.save(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    fresh = models.mlp()
    before = [w.numpy() for w in fresh.weights]
    with pytest.raises(InvalidFileError, match=rf"Cannot load '.*m{suffix}'"):
        fresh.load_weights(path) if suffix == ".weights.h5" else keras.models.load_model(path)
    for w, b in zip(fresh.weights, before):
        np.testing.assert_array_equal(w.numpy(), b)


def test_corrupt_entry_fails_the_checksum(tmp_path, trained_mlp):
    model, _, _ = trained_mlp
    path = tmp_path / "m.keras"
    model.save(path)
    data = bytearray(path.read_bytes())
    start = data.index(b'"class_name"')  # inside config.json, stored uncompressed
    data[start + 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(InvalidFileError, match=r"m\.keras': config\.json cannot be read: "
                       r"Bad CRC-32"):
        keras.models.load_model(path)


# ---------------------------------------------------------------- oversized / escaping
def test_oversized_config_entry(tmp_path, trained_mlp, monkeypatch):
    model, _, _ = trained_mlp
    model.save(tmp_path / "m.keras")
    monkeypatch.setattr(keras_zip, "MAX_JSON_BYTES", 100)
    with pytest.raises(InvalidFileError, match=r"config\.json' is too large: it declares "
                       r"\d+ bytes, at most 100"):
        keras.models.load_model(tmp_path / "m.keras")


def test_oversized_weights_entry(tmp_path, trained_mlp):
    model, _, _ = trained_mlp
    model.save(tmp_path / "m.keras")
    with zipfile.ZipFile(tmp_path / "m.keras") as zf:
        weights = zf.read("model.weights.h5")
    _rewrite_keras(tmp_path / "m.keras", tmp_path / "big.keras",
                   replace={"model.weights.h5": weights + b"\x00" * (3 * 2**20)})
    with pytest.raises(InvalidFileError, match=r"big\.keras': .*'model\.weights\.h5' is too "
                       "large"):
        keras.models.load_model(tmp_path / "big.keras")


@pytest.mark.parametrize("name", ["../evil.txt", "/etc/evil", "assets/../../evil",
                                  "C:/evil", "assets\\..\\..\\evil"])
def test_entries_escaping_the_archive(tmp_path, trained_mlp, name):
    model, _, _ = trained_mlp
    model.save(tmp_path / "m.keras")
    _rewrite_keras(tmp_path / "m.keras", tmp_path / "bad.keras", extra=[(name, b"x")])
    with pytest.raises(InvalidFileError, match=r"bad\.keras': the archive entry .* would "
                       "escape the archive"):
        keras.models.load_model(tmp_path / "bad.keras")
    assert not (tmp_path.parent / "evil.txt").exists()


def test_duplicate_entries(tmp_path, trained_mlp):
    model, _, _ = trained_mlp
    model.save(tmp_path / "m.keras")
    config = json.dumps(keras.saving.config.serialize_model(keras.Sequential(
        [keras.Input((1,)), layers.Dense(1)]))).encode()
    with pytest.warns(UserWarning, match="Duplicate name"):
        _rewrite_keras(tmp_path / "m.keras", tmp_path / "dup.keras",
                       extra=[("config.json", config)])
    with pytest.raises(InvalidFileError, match="several entries named 'config.json'"):
        keras.models.load_model(tmp_path / "dup.keras")


# ---------------------------------------------------------------- mismatches
def test_shape_mismatch_names_the_file_and_leaves_the_model_unchanged(tmp_path, models):
    small = keras.Sequential([keras.Input((4,)), layers.Dense(8), layers.Dense(3)])
    small.save_weights(tmp_path / "w.weights.h5")
    other = keras.Sequential([keras.Input((4,)), layers.Dense(9), layers.Dense(3)])
    before = [w.numpy() for w in other.weights]
    with pytest.raises(InvalidFileError, match=r"w\.weights\.h5': .*shape mismatch for "
                       r"variable '.*kernel'.*expects shape \(4, 9\), the file has shape "
                       r"\(4, 8\)"):
        other.load_weights(tmp_path / "w.weights.h5")
    for w, b in zip(other.weights, before):
        np.testing.assert_array_equal(w.numpy(), b)


def test_shape_mismatch_in_a_keras_file(tmp_path, trained_mlp):
    model, _, _ = trained_mlp
    model.save(tmp_path / "m.keras")
    with zipfile.ZipFile(tmp_path / "m.keras") as zf:
        config = zf.read("config.json").decode()
    edited = config.replace('"units": 8', '"units": 7')
    assert edited != config
    _rewrite_keras(tmp_path / "m.keras", tmp_path / "bad.keras",
                   replace={"config.json": edited.encode()})
    # as in Keras, the next layer is built for the saved input shape (build_config)
    # before the model calls it on the edited layer's output
    with pytest.raises(InvalidFileError, match=r"bad\.keras': .*incompatible .*expected "
                       r"axis -1 of input shape to have value 8, but received input with "
                       r"shape \(None, 7\)"):
        keras.models.load_model(tmp_path / "bad.keras")


def test_shape_mismatch_in_a_legacy_file(tmp_path):
    keras.Sequential([keras.Input((4,)), layers.Dense(8)]).save(tmp_path / "m.h5")
    other = keras.Sequential([keras.Input((5,)), layers.Dense(8)])
    with pytest.raises(InvalidFileError, match=r"m\.h5': Shape mismatch in layer #0 .* "
                       r"Weight expects shape \(5, 8\). Received saved weight with shape "
                       r"\(4, 8\)"):
        other.load_weights(tmp_path / "m.h5")


def test_layer_count_mismatch(tmp_path):
    two = keras.Sequential([keras.Input((4,)), layers.Dense(4), layers.Dense(4)])
    three = keras.Sequential([keras.Input((4,)), layers.Dense(4), layers.Dense(4),
                              layers.Dense(4)])
    two.save_weights(tmp_path / "two.weights.h5")
    three.save_weights(tmp_path / "three.weights.h5")
    with pytest.raises(InvalidFileError, match=r"Layer 'dense_\d+' expected 2 variables, "
                       r"but received 0 variables during loading"):
        three.load_weights(tmp_path / "two.weights.h5")
    with pytest.raises(InvalidFileError, match=r"weights for 1 layer\(s\) the model does not "
                       r"have: \['layers/dense_2'\]"):
        two.load_weights(tmp_path / "three.weights.h5")
    with pytest.warns(UserWarning, match="Skipping loading of some weights"):
        two.load_weights(tmp_path / "three.weights.h5", skip_mismatch=True)
    two.save(tmp_path / "two.h5")
    with pytest.raises(InvalidFileError, match="Layer count mismatch when loading weights "
                       "from file. Model expected 3 layers, found 2 saved layers."):
        three.load_weights(tmp_path / "two.h5")


def test_optimizer_state_of_another_model_is_skipped_with_keras_warning(tmp_path, models):
    trained = models.mlp(optimizer="adam", dropout=0)
    x, y = models.mlp_data()
    trained.fit(x, y, epochs=1, verbose=0)
    trained.save_weights(tmp_path / "w.weights.h5")
    other = models.mlp(optimizer="sgd", dropout=0)  # no slots: 2 variables, not 10
    other.fit(x, y, epochs=1, verbose=0)
    with pytest.warns(UserWarning, match="Skipping variable loading for optimizer 'sgd.*', "
                      "because it has 2 variables whereas the saved optimizer has 10"):
        other.load_weights(tmp_path / "w.weights.h5")
    np.testing.assert_array_equal(other.predict(x, verbose=0), trained.predict(x, verbose=0))


def test_h5py_missing_gives_the_install_command(tmp_path, trained_mlp, monkeypatch):
    import sys

    model, _, _ = trained_mlp
    monkeypatch.setitem(sys.modules, "h5py", None)
    for action in (lambda: model.save(tmp_path / "m.keras"),
                   lambda: model.save(tmp_path / "m.h5"),
                   lambda: model.save_weights(tmp_path / "w.weights.h5")):
        with pytest.raises(ImportError, match=r"requires the h5py package.*pip install h5py"):
            action()
    assert list(tmp_path.iterdir()) == []


def test_weights_stored_as_bytes_are_refused(tmp_path):
    model = keras.Sequential([keras.Input((2,)), layers.Dense(1)])
    with h5py.File(tmp_path / "w.weights.h5", "w") as f:  # as Keras writes: no checksum
        saving.state.write(f, model)
    with h5py.File(tmp_path / "w.weights.h5", "a") as f:
        del f["layers/dense/vars/1"]
        f["layers/dense/vars/1"] = np.array([b"x"])
    with pytest.raises(InvalidFileError, match=r"holds \|S1 values, expected numbers"):
        model.load_weights(tmp_path / "w.weights.h5")


def test_in_memory_weights_open_from_bytes():
    # the weights of a .keras are read from memory, never extracted to disk
    model = keras.Sequential([keras.Input((2,)), layers.Dense(1)])
    data = keras.saving.weights_h5.weights_bytes(model)
    with h5py.File(io.BytesIO(data), "r") as f:
        assert list(f["layers/dense/vars"].keys()) == ["0", "1"]


@pytest.mark.parametrize("suffix", [".h5", ".weights.h5"])
def test_damaged_weights_in_tinyann_hdf5_files_are_detected(tmp_path, trained_mlp, suffix):
    # HDF5 itself would load a flipped weight silently; the checksum block does not
    model, _, _ = trained_mlp
    path = tmp_path / f"m{suffix}"
    model.save_weights(path) if suffix == ".weights.h5" else model.save(path)
    data = bytearray(path.read_bytes())
    kernel = model.layers[1].kernel.numpy().tobytes()
    data[data.index(kernel) + 5] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(InvalidFileError, match=rf"m{suffix}': the file is damaged: its "
                       "checksum does not match"):
        model.load_weights(path)


def test_tinyann_hdf5_files_are_plain_hdf5_after_the_checksum_block(tmp_path, trained_mlp):
    model, _, _ = trained_mlp
    model.save_weights(tmp_path / "w.weights.h5")
    data = (tmp_path / "w.weights.h5").read_bytes()
    assert data.startswith(b"TINYANN-HDF5-SHA256 ") and data[512:520] == b"\x89HDF\r\n\x1a\n"
    with h5py.File(tmp_path / "w.weights.h5", "r") as f:
        assert f.userblock_size == 512
        np.testing.assert_array_equal(f["layers/dense/vars/0"][()],
                                      model.layers[1].kernel.numpy())
