"""A faster decoder for the plainest PNGs: 8-bit grey or RGB, not interlaced, no
transparency, palette, EXIF or animation. Everything else is left to Pillow (None).

Pillow inflates a PNG with the zlib it was linked against; on this project's machines
that is the system's zlib 1.2.13, whose inflate took 435 us of a 300x240 photo's 450 us
decode. libdeflate (a system library, loaded with ctypes when present) inflates the
same stream in 40 us, and the rows are then unfiltered by a small compiled loop (numba,
when installed). Both are optional: without either, :func:`decode` returns None, and
the file is decoded by Pillow as before.

The pixels are exactly Pillow's (tests/app/test_png.py decodes every filter type both
ways). Damaged files are left to Pillow too (a chunk's CRC, the inflate's own checks, a
wrong length), so that the errors are Pillow's as before.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import struct
import threading

import numpy as np

from tinyann.kernels import jit

#: chunks that change neither the pixels Pillow gives nor their orientation; any other
#: (tRNS, PLTE, eXIf, acTL, text, which may hold an EXIF profile, an unknown one...)
#: sends the file to Pillow
_HARMLESS = {b"IHDR", b"IDAT", b"IEND", b"gAMA", b"cHRM", b"sRGB", b"iCCP", b"pHYs",
             b"tIME", b"bKGD", b"sBIT"}
_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_lock = threading.Lock()
_library = None


def _libdeflate():
    """libdeflate's functions, or False when the library is not on this machine."""
    global _library
    if _library is None:
        with _lock:
            if _library is None:
                _library = _load_libdeflate()
    return _library


def _load_libdeflate():
    name = ctypes.util.find_library("deflate")
    if name is None:
        return False
    try:
        lib = ctypes.CDLL(name)
        lib.libdeflate_alloc_decompressor.restype = ctypes.c_void_p
        lib.libdeflate_alloc_decompressor.argtypes = []
        lib.libdeflate_free_decompressor.argtypes = [ctypes.c_void_p]
        lib.libdeflate_zlib_decompress.restype = ctypes.c_int
        lib.libdeflate_zlib_decompress.argtypes = [
            ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t, ctypes.c_void_p,
            ctypes.c_size_t, ctypes.c_void_p]
        lib.libdeflate_crc32.restype = ctypes.c_uint32
        lib.libdeflate_crc32.argtypes = [ctypes.c_uint32, ctypes.c_char_p, ctypes.c_size_t]
    except (OSError, AttributeError):  # an unusable or too old libdeflate
        return False
    return lib


def available() -> bool:
    """Whether this machine has what :func:`decode` needs (libdeflate and numba)."""
    return jit.available() and bool(_libdeflate())


def warm_up() -> None:
    """Compiles (or loads from numba's cache) the unfiltering loop now, so that the first
    PNG a server receives does not wait for it."""
    if available():
        decode(_TINY)


@jit.kernel(parallel=False)
def _unfilter(raw, height, stride, bpp, out):
    """PNG's five row filters undone: ``raw`` holds each row's filter byte and bytes,
    ``out`` (height, stride) receives the pixels. Returns False for an unknown filter."""
    for y in range(height):
        start = y * (stride + 1) + 1
        kind = raw[start - 1]
        row = raw[start:start + stride]
        cur = out[y]
        if kind == 0:
            for x in range(stride):
                cur[x] = row[x]
        elif kind == 1:
            for x in range(stride):
                cur[x] = row[x] + (cur[x - bpp] if x >= bpp else 0)
        elif y == 0 and (kind == 2 or kind == 3 or kind == 4):  # zeros above the first row
            for x in range(stride):
                left = cur[x - bpp] if x >= bpp else 0
                cur[x] = row[x] + (left >> 1 if kind == 3 else left if kind == 4 else 0)
        elif kind == 2:
            prev = out[y - 1]
            for x in range(stride):
                cur[x] = row[x] + prev[x]
        elif kind == 3:
            prev = out[y - 1]
            for x in range(bpp):
                cur[x] = row[x] + (prev[x] >> 1)
            for x in range(bpp, stride):
                cur[x] = row[x] + ((np.uint16(cur[x - bpp]) + prev[x]) >> 1)
        elif kind == 4:
            prev = out[y - 1]
            for x in range(bpp):
                cur[x] = row[x] + prev[x]
            for x in range(bpp, stride):
                a = np.int16(cur[x - bpp])
                b = np.int16(prev[x])
                c = np.int16(prev[x - bpp])
                pa = abs(b - c)
                pb = abs(a - c)
                pc = abs(a + b - 2 * c)
                if pa <= pb and pa <= pc:
                    cur[x] = row[x] + np.uint8(a)
                elif pb <= pc:
                    cur[x] = row[x] + np.uint8(b)
                else:
                    cur[x] = row[x] + np.uint8(c)
        else:
            return False
    return True


