"""tinyann.ops.image: resize against half-pixel interpolation written out in NumPy,
crop/pad against slicing, rgb_to_grayscale against the luma weights; tape gradients
(first and second) against central differences."""

from __future__ import annotations

import numpy as np
import pytest

from tests.autodiff.test_higher_order import hvp, numeric_hvp
from tinyann import ops
from tinyann.autodiff import GradientTape, Tensor


def uniform(rng, shape):
    return rng.uniform(-1, 1, size=shape)


# a small rotation, zoom and shift (output (x, y) reads input (a0 x + a1 y + a2, ...))
TRANSFORM = np.array([1.1, 0.2, -0.5, -0.1, 0.9, 0.7, 0.0, 0.0])

CASES = [
    ("resize bilinear up", lambda x: ops.image.resize(x, (5, 7)), (2, 3, 4, 2)),
    ("resize bilinear down", lambda x: ops.image.resize(x, (2, 3)), (1, 5, 6, 2)),
    ("resize nearest", lambda x: ops.image.resize(x, (6, 5), interpolation="nearest"),
     (1, 3, 4, 1)),
    ("resize bicubic antialias", lambda x: ops.image.resize(
        x, (2, 2), interpolation="bicubic", antialias=True), (1, 5, 4, 2)),
    ("resize crop to aspect", lambda x: ops.image.resize(x, (3, 3), crop_to_aspect_ratio=True),
     (1, 4, 6, 1)),
    ("resize pad to aspect single image channels_first", lambda x: ops.image.resize(
        x, (3, 3), pad_to_aspect_ratio=True, data_format="channels_first"), (2, 4, 6)),
    ("crop_images", lambda x: ops.image.crop_images(x, 1, 2, target_height=2, target_width=3),
     (2, 4, 6, 3)),
    ("pad_images", lambda x: ops.image.pad_images(x, 1, 2, 2, 1), (2, 3, 2, 1)),
    ("rgb_to_grayscale", ops.image.rgb_to_grayscale, (2, 3, 2, 3)),
    ("affine_transform bilinear", lambda x: ops.image.affine_transform(x, TRANSFORM),
     (1, 4, 5, 2)),
    ("affine_transform nearest reflect", lambda x: ops.image.affine_transform(
        x, TRANSFORM, interpolation="nearest", fill_mode="reflect"), (1, 4, 5, 2)),
    ("extract_patches same dilated", lambda x: ops.image.extract_patches(
        x, (2, 3), strides=(1, 2), dilation_rate=(2, 1), padding="same"), (2, 5, 6, 2)),
]
IDS = [c[0] for c in CASES]


