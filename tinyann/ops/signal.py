"""Keras's Fourier transforms (``keras.ops.fft``, ``fft2``, ``ifft2``, ``rfft``,
``irfft``): complex values as a (real, imaginary) pair of real tensors, as Keras.

Each transform is linear, so its gradient is its adjoint applied to the output's
gradient G = dL/dRe y + i dL/dIm y (the input's gradient is dL/dRe x + i dL/dIm x):
fft: n · ifft(G); ifft2: fft2(G) / N; fft2: N · ifft2(G); rfft: Re(n · ifft(G padded
with zeros to n bins)); irfft: c_k · rfft(g)_k / n with c_k = 2 for the bins counted
twice (1 for the zero and, for even n, the last). The closures are NumPy-only (first
derivatives).
"""

from __future__ import annotations

import numpy as np

from tinyann.autodiff import record
from tinyann.ops.core import value_of as _v

__all__ = ["fft", "fft2", "ifft2", "rfft", "irfft", "stft"]


def _float_dtype(a):
    return a.dtype if np.issubdtype(a.dtype, np.floating) else np.dtype(np.float32)


def _pair(x, name):
    if not isinstance(x, (tuple, list)) or len(x) != 2:
        raise ValueError(f"ops.{name} expects a tuple (real, imag) of two tensors. "
                         f"Received: {type(x).__name__}")
    real, imag = np.asarray(_v(x[0])), np.asarray(_v(x[1]))
    if real.shape != imag.shape:
        raise ValueError(f"ops.{name}: the real and imaginary parts must have the same shape. "
                         f"Received: real.shape={real.shape}, imag.shape={imag.shape}")
    return real, imag


def _outputs(y, inputs, adjoint, dtype, label):
    """(Re y, Im y) as two recorded Tensors: each one's gradient is the adjoint of its
    part alone (G = g for the real part, i g for the imaginary part)."""
    def grads(gc):
        gx = adjoint(gc)
        out = [np.real(gx).astype(dtype)]
        if len(inputs) == 2:
            out.append(np.imag(gx).astype(dtype))
        return tuple(out)
    re = record(np.real(y).astype(dtype), inputs,
                lambda g: grads(np.asarray(g, dtype=np.complex128)), label=label)
    im = record(np.imag(y).astype(dtype), inputs,
                lambda g: grads(1j * np.asarray(g, dtype=np.complex128)), label=label)
    return re, im


def fft(x):
    """The discrete Fourier transform along the last axis of (real, imag)."""
    real, imag = _pair(x, "fft")
    n = real.shape[-1]
    y = np.fft.fft(real + 1j * imag, axis=-1)
    return _outputs(y, tuple(x), lambda g: n * np.fft.ifft(g, axis=-1), _float_dtype(real),
                    "ops.fft")


def fft2(x):
    """The 2-D discrete Fourier transform over the last two axes of (real, imag)."""
    real, imag = _pair(x, "fft2")
    size = real.shape[-1] * real.shape[-2]
    y = np.fft.fft2(real + 1j * imag, axes=(-2, -1))
    return _outputs(y, tuple(x), lambda g: size * np.fft.ifft2(g, axes=(-2, -1)),
                    _float_dtype(real), "ops.fft2")


def ifft2(x):
    """The inverse 2-D discrete Fourier transform over the last two axes."""
    real, imag = _pair(x, "ifft2")
    size = real.shape[-1] * real.shape[-2]
    y = np.fft.ifft2(real + 1j * imag, axes=(-2, -1))
    return _outputs(y, tuple(x), lambda g: np.fft.fft2(g, axes=(-2, -1)) / size,
                    _float_dtype(real), "ops.ifft2")


def rfft(x, fft_length=None):
    """The Fourier transform of a real signal along its last axis: the
    ``fft_length // 2 + 1`` non-negative frequencies (the signal cut or zero-padded to
    ``fft_length``, its own length by default)."""
    a = np.asarray(_v(x))
    length = a.shape[-1]
    n = length if fft_length is None else int(fft_length)
    y = np.fft.rfft(a, n=n, axis=-1)

    def adjoint(g):
        full = np.zeros(g.shape[:-1] + (n,), dtype=np.complex128)
        full[..., :g.shape[-1]] = g
        gx = np.real(n * np.fft.ifft(full, axis=-1))
        out = np.zeros(a.shape, dtype=np.float64)
        keep = min(n, length)
        out[..., :keep] = gx[..., :keep]     # cut samples had no effect; padded ones none
        return out
    return _outputs(y, (x,), adjoint, _float_dtype(a), "ops.rfft")


