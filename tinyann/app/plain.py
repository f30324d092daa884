"""The preprocessing of a plain grey or RGB picture in compiled loops, with the same
numbers as the Pillow and NumPy steps of ``preprocess`` (``_plain_grey``,
``_plain_item``, ``fit_28``), to the bit.

The server spent about 0.25 ms of a request on those steps for the load test's 300x240
PNG, most of it in the Python around each Pillow and NumPy call (a dozen images and
arrays made and converted), not in the arithmetic. Here:

    grey_shrink  uint8 rows (H, W*channels) -> uint8 grey, shrunk by a whole factor:
                 Pillow's convert("L") (ITU-R 601-2 luma in 16-bit fixed point) and
                 reduce(factor) (box sums, rounded with its fixed-point reciprocals,
                 partial boxes at the right and bottom edges)
    item_28      uint8 grey -> the 28x28 float32 input: the border's median level,
                 light backgrounds negated, the item's box and levels in one loop, then
                 Pillow's resize of an 'F' image (BOX to shrink, BILINEAR to enlarge:
                 double-precision sums, float32 results, its two passes in the order
                 this Pillow runs them, checked once against it)

tests/app/test_plain.py checks both against Pillow and NumPy on many sizes and levels.
Needs numba (:func:`available`); without it ``preprocess`` takes the Pillow steps.
"""

from __future__ import annotations

import numpy as np

from tinyann.kernels import jit

SIZE = 28


def available() -> bool:
    """Whether the compiled loops can run (numba is installed)."""
    return jit.available()


@jit.helper
def _reciprocal(count):
    """Pillow's fixed-point reciprocal of ``count`` for its reduce: 2**32 / (256 count),
    divided in single precision and truncated, as its C code does."""
    return np.int64(np.uint32(np.float32(4294967296.0) / np.float32(256 * count)))