@pytest.mark.parametrize("name, fn, shape", CASES, ids=IDS)
def test_tape_gradient_matches_central_differences(gradcheck, name, fn, shape):
    rng = np.random.default_rng(sum(map(ord, name)))
    array = uniform(rng, shape)
    x = Tensor(array)
    with GradientTape() as tape:
        tape.watch(x)
        out = fn(x)
    upstream = rng.standard_normal(out.shape)
    grad = tape.gradient(out, x, output_gradients=Tensor(upstream))

    def scalar():
        return float(np.sum(np.asarray(fn(Tensor(array))) * upstream))

    assert grad.shape == shape and grad.dtype == np.float64
    gradcheck.assert_close(grad.numpy(), gradcheck.numerical_grad(scalar, array),
                           rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("name, fn, shape", CASES, ids=IDS)
def test_second_derivative_and_float32(name, fn, shape):
    rng = np.random.default_rng(5)
    array = uniform(rng, shape)
    upstream = rng.standard_normal(np.shape(fn(Tensor(array))))
    vector = [rng.standard_normal(shape) * 0.01]
    got = hvp(fn, [array], upstream, vector)[0]
    want = numeric_hvp(fn, [array], upstream, vector)[0]
    # every op here is linear: its Hessian is zero
    np.testing.assert_allclose(want, 0, atol=1e-6)
    if got is not None:
        np.testing.assert_allclose(got.numpy(), want, atol=1e-6)
    x = Tensor(array.astype(np.float32))
    with GradientTape() as tape:
        tape.watch(x)
        out = fn(x)
    assert out.dtype == np.float32 and tape.gradient(out, x).dtype == np.float32


def _half_pixel_bilinear(image, height, width):
    """tf.image.resize's bilinear: source coordinate (d + 0.5) · in/out - 0.5."""
    def weights(n_in, n_out):
        w = np.zeros((n_out, n_in))
        for d in range(n_out):
            s = min(max((d + 0.5) * n_in / n_out - 0.5, 0), n_in - 1)
            lo = int(np.floor(s))
            hi = min(lo + 1, n_in - 1)
            w[d, lo] += 1 - (s - lo)
            w[d, hi] += s - lo
        return w
    r, c = weights(image.shape[1], height), weights(image.shape[2], width)
    return np.einsum("oh,nhwc,pw->nopc", r, image, c)


def test_resize_values():
    rng = np.random.default_rng(0)
    im = rng.random((2, 4, 6, 3))
    for size in ((3, 5), (8, 9), (4, 6), (1, 1)):
        np.testing.assert_allclose(ops.image.resize(im, size).numpy(),
                                   _half_pixel_bilinear(im, *size), rtol=1e-12, atol=1e-12)
    # nearest: each output pixel copies the input pixel under its centre
    got = ops.image.resize(im, (8, 12), interpolation="nearest").numpy()
    np.testing.assert_array_equal(got, im.repeat(2, axis=1).repeat(2, axis=2))
    # crop_to_aspect_ratio: the centred 4 x 4 window, then the resize
    np.testing.assert_allclose(
        ops.image.resize(im, (3, 3), crop_to_aspect_ratio=True).numpy(),
        _half_pixel_bilinear(im[:, :, 1:5], 3, 3), rtol=1e-12)
    padded = np.pad(im, ((0, 0), (1, 1), (0, 0), (0, 0)), constant_values=0.5)
    np.testing.assert_allclose(
        ops.image.resize(im, (3, 3), pad_to_aspect_ratio=True, fill_value=0.5).numpy(),
        _half_pixel_bilinear(padded, 3, 3), rtol=1e-12)
    single = ops.image.resize(im[0], (3, 5))
    np.testing.assert_allclose(single.numpy(), _half_pixel_bilinear(im[:1], 3, 5)[0])
    first = ops.image.resize(np.moveaxis(im, -1, 1), (3, 5), data_format="channels_first")
    np.testing.assert_allclose(first.numpy(), np.moveaxis(_half_pixel_bilinear(im, 3, 5),
                                                           -1, 1), rtol=1e-12)
    ints = ops.image.resize((im * 255).astype(np.uint8), (3, 5))
    assert ints.dtype == np.uint8
    np.testing.assert_allclose(
        ints.numpy(), _half_pixel_bilinear((im * 255).astype(np.uint8).astype(float), 3, 5),
        atol=0.51)


def test_resize_errors():
    im = np.zeros((1, 4, 4, 1))
    with pytest.raises(ValueError, match="interpolation"):
        ops.image.resize(im, (2, 2), interpolation="cubic-ish")
    with pytest.raises(ValueError, match="size"):
        ops.image.resize(im, (2, 0))
    with pytest.raises(ValueError, match="rank"):
        ops.image.resize(np.zeros((4, 4)), (2, 2))
    with pytest.raises(ValueError, match="Only one"):
        ops.image.resize(im, (2, 2), crop_to_aspect_ratio=True, pad_to_aspect_ratio=True)


def test_crop_and_pad_values():
    im = np.arange(2 * 4 * 6 * 3, dtype=np.float32).reshape(2, 4, 6, 3)
    got = ops.image.crop_images(im, top_cropping=1, left_cropping=2, target_height=2,
                                target_width=3)
    np.testing.assert_array_equal(got.numpy(), im[:, 1:3, 2:5])
    got = ops.image.crop_images(im, 1, 2, bottom_cropping=1, right_cropping=1)
    np.testing.assert_array_equal(got.numpy(), im[:, 1:3, 2:5])
    got = ops.image.pad_images(im[0], top_padding=1, left_padding=2, target_height=7,
                               target_width=9)
    np.testing.assert_array_equal(got.numpy(), np.pad(im[0], ((1, 2), (2, 1), (0, 0))))
    got = ops.image.pad_images(np.moveaxis(im, -1, 1), 1, 0, 0, 3,
                               data_format="channels_first")
    np.testing.assert_array_equal(got.numpy(),
                                  np.pad(np.moveaxis(im, -1, 1), ((0, 0),) * 2 + ((1, 0), (0, 3))))
    with pytest.raises(ValueError, match="no pixels"):
        ops.image.crop_images(im, 2, 0, bottom_cropping=2)
    with pytest.raises(ValueError, match="non-negative"):
        ops.image.pad_images(im, 1, 1, target_height=3, target_width=8)
    with pytest.raises(ValueError, match="Only one"):
        ops.image.crop_images(im, 1, 1, bottom_cropping=1, target_height=2)


def test_rgb_to_grayscale_values():
    im = np.random.default_rng(0).random((2, 3, 4, 3)).astype(np.float32)
    got = ops.image.rgb_to_grayscale(im)
    assert got.shape == (2, 3, 4, 1) and got.dtype == np.float32
    want = im[..., :1] * 0.2989 + im[..., 1:2] * 0.5870 + im[..., 2:] * 0.1140
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-6)
    ints = (im * 255).astype(np.uint8)
    gray = ops.image.rgb_to_grayscale(ints)
    assert gray.dtype == np.uint8
    np.testing.assert_array_equal(
        gray.numpy(), (ints.astype(np.float32) @ np.float32([0.2989, 0.587, 0.114]))[
            ..., None].astype(np.uint8))
    first = ops.image.rgb_to_grayscale(np.moveaxis(im, -1, 1), data_format="channels_first")
    np.testing.assert_allclose(first.numpy(), np.moveaxis(want, -1, 1), rtol=1e-6)
    with pytest.raises(ValueError, match="3 channels"):
        ops.image.rgb_to_grayscale(np.zeros((2, 2, 4)))


