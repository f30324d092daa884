"""Reader and writer for IDX files, the format of MNIST and Fashion-MNIST.

An IDX file is a big-endian header followed by a dense array::

    bytes 0-1   zero
    byte  2     element type (0x08 = unsigned byte, the only one read here)
    byte  3     number of dimensions d
    4*d bytes   the size of each dimension, uint32 big-endian
    payload     prod(sizes) elements, C order

So images are magic 0x00000803 (N, rows, cols) and labels 0x00000801 (N,).
Files may be gzip-compressed; that is recognised by content, not by name.

Every problem (bad gzip stream, wrong magic, short or long payload) raises
``ValueError`` naming the file, what was expected and what was found.
"""

from __future__ import annotations

import gzip
import math
import os
import struct
import zlib

import numpy as np

IMAGES_MAGIC = 0x00000803
LABELS_MAGIC = 0x00000801
_UBYTE = 0x08
_GZIP_MAGIC = b"\x1f\x8b"
_TYPE_NAMES = {
    0x08: "uint8",
    0x09: "int8",
    0x0B: "int16",
    0x0C: "int32",
    0x0D: "float32",
    0x0E: "float64",
}


def gunzip(blob: bytes | bytearray, source: str) -> bytearray:
    """Decompresses a gzip stream, turning every failure into ``ValueError``.

    Args:
        blob: The compressed bytes.
        source: File name or URL, used in error messages.

    Returns:
        The decompressed bytes, writable (so arrays made from them are too).
    """
    try:
        return bytearray(gzip.decompress(blob))
    # BadGzipFile is an OSError (bad header, CRC or length); EOFError means the
    # stream was cut short; zlib.error means the deflate data itself is damaged.
    except (OSError, EOFError, zlib.error) as exc:
        raise ValueError(
            f"{source}: corrupt gzip stream (expected a complete gzip file of "
            f"{len(blob)} bytes to decompress; got error: {exc})"
        ) from exc


def read_bytes(path: str | os.PathLike) -> bytearray:
    """Reads a file whole, decompressing it if it is gzip.

    Args:
        path: An IDX file, plain or gzip (``.gz`` names must hold gzip data).

    Returns:
        The decompressed file content.
    """
    path = os.fspath(path)
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        # readinto a preallocated bytearray: one copy, and the result is writable.
        buf = bytearray(size)
        got = f.readinto(buf)
    if got != size:
        raise ValueError(f"{path}: expected {size} bytes from the file, read {got}")
    if buf[:2] == _GZIP_MAGIC:
        return gunzip(buf, path)
    if path.endswith(".gz"):
        raise ValueError(
            f"{path}: expected gzip data (name ends in .gz), got first bytes {bytes(buf[:4])!r}"
        )
    return buf


