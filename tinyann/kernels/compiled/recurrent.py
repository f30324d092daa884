"""Recurrent layers with the time loop compiled (numba): the reference's signatures.

Where the time goes in a small recurrent layer (chapter 9: batch 64, 8 units, 100
steps) is not arithmetic but calls: the reference makes about 15 NumPy calls a step,
forward and backward, 3,000 a batch. Here:

1. the input's share of every step, ``a = x W + b``, is one matrix product over all
   steps (``(batch * steps, features) @ (features, gates * units)``);
2. one compiled call runs the whole recurrence, a sample per iteration of a parallel
   loop (samples are independent through time), writing each step's gate values;
3. backward, one compiled call runs the recurrence backward and writes ``dz`` of every
   step; the weights' gradients are then three matrix products over all steps:
   ``dW = X^T dZ``, ``dU = H_{t-1}^T dZ``, ``db = sum dZ``, and ``dx = dZ W^T``.

Measured on that LSTM (one batch, forward and backward): the reference 5.5 ms.
The kernels take tanh and sigmoid (Keras's defaults); other activations, and GRU
without ``reset_after``, run the reference.
"""

from __future__ import annotations

import numpy as np

from tinyann.kernels.jit import helper, kernel, prange
from tinyann.kernels.reference import recurrent as reference

# tanh(x) = p(x) / q(x) on [-7.9053, 7.9053] (saturated beyond), p odd of degree 13,
# q even of degree 6: the rational approximation Eigen uses for float32. Max error
# 3.4e-7 (float32's own tanh: 6e-8), and unlike libm's tanhf and expf it has no call,
# so the gate loops compile to straight-line code: the LSTM forward kernel measured
# 2.86 -> 1.69 ms a batch (64 x 100 steps, 8 units).
_A = (4.89352455891786e-03, 6.37261928875436e-04, 1.48572235717979e-05,
      5.12229709037114e-08, -8.60467152213735e-11, 2.00018790482477e-13,
      -2.76076847742355e-16)
_B = (4.89352518554385e-03, 2.26843463243900e-03, 1.18534705686654e-04,
      1.19825839466702e-06)
_CLAMP = 7.90531110763549805


@helper
def _tanh(x):
    """tanh by the rational approximation above (x a float32 scalar)."""
    x = min(max(x, -_CLAMP), _CLAMP)
    x2 = x * x
    p = (((((_A[6] * x2 + _A[5]) * x2 + _A[4]) * x2 + _A[3]) * x2 + _A[2]) * x2
         + _A[1]) * x2 + _A[0]
    q = ((_B[3] * x2 + _B[2]) * x2 + _B[1]) * x2 + _B[0]
    return x * p / q


@helper
def _sigmoid(x):
    """1 / (1 + e^-x) = (1 + tanh(x / 2)) / 2."""
    return 0.5 + 0.5 * _tanh(0.5 * x)


def _compiled(activation, recurrent_activation):
    return activation == "tanh" and recurrent_activation == "sigmoid"


def _masks(x, mask, recurrent_mask, units):
    """Arrays for the kernels (numba takes no None): all-true masks when absent."""
    batch, steps = x.shape[0], x.shape[1]
    keep = (np.ones((batch, steps), np.bool_) if mask is None
            else np.ascontiguousarray(mask, dtype=np.bool_))
    scale = (np.ones((batch, units), x.dtype) if recurrent_mask is None
             else np.ascontiguousarray(recurrent_mask, dtype=x.dtype))
    return keep, scale


def _projection(x, kernel, bias):
    """``a = x W + b`` for every step at once: (batch, steps, width)."""
    batch, steps, features = x.shape
    a = x.reshape(batch * steps, features) @ kernel
    if bias is not None:
        a += bias
    return a.reshape(batch, steps, kernel.shape[1])


def _weight_grads(x, hm, dz, kernel, dkernel, drecurrent, dbias, dbias_view=None):
    """``dW = X^T dZ``, ``dU = (h_{t-1} m)^T dZ``, ``db = sum dZ``; returns ``dx = dZ W^T``."""
    batch, steps, features = x.shape
    width = dz.shape[2]
    dz2 = dz.reshape(batch * steps, width)
    dkernel[...] = x.reshape(batch * steps, features).T @ dz2
    drecurrent[...] = hm.reshape(batch * steps, -1).T @ dz2
    if dbias is not None:
        (dbias if dbias_view is None else dbias_view)[...] = dz2.sum(axis=0)
    return (dz2 @ kernel.T).reshape(batch, steps, features)


