"""``keras.dtype_policies``: a layer's dtype policy, and the global one.

tinyann computes in the dtype of a layer's weights. A float policy (``'float32'``,
``'float64'``, ``'float16'``) is that dtype for both. A mixed policy
(``'mixed_float16'``, ``'mixed_bfloat16'``: float32 weights, 16-bit computation in
Keras) is accepted, with a warning, and kept by name, but tinyann computes it in
float32: its ``compute_dtype`` says so (``'float32'``, where Keras says
``'float16'``). The weights are float32 either way, as Keras keeps them, so results
differ from Keras's only by the 16-bit rounding Keras does and tinyann does not.
The speed-up mixed precision brings on GPUs does not exist on tinyann's CPU path.
"""

from __future__ import annotations

import warnings

from tinyann import backend

_MIXED = {"mixed_float16": "float16", "mixed_bfloat16": "bfloat16"}
_COMPUTED = ("float16", "float32", "float64")


class DTypePolicy:
    """A layer's dtype policy: the dtype of its weights and of its computation.

    Args:
        name: ``'float32'`` (any dtype name), ``'mixed_float16'`` or
            ``'mixed_bfloat16'``; None: the global policy's.
    """

    def __init__(self, name=None):
        if name is None:
            name = dtype_policy().name
        self._name = name
        self._compute_dtype, self._variable_dtype = self._parse_name(name)
        self._quantization_mode = None

    @staticmethod
    def _parse_name(name):
        if not isinstance(name, str):
            raise TypeError("'name' must be a string, such as 'mixed_float16'. Received: "
                            f"name={name} (of type {type(name)})")
        if name in _MIXED:
            return "float32", "float32"  # computed in float32 by tinyann (module docstring)
        try:
            dtype = backend.standardize_dtype(name)
        except ValueError:
            raise ValueError(
                f"Cannot convert '{name}' to a mixed precision DTypePolicy. Valid policies "
                "include 'mixed_float16', 'mixed_bfloat16', and the name of any float dtype "
                "such as 'float32'.") from None
        if dtype in ("bfloat16",) or dtype.startswith("float8"):
            raise NotImplementedError(
                f"tinyann computes in NumPy dtypes, which have no {dtype}: use 'float32' "
                "(or 'mixed_bfloat16', computed in float32)")
        return dtype, dtype

    @property
    def name(self) -> str:
        return self._name

    @property
    def compute_dtype(self) -> str:
        """The dtype tinyann computes in (float32 for a mixed policy)."""
        return self._compute_dtype

    @property
    def variable_dtype(self) -> str:
        return self._variable_dtype

    @property
    def quantization_mode(self):
        return self._quantization_mode

    def get_config(self) -> dict:
        return {"name": self.name}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __eq__(self, other):
        return type(other) is type(self) and other.name == self.name

    def __hash__(self):
        return hash((type(self), self.name))

    def __repr__(self):
        return f'<{type(self).__name__} "{self._name}">'


class FloatDTypePolicy(DTypePolicy):
    """Keras's former name of the float policies (a DTypePolicy)."""


def _warn_mixed(name, stacklevel=3) -> None:
    warnings.warn(
        f"The dtype policy {name!r} is accepted, but tinyann computes it in float32 "
        f"(its weights are float32, as in Keras; Keras would compute in "
        f"{_MIXED[name]}). Results are float32's, and there is no mixed-precision "
        "speed-up on tinyann's CPU path.", stacklevel=stacklevel)


def set_dtype_policy(policy) -> None:
    """Sets the global policy: the default of every layer made from now on."""
    if not isinstance(policy, DTypePolicy):
        if not isinstance(policy, str):
            raise ValueError(
                "Invalid `policy` argument. Expected the string name of a policy (such as "
                "'mixed_float16') or a `DTypePolicy` instance. Received: "
                f"policy={policy} (of type {type(policy)})")
        policy = DTypePolicy(policy)
    if policy.name in _MIXED:
        _warn_mixed(policy.name)
    backend._DTYPE_POLICY = policy


def dtype_policy() -> DTypePolicy:
    """The global policy (``floatx()``'s when none was set)."""
    policy = backend._DTYPE_POLICY
    return policy if policy is not None else DTypePolicy(backend.floatx())


# keras.mixed_precision's names
set_global_policy = set_dtype_policy
global_policy = dtype_policy
Policy = DTypePolicy

_CLASSES = {"DTypePolicy": DTypePolicy, "FloatDTypePolicy": FloatDTypePolicy}


def get(identifier) -> DTypePolicy:
    """A policy from None (the global one), a name, a config dict or a policy."""
    if identifier is None:
        return dtype_policy()
    if isinstance(identifier, DTypePolicy):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        return DTypePolicy(identifier)
    try:
        return DTypePolicy(backend.standardize_dtype(identifier))
    except (ValueError, TypeError):
        raise ValueError(f"Cannot interpret `dtype` argument. Expected a string or an "
                         f"instance of DTypePolicy. Received: dtype={identifier}") from None


def serialize(policy) -> dict:
    return {"module": "keras", "class_name": type(policy).__name__,
            "config": policy.get_config(), "registered_name": None}


def deserialize(config, custom_objects=None) -> DTypePolicy:
    name = config.get("class_name")
    cls = _CLASSES.get(name)
    if cls is None:
        raise ValueError(f"Unknown dtype policy {name!r}: tinyann has {sorted(_CLASSES)} "
                         "(no quantized policies)")
    return cls.from_config(config.get("config") or {})


def layer_dtype(dtype) -> str:
    """The dtype a layer given ``dtype`` (None, a name, a policy, a NumPy dtype) keeps
    its weights and computes in: the global policy's when None."""
    if dtype is None:
        policy = backend._DTYPE_POLICY
        return backend.floatx() if policy is None else policy.variable_dtype
    if isinstance(dtype, str) and dtype in _COMPUTED:
        return dtype
    return get(dtype).variable_dtype


def mixed_policy(dtype):
    """The mixed policy a layer given ``dtype`` follows (its own or the global one),
    else None."""
    if dtype is None:  # (the global one warned when it was set)
        policy = backend._DTYPE_POLICY
        return policy if policy is not None and policy.name in _MIXED else None
    if isinstance(dtype, str):
        dtype = DTypePolicy(dtype) if dtype in _MIXED else None
    if isinstance(dtype, DTypePolicy) and dtype.name in _MIXED:
        _warn_mixed(dtype.name, stacklevel=4)
        return dtype
    return None


__all__ = ["DTypePolicy", "FloatDTypePolicy", "get", "serialize", "deserialize"]
