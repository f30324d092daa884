"""``%load_ext tinyann``: the shims of ``tinyann run`` in any IPython kernel or shell.

After it, ``import tensorflow as tf``, ``from tensorflow import keras`` and
``import keras`` give tinyann, as in a script run by ``tinyann run``;
``%unload_ext tinyann`` puts back what was there. The tinyann kernel
(``tinyann jupyter install``) loads it at start-up (``--ext=tinyann``).

Figures: a Jupyter kernel draws them inline already (ipykernel's default backend,
which the tinyann kernel sets explicitly), so ``plt.show()`` is left as it is.
"""

from __future__ import annotations

import os
import sys

from tinyann.runner.serving import install_serving

_UNDO = []


def load_ipython_extension(ipython) -> None:
    """Serves ``keras`` / ``tensorflow`` from tinyann in this kernel (once)."""
    if _UNDO:
        return
    _UNDO.append(install_serving())
    _point_tensorboard_at_this_environment()


def _point_tensorboard_at_this_environment() -> None:
    """``%tensorboard`` runs the ``tensorboard`` command found on PATH; a kernel started
    from a virtual environment that is not activated would not find it, so the one beside
    this Python is named (``TENSORBOARD_BINARY``, TensorBoard's own setting) unless set."""
    script = os.path.join(os.path.dirname(sys.executable), "tensorboard")
    if "TENSORBOARD_BINARY" not in os.environ and os.path.isfile(script):
        os.environ["TENSORBOARD_BINARY"] = script


def unload_ipython_extension(ipython) -> None:
    """Stops serving; a real Keras set aside on loading is put back."""
    while _UNDO:
        _UNDO.pop()()
