"""Recurrent cells as the textbook writes them: one time step at a time, forward and
backward through time (the specification of the faster sets).

Shapes: ``x (batch, steps, features)``; ``kernel (features, k * units)``,
``recurrent_kernel (units, k * units)`` and ``bias`` laid out as Keras stores them
(k = 1 for SimpleRNN, 4 for LSTM: gates i, f, c, o; 3 for GRU: gates z, r, h).
``mask (batch, steps)`` (optional, bool): at a masked step the state is kept, so the
output there repeats the previous output. ``recurrent_mask (batch, units)``
(optional): the recurrent dropout mask, one per batch, applied to ``h_{t-1}`` at every
step (the input dropout mask the layer applies to ``x`` before the call).

Each ``*_forward`` returns ``(outputs (batch, steps, units), cache)``; the cache holds
what backward needs. Each ``*_backward(d_outputs, cache, dkernel, drecurrent, dbias)``
takes dL/doutputs for every step (zeros where only the last output is used), writes
(not adds) the weights' gradients and returns dL/dx ``(batch, steps, features)``.
The activations are tanh and the gates' sigmoid (Keras 3's defaults); a layer with
other activations passes them by name: any of Keras's but glu (it halves the units) and
threshold (it needs arguments), by the activation ops of
tinyann/kernels/reference/activations.py. Those whose derivative needs the input
(gelu, silu...) make the forward keep the pre-activations too.

``need_dx=False`` (a first layer): backward returns None for dL/dx and skips it.
``record=False`` says that no backward will follow (``predict``): a set may then keep
no cache (the compiled one does not; this one keeps it, for simplicity).

The ``*_with_state`` pairs add the states at both ends (``initial_state=``,
``return_state``, ``stateful``): ``*_forward_with_state(x, kernel, recurrent_kernel,
bias, initial_state, mask, recurrent_mask, ...)`` starts from ``initial_state`` (a
list: ``[h0]``, LSTM ``[h0, c0]``, each ``(batch, units)``; None: zeros) and returns
``(outputs, final_state, cache)``; ``*_backward_with_state(d_outputs, d_final_state,
cache, dkernel, drecurrent, dbias)`` also takes dL/dfinal_state (a list, entries may
be None) and returns ``(dx, d_initial_state)``. A set defining one of a pair must
define the other (their caches are private to the set).
"""

from __future__ import annotations

import numpy as np

from tinyann.kernels.reference import activations as _activations

# the activations the cells take, by name (every activation op but these)
ACTIVATIONS = frozenset(
    op[:-len("_forward")] for op in vars(_activations) if op.endswith("_forward")
) - {"glu", "threshold", "relu_options"}


def _act(name):
    """``(f(z), back(y, z, g))`` of an activation: its value and dL/dz from its output
    ``y``, its input ``z`` (None unless ``_needs_input(name)``) and dL/dy ``g``."""
    if name not in ACTIVATIONS:
        raise ValueError(f"Recurrent kernels take the activations {sorted(ACTIVATIONS)}. "
                         f"Received: activation={name!r}")
    backward = getattr(_activations, f"{name}_backward")
    if _needs_input(name):
        return getattr(_activations, f"{name}_forward"), lambda y, z, g: backward(z, y, g)
    return getattr(_activations, f"{name}_forward"), lambda y, z, g: backward(y, g)


def _needs_input(*names):
    """Whether the derivative of any of these activations needs its input."""
    return any(name in _activations.FROM_INPUT for name in names)


def _keep(mask, t, new, old):
    """The state after step t: ``new`` where the step is not masked, else ``old``."""
    if mask is None:
        return new
    return np.where(mask[:, t, None], new, old)


# ---------------------------------------------------------------- SimpleRNN
def simple_rnn_forward(x, kernel, recurrent_kernel, bias, mask=None, recurrent_mask=None,
                       activation="tanh", record=True):
    """``h_t = act(x_t W + (h_{t-1} * m) U + b)``, ``h_0 = 0``."""
    outputs, _, cache = simple_rnn_forward_with_state(x, kernel, recurrent_kernel, bias, None,
                                                      mask, recurrent_mask, activation)
    return outputs, cache


