"""Real photos -> the 28x28 images the model was trained on.

Fashion-MNIST was made from product photos by Zalando's pipeline: trim the edges
that have the background colour, resize the longest edge to 28 pixels, centre the
item on a 28x28 canvas, negate (light item on a black background), 8-bit grey.
:func:`preprocess` does the same to any photo, one small step per function so each
is tested on its own:

    open_image   bytes or path -> PIL image (size limits, EXIF rotation, decoding)
    to_grey      any mode (RGB, CMYK, palette, alpha, 16-bit) -> float (H, W) in [0, 1]
    to_light_on_dark   invert a light background; background -> 0, item -> up to 1
    crop_to_item       the bounding box of what stands out from the background
    fit_28             longest edge to 28 pixels, aspect ratio kept, centred
    plain_png          all of it for a plain PNG's bytes, in compiled loops
                       (tinyann/app/plain.py): the same numbers, a quarter of the time

Every problem with the input raises :class:`ImageError` (a ``ValueError``) whose
message says what was wrong; :class:`ImageTooLarge` for inputs over the limits.
"""

from __future__ import annotations

import io
import os
import struct
import warnings
import zlib
from dataclasses import dataclass

import numpy as np

from tinyann.app import plain, png

SIZE = 28
MAX_BYTES = 5 * 1024 * 1024        # uploads and files above this are refused (HTTP 413)
MAX_PIXELS = 40_000_000            # a 40-megapixel photo; more is a decompression bomb
MIN_SIDE = 8                       # a smaller picture holds no recognisable item
MAX_ASPECT = 10.0                  # a 10000x10 strip cannot be a photo of one item
ITEM_THRESHOLD = 0.25              # how far from the background a pixel counts as item
#: photos are first shrunk by a whole factor to about this many pixels on the longest edge:
#: the item's box is then still found to a quarter of an output pixel, and the rest of
#: the work is on ~16x fewer pixels than a 500-pixel photo has
WORK_SIDE = 4 * SIZE
#: modes whose channels are plain intensities, which Pillow's ``reduce`` may average
#: (alpha and palette images keep their full size, so transparency is composited exactly)
_REDUCIBLE = ("L", "RGB", "CMYK", "I", "F")
_NO_ITEM = ("found no item in the image: it is a single flat colour (expected an item on "
            "a plain background)")


class ImageError(ValueError):
    """The input is not an image we can classify; the message says why."""


class ImageTooLarge(ImageError):
    """The input is larger than :data:`MAX_BYTES`."""


@dataclass
class Preprocessed:
    """The result of :func:`preprocess`.

    Attributes:
        image: float32 array (28, 28) in [0, 1], light item on a dark background.
        original_size: (width, height) after EXIF rotation.
        mode: the Pillow mode of the file ('RGB', 'CMYK', 'I;16', ...).
        inverted: True when the photo had a light background and was negated.
        box: (top, left, bottom, right) of the item in the upright photo's pixels, to
            within the factor it was shrunk by (a JPEG is decoded at up to 1/8 scale).
    """

    image: np.ndarray
    original_size: tuple
    mode: str
    inverted: bool
    box: tuple


def _pil():
    try:
        from PIL import Image, ImageOps
    except ImportError as error:  # pillow is in the `app` extra
        raise ImportError("Pillow is needed to read photos: pip install 'tinyann[app]'") \
            from error
    return Image, ImageOps