def irfft(x, fft_length=None):
    """The real signal of length ``fft_length`` (2 (bins - 1) by default) whose rfft is
    the (real, imag) half spectrum ``x``."""
    real, imag = _pair(x, "irfft")
    bins = real.shape[-1]
    n = 2 * (bins - 1) if fft_length is None else int(fft_length)
    value = np.fft.irfft(real + 1j * imag, n=n, axis=-1).astype(_float_dtype(real))
    used = n // 2 + 1

    def vjp(g):
        # each used bin k contributes c_k Re(Y_k e^{2πikt/n}) / n: dL/dY_k = c_k rfft(g)_k / n
        weights = np.full(used, 2.0)
        weights[0] = 1.0
        if n % 2 == 0:
            weights[-1] = 1.0
        gy = np.fft.rfft(np.asarray(g, dtype=np.float64), n=n, axis=-1) * weights / n
        out = np.zeros(real.shape, dtype=np.complex128)
        keep = min(bins, used)
        out[..., :keep] = gy[..., :keep]
        # the imaginary parts of the zero (and, n even, the last) bin are ignored
        out[..., 0] = np.real(out[..., 0])
        if n % 2 == 0 and used - 1 < bins:
            out[..., used - 1] = np.real(out[..., used - 1])
        dtype = _float_dtype(real)
        return np.real(out).astype(dtype), np.imag(out).astype(dtype)
    return record(value, tuple(x), vjp, label="ops.irfft")


def _window(window, length, dtype):
    """A periodic Hann or Hamming window (scipy.signal.get_window's) or an array."""
    if isinstance(window, str):
        if window not in ("hann", "hamming"):
            raise ValueError(f"If a string is passed to `window`, it must be one of 'hann', "
                             f"'hamming'. Received: window={window!r}")
        a0 = 0.5 if window == "hann" else 0.54
        return (a0 - (1 - a0) * np.cos(2 * np.pi * np.arange(length) / length)).astype(dtype)
    win = np.asarray(_v(window), dtype)
    if win.shape != (length,):
        raise ValueError(f"The shape of `window` must be equal to [sequence_length]. "
                         f"Received: window shape={win.shape}")
    return win


def stft(x, sequence_length, sequence_stride, fft_length, window="hann", center=True):
    """The short-time Fourier transform of real signals along the last axis: frames of
    ``fft_length`` samples every ``sequence_stride``, each times the window (of
    ``sequence_length``, centred in ``fft_length``), then ``rfft``. ``center`` first
    pads ``fft_length // 2`` reflected samples on both sides. Returns (real, imag) of
    shape (..., frames, fft_length // 2 + 1). Composed of ops: differentiable in x."""
    from tinyann.ops import arrays as _arrays
    from tinyann.ops import numpy as knp
    if not 0 < int(sequence_length) <= int(fft_length):
        raise ValueError(f"`sequence_length` must be positive and at most `fft_length`. "
                         f"Received: sequence_length={sequence_length}, "
                         f"fft_length={fft_length}")
    a = np.asarray(_v(x))
    dtype = _float_dtype(a)
    if a.dtype != dtype:
        from tinyann.ops.core import cast
        x = cast(x, dtype)
    if center:
        half = int(fft_length) // 2
        x = _arrays.pad(x, ((0, 0),) * (a.ndim - 1) + ((half, half),), mode="reflect")
    total = np.shape(_v(x))[-1]
    frames = 1 + (total - int(fft_length)) // int(sequence_stride)
    if frames <= 0:
        raise ValueError(f"The signal ({a.shape[-1]} samples) is shorter than one frame of "
                         f"fft_length={fft_length}")
    left = (int(fft_length) - int(sequence_length)) // 2
    if window is None:
        win = np.ones(int(fft_length), dtype)   # no window: every sample of the frame
    else:
        win = np.zeros(int(fft_length), dtype)
        win[left:left + int(sequence_length)] = _window(window, int(sequence_length), dtype)
    index = np.arange(frames)[:, None] * int(sequence_stride) + np.arange(int(fft_length))
    framed = knp.multiply(knp.take(x, index, axis=-1), win)   # (..., frames, fft_length)
    return rfft(framed, fft_length=int(fft_length))