def simple_rnn_forward_with_state(x, kernel, recurrent_kernel, bias, initial_state,
                                  mask=None, recurrent_mask=None, activation="tanh",
                                  record=True):
    """:func:`simple_rnn_forward` from ``initial_state = [h0]`` (None: zeros); returns
    ``(outputs, [h_T], cache)``."""
    f, _ = _act(activation)
    keep_z = _needs_input(activation)
    batch, steps, _ = x.shape
    units = recurrent_kernel.shape[0]
    h = _initial(initial_state, 0, batch, units, x.dtype)
    outputs = np.empty((batch, steps, units), x.dtype)
    hs_prev, news, zs = [], [], []
    for t in range(steps):
        hm = h if recurrent_mask is None else h * recurrent_mask
        z = x[:, t] @ kernel + hm @ recurrent_kernel
        if bias is not None:
            z = z + bias
        new = f(z)
        hs_prev.append(h)
        news.append(new)
        zs.append(z if keep_z else None)
        h = _keep(mask, t, new, h)
        outputs[:, t] = h
    return outputs, [h], {"x": x, "h_prev": hs_prev, "new": news, "z": zs, "mask": mask,
                          "recurrent_mask": recurrent_mask, "activation": activation,
                          "kernel": kernel, "recurrent_kernel": recurrent_kernel}


def simple_rnn_backward(d_outputs, cache, dkernel, drecurrent, dbias, need_dx=True):
    """Backward through time: ``dz = dh_t act'(z_t)``; ``dW += x_t^T dz``,
    ``dU += (h_{t-1} m)^T dz``, ``db += sum dz``, ``dh_{t-1} = (dz U^T) m + kept part``."""
    return simple_rnn_backward_with_state(d_outputs, None, cache, dkernel, drecurrent,
                                          dbias, need_dx)[0]


def simple_rnn_backward_with_state(d_outputs, d_final_state, cache, dkernel, drecurrent,
                                   dbias, need_dx=True):
    """:func:`simple_rnn_backward` with dL/dh_T given (``[dh_T]`` or None); returns
    ``(dx, [dL/dh0])``."""
    _, df = _act(cache["activation"])
    x, mask, rmask, kernel, recurrent = _read(cache)
    dx = np.zeros_like(x)
    dW, dU = np.zeros_like(kernel), np.zeros_like(recurrent)
    db = np.zeros(kernel.shape[1], x.dtype)
    dh = _final_grad(d_final_state, 0, cache["h_prev"][0])
    for t in reversed(range(x.shape[1])):
        dh = dh + d_outputs[:, t]
        dnew, dh_kept = _split(mask, t, dh)
        dz = df(cache["new"][t], cache["z"][t], dnew)
        hm = cache["h_prev"][t] if rmask is None else cache["h_prev"][t] * rmask
        dh = dh_kept + _through_step(x, t, dz, hm, kernel, recurrent, rmask, (dW, dU, db),
                                     dx if need_dx else None)
    _write(dkernel, dW, drecurrent, dU, dbias, db)
    return (dx if need_dx else None), [dh]


def _read(cache):
    """``(x, mask, recurrent mask, kernel, recurrent kernel)`` from a forward's cache."""
    return (cache["x"], cache["mask"], cache["recurrent_mask"], cache["kernel"],
            cache["recurrent_kernel"])


def _through_step(x, t, dz, hm, kernel, recurrent, rmask, sums, dx):
    """Step ``t``'s share of the gradients, from ``dz = dL/dz_t`` (batch, gates * units):
    adds ``x_t^T dz`` to dW, ``(h_{t-1} m)^T dz`` to dU and ``sum dz`` to db (``sums``),
    writes ``dx[:, t] = dz W^T`` (unless ``dx`` is None) and returns the gradient
    reaching h_{t-1} through the step's product, ``(dz U^T) m``."""
    dW, dU, db = sums
    dW += x[:, t].T @ dz
    dU += hm.T @ dz
    db += dz.sum(axis=0)
    if dx is not None:
        dx[:, t] = dz @ kernel.T
    dhm = dz @ recurrent.T
    return dhm if rmask is None else dhm * rmask


def _initial(initial_state, i, batch, units, dtype):
    """State ``i`` at the start: ``initial_state[i]`` (copied) or zeros."""
    if initial_state is None:
        return np.zeros((batch, units), dtype)
    state = np.asarray(initial_state[i], dtype=dtype)
    if state.shape != (batch, units):
        raise ValueError(f"Initial state {i} must have shape {(batch, units)}. "
                         f"Received: shape={state.shape}")
    return state.copy()