def open_image(source, max_bytes: int = MAX_BYTES, draft_side: int = 512,
               grey: bool = False):
    """Opens, checks and decodes an image; applies its EXIF rotation.

    Args:
        source: the file's bytes, or a path.
        max_bytes: larger inputs raise :class:`ImageTooLarge` before decoding.
        draft_side: a JPEG is decoded at 1/2, 1/4 or 1/8 scale inside libjpeg when both
            its edges stay at least this many pixels long.
        grey: a colour JPEG is decoded to grey ('L': its luma channel, skipping the
            chroma and the colour conversion).

    Returns:
        a loaded ``PIL.Image.Image``, upright; ``info["original_size"]`` is the file's
        (width, height) upright and ``info["original_mode"]`` its mode.
    """
    Image, ImageOps = _pil()
    if isinstance(source, (bytes, bytearray, memoryview)):
        data, name = bytes(source), "the upload"
    else:
        name = os.fspath(source)
        if os.path.isdir(name):
            raise ImageError(f"{name} is a directory; expected an image file")
        size = os.path.getsize(name)  # FileNotFoundError names the file
        if size > max_bytes:
            raise ImageTooLarge(f"{name} is {size} bytes; images of at most {max_bytes} "
                                "bytes are accepted")
        with open(name, "rb") as handle:
            data = handle.read()
    if not data:
        raise ImageError(f"{name} is empty (0 bytes); expected an image file")
    if len(data) > max_bytes:
        raise ImageTooLarge(f"{name} is {len(data)} bytes; images of at most {max_bytes} "
                            "bytes are accepted")
    with warnings.catch_warnings():
        # Pillow only warns between 89 and 179 megapixels; make that an error too
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data))
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
            raise ImageError(f"{name} is a decompression bomb: {error}") from None
        except Exception:  # Pillow raises UnidentifiedImageError, SyntaxError, ...
            raise ImageError(f"{name} is not an image Pillow can read (expected PNG, JPEG, "
                             "GIF, BMP, WebP or TIFF)") from None
    width, height = image.size
    if width * height > MAX_PIXELS:
        raise ImageError(f"{name} is {width}x{height} pixels; expected at most "
                         f"{MAX_PIXELS // 1_000_000} megapixels (a decompression bomb?)")
    if min(width, height) < MIN_SIDE:
        raise ImageError(f"{name} is {width}x{height} pixels; expected at least "
                         f"{MIN_SIDE} pixels on each side")
    if max(width, height) / min(width, height) > MAX_ASPECT:
        raise ImageError(f"{name} is {width}x{height} pixels; expected an aspect ratio of "
                         f"at most {MAX_ASPECT:g}:1 (a photo of one item)")
    mode = image.mode
    # Pillow's pixels, several times faster, for plain PNGs (tinyann/app/png.py); None
    # for the others and for damaged files, which Pillow decodes or reports below. Under
    # 64x64 pixels Pillow is as fast
    pixels = (png.decode(data) if image.format == "PNG" and width * height >= 4096
              else None)
    try:
        if image.format == "JPEG":
            # decode a big phone photo at 1/2, 1/4 or 1/8 scale inside libjpeg: several
            # times faster, and 28x28 needs far fewer pixels anyway
            image.draft("L" if grey else None, (draft_side, draft_side))
        if pixels is not None:
            image = Image.fromarray(pixels)
        else:
            image.load()
        image.info["original_mode"] = mode
        loaded = image.size
        # in place: a photo without an EXIF rotation is not copied
        ImageOps.exif_transpose(image, in_place=True)
    except Exception as error:  # truncated or corrupt data: OSError, ValueError, ...
        raise ImageError(f"{name} could not be decoded: {error}") from None
    # the file's own size, upright (draft() may have decoded it smaller)
    turned = image.size != loaded
    image.info["original_size"] = (height, width) if turned else (width, height)
    return image


def to_grey(image) -> np.ndarray:
    """Any Pillow image -> float32 (H, W) grey in [0, 1]; transparency becomes white.

    16-bit and 32-bit images are scaled from their own range rather than clipped to
    8 bits; CMYK, palette and YCbCr go through RGB.
    """
    Image, _ = _pil()
    mode = image.mode
    if mode.startswith("I;16") or mode == "I":
        values = np.asarray(image, dtype=np.float64)
        top = 65535.0 if mode.startswith("I;16") or values.max(initial=0) > 255 else 255.0
        return np.clip(values / top, 0.0, 1.0).astype(np.float32)
    if mode == "F":
        values = np.nan_to_num(np.asarray(image, dtype=np.float64))
        top = max(1.0, float(values.max(initial=0)))
        return np.clip(values / top, 0.0, 1.0).astype(np.float32)
    has_alpha = "A" in image.getbands() or "transparency" in image.info
    try:
        if has_alpha:
            # transparent parts become the white of a product photo's background
            rgba = image.convert("RGBA")
            white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
            image = Image.alpha_composite(white, rgba)
        if image.mode not in ("L", "RGB"):
            image = image.convert("RGB")
        grey = image.convert("L")
    except (ValueError, OSError) as error:
        raise ImageError(f"cannot convert an image of mode {mode!r} to grey: {error}") \
            from None
    return np.asarray(grey, dtype=np.float32) / 255.0


