"""tinyann: Keras-compatible neural networks on NumPy, fast on an ordinary CPU.

    import tinyann as keras

    model = keras.Sequential([keras.Input((784,)), keras.layers.Dense(10, activation="softmax")])
    model.compile(loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=5)
"""

from tinyann import (
    activations,
    backend,
    callbacks,
    config,
    constraints,
    dtype_policies,
    initializers,
    layers,
    losses,
    metrics,
    mixed_precision,
    models,
    ops,
    optimizers,
    random,
    regularizers,
    utils,
)
from tinyann._version import __version__
from tinyann.dtype_policies import DTypePolicy, FloatDTypePolicy
from tinyann.initializers import Initializer
from tinyann.layers import Input, InputLayer, Layer
from tinyann.layers.input_spec import InputSpec
from tinyann.layers.keras_tensor import KerasTensor
from tinyann.losses import Loss
from tinyann.metrics import Metric
from tinyann.models import Model, Sequential
from tinyann.optimizers import Optimizer
from tinyann.regularizers import Regularizer
from tinyann.variables import Variable, name_scope

__all__ = ["Sequential", "Model", "Input", "InputLayer", "Layer", "Variable", "activations",
           "backend", "callbacks", "config", "datasets", "initializers", "layers", "losses",
           "metrics", "models", "ops", "optimizers", "preprocessing", "random", "regularizers",
           "saving", "utils",
           "constraints", "dtype_policies", "mixed_precision", "DTypePolicy",
           "FloatDTypePolicy", "Initializer", "InputSpec", "KerasTensor", "Loss", "Metric",
           "Optimizer", "Regularizer", "name_scope",
           "version",
           "__version__"]


def version():
    return __version__


def load_ipython_extension(ipython):
    """``%load_ext tinyann``: ``keras`` and ``tensorflow`` served by tinyann in IPython
    (:mod:`tinyann.runner.extension`, imported only now)."""
    from tinyann.runner import extension

    extension.load_ipython_extension(ipython)


def unload_ipython_extension(ipython):
    """``%unload_ext tinyann``: stops serving them."""
    from tinyann.runner import extension

    extension.unload_ipython_extension(ipython)


def __getattr__(name):
    # datasets and saving pull in gzip, urllib, zipfile and json: loaded on first use
    # so that `import tinyann` stays fast
    if name in ("datasets", "saving", "preprocessing"):
        import importlib

        module = importlib.import_module(f"tinyann.{name}")
        globals()[name] = module
        return module
    raise AttributeError(f"module 'tinyann' has no attribute {name!r}")
