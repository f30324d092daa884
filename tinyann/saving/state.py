"""The weights file layout of Keras 3 (``model.weights.h5``, ``.weights.h5``).

Each object's variables sit in a group ``<path>/vars`` as datasets ``0``, ``1``...,
with the object's name as the group's ``name`` attribute::

    vars                      (the model; name='sequential', no datasets)
    layers/dense/vars/0, 1    (first Dense: kernel, bias; name='dense_7')
    layers/dense_1/vars/...   (second Dense, whatever its name)
    layers/dropout/vars       (no datasets)
    optimizer/vars/0, 1, ...  (iterations, learning rate, slots)

A layer's key is its class name in snake case, numbered in order (``dense``,
``dense_1``), never its own name: a file matches any model of the same
architecture by position, as in Keras.
"""

from __future__ import annotations

import warnings

import numpy as np

from tinyann import backend
from tinyann.saving import config as config_module
from tinyann.saving import h5
from tinyann.saving.errors import file_error


def keras_class_name(obj) -> str:
    """The class name Keras would see: tinyann's functional ``Model`` is ``Functional``."""
    name = type(obj).__name__
    return "Functional" if name == "Model" else name


def own_variables(layer) -> list:
    """A layer's own variables in Keras's order: trainable ones, then the others."""
    variables = list(getattr(layer, "_variables", []))
    return [v for v in variables if v.trainable] + [v for v in variables if not v.trainable]


def entries(model, prefix=""):
    """``(path, name, variables)`` for the model and every layer, nested models included."""

    out = [(prefix, model.name, own_variables(model))]
    if getattr(model, "_subclassed", False):
        # a subclassed model's layers sit under the attributes that hold them
        return out + _attribute_entries(model, prefix)
    used = {}
    for layer in config_module.keras_layers(model):
        key = backend.to_snake_case(keras_class_name(layer))
        if key in used:
            used[key] += 1
            key = f"{key}_{used[key]}"
        else:
            used[key] = 0
        path = f"{prefix}layers/{key}"
        out.extend(_layer_entries(layer, path))
    return out


def _layer_entries(layer, path) -> list:
    """A layer's entry (a model's, recursively), then those of the layers it holds."""
    if config_module.is_model(layer):
        return entries(layer, prefix=path + "/")
    return [(path, layer.name, own_variables(layer))] + _attribute_entries(layer, path + "/")


def _attribute_entries(owner, prefix) -> list:
    """Entries of the layers a user's model or layer holds in its attributes, as Keras
    files them: ``<attribute>`` for a layer, ``<attribute>/<class_name>[_<n>]`` for
    each layer in a list (or dict). Attributes go in name order, private ones last;
    a layer held twice is filed under the first. A model's ``layers`` (all its layers)
    counts as one more attribute, so layers held by attributes named after "layers"
    are filed as ``layers/<class_name>[_<n>]``, as Keras's walk over ``dir(model)``
    does."""
    from tinyann.layers.layer import Layer

    tracked = dict(owner.__dict__.get("_tracked", {}))
    if hasattr(owner, "_set_graph"):
        tracked["layers"] = owner.layers
    out, seen = [], set()

    def add(layer, path):
        if id(layer) not in seen:
            seen.add(id(layer))
            out.extend(_layer_entries(layer, path))

    for attribute in sorted(tracked, key=lambda a: "~" + a if a.startswith("_") else a):
        value = tracked[attribute]
        if isinstance(value, Layer):
            add(value, f"{prefix}{attribute}")
            continue
        used = {}
        for item in value.values() if isinstance(value, dict) else value:
            if isinstance(item, Layer):
                key = backend.to_snake_case(keras_class_name(item))
                used[key] = used.get(key, -1) + 1
                add(item, f"{prefix}{attribute}/{key}" + (f"_{used[key]}" if used[key] else ""))
    return out


def _vars_path(path) -> str:
    return path + "vars" if path == "" or path.endswith("/") else path + "/vars"


# ---------------------------------------------------------------- writing
def write(h5file, model, include_optimizer=True) -> None:
    """Writes the model's (and its optimizer's) variables into an open h5py file."""
    for path, name, variables in entries(model):
        group = h5file.create_group(_vars_path(path))
        group.attrs["name"] = name
        for i, v in enumerate(variables):
            group[str(i)] = v.numpy()
    optimizer = getattr(model, "optimizer", None)
    if include_optimizer and optimizer is not None and getattr(model, "compiled", False):
        group = h5file.create_group("optimizer/vars")
        group.attrs["name"] = optimizer.name
        for i, value in enumerate(optimizer.variables):
            group[str(i)] = np.array(value, order="C")


