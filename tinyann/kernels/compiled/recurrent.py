"""Recurrent layers with the time loop compiled (numba): the reference's signatures.

Where the time goes in a small recurrent layer (chapter 9: batch 64, 8 units, 100
steps) is not arithmetic but calls: the reference makes about 15 NumPy calls a step,
forward and backward, 3,000 a batch. Here:

1. the input's share of every step, ``a = x W + b``, is one matrix product over all
   the chunk's steps (``(samples * steps, features) @ (features, gates * units)``);
2. one compiled call runs the whole recurrence of a chunk of samples. Inside it the
   samples are the innermost axis (``z[gate_unit, sample]``), so every loop over them
   is a vector loop: the step's product ``(h m) U``, the gates, the state update;
3. backward, one compiled call runs the recurrence backward and writes ``dz`` of every
   step; the weights' gradients are then matrix products over all the chunk's steps:
   ``dW = X^T dZ``, ``dU = H_{t-1}^T dZ``, ``db = sum dZ``, and ``dx = dZ W^T``; the
   chunks' shares are summed;
4. a batch of 32 samples or more is cut into two chunks, and the second runs (items 1-3)
   in a worker thread (the kernels release the GIL): the chunks are independent in time.

What makes the loops vectorize (each measured; a loop that does not is 5-12x slower):
the activations are computed in place in one array (two arrays that numba cannot prove
apart stop LLVM), every loop over samples starts at 0 on arrays sliced to the chunk,
float32 constants (a Python float makes the whole expression float64), and division
without Python's zero check (``error_model="numpy"`` in tinyann/kernels/jit.py).
Measured on the chapter's LSTM (batch 64, one thread): forward 2.9 -> 0.33 ms,
backward 1.6 -> 0.21 ms.

The arrays a step makes (the projection, the cache, the products, dL/dx) come from
tinyann/kernels/pool.py: made afresh, they were 58,000 page faults in an epoch of the
chapter's LSTM, about a quarter of its time.

The kernels take tanh and sigmoid (Keras's defaults); other activations, and GRU
without ``reset_after``, run the reference. ``record=False`` (inference) keeps no cache.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from tinyann.kernels import pool
from tinyann.kernels.cores import usable_cores
from tinyann.kernels.jit import helper, kernel
from tinyann.kernels.reference import recurrent as reference

# tanh(x) = p(x) / q(x) on [-7.9053, 7.9053] (saturated beyond), p odd of degree 13,
# q even of degree 6: the rational approximation Eigen uses for float32. Max error
# 3.4e-7 (float32's own tanh: 6e-8), and unlike libm's tanhf and expf it has no call,
# so the gate loops compile to vector code.
_A0, _A1, _A2, _A3, _A4, _A5, _A6 = (np.float32(v) for v in (
    4.89352455891786e-03, 6.37261928875436e-04, 1.48572235717979e-05,
    5.12229709037114e-08, -8.60467152213735e-11, 2.00018790482477e-13,
    -2.76076847742355e-16))
_B0, _B1, _B2, _B3 = (np.float32(v) for v in (
    4.89352518554385e-03, 2.26843463243900e-03, 1.18534705686654e-04,
    1.19825839466702e-06))
_CLAMP = np.float32(7.90531110763549805)
_HALF, _ONE, _ZERO = np.float32(0.5), np.float32(1.0), np.float32(0.0)

#: the smallest chunk worth a thread of its own (a chunk of 16 samples runs the LSTM
#: step loop in about 0.1 ms; the hand-over to the worker costs some 20-50 us)
MIN_CHUNK = 16


@helper
def _tanh(x):
    """tanh by the rational approximation above (x a float32 scalar)."""
    x = _CLAMP if x > _CLAMP else x  # comparisons, not min/max: they vectorize
    x = -_CLAMP if x < -_CLAMP else x
    x2 = x * x
    p = (((((_A6 * x2 + _A5) * x2 + _A4) * x2 + _A3) * x2 + _A2) * x2 + _A1) * x2 + _A0
    q = ((_B3 * x2 + _B2) * x2 + _B1) * x2 + _B0
    return x * p / q


@helper
def _sigmoid(x):
    """1 / (1 + e^-x) = (1 + tanh(x / 2)) / 2."""
    return _HALF + _HALF * _tanh(_HALF * x)


def _compiled(activation, recurrent_activation):
    return activation == "tanh" and recurrent_activation == "sigmoid"


# ---------------------------------------------------------------- chunks and threads
_pool = None
_pool_pid = None
_pool_lock = threading.Lock()


def _worker():
    """One worker thread, made on first use (and again in a forked child, whose copy
    of the parent's thread does not run)."""
    global _pool, _pool_pid
    with _pool_lock:
        if _pool is None or _pool_pid != os.getpid():
            _pool = ThreadPoolExecutor(1, thread_name_prefix="tinyann-recurrent")
            _pool_pid = os.getpid()
    return _pool


def chunks(batch: int) -> list:
    """``[(start, stop), ...]``: the whole batch, or two halves when there is a second
    core and each half has at least :data:`MIN_CHUNK` samples."""
    if batch < 2 * MIN_CHUNK or usable_cores() < 2:
        return [(0, batch)]
    half = (batch + 1) // 2
    return [(0, half), (half, batch)]


def _run(count, task):
    """``task(k)`` for the ``count`` chunks (one or two): the first in this thread, the
    second in the worker, at the same time."""
    if count == 1:
        task(0)
        return
    future = _worker().submit(task, 1)
    try:
        task(0)
    finally:
        future.result()


def _state(initial_state, i, batch, units, dtype):
    """``initial_state[i]`` as a C-contiguous array, zeros when not given."""
    if initial_state is None or initial_state[i] is None:
        return np.zeros((batch, units), dtype)
    return np.ascontiguousarray(initial_state[i], dtype=dtype)


def _masks(x, mask, recurrent_mask, units):
    """Arrays for the kernels (numba takes no None): all-true masks when absent."""
    batch, steps = x.shape[0], x.shape[1]
    keep = (np.ones((batch, steps), np.bool_) if mask is None
            else np.ascontiguousarray(mask, dtype=np.bool_))
    scale = (np.ones((batch, units), x.dtype) if recurrent_mask is None
             else np.ascontiguousarray(recurrent_mask, dtype=x.dtype))
    return keep, scale


def _projection(x, kernel, bias, out):
    """``out = x W + b`` for every step at once: (batch, steps, width)."""
    batch, steps, features = x.shape
    np.matmul(x.reshape(batch * steps, features), kernel,
              out=out.reshape(batch * steps, kernel.shape[1]))
    if bias is not None:
        out += bias


# ---------------------------------------------------------------- the kernels' pieces
# Each loops with the chunk's samples innermost (``[unit, sample]``) so that it
# vectorizes; numba compiles them with the kernels that call them.
@helper
def _columns(rows, out):
    """``out[i, b] = rows[b, i]``: a (samples, units) array laid out samples innermost."""
    for i in range(out.shape[0]):
        for b in range(out.shape[1]):
            out[i, b] = rows[b, i]


@helper
def _rows(columns, out):
    """``out[b, j] = columns[j, b]``: back to (samples, units)."""
    for b in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[b, j] = columns[j, b]


@helper
def _gather(a, t, z):
    """Step ``t`` of ``a (samples, steps, width)`` into ``z (width, samples)``."""
    for b in range(z.shape[1]):
        for j in range(z.shape[0]):
            z[j, b] = a[b, t, j]


@helper
def _scatter(z, t, out):
    """``z (width, samples)`` into step ``t`` of ``out (samples, steps, width)``."""
    for b in range(z.shape[1]):
        for j in range(z.shape[0]):
            out[b, t, j] = z[j, b]


@helper
def _times(h, scale, hm):
    """``hm = h * m``: the state through the recurrent dropout mask."""
    for i in range(h.shape[0]):
        for b in range(h.shape[1]):
            hm[i, b] = h[i, b] * scale[i, b]


@helper
def _add_product(recurrent, hm, z):
    """``z += (h m) U``, a sample per vector lane."""
    for i in range(recurrent.shape[0]):
        for j in range(recurrent.shape[1]):
            w = recurrent[i, j]
            for b in range(z.shape[1]):
                z[j, b] += w * hm[i, b]


@helper
def _back_product(recurrent, dz, scale, dh, dhm):
    """``dh += (dz U^T) m``: the gradient through the step's product into h_{t-1}
    (``dhm`` is scratch of dh's shape)."""
    for i in range(dh.shape[0]):
        for b in range(dh.shape[1]):
            dhm[i, b] = _ZERO
    for j in range(recurrent.shape[1]):
        for i in range(recurrent.shape[0]):
            w = recurrent[i, j]
            for b in range(dh.shape[1]):
                dhm[i, b] += w * dz[j, b]
    for i in range(dh.shape[0]):
        for b in range(dh.shape[1]):
            dh[i, b] += dhm[i, b] * scale[i, b]


@helper
def _flags(keep, t, km):
    """``km[b]`` = 1.0 where step ``t`` of sample ``b`` is kept (unmasked), else 0.0."""
    for b in range(km.shape[0]):
        km[b] = _ONE if keep[b, t] else _ZERO


@helper
def _copy(source, rows, target):
    """``target[rows + j] = source[j]`` for every row of ``source``."""
    for j in range(source.shape[0]):
        for b in range(source.shape[1]):
            target[rows + j, b] = source[j, b]


# ---------------------------------------------------------------- SimpleRNN
# Every kernel runs one chunk of samples, with the same arguments: ``a (n, steps,
# width)`` the input's share; ``b_rec`` GRU's recurrent bias; ``c0``, ``c_last`` the
# LSTM's cell state (the others get empty arrays); ``saved (steps, rows, n)`` what
# backward needs, written when ``record``; ``hm_out (n, steps, u)`` each step's
# ``h_{t-1} m`` for dU.
@kernel(parallel=False)
def _simple_forward(a, recurrent, b_rec, keep, scale, h0, c0, masked, record, out, hm_out,
                    saved, c_last):
    """saved rows: each step's new value ``tanh(z)``."""
    n, steps, units = out.shape
    h, sc = np.empty((units, n), a.dtype), np.empty((units, n), a.dtype)
    hm, z = np.empty((units, n), a.dtype), np.empty((units, n), a.dtype)
    km = np.ones(n, a.dtype)
    _columns(h0, h)
    _columns(scale, sc)
    for t in range(steps):
        _gather(a, t, z)
        _times(h, sc, hm)
        _add_product(recurrent, hm, z)
        for j in range(units):  # in place: one array, so the loop vectorizes
            for b in range(n):
                z[j, b] = _tanh(z[j, b])
        if masked:
            _flags(keep, t, km)
        for j in range(units):  # a masked step keeps the state
            for b in range(n):
                h[j, b] = km[b] * z[j, b] + (_ONE - km[b]) * h[j, b]
        if record:
            _copy(z, 0, saved[t])
            _scatter(hm, t, hm_out)
        _scatter(h, t, out)


@kernel(parallel=False)
def _simple_backward(d_out, recurrent, keep, scale, saved, masked, dh_last, dc_last, dz_out,
                     dq_out, dh0, dc0):
    n, steps, units = d_out.shape
    dh, sc = np.empty((units, n), d_out.dtype), np.empty((units, n), d_out.dtype)
    dz, dt = np.empty((units, n), d_out.dtype), np.empty((units, n), d_out.dtype)
    km = np.ones(n, d_out.dtype)
    _columns(scale, sc)
    _columns(dh_last, dh)
    for t in range(steps - 1, -1, -1):
        _gather(d_out, t, dt)
        s = saved[t]
        if masked:
            _flags(keep, t, km)
        for j in range(units):  # a masked step kept the state: its gradient passes
            for b in range(n):
                d = dh[j, b] + dt[j, b]
                y = s[j, b]
                dz[j, b] = km[b] * d * (_ONE - y * y)
                dh[j, b] = (_ONE - km[b]) * d
        _back_product(recurrent, dz, sc, dh, dt)
        _scatter(dz, t, dz_out)
    _rows(dh, dh0)


# ---------------------------------------------------------------- LSTM
@kernel(parallel=False)
def _lstm_forward(a, recurrent, b_rec, keep, scale, h0, c0, masked, record, out, hm_out,
                  saved, c_last):
    """saved rows: i, f, g, o, tanh(c_t), c_{t-1}."""
    n, steps, units = out.shape
    h, c = np.empty((units, n), a.dtype), np.empty((units, n), a.dtype)
    c_new, tc = np.empty((units, n), a.dtype), np.empty((units, n), a.dtype)
    sc, hm = np.empty((units, n), a.dtype), np.empty((units, n), a.dtype)
    z = np.empty((4 * units, n), a.dtype)
    km = np.ones(n, a.dtype)
    _columns(h0, h)
    _columns(c0, c)
    _columns(scale, sc)
    for t in range(steps):
        _gather(a, t, z)
        _times(h, sc, hm)
        _add_product(recurrent, hm, z)
        for j in range(2 * units):  # gates i, f, c, o, in place
            for b in range(n):
                z[j, b] = _sigmoid(z[j, b])
        for j in range(units):
            for b in range(n):
                z[2 * units + j, b] = _tanh(z[2 * units + j, b])
                z[3 * units + j, b] = _sigmoid(z[3 * units + j, b])
        for j in range(units):
            for b in range(n):
                c_new[j, b] = z[units + j, b] * c[j, b] + z[j, b] * z[2 * units + j, b]
        for j in range(units):
            for b in range(n):
                tc[j, b] = _tanh(c_new[j, b])
        if record:
            _copy(z, 0, saved[t])
            _copy(tc, 4 * units, saved[t])
            _copy(c, 5 * units, saved[t])
            _scatter(hm, t, hm_out)
        if masked:
            _flags(keep, t, km)
        for j in range(units):  # a masked step keeps the state
            for b in range(n):
                m = km[b]
                h[j, b] = m * (z[3 * units + j, b] * tc[j, b]) + (_ONE - m) * h[j, b]
                c[j, b] = m * c_new[j, b] + (_ONE - m) * c[j, b]
        _scatter(h, t, out)
    _rows(c, c_last)


@kernel(parallel=False)
def _lstm_backward(d_out, recurrent, keep, scale, saved, masked, dh_last, dc_last, dz_out,
                   dq_out, dh0, dc0):
    n, steps, units = d_out.shape
    dh, dc = np.empty((units, n), d_out.dtype), np.empty((units, n), d_out.dtype)
    sc, dt = np.empty((units, n), d_out.dtype), np.empty((units, n), d_out.dtype)
    dz = np.empty((4 * units, n), d_out.dtype)
    km = np.ones(n, d_out.dtype)
    _columns(scale, sc)
    _columns(dh_last, dh)
    _columns(dc_last, dc)
    for t in range(steps - 1, -1, -1):
        _gather(d_out, t, dt)
        s = saved[t]
        if masked:
            _flags(keep, t, km)
        for j in range(units):
            for b in range(n):
                i_, f_ = s[j, b], s[units + j, b]
                g_, o_ = s[2 * units + j, b], s[3 * units + j, b]
                tc, m = s[4 * units + j, b], km[b]
                d = dh[j, b] + dt[j, b]
                dcn = dc[j, b] + d * o_ * (_ONE - tc * tc)
                dz[j, b] = m * dcn * g_ * i_ * (_ONE - i_)
                dz[units + j, b] = m * dcn * s[5 * units + j, b] * f_ * (_ONE - f_)
                dz[2 * units + j, b] = m * dcn * i_ * (_ONE - g_ * g_)
                dz[3 * units + j, b] = m * d * tc * o_ * (_ONE - o_)
                dc[j, b] = m * dcn * f_ + (_ONE - m) * dc[j, b]
                dh[j, b] = (_ONE - m) * d
        _back_product(recurrent, dz, sc, dh, dt)
        _scatter(dz, t, dz_out)
    _rows(dh, dh0)
    _rows(dc, dc0)


# ---------------------------------------------------------------- GRU (reset_after)
@kernel(parallel=False)
def _gru_forward(a, recurrent, b_rec, keep, scale, h0, c0, masked, record, out, hm_out,
                 saved, c_last):
    """saved rows: z, r, n, q_h, h_{t-1}."""
    n, steps, units = out.shape
    width = 3 * units
    h, sc = np.empty((units, n), a.dtype), np.empty((units, n), a.dtype)
    hm = np.empty((units, n), a.dtype)
    q, g = np.empty((width, n), a.dtype), np.empty((width, n), a.dtype)
    km = np.ones(n, a.dtype)
    _columns(h0, h)
    _columns(scale, sc)
    for t in range(steps):
        _times(h, sc, hm)
        for j in range(width):
            for b in range(n):
                q[j, b] = b_rec[j]
        _add_product(recurrent, hm, q)  # q = (h m) U + b_rec
        _gather(a, t, g)
        for j in range(2 * units):  # z and r, in place
            for b in range(n):
                g[j, b] = _sigmoid(g[j, b] + q[j, b])
        for j in range(units):
            for b in range(n):
                g[2 * units + j, b] += g[units + j, b] * q[2 * units + j, b]
        for j in range(units):
            for b in range(n):
                g[2 * units + j, b] = _tanh(g[2 * units + j, b])
        if record:
            _copy(g, 0, saved[t])
            _copy(q[2 * units:], 3 * units, saved[t])
            _copy(h, 4 * units, saved[t])
            _scatter(hm, t, hm_out)
        if masked:
            _flags(keep, t, km)
        for j in range(units):
            for b in range(n):
                z_ = g[j, b]
                new = z_ * h[j, b] + (_ONE - z_) * g[2 * units + j, b]
                h[j, b] = km[b] * new + (_ONE - km[b]) * h[j, b]
        _scatter(h, t, out)


@kernel(parallel=False)
def _gru_backward(d_out, recurrent, keep, scale, saved, masked, dh_last, dc_last, dz_out,
                  dq_out, dh0, dc0):
    """``dz_out``: dL/d(x W + b_in) of every step; ``dq_out``: dL/dq, for dU."""
    n, steps, units = d_out.shape
    dh, sc = np.empty((units, n), d_out.dtype), np.empty((units, n), d_out.dtype)
    dt, dah = np.empty((units, n), d_out.dtype), np.empty((units, n), d_out.dtype)
    dq = np.empty((3 * units, n), d_out.dtype)
    km = np.ones(n, d_out.dtype)
    _columns(scale, sc)
    _columns(dh_last, dh)
    for t in range(steps - 1, -1, -1):
        _gather(d_out, t, dt)
        s = saved[t]
        if masked:
            _flags(keep, t, km)
        for j in range(units):
            for b in range(n):
                z_, r_, n_, m = s[j, b], s[units + j, b], s[2 * units + j, b], km[b]
                dsum = dh[j, b] + dt[j, b]
                d = m * dsum
                dzg = d * (s[4 * units + j, b] - n_) * z_ * (_ONE - z_)
                da_h = d * (_ONE - z_) * (_ONE - n_ * n_)
                dq[j, b] = dzg
                dq[units + j, b] = da_h * s[3 * units + j, b] * r_ * (_ONE - r_)
                dq[2 * units + j, b] = da_h * r_
                dah[j, b] = da_h
                dh[j, b] = d * z_ + (_ONE - m) * dsum  # the direct path, or kept
        _back_product(recurrent, dq, sc, dh, dt)
        _scatter(dq, t, dq_out)
        _scatter(dq[:2 * units], t, dz_out)
        for b in range(n):
            for j in range(units):
                dz_out[b, t, 2 * units + j] = dah[j, b]
    _rows(dh, dh0)


# ---------------------------------------------------------------- the three, wrapped
_KERNELS = {"simple_rnn": (_simple_forward, _simple_backward, 1),
            "lstm": (_lstm_forward, _lstm_backward, 6),
            "gru": (_gru_forward, _gru_backward, 5)}
_STATES = {"simple_rnn": 1, "lstm": 2, "gru": 1}


def _sequence_forward(kind, x, kernel, recurrent_kernel, bias, initial_state, mask,
                      recurrent_mask, record):
    """``(outputs, final states, cache)`` by the compiled kernels, chunk by chunk."""
    forward, _, rows = _KERNELS[kind]
    batch, steps = x.shape[:2]
    units = recurrent_kernel.shape[0]
    dtype = x.dtype
    if kind == "gru":  # reset_after: an input bias and a recurrent bias
        b_in, b_rec = (None, np.zeros(3 * units, dtype)) if bias is None else bias
    else:
        b_in, b_rec = bias, np.zeros(0, dtype)
    a = pool.take((batch, steps, kernel.shape[1]), np.result_type(x, kernel))
    keep, scale = _masks(x, mask, recurrent_mask, units)
    h0 = _state(initial_state, 0, batch, units, dtype)
    lstm = kind == "lstm"
    c0 = _state(initial_state, 1, batch, units, dtype) if lstm else np.zeros((batch, 0), dtype)
    recurrent = np.ascontiguousarray(recurrent_kernel)
    b_rec = np.ascontiguousarray(b_rec, dtype=dtype)
    out = pool.take((batch, steps, units), dtype)
    hm = pool.take(out.shape, dtype) if record else out[:0]
    c_last = np.empty_like(c0)
    parts = chunks(batch)
    saved = [pool.take((steps if record else 0, rows * units, stop - start), dtype)
             for start, stop in parts]

    def task(k):
        start, stop = parts[k]
        part = slice(start, stop)
        # the chunk's input projection in its own thread: the two run at once
        _projection(x[part], kernel, b_in, out=a[part])
        forward(a[part], recurrent, b_rec, keep[part], scale[part], h0[part], c0[part],
                mask is not None, record, out[part], hm[part] if record else hm, saved[k],
                c_last[part])

    _run(len(parts), task)
    final = [out[:, -1].copy() if steps else h0] + ([c_last] if lstm else [])
    return out, final, {"compiled": kind, "x": x, "kernel": kernel,
                        "recurrent_kernel": recurrent, "keep": keep, "scale": scale,
                        "masked": mask is not None, "hm": hm, "saved": saved,
                        "parts": parts}


def _sequence_backward(d_outputs, d_final_state, cache, dkernel, drecurrent, dbias,
                       need_dx=True):
    """``(dx or None, d initial states)``; writes the weights' gradients."""
    kind = cache["compiled"]
    _, backward, _ = _KERNELS[kind]
    x, hm, parts = cache["x"], cache["hm"], cache["parts"]
    batch, steps, units = hm.shape
    dtype = x.dtype
    d_out = np.ascontiguousarray(d_outputs, dtype=dtype)
    count = _STATES[kind]
    d_last = [_state(d_final_state, i, batch, units, dtype) for i in range(count)]
    dh_last = d_last[0]
    dc_last = d_last[1] if count == 2 else np.zeros((batch, 0), dtype)
    width = cache["kernel"].shape[1]
    dz = pool.take((batch, steps, width), dtype)
    dq = pool.take(dz.shape, dtype) if kind == "gru" else dz[:0]
    dh0, dc0 = np.empty_like(dh_last), np.empty_like(dc_last)
    keep, scale, kernel = cache["keep"], cache["scale"], cache["kernel"]
    dx = pool.take(x.shape, dtype) if need_dx else None
    shares = [None] * len(parts)

    def task(k):
        start, stop = parts[k]
        part = slice(start, stop)
        backward(d_out[part], cache["recurrent_kernel"], keep[part], scale[part],
                 cache["saved"][k], cache["masked"], dh_last[part], dc_last[part], dz[part],
                 dq[part] if kind == "gru" else dq, dh0[part], dc0[part])
        # the chunk's share of the weights' gradients, products over its steps, in its
        # own thread (dU from dq for GRU); the shares are summed below
        rows = (stop - start) * steps
        dz2 = dz[part].reshape(rows, width)
        dq2 = dq[part].reshape(rows, width) if kind == "gru" else dz2
        ones = np.ones(rows, dtype)  # column sums as a product: 6 us, .sum(axis=0) 50 us
        shares[k] = (x[part].reshape(rows, -1).T @ dz2, hm[part].reshape(rows, units).T @ dq2,
                     ones @ dz2, ones @ dq2 if kind == "gru" else None)
        if need_dx:
            np.matmul(dz2, kernel.T, out=dx[part].reshape(rows, -1))

    _run(len(parts), task)
    dW, dU, db, db_rec = (sum(values) if values[0] is not None else None
                          for values in zip(*shares))
    dkernel[...] = dW
    drecurrent[...] = dU
    if dbias is not None and kind == "gru":
        dbias[0], dbias[1] = db, db_rec
    elif dbias is not None:
        dbias[...] = db
    return dx, [dh0, dc0][:count]


# ---------------------------------------------------------------- the ops
def simple_rnn_forward(x, kernel, recurrent_kernel, bias, mask=None, recurrent_mask=None,
                       activation="tanh", record=True):
    outputs, _, cache = simple_rnn_forward_with_state(
        x, kernel, recurrent_kernel, bias, None, mask, recurrent_mask, activation, record)
    return outputs, cache


def simple_rnn_forward_with_state(x, kernel, recurrent_kernel, bias, initial_state,
                                  mask=None, recurrent_mask=None, activation="tanh",
                                  record=True):
    if activation != "tanh":
        return reference.simple_rnn_forward_with_state(
            x, kernel, recurrent_kernel, bias, initial_state, mask, recurrent_mask,
            activation)
    return _sequence_forward("simple_rnn", x, kernel, recurrent_kernel, bias, initial_state,
                             mask, recurrent_mask, record)


def simple_rnn_backward(d_outputs, cache, dkernel, drecurrent, dbias, need_dx=True):
    return simple_rnn_backward_with_state(d_outputs, None, cache, dkernel, drecurrent,
                                          dbias, need_dx)[0]


def simple_rnn_backward_with_state(d_outputs, d_final_state, cache, dkernel, drecurrent,
                                   dbias, need_dx=True):
    if "compiled" not in cache:
        return reference.simple_rnn_backward_with_state(d_outputs, d_final_state, cache,
                                                        dkernel, drecurrent, dbias, need_dx)
    return _sequence_backward(d_outputs, d_final_state, cache, dkernel, drecurrent, dbias,
                              need_dx)


def lstm_forward(x, kernel, recurrent_kernel, bias, mask=None, recurrent_mask=None,
                 activation="tanh", recurrent_activation="sigmoid", record=True):
    outputs, _, cache = lstm_forward_with_state(
        x, kernel, recurrent_kernel, bias, None, mask, recurrent_mask, activation,
        recurrent_activation, record)
    return outputs, cache


def lstm_forward_with_state(x, kernel, recurrent_kernel, bias, initial_state, mask=None,
                            recurrent_mask=None, activation="tanh",
                            recurrent_activation="sigmoid", record=True):
    if not _compiled(activation, recurrent_activation):
        return reference.lstm_forward_with_state(
            x, kernel, recurrent_kernel, bias, initial_state, mask, recurrent_mask,
            activation, recurrent_activation)
    return _sequence_forward("lstm", x, kernel, recurrent_kernel, bias, initial_state, mask,
                             recurrent_mask, record)


def lstm_backward(d_outputs, cache, dkernel, drecurrent, dbias, need_dx=True):
    return lstm_backward_with_state(d_outputs, None, cache, dkernel, drecurrent, dbias,
                                    need_dx)[0]


def lstm_backward_with_state(d_outputs, d_final_state, cache, dkernel, drecurrent, dbias,
                             need_dx=True):
    if "compiled" not in cache:
        return reference.lstm_backward_with_state(d_outputs, d_final_state, cache, dkernel,
                                                  drecurrent, dbias, need_dx)
    return _sequence_backward(d_outputs, d_final_state, cache, dkernel, drecurrent, dbias,
                              need_dx)


def gru_forward(x, kernel, recurrent_kernel, bias, mask=None, recurrent_mask=None,
                activation="tanh", recurrent_activation="sigmoid", reset_after=True,
                record=True):
    outputs, _, cache = gru_forward_with_state(
        x, kernel, recurrent_kernel, bias, None, mask, recurrent_mask, activation,
        recurrent_activation, reset_after, record)
    return outputs, cache


def gru_forward_with_state(x, kernel, recurrent_kernel, bias, initial_state, mask=None,
                           recurrent_mask=None, activation="tanh",
                           recurrent_activation="sigmoid", reset_after=True, record=True):
    if not (reset_after and _compiled(activation, recurrent_activation)):
        return reference.gru_forward_with_state(
            x, kernel, recurrent_kernel, bias, initial_state, mask, recurrent_mask,
            activation, recurrent_activation, reset_after)
    return _sequence_forward("gru", x, kernel, recurrent_kernel, bias, initial_state, mask,
                             recurrent_mask, record)


def gru_backward(d_outputs, cache, dkernel, drecurrent, dbias, need_dx=True):
    return gru_backward_with_state(d_outputs, None, cache, dkernel, drecurrent, dbias,
                                   need_dx)[0]


def gru_backward_with_state(d_outputs, d_final_state, cache, dkernel, drecurrent, dbias,
                            need_dx=True):
    if "compiled" not in cache:
        return reference.gru_backward_with_state(d_outputs, d_final_state, cache, dkernel,
                                                 drecurrent, dbias, need_dx)
    return _sequence_backward(d_outputs, d_final_state, cache, dkernel, drecurrent, dbias,
                              need_dx)


# ---------------------------------------------------------------- Embedding
@kernel(parallel=False)
def _scatter_rows(d_outputs, ids, dembeddings):
    dembeddings[:] = 0.0
    for n in range(ids.shape[0]):
        row = ids[n]
        for k in range(dembeddings.shape[1]):
            dembeddings[row, k] += d_outputs[n, k]


def embedding_forward(ids, embeddings):
    return np.take(embeddings, ids, axis=0)


def embedding_backward(d_outputs, ids, dembeddings):
    """``dE[v] = sum of the rows of dL/doutput whose id is v``, one pass (np.add.at
    measured 1.4 ms for the chapter's 6,400 x 16 batch)."""
    if dembeddings.dtype != d_outputs.dtype or not dembeddings.flags.c_contiguous:
        return reference.embedding_backward(d_outputs, ids, dembeddings)
    _scatter_rows(np.ascontiguousarray(d_outputs).reshape(-1, dembeddings.shape[1]),
                  np.ascontiguousarray(ids).reshape(-1), dembeddings)
