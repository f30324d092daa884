"""Runs one conformance case (a small JSON spec) on a given ``keras`` module and
returns its answer as plain JSON data.

The same code runs on real Keras (``make_conformance.py``, in the Keras environment)
and on tinyann (``tests/conformance/``): it imports neither. A case builds a small
model with weights set by ``set_weights`` (so training with ``shuffle=False`` gives
the same numbers everywhere), compiles it, makes one call and records what comes
back: types, keys, shapes, dtypes and values, or the error's type and message.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping

import numpy as np

N = 16  # samples
BATCH = 8


# ---------------------------------------------------------------------- data
def make_data():
    rng = np.random.default_rng(21)
    return {"a": rng.normal(size=(N, 4)).astype("float32"),
            "b": rng.normal(size=(N, 3)).astype("float32"),
            "reg": rng.normal(size=(N, 1)).astype("float32"),
            "cls": (np.arange(N) % 3).astype("int64"),
            "sw": (1.0 + (np.arange(N) % 4) / 4).astype("float32")}


def _weights_like(weights):
    """Deterministic small weights of the model's shapes."""
    out = []
    for i, w in enumerate(weights):
        size = int(np.prod(w.shape))
        values = ((np.arange(size) * 0.37 + i * 0.11) % 1.0 - 0.5) * 0.6
        out.append(values.reshape(w.shape).astype("float32"))
    return out


# ---------------------------------------------------------------------- models
def _head(keras, head, name=None):
    if head == "reg":
        return keras.layers.Dense(1, name=name)
    return keras.layers.Dense(3, activation="softmax", name=name)


def make_model(keras, spec):
    form, head = spec["model"], spec.get("head", "reg")
    layers = keras.layers
    if form == "seq_list":
        model = keras.Sequential([keras.Input((4,)), layers.Dense(5, activation="relu"),
                                  _head(keras, head)])
    elif form == "seq_add":
        model = keras.Sequential()
        model.add(keras.Input((4,)))
        model.add(layers.Dense(5, activation="relu"))
        model.add(_head(keras, head))
    elif form == "seq_deferred":
        model = keras.Sequential([_head(keras, head)])
        model.build((None, 4))
    elif form == "functional":
        inp = keras.Input((4,), name="a")
        out = _head(keras, head)(layers.Dense(5, activation="relu")(inp))
        model = keras.Model(inp, out)
    elif form == "multi":
        a = keras.Input((4,), name="a")
        b = keras.Input((3,), name="b")
        h = layers.Dense(5, activation="relu")(layers.Concatenate()([a, b]))
        model = keras.Model([a, b], [_head(keras, "reg", "reg")(h), _head(keras, "cls", "cls")(h)])
    elif form == "subclassed":
        class Sub(keras.Model):
            def __init__(self):
                super().__init__()
                self.hidden = layers.Dense(5, activation="relu")
                self.out = _head(keras, head)

            def call(self, x):
                return self.out(self.hidden(x))

        model = Sub()
        model(np.zeros((1, 4), "float32"))
    else:
        raise KeyError(form)
    model.set_weights(_weights_like(model.get_weights()))
    return model


# ---------------------------------------------------------------------- compile
def _loss(keras, head, form):
    name = "mse" if head == "reg" else "sparse_categorical_crossentropy"
    if form == "object":
        return (keras.losses.MeanSquaredError() if head == "reg"
                else keras.losses.SparseCategoricalCrossentropy())
    return name


def _metrics(keras, head, form):
    if form == "none":
        return None
    if form == "object":
        return [keras.metrics.MeanAbsoluteError() if head == "reg"
                else keras.metrics.SparseCategoricalAccuracy()]
    return ["mae"] if head == "reg" else ["accuracy"]


def compile_model(keras, model, spec, extra):
    c = spec.get("compile", {})
    opt = keras.optimizers.SGD(learning_rate=0.05) if c.get("optimizer") != "string" else "sgd"
    if spec["model"] != "multi":
        head = spec.get("head", "reg")
        model.compile(optimizer=opt, loss=_loss(keras, head, c.get("loss", "string")),
                      metrics=_metrics(keras, head, c.get("metrics", "string")), **extra)
        return
    losses = {"reg": _loss(keras, "reg", c.get("loss_obj", "string")),
              "cls": _loss(keras, "cls", c.get("loss_obj", "string"))}
    loss = losses if c.get("loss", "dict") == "dict" else [losses["reg"], losses["cls"]]
    kwargs = {}
    if c.get("loss_weights") == "list":
        kwargs["loss_weights"] = [0.5, 2.0]
    elif c.get("loss_weights") == "dict":
        kwargs["loss_weights"] = {"reg": 0.5, "cls": 2.0}
    metrics = c.get("metrics", "dict")
    if metrics == "dict":
        kwargs["metrics"] = {"reg": ["mae"], "cls": ["accuracy"]}
    elif metrics == "list":
        kwargs["metrics"] = [["mae"], ["accuracy"]]
    model.compile(optimizer=opt, loss=loss, **kwargs, **extra)


