"""Depthwise 2-D convolution (channels_last): every input channel convolved with its own
``depth_multiplier`` filters, no sum across channels.

Shapes: ``x`` (n, h, w, c), ``kernel`` (kh, kw, c, m) (Keras's ``depthwise_kernel``),
``bias`` (c*m,) or None; output ``z`` (n, oh, ow, c*m), channel ``ch*m + k`` from input
channel ``ch`` and its filter ``k`` (Keras's order). With ``fields`` the receptive
fields of the padded input, ``fields[b, y, x, i, j, ch] = x_pad[b, y*sh + i*dh,
x*sw + j*dw, ch]`` (as in conv.py)::

    z[b, y, x, ch, k] = sum_ij fields[b, y, x, i, j, ch] * kernel[i, j, ch, k] + bias
    dkernel[i, j, ch, k] = sum_byx fields[b, y, x, i, j, ch] * dz[b, y, x, ch, k]
    dfields[b, y, x, i, j, ch] = sum_k dz[b, y, x, ch, k] * kernel[i, j, ch, k]
    dx = col2im(dfields);   dbias = sum_byx dz
"""

from __future__ import annotations

import numpy as np

from tinyann.kernels.geometry import ConvGeometry, window_view
from tinyann.kernels.reference.conv import _pad, col2im


def depthwise_conv2d_forward(x, kernel, bias, strides, padding, dilation_rate, state=None,
                             training=False):
    """``z`` as above. Returns ``(z, ctx)``; ``ctx`` is what backward needs.

    ``state`` (the fast set's buffers) and ``training`` are not used here."""
    kh, kw, c, m = kernel.shape
    geo = ConvGeometry(x.shape, (kh, kw), strides, padding, dilation_rate)
    fields = window_view(_pad(x, geo), geo)  # (n, oh, ow, kh, kw, c), a view
    z = np.einsum("nyxijc,ijcm->nyxcm", fields, kernel)
    z = z.reshape(z.shape[:3] + (c * m,))
    if bias is not None:
        z = z + bias
    return z.astype(x.dtype, copy=False), (fields, geo)


def depthwise_conv2d_backward(dz, ctx, kernel, dkernel, dbias, need_dx=True):
    """Writes dL/dkernel into ``dkernel`` and dL/dbias into ``dbias`` (when not None);
    returns dL/dx (None unless ``need_dx``)."""
    fields, geo = ctx
    kh, kw, c, m = kernel.shape
    dz = dz.reshape(dz.shape[:3] + (c, m))
    dkernel[...] = np.einsum("nyxijc,nyxcm->ijcm", fields, dz)
    if dbias is not None:
        dbias[...] = dz.sum(axis=(0, 1, 2)).reshape(-1)
    if not need_dx:
        return None
    dfields = np.einsum("nyxcm,ijcm->nyxijc", dz, kernel)
    return col2im(dfields.reshape(-1, kh * kw * c), geo)


def pointwise_forward(u, kernel, bias):
    """The 1 x 1 convolution after a depthwise one (SeparableConv): ``z = u @ P + b``
    over the pixels. ``u`` (pixels, c*m), ``kernel`` P (c*m, filters), ``bias``
    (filters,) or None; returns z (pixels, filters)."""
    z = u @ kernel
    if bias is not None:
        z = z + bias
    return z


def pointwise_backward(dz, u, kernel, dkernel, dbias):
    """Writes ``dP = u^T dz`` into ``dkernel`` and ``db = sum(dz)`` into ``dbias`` (if not
    None); returns ``du = dz P^T`` (the depthwise kernel's gradient needs it always)."""
    dkernel[...] = u.T @ dz
    if dbias is not None:
        dbias[...] = dz.sum(axis=0)
    return dz @ kernel.T