def _border(grey: np.ndarray) -> np.ndarray:
    """The pixels of a frame about 5% wide around the picture."""
    h, w = grey.shape
    k = max(1, min(h, w) // 20)
    return np.concatenate([grey[:k].ravel(), grey[-k:].ravel(),
                           grey[:, :k].ravel(), grey[:, -k:].ravel()])


def to_light_on_dark(grey: np.ndarray) -> tuple[np.ndarray, bool]:
    """Makes the background 0 and the item bright, as in Fashion-MNIST.

    The background is the median of the picture's border. A light background (a
    product photo, a drawing on white) is negated; the background level is then
    subtracted and the result stretched so that the brightest pixel is 1.

    Returns:
        (array (H, W) in [0, 1], whether the picture was negated).
    """
    inverted = float(np.median(_border(grey))) > 0.5
    out = 1.0 - grey if inverted else grey.astype(np.float32, copy=True)
    out = np.clip(out - float(np.median(_border(out))), 0.0, 1.0)
    top = float(out.max(initial=0.0))
    if top > 0:
        out /= top
    return out.astype(np.float32), inverted


def item_box(image: np.ndarray, threshold: float = ITEM_THRESHOLD) -> tuple:
    """(top, left, bottom, right) of the pixels brighter than ``threshold``, bottom/right
    exclusive. Raises ImageError when nothing stands out from the background."""
    mask = image > threshold
    if not mask.any():
        raise ImageError(_NO_ITEM)
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    return int(rows[0]), int(cols[0]), int(rows[-1]) + 1, int(cols[-1]) + 1


def crop_to_item(image: np.ndarray, threshold: float = ITEM_THRESHOLD) -> np.ndarray:
    """The part of ``image`` inside :func:`item_box`."""
    top, left, bottom, right = item_box(image, threshold)
    return image[top:bottom, left:right]


def fit_28(item: np.ndarray, size: int = SIZE) -> np.ndarray:
    """Resizes so the longest edge is ``size`` pixels (aspect ratio kept) and centres
    the result on a black ``size`` x ``size`` canvas; the brightest pixel stays 1."""
    Image, _ = _pil()
    h, w = item.shape
    scale = size / max(h, w)
    new_w = min(size, max(1, round(w * scale)))
    new_h = min(size, max(1, round(h * scale)))
    # BOX averages when shrinking (like Zalando's subsampling, without aliasing);
    # BILINEAR when a small drawing is enlarged
    method = Image.Resampling.BOX if scale < 1 else Image.Resampling.BILINEAR
    resized = Image.fromarray(item.astype(np.float32)).resize((new_w, new_h), method)
    small = np.clip(np.asarray(resized, dtype=np.float32), 0.0, 1.0)
    canvas = np.zeros((size, size), dtype=np.float32)
    top, left = (size - new_h) // 2, (size - new_w) // 2
    canvas[top:top + new_h, left:left + new_w] = small
    peak = float(canvas.max(initial=0.0))
    if peak > 0:
        canvas /= peak
    return canvas


def shrink(image, side: int = WORK_SIDE):
    """Shrinks ``image`` by the largest whole factor that keeps its longest edge at
    least ``side`` pixels (box averaging in Pillow); returns (image, factor)."""
    factor = max(image.size) // side
    if factor < 2 or image.mode not in _REDUCIBLE:
        return image, 1
    return image.reduce(factor), factor


def _plain_grey(image) -> tuple[np.ndarray, int]:
    """An 'L' or 'RGB' image without transparency -> uint8 grey (H, W), shrunk as
    :func:`shrink` does, and the shrink factor."""
    if image.mode == "RGB":
        # grey first: one channel to shrink instead of three (the same luma weights as
        # to_grey; only the rounding of the averages differs, by at most one level)
        image = image.convert("L")
    small, factor = shrink(image)
    return np.asarray(small), factor


def _plain_item(grey: np.ndarray) -> tuple[np.ndarray, bool, tuple]:
    """:func:`to_light_on_dark` and :func:`crop_to_item` on uint8 grey, working in grey
    levels so that only the item's box is converted to float: (item float32 in [0, 1],
    inverted, box)."""
    h, w = grey.shape
    k = max(1, min(h, w) // 20)
    border = np.concatenate((grey[:k].ravel(), grey[-k:].ravel(),
                             grey[:, :k].ravel(), grey[:, -k:].ravel()))
    background = float(np.median(border))
    inverted = background > 127.5  # to_light_on_dark's median > 0.5, in grey levels
    if inverted:
        grey = 255 - grey  # the median of 255 - v is 255 - the median of v
        background = 255.0 - background
    top = float(grey.max()) - background
    if top <= 0:
        raise ImageError(_NO_ITEM)
    mask = grey > background + ITEM_THRESHOLD * top
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    box = (int(rows[0]), int(cols[0]), int(rows[-1]) + 1, int(cols[-1]) + 1)
    item = grey[box[0]:box[2], box[1]:box[3]].astype(np.float32)
    item -= background
    np.maximum(item, 0.0, out=item)
    item /= top
    return item, inverted, box


def plain_png(data, max_bytes: int = MAX_BYTES) -> Preprocessed | None:
    """:func:`preprocess` of a plain PNG's bytes (tinyann/app/png.py) in compiled loops
    (tinyann/app/plain.py), without Pillow: the same result, in 0.09 ms instead of 0.36
    for the load test's photo. None for anything else (other files, sizes that
    :func:`open_image` refuses, no libdeflate or numba): :func:`preprocess` then takes
    its general steps, which also say what is wrong."""
    if not isinstance(data, bytes) or len(data) > max_bytes or not plain.available():
        return None
    found = png.decode_rows(data, max_pixels=MAX_PIXELS)
    if found is None:
        return None
    rows, channels = found
    height, width = rows.shape[0], rows.shape[1] // channels
    if min(width, height) < MIN_SIDE or max(width, height) / min(width, height) > MAX_ASPECT:
        return None
    factor = max(width, height) // WORK_SIDE  # as shrink() does
    factor = factor if factor >= 2 else 1
    made = plain.item_28(plain.grey_shrink(rows, channels, factor), ITEM_THRESHOLD)
    if made is None:
        raise ImageError(_NO_ITEM)
    image, inverted, box = made
    return Preprocessed(image=image, original_size=(width, height),
                        mode="RGB" if channels == 3 else "L", inverted=inverted,
                        box=tuple(v * factor for v in box))


def preprocess(source, max_bytes: int = MAX_BYTES) -> Preprocessed:
    """A photo (bytes or path) -> :class:`Preprocessed` with the 28x28 model input."""
    fast = plain_png(source, max_bytes)
    if fast is not None:
        return fast
    image = open_image(source, max_bytes=max_bytes, draft_side=WORK_SIDE, grey=True)
    mode = image.info.get("original_mode", image.mode)
    size = image.info.get("original_size", image.size)
    # a JPEG decoded at 1/2 to 1/8 scale: the box is given in the photo's own pixels
    scale = max(1, round(max(size) / max(image.size)))
    if image.mode in ("L", "RGB") and "transparency" not in image.info:
        # most photos and drawings: grey levels in uint8 until the item is cut out
        grey, factor = _plain_grey(image)
        item, inverted, box = _plain_item(grey)
    else:  # alpha, palettes, CMYK, 16-bit, float: the general steps
        small, factor = shrink(image)
        light, inverted = to_light_on_dark(to_grey(small))
        box = item_box(light)
        item = light[box[0]:box[2], box[1]:box[3]]
    return Preprocessed(image=fit_28(item), original_size=size, mode=mode,
                        inverted=inverted,
                        box=tuple(int(v) * factor * scale for v in box))


def to_png(image: np.ndarray, scale: int = 1) -> bytes:
    """A float image in [0, 1] (or uint8) -> PNG bytes, grey (or RGB for (H, W, 3)),
    enlarged ``scale`` times with nearest-neighbour so the pixels stay visible."""
    array = np.asarray(image)
    if array.dtype != np.uint8:
        array = np.clip(np.rint(array * 255.0), 0, 255).astype(np.uint8)
    if scale > 1:
        array = array.repeat(scale, axis=0).repeat(scale, axis=1)
    if array.ndim == 2 or (array.ndim == 3 and array.shape[2] == 3):
        return _png(array)
    Image, _ = _pil()  # other channel counts: let Pillow say what it makes of them
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    return buffer.getvalue()


def _png(array: np.ndarray) -> bytes:
    """uint8 (H, W) or (H, W, 3) -> an 8-bit grey or RGB PNG, each row unfiltered.

    Written here rather than by Pillow: the server sends one per answer, and for a
    28x28 image Pillow's machinery cost more than the compression. zlib's level 1: half
    the time of level 6 for 30 more bytes on a 28x28 image."""
    height, width = array.shape[:2]
    rows = np.zeros((height, 1 + array[0].size), dtype=np.uint8)  # a 0 byte: no filter
    rows[:, 1:] = array.reshape(height, -1)
    header = struct.pack(">IIBBBBB", width, height, 8, 0 if array.ndim == 2 else 2, 0, 0, 0)
    return b"".join((b"\x89PNG\r\n\x1a\n", _chunk(b"IHDR", header),
                     _chunk(b"IDAT", zlib.compress(rows.tobytes(), 1)), _chunk(b"IEND", b"")))


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