def decode(data: bytes):
    """A plain PNG's pixels: uint8 (H, W) grey or (H, W, 3) RGB; None when the file is
    anything else, damaged, or this machine lacks libdeflate or numba."""
    found = decode_rows(data)
    if found is None:
        return None
    pixels, channels = found
    return pixels.reshape(pixels.shape[0], -1, 3) if channels == 3 else pixels


def decode_rows(data: bytes, max_pixels: int | None = None):
    """:func:`decode`'s pixels as rows, uint8 (H, W * channels), and the channels (1 or
    3); None as for :func:`decode`, and for pictures of more than ``max_pixels``
    pixels (before anything is allocated for them)."""
    if not data.startswith(_SIGNATURE) or not available():
        return None
    lib = _libdeflate()
    header, parts, position, ended = None, [], len(_SIGNATURE), False
    while position + 12 <= len(data):
        length, kind = struct.unpack_from(">I4s", data, position)
        end = position + 12 + length
        if kind not in _HARMLESS or end > len(data):
            return None
        body = data[position + 8:end - 4]
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            crc = lib.libdeflate_crc32(lib.libdeflate_crc32(0, kind, 4), body, length)
            if crc != struct.unpack_from(">I", data, end - 4)[0]:
                return None  # Pillow reports the broken chunk
            parts.append(body)
        elif kind == b"IEND":
            ended = True
            break
        position = end
    if header is None or len(header) != 13 or not parts or not ended:
        return None
    width, height, depth, colour, method, filtering, interlace = struct.unpack(">IIBBBBB",
                                                                             header)
    if depth != 8 or colour not in (0, 2) or (method, filtering, interlace) != (0, 0, 0):
        return None
    if not 0 < width <= 1 << 16 or not 0 < height <= 1 << 16:
        return None
    if max_pixels is not None and width * height > max_pixels:
        return None
    channels = 3 if colour == 2 else 1
    stride = width * channels
    compressed = parts[0] if len(parts) == 1 else b"".join(parts)
    raw = np.empty(height * (stride + 1), dtype=np.uint8)
    decompressor = lib.libdeflate_alloc_decompressor()
    if not decompressor:
        return None
    try:
        # exactly this many bytes, or an error: a short or long stream goes to Pillow
        status = lib.libdeflate_zlib_decompress(decompressor, compressed, len(compressed),
                                                raw.ctypes.data, raw.size, None)
    finally:
        lib.libdeflate_free_decompressor(decompressor)
    if status != 0:
        return None
    pixels = np.empty((height, stride), dtype=np.uint8)
    if not _unfilter(raw, height, stride, channels, pixels):
        return None
    return pixels, channels


def _tiny_png() -> bytes:
    """An 8x8 grey PNG whose rows use all five filters."""
    rows = b"".join(bytes([y % 5]) + bytes(range(y, y + 8)) for y in range(8))
    import zlib

    def chunk(kind, body):
        return (struct.pack(">I", len(body)) + kind + body
                + struct.pack(">I", zlib.crc32(kind + body)))

    return (_SIGNATURE + chunk(b"IHDR", struct.pack(">IIBBBBB", 8, 8, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


_TINY = _tiny_png()