# ---------------------------------------------------------------- SimpleRNN
@kernel(parallel=True)
def _simple_forward(a, recurrent, keep, scale, out, hm_all, new_all):
    batch, steps, units = out.shape
    for b in prange(batch):
        h = np.zeros(units, a.dtype)
        z = np.empty(units, a.dtype)
        for t in range(steps):
            kept = keep[b, t]
            for j in range(units):
                hm_all[b, t, j] = h[j] * scale[b, j]
                z[j] = a[b, t, j]
            for i in range(units):  # z += (h m) U, a row of U at a time (contiguous)
                hi = hm_all[b, t, i]
                for j in range(units):
                    z[j] += hi * recurrent[i, j]
            for j in range(units):
                y = _tanh(z[j])
                new_all[b, t, j] = y
                h[j] = y if kept else h[j]
                out[b, t, j] = h[j]


@kernel(parallel=True)
def _simple_backward(d_out, recurrent_t, keep, scale, new_all, dz):
    batch, steps, units = d_out.shape
    for b in prange(batch):
        dh = np.zeros(units, d_out.dtype)
        for t in range(steps - 1, -1, -1):
            for j in range(units):
                dh[j] += d_out[b, t, j]
            if not keep[b, t]:  # the state was kept: its gradient passes through
                for j in range(units):
                    dz[b, t, j] = 0.0
                continue
            for j in range(units):
                y = new_all[b, t, j]
                dz[b, t, j] = dh[j] * (1 - y * y)
                dh[j] = 0.0
            for j in range(units):  # dh_{t-1} = (dz U^T) m, a row of U^T at a time
                d = dz[b, t, j]
                for i in range(units):
                    dh[i] += d * recurrent_t[j, i]
            for i in range(units):
                dh[i] *= scale[b, i]


def simple_rnn_forward(x, kernel, recurrent_kernel, bias, mask=None, recurrent_mask=None,
                       activation="tanh"):
    if activation != "tanh":
        return reference.simple_rnn_forward(x, kernel, recurrent_kernel, bias, mask,
                                            recurrent_mask, activation)
    units = recurrent_kernel.shape[0]
    a = _projection(x, kernel, bias)
    keep, scale = _masks(x, mask, recurrent_mask, units)
    out = np.empty(x.shape[:2] + (units,), x.dtype)
    hm, new = np.empty_like(out), np.empty_like(out)
    _simple_forward(a, np.ascontiguousarray(recurrent_kernel), keep, scale, out, hm, new)
    return out, {"compiled": True, "x": x, "kernel": kernel, "recurrent_kernel":
                 recurrent_kernel, "keep": keep, "scale": scale, "hm": hm, "new": new}


def simple_rnn_backward(d_outputs, cache, dkernel, drecurrent, dbias):
    if "compiled" not in cache:
        return reference.simple_rnn_backward(d_outputs, cache, dkernel, drecurrent, dbias)
    dz = np.empty_like(cache["new"])
    _simple_backward(np.ascontiguousarray(d_outputs, dtype=dz.dtype),
                     np.ascontiguousarray(cache["recurrent_kernel"].T), cache["keep"],
                     cache["scale"], cache["new"], dz)
    return _weight_grads(cache["x"], cache["hm"], dz, cache["kernel"], dkernel, drecurrent,
                         dbias)


# ---------------------------------------------------------------- LSTM
@kernel(parallel=True)
def _lstm_forward(a, recurrent, keep, scale, out, hm_all, c_prev_all, gates, tc_all):
    batch, steps, units = out.shape
    width = 4 * units
    for b in prange(batch):
        h = np.zeros(units, a.dtype)
        c = np.zeros(units, a.dtype)
        z = np.empty(width, a.dtype)
        for t in range(steps):
            kept = keep[b, t]
            for j in range(units):
                hm_all[b, t, j] = h[j] * scale[b, j]
                c_prev_all[b, t, j] = c[j]
            for j in range(width):
                z[j] = a[b, t, j]
            for i in range(units):  # z += (h m) U, a row of U at a time (contiguous)
                hi = hm_all[b, t, i]
                for j in range(width):
                    z[j] += hi * recurrent[i, j]
            for j in range(units):  # gates i, f, c, o
                i_, f_ = _sigmoid(z[j]), _sigmoid(z[units + j])
                g_, o_ = _tanh(z[2 * units + j]), _sigmoid(z[3 * units + j])
                gates[b, t, j] = i_
                gates[b, t, units + j] = f_
                gates[b, t, 2 * units + j] = g_
                gates[b, t, 3 * units + j] = o_
                c_new = f_ * c[j] + i_ * g_
                tc = _tanh(c_new)
                tc_all[b, t, j] = tc
                c[j] = c_new if kept else c[j]
                h[j] = o_ * tc if kept else h[j]
                out[b, t, j] = h[j]


