"""Numerical gradient checks of the reference recurrent kernels (float64, central
differences): SimpleRNN, LSTM and GRU (both reset_after forms), with and without a
mask and a recurrent dropout mask, and the embedding lookup.

The scalar is ``sum(G * outputs)`` for a random ``G`` over every step's output, so
backward through time is checked at every step, not only the last.
"""

import numpy as np
import pytest

from tinyann import kernels

REF = kernels.functions_of("reference")
UNITS, FEATURES, BATCH, STEPS = 3, 4, 2, 5
GATES = {"simple_rnn": 1, "lstm": 4, "gru": 3}

CASES = [
    ("simple_rnn", {}), ("lstm", {}), ("gru", {"reset_after": True}),
    ("gru", {"reset_after": False}), ("simple_rnn", {"activation": "relu"}),
    ("lstm", {"activation": "tanh", "recurrent_activation": "hard_sigmoid"}),
    # activations whose derivative needs the pre-activations (kept by the forward)
    ("simple_rnn", {"activation": "gelu"}),
    ("lstm", {"activation": "mish", "recurrent_activation": "silu"}),
    ("gru", {"activation": "selu", "recurrent_activation": "hard_silu", "reset_after": True}),
    ("gru", {"activation": "tanh_shrink", "recurrent_activation": "sigmoid",
             "reset_after": False}),
    # and one along the units (a gate's softmax)
    ("lstm", {"activation": "softsign", "recurrent_activation": "softmax"}),
]


def _weights(rng, cell, reset_after=True):
    width = GATES[cell] * UNITS
    kernel = rng.normal(scale=0.5, size=(FEATURES, width))
    recurrent = rng.normal(scale=0.5, size=(UNITS, width))
    bias = rng.normal(scale=0.3, size=(2, width) if cell == "gru" and reset_after else width)
    return kernel, recurrent, bias


@pytest.mark.parametrize("masked", [False, True], ids=["no_mask", "mask"])
@pytest.mark.parametrize("dropped", [False, True], ids=["no_dropout", "recurrent_dropout"])
@pytest.mark.parametrize("cell,options", CASES)
def test_recurrent_backward_through_time(gradcheck, cell, options, masked, dropped):
    rng = np.random.default_rng(len(cell) + 7 * masked + 3 * dropped)
    x = rng.normal(size=(BATCH, STEPS, FEATURES))
    kernel, recurrent, bias = _weights(rng, cell, options.get("reset_after", True))
    mask = None
    if masked:  # some steps of each sequence masked, the first sequence's first ones too
        mask = np.array([[False, False, True, True, False], [True, False, True, True, True]])
    rmask = rng.uniform(0.5, 1.5, size=(BATCH, UNITS)) if dropped else None
    forward, backward = REF[f"{cell}_forward"], REF[f"{cell}_backward"]
    outputs, cache = forward(x, kernel, recurrent, bias, mask=mask, recurrent_mask=rmask,
                             **options)
    g = rng.normal(size=outputs.shape)
    dkernel, drecurrent, dbias = (np.empty_like(a) for a in (kernel, recurrent, bias))
    dx = backward(g, cache, dkernel, drecurrent, dbias)

    def loss():
        out, _ = forward(x, kernel, recurrent, bias, mask=mask, recurrent_mask=rmask,
                         **options)
        return np.sum(g * out)

    for analytic, wrt in ((dx, x), (dkernel, kernel), (drecurrent, recurrent), (dbias, bias)):
        gradcheck.assert_close(analytic, gradcheck.numerical_grad(loss, wrt))


@pytest.mark.parametrize("cell", ["simple_rnn", "lstm", "gru"])
def test_masked_steps_keep_the_state(cell):
    rng = np.random.default_rng(3)
    x = rng.normal(size=(2, 4, FEATURES))
    kernel, recurrent, bias = _weights(rng, cell)
    mask = np.array([[True, False, False, True], [True, True, True, True]])
    out, _ = REF[f"{cell}_forward"](x, kernel, recurrent, bias, mask=mask)
    # the first sequence's steps 1 and 2 are masked: its output repeats step 0's
    np.testing.assert_array_equal(out[0, 1], out[0, 0])
    np.testing.assert_array_equal(out[0, 2], out[0, 0])
    assert not np.allclose(out[0, 3], out[0, 0])
    # a fully unmasked sequence is the same as without a mask
    full, _ = REF[f"{cell}_forward"](x, kernel, recurrent, bias)
    np.testing.assert_array_equal(out[1], full[1])


