"""Legacy HDF5 ``.h5`` model files, as Keras 3 (and tf.keras 2) write them.

Layout::

    attrs: model_config (JSON), training_config (JSON), keras_version, backend
    model_weights/            attrs: layer_names, keras_version, backend
        <layer name>/         attrs: weight_names, the weights' paths
                              ('sequential/dense/kernel', ...)
            <weight name>     one dataset per weight (the path nests groups)
        top_level_model_weights/
    optimizer_weights/        attrs: weight_names ('adam/iteration', ...)

Weights load by order: the i-th layer with weights in ``layer_names`` fills the
i-th layer with weights of the model (or, with ``by_name``, the layer of that name).
"""

from __future__ import annotations

import json
import os
import warnings

import numpy as np

from tinyann import backend
from tinyann.saving import config as config_module
from tinyann.saving import h5, keras_zip, state
from tinyann.saving.errors import SavingError, file_error, reading, with_file
from tinyann.utils.files import atomic_path

_ALIASES = {"mse": "mean_squared_error", "mae": "mean_absolute_error"}


# ---------------------------------------------------------------- saving
def _legacy(entry):
    """A Keras 3 entry in the legacy form: ``{"class_name", "config"}`` per layer."""
    out = {"class_name": entry["class_name"], "config": entry["config"]}
    if isinstance(out["config"], dict) and isinstance(out["config"].get("layers"), list):
        out["config"] = dict(out["config"], layers=[_legacy(e) for e in out["config"]["layers"]])
    for key in ("name", "inbound_nodes"):
        if key in entry:
            out[key] = entry[key]
    return out


def _weight_names(model):
    """Per layer of ``model``: the names of its weights in a legacy file, their paths
    as Keras 3 writes them (``sequential/dense/kernel``; ``dense/kernel`` for a layer
    built outside any model, as a functional model's are)."""
    return {layer.name: [v.path for v in _legacy_weights(layer)]
            for layer in config_module.keras_layers(model)}


def _legacy_weights(layer):
    return list(layer.trainable_weights) + list(layer.non_trainable_weights)


def _save_names(group, name, values) -> None:
    group.attrs[name] = [v.encode("utf8") for v in values]


def save_model(model, filepath, include_optimizer=True) -> None:
    """Writes ``model`` as a legacy ``.h5`` file (architecture, weights, compile state)."""
    h5py = h5.require_h5py()
    entry = config_module.serialize_model(model)
    compile_config = entry.get("compile_config") or {}
    with atomic_path(filepath) as tmp:
        with h5py.File(tmp, "w", userblock_size=h5.USERBLOCK_SIZE) as f:
            _write(f, model, entry, compile_config, include_optimizer)
        h5.seal(tmp)


def _write(f, model, entry, compile_config, include_optimizer) -> None:
    from tinyann.saving import objects

    built = model.built and model._graph is not None
    f.attrs["keras_version"] = keras_zip.KERAS_FORMAT_VERSION
    f.attrs["backend"] = backend.backend()
    f.attrs["model_config"] = json.dumps(_legacy(entry)).encode("utf8")
    if include_optimizer and compile_config.get("optimizer"):
        training = {k: v for k, v in compile_config.items() if k != "optimizer"}
        # Keras 3's legacy loader cannot read the aliases 'mse' and 'mae' (it fails
        # on its own files): write the full names, which mean the same
        loss = training.get("loss")
        if isinstance(loss, str):  # (a loss object's config is a dict, kept as it is)
            training["loss"] = _ALIASES.get(loss, loss)
        if training.get("metrics"):
            training["metrics"] = [_ALIASES.get(m, m) if isinstance(m, str) else m
                                   for m in training["metrics"]]
        optimizer = compile_config["optimizer"]
        training["optimizer_config"] = {"class_name": optimizer["class_name"],
                                        "config": optimizer["config"]}
        f.attrs["training_config"] = json.dumps(training).encode("utf8")
    group = f.create_group("model_weights")
    layers = config_module.keras_layers(model) if built else []
    _save_names(group, "layer_names", [layer.name for layer in layers])
    group.attrs["backend"] = backend.backend().encode("utf8")
    group.attrs["keras_version"] = keras_zip.KERAS_FORMAT_VERSION.encode("utf8")
    names = _weight_names(model) if built else {}
    for layer in sorted(layers, key=lambda x: x.name):
        layer_group = group.create_group(layer.name)
        _save_names(layer_group, "weight_names", names[layer.name])
        for name, v in zip(names[layer.name], _legacy_weights(layer)):
            layer_group.create_dataset(name, data=v.numpy())
    _save_names(group.create_group("top_level_model_weights"), "weight_names", [])
    optimizer = getattr(model, "optimizer", None)
    if include_optimizer and optimizer is not None and objects.compile_config(model):
        values = optimizer.variables
        opt_names = [f"{optimizer.name}/{n}" for n in optimizer._variable_names()]
        opt_group = f.create_group("optimizer_weights")
        _save_names(opt_group, "weight_names", opt_names)
        for name, value in zip(opt_names, values):
            opt_group.create_dataset(name, data=np.array(value, order="C"))


# ---------------------------------------------------------------- loading
def _json_attr(f, name, filepath):
    text = h5.attr_text(f, name, filepath)
    if text is None:
        return None
    try:
        return json.loads(text)
    except (json.JSONDecodeError, RecursionError) as e:
        raise file_error(filepath, f"the {name} attribute is not valid JSON: {e}") from None