@kernel(parallel=True)
def _lstm_backward(d_out, recurrent_t, keep, scale, c_prev_all, gates, tc_all, dz):
    batch, steps, units = d_out.shape
    width = 4 * units
    for b in prange(batch):
        dh = np.zeros(units, d_out.dtype)
        dc = np.zeros(units, d_out.dtype)
        for t in range(steps - 1, -1, -1):
            for j in range(units):
                dh[j] += d_out[b, t, j]
            if not keep[b, t]:  # the state was kept: its gradient passes through
                for j in range(width):
                    dz[b, t, j] = 0.0
                continue
            for j in range(units):
                i_, f_ = gates[b, t, j], gates[b, t, units + j]
                g_, o_ = gates[b, t, 2 * units + j], gates[b, t, 3 * units + j]
                tc = tc_all[b, t, j]
                dcn = dc[j] + dh[j] * o_ * (1 - tc * tc)
                dz[b, t, j] = dcn * g_ * i_ * (1 - i_)
                dz[b, t, units + j] = dcn * c_prev_all[b, t, j] * f_ * (1 - f_)
                dz[b, t, 2 * units + j] = dcn * i_ * (1 - g_ * g_)
                dz[b, t, 3 * units + j] = dh[j] * tc * o_ * (1 - o_)
                dc[j] = dcn * f_
                dh[j] = 0.0
            for j in range(width):  # dh_{t-1} = (dz U^T) m, a row of U^T at a time
                d = dz[b, t, j]
                for i in range(units):
                    dh[i] += d * recurrent_t[j, i]
            for i in range(units):
                dh[i] *= scale[b, i]


def lstm_forward(x, kernel, recurrent_kernel, bias, mask=None, recurrent_mask=None,
                 activation="tanh", recurrent_activation="sigmoid"):
    if not _compiled(activation, recurrent_activation):
        return reference.lstm_forward(x, kernel, recurrent_kernel, bias, mask, recurrent_mask,
                                      activation, recurrent_activation)
    units = recurrent_kernel.shape[0]
    a = _projection(x, kernel, bias)
    keep, scale = _masks(x, mask, recurrent_mask, units)
    out = np.empty(x.shape[:2] + (units,), x.dtype)
    hm, c_prev, tc = np.empty_like(out), np.empty_like(out), np.empty_like(out)
    gates = np.empty_like(a)
    _lstm_forward(a, np.ascontiguousarray(recurrent_kernel), keep, scale, out, hm, c_prev,
                  gates, tc)
    return out, {"compiled": True, "x": x, "kernel": kernel, "recurrent_kernel":
                 recurrent_kernel, "keep": keep, "scale": scale, "hm": hm,
                 "c_prev": c_prev, "gates": gates, "tc": tc}


def lstm_backward(d_outputs, cache, dkernel, drecurrent, dbias):
    if "compiled" not in cache:
        return reference.lstm_backward(d_outputs, cache, dkernel, drecurrent, dbias)
    dz = np.empty_like(cache["gates"])
    _lstm_backward(np.ascontiguousarray(d_outputs, dtype=dz.dtype),
                   np.ascontiguousarray(cache["recurrent_kernel"].T), cache["keep"],
                   cache["scale"], cache["c_prev"], cache["gates"], cache["tc"], dz)
    return _weight_grads(cache["x"], cache["hm"], dz, cache["kernel"], dkernel, drecurrent,
                         dbias)


# ---------------------------------------------------------------- GRU (reset_after)
@kernel(parallel=True)
def _gru_forward(a, recurrent, b_rec, keep, scale, out, hm_all, h_prev_all, gates, qh_all):
    batch, steps, units = out.shape
    width = 3 * units
    for b in prange(batch):
        h = np.zeros(units, a.dtype)
        q = np.empty(width, a.dtype)
        for t in range(steps):
            kept = keep[b, t]
            for j in range(units):
                hm_all[b, t, j] = h[j] * scale[b, j]
                h_prev_all[b, t, j] = h[j]
            for j in range(width):
                q[j] = b_rec[j]
            for i in range(units):  # q = (h m) U + b_rec, a row of U at a time
                hi = hm_all[b, t, i]
                for j in range(width):
                    q[j] += hi * recurrent[i, j]
            for j in range(units):  # gates z, r, h
                z_ = _sigmoid(a[b, t, j] + q[j])
                r_ = _sigmoid(a[b, t, units + j] + q[units + j])
                qh = q[2 * units + j]
                n_ = _tanh(a[b, t, 2 * units + j] + r_ * qh)
                gates[b, t, j] = z_
                gates[b, t, units + j] = r_
                gates[b, t, 2 * units + j] = n_
                qh_all[b, t, j] = qh
                h[j] = z_ * h[j] + (1 - z_) * n_ if kept else h[j]
                out[b, t, j] = h[j]