# ---------------------------------------------------------------------- inputs
def _x(spec, data, rows=slice(None)):
    form = spec.get("x", "array")
    if spec["model"] == "multi":
        a, b = data["a"][rows], data["b"][rows]
        return {"list": [a, b], "tuple": (a, b)}.get(form, {"a": a, "b": b})
    a = data["a"][rows]
    return {"list": [a], "dict": {"a": a}}.get(form, a)


def _y(spec, data, rows=slice(None)):
    if spec["model"] == "multi":
        reg, cls = data["reg"][rows], data["cls"][rows]
        return {"list": [reg, cls], "tuple": (reg, cls)}.get(spec.get("y", "dict"),
                                                             {"reg": reg, "cls": cls})
    return data[spec.get("head", "reg")][rows]


def _batches(spec, data, with_y=True, with_w=False):
    out = []
    for start in range(0, N, BATCH):
        rows = slice(start, start + BATCH)
        item = (_x(spec, data, rows),)
        if with_y:
            item += (_y(spec, data, rows),)
        if with_w:
            item += (data["sw"][rows],)
        out.append(item)
    return out


class BatchList:
    """A tf.data-like source on the tinyann side: re-iterable, no length."""

    def __init__(self, batches):
        self.batches = batches

    def __iter__(self):
        return iter(self.batches)

    def __len__(self):  # as tf.data's cardinality
        return len(self.batches)


def make_source(keras, spec, data, with_y=True, with_w=False, tf=None):
    """The data as the case's structure: dataset, generator or PyDataset."""
    source = spec["source"]
    batches = _batches(spec, data, with_y, with_w)
    if source == "dataset":
        if tf is None:
            return BatchList(batches)
        parts = [(_x(spec, data),)]
        if with_y:
            parts[0] += (_y(spec, data),)
        if with_w:
            parts[0] += (data["sw"],)
        return tf.data.Dataset.from_tensor_slices(parts[0]).batch(BATCH)
    if source == "generator":
        return (b for b in itertools.cycle(batches))
    if source == "pydataset":
        class Batches(keras.utils.PyDataset):
            def __len__(self):
                return len(batches)

            def __getitem__(self, i):
                return batches[i]

        return Batches()
    raise KeyError(source)


# ---------------------------------------------------------------------- answers
def encode(value, exact=True):
    """``value`` as JSON data: its type, keys, shapes, dtypes and (if ``exact``) values."""
    if value is None:
        return {"t": "None"}
    if isinstance(value, Mapping):
        return {"t": "dict", "v": {str(k): encode(value[k], exact) for k in sorted(value)}}
    if isinstance(value, (list, tuple)):
        return {"t": type(value).__name__, "v": [encode(v, exact) for v in value]}
    if isinstance(value, str):
        return {"t": "str", "v": value}
    if isinstance(value, (bool, np.bool_)):
        return {"t": "bool", "v": bool(value)}
    if isinstance(value, (int, np.integer)):
        return {"t": "int", "v": int(value)}
    if isinstance(value, (float, np.floating)) or (hasattr(value, "shape")
                                                   and tuple(value.shape) == ()):
        return {"t": "float", "v": round(float(value), 6) if exact else None}
    if hasattr(value, "shape") and hasattr(value, "dtype"):
        arr = np.asarray(value)
        return {"t": "array", "shape": list(arr.shape), "dtype": str(arr.dtype),
                "v": np.round(arr.astype("float64").ravel(), 6).tolist()
                if exact and arr.size <= 48 else None}
    return {"t": type(value).__name__}


