"""Reverse-mode automatic differentiation for users' own math.

Built-in layers keep their hand-written ``backward``; this engine is for code written
with ``keras.ops`` (custom layers, losses, ``train_step`` overrides). It has two parts:

- :class:`Tensor` (``tensor.py``): an eager result, an ndarray with TensorFlow's
  ``.numpy()``, ``.shape`` and ``.dtype``;
- :class:`GradientTape` (``tape.py``): while a tape is open, each op whose inputs it
  watches appends one entry (output, inputs, a closure giving the inputs' gradients)
  to the tape; ``tape.gradient`` walks the entries backwards.
"""

from tinyann.autodiff.tape import GradientTape, paused, record, recording
from tinyann.autodiff.tensor import Tensor, is_tensor

__all__ = ["GradientTape", "Tensor", "is_tensor", "paused", "record", "recording"]