@jit.kernel(parallel=False)
def _grey_shrink(rows, channels, factor, out):
    """``out`` (ceil(H / factor), ceil(W / factor)) <- the grey of ``rows`` (H,
    W * channels), each ``factor`` x ``factor`` box averaged as Pillow's reduce does."""
    height = rows.shape[0]
    width = rows.shape[1] // channels
    out_h, out_w = out.shape
    whole = width // factor  # boxes of full width; a last, narrower one when not exact
    column = np.empty(width, dtype=np.int32)  # each column's sum over the box's rows
    totals = np.empty(whole, dtype=np.int32)  # each box's sum
    for oy in range(out_h):
        y0 = oy * factor
        y1 = min(height, y0 + factor)
        column[:] = 0
        for y in range(y0, y1):
            row = rows[y]
            if channels == 3:
                # convert("L"): (R 19595 + G 38470 + B 7471 + 2**15) >> 16
                for x in range(width):
                    column[x] += (np.int32(row[3 * x]) * 19595
                                  + np.int32(row[3 * x + 1]) * 38470
                                  + np.int32(row[3 * x + 2]) * 7471 + 32768) >> 16
            else:
                for x in range(width):
                    column[x] += row[x]
        rows_in = y1 - y0
        full = _reciprocal(factor * rows_in)
        half = factor * rows_in // 2
        if factor == 2:  # the commonest factor, written out: a third faster
            for ox in range(whole):
                out[oy, ox] = ((np.int64(column[2 * ox]) + column[2 * ox + 1] + half)
                               * full) >> 24
        else:
            totals[:whole] = half
            for j in range(factor):  # across the boxes, so that the loop vectorizes
                for ox in range(whole):
                    totals[ox] += column[ox * factor + j]
            for ox in range(whole):
                out[oy, ox] = (np.int64(totals[ox]) * full) >> 24
        if whole < out_w:
            total = np.int64(0)
            for x in range(whole * factor, width):
                total += column[x]
            count = (width - whole * factor) * rows_in
            out[oy, whole] = ((total + count // 2) * _reciprocal(count)) >> 24


@jit.kernel(parallel=False)
def _item(grey, threshold):
    """``preprocess._plain_item`` of uint8 ``grey``: (found, inverted, top, left, bottom,
    right, the item float32 in [0, 1]); found is False for a picture of one flat level."""
    h, w = grey.shape
    # the median of the border, a frame about 5% wide (corners twice), by counting
    k = max(1, min(h, w) // 20)
    counts = np.zeros(256, dtype=np.int64)
    for y in range(k):
        for x in range(w):
            counts[grey[y, x]] += 1
            counts[grey[h - k + y, x]] += 1
    for y in range(h):
        for x in range(k):
            counts[grey[y, x]] += 1
            counts[grey[y, w - k + x]] += 1
    n = 2 * k * (w + h)
    low_rank, high_rank = (n - 1) // 2, n // 2
    seen, level, low_level, high_level = 0, 0, -1, -1
    while high_level < 0:
        seen += counts[level]
        if low_level < 0 and seen > low_rank:
            low_level = level
        if seen > high_rank:
            high_level = level
        level += 1
    background = (low_level + high_level) / 2.0  # np.median's mean of the middle two
    inverted = background > 127.5
    if inverted:
        background = 255.0 - background
    # the item: levels above background + threshold * (brightest - background), found
    # from each row's and column's extremes (one pass over the picture)
    row_low = np.empty(h, dtype=np.uint8)
    row_high = np.empty(h, dtype=np.uint8)
    column_low = np.full(w, 255, dtype=np.uint8)
    column_high = np.zeros(w, dtype=np.uint8)
    for y in range(h):
        low, high = np.uint8(255), np.uint8(0)
        for x in range(w):
            v = grey[y, x]
            low = min(low, v)
            high = max(high, v)
            column_low[x] = min(column_low[x], v)
            column_high[x] = max(column_high[x], v)
        row_low[y], row_high[y] = low, high
    top_level = (255.0 - row_low.min() if inverted else 1.0 * row_high.max()) - background
    if top_level <= 0:
        return False, inverted, 0, 0, 0, 0, np.zeros((0, 0), dtype=np.float32)
    cut = background + threshold * top_level
    top, left, bottom, right = h, w, 0, 0
    for y in range(h):
        if (255 - row_low[y] if inverted else row_high[y]) > cut:
            top = min(top, y)
            bottom = y + 1
    for x in range(w):
        if (255 - column_low[x] if inverted else column_high[x]) > cut:
            left = min(left, x)
            right = x + 1
    item = np.empty((bottom - top, right - left), dtype=np.float32)
    base = np.float32(background)  # float32 steps, as the NumPy code on a float32 array
    span = np.float32(top_level)
    for y in range(bottom - top):
        for x in range(right - left):
            v = grey[top + y, left + x]
            level32 = np.float32(255 - v if inverted else v)
            item[y, x] = max(level32 - base, np.float32(0.0)) / span
    return True, inverted, top, left, bottom, right, item


@jit.kernel(parallel=False)
def _place(small, out):
    """``fit_28``'s end: ``small`` clipped to [0, 1], centred on the black ``out``, and
    divided by its brightest pixel."""
    size = out.shape[0]
    h, w = small.shape
    oy, ox = (size - h) // 2, (size - w) // 2
    out[:, :] = 0.0
    peak = np.float32(0.0)
    for y in range(h):
        for x in range(w):
            v = min(max(small[y, x], np.float32(0.0)), np.float32(1.0))
            out[oy + y, ox + x] = v
            peak = max(peak, v)
    if peak > 0:
        for y in range(size):
            for x in range(size):
                out[y, x] = out[y, x] / peak


@jit.helper
def _weights(in_size, out_size, bilinear, first, count, weights):
    """Pillow's resampling coefficients (precompute_coeffs) for ``in_size`` -> ``out_size``
    pixels, BOX or BILINEAR: output pixel i sums inputs first[i] .. first[i] + count[i]
    - 1 times ``weights[i]``, in double precision."""
    scale = in_size / out_size
    filterscale = max(scale, 1.0)
    support = (1.0 if bilinear else 0.5) * filterscale
    inverse = 1.0 / filterscale
    for i in range(out_size):
        center = (i + 0.5) * scale
        low = max(int(center - support + 0.5), 0)
        high = min(int(center + support + 0.5), in_size)
        total = 0.0
        for j in range(high - low):
            x = (j + low - center + 0.5) * inverse
            if bilinear:
                w = 1.0 - abs(x) if abs(x) < 1.0 else 0.0
            else:
                w = 1.0 if -0.5 < x <= 0.5 else 0.0
            weights[i, j] = w
            total += w
        if total != 0.0:
            for j in range(high - low):
                weights[i, j] /= total
        first[i] = low
        count[i] = high - low


@jit.helper
def _across(image, out_w, bilinear):
    """Pillow's horizontal pass: sums in double precision, float32 results."""
    h, w = image.shape
    first = np.empty(out_w, dtype=np.int64)
    count = np.empty(out_w, dtype=np.int64)
    weights = np.zeros((out_w, w + 2))
    _weights(w, out_w, bilinear, first, count, weights)
    out = np.empty((h, out_w), dtype=np.float32)
    for y in range(h):
        for i in range(out_w):
            total = 0.0
            for j in range(count[i]):
                total += image[y, first[i] + j] * weights[i, j]
            out[y, i] = total
    return out


@jit.helper
def _down(image, out_h, bilinear):
    """Pillow's vertical pass."""
    h, w = image.shape
    first = np.empty(out_h, dtype=np.int64)
    count = np.empty(out_h, dtype=np.int64)
    weights = np.zeros((out_h, h + 2))
    _weights(h, out_h, bilinear, first, count, weights)
    out = np.empty((out_h, w), dtype=np.float32)
    for i in range(out_h):
        for x in range(w):
            total = 0.0
            for j in range(count[i]):
                total += image[first[i] + j, x] * weights[i, j]
            out[i, x] = total
    return out


@jit.kernel(parallel=False)
def _resize(item, out_h, out_w, bilinear, down_first):
    """Pillow's resize of an 'F' image: the passes whose size changes, vertical first when
    ``down_first``."""
    h, w = item.shape
    image = item
    if down_first and out_h != h:
        image = _down(image, out_h, bilinear)
    if out_w != w:
        image = _across(image, out_w, bilinear)
    if image.shape[0] != out_h:
        image = _down(image, out_h, bilinear)
    return np.ascontiguousarray(image)


def warm_up() -> None:
    """Compiles (or loads from numba's cache) the loops now, on a small RGB picture."""
    if available():
        rows = np.zeros((16, 48), dtype=np.uint8)
        rows[4:12, 12:36] = 200
        item_28(grey_shrink(rows, 3, 2), 0.25)


def grey_shrink(rows: np.ndarray, channels: int, factor: int) -> np.ndarray:
    """uint8 rows (H, W * channels) of a grey (1) or RGB (3) picture -> its uint8 grey
    (H, W), shrunk ``factor`` times when ``factor`` > 1: Pillow's convert("L") and
    reduce(factor), the same levels."""
    if channels == 1 and factor == 1:
        return rows
    height, width = rows.shape[0], rows.shape[1] // channels
    out = np.empty((-(-height // factor), -(-width // factor)), dtype=np.uint8)
    _grey_shrink(rows, channels, factor, out)
    return out


def item_28(grey: np.ndarray, threshold: float):
    """uint8 grey -> (the 28x28 float32 model input, inverted, (top, left, bottom, right)
    of the item in ``grey``), or None for a picture of one flat level."""
    found, inverted, top, left, bottom, right, item = _item(grey, float(threshold))
    if not found:
        return None
    return fit_28(item), bool(inverted), (int(top), int(left), int(bottom), int(right))


def fit_28(item: np.ndarray) -> np.ndarray:
    """``preprocess.fit_28`` of a float32 item, the same numbers: Pillow's resize (BOX
    to shrink, BILINEAR to enlarge) redone in a compiled loop when it matches this
    Pillow (:func:`_resize_order`), else Pillow's own; the rest in one loop."""
    h, w = item.shape
    scale = SIZE / max(h, w)
    new_w = min(SIZE, max(1, round(w * scale)))
    new_h = min(SIZE, max(1, round(h * scale)))
    small = _resized(item, new_h, new_w, scale >= 1)
    out = np.empty((SIZE, SIZE), dtype=np.float32)
    _place(small, out)
    return out


def _resized(item, new_h, new_w, bilinear):
    order = _ORDER[0] if _ORDER[0] is not None else _resize_order()
    if order == "pillow":
        return _pillow_resize(item, new_h, new_w, bilinear)
    h, w = item.shape
    # Pillow 13 runs the vertical pass first when the height shrinks by more than twice
    # as many pixels as the width (python-pillow/Pillow#9549); earlier versions never
    down_first = order == "height first" and new_h < h and h - new_h > 2 * (w - new_w)
    return _resize(item, new_h, new_w, bilinear, down_first)


def _pillow_resize(item, new_h, new_w, bilinear):
    from PIL import Image

    method = Image.Resampling.BILINEAR if bilinear else Image.Resampling.BOX
    picture = Image.frombuffer("F", item.shape[::-1], item, "raw", "F", 0, 1)
    resized = picture.resize((new_w, new_h), method)
    return np.frombuffer(resized.tobytes(), dtype=np.float32).reshape(new_h, new_w)


#: how this Pillow orders a resize's two passes: "height first" (Pillow 13's rule),
#: "width first" (always, as before it), or "pillow" (neither: Pillow resizes)
_ORDER = [None]


def _resize_order() -> str:
    """Which order of the passes gives this Pillow's numbers, found once on a few shapes
    where the two orders round differently (exactly equal or not at all)."""
    rng = np.random.default_rng(0)
    found = None
    for order in ("height first", "width first"):
        _ORDER[0] = order
        same = True
        for h, w, new_h, new_w in ((189, 125, 130, 113), (180, 148, 130, 110),
                                   (112, 28, 28, 7), (60, 100, 17, 28), (9, 13, 19, 28)):
            item = rng.random((h, w), dtype=np.float32)
            bilinear = new_h > h
            same &= np.array_equal(_resized(item, new_h, new_w, bilinear),
                                   _pillow_resize(item, new_h, new_w, bilinear))
        if same:
            found = order
            break
    _ORDER[0] = found or "pillow"
    return _ORDER[0]
