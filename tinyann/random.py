"""``keras.random``: random tensors from a seed, a SeedGenerator or tinyann's generator.

``seed`` may be None (tinyann's global generator, set by ``keras.utils.set_random_seed``),
an int (the same numbers every call, as Keras's stateless ops) or a ``SeedGenerator``
(new numbers every call, reproducible from its seed).
"""

from __future__ import annotations

import numpy as np

from tinyann import backend
from tinyann.autodiff import Tensor, record


class SeedGenerator:
    """A random state that advances at each use (Keras's ``keras.random.SeedGenerator``).

    Args:
        seed: an int, or None for one drawn from tinyann's generator.
    """

    def __init__(self, seed=None, name=None, **kwargs):
        if seed is not None and (isinstance(seed, bool) or not isinstance(
                seed, (int, np.integer))):
            raise ValueError(f"Argument `seed` must be an integer. Received: seed={seed!r}")
        self.seed = int(backend.rng().integers(2**31)) if seed is None else int(seed)
        self.name = name or "seed_generator"
        self._rng = np.random.default_rng(self.seed)

    def next(self) -> np.random.Generator:
        return self._rng


def _generator(seed) -> np.random.Generator:
    if seed is None:
        return backend.rng()
    if isinstance(seed, SeedGenerator):
        return seed.next()
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
        return np.random.default_rng(int(seed))
    raise ValueError(
        f"Argument `seed` must be either an integer or an instance of "
        f"`SeedGenerator`. Received: seed={seed!r} (of type {type(seed)})")


def _floatx(dtype):
    return dtype or backend.floatx()


def normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    """Samples of N(mean, stddev²), ``shape``."""
    return Tensor(_generator(seed).normal(mean, stddev, size=tuple(shape)).astype(
        _floatx(dtype)))


def uniform(shape, minval=0.0, maxval=1.0, dtype=None, seed=None):
    """Samples of U[minval, maxval), ``shape``."""
    return Tensor(_generator(seed).uniform(minval, maxval, size=tuple(shape)).astype(
        _floatx(dtype)))


def randint(shape, minval, maxval, dtype="int32", seed=None):
    """Integers in [minval, maxval), ``shape``."""
    return Tensor(_generator(seed).integers(minval, maxval, size=tuple(shape)).astype(dtype))


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    """N(mean, stddev²) redrawn outside two standard deviations."""
    rng = _generator(seed)
    values = rng.standard_normal(tuple(shape))
    bad = np.abs(values) > 2
    while bad.any():
        values[bad] = rng.standard_normal(int(bad.sum()))
        bad = np.abs(values) > 2
    return Tensor((mean + stddev * values).astype(_floatx(dtype)))


def shuffle(x, axis=0, seed=None):
    """``x`` with its slices along ``axis`` in a random order."""
    value = np.asarray(x)
    order = _generator(seed).permutation(value.shape[axis])
    return Tensor(np.take(value, order, axis=axis))


def dropout(inputs, rate, noise_shape=None, seed=None):
    """Zeroes each value with probability ``rate`` and scales the rest by
    1 / (1 - rate); the gradient passes through the same mask."""
    if not 0 <= rate < 1:
        raise ValueError(f"Invalid value received for argument `rate`. Expected a float "
                         f"value between 0 and 1. Received: rate={rate}")
    value = np.asarray(inputs.value if isinstance(inputs, Tensor) else inputs)
    shape = value.shape if noise_shape is None else tuple(
        value.shape[i] if n is None else n for i, n in enumerate(noise_shape))
    keep = _generator(seed).random(shape) >= rate
    mask = (keep / (1 - rate)).astype(value.dtype)
    # linear in g (Tensor or array alike): differentiable again
    return record(value * mask, (inputs,), lambda g: (g * mask,), differentiable=True)


def categorical(logits, num_samples, dtype="int32", seed=None):
    """Class indices drawn from the softmax of each row of ``logits`` (batch, classes):
    (batch, num_samples)."""
    z = np.asarray(logits.value if isinstance(logits, Tensor) else logits, dtype="float64")
    if z.ndim != 2:
        raise ValueError(
            f"`logits` should be a 2-D tensor (batch, num_classes). Received: "
            f"logits.shape={z.shape}")
    p = np.exp(z - z.max(axis=-1, keepdims=True))
    cumulative = np.cumsum(p / p.sum(axis=-1, keepdims=True), axis=-1)
    u = _generator(seed).random((z.shape[0], int(num_samples)))
    # the first class whose cumulative probability exceeds u (inverse-CDF sampling)
    picked = np.minimum((u[:, :, None] >= cumulative[:, None, :]).sum(axis=-1), z.shape[1] - 1)
    return Tensor(picked.astype(dtype))


def gamma(shape, alpha, dtype=None, seed=None):
    """Samples of Gamma(alpha, 1), ``shape``."""
    return Tensor(_generator(seed).gamma(alpha, 1.0, size=tuple(shape)).astype(
        _floatx(dtype)))


def beta(shape, alpha, beta, dtype=None, seed=None):
    """Samples of Beta(alpha, beta), ``shape``."""
    return Tensor(_generator(seed).beta(alpha, beta, size=tuple(shape)).astype(
        _floatx(dtype)))


def binomial(shape, counts, probabilities, dtype=None, seed=None):
    """Successes in ``counts`` trials of probability ``probabilities``, ``shape``; in
    floatx by default, as Keras."""
    return Tensor(_generator(seed).binomial(np.asarray(counts, dtype="int64"),
                                            probabilities, size=tuple(shape)).astype(
        _floatx(dtype)))
