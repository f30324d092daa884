"""IDX reader: round trips and clear errors on damaged files."""

from __future__ import annotations

import gzip
import struct

import numpy as np
import pytest

from tinyann.datasets import _idx


@pytest.mark.parametrize("compress", [False, True])
@pytest.mark.parametrize("shape", [(0,), (7,), (3, 28, 28), (2, 3, 4, 5)])
def test_round_trip(tmp_path, compress, shape):
    array = np.random.default_rng(1).integers(0, 256, shape, dtype=np.uint8)
    path = tmp_path / ("a.idx.gz" if compress else "a.idx")
    _idx.write_idx(path, array, compress=compress)
    got = _idx.read_idx(path, ndim=len(shape))
    assert got.dtype == np.uint8 and got.shape == shape
    np.testing.assert_array_equal(got, array)
    assert got.flags.writeable  # callers may normalise in place


def test_header_layout_is_big_endian():
    data = _idx.encode_idx(np.zeros((2, 3, 4), np.uint8))
    assert struct.unpack(">I", data[:4])[0] == _idx.IMAGES_MAGIC
    assert struct.unpack(">3I", data[4:16]) == (2, 3, 4)
    assert len(data) == 16 + 24
    labels = _idx.encode_idx(np.arange(5, dtype=np.uint8))
    assert struct.unpack(">II", labels[:8]) == (_idx.LABELS_MAGIC, 5)


def test_gzip_detected_by_content_not_name(tmp_path):
    array = np.arange(10, dtype=np.uint8)
    path = tmp_path / "labels-without-suffix"
    path.write_bytes(gzip.compress(_idx.encode_idx(array)))
    np.testing.assert_array_equal(_idx.read_idx(path), array)


def test_multi_member_gzip_is_read_whole(tmp_path):
    data = _idx.encode_idx(np.arange(100, dtype=np.uint8))
    path = tmp_path / "x.gz"
    path.write_bytes(gzip.compress(data[:50]) + gzip.compress(data[50:]))
    np.testing.assert_array_equal(_idx.read_idx(path), np.arange(100))


def _labels(n=10):
    return _idx.encode_idx(np.arange(n, dtype=np.uint8))


@pytest.mark.parametrize(
    "data, words",
    [
        (b"", ["truncated", "4-byte magic", "got 0 bytes"]),
        (b"\x00\x00\x08\x01\x00\x00", ["truncated IDX header", "expected 8", "got 6"]),
        (_labels()[:-3], ["truncated IDX file", "expected 18", "got 15"]),
        (_labels() + b"xx", ["trailing bytes", "expected 18", "got 20"]),
        (
            b"\x00\x00\x0d\x01" + _labels()[4:],
            ["bad IDX magic", "0x00000801", "0x00000D01", "float32"],
        ),
        (b"PK\x03\x04" + _labels()[4:], ["bad IDX magic", "not an IDX file"]),
    ],
)
def test_damaged_payload_errors_name_file_and_sizes(tmp_path, data, words):
    path = tmp_path / "bad-labels"
    path.write_bytes(data)
    with pytest.raises(ValueError) as info:
        _idx.read_idx(path, ndim=1)
    message = str(info.value)
    assert str(path) in message
    for word in words:
        assert word in message


def test_wrong_number_of_dimensions(tmp_path):
    path = tmp_path / "images"
    _idx.write_idx(path, np.zeros((2, 28, 28), np.uint8))
    with pytest.raises(ValueError, match=r"expected 0x00000801.*got 0x00000803"):
        _idx.read_idx(path, ndim=1)


def test_truncated_gzip_stream(tmp_path):
    blob = gzip.compress(
        _idx.encode_idx(np.random.default_rng(0).integers(0, 256, (4, 28, 28), dtype=np.uint8))
    )
    path = tmp_path / "images.gz"
    path.write_bytes(blob[: len(blob) // 2])
    with pytest.raises(ValueError, match="corrupt gzip stream") as info:
        _idx.read_idx(path)
    assert str(path) in str(info.value)


def test_corrupt_gzip_crc(tmp_path):
    blob = bytearray(gzip.compress(_labels(200)))
    blob[-8] ^= 0xFF  # the CRC32 field of the trailer
    path = tmp_path / "labels.gz"
    path.write_bytes(bytes(blob))
    with pytest.raises(ValueError, match=f"{path}: corrupt gzip stream"):
        _idx.read_idx(path)


def test_corrupt_deflate_data(tmp_path):
    blob = bytearray(gzip.compress(_labels(200), compresslevel=1))
    blob[12:20] = b"\xff" * 8  # inside the deflate stream, after the 10-byte header
    path = tmp_path / "labels.gz"
    path.write_bytes(bytes(blob))
    with pytest.raises(ValueError, match="corrupt gzip stream"):
        _idx.read_idx(path)


def test_gz_name_without_gzip_data(tmp_path):
    path = tmp_path / "labels.gz"
    path.write_bytes(_labels())
    with pytest.raises(ValueError, match="expected gzip data"):
        _idx.read_idx(path)


def test_encode_rejects_non_uint8():
    with pytest.raises(ValueError, match="uint8"):
        _idx.encode_idx(np.zeros(3, np.float32))
