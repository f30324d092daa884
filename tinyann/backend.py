"""Numeric settings, the random state and unique names, shared by every module.

tinyann computes in float32 end to end (``floatx()``); gradient checks switch the
whole library to float64 with ``set_floatx("float64")``.
"""

from __future__ import annotations

import random as _py_random
import re

import numpy as np

_FLOATX = "float32"
_EPSILON = 1e-7
_RNG = np.random.default_rng()
_SEED: int | None = None
_NAME_COUNTS: dict[str, int] = {}


def floatx() -> str:
    """The float type of weights and activations: ``'float32'`` unless changed."""
    return _FLOATX


def set_floatx(value: str) -> None:
    """Sets the float type (``'float32'`` or ``'float64'``) for weights made from now on."""
    global _FLOATX
    if value not in ("float16", "float32", "float64"):
        raise ValueError(
            "Unknown `floatx` value. Expected one of 'float16', 'float32', 'float64'. "
            f"Received: floatx={value!r}"
        )
    _FLOATX = value


def epsilon() -> float:
    """The fuzz factor used in losses and optimizers (1e-7, as Keras)."""
    return _EPSILON


def set_epsilon(value: float) -> None:
    global _EPSILON
    _EPSILON = float(value)


def backend() -> str:
    """The name of the backend: always ``'numpy'``."""
    return "numpy"


def image_data_format() -> str:
    return "channels_last"


def set_random_seed(seed: int) -> None:
    """Seeds every random choice in tinyann, Python's ``random`` and NumPy's global state.

    Initializers, shuffling in ``fit`` and dropout masks all draw from one generator,
    so the same seed gives bit-identical weights and histories.
    """
    global _RNG, _SEED
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(
            f"Expected `seed` to be a non-negative integer. Received: seed={seed!r}"
        )
    _SEED = int(seed)
    _RNG = np.random.default_rng(_SEED)
    _py_random.seed(_SEED)
    np.random.seed(_SEED % 2**32)


def rng() -> np.random.Generator:
    """The generator every random choice in tinyann draws from."""
    return _RNG


def make_rng(seed: int | None = None) -> np.random.Generator:
    """A generator of its own for a layer or initializer given an explicit ``seed``.

    Without a seed it is spawned from the global generator, so it still follows
    ``set_random_seed``.
    """
    if seed is None:
        return np.random.default_rng(_RNG.integers(0, 2**63 - 1))
    return np.random.default_rng(int(seed))


def to_snake_case(name: str) -> str:
    """``'MaxPooling2D'`` -> ``'max_pooling2d'``, as Keras names layers."""
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    name = re.sub(r"([a-z])([A-Z])", r"\1_\2", name)
    return name.lower()


def unique_name(prefix: str) -> str:
    """``dense``, then ``dense_1``, ``dense_2``... as Keras's auto names."""
    count = _NAME_COUNTS.get(prefix, 0)
    _NAME_COUNTS[prefix] = count + 1
    return prefix if count == 0 else f"{prefix}_{count}"


def clear_session() -> None:
    """Resets the auto-name counters (``dense`` is again the next name)."""
    _NAME_COUNTS.clear()
