"""Reference facts from real Keras 3: the names and paths of variables.

Runs ONLY in the separate Keras venv (see README.md beside this file); it never
imports tinyann. Writes tests/fixtures/keras/variable_paths.json:

    prelude   helper functions the cases use (plain Python, no Keras import)
    cases     {name: {"code": source, "result": what the code put in `result`}}
    optimizer Keras's optimizer variable names and paths (tinyann keeps optimizer
              state as arrays, so its tests read these names from legacy .h5 files)
    errors    the message of Keras's legacy .h5 loader on a shape mismatch
    versions  keras, tensorflow, numpy, h5py

Every case's code is public Keras API only, so tinyann's test runs the very same
source with ``keras = tinyann`` and compares its ``result``. Each case starts from
``keras.backend.clear_session()``, in this process, in order; the auto names
inside a case (``sequential_1``, ``dense_2``...) come from the case's own code.
Functional models that end up inside another model are named explicitly: Keras
uses up a ``functional`` name for the model inside every built Sequential.

Usage:  /work/kerasenv/bin/python tools/keras_reference/make_variable_path_facts.py
"""

import json
import os
import sys
import tempfile
from pathlib import Path

OUT = (Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "keras"
       / "variable_paths.json")

# Helpers the cases call; executed before each case, in Keras here and in tinyann
# in the tests.
PRELUDE = '''
def names_paths(variables):
    return [[v.name, v.path] for v in variables]


def h5_layout(filename):
    """Every dataset of an .h5 file, and the name lists kept in attributes."""
    import h5py

    out = {"datasets": [], "attrs": {}}

    def text(values):
        return [v.decode("utf8") if isinstance(v, bytes) else str(v) for v in values]

    with h5py.File(filename, "r") as f:
        def visit(name, obj):
            if isinstance(obj, h5py.Dataset):
                out["datasets"].append([name, list(obj.shape)])
            for key in ("layer_names", "weight_names"):
                if key in obj.attrs:
                    out["attrs"][f"{name}:{key}"] = text(obj.attrs[key])
        f.visititems(visit)
    out["datasets"].sort()
    return out
'''

