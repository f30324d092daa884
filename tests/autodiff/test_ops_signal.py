"""tinyann.ops.signal: the Fourier transforms against numpy.fft, their (adjoint)
gradients against central differences, float32 kept."""

from __future__ import annotations

import numpy as np
import pytest

from tinyann import ops
from tinyann.autodiff import GradientTape, Tensor


def both(pair):
    # one real output from the (real, imag) pair, so both parts get a gradient
    re, im = pair
    return ops.concatenate([re, im * 1.5], axis=-1)


CASES = [
    ("fft", lambda r, i: both(ops.fft((r, i))), [(2, 5), (2, 5)]),
    ("fft2", lambda r, i: both(ops.fft2((r, i))), [(2, 3, 4), (2, 3, 4)]),
    ("ifft2", lambda r, i: both(ops.ifft2((r, i))), [(3, 4), (3, 4)]),
    ("rfft", lambda x: both(ops.rfft(x)), [(2, 6)]),
    ("rfft odd padded", lambda x: both(ops.rfft(x, fft_length=8)), [(2, 5)]),
    ("rfft cut", lambda x: both(ops.rfft(x, fft_length=4)), [(7,)]),
    ("irfft even", lambda r, i: ops.irfft((r, i)), [(2, 4), (2, 4)]),
    ("irfft odd length", lambda r, i: ops.irfft((r, i), fft_length=7), [(2, 4), (2, 4)]),
    ("irfft padded bins", lambda r, i: ops.irfft((r, i), fft_length=10), [(3,), (3,)]),
]


@pytest.mark.parametrize("name, fn, shapes", CASES, ids=[c[0] for c in CASES])
def test_gradients_match_central_differences(gradcheck, name, fn, shapes):
    rng = np.random.default_rng(sum(map(ord, name)))
    arrays = [rng.standard_normal(s) for s in shapes]
    inputs = [Tensor(a) for a in arrays]
    with GradientTape() as tape:
        tape.watch(inputs)
        out = fn(*inputs)
    upstream = rng.standard_normal(out.shape)
    grads = tape.gradient(out, inputs, output_gradients=Tensor(upstream))
    for array, grad in zip(arrays, grads):
        def scalar():
            return float(np.sum(np.asarray(fn(*[Tensor(a) for a in arrays])) * upstream))
        assert grad.shape == array.shape and grad.dtype == np.float64
        gradcheck.assert_close(grad.numpy(), gradcheck.numerical_grad(scalar, array),
                               rtol=1e-5, atol=1e-7)
    x32 = [Tensor(a.astype(np.float32)) for a in arrays]
    with GradientTape() as tape:
        tape.watch(x32)
        out = fn(*x32)
    assert out.dtype == np.float32
    assert all(g.dtype == np.float32 for g in tape.gradient(out, x32))


def test_values_are_numpy_fft():
    rng = np.random.default_rng(0)
    r, i = rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 3, 4))
    c = r + 1j * i
    for op, want in ((ops.fft, np.fft.fft(c)), (ops.fft2, np.fft.fft2(c)),
                     (ops.ifft2, np.fft.ifft2(c))):
        re, im = op((r, i))
        np.testing.assert_allclose(re.numpy() + 1j * im.numpy(), want, atol=1e-12)
    x = np.arange(6, dtype=np.float32)
    re, im = ops.rfft(x)
    assert re.dtype == np.float32
    np.testing.assert_allclose(re.numpy(), [15, -3, -3, -3], atol=1e-5)
    np.testing.assert_allclose(im.numpy(), [0, 3 * np.sqrt(3), np.sqrt(3), 0], atol=1e-5)
    np.testing.assert_allclose(ops.irfft((re, im)).numpy(), x, atol=1e-5)
    np.testing.assert_allclose(ops.irfft((re, im), 4).numpy(),
                               np.fft.irfft(re.numpy() + 1j * im.numpy(), 4), atol=1e-5)
    np.testing.assert_allclose(ops.rfft(x, 8)[0].numpy(), np.real(np.fft.rfft(x, 8)),
                               atol=1e-5)
    assert ops.rfft(np.arange(4))[0].dtype == np.float32
    with pytest.raises(ValueError, match=r"tuple \(real, imag\)"):
        ops.fft(x)
    with pytest.raises(ValueError, match="same shape"):
        ops.fft((x, x[:3]))


def _stft_numpy(x, seq, stride, n, window, center):
    if center:
        x = np.pad(x, [(0, 0)] * (x.ndim - 1) + [(n // 2, n // 2)], mode="reflect")
    k = np.arange(seq)
    if window is None:
        win = np.ones(n)
    else:
        a0 = 0.5 if window == "hann" else 0.54
        win = np.zeros(n)
        left = (n - seq) // 2
        win[left:left + seq] = a0 - (1 - a0) * np.cos(2 * np.pi * k / seq)
    frames = [x[..., s:s + n] * win for s in range(0, x.shape[-1] - n + 1, stride)]
    return np.fft.rfft(np.stack(frames, axis=-2), axis=-1)


def test_stft_values_and_gradient(gradcheck):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 20))
    for args in ((8, 4, 8, "hann", True), (6, 3, 8, "hamming", False),
                 (8, 5, 16, None, True)):
        re, im = ops.stft(x, *args[:3], window=args[3], center=args[4])
        np.testing.assert_allclose(re.numpy() + 1j * im.numpy(), _stft_numpy(x, *args),
                                   atol=1e-12)
    re, _ = ops.stft(x.astype(np.float32), 8, 4, 8)
    assert re.dtype == np.float32 and re.shape == (2, 6, 5)

    def fn(t):
        return both(ops.stft(t, 6, 3, 8, window="hamming"))
    t = Tensor(x)
    with GradientTape() as tape:
        tape.watch(t)
        out = fn(t)
    upstream = rng.standard_normal(out.shape)
    grad = tape.gradient(out, t, output_gradients=Tensor(upstream))

    def scalar():
        return float(np.sum(np.asarray(fn(Tensor(x))) * upstream))
    gradcheck.assert_close(grad.numpy(), gradcheck.numerical_grad(scalar, x), rtol=1e-5,
                           atol=1e-7)
    with pytest.raises(ValueError, match="window"):
        ops.stft(x, 8, 4, 8, window="kaiser")
    with pytest.raises(ValueError, match="sequence_length"):
        ops.stft(x, 9, 4, 8)