def _final_grad(d_final_state, i, like):
    """dL/dstate ``i`` after the last step (zeros when not given)."""
    if d_final_state is None or d_final_state[i] is None:
        return np.zeros_like(like)
    return np.array(d_final_state[i], dtype=like.dtype)


def _split(mask, t, dh):
    """dL/dh_t split into the part through the new state and the part through the
    kept one (``h_t = where(mask, new, h_{t-1})``)."""
    if mask is None:
        return dh, 0.0
    m = mask[:, t, None]
    return np.where(m, dh, 0.0), np.where(m, 0.0, dh)


def _write(dkernel, dW, drecurrent, dU, dbias, db):
    dkernel[...] = dW
    drecurrent[...] = dU
    if dbias is not None:
        dbias[...] = db.reshape(dbias.shape)


# ---------------------------------------------------------------- LSTM
def lstm_forward(x, kernel, recurrent_kernel, bias, mask=None, recurrent_mask=None,
                 activation="tanh", recurrent_activation="sigmoid", record=True):
    """Keras's gates in the order i, f, c, o (each ``units`` columns)::

        z = x_t W + (h_{t-1} * m) U + b
        i = s(z_i)   f = s(z_f)   g = act(z_c)   o = s(z_o)
        c_t = f c_{t-1} + i g     h_t = o act(c_t)
    """
    outputs, _, cache = lstm_forward_with_state(x, kernel, recurrent_kernel, bias, None, mask,
                                                recurrent_mask, activation,
                                                recurrent_activation)
    return outputs, cache


def lstm_forward_with_state(x, kernel, recurrent_kernel, bias, initial_state, mask=None,
                            recurrent_mask=None, activation="tanh",
                            recurrent_activation="sigmoid", record=True):
    """:func:`lstm_forward` from ``initial_state = [h0, c0]`` (None: zeros); returns
    ``(outputs, [h_T, c_T], cache)``."""
    act, _ = _act(activation)
    sig, _ = _act(recurrent_activation)
    keep_z = _needs_input(activation, recurrent_activation)
    batch, steps, _ = x.shape
    units = recurrent_kernel.shape[0]
    h = _initial(initial_state, 0, batch, units, x.dtype)
    c = _initial(initial_state, 1, batch, units, x.dtype)
    outputs = np.empty((batch, steps, units), x.dtype)
    saved = []
    for t in range(steps):
        hm = h if recurrent_mask is None else h * recurrent_mask
        z = x[:, t] @ kernel + hm @ recurrent_kernel
        if bias is not None:
            z = z + bias
        i, f = sig(z[:, :units]), sig(z[:, units:2 * units])
        g, o = act(z[:, 2 * units:3 * units]), sig(z[:, 3 * units:])
        c_new = f * c + i * g
        tc = act(c_new)
        h_new = o * tc
        saved.append((h, c, i, f, g, o, tc, (z, c_new) if keep_z else (None, None)))
        h, c = _keep(mask, t, h_new, h), _keep(mask, t, c_new, c)
        outputs[:, t] = h
    return outputs, [h, c], {"x": x, "saved": saved, "mask": mask, "recurrent_mask": recurrent_mask,
                     "activation": activation, "recurrent_activation": recurrent_activation,
                     "kernel": kernel, "recurrent_kernel": recurrent_kernel}


def lstm_backward(d_outputs, cache, dkernel, drecurrent, dbias, need_dx=True):
    """Backward through time of :func:`lstm_forward`::

        dc = dh o act'(c_t) + dc_next;  do = dh act(c_t);  di = dc g;  dg = dc i
        df = dc c_{t-1};  dc_{t-1} = dc f;  dz = [di s', df s', dg act', do s']

    (each ``'`` the derivative at that gate's pre-activation)
    """
    return lstm_backward_with_state(d_outputs, None, cache, dkernel, drecurrent, dbias,
                                    need_dx)[0]