def test_lstm_step_by_hand():
    """One LSTM step from the gate equations, written out for one unit."""
    x = np.array([[[0.5, -1.0]]])
    kernel = np.array([[0.1, 0.2, 0.3, 0.4], [-0.1, 0.0, 0.5, -0.2]])
    recurrent = np.zeros((1, 4))
    bias = np.array([0.0, 1.0, 0.0, 0.0])
    out, _ = REF["lstm_forward"](x, kernel, recurrent, bias)
    z = np.array([0.5 * 0.1 + 0.1, 0.5 * 0.2 + 1.0, 0.5 * 0.3 - 0.5, 0.5 * 0.4 + 0.2])
    sig = 1 / (1 + np.exp(-z))
    c = sig[0] * np.tanh(z[2])  # c_0 = 0, so the forget gate drops out
    assert out[0, 0, 0] == pytest.approx(sig[3] * np.tanh(c))


def test_gru_step_by_hand_reset_after():
    x = np.array([[[1.0]]])
    kernel = np.array([[0.2, -0.3, 0.4]])
    recurrent = np.array([[0.5, 0.5, 0.5]])
    bias = np.array([[0.1, 0.0, -0.1], [0.0, 0.2, 0.3]])
    out, _ = REF["gru_forward"](x, kernel, recurrent, bias)
    sig = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731
    z, r = sig(0.2 + 0.1 + 0.0), sig(-0.3 + 0.0 + 0.2)
    n = np.tanh(0.4 - 0.1 + r * 0.3)  # h_0 = 0: the recurrent part is the bias alone
    assert out[0, 0, 0] == pytest.approx((1 - z) * n)


def test_embedding(gradcheck):
    rng = np.random.default_rng(4)
    table = rng.normal(size=(6, 3))
    ids = np.array([[0, 2, 2], [5, 1, 2]])
    g = rng.normal(size=(2, 3, 3))
    dtable = np.empty_like(table)
    REF["embedding_backward"](g, ids, dtable)

    def loss():
        return np.sum(g * REF["embedding_forward"](ids, table))

    gradcheck.assert_close(dtable, gradcheck.numerical_grad(loss, table))
    assert np.all(dtable[[3, 4]] == 0)  # ids never seen get no gradient


@pytest.mark.parametrize("masked", [False, True], ids=["no_mask", "mask"])
@pytest.mark.parametrize("cell,options", CASES)
def test_states_at_both_ends(gradcheck, cell, options, masked):
    """``*_with_state``: gradients for the initial states, and from the final states
    (the scalar reads the outputs, h_T and, for LSTM, c_T)."""
    rng = np.random.default_rng(11 + len(cell) + 5 * masked)
    x = rng.normal(size=(BATCH, STEPS, FEATURES))
    kernel, recurrent, bias = _weights(rng, cell, options.get("reset_after", True))
    mask = None
    if masked:  # the second sequence ends on masked steps: h_T is an earlier state
        mask = np.array([[False, True, True, False, True], [True, False, True, False, False]])
    rmask = rng.uniform(0.5, 1.5, size=(BATCH, UNITS))
    n_states = 2 if cell == "lstm" else 1
    states = [rng.normal(size=(BATCH, UNITS)) for _ in range(n_states)]
    forward = REF[f"{cell}_forward_with_state"]
    backward = REF[f"{cell}_backward_with_state"]

    def run():
        return forward(x, kernel, recurrent, bias, states, mask, rmask, **options)

    outputs, final, cache = run()
    g = rng.normal(size=outputs.shape)
    g_final = [rng.normal(size=(BATCH, UNITS)) for _ in range(n_states)]
    dkernel, drecurrent, dbias = (np.empty_like(a) for a in (kernel, recurrent, bias))
    dx, d_states = backward(g, g_final, cache, dkernel, drecurrent, dbias)

    def loss():
        out, fin, _ = run()
        return np.sum(g * out) + sum(np.sum(a * b) for a, b in zip(g_final, fin))

    pairs = [(dx, x), (dkernel, kernel), (drecurrent, recurrent), (dbias, bias)]
    pairs += list(zip(d_states, states))
    for analytic, wrt in pairs:
        gradcheck.assert_close(analytic, gradcheck.numerical_grad(loss, wrt))


@pytest.mark.parametrize("cell", ["simple_rnn", "lstm", "gru"])
def test_zero_initial_state_is_the_plain_kernel(cell):
    rng = np.random.default_rng(5)
    x = rng.normal(size=(BATCH, STEPS, FEATURES))
    kernel, recurrent, bias = _weights(rng, cell)
    plain, _ = REF[f"{cell}_forward"](x, kernel, recurrent, bias)
    zeros = [np.zeros((BATCH, UNITS))] * (2 if cell == "lstm" else 1)
    out, final, _ = REF[f"{cell}_forward_with_state"](x, kernel, recurrent, bias, zeros)
    np.testing.assert_array_equal(out, plain)
    np.testing.assert_array_equal(final[0], plain[:, -1])
    with pytest.raises(ValueError, match=r"Initial state 0 must have shape \(2, 3\)"):
        REF[f"{cell}_forward_with_state"](x, kernel, recurrent, bias,
                                          [np.zeros((3, UNITS))] * len(zeros))