CASES = {
    # the cases of the brief, in one session so the auto names follow on
    "session: Input Sequential, add+build, functional, Dense built alone": '''
a = keras.Sequential([keras.Input((784,)), keras.layers.Dense(10)])
b = keras.Sequential()
b.add(keras.layers.Dense(3))
b.build((None, 4))
inp = keras.Input((4,))
c = keras.Model(inp, keras.layers.Dense(2, name="dd")(inp))
d = keras.layers.Dense(2)
d.build((None, 4))
before = names_paths(d.weights)
e = keras.Sequential([keras.Input((4,)), d])
result = {"a": names_paths(a.weights), "b": names_paths(b.weights),
          "c": names_paths(c.weights), "d before": before, "d in e": names_paths(e.weights),
          "model names": [a.name, b.name, e.name]}
''',
    "keras.Variable made on its own": '''
v = keras.Variable(np.zeros((3,), dtype="float32"), name="counts")
result = [v.name, v.path]
''',
    "Sequential, explicit names": '''
m = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, name="hidden"),
                      keras.layers.Dense(2, name="out")], name="my_model")
result = names_paths(m.weights)
''',
    "Sequential, first layer with input_shape=": '''
m = keras.Sequential([keras.layers.Dense(3, input_shape=(4,)), keras.layers.Dense(2)])
result = names_paths(m.weights)
''',
    "Sequential built by calling it on data": '''
m = keras.Sequential([keras.layers.Dense(3), keras.layers.Dense(2)])
m(np.ones((2, 4), dtype="float32"))
result = names_paths(m.weights)
''',
    "Sequential built by predict": '''
m = keras.Sequential([keras.layers.Dense(3), keras.layers.Dense(2)])
m.predict(np.ones((2, 4), dtype="float32"), verbose=0)
result = names_paths(m.weights)
''',
    "Sequential built by fit": '''
m = keras.Sequential([keras.layers.Dense(3), keras.layers.Dense(2)])
m.compile(optimizer="sgd", loss="mse")
m.fit(np.ones((4, 4), dtype="float32"), np.ones((4, 2), dtype="float32"), epochs=1,
      verbose=0)
result = names_paths(m.weights)
''',
    "Sequential with Input, layers added one by one": '''
m = keras.Sequential()
m.add(keras.Input((4,)))
m.add(keras.layers.Dense(3))
m.add(keras.layers.Dense(2))
first = names_paths(m.weights)
m.pop()
m.add(keras.layers.Dense(5))
result = {"first": first, "after pop and add": names_paths(m.weights)}
''',
    "layer called on data before going into a Sequential": '''
d = keras.layers.Dense(3)
d(np.ones((1, 4), dtype="float32"))
m = keras.Sequential([keras.Input((4,)), d, keras.layers.Dense(2)])
result = names_paths(m.weights)
''',
    "one Dense in two Sequentials": '''
d = keras.layers.Dense(3)
m1 = keras.Sequential([keras.Input((4,)), d])
m2 = keras.Sequential([keras.Input((4,)), d, keras.layers.Dense(1)])
result = {"m1": names_paths(m1.weights), "m2": names_paths(m2.weights)}
''',
    "Dense without bias; trainable=False": '''
m = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, use_bias=False),
                      keras.layers.Dense(2, trainable=False)])
result = {"weights": names_paths(m.weights),
          "trainable": names_paths(m.trainable_weights),
          "non_trainable": names_paths(m.non_trainable_weights)}
''',
    "Conv2D and BatchNormalization in a Sequential": '''
m = keras.Sequential([
    keras.Input((8, 8, 3)),
    keras.layers.Conv2D(4, 3),
    keras.layers.BatchNormalization(),
    keras.layers.MaxPooling2D(2),
    keras.layers.Flatten(),
    keras.layers.Dense(2),
])
result = {"weights": names_paths(m.weights),
          "trainable": names_paths(m.trainable_weights),
          "non_trainable": names_paths(m.non_trainable_weights),
          "bn layer": names_paths(m.layers[1].weights)}
''',
    "Conv2D and BatchNormalization in a functional model": '''
inp = keras.Input((8, 8, 3))
x = keras.layers.Conv2D(4, 3, name="conv")(inp)
x = keras.layers.BatchNormalization(name="bn")(x)
x = keras.layers.GlobalAveragePooling2D()(x)
out = keras.layers.Dense(2)(x)
m = keras.Model(inp, out, name="cnn")
result = names_paths(m.weights)
''',
    "functional model with two branches": '''
a = keras.Input((4,), name="a")
b = keras.Input((3,), name="b")
x = keras.layers.Concatenate()([keras.layers.Dense(2)(a), keras.layers.Dense(2)(b)])
m = keras.Model([a, b], keras.layers.Dense(1)(x), name="branches")
result = names_paths(m.weights)
''',
    "unbuilt Sequential inside a functional model": '''
seq = keras.Sequential([keras.layers.Dense(3), keras.layers.Dense(2)])
inp = keras.Input((4,))
out = keras.layers.Dense(1)(seq(inp))
m = keras.Model(inp, out, name="outer")
result = {"model": names_paths(m.weights), "seq": names_paths(seq.weights)}
''',
    "built Sequential inside a functional model": '''
seq = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
inp = keras.Input((4,))
out = keras.layers.Dense(1)(seq(inp))
m = keras.Model(inp, out, name="outer")
result = names_paths(m.weights)
''',
    "functional model inside a functional model": '''
i = keras.Input((4,))
inner = keras.Model(i, keras.layers.Dense(3)(i), name="inner")
inp = keras.Input((4,))
m = keras.Model(inp, keras.layers.Dense(1)(inner(inp)), name="outer")
result = names_paths(m.weights)
''',
    "functional model inside a Sequential": '''
i = keras.Input((4,))
inner = keras.Model(i, keras.layers.Dense(3)(i), name="inner")
m = keras.Sequential([keras.Input((4,)), inner, keras.layers.Dense(1)])
result = names_paths(m.weights)
''',
    "built Sequential inside a Sequential": '''
inner = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
outer = keras.Sequential([keras.Input((4,)), inner, keras.layers.Dense(2)])
result = names_paths(outer.weights)
''',
    "unbuilt Sequential inside a Sequential with Input": '''
inner = keras.Sequential([keras.layers.Dense(3)])
outer = keras.Sequential([keras.Input((4,)), inner, keras.layers.Dense(2)])
result = {"outer": names_paths(outer.weights), "inner": names_paths(inner.weights)}
''',
    "unbuilt Sequential inside a Sequential built by build()": '''
inner = keras.Sequential([keras.layers.Dense(3)], name="inner")
outer = keras.Sequential([inner, keras.layers.Dense(2)], name="outer")
outer.build((None, 4))
result = names_paths(outer.weights)
''',
    "subclassed Model and Layer with sublayers": '''
class TwoDense(keras.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.first = keras.layers.Dense(3)
        self.second = keras.layers.Dense(2)

    def call(self, x):
        return self.second(self.first(x))


class Scaled(keras.layers.Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.inner = keras.layers.Dense(3)

    def build(self, input_shape):
        self.scale = self.add_weight(shape=(3,), name="scale")

    def call(self, x):
        return self.inner(x) * self.scale


on_data = TwoDense()
on_data(np.ones((1, 4), dtype="float32"))
on_input = TwoDense()
on_input(keras.Input((4,)))
layer = Scaled()
layer(np.ones((1, 4), dtype="float32"))
seq = keras.Sequential([keras.Input((4,)), Scaled()])
result = {"model called on data": names_paths(on_data.weights),
          "model called on an Input": names_paths(on_input.weights),
          "layer called on data": names_paths(layer.weights),
          "layer in a Sequential": names_paths(seq.weights)}
''',
    "Sequential reloaded from .keras (new session)": '''
m = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3),
                      keras.layers.BatchNormalization(), keras.layers.Dense(2)])
m.save(os.path.join(tmp, "seq.keras"))
keras.backend.clear_session()
keras.layers.Dense(1)  # uses up the name 'dense' of the new session
r = keras.models.load_model(os.path.join(tmp, "seq.keras"))
result = {"saved": names_paths(m.weights), "loaded": names_paths(r.weights)}
''',
    "functional model reloaded from .keras": '''
inp = keras.Input((4,))
x = keras.Sequential([keras.layers.Dense(3)], name="block")(inp)
m = keras.Model(inp, keras.layers.Dense(2, name="head")(x), name="net")
m.save(os.path.join(tmp, "net.keras"))
r = keras.models.load_model(os.path.join(tmp, "net.keras"))
result = {"saved": names_paths(m.weights), "loaded": names_paths(r.weights)}
''',
    "Sequential reloaded from legacy .h5, model_from_json, clone_model": '''
m = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3), keras.layers.Dense(2)],
                     name="net")
m.save(os.path.join(tmp, "net.h5"))
r = keras.models.load_model(os.path.join(tmp, "net.h5"), compile=False)
j = keras.models.model_from_json(m.to_json())
c = keras.models.clone_model(m)
result = {"h5": names_paths(r.weights), "json": names_paths(j.weights),
          "clone": names_paths(c.weights)}
''',
    "legacy .h5 of a Sequential with BatchNormalization, compiled with Adam": '''
m = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3),
                      keras.layers.BatchNormalization(), keras.layers.Dense(2)])
m.compile(optimizer="adam", loss="mse")
m.fit(np.ones((4, 4), dtype="float32"), np.ones((4, 2), dtype="float32"), epochs=1,
      verbose=0)
m.save(os.path.join(tmp, "seq.h5"))
result = h5_layout(os.path.join(tmp, "seq.h5"))
''',
    "legacy .h5 of a functional model with a nested Sequential": '''
inp = keras.Input((4,))
x = keras.Sequential([keras.layers.Dense(3)], name="block")(inp)
m = keras.Model(inp, keras.layers.Dense(2, name="head")(x), name="net")
m.compile(optimizer="sgd", loss="mse")
m.fit(np.ones((4, 4), dtype="float32"), np.ones((4, 2), dtype="float32"), epochs=1,
      verbose=0)
m.save(os.path.join(tmp, "net.h5"))
result = h5_layout(os.path.join(tmp, "net.h5"))
''',
    "legacy .h5 of a Sequential built inside a Sequential": '''
inner = keras.Sequential([keras.layers.Dense(3)], name="inner")
m = keras.Sequential([keras.Input((4,)), inner, keras.layers.Dense(2)], name="outer")
m.save(os.path.join(tmp, "outer.h5"))
result = h5_layout(os.path.join(tmp, "outer.h5"))
''',
}

