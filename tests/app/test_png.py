"""The plain-PNG decoder (tinyann/app/png.py): Pillow's pixels exactly, for every row
filter; anything else, and damaged files, left to Pillow (None)."""

from __future__ import annotations

import io
import os
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from tinyann.app import png, preprocess


@pytest.fixture
def fast_path():
    """libdeflate and numba present (``make test`` installs libdeflate0); under CI their
    absence is an error, not a skip."""
    if not png.available():
        message = "needs libdeflate (Debian's libdeflate0; `make libs`) and numba"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


needs_fast_path = pytest.mark.usefixtures("fast_path")


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _filtered(pixels: np.ndarray, kinds) -> bytes:
    """The rows of ``pixels`` (H, W[, 3]) uint8 with PNG filter ``kinds[y]`` applied."""
    height = pixels.shape[0]
    bpp = 3 if pixels.ndim == 3 else 1
    rows = pixels.reshape(height, -1).astype(np.int32)
    out = []
    for y, kind in enumerate(kinds):
        row = rows[y]
        up = rows[y - 1] if y else np.zeros_like(row)
        left = np.concatenate([np.zeros(bpp, np.int32), row[:-bpp]])
        upleft = np.concatenate([np.zeros(bpp, np.int32), up[:-bpp]])
        if kind == 0:
            predictor = np.zeros_like(row)
        elif kind == 1:
            predictor = left
        elif kind == 2:
            predictor = up
        elif kind == 3:
            predictor = (left + up) // 2
        else:
            p = left + up - upleft
            pa, pb, pc = np.abs(p - left), np.abs(p - up), np.abs(p - upleft)
            predictor = np.where((pa <= pb) & (pa <= pc), left, np.where(pb <= pc, up, upleft))
        out.append(bytes([kind]) + ((row - predictor) % 256).astype(np.uint8).tobytes())
    return b"".join(out)


def make_png(pixels, kinds=None, extra=b"", header=None, idat=None) -> bytes:
    """A PNG of ``pixels`` with chosen row filters (default: 0-4 in turn), optionally an
    extra chunk before the data, another header or other compressed data."""
    height, width = pixels.shape[:2]
    kinds = [y % 5 for y in range(height)] if kinds is None else kinds
    colour = 2 if pixels.ndim == 3 else 0
    header = header or struct.pack(">IIBBBBB", width, height, 8, colour, 0, 0, 0)
    data = zlib.compress(_filtered(pixels, kinds)) if idat is None else idat
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + extra
            + _chunk(b"IDAT", data[:len(data) // 2]) + _chunk(b"IDAT", data[len(data) // 2:])
            + _chunk(b"IEND", b""))


def pillow(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)))


@needs_fast_path
@pytest.mark.parametrize("shape", [(1, 1), (5, 3), (64, 64), (131, 97), (240, 300),
                                   (1, 1, 3), (5, 3, 3), (131, 97, 3), (240, 300, 3)])
def test_every_filter_gives_pillows_pixels(shape):
    rng = np.random.default_rng(sum(shape))
    pixels = rng.integers(0, 256, shape, dtype=np.uint8)
    smooth = np.cumsum(rng.integers(0, 3, shape), axis=0).astype(np.uint8)  # Paeth's ties
    for picture in (pixels, smooth):
        for kinds in (None, [4] * shape[0], [3] * shape[0], [1, 2] * shape[0]):
            data = make_png(picture, kinds if kinds is None else kinds[:shape[0]])
            decoded = png.decode(data)
            np.testing.assert_array_equal(decoded, pillow(data))
            np.testing.assert_array_equal(decoded, picture)


@needs_fast_path
@pytest.mark.parametrize("mode", ["L", "RGB"])
def test_pillows_own_pngs(mode):
    photo = np.clip(np.random.default_rng(1).normal(128, 60, (120, 150, 3)), 0, 255)
    buffer = io.BytesIO()
    Image.fromarray(photo.astype(np.uint8)).convert(mode).save(buffer, format="PNG")
    data = buffer.getvalue()
    np.testing.assert_array_equal(png.decode(data), pillow(data))


