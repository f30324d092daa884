"""Reference values of every keras.activations function, with their gradients, and of the
ELU and PReLU layers, from real Keras.

Runs ONLY in the separate Keras/TensorFlow venv (see README.md beside this file); it
never imports tinyann. Writes tests/fixtures/keras/activations.json:

- ``x``: the input, float32 (2, 6), away from every kink (0, +-1, +-3, 6, thresholds);
- ``cases``: name -> {function, kwargs, value, grad}: ``value`` is
  ``keras.activations.<function>(x, **kwargs)``, ``grad`` the gradient of
  ``sum(g * value)`` by x (tf.GradientTape) for the fixed ``g``;
- ``serialized``: each name ``keras.activations.get`` reads -> the string Keras writes
  in a layer's config (``Dense(2, activation=name).get_config()["activation"]``);
- ``layers``: ELU and PReLU: their configs, outputs (PReLU's alpha set by set_weights)
  and PReLU's weight gradient;
- ``sparsemax_support_of_one``: sparsemax where only one entry is positive (Keras
  3.15's sparsemax is right only there: keras-team/keras#23425).

Usage:  /work/kerasenv/bin/python tools/keras_reference/make_activation_facts.py  (~5 s)
"""

import json
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

OUT = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "keras" / "activations.json"

X = np.array([[-3.7, -1.4, -0.35, 0.15, 1.3, 6.5],
              [-2.2, -0.8, 0.6, 2.4, 4.1, -0.05]], dtype="float32")
G = np.array([[0.3, -1.1, 0.7, 1.9, -0.4, 0.8],
              [-0.6, 1.3, 0.2, -0.9, 1.5, -1.2]], dtype="float32")

NAMES = ["celu", "elu", "exponential", "gelu", "glu", "hard_shrink", "hard_sigmoid",
         "hard_silu", "hard_tanh", "leaky_relu", "linear", "log_sigmoid", "log_softmax",
         "mish", "relu", "relu6", "selu", "sigmoid", "silu", "soft_shrink", "softmax",
         "softplus", "softsign", "sparse_plus", "sparse_sigmoid", "squareplus", "tanh",
         "tanh_shrink"]
WITH_ARGUMENTS = {
    "relu_all": ("relu", {"negative_slope": 0.1, "max_value": 3.0, "threshold": 0.5}),
    "relu_max": ("relu", {"max_value": 2.0}),
    "relu_negative_threshold": ("relu", {"threshold": -1.0, "negative_slope": 0.5}),
    "leaky_relu_01": ("leaky_relu", {"negative_slope": 0.1}),
    "elu_05": ("elu", {"alpha": 0.5}),
    "celu_2": ("celu", {"alpha": 2.0}),
    "gelu_approximate": ("gelu", {"approximate": True}),
    "softmax_axis0": ("softmax", {"axis": 0}),
    "log_softmax_axis0": ("log_softmax", {"axis": 0}),
    "glu_axis0": ("glu", {"axis": 0}),
    "squareplus_1": ("squareplus", {"b": 1}),
    "hard_shrink_1": ("hard_shrink", {"threshold": 1.0}),
    "soft_shrink_1": ("soft_shrink", {"threshold": 1.0}),
    "threshold": ("threshold", {"threshold": 0.5, "default_value": -1.0}),
}


def value_and_grad(fn, kwargs):
    x = tf.Variable(X)
    with tf.GradientTape() as tape:
        y = fn(x, **kwargs)
        g = G if y.shape == X.shape else G[tuple(slice(0, n) for n in y.shape)]
        total = tf.reduce_sum(g * y)
    return np.asarray(y), np.asarray(tape.gradient(total, x))


def main():
    cases = {}
    for name in NAMES:
        cases[name] = (name, {})
    cases.update(WITH_ARGUMENTS)
    facts = {"keras": keras.__version__, "tensorflow": tf.__version__, "x": X.tolist(),
             "g": G.tolist(), "cases": {}}
    for case, (function, kwargs) in cases.items():
        value, grad = value_and_grad(getattr(keras.activations, function), kwargs)
        facts["cases"][case] = {"function": function, "kwargs": kwargs,
                                "value": value.tolist(), "grad": grad.tolist()}
    names = NAMES + ["swish", "hard_swish", "sparsemax", "threshold"]
    facts["serialized"] = {
        name: keras.layers.Dense(2, activation=name).get_config()["activation"]
        for name in names}

    one_hot_support = np.array([[0.1, 2.5, 0.4, -1.0]], dtype="float32")
    facts["sparsemax_support_of_one"] = {
        "x": one_hot_support.tolist(),
        "value": np.asarray(keras.activations.sparsemax(one_hot_support)).tolist()}

    layers = {}
    elu = keras.layers.ELU(alpha=0.5, name="elu")
    layers["elu"] = {"config": elu.get_config(), "value": np.asarray(elu(X)).tolist()}
    layers["elu_default_config"] = keras.layers.ELU(name="elu").get_config()
    prelu = keras.layers.PReLU(shared_axes=[1], name="p_re_lu")
    x3 = X.reshape(2, 3, 2)
    prelu.build(x3.shape)
    prelu.set_weights([np.array([[0.25, -0.5]], dtype="float32")])
    xv = tf.Variable(x3)
    with tf.GradientTape() as tape:
        y = prelu(xv)
        total = tf.reduce_sum(G.reshape(2, 3, 2) * y)
    dx, dalpha = tape.gradient(total, [xv, prelu.alpha])
    layers["prelu"] = {"config": prelu.get_config(), "alpha_shape": list(prelu.alpha.shape),
                       "value": np.asarray(y).tolist(), "dx": np.asarray(dx).tolist(),
                       "dalpha": np.asarray(dalpha).tolist()}
    layers["prelu_default_config"] = keras.layers.PReLU(name="p_re_lu").get_config()
    facts["layers"] = layers
    OUT.write_text(json.dumps(facts, indent=1) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