# tinyann keeps optimizer state as arrays (no Variable objects): these names are
# compared with what tinyann writes into legacy .h5 files' optimizer_weights
OPTIMIZER_CODE = '''
m = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3),
                      keras.layers.BatchNormalization(), keras.layers.Dense(2)])
result = {}
for opt in (keras.optimizers.SGD(momentum=0.9), keras.optimizers.RMSprop(),
            keras.optimizers.Adam(amsgrad=True), keras.optimizers.Adagrad()):
    opt.build(m.trainable_weights)
    result[type(opt).__name__] = names_paths(opt.variables)
'''

ERROR_CODE = '''
m = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)], name="net")
m.save(os.path.join(tmp, "small.h5"))
keras.backend.clear_session()
other = keras.Sequential([keras.Input((5,)), keras.layers.Dense(3)], name="net")
try:
    other.load_weights(os.path.join(tmp, "small.h5"))
    result = None
except ValueError as e:
    result = str(e)
'''


def _import_keras():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    import numpy as np
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    import keras

    return np, tf, keras


def _run(code, keras, np, tmp):
    keras.backend.clear_session()
    namespace = {"keras": keras, "np": np, "os": os, "tmp": tmp}
    exec(PRELUDE, namespace)  # noqa: S102 - this script's own source text
    exec(code, namespace)  # noqa: S102
    return namespace["result"]