def parse_idx(data: bytes | bytearray, source: str, ndim: int | None = None) -> np.ndarray:
    """Decodes decompressed IDX bytes into an array without copying the payload.

    Args:
        data: The whole decompressed file.
        source: File name or URL, used in error messages.
        ndim: Required number of dimensions (3 for images, 1 for labels), or
            None to accept any.

    Returns:
        uint8 array of the shape the header gives, e.g. (N, 28, 28) or (N,).
    """
    if len(data) < 4:
        raise ValueError(
            f"{source}: truncated IDX file: expected a 4-byte magic number, got {len(data)} bytes"
        )
    zero, dtype, dims = struct.unpack_from(">HBB", data, 0)
    magic = (zero << 16) | (dtype << 8) | dims
    want = f"0x{(_UBYTE << 8) | ndim:08X}" if ndim is not None else "0x000008NN"
    if zero != 0 or dtype != _UBYTE or (ndim is not None and dims != ndim):
        what = _TYPE_NAMES.get(dtype, "unknown type") if zero == 0 else "not an IDX file"
        raise ValueError(
            f"{source}: bad IDX magic number: expected {want} "
            f"(unsigned bytes), got 0x{magic:08X} ({what}, {dims} dims)"
        )
    if dims == 0:
        # a scalar: no data set is one, and encode_idx does not write them
        raise ValueError(f"{source}: bad IDX header: expected 1 to 255 dimensions, got 0")
    header = 4 + 4 * dims
    if len(data) < header:
        raise ValueError(
            f"{source}: truncated IDX header: expected {header} bytes for "
            f"{dims} dimensions, got {len(data)}"
        )
    shape = struct.unpack_from(f">{dims}I", data, 4)
    # Python's exact product: np.prod in int64 wraps (2**28 * 64 * 2**30 == 0 there)
    payload = math.prod(shape)
    # numpy refuses shapes whose non-zero sizes multiply past intp, even empty ones
    if math.prod(d for d in shape if d) > np.iinfo(np.intp).max:
        raise ValueError(
            f"{source}: bad IDX header: expected sizes that fit in an array, "
            f"got shape {shape}"
        )
    if len(data) != header + payload:
        kind = "truncated" if len(data) < header + payload else "trailing bytes in"
        raise ValueError(
            f"{source}: {kind} IDX file: expected {header + payload} bytes "
            f"(header {header} + payload {payload} for shape {shape}), "
            f"got {len(data)}"
        )
    return np.frombuffer(data, dtype=np.uint8, count=payload, offset=header).reshape(shape)


def read_idx(path: str | os.PathLike, ndim: int | None = None) -> np.ndarray:
    """Reads an IDX file (plain or gzip) into a uint8 array.

    Args:
        path: The file.
        ndim: Required number of dimensions, or None for any.

    Returns:
        uint8 array shaped as the header says.
    """
    return parse_idx(read_bytes(path), os.fspath(path), ndim)


def parse_pair(
    images: bytes | bytearray,
    labels: bytes | bytearray,
    images_source: str,
    labels_source: str,
    image_shape: tuple = (28, 28),
) -> tuple[np.ndarray, np.ndarray]:
    """Decodes an images file and its labels file, checking that they agree.

    Args:
        images: Decompressed images file (magic 0x00000803).
        labels: Decompressed labels file (magic 0x00000801).
        images_source: Name of the images file, for messages.
        labels_source: Name of the labels file, for messages.
        image_shape: Required (rows, cols).

    Returns:
        ``(x, y)``: uint8 arrays of shapes (N, rows, cols) and (N,).
    """
    x = parse_idx(images, images_source, ndim=3)
    y = parse_idx(labels, labels_source, ndim=1)
    if x.shape[0] != y.shape[0] or x.shape[1:] != tuple(image_shape):
        raise ValueError(
            f"{images_source} / {labels_source}: expected (N, {image_shape[0]}, "
            f"{image_shape[1]}) images and N labels, got {x.shape} and {y.shape}"
        )
    return x, y


def encode_idx(array: np.ndarray) -> bytes:
    """Encodes a uint8 array as IDX bytes.

    Args:
        array: uint8 array with 1 to 255 dimensions.

    Returns:
        Header plus C-order payload.
    """
    array = np.asarray(array)
    if array.dtype != np.uint8 or not 1 <= array.ndim <= 255:
        raise ValueError(
            f"expected a uint8 array with 1..255 dims, got {array.dtype} with {array.ndim} dims"
        )
    header = struct.pack(f">HBB{array.ndim}I", 0, _UBYTE, array.ndim, *array.shape)
    return header + np.ascontiguousarray(array).tobytes()


def write_idx(path: str | os.PathLike, array: np.ndarray, compress: bool = False) -> None:
    """Writes a uint8 array as an IDX file, gzip-compressed if asked.

    Args:
        path: Destination file (overwritten).
        array: uint8 array.
        compress: Write gzip data (conventionally with a ``.gz`` name).
    """
    data = encode_idx(array)
    if compress:
        # mtime=0 keeps the output reproducible: same array, same bytes.
        data = gzip.compress(data, compresslevel=6, mtime=0)
    with open(path, "wb") as f:
        f.write(data)