def load_model(filepath, custom_objects=None, compile=True):
    """The model stored in a legacy ``.h5`` file."""
    if not os.path.exists(filepath):
        raise file_error(filepath, "no such file")
    h5.verify(filepath)
    with h5.open_h5(filepath, filepath) as f:
        with reading(filepath):
            model_config = _json_attr(f, "model_config", filepath)
            if model_config is None:
                raise file_error(filepath, f"No model config found in the file at {filepath}.")
            training_config = _json_attr(f, "training_config", filepath) if compile else None
        model = keras_zip.build_from_config(model_config, custom_objects, filepath,
                                            compile=False)
        with reading(filepath):
            load_weights_from_group(h5.get_group(f, "model_weights", filepath), model, filepath)
        if compile and training_config is not None:
            _compile(model, training_config, custom_objects, filepath)
            with reading(filepath):
                if "optimizer_weights" in f:
                    group = h5.get_group(f, "optimizer_weights", filepath)
                    names = h5.attr_strings(group, "weight_names", filepath)
                    values = [h5.read_dataset(h5.get_dataset(group, n, filepath), None,
                                              filepath, f"optimizer weight {n!r}")
                              for n in names]
                    state.restore_optimizer(model, values, filepath)
        elif compile:
            warnings.warn("No training configuration found in the save file, so the model "
                          "was *not* compiled. Compile it manually.", stacklevel=3)
    return model


def _compile(model, training_config, custom_objects, filepath) -> None:
    from tinyann.saving import objects

    if not isinstance(training_config, dict) or "optimizer_config" not in training_config:
        raise file_error(filepath, "the training_config attribute has no optimizer_config")
    config = dict(training_config)
    config["optimizer"] = config.pop("optimizer_config")
    try:
        objects.compile_from_config(model, config, custom_objects)
    except SavingError as e:
        raise with_file(e, filepath) from e.__cause__
    except (ValueError, TypeError, KeyError, IndexError, AttributeError) as e:
        # a damaged training_config (e.g. a misspelt optimizer argument)
        raise file_error(filepath, f"the training configuration cannot be restored: "
                         f"{e}"[:600]) from e


def load_weights(model, filepath, skip_mismatch=False, by_name=False) -> None:
    """``model.load_weights('x.h5')`` from a legacy file (whole model or weights only)."""
    if not os.path.exists(filepath):
        raise file_error(filepath, "no such file")
    h5.verify(filepath)
    with h5.open_h5(filepath, filepath) as f, reading(filepath):
        group = f
        if "layer_names" not in f.attrs and "model_weights" in f:
            group = h5.get_group(f, "model_weights", filepath)
        load_weights_from_group(group, model, filepath, skip_mismatch, by_name)


def load_weights_from_group(group, model, filepath, skip_mismatch=False, by_name=False):
    """Checks every saved layer against the model, then assigns (Keras's legacy order)."""
    saved = []
    for name in h5.attr_strings(group, "layer_names", filepath):
        layer_group = h5.get_group(group, name, filepath)
        weight_names = h5.attr_strings(layer_group, "weight_names", filepath)
        if weight_names:
            saved.append((name, layer_group, weight_names))
    layers = [layer for layer in config_module.keras_layers(model) if _legacy_weights(layer)]
    if by_name:
        index = {layer.name: layer for layer in layers}
        pairs = [(index[name], entry) for name, *entry in saved if name in index]
    else:
        if len(saved) != len(layers):
            raise file_error(
                filepath, "Layer count mismatch when loading weights from file. Model "
                f"expected {len(layers)} layers, found {len(saved)} saved layers.")
        pairs = [(layer, entry[1:]) for layer, entry in zip(layers, saved)]
    assignments = []
    for k, (layer, (layer_group, weight_names)) in enumerate(pairs):
        variables = _legacy_weights(layer)
        saved_name = layer_group.name.rsplit("/", 1)[-1]
        where = (f"layer #{k} (named {layer.name} in the current model, {saved_name} in the "
                 "save file)")
        if len(weight_names) != len(variables):
            message = (f"Weight count mismatch for {where}. Layer expects {len(variables)} "
                       f"weight(s). Received {len(weight_names)} saved weight(s)")
            if skip_mismatch:
                warnings.warn(f"Skipping loading weights for {where}: {message}", stacklevel=3)
                continue
            raise file_error(filepath, message)
        for variable, weight_name in zip(variables, weight_names):
            ds = h5.get_dataset(layer_group, weight_name, filepath)
            if tuple(ds.shape) != variable.shape:
                message = (f"Shape mismatch in {where} for weight {variable.path}. Weight "
                           f"expects shape {variable.shape}. Received saved weight with "
                           f"shape {tuple(ds.shape)}")
                if skip_mismatch:
                    warnings.warn(f"Skipping loading weights: {message}", stacklevel=3)
                    continue
                raise file_error(filepath, message)
            assignments.append((variable, h5.read_dataset(ds, variable.shape, filepath,
                                                          weight_name)))
    if "top_level_model_weights" in group:
        top = h5.get_group(group, "top_level_model_weights", filepath)
        if h5.attr_strings(top, "weight_names", filepath):
            raise file_error(filepath, "the file has top-level model weights, which tinyann "
                             "models do not have")
    for variable, value in assignments:
        variable.assign(value)
