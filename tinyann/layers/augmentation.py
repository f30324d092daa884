"""Random image augmentation: RandomFlip, RandomContrast, RandomRotation,
RandomTranslation and RandomZoom.

Active in training only (``fit``, or a direct call, which Keras runs in training
mode); the identity in ``predict``/``evaluate`` and with ``training=False``.
Seeded by ``seed=`` (a generator of the layer's own) or else by
``keras.utils.set_random_seed`` (tinyann's global generator).
"""

from __future__ import annotations

import numpy as np

from tinyann import backend, kernels
from tinyann.layers.keras_tensor import is_symbolic
from tinyann.layers.layer import Layer
from tinyann.layers.preprocessing import _as_batch, _check_channels_last, _like

HORIZONTAL, VERTICAL = "horizontal", "vertical"
HORIZONTAL_AND_VERTICAL = "horizontal_and_vertical"
FILL_MODES = ("reflect", "wrap", "constant", "nearest")


def _plain(value):
    return list(value) if isinstance(value, tuple) else value


class _RandomLayer(Layer):
    """Shared by the random layers: Keras's training default, the generator, and
    ``call`` / ``backward``: the identity unless training, else the subclass's
    ``_augment(batch) -> (output, draw)`` and ``_augment_backward(grad, draw) -> dx``
    on batches (batch, rows, cols, channels), the draw kept for backward."""

    def __init__(self, seed=None, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.seed = seed
        self.data_format = _check_channels_last(data_format)
        self._rng = None if seed is None else np.random.default_rng(seed)
        self._draw = None  # what the last training call drew, for backward

    def call(self, inputs, training=False):
        if not training:
            self._draw = None
            return inputs
        y, self._draw = self._augment(_as_batch(inputs))
        return _like(y, inputs)

    def backward(self, grad_output):
        if self._draw is None:
            return grad_output
        return _like(self._augment_backward(_as_batch(grad_output), self._draw), grad_output)

    def __call__(self, inputs, training=None, **kwargs):
        # called directly on images, Keras's augmentation layers default to training
        if training is None and not is_symbolic(inputs):
            training = True
        return super().__call__(inputs, training=training, **kwargs)

    def _check_input(self, shape):
        if len(shape) not in (3, 4):
            raise ValueError("Expected the input image to be rank 3 or 4. Received "
                             f"inputs.shape={tuple(shape)}")

    def _frozen_call(self, inputs):
        """Inference mode in a training step (``training=False`` in the model): the
        identity, and so is backward."""
        return self.call(inputs, training=False)

    def _generator(self):
        return self._rng if self._rng is not None else backend.rng()

    # the attributes a config holds, in Keras's order (a subclass adds its own)
    _config_keys = ("seed", "data_format")

    def get_config(self):
        config = super().get_config()
        # tuples as JSON's lists, as Keras's configs have them
        config.update({key: _plain(getattr(self, key)) for key in self._config_keys})
        return config


class RandomFlip(_RandomLayer):
    """Flips each image left-right and/or upside down, each with probability 1/2.

    Args:
        mode: ``'horizontal'``, ``'vertical'`` or ``'horizontal_and_vertical'``.
        seed: integer seed of the layer's own generator.
    """

    _config_keys = _RandomLayer._config_keys + ("mode",)

    def __init__(self, mode=HORIZONTAL_AND_VERTICAL, seed=None, data_format=None, **kwargs):
        if mode not in (HORIZONTAL, VERTICAL, HORIZONTAL_AND_VERTICAL):
            raise ValueError(f"RandomFlip layer {kwargs.get('name', '')!s} received an unknown "
                             f"mode argument {mode!r}. Expected one of {HORIZONTAL!r}, "
                             f"{VERTICAL!r}, {HORIZONTAL_AND_VERTICAL!r}.")
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.mode = mode

    def _flip(self, x, flips):
        rows, cols = flips
        x = x.copy()
        x[cols] = x[cols][:, :, ::-1]
        x[rows] = x[rows][:, ::-1]
        return x

    def _augment(self, x):
        rng = self._generator()
        n = x.shape[0]
        cols = rng.random(n) < 0.5 if self.mode != VERTICAL else np.zeros(n, bool)
        rows = rng.random(n) < 0.5 if self.mode != HORIZONTAL else np.zeros(n, bool)
        return self._flip(x, (rows, cols)), (rows, cols)

    def _augment_backward(self, g, flips):
        # a flip is its own inverse, and so its own transpose
        return self._flip(g, flips)



class RandomContrast(_RandomLayer):
    """Scales each image's distance to its mean (per channel) by a random factor in
    ``[1 - lower, 1 + upper]``, then clips to ``value_range``.

    Args:
        factor: a number in [0, 1] (``lower = 0``, ``upper = factor``, as Keras 3) or a
            pair ``(lower, upper)``.
        value_range: the images' range, e.g. ``(0, 255)``.
        seed: integer seed of the layer's own generator.
    """

    _config_keys = _RandomLayer._config_keys + ("factor", "value_range")

    def __init__(self, factor, value_range=(0, 255), seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        message = ("The `factor` argument should be a number (or a list of two numbers) in "
                   f"the range [0, 1]. Received: factor={factor}")
        if isinstance(factor, (tuple, list)):
            if len(factor) != 2 or factor[0] > 1 or factor[1] < 0:
                raise ValueError(message)
            lower, upper = sorted(factor)
        elif isinstance(factor, (int, float)) and not isinstance(factor, bool):
            if not 0 <= factor <= 1:
                raise ValueError(message)
            lower, upper = max(-abs(factor), 0), abs(factor)
        else:
            raise ValueError(message)
        self.factor = (lower, upper)
        self.value_range = tuple(value_range)

    def _augment(self, x):
        lower, upper = self.factor
        scale = self._generator().uniform(1.0 - lower, 1.0 + upper, size=(x.shape[0], 1, 1, 1))
        scale = scale.astype(x.dtype)
        mean = x.mean(axis=(1, 2), keepdims=True)
        y = (x - mean) * scale + mean
        low, high = self.value_range
        kept = (y >= low) & (y <= high)  # the clip passes no gradient
        return np.clip(y, low, high).astype(x.dtype, copy=False), (scale, kept)

    def _augment_backward(self, g, draw):
        scale, kept = draw
        g = g * kept
        # y = s * x + (1 - s) * mean(x): dx = s * g + (1 - s) * mean(g) over the image
        dx = scale * g + (1 - scale) * g.mean(axis=(1, 2), keepdims=True)
        return dx.astype(g.dtype, copy=False)



def _symmetric_factor(factor, bounds=(-1, 1)):
    """Keras's factor rule: a number ``f`` means ``(-|f|, |f|)``; a pair is sorted."""
    message = ("The `factor` argument should be a number (or a list of two numbers) in the "
               f"range [{bounds[0]}, {bounds[1]}]. Received: factor={factor}")
    if isinstance(factor, (tuple, list)):
        if len(factor) != 2 or factor[0] > bounds[1] or factor[1] < bounds[0]:
            raise ValueError(message)
        return tuple(sorted(factor))
    if isinstance(factor, (int, float)) and not isinstance(factor, bool):
        if not bounds[0] <= factor <= bounds[1]:
            raise ValueError(message)
        return (max(-abs(factor), bounds[0]), abs(factor))
    raise ValueError(message)


def _check_fill(fill_mode, interpolation):
    if fill_mode not in FILL_MODES:
        raise ValueError(f"Unknown `fill_mode` {fill_mode}. Expected of one "
                         f"{FILL_MODES}.")
    if interpolation not in ("bilinear", "nearest"):
        raise ValueError(f"Unknown `interpolation` {interpolation}. Expected of one "
                         "('bilinear', 'nearest').")


class _AffineLayer(_RandomLayer):
    """A random affine transform per image (subclasses give the matrices)."""

    _config_keys = _RandomLayer._config_keys + ("fill_mode", "fill_value", "interpolation")

    def __init__(self, fill_mode, interpolation, seed, fill_value, data_format, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        _check_fill(fill_mode, interpolation)
        self.fill_mode, self.interpolation = fill_mode, interpolation
        self.fill_value = fill_value

    def _augment(self, x):
        transforms = self._transforms(*x.shape[:3])
        sampling = kernels.affine_sampling(x.shape, transforms, self.interpolation,
                                           self.fill_mode)
        return kernels.affine_transform_forward(x, sampling, self.fill_value), sampling

    def _augment_backward(self, g, sampling):
        return kernels.affine_transform_backward(g, sampling)



class RandomRotation(_AffineLayer):
    """Rotates each image about its centre by a random angle, a fraction of a full turn
    drawn from ``factor`` (positive: counter-clockwise).

    Args:
        factor: a number ``f`` (angles in ``[-f, f] * 360`` degrees) or a pair.
        fill_mode: ``'reflect'`` (default), ``'wrap'``, ``'constant'`` or ``'nearest'``:
            how pixels read from outside the image are filled.
        interpolation: ``'bilinear'`` or ``'nearest'``.
        seed: integer seed of the layer's own generator.
        fill_value: the value outside the image with ``fill_mode='constant'``.
    """

    _config_keys = _AffineLayer._config_keys + ("factor",)

    def __init__(self, factor, fill_mode="reflect", interpolation="bilinear", seed=None,
                 fill_value=0.0, value_range=(0, 255), data_format=None, **kwargs):
        super().__init__(fill_mode, interpolation, seed, fill_value, data_format, **kwargs)
        self.factor = _symmetric_factor(factor)
        self.value_range = value_range

    def _transforms(self, n, rows, cols):
        lower, upper = self.factor
        angle = np.deg2rad(self._generator().uniform(lower * 360.0, upper * 360.0, size=n))
        cos, sin = np.cos(angle), np.sin(angle)
        cx, cy = 0.5 * (cols - 1), 0.5 * (rows - 1)
        # the output pixel reads the input rotated back about the centre (Keras's matrix)
        return np.stack([cos, -sin, cx - cx * cos + cy * sin,
                         sin, cos, cy - cx * sin - cy * cos,
                         np.zeros(n), np.zeros(n)], axis=1)



def _factor_pair(factor, name):
    """A number ``f`` means ``(-f, f)``; a pair is kept; no bound below -1."""
    if isinstance(factor, (tuple, list)):
        if len(factor) != 2:
            raise ValueError(f"`{name}` should be a float or a tuple of 2 floats. "
                             f"Received: {name}={factor}")
        lower, upper = float(factor[0]), float(factor[1])
    elif isinstance(factor, (int, float)) and not isinstance(factor, bool):
        lower, upper = -abs(factor), abs(factor)
    else:
        raise ValueError(f"`{name}` should be a float or a tuple of 2 floats. "
                         f"Received: {name}={factor}")
    if lower > upper or lower < -1.0 or (name.endswith("_factor") and upper > 1.0
                                         and not name.startswith("zoom")):
        raise ValueError(f"`{name}` must be in the range [-1, 1] with lower <= upper. "
                         f"Received: {name}={factor}")
    return lower, upper


class RandomTranslation(_AffineLayer):
    """Shifts each image by a random fraction of its height and width.

    Args:
        height_factor, width_factor: a number ``f`` (shift in ``[-f, f]`` of the size;
            positive: down / right) or a pair ``(lower, upper)``.
        fill_mode, interpolation, seed, fill_value: as RandomRotation.
    """

    _config_keys = _AffineLayer._config_keys + ("height_factor", "width_factor")

    def __init__(self, height_factor, width_factor, fill_mode="reflect",
                 interpolation="bilinear", seed=None, fill_value=0.0, data_format=None,
                 **kwargs):
        super().__init__(fill_mode, interpolation, seed, fill_value, data_format, **kwargs)
        self.height_factor = height_factor
        self.width_factor = width_factor
        self._height = _factor_pair(height_factor, "height_factor")
        self._width = _factor_pair(width_factor, "width_factor")

    def _transforms(self, n, rows, cols):
        rng = self._generator()
        dy = rng.uniform(*self._height, size=n) * rows
        dx = rng.uniform(*self._width, size=n) * cols
        one, zero = np.ones(n), np.zeros(n)
        return np.stack([one, zero, -dx, zero, one, -dy, zero, zero], axis=1)



class RandomZoom(_AffineLayer):
    """Zooms each image about its centre by a random factor: ``1 + f`` with ``f``
    drawn from ``height_factor`` (positive: zoom out, the image shrinks).

    Args:
        height_factor: a number ``f`` (``[-f, f]``) or a pair ``(lower, upper)``, >= -1.
        width_factor: the same for the width; None zooms both axes alike.
        fill_mode, interpolation, seed, fill_value: as RandomRotation.
    """

    _config_keys = _AffineLayer._config_keys + ("height_factor", "width_factor")

    def __init__(self, height_factor, width_factor=None, fill_mode="reflect",
                 interpolation="bilinear", seed=None, fill_value=0.0, data_format=None,
                 **kwargs):
        super().__init__(fill_mode, interpolation, seed, fill_value, data_format, **kwargs)
        self.height_factor = height_factor
        self.width_factor = width_factor
        self._height = _factor_pair(height_factor, "zoom height_factor")
        self._width = None if width_factor is None else _factor_pair(
            width_factor, "zoom width_factor")

    def _transforms(self, n, rows, cols):
        rng = self._generator()
        zoom_y = 1.0 + rng.uniform(*self._height, size=n)
        zoom_x = zoom_y if self._width is None else 1.0 + rng.uniform(*self._width, size=n)
        zero = np.zeros(n)
        return np.stack([zoom_x, zero, (cols - 1) / 2.0 * (1.0 - zoom_x),
                         zero, zoom_y, (rows - 1) / 2.0 * (1.0 - zoom_y), zero, zero], axis=1)