def lstm_backward_with_state(d_outputs, d_final_state, cache, dkernel, drecurrent, dbias,
                             need_dx=True):
    """:func:`lstm_backward` with ``[dh_T, dc_T]`` given (entries or the list may be
    None); returns ``(dx, [dL/dh0, dL/dc0])``."""
    _, dact = _act(cache["activation"])
    _, dsig = _act(cache["recurrent_activation"])
    x, mask, rmask, kernel, recurrent = _read(cache)
    dx = np.zeros_like(x)
    dW, dU = np.zeros_like(kernel), np.zeros_like(recurrent)
    db = np.zeros(kernel.shape[1], x.dtype)
    units = recurrent.shape[0]
    zeros = np.zeros((x.shape[0], units), x.dtype)
    dh = _final_grad(d_final_state, 0, zeros)
    dc = _final_grad(d_final_state, 1, zeros)
    for t in reversed(range(x.shape[1])):
        h_prev, c_prev, i, f, g, o, tc, (z, c_t) = cache["saved"][t]
        zi, zf, zc, zo = (None,) * 4 if z is None else np.split(z, 4, axis=1)
        dh = dh + d_outputs[:, t]
        dh_new, dh_kept = _split(mask, t, dh)
        dc_new, dc_kept = _split(mask, t, dc)
        dc_new = dc_new + dact(tc, c_t, dh_new * o)
        dz = np.concatenate([dsig(i, zi, dc_new * g), dsig(f, zf, dc_new * c_prev),
                             dact(g, zc, dc_new * i), dsig(o, zo, dh_new * tc)], axis=1)
        hm = h_prev if rmask is None else h_prev * rmask
        dh = dh_kept + _through_step(x, t, dz, hm, kernel, recurrent, rmask, (dW, dU, db),
                                     dx if need_dx else None)
        dc = dc_kept + dc_new * f
    _write(dkernel, dW, drecurrent, dU, dbias, db)
    return (dx if need_dx else None), [dh, dc]


# ---------------------------------------------------------------- GRU
def gru_forward(x, kernel, recurrent_kernel, bias, mask=None, recurrent_mask=None,
                activation="tanh", recurrent_activation="sigmoid", reset_after=True,
                record=True):
    """Keras's gates in the order z, r, h. With ``reset_after`` (Keras 3's default,
    ``bias (2, 3 units)``: input bias, recurrent bias)::

        a = x_t W + b_in          q = (h_{t-1} * m) U + b_rec
        z = s(a_z + q_z)   r = s(a_r + q_r)   n = act(a_h + r q_h)
        h_t = z h_{t-1} + (1 - z) n

    Without it (``bias (3 units,)``): ``n = act(a_h + (r h_{t-1} * m) U_h)``.
    """
    outputs, _, cache = gru_forward_with_state(x, kernel, recurrent_kernel, bias, None, mask,
                                               recurrent_mask, activation,
                                               recurrent_activation, reset_after)
    return outputs, cache


def gru_forward_with_state(x, kernel, recurrent_kernel, bias, initial_state, mask=None,
                           recurrent_mask=None, activation="tanh",
                           recurrent_activation="sigmoid", reset_after=True, record=True):
    """:func:`gru_forward` from ``initial_state = [h0]`` (None: zeros); returns
    ``(outputs, [h_T], cache)``."""
    act, _ = _act(activation)
    sig, _ = _act(recurrent_activation)
    keep_z = _needs_input(activation, recurrent_activation)
    batch, steps, _ = x.shape
    units = recurrent_kernel.shape[0]
    b_in, b_rec = _gru_biases(bias, reset_after, x.dtype, units)
    h = _initial(initial_state, 0, batch, units, x.dtype)
    outputs = np.empty((batch, steps, units), x.dtype)
    saved = []
    for t in range(steps):
        hm = h if recurrent_mask is None else h * recurrent_mask
        a = x[:, t] @ kernel + b_in
        if reset_after:
            q = hm @ recurrent_kernel + b_rec
            pre_z = a[:, :units] + q[:, :units]
            pre_r = a[:, units:2 * units] + q[:, units:2 * units]
            z, r = sig(pre_z), sig(pre_r)
            qh = q[:, 2 * units:]
            pre_n = a[:, 2 * units:] + r * qh
        else:
            q = hm @ recurrent_kernel[:, :2 * units]
            pre_z = a[:, :units] + q[:, :units]
            pre_r = a[:, units:2 * units] + q[:, units:]
            z, r = sig(pre_z), sig(pre_r)
            qh = (r * hm) @ recurrent_kernel[:, 2 * units:]
            pre_n = a[:, 2 * units:] + qh
        n = act(pre_n)
        h_new = z * h + (1.0 - z) * n
        saved.append((h, hm, z, r, n, qh, (pre_z, pre_r, pre_n) if keep_z else (None,) * 3))
        h = _keep(mask, t, h_new, h)
        outputs[:, t] = h
    return outputs, [h], {"x": x, "saved": saved, "mask": mask, "recurrent_mask": recurrent_mask,
                     "activation": activation, "recurrent_activation": recurrent_activation,
                     "reset_after": reset_after, "kernel": kernel,
                     "recurrent_kernel": recurrent_kernel, "bias_shape": _shape(bias)}