def _affine_numpy(image, t, fill=0.0):
    """Bilinear reads at ((a0 x + a1 y + a2), (b0 x + b1 y + b2)), constant fill."""
    rows, cols, _ = image.shape
    out = np.zeros_like(image)
    for y in range(rows):
        for x in range(cols):
            sx, sy = t[0] * x + t[1] * y + t[2], t[3] * x + t[4] * y + t[5]
            x0, y0 = int(np.floor(sx)), int(np.floor(sy))
            for yy, xx, w in ((y0, x0, (1 - (sy - y0)) * (1 - (sx - x0))),
                              (y0, x0 + 1, (1 - (sy - y0)) * (sx - x0)),
                              (y0 + 1, x0, (sy - y0) * (1 - (sx - x0))),
                              (y0 + 1, x0 + 1, (sy - y0) * (sx - x0))):
                inside = 0 <= yy < rows and 0 <= xx < cols
                out[y, x] += w * (image[yy, xx] if inside else fill)
    return out


def test_affine_transform_values():
    rng = np.random.default_rng(0)
    im = rng.random((2, 4, 5, 3))
    got = ops.image.affine_transform(im, TRANSFORM, fill_value=0.25)
    for i in range(2):
        np.testing.assert_allclose(got.numpy()[i], _affine_numpy(im[i], TRANSFORM, 0.25),
                                   rtol=1e-12)
    # the identity transform and an integer shift
    ident = np.array([1.0, 0, 0, 0, 1.0, 0, 0, 0])
    np.testing.assert_allclose(ops.image.affine_transform(im, ident).numpy(), im)
    shift = np.stack([ident, ident + [0, 0, 1, 0, 0, 0, 0, 0]])
    out = ops.image.affine_transform(im, shift, interpolation="nearest").numpy()
    np.testing.assert_allclose(out[1, :, :-1], im[1, :, 1:])
    np.testing.assert_allclose(out[1, :, -1], 0)
    single = ops.image.affine_transform(im[0].astype(np.float32), TRANSFORM)
    assert single.shape == (4, 5, 3) and single.dtype == np.float32
    with pytest.raises(ValueError, match="transform"):
        ops.image.affine_transform(im, np.zeros((3, 8)))
    with pytest.raises(ValueError, match="fill_mode"):
        ops.image.affine_transform(im, TRANSFORM, fill_mode="mirror-ish")


def test_extract_patches_values():
    im = np.arange(2 * 5 * 6 * 2, dtype=np.float32).reshape(2, 5, 6, 2)
    got = ops.image.extract_patches(im, 2).numpy()
    assert got.shape == (2, 2, 3, 8)
    for r in range(2):
        for c in range(3):
            np.testing.assert_array_equal(got[:, r, c], im[:, 2 * r:2 * r + 2,
                                                           2 * c:2 * c + 2].reshape(2, -1))
    got = ops.image.extract_patches(im, (2, 3), strides=(1, 2), padding="same").numpy()
    padded = np.pad(im, ((0, 0), (0, 1), (0, 1), (0, 0)))
    assert got.shape == (2, 5, 3, 12)
    np.testing.assert_array_equal(got[:, 4, 2], padded[:, 4:6, 4:7].reshape(2, -1))
    with pytest.raises(ValueError, match="do not fit"):
        ops.image.extract_patches(im, 7)


