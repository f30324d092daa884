"""Pictures of circles, squares and triangles in a folder per class (Pillow), for
``tinyann train --data DIR`` tests: varied sizes, colours, positions and backgrounds."""

from __future__ import annotations

import os

import numpy as np
from PIL import Image, ImageDraw

CLASSES = ("circle", "square", "triangle")


def draw(kind: str, rng, size=None) -> Image.Image:
    """One RGB picture of a ``kind`` shape on a plain light background."""
    width, height = size or (int(rng.integers(40, 90)), int(rng.integers(40, 90)))
    background = tuple(int(v) for v in rng.integers(170, 256, 3))
    ink = tuple(int(v) for v in rng.integers(0, 120, 3))
    image = Image.new("RGB", (width, height), background)
    d = ImageDraw.Draw(image)
    side = int(min(width, height) * rng.uniform(0.55, 0.85))
    left = int(rng.integers(0, width - side + 1))
    top = int(rng.integers(0, height - side + 1))
    box = [left, top, left + side - 1, top + side - 1]
    if kind == "circle":
        d.ellipse(box, fill=ink)
    elif kind == "square":
        d.rectangle(box, fill=ink)
    else:
        d.polygon([(left + side // 2, top), (left + side - 1, top + side - 1),
                   (left, top + side - 1)], fill=ink)
    return image


def write_folder(root, per_class=60, seed=0, classes=CLASSES) -> str:
    """``root/<class>/<i>.png|.jpg``: ``per_class`` pictures of each class."""
    rng = np.random.default_rng(seed)
    for kind in classes:
        os.makedirs(os.path.join(root, kind), exist_ok=True)
        for i in range(per_class):
            suffix = ".jpg" if i % 3 == 0 else ".png"
            draw(kind, rng).save(os.path.join(root, kind, f"{kind}-{i}{suffix}"))
    return str(root)
