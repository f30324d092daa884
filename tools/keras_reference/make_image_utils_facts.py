"""Reference facts for keras.utils.load_img / img_to_array / array_to_img, for
tests/test_image_utils.py.

Runs ONLY in the separate Keras venv (see README.md beside this file). Writes
tests/fixtures/keras/image_utils.json: for a 53 x 37 PNG of random colours (made here
from a seed, the test makes the same bytes), load_img in each colour mode, target size,
interpolation and keep_aspect_ratio, as img_to_array's shape, dtype and sum; and
array_to_img's mode and pixels for 1, 3 and 4 channels, scaled and not.

Usage:  /work/kerasenv/bin/python tools/keras_reference/make_image_utils_facts.py
"""

from __future__ import annotations

import io
import json
import os

os.environ.setdefault("KERAS_BACKEND", "jax")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "..", "tests", "fixtures", "keras", "image_utils.json")


def picture() -> bytes:
    rgb = (np.random.default_rng(0).random((37, 53, 3)) * 255).astype("uint8")
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "PNG")
    return buf.getvalue()


def facts(utils):
    data = picture()
    out = {}
    for mode in ["rgb", "grayscale", "rgba"]:
        for size in [None, (20, 30), (37, 53)]:
            for interp in ["nearest", "bilinear", "lanczos"]:
                for keep in [False, True]:
                    img = utils.load_img(io.BytesIO(data), color_mode=mode, target_size=size,
                                         interpolation=interp, keep_aspect_ratio=keep)
                    a = utils.img_to_array(img)
                    out[f"{mode}-{size}-{interp}-{keep}"] = [list(a.shape), str(a.dtype),
                                                             float(a.sum())]
    x = np.random.default_rng(1).standard_normal((5, 6, 3))
    for ch in [1, 3, 4]:
        im = utils.array_to_img(x[:, :, :1].repeat(ch, 2) if ch != 3 else x)
        out[f"a2i-{ch}"] = [im.mode, np.asarray(im).tolist()]
    out["a2i-noscale"] = np.asarray(utils.array_to_img(np.full((2, 2, 1), 300.0),
                                                       scale=False)).tolist()
    return out


if __name__ == "__main__":
    with open(OUT, "w", encoding="utf-8") as f:
        json.dump(facts(keras.utils), f, sort_keys=True)
    print("wrote", os.path.normpath(OUT))
