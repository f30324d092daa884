"""Serving ``keras`` and ``tensorflow`` from tinyann: an import hook for the length of a block.

``import keras``, ``import tensorflow as tf``, ``from tensorflow.keras.layers import
Dense`` and the like are served from tinyann by a finder placed first on
``sys.meta_path`` (the module objects are in :mod:`tinyann.runner.shims.modules`);
entries under those names already in ``sys.modules`` (a real Keras imported earlier in
the process) are set aside and put back afterwards, and the served ones removed.

    with served_modules():
        import keras            # tinyann
"""

from __future__ import annotations

import contextlib
import importlib.machinery
import sys
import types

from tinyann.runner.shims import modules

# TensorBoard's switch to its own TensorFlow stub (tensorboard.compat.tf imports
# `tensorboard.compat.notf` first): the served `tensorflow` has no tf.io for its event
# writer and readers, so while serving, TensorBoard must not take it for TensorFlow.
_TENSORBOARD_NO_TF = "tensorboard.compat.notf"

__all__ = ["served_modules", "install_serving", "is_serving"]


class _ServingFinder:
    """A meta path finder and loader for the ``keras`` and ``tensorflow`` trees."""

    def find_spec(self, fullname, path=None, target=None):
        if not modules.is_served_name(fullname):
            return None
        if modules.resolve(fullname) is None:
            raise modules.not_served_import(fullname)
        return importlib.machinery.ModuleSpec(fullname, self, is_package=True)

    def create_module(self, spec):
        return modules.module(spec.name)

    def exec_module(self, module):
        pass  # nothing to run: the served module forwards to tinyann


def install_serving():
    """Serves ``keras`` / ``tensorflow`` from tinyann from now on (a kernel, ``%load_ext``).

    Returns:
        a function of no arguments that undoes it: the served modules removed and the
        ones set aside put back. Calling it twice does nothing more.
    """
    saved = {n: m for n, m in sys.modules.items() if modules.is_served_name(n)}
    for name in saved:
        del sys.modules[name]
    finder = _ServingFinder()
    sys.meta_path.insert(0, finder)
    marked = _TENSORBOARD_NO_TF not in sys.modules
    if marked:
        sys.modules[_TENSORBOARD_NO_TF] = types.ModuleType(_TENSORBOARD_NO_TF)

    def undo():
        if finder not in sys.meta_path:
            return
        sys.meta_path.remove(finder)
        if marked:
            sys.modules.pop(_TENSORBOARD_NO_TF, None)
        for name in [n for n in sys.modules if modules.is_served_name(n)]:
            del sys.modules[name]
        sys.modules.update(saved)

    return undo


def is_serving() -> bool:
    """Whether a finder of this module is on ``sys.meta_path`` (served names active)."""
    return any(isinstance(f, _ServingFinder) for f in sys.meta_path)


@contextlib.contextmanager
def served_modules():
    """Serves ``keras`` / ``tensorflow`` from tinyann inside the block; restores after."""
    undo = install_serving()
    try:
        yield
    finally:
        undo()