@kernel(parallel=True)
def _gru_backward(d_out, recurrent_t, keep, scale, h_prev_all, gates, qh_all, da, dq):
    batch, steps, units = d_out.shape
    width = 3 * units
    for b in prange(batch):
        dh = np.zeros(units, d_out.dtype)
        dhm = np.zeros(units, d_out.dtype)
        for t in range(steps - 1, -1, -1):
            for j in range(units):
                dh[j] += d_out[b, t, j]
            if not keep[b, t]:
                for j in range(width):
                    da[b, t, j] = 0.0
                    dq[b, t, j] = 0.0
                continue
            for j in range(units):
                z_, r_, n_ = gates[b, t, j], gates[b, t, units + j], gates[b, t, 2 * units + j]
                dn = dh[j] * (1 - z_)
                dzg = dh[j] * (h_prev_all[b, t, j] - n_) * z_ * (1 - z_)
                dah = dn * (1 - n_ * n_)
                drg = dah * qh_all[b, t, j] * r_ * (1 - r_)
                da[b, t, j] = dzg
                da[b, t, units + j] = drg
                da[b, t, 2 * units + j] = dah
                dq[b, t, j] = dzg
                dq[b, t, units + j] = drg
                dq[b, t, 2 * units + j] = dah * r_
                dh[j] = dh[j] * z_  # the direct path h_t = z h_{t-1} + ...
                dhm[j] = 0.0
            for j in range(width):  # through q: (dq U^T) m, a row of U^T at a time
                d = dq[b, t, j]
                for i in range(units):
                    dhm[i] += d * recurrent_t[j, i]
            for i in range(units):
                dh[i] += dhm[i] * scale[b, i]


def gru_forward(x, kernel, recurrent_kernel, bias, mask=None, recurrent_mask=None,
                activation="tanh", recurrent_activation="sigmoid", reset_after=True):
    if not (reset_after and _compiled(activation, recurrent_activation)):
        return reference.gru_forward(x, kernel, recurrent_kernel, bias, mask, recurrent_mask,
                                     activation, recurrent_activation, reset_after)
    units = recurrent_kernel.shape[0]
    b_in, b_rec = (None, np.zeros(3 * units, x.dtype)) if bias is None else (bias[0], bias[1])
    a = _projection(x, kernel, b_in)
    keep, scale = _masks(x, mask, recurrent_mask, units)
    out = np.empty(x.shape[:2] + (units,), x.dtype)
    hm, h_prev, qh = np.empty_like(out), np.empty_like(out), np.empty_like(out)
    gates = np.empty_like(a)
    _gru_forward(a, np.ascontiguousarray(recurrent_kernel), np.ascontiguousarray(b_rec),
                 keep, scale, out, hm, h_prev, gates, qh)
    return out, {"compiled": True, "x": x, "kernel": kernel, "recurrent_kernel":
                 recurrent_kernel, "keep": keep, "scale": scale, "hm": hm, "h_prev": h_prev,
                 "gates": gates, "qh": qh}


def gru_backward(d_outputs, cache, dkernel, drecurrent, dbias):
    if "compiled" not in cache:
        return reference.gru_backward(d_outputs, cache, dkernel, drecurrent, dbias)
    da, dq = np.empty_like(cache["gates"]), np.empty_like(cache["gates"])
    _gru_backward(np.ascontiguousarray(d_outputs, dtype=da.dtype),
                  np.ascontiguousarray(cache["recurrent_kernel"].T), cache["keep"],
                  cache["scale"], cache["h_prev"], cache["gates"], cache["qh"], da, dq)
    x, kernel = cache["x"], cache["kernel"]
    batch, steps, features = x.shape
    width = da.shape[2]
    da2, dq2 = da.reshape(-1, width), dq.reshape(-1, width)
    dkernel[...] = x.reshape(-1, features).T @ da2
    drecurrent[...] = cache["hm"].reshape(batch * steps, -1).T @ dq2
    if dbias is not None:
        dbias[0] = da2.sum(axis=0)
        dbias[1] = dq2.sum(axis=0)
    return (da2 @ kernel.T).reshape(batch, steps, features)


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
