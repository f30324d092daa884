"""Weight initializers with Keras's names, formulas and defaults.

Every initializer draws from ``backend.rng()`` (or its own ``seed``), so
``utils.set_random_seed`` makes weights reproducible.
"""

from __future__ import annotations

import math

import numpy as np

from tinyann import _identifiers, backend


def _fans(shape) -> tuple[float, float]:
    """(fan_in, fan_out) as Keras: kernels (..., in, out) count the receptive field."""
    shape = tuple(shape)
    if len(shape) == 0:
        return 1.0, 1.0
    if len(shape) == 1:
        return float(shape[0]), float(shape[0])
    if len(shape) == 2:
        return float(shape[0]), float(shape[1])
    receptive = math.prod(shape[:-2])
    return float(shape[-2] * receptive), float(shape[-1] * receptive)


def _truncated_unit_normal(rng, shape) -> np.ndarray:
    """Unit normal values, those beyond two standard deviations redrawn."""
    values = rng.normal(0.0, 1.0, size=shape)
    bad = np.abs(values) > 2.0
    while bad.any():
        values[bad] = rng.normal(0.0, 1.0, size=int(bad.sum()))
        bad = np.abs(values) > 2.0
    return values


class Initializer(_identifiers.Configurable):
    """Base class: ``initializer(shape, dtype=None) -> ndarray``."""

    def __call__(self, shape, dtype=None):
        raise NotImplementedError


class _Seeded(Initializer):
    """A random initializer: ``_draw(rng, shape)`` samples, float64; the config is the
    attributes named in ``_config_keys``, in Keras's order."""

    _config_keys: tuple[str, ...] = ("seed",)

    def __init__(self, seed=None):
        self.seed = seed

    def _rng(self):
        return backend.rng() if self.seed is None else np.random.default_rng(self.seed)

    def _draw(self, rng, shape) -> np.ndarray:
        raise NotImplementedError

    def __call__(self, shape, dtype=None):
        return self._draw(self._rng(), shape).astype(dtype or backend.floatx())

    def get_config(self):
        return {key: getattr(self, key) for key in self._config_keys}


class Zeros(Initializer):
    def __call__(self, shape, dtype=None):
        return np.zeros(shape, dtype=dtype or backend.floatx())


class Ones(Initializer):
    def __call__(self, shape, dtype=None):
        return np.ones(shape, dtype=dtype or backend.floatx())


class Constant(Initializer):
    def __init__(self, value=0.0):
        self.value = value

    def __call__(self, shape, dtype=None):
        return np.full(shape, self.value, dtype=dtype or backend.floatx())

    def get_config(self):
        return {"value": self.value}


class RandomUniform(_Seeded):
    _config_keys = ("minval", "maxval", "seed")

    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        super().__init__(seed)
        self.minval, self.maxval = minval, maxval

    def _draw(self, rng, shape):
        return rng.uniform(self.minval, self.maxval, size=shape)


class RandomNormal(_Seeded):
    _config_keys = ("mean", "stddev", "seed")

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        super().__init__(seed)
        self.mean, self.stddev = mean, stddev

    def _draw(self, rng, shape):
        return rng.normal(self.mean, self.stddev, size=shape)


class TruncatedNormal(RandomNormal):
    """Normal values redrawn until within two standard deviations of the mean."""

    def _draw(self, rng, shape):
        return self.mean + self.stddev * _truncated_unit_normal(rng, shape)


class VarianceScaling(_Seeded):
    """Keras's family behind glorot_* / he_* / lecun_*.

    Args:
        scale: positive float.
        mode: ``'fan_in'``, ``'fan_out'`` or ``'fan_avg'``.
        distribution: ``'truncated_normal'``, ``'untruncated_normal'`` or ``'uniform'``.
    """

    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None):
        super().__init__(seed)
        if scale <= 0.0:
            raise ValueError(
                f"Argument `scale` must be positive float. Received: scale={scale}"
            )
        if mode not in ("fan_in", "fan_out", "fan_avg"):
            raise ValueError(
                "Invalid `mode` argument: expected one of {'fan_in', 'fan_out', 'fan_avg'}. "
                f"Received: mode={mode}"
            )
        distribution = distribution.lower()
        if distribution == "normal":
            distribution = "truncated_normal"
        if distribution not in ("uniform", "truncated_normal", "untruncated_normal"):
            raise ValueError(
                "Invalid `distribution` argument: expected one of {'uniform', "
                "'truncated_normal', 'untruncated_normal'}. "
                f"Received: distribution={distribution}"
            )
        self.scale, self.mode, self.distribution = scale, mode, distribution

    _config_keys = ("scale", "mode", "distribution", "seed")

    def _draw(self, rng, shape):
        fan_in, fan_out = _fans(shape)
        fan = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}
        scale = self.scale / max(1.0, fan[self.mode])
        if self.distribution == "uniform":
            limit = math.sqrt(3.0 * scale)
            return rng.uniform(-limit, limit, size=shape)
        if self.distribution == "untruncated_normal":
            return rng.normal(0.0, math.sqrt(scale), size=shape)
        # 0.879... is the stddev of a unit normal truncated to [-2, 2]
        stddev = math.sqrt(scale) / 0.87962566103423978
        return stddev * _truncated_unit_normal(rng, shape)