# ---------------------------------------------------------------- reading
def read(h5file, model, filepath, include_optimizer=True, skip_mismatch=False) -> None:
    """Checks every layer's variables in the file against the model, then assigns them
    all (nothing is changed if any check fails, unless ``skip_mismatch``)."""
    assignments, problems, seen = [], [], set()
    for path, name, variables in entries(model):
        group = h5.get_group(h5file, _vars_path(path), filepath, required=False)
        seen.add(path.rstrip("/"))
        keys = [] if group is None else list(group.keys())
        if len(keys) != len(variables):
            problems.append(
                f"Layer '{name}' expected {len(variables)} variables, but received "
                f"{len(keys)} variables during loading. Expected: "
                f"{[v.name for v in variables]} (group '{_vars_path(path)}')")
            continue
        # links, non-numeric data... fail at once; a shape mismatch is a problem that
        # skip_mismatch may skip
        datasets = [h5.get_dataset(group, str(i), filepath) for i in range(len(variables))]
        shapes = [tuple(int(d) for d in ds.shape) for ds in datasets]
        bad = [(v, s) for v, s in zip(variables, shapes) if s != v.shape]
        if bad:
            v, s = bad[0]
            problems.append(
                f"shape mismatch for variable '{v.path}' of layer '{name}': the model "
                f"expects shape {v.shape}, the file has shape {s} "
                f"(dataset '{_vars_path(path)}/{variables.index(v)}')")
            continue
        assignments.extend((v, h5.read_dataset(ds, v.shape, filepath, v.path))
                           for v, ds in zip(variables, datasets))
    extra = _unused_layer_groups(h5file, seen, filepath)
    if extra:
        problems.append(
            f"the file has weights for {len(extra)} layer(s) the model does not have: "
            f"{extra}")
    if problems:
        message = (f"{len(problems)} object(s) could not be loaded. First problem: "
                   f"{problems[0]}")
        if not skip_mismatch:
            raise file_error(filepath, message)
        warnings.warn(f"Skipping loading of some weights from {str(filepath)!r}: {message}",
                      stacklevel=3)
    for variable, value in assignments:
        variable.assign(value)
    if include_optimizer and getattr(model, "optimizer", None) is not None and (
            "optimizer" in h5file):
        group = h5.get_group(h5file, "optimizer/vars", filepath, required=False)
        if group is not None:
            count = len(group.keys())
            values = [h5.read_dataset(h5.get_dataset(group, str(i), filepath), None,
                                      filepath, "optimizer variable") for i in range(count)]
            restore_optimizer(model, values, filepath)


def _unused_layer_groups(h5file, seen, filepath) -> list[str]:
    """Layer groups in the file (holding datasets) that no layer of the model read."""
    out = []

    def walk(container, path):  # container: a 'layers' group
        for key in container.keys():
            child = h5.get_group(container, key, filepath, required=False)
            child_path = f"{path}/{key}"
            if child is None or not hasattr(child, "keys"):
                continue
            if child_path not in seen:
                if _has_datasets(child):
                    out.append(child_path)
            elif "layers" in child:
                walk(h5.get_group(child, "layers", filepath), child_path + "/layers")

    if "layers" in h5file:
        walk(h5.get_group(h5file, "layers", filepath), "layers")
    return out


def _has_datasets(group) -> bool:
    found = []
    group.visititems(lambda name, obj: found.append(name) if hasattr(obj, "dtype") else None)
    return bool(found)


def restore_optimizer(model, values, filepath) -> None:
    """Sets the optimizer's iterations, learning rate and slots from Keras's list.

    A file written before the optimizer took a step holds only iterations (and the
    learning rate); then the slots stay zero. A list of another length is skipped
    with Keras's warning: the weights are loaded, the optimizer starts afresh.
    """
    from tinyann.variables import Variable

    optimizer = model.optimizer
    head = 1 + isinstance(optimizer._learning_rate, Variable)  # iterations, learning rate
    if len(values) == head:
        targets = optimizer.variables[:head]
    else:
        if not optimizer.built:
            model._packed_trainables()  # builds the optimizer for the model's weights
        targets = optimizer.variables
    if len(values) != len(targets):
        warnings.warn(
            f"Skipping variable loading for optimizer '{optimizer.name}', because it has "
            f"{len(targets)} variables whereas the saved optimizer has {len(values)} "
            f"variables (in {str(filepath)!r}).", stacklevel=3)
        return
    for target, value in zip(targets, values):
        if target.shape != value.shape:
            raise file_error(
                filepath, f"shape mismatch for an optimizer variable: the model expects "
                f"{target.shape}, the file has {value.shape}")
    optimizer.iterations = int(values[0])
    for target, value in zip(targets[1:], values[1:]):
        np.copyto(target, value, casting="unsafe")
