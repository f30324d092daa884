"""Dense: ``z = x @ W + b``.

Shapes: ``x`` (n, d_in), ``W`` (d_in, units), ``b`` (units,) or None, ``z`` (n, units).
Backward from ``dz = dL/dz``: ``dW = x^T dz``, ``db = sum over rows of dz``,
``dx = dz W^T``.
"""

from __future__ import annotations


def dense_kernel_order(units) -> str:
    """The memory order a Dense kernel is stored in: row-major (NumPy's default)."""
    return "C"


def dense_forward(x, kernel, bias):
    """``z = x @ W + b`` (no bias when ``bias`` is None). Returns a new array."""
    z = x @ kernel
    if bias is not None:
        z = z + bias
    return z


def dense_backward(dz, x, kernel, dkernel, dbias, need_dx=True):
    """Writes ``dW = x^T dz`` into ``dkernel`` and ``db = sum(dz)`` into ``dbias``
    (if not None); returns ``dx = dz W^T`` (None unless ``need_dx``)."""
    dkernel[...] = x.T @ dz
    if dbias is not None:
        dbias[...] = dz.sum(axis=0)
    if not need_dx:
        return None
    return dz @ kernel.T