def make_recorder(keras, record, exact=True):
    """A callback class recording, per hook, how often it ran, its logs' keys the
    first time and its logs at the last time; params and model at train begin."""
    def hook(name):
        def method(self, *args, **kwargs):
            # Keras passes logs by keyword, the index (epoch or batch) by position
            logs = kwargs["logs"] if "logs" in kwargs else args[-1] if len(args) > (
                "batch" in name or "epoch" in name) else None
            entry = record.setdefault(name, {"count": 0})
            entry["count"] += 1
            if "batch" in name or "epoch" in name:
                entry.setdefault("indices", []).append(
                    int(args[0]) if args else kwargs.get("batch", kwargs.get("epoch")))
            if not isinstance(logs, Mapping):
                entry["logs"] = encode(logs)
            else:
                entry.setdefault("first_keys", sorted(logs))
                # outputs of predict batches: structure only
                entry["last"] = encode(dict(logs), exact=exact and "outputs" not in logs)
            if name in ("on_train_begin", "on_test_begin", "on_predict_begin"):
                entry["params"] = encode(dict(self.params or {}))
                entry["has_model"] = self.model is not None
        return method

    names = ["on_train_begin", "on_train_end", "on_epoch_begin", "on_epoch_end",
             "on_train_batch_begin", "on_train_batch_end", "on_test_begin", "on_test_end",
             "on_test_batch_begin", "on_test_batch_end", "on_predict_begin",
             "on_predict_end", "on_predict_batch_begin", "on_predict_batch_end"]
    return type("Recorder", (keras.callbacks.Callback,), {n: hook(n) for n in names})


def run_case(keras, spec, tf=None, compile_extra=None):
    """The answer of ``spec`` on ``keras``: ``{"result": ...}`` or ``{"error": ...}``."""
    keras.backend.clear_session()  # automatic layer names start afresh per case
    try:
        return {"result": _run(keras, spec, tf, compile_extra or {})}
    except Exception as error:  # the case is about this error
        message = str(error).strip().splitlines()[0] if str(error).strip() else ""
        return {"error": type(error).__name__, "message": message[:200]}


def _run(keras, spec, tf, extra):
    data = make_data()
    model = make_model(keras, spec)
    if spec["action"] == "summary":
        lines = []
        model.summary(print_fn=lambda line, *a, **k: lines.append(line))
        text = "\n".join(lines)
        return {"counts": [ln.strip() for ln in text.splitlines()
                           if "params" in ln.lower() and ":" in ln]}
    if not spec.get("no_compile"):
        compile_model(keras, model, spec, extra)
    exact = spec.get("exact", True)
    action = spec["action"]
    record = {}
    callbacks = [make_recorder(keras, record, exact)()] if spec.get("record") else None
    kw = dict(spec.get("kwargs", {}))
    bad = spec.get("bad")
    if bad == "x_shape":
        data["a"] = data["a"][:, :3]
    elif bad == "y_none":
        pass
    elif bad == "dict_missing":
        spec = dict(spec, x="dict")
    x = _x(spec, data)
    if bad == "dict_missing":
        x = {"a": data["a"]} if spec["model"] == "multi" else {"nope": data["a"]}
    y = None if bad == "y_none" else _y(spec, data)
    if "sample_weight" in kw:
        kw["sample_weight"] = data["sw"]
    if spec.get("validation") == "arrays":
        kw["validation_data"] = (x, y)
    elif spec.get("validation") == "arrays_w":
        kw["validation_data"] = (x, y, data["sw"])
    elif spec.get("validation") == "source":
        kw["validation_data"] = make_source(keras, spec, data, tf=tf)
        if spec["source"] == "generator":
            kw["validation_steps"] = N // BATCH
    if spec.get("source"):
        x, y = make_source(keras, spec, data, with_y=action != "predict", tf=tf), None
        if spec["source"] == "generator":
            kw.setdefault("steps_per_epoch" if action == "fit" else "steps", N // BATCH)
    if action == "fit":
        kw.setdefault("batch_size", None if spec.get("source") else BATCH)
        history = model.fit(x, y, verbose=0, callbacks=callbacks, **kw)
        result = {"history": encode(history.history, exact),
                  "history_type": type(history).__name__,
                  "epoch": encode(list(history.epoch))}
    elif action == "evaluate":
        result = {"value": encode(model.evaluate(x, y, verbose=0, callbacks=callbacks, **kw),
                                  exact)}
    elif action == "predict":
        result = {"value": encode(model.predict(x, verbose=0, callbacks=callbacks, **kw),
                                  exact)}
    elif action == "train_on_batch":
        result = {"value": encode(model.train_on_batch(x, y, **kw), exact)}
    elif action == "test_on_batch":
        result = {"value": encode(model.test_on_batch(x, y, **kw), exact)}
    elif action == "predict_on_batch":
        result = {"value": encode(model.predict_on_batch(x), exact)}
    else:
        raise KeyError(action)
    if record:
        result["callbacks"] = record
    return result