def test_hsv_round_trip_and_values():
    rgb = np.array([[[[1.0, 0.5, 0.0], [0.0, 0.0, 0.0], [0.2, 0.2, 0.2],
                      [0.1, 0.3, 0.9]]]], dtype=np.float32)
    hsv = ops.image.rgb_to_hsv(rgb)
    assert hsv.dtype == np.float32
    # orange: hue 30°/360°; grey: no hue or saturation; blue-ish: hue (4 + (r-g)/range)/6
    np.testing.assert_allclose(hsv.numpy()[0, 0], [[30 / 360, 1, 1], [0, 0, 0], [0, 0, 0.2],
                                                   [(4 - 0.2 / 0.8) / 6, 0.8 / 0.9, 0.9]],
                               rtol=1e-6)
    rng = np.random.default_rng(0)
    im = rng.random((2, 3, 4, 3))
    np.testing.assert_allclose(ops.image.hsv_to_rgb(ops.image.rgb_to_hsv(im)).numpy(), im,
                               atol=1e-12)
    first = ops.image.rgb_to_hsv(np.moveaxis(im, -1, 1), data_format="channels_first")
    np.testing.assert_allclose(first.numpy(),
                               np.moveaxis(ops.image.rgb_to_hsv(im).numpy(), -1, 1))
    with pytest.raises(ValueError, match="float"):
        ops.image.rgb_to_hsv(np.zeros((2, 2, 3), np.uint8))


def _map_numpy(x, coords, order, mode, fill):
    """One read at a time: each output point interpolates its 1 or 4 neighbours, indices
    outside remapped per the mode (or the fill value for "constant")."""
    rows, cols = x.shape

    def read(i, j):
        def fix(k, n):
            if mode == "nearest":
                return min(max(k, 0), n - 1)
            if mode == "wrap":
                return k % n
            if mode == "mirror":
                m = k % (2 * (n - 1))
                return m if m < n else 2 * (n - 1) - m
            if mode == "reflect":
                m = k % (2 * n)
                return m if m < n else 2 * n - 1 - m
            return k
        i, j = fix(i, rows), fix(j, cols)
        return x[i, j] if 0 <= i < rows and 0 <= j < cols else fill
    out = np.zeros(coords.shape[1:])
    for p in np.ndindex(*coords.shape[1:]):
        r, c = coords[0][p], coords[1][p]
        if order == 0:
            out[p] = read(int(np.floor(r + 0.5)), int(np.floor(c + 0.5)))
        else:
            r0, c0 = int(np.floor(r)), int(np.floor(c))
            dr, dc = r - r0, c - c0
            out[p] = ((1 - dr) * (1 - dc) * read(r0, c0) + (1 - dr) * dc * read(r0, c0 + 1)
                      + dr * (1 - dc) * read(r0 + 1, c0) + dr * dc * read(r0 + 1, c0 + 1))
    return out


@pytest.mark.parametrize("mode", ["constant", "nearest", "wrap", "mirror", "reflect"])
def test_map_coordinates_values_and_gradient(gradcheck, mode):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 5))
    coords = rng.uniform(-3, 8, size=(2, 3, 4))
    coords[:, 0, 0] = [1.5, 2.5]                 # halves round up
    for order in (0, 1):
        got = ops.image.map_coordinates(x, coords, order, fill_mode=mode, fill_value=0.5)
        np.testing.assert_allclose(got.numpy(), _map_numpy(x, coords, order, mode, 0.5),
                                   rtol=1e-12, atol=1e-12)
    xt = Tensor(x)
    upstream = rng.standard_normal((3, 4))
    with GradientTape() as tape:
        tape.watch(xt)
        out = ops.image.map_coordinates(xt, coords, 1, fill_mode=mode)
    grad = tape.gradient(out, xt, output_gradients=Tensor(upstream))

    def scalar():
        return float(np.sum(ops.image.map_coordinates(x, coords, 1, mode).numpy() * upstream))
    gradcheck.assert_close(grad.numpy(), gradcheck.numerical_grad(scalar, x), rtol=1e-5,
                           atol=1e-7)
    assert ops.image.map_coordinates(x.astype(np.float32), coords, 1).dtype == np.float32


def test_map_coordinates_errors():
    with pytest.raises(ValueError, match="order"):
        ops.image.map_coordinates(np.ones((3, 3)), np.zeros((2, 1)), 3)
    with pytest.raises(ValueError, match="one coordinate array per axis"):
        ops.image.map_coordinates(np.ones((3, 3)), np.zeros((3, 1)), 1)
    with pytest.raises(ValueError, match="fill_mode"):
        ops.image.map_coordinates(np.ones((3, 3)), np.zeros((2, 1)), 1, fill_mode="edge")
