"""The module objects ``tinyann run`` serves as ``keras``, ``tensorflow`` and their submodules.

    keras, tensorflow.keras          -> tinyann
    keras.layers, keras.datasets.mnist, tensorflow.keras.models ...
                                     -> tinyann.layers, tinyann.datasets.mnist, tinyann.models
    tensorflow, tensorflow.data ...  -> tinyann.runner.shims.tensorflow and its namespaces

Each is a :class:`ServedModule`: a thin module object named as the script imports it
that forwards attribute reads to the tinyann object behind it, and turns a missing
name into a :class:`~tinyann.runner.shims._errors.NotServedError` that says what is
missing and what tinyann has instead. A Keras submodule is served when it is one of
Keras 3's public modules and tinyann has it, so new tinyann modules are picked up.
"""

from __future__ import annotations

import importlib
import types

from tinyann.runner.shims._errors import NotServedError

#: Keras 3's public modules (keras/api): served when tinyann has the same module
KERAS_MODULES = frozenset({
    "activations", "applications", "backend", "callbacks", "config", "constraints",
    "datasets", "datasets.boston_housing", "datasets.california_housing", "datasets.cifar10",
    "datasets.cifar100", "datasets.fashion_mnist", "datasets.imdb", "datasets.mnist",
    "datasets.reuters", "distribution", "dtype_policies", "export", "initializers", "layers",
    "legacy", "losses", "metrics", "mixed_precision", "models", "ops", "optimizers",
    "optimizers.schedules", "preprocessing", "preprocessing.image", "preprocessing.sequence",
    "preprocessing.text", "quantizers", "random", "regularizers", "saving", "tree", "utils",
    "visualization", "wrappers",
})

_PROXIES: dict[str, ServedModule] = {}
_TARGETS: dict[str, object] = {}
_MISSING = object()


def is_served_name(name: str) -> bool:
    """Whether ``name`` belongs to the ``keras`` or ``tensorflow`` trees that runs take over."""
    root = name.partition(".")[0]
    return root in ("keras", "tensorflow")


def _keras_version():
    import tinyann

    # the Keras 3 API, run by tinyann (the local part of the version says so)
    return f"3.0.0+tinyann.{tinyann.__version__}"


def resolve(name: str):
    """The tinyann object served as module ``name``, or None when nothing is."""
    target = _TARGETS.get(name, _MISSING)
    if target is _MISSING:
        target = _TARGETS[name] = _resolve(name)
    return target


def _resolve(name):
    parts = name.split(".")
    if parts[:2] == ["tensorflow", "keras"]:
        parts = parts[1:]
    if parts[0] == "keras":
        sub = ".".join(parts[1:])
        if sub and sub not in KERAS_MODULES:
            return None
        full = "tinyann" + (f".{sub}" if sub else "")
        try:
            return importlib.import_module(full)
        except ModuleNotFoundError as error:
            if error.name and (full + ".").startswith(error.name + "."):
                return None  # tinyann has no such module (yet)
            raise
    if parts[0] != "tensorflow":
        return None
    from tinyann.runner.shims import tensorflow as tf

    tf.serve_module = module  # `tf.keras`: the served `tensorflow.keras`
    obj = tf
    for part in parts[1:]:
        allowed = tf.SERVED if obj is tf else vars(obj)
        value = vars(obj).get(part) if part in allowed else None
        if not isinstance(value, tf.Namespace):
            return None
        obj = value
    return obj


def module(name: str) -> ServedModule:
    """The served module object for ``name`` (one per name, reused across runs)."""
    proxy = _PROXIES.get(name)
    if proxy is None:
        target = resolve(name)
        if target is None:
            raise not_served_import(name)
        proxy = _PROXIES[name] = ServedModule(name, target)
    return proxy


def not_served_import(name: str) -> ModuleNotFoundError:
    """The import error for ``import name`` when tinyann serves no such module."""
    parent, _, last = name.rpartition(".")
    keras_sub = name.removeprefix("tensorflow.").partition(".")[2]
    if parent and resolve(parent) is not None and keras_sub not in KERAS_MODULES:
        # `from keras.layers import Name` ends here too (Python tries a submodule when
        # the attribute is missing), so explain the attribute
        try:
            getattr(module(parent), last)
        except AttributeError as error:
            return ModuleNotFoundError(f"No module or name '{last}' in '{parent}': {error}")
    if name.startswith("tensorflow") and not name.startswith("tensorflow.keras"):
        what = ("tensorflow (tf.keras, tf.math, tf.nn, tf.linalg, tf.random, tf.config, "
                "tf.data, tf.dtypes; see "
                "tinyann.runner.shims.tensorflow)")
    else:
        have = sorted(m for m in KERAS_MODULES if "." not in m and resolve(f"keras.{m}"))
        what = f"keras and tensorflow.keras with tinyann's modules ({', '.join(have)})"
    import tinyann

    error = ModuleNotFoundError(
        f"No module named '{name}': `tinyann run` serves {what}, and {name} is not among "
        f"them in tinyann {tinyann.__version__}.")
    # no `name=`: `from keras import x` would hide this message behind a generic one
    return error


class ServedModule(types.ModuleType):
    """``keras.layers`` & co. for one run: forwards to the tinyann object behind it."""

    def __init__(self, name, target):
        super().__init__(name, getattr(target, "__doc__", None))
        self._tinyann_target = target
        self.__path__ = []  # a package, so `import keras.layers` reaches the run's finder
        if name in ("keras", "tensorflow.keras"):
            self.__version__ = _keras_version()
        elif name == "tensorflow":
            self.__version__ = target.__version__

    def __getattr__(self, attr):
        if attr.startswith("__") and attr.endswith("__"):
            raise AttributeError(f"module {self.__name__!r} has no attribute {attr!r}")
        child = f"{self.__name__}.{attr}"
        if resolve(child) is not None:
            value = module(child)
        else:
            value = self._lookup(attr)
        self.__dict__[attr] = value  # later reads skip __getattr__
        return value

    def _lookup(self, attr):
        target = self._tinyann_target
        if self.__name__ == "tensorflow" and attr not in target.SERVED:
            return vars(target)["__getattr__"](attr)  # raises, with a hint
        try:
            return getattr(target, attr)
        except NotServedError:
            raise
        except AttributeError:
            raise _missing_keras_name(self.__name__, attr, self._public_names()) from None

    def _public_names(self):
        target = self._tinyann_target
        listed = "SERVED" if self.__name__ == "tensorflow" else "__all__"
        names = getattr(target, listed, None) or [
            n for n in dir(target) if not n.startswith("_")]
        return sorted(n for n in names if not n.startswith("_"))

    def __dir__(self):
        return sorted(set(self._public_names()) | set(self.__dict__))

    def __repr__(self):
        return f"<module '{self.__name__}' (served by tinyann from {self._target_name()})>"

    def _target_name(self):
        return getattr(self._tinyann_target, "__name__", type(self._tinyann_target).__name__)


def _missing_keras_name(module_name, attr, available):
    import tinyann

    shown = ", ".join(available[:40]) + (", ..." if len(available) > 40 else "")
    return NotServedError(
        f"`{module_name}.{attr}` is not in tinyann {tinyann.__version__}, which serves "
        f"`{module_name.split('.')[0]}` for this run. {module_name} here has: {shown}.")