def main():
    np, tf, keras = _import_keras()
    import h5py

    if keras.backend.backend() != "tensorflow":
        sys.exit("expected the TensorFlow backend")
    facts = {"versions": {"keras": keras.__version__, "tensorflow": tf.__version__,
                          "numpy": np.__version__, "h5py": h5py.__version__},
             "prelude": PRELUDE, "cases": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for name, code in CASES.items():
            facts["cases"][name] = {"code": code, "result": _run(code, keras, np, tmp)}
        facts["optimizer"] = {"code": OPTIMIZER_CODE,
                              "result": _run(OPTIMIZER_CODE, keras, np, tmp)}
        facts["errors"] = {"code": ERROR_CODE, "result": _run(ERROR_CODE, keras, np, tmp)}
    facts["rules"] = [
        "A variable's .name is its short name (kernel, bias, gamma, moving_mean...); "
        ".path is the names of the enclosing layers, joined by '/', then the name.",
        "The enclosing names are fixed the first time the layer is built (or called): "
        "the layer's own name, after the names of the layers being built or called "
        "around it at that moment. A later use in another model does not change them.",
        "A Sequential builds its layers inside its own name (sequential/dense/kernel); "
        "a functional model's layers are built when called on its inputs, before the "
        "model exists, so their paths have no model name (dense/kernel).",
        "load_model of a .keras file and model_from_json build each layer that has a "
        "build_config on its own, before it joins its model: no model name in the paths "
        "(dense/kernel). A legacy .h5 model config has no build_config, and clone_model "
        "builds new layers inside the new Sequential: <model>/<layer>/kernel.",
        "Legacy .h5 files keep, per layer, weight_names = [v.path for v in the layer's "
        "trainable + non-trainable weights], each a dataset at that name under the "
        "layer's group; optimizer_weights' names are '<optimizer>/<name>' where a slot's "
        "name is '<weight path with / as _>_<slot>'.",
    ]
    tmp = OUT.with_suffix(".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(facts, f, ensure_ascii=False, indent=1)
        f.write("\n")
    os.replace(tmp, OUT)
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