def _variance_scaling(name, scale, mode, distribution):
    class _Named(VarianceScaling):
        _config_keys = ("seed",)

        def __init__(self, seed=None, input_axes=None, output_axes=None):
            # input_axes / output_axes: in Keras 3.15 configs (None unless EinsumDense)
            super().__init__(scale=scale, mode=mode, distribution=distribution, seed=seed)

    _Named.__name__ = _Named.__qualname__ = name
    return _Named


GlorotUniform = _variance_scaling("GlorotUniform", 1.0, "fan_avg", "uniform")
GlorotNormal = _variance_scaling("GlorotNormal", 1.0, "fan_avg", "truncated_normal")
HeUniform = _variance_scaling("HeUniform", 2.0, "fan_in", "uniform")
HeNormal = _variance_scaling("HeNormal", 2.0, "fan_in", "truncated_normal")
LecunUniform = _variance_scaling("LecunUniform", 1.0, "fan_in", "uniform")
LecunNormal = _variance_scaling("LecunNormal", 1.0, "fan_in", "truncated_normal")

class Orthogonal(_Seeded):
    """An orthogonal matrix (``gain`` times), Keras's default recurrent kernel: the QR
    factors of a normal draw of shape ``(rows, cols)`` flattened to 2-D, with the
    signs of R's diagonal folded into Q so that the draw is uniform over such matrices."""

    _config_keys = ("seed", "gain")

    def __init__(self, gain=1.0, seed=None):
        super().__init__(seed)
        self.gain = gain

    def _draw(self, rng, shape):
        if len(shape) < 2:
            raise ValueError("The tensor to initialize must be at least two-dimensional. "
                             f"Received: shape={tuple(shape)} of rank {len(shape)}.")
        cols = int(shape[-1])
        rows = int(np.prod(shape)) // cols
        flat = rng.standard_normal((max(rows, cols), min(rows, cols)))
        q, r = np.linalg.qr(flat)
        q = q * np.sign(np.diag(r))
        if rows < cols:
            q = q.T
        return self.gain * q.reshape(shape)


class Identity(Initializer):
    """``gain`` times the identity matrix (2-D shapes only; a rectangular one has ones
    on its main diagonal)."""

    def __init__(self, gain=1.0):
        self.gain = gain

    def __call__(self, shape, dtype=None):
        if len(shape) != 2:
            raise ValueError(
                "Identity matrix initializer can only be used for 2D matrices. "
                f"Received: shape={shape} of rank {len(shape)}.")
        dtype = dtype or backend.floatx()
        return (self.gain * np.eye(*shape)).astype(dtype)

    def get_config(self):
        # (Keras 3.15 writes {} and so loses the gain; a gain written here loads in both)
        return {"gain": self.gain}


_CLASSES = {
    cls.__name__: cls
    for cls in (
        Zeros, Ones, Constant, RandomUniform, RandomNormal, TruncatedNormal,
        VarianceScaling, GlorotUniform, GlorotNormal, HeUniform, HeNormal,
        LecunUniform, LecunNormal, Orthogonal, Identity,
    )
}
_CLASSES.update(IdentityInitializer=Identity, OrthogonalInitializer=Orthogonal)
_ALIASES = {
    "zeros": Zeros, "ones": Ones, "constant": Constant,
    "random_uniform": RandomUniform, "random_normal": RandomNormal,
    "truncated_normal": TruncatedNormal, "variance_scaling": VarianceScaling,
    "glorot_uniform": GlorotUniform, "glorot_normal": GlorotNormal,
    "he_uniform": HeUniform, "he_normal": HeNormal,
    "lecun_uniform": LecunUniform, "lecun_normal": LecunNormal,
    "orthogonal": Orthogonal, "identity": Identity,
}
_NAMES = {cls: name for name, cls in _ALIASES.items()}
# names Keras also takes (written back under the names above)
_IDENTIFIERS = _identifiers.Identifiers("initializer", Initializer, {
    **_ALIASES, "uniform": RandomUniform, "normal": RandomNormal, "one": Ones,
    "zero": Zeros}, _CLASSES)


def get(identifier) -> Initializer:
    """An initializer from a string (``'glorot_uniform'``), a Keras config dict or an instance."""
    found = _IDENTIFIERS.lookup(identifier)
    if found is not None:
        return found
    if callable(identifier):
        return _FunctionInitializer(identifier)
    raise _identifiers.not_understood("initializer", identifier,
                                      "a string, a config dict or an Initializer.")


def serialize(initializer: Initializer) -> dict:
    """Keras's config form: ``{'module', 'class_name', 'config', 'registered_name'}``."""
    return _identifiers.serialize(initializer, "keras.initializers")


def deserialize(config, custom_objects=None) -> Initializer:
    """An initializer from ``serialize``'s output (or a name)."""
    return get(_identifiers.deserializable(config, "initializer"))


class _FunctionInitializer(Initializer):
    def __init__(self, fn):
        self.fn = fn

    def __call__(self, shape, dtype=None):
        return np.asarray(self.fn(shape, dtype=dtype or backend.floatx()), dtype=dtype)


# Keras's other names: the same classes (``kernel_initializer=random_normal(stddev=0.1)``
# or the string "random_normal")
zeros, ones, constant = Zeros, Ones, Constant
random_uniform, random_normal, truncated_normal = RandomUniform, RandomNormal, TruncatedNormal
variance_scaling = VarianceScaling
glorot_uniform, glorot_normal = GlorotUniform, GlorotNormal
he_uniform, he_normal = HeUniform, HeNormal
lecun_uniform, lecun_normal = LecunUniform, LecunNormal
orthogonal = OrthogonalInitializer = Orthogonal
identity = IdentityInitializer = Identity