def _others():
    pixels = np.random.default_rng(2).integers(0, 256, (16, 16, 3), dtype=np.uint8)
    good = make_png(pixels)
    encoded = {}
    pictures = {mode: Image.fromarray(pixels).convert(mode) for mode in ("P", "RGBA", "LA", "1")}
    pictures["I;16"] = Image.fromarray(pixels[..., 0].astype(np.uint16) * 257)
    for mode, picture in pictures.items():
        buffer = io.BytesIO()
        picture.save(buffer, format="PNG")
        encoded[mode] = buffer.getvalue()
    interlaced = struct.pack(">IIBBBBB", 16, 16, 8, 2, 0, 0, 1)
    broken = bytearray(good)
    broken[good.index(b"IDAT") + 10] ^= 0xFF
    return {
        **encoded,
        "transparency": make_png(pixels, extra=_chunk(b"tRNS", b"\0\0\0\0\0\0")),
        "exif": make_png(pixels, extra=_chunk(b"eXIf", b"MM\0*\0\0\0\x08\0\0")),
        "text": make_png(pixels, extra=_chunk(b"tEXt", b"Raw profile type exif\0x")),
        "interlaced": make_png(pixels, header=interlaced),
        "bad crc": bytes(broken),
        "short data": make_png(pixels, idat=zlib.compress(_filtered(pixels[:-1], [0] * 15))),
        "long data": make_png(pixels, idat=zlib.compress(_filtered(pixels, [0] * 16) + b"x")),
        "bad filter": make_png(pixels, idat=zlib.compress(b"\7" + bytes(48)
                                                          + (b"\0" + bytes(48)) * 15)),
        "truncated": good[:len(good) // 2],
        "not a png": b"GIF89a",
    }


@pytest.mark.parametrize("name", list(_others()))
def test_other_and_damaged_files_are_left_to_pillow(name):
    assert png.decode(_others()[name]) is None


@needs_fast_path
@pytest.mark.parametrize("size", [(300, 240), (640, 480), (97, 131)])
def test_preprocess_is_the_same_with_and_without_it(monkeypatch, images, size):
    photo = Image.new("RGB", size, (236, 234, 228))
    photo.paste((30, 40, 70), (size[0] // 6, size[1] // 8), images.draw_shape(3, min(size) // 2))
    noisy = np.asarray(photo) + np.random.default_rng(0).integers(0, 9, (size[1], size[0], 3))
    for picture in (Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8)),
                    photo.convert("L")):
        buffer = io.BytesIO()
        picture.save(buffer, format="PNG")
        fast = preprocess.preprocess(buffer.getvalue())
        with monkeypatch.context() as patched:
            patched.setattr(png, "decode", lambda data: None)
            patched.setattr(preprocess, "plain_png", lambda *args: None)
            slow = preprocess.preprocess(buffer.getvalue())
        np.testing.assert_array_equal(fast.image, slow.image)
        assert (fast.mode, fast.original_size, fast.box, fast.inverted) == \
            (slow.mode, slow.original_size, slow.box, slow.inverted)


def test_without_libdeflate_pillow_decodes(monkeypatch):
    monkeypatch.setattr(png, "_library", False)
    pixels = np.random.default_rng(3).integers(0, 256, (70, 80, 3), dtype=np.uint8)
    assert png.decode(make_png(pixels)) is None
    assert preprocess.open_image(make_png(pixels)).size == (80, 70)


@needs_fast_path
def test_a_damaged_big_png_fails_as_with_pillow(monkeypatch):
    pixels = np.random.default_rng(4).integers(0, 256, (100, 120, 3), dtype=np.uint8)
    data = bytearray(make_png(pixels))
    data[data.index(b"IDAT") + 40] ^= 0xFF
    with pytest.raises(preprocess.ImageError) as fast:
        preprocess.preprocess(bytes(data))
    monkeypatch.setattr(png, "decode", lambda data: None)
    monkeypatch.setattr(preprocess, "plain_png", lambda *args: None)
    with pytest.raises(preprocess.ImageError) as slow:
        preprocess.preprocess(bytes(data))
    assert str(fast.value) == str(slow.value)