def _shape(bias):
    return None if bias is None else bias.shape


def _gru_biases(bias, reset_after, dtype, units):
    zero = np.zeros(3 * units, dtype)
    if bias is None:
        return zero, zero
    if reset_after:
        return bias[0], bias[1]
    return bias, zero


def gru_backward(d_outputs, cache, dkernel, drecurrent, dbias, need_dx=True):
    """Backward through time of :func:`gru_forward`::

        dn = dh (1 - z);  dz = dh (h_{t-1} - n);  dh_{t-1} = dh z + (through q)
        reset_after:  da_h = dn act';  dq_h = da_h r;  dr = da_h q_h
        otherwise:    da_h = dn act';  d(r h m) = da_h U_h^T;  dr = d(r h m) h m
    """
    return gru_backward_with_state(d_outputs, None, cache, dkernel, drecurrent, dbias,
                                   need_dx)[0]


def gru_backward_with_state(d_outputs, d_final_state, cache, dkernel, drecurrent, dbias,
                            need_dx=True):
    """:func:`gru_backward` with ``[dh_T]`` given (or None); returns
    ``(dx, [dL/dh0])``."""
    _, dact = _act(cache["activation"])
    _, dsig = _act(cache["recurrent_activation"])
    x, mask, rmask, kernel, recurrent = _read(cache)
    reset_after = cache["reset_after"]
    units = recurrent.shape[0]
    dx = np.zeros_like(x)
    dW, dU = np.zeros_like(kernel), np.zeros_like(recurrent)
    db_in = np.zeros(3 * units, x.dtype)
    db_rec = np.zeros(3 * units, x.dtype)
    dh = _final_grad(d_final_state, 0, np.zeros((x.shape[0], units), x.dtype))
    for t in reversed(range(x.shape[1])):
        h_prev, hm, z, r, n, qh, (pre_z, pre_r, pre_n) = cache["saved"][t]
        dh = dh + d_outputs[:, t]
        dh_new, dh_kept = _split(mask, t, dh)
        dn = dh_new * (1.0 - z)
        dzg = dsig(z, pre_z, dh_new * (h_prev - n))
        dah = dact(n, pre_n, dn)
        dhm = np.zeros_like(hm)
        if reset_after:
            drg = dsig(r, pre_r, dah * qh)
            dq = np.concatenate([dzg, drg, dah * r], axis=1)
            dU += hm.T @ dq
            db_rec += dq.sum(axis=0)
            dhm += dq @ recurrent.T
        else:
            d_rh = dah @ recurrent[:, 2 * units:].T
            drg = dsig(r, pre_r, d_rh * hm)
            dq = np.concatenate([dzg, drg], axis=1)
            dU[:, :2 * units] += hm.T @ dq
            dU[:, 2 * units:] += (r * hm).T @ dah
            dhm += dq @ recurrent[:, :2 * units].T + d_rh * r
        da = np.concatenate([dzg, drg, dah], axis=1)
        dW += x[:, t].T @ da
        db_in += da.sum(axis=0)
        if need_dx:
            dx[:, t] = da @ kernel.T
        dh = dh_kept + dh_new * z + (dhm if rmask is None else dhm * rmask)
    db = np.stack([db_in, db_rec]) if reset_after else db_in
    _write(dkernel, dW, drecurrent, dU, dbias, db)
    return (dx if need_dx else None), [dh]


# ---------------------------------------------------------------- Embedding
def embedding_forward(ids, embeddings):
    """``out[b, t] = embeddings[ids[b, t]]``: (batch, ...) ints -> (batch, ..., dim)."""
    return embeddings[ids]


def embedding_backward(d_outputs, ids, dembeddings):
    """``dE[v] = sum of d_outputs where ids == v`` (rows added, repeated ids too)."""
    dembeddings[...] = 0.0
    np.add.at(dembeddings, ids.reshape(-1), d_outputs.reshape(-1, dembeddings.shape[1]))
