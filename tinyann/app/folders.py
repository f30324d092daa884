"""A user's folder of images, a subfolder per class, as arrays and a held-out split.

    DIR/circle/a.png, DIR/circle/b.jpg, DIR/square/c.png ...  ->  classes ['circle', 'square']

Files are found as ``keras.utils.image_dataset_from_directory`` finds them (sorted
class folders, JPEG/PNG/BMP/GIF, nested folders included) and read with
``resize.to_pixels``, the pipeline ``predict`` and ``serve`` use later. Every
problem raises ``UsageError`` naming what was expected and what was found.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from tinyann.app import UsageError
from tinyann.app.resize import ImageSpec, to_pixels
from tinyann.utils.image_dataset import ALLOWED_FORMATS, index_directory

EXPECTED = ("a folder with one subfolder of images per class (at least 2 classes; "
            f"{', '.join(ALLOWED_FORMATS)})")


@dataclass
class ImageFolder:
    """``images`` uint8 (N, H, W, 3) or (N, H, W); ``labels`` int64 (N,) indexing
    ``class_names`` (the subfolders, sorted); ``files`` (N,) paths relative to the folder."""

    images: np.ndarray
    labels: np.ndarray
    class_names: list
    files: list


def find_images(directory) -> tuple[list, np.ndarray, list]:
    """(paths, labels, class names) of a folder per class; checks there are >= 2 classes,
    each with at least one image."""
    directory = os.fspath(directory)
    if not os.path.exists(directory):
        raise UsageError(f"--data {directory}: no such folder; expected {EXPECTED}")
    if not os.path.isdir(directory):
        raise UsageError(f"--data {directory} is a file; expected {EXPECTED}")
    paths, labels, names = index_directory(directory, shuffle=False)
    labels = np.asarray(labels, dtype=np.int64)
    if len(names) < 2:
        found = f"1 class folder ({names[0]!r})" if names else "no class folders"
        raise UsageError(f"--data {directory} has {found}; expected {EXPECTED}")
    counts = np.bincount(labels, minlength=len(names))
    empty = [names[i] for i in np.flatnonzero(counts == 0)]
    if empty:
        raise UsageError(f"--data {directory}: the class folder(s) {', '.join(empty)} hold no "
                         f"images; expected images ({', '.join(ALLOWED_FORMATS)}) in every "
                         "class folder")
    return paths, labels, names


def read_image(path, spec: ImageSpec) -> np.ndarray:
    """One file -> uint8 pixels of ``spec``'s size and colour (upright, first frame)."""
    from PIL import Image, ImageOps

    try:
        with Image.open(path) as image:
            image.seek(0)  # a GIF's first frame
            image.load()
            return to_pixels(ImageOps.exif_transpose(image), spec)
    except Exception as error:  # Pillow raises UnidentifiedImageError, OSError, SyntaxError...
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise UsageError(f"{path} is not an image Pillow can read ({reason}); expected "
                         f"an image file ({', '.join(ALLOWED_FORMATS)})") from None


def read_folder(directory, spec: ImageSpec) -> ImageFolder:
    """Every image of ``directory`` resized to ``spec`` (see :func:`find_images`)."""
    paths, labels, names = find_images(directory)
    shape = spec.image_size + ((3,) if spec.color_mode == "rgb" else ())
    images = np.empty((len(paths),) + shape, dtype=np.uint8)
    for i, path in enumerate(paths):
        images[i] = read_image(path, spec)
    files = [os.path.relpath(p, directory) for p in paths]
    return ImageFolder(images, labels, list(names), files)


def split(labels, validation_split, test_split, seed=42, names=None) -> tuple:
    """Index arrays (train, validation, test), stratified: each class gives
    ``round(n * split)`` images (at least 1) to validation and to test.

    Raises UsageError when a class has too few images to give one to each part.
    """
    rng = np.random.default_rng(seed)
    labels = np.asarray(labels)
    parts = ([], [], [])
    for c in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == c))
        n_val = max(1, round(len(members) * validation_split))
        n_test = max(1, round(len(members) * test_split))
        if len(members) - n_val - n_test < 1:
            name = repr(names[int(c)]) if names is not None else int(c)
            raise UsageError(f"class {name} has {len(members)} image(s); expected at least "
                             f"{n_val + n_test + 1} (for training, validation and test)")
        parts[2].append(members[:n_test])
        parts[1].append(members[n_test:n_test + n_val])
        parts[0].append(members[n_test + n_val:])
    return tuple(rng.permutation(np.concatenate(p)) for p in parts)
