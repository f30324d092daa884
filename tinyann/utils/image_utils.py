"""One picture in and out, as Keras 3's ``keras.utils`` has it: ``load_img`` (a Pillow
image, converted and resized), ``img_to_array``, ``array_to_img`` and ``save_img``.

Tutorials predict on the user's own photo with these:
``img = keras.utils.load_img(path, target_size=(180, 180))``, then
``keras.utils.img_to_array(img)[None]`` into ``model.predict``.
"""

from __future__ import annotations

import io
import os
import pathlib
import warnings

import numpy as np

from tinyann import backend
from tinyann.utils.files import atomic_path

#: Keras's names for Pillow's resampling filters
INTERPOLATIONS = ("nearest", "bilinear", "bicubic", "hamming", "box", "lanczos")


def _pil():
    try:
        from PIL import Image
    except ImportError as error:  # Pillow is in tinyann's [app] extra
        raise ImportError("Could not import PIL.Image. The image utilities require Pillow: "
                          "pip install pillow") from error
    return Image


def _channels_last(data_format) -> bool:
    data_format = data_format or "channels_last"
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError("The `data_format` argument must be one of 'channels_first', "
                         f"'channels_last'. Received: data_format={data_format}")
    return data_format == "channels_last"


def load_img(path, color_mode="rgb", target_size=None, interpolation="nearest",
             keep_aspect_ratio=False):
    """The picture at ``path`` (a path or ``io.BytesIO``) as a Pillow image.

    Args:
        color_mode: ``'rgb'``, ``'rgba'`` or ``'grayscale'`` (16- and 32-bit grey kept).
        target_size: ``(height, width)`` to resize to, or None.
        interpolation: Pillow's filter by Keras's name (``INTERPOLATIONS``).
        keep_aspect_ratio: resize the largest centred window with the target's aspect
            ratio, so the picture is not distorted.
    """
    Image = _pil()
    if isinstance(path, io.BytesIO):
        image = Image.open(path)
    elif isinstance(path, (pathlib.Path, bytes, str)):
        with open(path, "rb") as f:  # read whole: the file is closed at once
            image = Image.open(io.BytesIO(f.read()))
    else:
        raise TypeError(f"path should be path-like or io.BytesIO, not {type(path)}")
    wanted = {"grayscale": ("L", ("L", "I;16", "I")), "rgba": ("RGBA", ("RGBA",)),
              "rgb": ("RGB", ("RGB",))}.get(color_mode)
    if wanted is None:
        raise ValueError('color_mode must be "grayscale", "rgb", or "rgba"')
    if image.mode not in wanted[1]:
        image = image.convert(wanted[0])
    if target_size is None:
        return image
    size = (int(target_size[1]), int(target_size[0]))  # Pillow's (width, height)
    if image.size == size:
        return image
    if interpolation not in INTERPOLATIONS:
        raise ValueError(f"Invalid interpolation method {interpolation} specified. "
                         f"Supported methods are {', '.join(INTERPOLATIONS)}")
    resample = getattr(Image.Resampling, interpolation.upper())
    if not keep_aspect_ratio:
        return image.resize(size, resample)
    width, height = image.size
    # the largest window of the target's aspect ratio, centred (integer sizes, as Keras)
    crop_w = min(width, (height * size[0]) // size[1])
    crop_h = min(height, (width * size[1]) // size[0])
    left, top = (width - crop_w) // 2, (height - crop_h) // 2
    return image.resize(size, resample, box=(left, top, left + crop_w, top + crop_h))


def img_to_array(img, data_format=None, dtype=None) -> np.ndarray:
    """A Pillow image (or array) as a float array (height, width, channels); a grey
    picture gets a channel axis of 1."""
    last = _channels_last(data_format)
    x = np.asarray(img, dtype=dtype or backend.floatx())
    if x.ndim == 3:
        return x if last else x.transpose(2, 0, 1)
    if x.ndim == 2:
        return x[:, :, None] if last else x[None]
    raise ValueError(f"Unsupported image shape: {x.shape}")


def array_to_img(x, data_format=None, scale=True, dtype=None):
    """An array (height, width, 1 | 3 | 4) as a Pillow image; ``scale`` stretches the
    values to 0-255 first (minimum to 0, maximum to 255)."""
    Image = _pil()
    x = np.array(x, dtype=dtype or backend.floatx())
    if x.ndim != 3:
        raise ValueError("Expected image array to have rank 3 (single image). "
                         f"Got array with shape: {x.shape}")
    if not _channels_last(data_format):
        x = x.transpose(1, 2, 0)
    if scale:
        x -= np.min(x)
        top = np.max(x)
        if top != 0:
            x /= top
        x *= 255
    channels = x.shape[2]
    if channels in (3, 4):
        return Image.fromarray(x.astype("uint8"), "RGB" if channels == 3 else "RGBA")
    if channels == 1:
        if np.max(x) > 255:  # beyond 8 bits: Pillow's 32-bit grey
            return Image.fromarray(x[:, :, 0].astype("int32"), "I")
        return Image.fromarray(x[:, :, 0].astype("uint8"), "L")
    raise ValueError(f"Unsupported channel number: {channels}")


def save_img(path, x, data_format=None, file_format=None, scale=True, **kwargs) -> None:
    """Writes the array ``x`` as a picture (the format from the file's extension),
    atomically: a failed write leaves any earlier file as it was."""
    if file_format is None and isinstance(path, (str, pathlib.Path)):
        file_format = pathlib.Path(path).suffix[1:].lower()
    if file_format and file_format.lower() == "jpg":
        file_format = "jpeg"
    image = array_to_img(x, data_format=data_format, scale=scale)
    if image.mode == "RGBA" and file_format == "jpeg":
        warnings.warn("The JPEG format does not support RGBA images, converting to RGB.",
                      stacklevel=2)
        image = image.convert("RGB")
    if not isinstance(path, (str, pathlib.Path)):  # a file object: Pillow writes it
        image.save(path, format=file_format, **kwargs)
        return
    with atomic_path(os.fspath(path)) as tmp:
        image.save(tmp, format=file_format or None, **kwargs)
