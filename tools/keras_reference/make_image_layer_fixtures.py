"""Reference outputs and configs of Keras's activation and image-preprocessing layers.

Runs ONLY in the separate Keras/TensorFlow venv (see README.md beside this file); it
never imports tinyann. Writes tests/fixtures/keras/image_layers.npz (inputs and
outputs, plain arrays) and image_layers.json (configs and error messages).

Usage:  /work/kerasenv/bin/python tools/keras_reference/make_image_layer_fixtures.py  (~5 s)
"""

import json
import os
import warnings
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

import keras  # noqa: E402
import numpy as np  # noqa: E402

OUT = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "keras"

# name -> (constructor, kwargs, input key)
CASES = {
    "softmax": (keras.layers.Softmax, {}, "x"),
    "softmax_axis1": (keras.layers.Softmax, {"axis": 1}, "x"),
    "relu": (keras.layers.ReLU, {}, "x"),
    "relu_max6": (keras.layers.ReLU, {"max_value": 6.0}, "x"),
    "relu_all": (keras.layers.ReLU, {"max_value": 1.5, "negative_slope": 0.1,
                                     "threshold": 0.5}, "x"),
    "relu_slope": (keras.layers.ReLU, {"negative_slope": 0.2}, "x"),
    "relu_threshold": (keras.layers.ReLU, {"threshold": 1.0}, "x"),
    "leaky_relu": (keras.layers.LeakyReLU, {}, "x"),
    "leaky_relu_01": (keras.layers.LeakyReLU, {"negative_slope": 0.1}, "x"),
    "rescaling": (keras.layers.Rescaling, {"scale": 1 / 255.0}, "image"),
    "rescaling_offset": (keras.layers.Rescaling, {"scale": 1 / 127.5, "offset": -1.0}, "image"),
    "center_crop": (keras.layers.CenterCrop, {"height": 4, "width": 3}, "image"),
    "resize_up_bilinear": (keras.layers.Resizing, {"height": 11, "width": 13}, "image"),
    "resize_down_bilinear": (keras.layers.Resizing, {"height": 3, "width": 5}, "image"),
    "resize_up_nearest": (keras.layers.Resizing, {"height": 11, "width": 13,
                                                  "interpolation": "nearest"}, "image"),
    "resize_down_nearest": (keras.layers.Resizing, {"height": 3, "width": 5,
                                                    "interpolation": "nearest"}, "image"),
    "resize_crop_wide": (keras.layers.Resizing, {"height": 4, "width": 8,
                                                 "crop_to_aspect_ratio": True}, "image"),
    "resize_crop_tall": (keras.layers.Resizing, {"height": 9, "width": 4,
                                                 "crop_to_aspect_ratio": True}, "image"),
    "random_flip": (keras.layers.RandomFlip, {}, "image"),
    "random_flip_seeded": (keras.layers.RandomFlip, {"mode": "horizontal", "seed": 3}, "image"),
    "random_contrast": (keras.layers.RandomContrast, {"factor": 0.2}, "image"),
    "random_contrast_range": (keras.layers.RandomContrast, {"factor": (0.1, 0.5), "seed": 2,
                                                            "value_range": (0, 1)}, "image"),
    "random_rotation": (keras.layers.RandomRotation, {"factor": 0.2}, "image"),
    "random_rotation_quarter": (keras.layers.RandomRotation, {"factor": (0.25, 0.25)},
                                "image"),
    "random_rotation_wrap": (keras.layers.RandomRotation, {"factor": (0.1, 0.1),
                                                           "fill_mode": "wrap"}, "image"),
    "random_rotation_constant": (keras.layers.RandomRotation, {
        "factor": (-0.07, -0.07), "fill_mode": "constant", "fill_value": 9.0}, "image"),
    "random_rotation_nearest": (keras.layers.RandomRotation, {
        "factor": (0.3, 0.3), "fill_mode": "nearest", "interpolation": "nearest"}, "image"),
    "random_rotation_reflect": (keras.layers.RandomRotation, {"factor": (0.12, 0.12)},
                                "image"),
    "random_translation": (keras.layers.RandomTranslation, {"height_factor": 0.2,
                                                            "width_factor": (-0.1, 0.3)},
                           "image"),
    "random_translation_fixed": (keras.layers.RandomTranslation, {
        "height_factor": (0.2, 0.2), "width_factor": (-0.3, -0.3)}, "image"),
    "random_translation_constant": (keras.layers.RandomTranslation, {
        "height_factor": (-0.25, -0.25), "width_factor": (0.15, 0.15),
        "fill_mode": "constant", "fill_value": 3.0}, "image"),
    "random_zoom": (keras.layers.RandomZoom, {"height_factor": 0.3}, "image"),
    "random_zoom_in": (keras.layers.RandomZoom, {"height_factor": (-0.4, -0.4)}, "image"),
    "random_zoom_out_wrap": (keras.layers.RandomZoom, {
        "height_factor": (0.5, 0.5), "width_factor": (0.2, 0.2), "fill_mode": "wrap"},
                             "image"),
    "center_crop_odd": (keras.layers.CenterCrop, {"height": 3, "width": 6}, "image"),
}

BAD = {
    "relu_max_value": (keras.layers.ReLU, {"max_value": -1.0}),
    "relu_negative_slope": (keras.layers.ReLU, {"negative_slope": -0.5}),
    "relu_threshold": (keras.layers.ReLU, {"threshold": -2.0}),
    "leaky_relu_negative": (keras.layers.LeakyReLU, {"negative_slope": -0.1}),
    "random_contrast_big": (keras.layers.RandomContrast, {"factor": 1.5}),
    "random_contrast_three": (keras.layers.RandomContrast, {"factor": (0.1, 0.2, 0.3)}),
    "random_contrast_string": (keras.layers.RandomContrast, {"factor": "0.1"}),
}


def main():
    rng = np.random.default_rng(21)
    # values spread over [-4, 4], some exactly at 0, 0.5, 1.0, 1.5 and 6 (the switch points)
    x = rng.uniform(-4, 8, size=(3, 5, 7)).astype("float32")
    x.flat[:6] = [0.0, 0.5, 1.0, 1.5, 6.0, -0.0]
    image = rng.uniform(0, 255, size=(2, 7, 8, 3)).round().astype("float32")
    arrays = {"x": x, "image": image}
    facts = {"keras_version": keras.__version__, "configs": {}, "errors": {}}
    for name, (cls, kwargs, key) in CASES.items():
        layer = cls(**kwargs)
        arrays[name] = np.asarray(layer(arrays[key]))
        config = layer.get_config()
        facts["configs"][name] = {"class_name": cls.__name__, "kwargs": kwargs,
                                  "input": key, "config": config}
    for name, (cls, kwargs) in BAD.items():
        try:
            cls(**kwargs)
        except Exception as e:  # noqa: BLE001 - the type is the fact recorded
            facts["errors"][name] = {"class_name": cls.__name__, "kwargs": kwargs,
                                     "type": type(e).__name__, "message": str(e)}
    # the random layers in training mode with nothing left to chance
    contrast = keras.layers.RandomContrast(0.0)
    arrays["random_contrast_zero_training"] = np.asarray(contrast(image, training=True))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        layer = keras.layers.LeakyReLU(alpha=0.2)
    facts["leaky_relu_alpha"] = {"config": layer.get_config(),
                                 "warnings": [str(w.message) for w in caught]}
    OUT.mkdir(parents=True, exist_ok=True)
    np.savez(OUT / "image_layers.npz", **arrays)
    with open(OUT / "image_layers.json", "w", encoding="utf-8") as f:
        json.dump(facts, f, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
