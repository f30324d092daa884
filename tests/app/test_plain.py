"""The compiled plain-picture steps (tinyann/app/plain.py) against the Pillow and NumPy
steps they replace: the same levels, boxes and 28x28 inputs, to the bit."""

from __future__ import annotations

import io
import os

import numpy as np
import pytest
from PIL import Image

from tinyann.app import plain, png, preprocess


@pytest.fixture(autouse=True)
def compiled():
    """numba and libdeflate present; under CI their absence is an error, not a skip."""
    if not (plain.available() and png.available()):
        message = "needs numba and libdeflate (Debian's libdeflate0; `make libs`)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


def _png(pixels: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


def _picture(rng, height, width, channels, dark=None):
    """A noisy flat background with a rectangle of another level on it."""
    shape = (height, width, 3) if channels == 3 else (height, width)
    background = int(rng.integers(0, 256)) if dark is None else (20 if dark else 235)
    pixels = np.full(shape, background, dtype=np.int64)
    top, left = rng.integers(0, height // 2 + 1), rng.integers(0, width // 2 + 1)
    pixels[top:top + rng.integers(1, height - top + 1),
           left:left + rng.integers(1, width - left + 1)] = rng.integers(0, 256, channels)
    pixels += rng.integers(-15, 16, shape)
    return np.clip(pixels, 0, 255).astype(np.uint8)


def test_grey_is_pillows_for_every_colour():
    levels = np.arange(1 << 24, dtype=np.uint32)
    rgb = np.stack([levels >> 16, (levels >> 8) & 255, levels & 255], axis=-1)
    rows = rgb.astype(np.uint8).reshape(4096, 4096 * 3)
    expected = np.asarray(Image.fromarray(rows.reshape(4096, 4096, 3)).convert("L"))
    np.testing.assert_array_equal(plain.grey_shrink(rows, 3, 1), expected)


@pytest.mark.parametrize("factor", [2, 3, 4, 5, 6, 7, 9, 16])
@pytest.mark.parametrize("channels", [1, 3])
def test_shrink_is_pillows_reduce(factor, channels):
    rng = np.random.default_rng(factor * channels)
    for height, width in ((240, 300), (97, 131), (factor * 7, factor * 5), (factor + 1, 50),
                          (factor, factor - 1)):
        pixels = rng.integers(0, 256, (height, width, 3)[:2 if channels == 1 else 3],
                              dtype=np.uint8)
        picture = Image.fromarray(pixels)
        expected = np.asarray(picture.convert("L").reduce(factor))
        found = plain.grey_shrink(pixels.reshape(height, -1), channels, factor)
        np.testing.assert_array_equal(found, expected)


def test_item_is_the_numpy_steps():
    rng = np.random.default_rng(5)
    for _ in range(300):
        height, width = rng.integers(8, 160, 2)
        grey = _picture(rng, height, width, 1)
        try:
            expected = preprocess._plain_item(grey)
        except preprocess.ImageError:
            expected = None
        found = plain.item_28(grey, preprocess.ITEM_THRESHOLD)
        if expected is None:
            assert found is None
            continue
        item, inverted, box = expected
        image, found_inverted, found_box = found
        assert (found_inverted, found_box) == (inverted, box)
        np.testing.assert_array_equal(image, preprocess.fit_28(item))


def test_border_median_of_an_even_count_is_the_mean_of_the_middle_two():
    # a 20x20 picture: a 1-pixel frame of 80 pixels (corners twice), half 100, half 201
    grey = np.full((20, 20), 0, dtype=np.uint8)
    grey[:, :10], grey[:, 10:] = 100, 201
    grey[5:15, 5:15] = 0
    found = plain.item_28(grey, preprocess.ITEM_THRESHOLD)
    expected = preprocess._plain_item(grey)
    assert found[1] == expected[1] is True  # 150.5 > 127.5: negated
    assert found[2] == expected[2]


def test_a_flat_picture_has_no_item():
    assert plain.item_28(np.full((30, 40), 77, dtype=np.uint8), 0.25) is None
    with pytest.raises(preprocess.ImageError, match="found no item in the image"):
        preprocess.plain_png(_png(np.full((30, 40, 3), 200, dtype=np.uint8)))


def _general(data):
    """preprocess() by its general (Pillow) steps."""
    fast = preprocess.plain_png
    preprocess.plain_png = lambda *args: None
    try:
        return preprocess.preprocess(data)
    finally:
        preprocess.plain_png = fast


@pytest.mark.parametrize("channels", [1, 3])
def test_plain_pngs_are_preprocessed_as_by_the_general_steps(channels):
    rng = np.random.default_rng(channels)
    sizes = [(240, 300), (28, 28), (8, 9), (1200, 1600), (113, 225), (224, 224), (80, 800)]
    sizes += [tuple(rng.integers(8, 900, 2)) for _ in range(40)]
    for height, width in sizes:
        if max(height, width) / min(height, width) > preprocess.MAX_ASPECT:
            continue
        data = _png(_picture(rng, height, width, channels))
        fast = preprocess.plain_png(data)
        assert fast is not None
        slow = _general(data)
        np.testing.assert_array_equal(fast.image, slow.image)
        assert fast.image.dtype == slow.image.dtype == np.float32
        assert (fast.mode, fast.original_size, fast.box, fast.inverted) == \
            (slow.mode, slow.original_size, slow.box, slow.inverted)


@pytest.mark.parametrize("size", [(7, 100), (100, 7), (8, 81), (1000, 90)])
def test_sizes_open_image_refuses_are_left_to_it(size):
    data = _png(np.zeros(size[::-1], dtype=np.uint8))
    assert preprocess.plain_png(data) is None
    with pytest.raises(preprocess.ImageError, match="pixels; expected"):
        preprocess.preprocess(data)


def test_too_many_pixels_are_refused_before_decoding(monkeypatch):
    data = _png(np.zeros((100, 100), dtype=np.uint8))
    assert png.decode_rows(data, max_pixels=9_999) is None
    assert png.decode_rows(data, max_pixels=10_000) is not None
    monkeypatch.setattr(preprocess, "MAX_PIXELS", 9_999)
    assert preprocess.plain_png(data) is None


def test_other_inputs_are_left_to_the_general_steps(monkeypatch, tmp_path):
    pixels = _picture(np.random.default_rng(9), 60, 80, 3)
    data = _png(pixels)
    assert preprocess.plain_png(data, max_bytes=len(data) - 1) is None
    assert preprocess.plain_png(data[:-20]) is None  # no IEND: Pillow's to judge
    path = tmp_path / "photo.png"
    path.write_bytes(data)
    assert preprocess.plain_png(str(path)) is None
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="JPEG")
    assert preprocess.plain_png(buffer.getvalue()) is None
    monkeypatch.setattr(plain, "available", lambda: False)
    assert preprocess.plain_png(data) is None
    np.testing.assert_array_equal(preprocess.preprocess(data).image, _general(data).image)


@pytest.mark.parametrize("seed", range(4))
def test_fit_28_is_pillows_resize(seed):
    rng = np.random.default_rng(seed)
    for _ in range(150):
        # tall, wide and square items, shrunk (BOX) or enlarged (BILINEAR)
        h, w = rng.integers(1, 200 if rng.random() < 0.7 else 28, 2)
        item = rng.random((h, w), dtype=np.float32)
        np.testing.assert_array_equal(plain.fit_28(item), preprocess.fit_28(item))


def test_the_order_of_the_passes_is_checked_against_this_pillow(monkeypatch):
    monkeypatch.setattr(plain, "_ORDER", [None])  # restored after the test
    assert plain._resize_order() in ("height first", "width first")
    pillow = plain._pillow_resize

    def width_first(item, new_h, new_w, bilinear):  # Pillow before 13
        if new_w != item.shape[1]:
            item = plain._across(item, new_w, bilinear)
        return plain._down(item, new_h, bilinear) if new_h != item.shape[0] else item

    monkeypatch.setattr(plain, "_pillow_resize", width_first)
    assert plain._resize_order() == "width first"
    monkeypatch.setattr(plain, "_pillow_resize",
                        lambda item, new_h, new_w, bilinear: np.zeros((new_h, new_w)))
    assert plain._resize_order() == "pillow"  # neither: Pillow's own resize is used
    monkeypatch.setattr(plain, "_pillow_resize", pillow)
    item = np.random.default_rng(1).random((120, 60), dtype=np.float32)
    np.testing.assert_array_equal(plain.fit_28(item), preprocess.fit_28(item))
