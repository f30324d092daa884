"""Keras's image_dataset_from_directory on a small folder of images: file order,
the train/validation split for a seed, and the decoded, resized pixels.

Runs ONLY in the separate Keras/TensorFlow venv (see README.md beside this file); it
never imports tinyann. Writes the folder tests/fixtures/keras/image_folder/ (tiny
PNG files in 3 classes, one nested subfolder, one non-image file; PNG only, as
TensorFlow writes no BMP or GIF) and image_folder.npz / image_folder.json beside it.

Usage:  /work/kerasenv/bin/python tools/keras_reference/make_image_folder_facts.py  (~5 s)
"""

import json
import os
import shutil
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

OUT = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "keras"
FOLDER = OUT / "image_folder"
FILES = {"cats": ["b.png", "a.png", "C.PNG", "deep/z.png", "deep/a.png"],
         "dogs": ["x.png", "y.png", "w.png", "v.png"],
         "fish": ["1.png", "2.png", "10.png", "3.png", "notes.txt"]}


def write_folder():
    rng = np.random.default_rng(4)
    shutil.rmtree(FOLDER, ignore_errors=True)
    for cls, names in FILES.items():
        for name in names:
            path = FOLDER / cls / name
            path.parent.mkdir(parents=True, exist_ok=True)
            if name.endswith(".txt"):
                path.write_text("not an image\n")
                continue
            rows, cols = rng.integers(5, 12, size=2)
            pixels = rng.integers(0, 256, size=(rows, cols, 3), dtype=np.uint8)
            path.write_bytes(tf.io.encode_png(pixels).numpy())


def relative(paths):
    return [os.path.relpath(p, FOLDER) for p in paths]


def main():
    write_folder()
    facts = {"keras_version": keras.__version__, "splits": {}}
    arrays = {}
    for seed in (7, 1234):
        train, val = keras.utils.image_dataset_from_directory(
            FOLDER, seed=seed, validation_split=0.3, subset="both", image_size=(6, 8),
            batch_size=4, verbose=False)
        facts["splits"][str(seed)] = {"training": relative(train.file_paths),
                                      "validation": relative(val.file_paths),
                                      "class_names": train.class_names}
    for mode, kwargs in {"rgb": {}, "grayscale": {"color_mode": "grayscale"},
                         "nearest_crop": {"interpolation": "nearest",
                                          "crop_to_aspect_ratio": True},
                         "categorical": {"label_mode": "categorical"}}.items():
        ds = keras.utils.image_dataset_from_directory(
            FOLDER, shuffle=False, image_size=(6, 8), batch_size=20, verbose=False, **kwargs)
        images, labels = next(iter(ds))
        arrays[f"{mode}_images"] = np.asarray(images)
        arrays[f"{mode}_labels"] = np.asarray(labels)
        facts[f"{mode}_files"] = relative(ds.file_paths)
    np.savez(OUT / "image_folder.npz", **arrays)
    with open(OUT / "image_folder.json", "w", encoding="utf-8") as f:
        json.dump(facts, f, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
