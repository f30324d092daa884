"""A call with several inputs or outputs (a Model on ``[a, b]``, ``Concatenate()``,
a two-headed model) recorded on a GradientTape as ONE node.

``taped_call`` records a node with one operand and one output. Several are packed
into one: each input is flattened to ``(n, -1)`` and the inputs are concatenated with
``ops.concatenate`` (a recorded op, so the gradient reaches each input through it);
the node runs on that matrix and returns its outputs concatenated the same way; ops
slices and reshapes then give each output back (recorded too, so a loss on any output
reaches the node). The hand-written backward sees the lists it expects.
"""

from __future__ import annotations

import math

import numpy as np

from tinyann.autodiff import Tensor
from tinyann.layers.taped_call import taped_call


def _widths(arrays) -> list[int]:
    return [math.prod(a.shape[1:]) for a in arrays]


def _pack(arrays, n) -> np.ndarray:
    return np.concatenate([np.reshape(a, (n, -1)) for a in arrays], axis=1)


def _unpack(flat, shapes) -> list[np.ndarray]:
    out, start = [], 0
    for shape in shapes:
        width = math.prod(shape[1:])
        out.append(flat[:, start:start + width].reshape(shape))
        start += width
    return out


def taped_multi_call(owner, operands, arrays, run, backward):
    """Records ``run(arrays) -> outputs`` as one node on the open tapes.

    Args:
        owner: the layer or model called.
        operands: the inputs as the caller gave them, in ``arrays``' order (Tensors
            a tape may watch, or arrays).
        arrays: those inputs as float ndarrays, each with the batch axis first.
        run: ``run(list of arrays) -> list of output arrays`` (caching for backward).
        backward: ``backward(list of output gradients) -> list of input gradients``
            (None for an input that gets none); writes the weights' gradients.

    Returns:
        The list of output Tensors, each a recorded slice of the node's output.
    """
    from tinyann import ops

    n = arrays[0].shape[0]
    in_shapes = [a.shape for a in arrays]
    dtype = arrays[0].dtype
    out_shapes = []

    def packed_run(flat):
        outs = run(_unpack(flat, in_shapes))
        for o in outs:
            if np.ndim(o) == 0 or np.shape(o)[0] != n:
                raise NotImplementedError(
                    f"'{owner.name}' on a GradientTape: every output needs the batch axis "
                    f"of its inputs ({n} rows); received an output of shape {np.shape(o)}")
        out_shapes[:] = [np.shape(o) for o in outs]
        return _pack(outs, n)

    def packed_backward(g):
        grads = backward(_unpack(g, out_shapes))
        # an input the backward gives no gradient for (an integer index) gets zeros
        return _pack([np.zeros(s, dtype=g.dtype) if d is None else d
                      for d, s in zip(grads, in_shapes)], n)

    # the inputs as one recorded (n, total) matrix: ops.concatenate sends each input
    # its columns of the gradient
    pieces = [ops.reshape(x if isinstance(x, Tensor) or hasattr(x, "trainable")
                          else a, (n, -1)) for x, a in zip(operands, arrays)]
    operand = ops.cast(ops.concatenate(pieces, axis=1), dtype) if len(pieces) > 1 else \
        ops.cast(pieces[0], dtype)
    flat = taped_call(owner, operand, operand.numpy(), packed_run, packed_backward)
    outs, start = [], 0
    for shape in out_shapes:
        width = math.prod(shape[1:])
        outs.append(ops.reshape(flat[:, start:start + width], shape))
        start += width
    return outs
