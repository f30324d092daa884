"""The input of a model trained on image folders (``tinyann train --data DIR``).

Such a model sees every picture resized to ``height x width`` (aspect ratio not kept,
as Keras's ``image_dataset_from_directory``), in RGB or grey, scaled to [0, 1]. The
same :func:`to_pixels` prepares the training files and, later, the photos given to
``predict`` and ``serve``, so both see the pictures alike. Fashion-MNIST runs keep
their own pipeline (``preprocess``: grey, light-on-dark, cropped to the item).

An :class:`ImageSpec` is stored in the run's ``metrics.json`` under ``"input"``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

COLOR_MODES = ("rgb", "grayscale")
KIND = "image-folders"


@dataclass(frozen=True)
class ImageSpec:
    """What the model takes: ``image_size`` (height, width) and ``color_mode``."""

    image_size: tuple
    color_mode: str = "rgb"

    @property
    def channels(self) -> int:
        return 3 if self.color_mode == "rgb" else 1

    @property
    def input_shape(self) -> tuple:
        """The model's input shape without the batch: (height, width, channels)."""
        return (*self.image_size, self.channels)

    def describe(self) -> str:
        height, width = self.image_size
        return f"{height}x{width} {'RGB' if self.color_mode == 'rgb' else 'grey'}"

    def to_json(self) -> dict:
        return {"kind": KIND, "image_size": list(self.image_size),
                "color_mode": self.color_mode}

    @classmethod
    def from_metrics(cls, metrics) -> ImageSpec | None:
        """The spec stored in a run's metrics; None for a Fashion-MNIST run.

        Raises ValueError when ``"input"`` is there but malformed."""
        given = metrics.get("input") if isinstance(metrics, dict) else None
        if given is None:
            return None
        size = given.get("image_size") if isinstance(given, dict) else None
        mode = given.get("color_mode") if isinstance(given, dict) else None
        if (given.get("kind") if isinstance(given, dict) else None) != KIND or \
                not (isinstance(size, list) and len(size) == 2 and
                     all(isinstance(s, int) and s > 0 for s in size)) or \
                mode not in COLOR_MODES:
            raise ValueError(f"metrics.json's \"input\" is {given!r}; expected {{\"kind\": "
                             f"\"{KIND}\", \"image_size\": [height, width], \"color_mode\": "
                             f"one of {list(COLOR_MODES)}}}")
        return cls(tuple(size), mode)


def to_pixels(image, spec: ImageSpec) -> np.ndarray:
    """A Pillow image -> uint8 (height, width, 3) for RGB or (height, width) for grey.

    Transparent parts become white; any mode (palette, CMYK, 16-bit) goes through RGB.
    """
    from PIL import Image

    if "A" in image.getbands() or "transparency" in image.info:
        rgba = image.convert("RGBA")
        image = Image.alpha_composite(Image.new("RGBA", rgba.size, (255,) * 4), rgba)
    image = image.convert("RGB" if spec.color_mode == "rgb" else "L")
    height, width = spec.image_size
    # BILINEAR in Pillow widens its support when shrinking, so no aliasing
    resized = image.resize((width, height), Image.Resampling.BILINEAR)
    return np.asarray(resized, dtype=np.uint8)


@dataclass
class Prepared:
    """A photo ready for the model: ``image`` float32 (H, W, 3) or (H, W) in [0, 1];
    ``original_size`` (width, height) after EXIF rotation; ``mode`` Pillow's mode."""

    image: np.ndarray
    original_size: tuple
    mode: str


def prepare(source, spec: ImageSpec) -> Prepared:
    """A photo (bytes or path) -> :class:`Prepared` for a model of ``spec``.

    Raises ``preprocess.ImageError`` (or ``ImageTooLarge``) for unusable input, with
    the same limits as the Fashion-MNIST pipeline.
    """
    from tinyann.app import preprocess

    image = preprocess.open_image(source)
    mode = image.mode
    try:
        pixels = to_pixels(image, spec)
    except (ValueError, OSError) as error:
        raise preprocess.ImageError(f"cannot convert an image of mode {mode!r} to "
                                    f"{spec.color_mode}: {error}") from None
    size = image.info.get("original_size", image.size)
    return Prepared(pixels.astype(np.float32) / 255.0, tuple(size), mode)
