"""Reference outputs and input gradients of Keras 3's Resizing and CenterCrop.

Every interpolation of Keras's TensorFlow backend (bilinear, nearest, bicubic, area,
lanczos3, lanczos5), with and without antialiasing, up, down and both at once, odd
sizes, one and three channels, ``crop_to_aspect_ratio`` and ``pad_to_aspect_ratio``,
and CenterCrop on images smaller than its window (Keras resizes them). The gradient
of ``sum(G * layer(x))`` with respect to ``x`` comes from ``tf.GradientTape``.

Runs ONLY in the separate Keras/TensorFlow venv (see README.md beside this file); it
never imports tinyann. Writes tests/fixtures/keras/resizing.npz (inputs, outputs,
``G`` and the gradients; none for "area", which TensorFlow cannot differentiate) and resizing.json (the layers' arguments and configs).

Usage:  /work/kerasenv/bin/python tools/keras_reference/make_resizing_fixtures.py  (~5 s)
"""

import json
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

OUT = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "keras"
INTERPOLATIONS = ("bilinear", "nearest", "bicubic", "area", "lanczos3", "lanczos5")
# (rows, cols) out of a 7 x 8 image: larger, smaller, then fewer rows but more columns
SIZES = {"up": (11, 13), "down": (3, 5), "mixed": (5, 12)}


def cases():
    """name -> (class name, kwargs, input key)."""
    table = {}
    for interpolation in INTERPOLATIONS:
        for kind, (h, w) in SIZES.items():
            table[f"resize_{interpolation}_{kind}"] = (
                "Resizing", {"height": h, "width": w, "interpolation": interpolation}, "image")
            if kind != "up":
                table[f"resize_{interpolation}_{kind}_antialias"] = (
                    "Resizing", {"height": h, "width": w, "interpolation": interpolation,
                                 "antialias": True}, "image")
        table[f"resize_{interpolation}_gray"] = (
            "Resizing", {"height": 4, "width": 14, "interpolation": interpolation}, "gray")
        table[f"resize_{interpolation}_crop"] = (
            "Resizing", {"height": 4, "width": 9, "interpolation": interpolation,
                         "crop_to_aspect_ratio": True}, "image")
        table[f"resize_{interpolation}_pad"] = (
            "Resizing", {"height": 6, "width": 3, "interpolation": interpolation,
                         "pad_to_aspect_ratio": True, "fill_value": 7.0}, "image")
    table["resize_pad_wide"] = ("Resizing", {"height": 4, "width": 10,
                                             "pad_to_aspect_ratio": True}, "image")
    table["resize_pad_odd"] = ("Resizing", {"height": 9, "width": 4,
                                            "pad_to_aspect_ratio": True,
                                            "fill_value": -2.5}, "gray")
    table["resize_pad_tall_unbatched"] = ("Resizing", {"height": 10, "width": 3,
                                                       "pad_to_aspect_ratio": True},
                                          "single")
    table["resize_bicubic_unbatched"] = ("Resizing", {"height": 9, "width": 2,
                                                      "interpolation": "bicubic"}, "single")
    table["center_crop_larger"] = ("CenterCrop", {"height": 9, "width": 10}, "image")
    table["center_crop_taller"] = ("CenterCrop", {"height": 9, "width": 4}, "image")
    table["center_crop_wider"] = ("CenterCrop", {"height": 3, "width": 11}, "gray")
    table["center_crop_same"] = ("CenterCrop", {"height": 7, "width": 8}, "image")
    table["center_crop_odd_gray"] = ("CenterCrop", {"height": 2, "width": 3}, "gray")
    table["center_crop_larger_unbatched"] = ("CenterCrop", {"height": 8, "width": 7},
                                             "single")
    return table


def main():
    rng = np.random.default_rng(2121)
    arrays = {
        "image": rng.uniform(0, 255, size=(2, 7, 8, 3)).round().astype("float32"),
        "gray": rng.uniform(-1, 1, size=(1, 5, 9, 1)).astype("float32"),
        "single": rng.uniform(0, 1, size=(6, 5, 3)).astype("float32"),
    }
    facts = {"keras_version": keras.__version__, "tensorflow_version": tf.__version__,
             "configs": {}}
    for name, (class_name, kwargs, key) in cases().items():
        layer = getattr(keras.layers, class_name)(**kwargs)
        x = tf.constant(arrays[key])
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = layer(x)
            g = tf.constant(rng.normal(size=tuple(y.shape)).astype("float32"))
            total = tf.reduce_sum(g * y)
        arrays[name] = y.numpy()
        arrays[name + ":G"] = g.numpy()
        try:
            arrays[name + ":dx"] = tape.gradient(total, x).numpy()
            gradient = True
        except LookupError:  # TensorFlow has no gradient for ResizeArea
            gradient = False
        facts["configs"][name] = {"class_name": class_name, "kwargs": kwargs, "input": key,
                                  "config": layer.get_config(), "gradient": gradient}
    OUT.mkdir(parents=True, exist_ok=True)
    np.savez(OUT / "resizing.npz", **arrays)
    with open(OUT / "resizing.json", "w", encoding="utf-8") as f:
        json.dump(facts, f, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
