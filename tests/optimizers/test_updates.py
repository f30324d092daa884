"""Each optimizer's update, re-derived here in plain NumPy from Keras 3's formulas
(keras/src/optimizers/*.py ``update_step``), over several steps, through both
``apply_gradients`` and the packed path (``pack_variables`` + ``apply_packed``)."""

import math

import numpy as np
import pytest

from tinyann import optimizers
from tinyann.variables import Variable, pack_variables

SHAPES = [(3, 2), (2,), (2, 2, 1)]
STEPS = 6


# ------------------------------------------------------------ reference updates
def _sgd(w, g, s, t, lr, momentum=0.0, nesterov=False):
    if not momentum:
        return w - lr * g
    s["m"] = momentum * s.get("m", 0.0) - lr * g
    if nesterov:
        return w + momentum * s["m"] - lr * g
    return w + s["m"]


def _rmsprop(w, g, s, t, lr, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False):
    s["v"] = rho * s.get("v", 0.0) + (1 - rho) * g * g
    if centered:
        s["a"] = rho * s.get("a", 0.0) + (1 - rho) * g
        denominator = s["v"] - s["a"] ** 2 + epsilon
    else:
        denominator = s["v"] + epsilon
    increment = lr * g / np.sqrt(denominator)
    if momentum > 0:
        s["m"] = momentum * s.get("m", 0.0) + increment
        return w - s["m"]
    return w - increment


def _adam(w, g, s, t, lr, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False):
    alpha = lr * math.sqrt(1 - beta_2 ** t) / (1 - beta_1 ** t)
    s["m"] = s.get("m", 0.0) + (g - s.get("m", 0.0)) * (1 - beta_1)
    s["v"] = s.get("v", 0.0) + (g * g - s.get("v", 0.0)) * (1 - beta_2)
    v = s["v"]
    if amsgrad:
        s["v_hat"] = v = np.maximum(s.get("v_hat", 0.0), s["v"])
    return w - s["m"] * alpha / (np.sqrt(v) + epsilon)


def _adamax(w, g, s, t, lr, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
    s["m"] = s.get("m", 0.0) + (g - s.get("m", 0.0)) * (1 - beta_1)
    s["u"] = np.maximum(beta_2 * s.get("u", 0.0), np.abs(g))
    return w - lr * s["m"] / ((1 - beta_1 ** t) * (s["u"] + epsilon))


def _adagrad(w, g, s, t, lr, initial_accumulator_value=0.1, epsilon=1e-7):
    s["acc"] = s.get("acc", initial_accumulator_value) + g * g
    return w - lr * g / np.sqrt(s["acc"] + epsilon)


def _adadelta(w, g, s, t, lr, rho=0.95, epsilon=1e-7):
    s["a"] = rho * s.get("a", 0.0) + (1 - rho) * g * g
    delta = -np.sqrt(s.get("d", 0.0) + epsilon) * g / np.sqrt(s["a"] + epsilon)
    s["d"] = rho * s.get("d", 0.0) + (1 - rho) * delta * delta
    return w + lr * delta


# (id, optimizer class, constructor kwargs, reference, its kwargs); weight_decay is
# Keras's decoupled w -= w * weight_decay * lr before the update (AdamW included)
CASES = [
    ("sgd", optimizers.SGD, {"learning_rate": 0.1}, _sgd, {}),
    ("sgd_momentum", optimizers.SGD, {"learning_rate": 0.1, "momentum": 0.9}, _sgd,
     {"momentum": 0.9}),
    ("sgd_nesterov", optimizers.SGD, {"learning_rate": 0.1, "momentum": 0.8, "nesterov": True},
     _sgd, {"momentum": 0.8, "nesterov": True}),
    ("rmsprop", optimizers.RMSprop, {"learning_rate": 0.01}, _rmsprop, {}),
    ("rmsprop_momentum", optimizers.RMSprop, {"learning_rate": 0.01, "momentum": 0.5, "rho": 0.8},
     _rmsprop, {"momentum": 0.5, "rho": 0.8}),
    ("rmsprop_centered", optimizers.RMSprop,
     {"learning_rate": 0.01, "centered": True, "epsilon": 1e-3}, _rmsprop,
     {"centered": True, "epsilon": 1e-3}),
    ("rmsprop_centered_momentum", optimizers.RMSprop,
     {"learning_rate": 0.01, "centered": True, "momentum": 0.3}, _rmsprop,
     {"centered": True, "momentum": 0.3}),
    ("adam", optimizers.Adam, {"learning_rate": 0.01}, _adam, {}),
    ("adam_hyper", optimizers.Adam,
     {"learning_rate": 0.02, "beta_1": 0.8, "beta_2": 0.9, "epsilon": 1e-2}, _adam,
     {"beta_1": 0.8, "beta_2": 0.9, "epsilon": 1e-2}),
    ("adam_amsgrad", optimizers.Adam, {"learning_rate": 0.01, "amsgrad": True}, _adam,
     {"amsgrad": True}),
    ("adamw", optimizers.AdamW, {"learning_rate": 0.01}, _adam, {}),
    ("adamw_amsgrad", optimizers.AdamW,
     {"learning_rate": 0.01, "weight_decay": 0.1, "amsgrad": True}, _adam, {"amsgrad": True}),
    ("adamax", optimizers.Adamax, {"learning_rate": 0.01}, _adamax, {}),
    ("adamax_hyper", optimizers.Adamax,
     {"learning_rate": 0.05, "beta_1": 0.7, "beta_2": 0.9, "epsilon": 1e-2}, _adamax,
     {"beta_1": 0.7, "beta_2": 0.9, "epsilon": 1e-2}),
    ("adagrad", optimizers.Adagrad, {"learning_rate": 0.1}, _adagrad, {}),
    ("adagrad_hyper", optimizers.Adagrad,
     {"learning_rate": 0.1, "initial_accumulator_value": 0.5, "epsilon": 1e-2}, _adagrad,
     {"initial_accumulator_value": 0.5, "epsilon": 1e-2}),
    ("adadelta", optimizers.Adadelta, {"learning_rate": 1.0}, _adadelta, {}),
    ("adadelta_hyper", optimizers.Adadelta, {"learning_rate": 0.5, "rho": 0.8, "epsilon": 1e-3},
     _adadelta, {"rho": 0.8, "epsilon": 1e-3}),
    ("sgd_weight_decay", optimizers.SGD, {"learning_rate": 0.1, "weight_decay": 0.05}, _sgd, {}),
    ("adam_weight_decay", optimizers.Adam, {"learning_rate": 0.01, "weight_decay": 0.2}, _adam,
     {}),
    ("rmsprop_weight_decay", optimizers.RMSprop, {"learning_rate": 0.01, "weight_decay": 0.1},
     _rmsprop, {}),
]
IDS = [c[0] for c in CASES]


def _data(dtype, steps=STEPS, seed=0):
    rng = np.random.default_rng(seed)
    init = [rng.normal(size=s).astype(dtype) for s in SHAPES]
    grads = [[rng.normal(size=s).astype(dtype) for s in SHAPES] for _ in range(steps)]
    return init, grads


def _reference(opt, reference, ref_kwargs, init, grads):
    """Runs the NumPy re-derivation in float64; returns the weights after each step."""
    lr = float(opt.learning_rate)
    wd = opt.weight_decay or 0.0
    weights = [w.astype("float64") for w in init]
    states = [{} for _ in weights]
    history = []
    for t, step_grads in enumerate(grads, start=1):
        weights = [w - w * wd * lr for w in weights]
        weights = [reference(w, g.astype("float64"), s, t, lr, **ref_kwargs)
                   for w, g, s in zip(weights, step_grads, states)]
        history.append(weights)
    return history


def _run_apply_gradients(opt, init, grads):
    variables = [Variable(w) for w in init]
    history = []
    for step_grads in grads:
        opt.apply_gradients(zip(step_grads, variables))
        history.append([v.numpy() for v in variables])
    return history


def _run_per_variable(opt, init, grads):
    """apply_gradients one variable at a time (its path for variables that cannot
    share a buffer, such as mixed dtypes)."""
    opt._packed_values = lambda variables: None
    return _run_apply_gradients(opt, init, grads)


def _run_packed(opt, init, grads):
    variables = [Variable(w) for w in init]
    values, grad_buffer = pack_variables(variables)
    opt.build(variables)
    history = []
    for step_grads in grads:
        for v, g in zip(variables, step_grads):
            v.grad[...] = g
        opt.apply_packed(values, grad_buffer)
        history.append([v.numpy() for v in variables])
    return history


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_update_matches_keras_formula_float64(float64, case):
    """In float64 the library and the re-derivation agree to rounding: a different
    formula (epsilon outside the root, a missing bias correction) would not."""
    _, cls, kwargs, reference, ref_kwargs = case
    init, grads = _data("float64")
    expected = _reference(cls(**kwargs), reference, ref_kwargs, init, grads)
    for run in (_run_apply_gradients, _run_per_variable, _run_packed):
        opt = cls(**kwargs)
        got = run(opt, init, grads)
        assert opt.iterations == STEPS
        for step, (g_step, e_step) in enumerate(zip(got, expected)):
            for g, e in zip(g_step, e_step):
                assert g.dtype == np.float64
                np.testing.assert_allclose(g, e, rtol=1e-12, atol=1e-14,
                                           err_msg=f"{run.__name__} step {step + 1}")


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_update_float32_close_to_formula(case):
    _, cls, kwargs, reference, ref_kwargs = case
    init, grads = _data("float32", seed=1)
    expected = _reference(cls(**kwargs), reference, ref_kwargs, init, grads)[-1]
    got = _run_apply_gradients(cls(**kwargs), init, grads)[-1]
    scale = max(np.max(np.abs(e)) for e in expected)
    for g, e in zip(got, expected):
        assert g.dtype == np.float32
        np.testing.assert_allclose(g, e, rtol=1e-5, atol=1e-6 * scale)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_packed_path_identical_to_apply_gradients(dtype, case, request):
    if dtype == "float64":
        request.getfixturevalue("float64")
    _, cls, kwargs, _, _ = case
    init, grads = _data(dtype, seed=2)
    a = _run_apply_gradients(cls(**kwargs), init, grads)
    b = _run_packed(cls(**kwargs), init, grads)
    c = _run_per_variable(cls(**kwargs), init, grads)
    for step_a, step_b, step_c in zip(a, b, c):
        for x, y, z in zip(step_a, step_b, step_c):
            np.testing.assert_array_equal(x, y)
            np.testing.assert_array_equal(x, z)


def test_apply_gradients_packs_the_variables_and_reads_packed_gradients_in_place():
    """Given variables apart, apply_gradients moves them into one buffer (fit's
    blocked update); gradients that are views into one flat buffer laid out alike
    are read there, others are gathered into the optimizer's own buffer."""
    init = [np.linspace(-1, 1, 6).reshape(3, 2), np.array([0.5, -0.5])]
    variables = [Variable(init[0], order="F"), Variable(init[1])]
    others = [Variable(init[0], order="F"), Variable(init[1])]
    opt, ref = optimizers.Adam(0.1), optimizers.Adam(0.1)
    ref._packed_values = lambda vs: None  # one variable at a time
    first = [np.ones((3, 2)), np.ones(2)]
    opt.apply_gradients(zip(first, variables))
    ref.apply_gradients(zip(first, others))
    values = variables[0].value.base
    assert values is not None and values.shape == (8,)
    assert all(v.value.base is values for v in variables)
    gathered = opt._flat_grads
    assert gathered is not None
    flat = np.arange(8.0, dtype=values.dtype)
    views = [flat[:6].reshape((3, 2), order="F"), flat[6:]]
    opt.apply_gradients(zip(views, variables))
    assert opt._flat_grads is gathered and np.all(gathered == 1)  # not copied into
    np.testing.assert_array_equal(flat, np.arange(8.0))  # the caller's, unchanged
    ref.apply_gradients(zip([np.ascontiguousarray(views[0]), views[1]], others))
    for v, w in zip(variables, others):
        np.testing.assert_array_equal(v.numpy(), w.numpy())


def test_variables_of_mixed_dtypes_update_one_at_a_time():
    variables = [Variable(np.ones(2), dtype="float32"), Variable(np.ones(3), dtype="float64")]
    opt = optimizers.SGD(0.5)
    opt.apply_gradients(zip([np.ones(2), np.ones(3)], variables))
    assert variables[0].value.base is None and variables[1].value.base is None
    np.testing.assert_array_equal(variables[0].numpy(), [0.5, 0.5])
    np.testing.assert_array_equal(variables[1].numpy(), [0.5, 0.5, 0.5])


def test_zero_gradient_leaves_weights_without_decay():
    for cls in (optimizers.SGD, optimizers.RMSprop, optimizers.Adam, optimizers.Adagrad,
                optimizers.Adamax, optimizers.Adadelta):
        v = Variable(np.array([1.0, -2.0]))
        cls().apply_gradients([(np.zeros(2), v)])
        np.testing.assert_array_equal(v.numpy(), [1.0, -2.0], err_msg=cls.__name__)


def test_keras_default_hyperparameters():
    defaults = {
        optimizers.SGD: {"learning_rate": 0.01, "momentum": 0.0, "nesterov": False},
        optimizers.RMSprop: {"learning_rate": 0.001, "rho": 0.9, "momentum": 0.0,
                             "epsilon": 1e-7, "centered": False},
        optimizers.Adam: {"learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.999,
                          "epsilon": 1e-7, "amsgrad": False},
        optimizers.AdamW: {"learning_rate": 0.001, "weight_decay": 0.004, "beta_1": 0.9,
                           "beta_2": 0.999, "epsilon": 1e-7, "amsgrad": False},
        optimizers.Adamax: {"learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.999,
                            "epsilon": 1e-7},
        optimizers.Adagrad: {"learning_rate": 0.001, "initial_accumulator_value": 0.1,
                             "epsilon": 1e-7},
        optimizers.Adadelta: {"learning_rate": 0.001, "rho": 0.95, "epsilon": 1e-7},
    }
    for cls, expected in defaults.items():
        config = cls().get_config()
        for key, value in expected.items():
            assert config[key] == pytest.approx(value, rel=1e-7), (cls.__name__, key)


def test_iterations_and_variables_order():
    opt = optimizers.Adam()
    variables = [Variable(np.ones((2, 2))), Variable(np.ones(3))]
    opt.apply_gradients(zip([np.ones((2, 2)), np.ones(3)], variables))
    opt.apply_gradients(zip([np.ones((2, 2)), np.ones(3)], variables))
    assert opt.iterations == 2
    assert int(opt.variables[0]) == 2
    # a momentum and a velocity per weight among the optimizer's variables
    shapes = [np.shape(a) for a in opt.variables]
    assert shapes.count((2, 2)) == 2 and shapes.count((3,)) == 2


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_switching_paths_keeps_the_state_of_transposed_kernels(float64, case):
    """Dense keeps small kernels in Fortran order: slots seen per variable must line
    up with the packed buffer, so packed steps then apply_gradients steps on one
    optimizer equal apply_gradients steps alone."""
    _, cls, kwargs, _, _ = case
    init, grads = _data("float64", seed=3)
    expected = _run_apply_gradients(cls(**kwargs), init, grads)[-1]
    variables = [Variable(w, order="F") for w in init]
    opt = cls(**kwargs)
    values, grad_buffer = pack_variables(variables)
    opt.build(variables)
    half = len(grads) // 2
    for step_grads in grads[:half]:
        for v, g in zip(variables, step_grads):
            v.grad[...] = g
        opt.apply_packed(values, grad_buffer)
    for step_grads in grads[half:]:
        opt.apply_gradients(zip(step_grads, variables))
    for v, e in zip(variables, expected):
        np.testing.assert_allclose(v.numpy(), e, rtol=1e-12, atol=1e-14)


def test_reusing_an_optimizer_on_other_variables_raises():
    opt = optimizers.SGD()
    opt.apply_gradients([(np.ones(2), Variable(np.ones(2)))])
    with pytest.raises(ValueError, match="was built for 1 variables; received 1 different"):
        opt.apply_gradients([(np.ones(2), Variable(np.ones(2)))])


@pytest.mark.parametrize("cls", [optimizers.SGD, optimizers.RMSprop, optimizers.Adam,
                                 optimizers.AdamW, optimizers.Adamax, optimizers.Adagrad,
                                 optimizers.Adadelta])
def test_negative_learning_rate_raises(cls):
    with pytest.raises(ValueError, match=r"`learning_rate` must be a non-negative number. "
                                         r"Received: learning_rate=-0.1"):
        cls(learning_rate=-0.1)
    opt = cls()
    with pytest.raises(ValueError, match="non-negative"):
        opt.learning_rate = -1.0


@pytest.mark.parametrize("momentum", [-0.1, 1.5])
def test_sgd_momentum_outside_unit_interval_raises(momentum):
    with pytest.raises(ValueError, match=r"`momentum` must be a float between \[0, 1\]"):
        optimizers.SGD(momentum=momentum)


@pytest.mark.parametrize("kwargs, message", [
    ({"weight_decay": -0.1}, "`weight_decay` must be a non-negative number"),
    ({"clipnorm": -1.0}, "`clipnorm` must be a non-negative number"),
    ({"clipvalue": float("nan")}, "`clipvalue` must be a non-negative number"),
    ({"unknown_arg": 1}, "Argument\\(s\\) not recognized: {'unknown_arg': 1}"),
])
def test_invalid_base_arguments_raise(kwargs, message):
    with pytest.raises(ValueError, match=message):
        optimizers.Adam(**kwargs)


def test_adamw_needs_weight_decay():
    with pytest.raises(ValueError, match="Argument `weight_decay` must be a float"):
        optimizers.AdamW(weight_decay=None)


def test_adagrad_negative_initial_accumulator_raises():
    with pytest.raises(ValueError, match="`initial_accumulator_value` must be non-negative"):
        optimizers.Adagrad(initial_accumulator_value=-0.1)


def test_legacy_decay_argument_is_ignored_with_a_warning():
    with pytest.warns(UserWarning, match="`decay` is no longer supported"):
        opt = optimizers.SGD(decay=0.1)
    assert "decay" not in opt.get_config()


def _square_model():
    """Two Dense layers whose kernels (4, 4) and biases (4,) have the same shapes."""
    from tinyann import Sequential, layers

    model = Sequential([layers.Input((4,)), layers.Dense(4), layers.Dense(4)])
    model.compile(optimizer="sgd", loss="mse")
    model.fit(np.ones((2, 4)), np.ones((2, 4)), epochs=1, verbose=0)   # packs the weights
    return model


def _tape_grads(model, x):
    from tinyann import ops
    from tinyann.autodiff import GradientTape

    with GradientTape() as tape:
        loss = ops.sum(ops.square(model(x, training=True)))
    return tape.gradient(loss, model.trainable_weights)


def test_a_packed_models_tape_gradients_are_read_in_place_and_checked():
    """The tape hands a packed model's gradients out as views of one spare buffer,
    which apply_gradients reads in place; the same views in another order, or other
    arrays, are never taken for them."""
    model = _square_model()
    variables = model.trainable_weights
    x = np.linspace(-1, 1, 8).reshape(2, 4).astype("float32")
    opt = optimizers.SGD(0.1)
    grads = _tape_grads(model, x)
    base = grads[0].numpy().base
    assert base is not None and all(g.numpy().base is base for g in grads)
    before = [v.numpy() for v in variables]
    opt.apply_gradients(zip(grads, variables))
    assert opt._flat_grads is None   # read in place, nothing gathered
    for v, w, g in zip(variables, before, grads):
        np.testing.assert_allclose(v.numpy(), w - 0.1 * g.numpy(), rtol=1e-6)
    # swapped: the kernels' gradients exchanged (same shapes, same buffer)
    grads = _tape_grads(model, x)
    swapped = [grads[2], grads[1], grads[0], grads[3]]
    before = [v.numpy() for v in variables]
    opt.apply_gradients(zip(swapped, variables))
    for v, w, g in zip(variables, before, swapped):
        np.testing.assert_allclose(v.numpy(), w - 0.1 * g.numpy(), rtol=1e-6)
    # one replaced by the user's own array
    grads = _tape_grads(model, x)
    edited = [grads[0] * 2.0, *grads[1:]]
    before = [v.numpy() for v in variables]
    opt.apply_gradients(zip(edited, variables))
    for v, w, g in zip(variables, before, edited):
        np.testing.assert_allclose(v.numpy(), w - 0.1 * np.asarray(g), rtol=1e-6)


def test_gradients_kept_by_the_caller_are_not_overwritten():
    model = _square_model()
    x = np.linspace(-1, 1, 8).reshape(2, 4).astype("float32")
    first = _tape_grads(model, x)
    kept = [g.numpy().copy() for g in first]
    for _ in range(5):   # more steps than spare buffers
        _tape_grads(model, 2 * x)
    for g, k in zip(first, kept):
        np.testing.assert_array_equal(g.numpy(), k)


@pytest.mark.parametrize("way", ["glibc", "compiled"])
def test_apply_gradients_flushes_subnormals_as_fit_and_restores_the_mode(monkeypatch, way):
    """Slots decaying through subnormal floats are zero in apply_gradients' update (as
    in fit's, and TensorFlow's kernels); the thread's floating-point mode is restored.
    Both ways of setting it: glibc's calls, and the compiled ones once numba is loaded."""
    from tinyann.kernels import jit
    from tinyann.utils import denormals

    if denormals._LIB is None:
        pytest.skip("flush-to-zero is set on x86-64 Linux only")
    if way == "compiled":
        if not jit.available():
            pytest.skip("numba is not installed")
        jit._load_numba()
        monkeypatch.setattr(denormals, "_compiled", None)
        assert denormals._compiled_mxcsr() is not None
    else:
        monkeypatch.setattr(denormals, "_compiled", False)
        monkeypatch.setattr(denormals, "_compiled_mxcsr", lambda: None)
    with denormals.denormals_flushed():
        assert (np.array([1e-39], np.float32) * np.float32(1.0))[0] == 0
        with denormals.denormals_flushed():   # nested: changes nothing on the way out
            pass
        assert (np.array([1e-39], np.float32) * np.float32(1.0))[0] == 0
    tiny = np.array([1e-39], np.float32)
    opt = optimizers.SGD(1.0, momentum=0.5)
    v = Variable(np.zeros(1, np.float32))
    opt.apply_gradients([(np.array([-2e-39], np.float32), v)])
    assert v.numpy()[0] == 0.0   # 2e-39 is subnormal in float32: read as 0
    assert (tiny * np.float32(1.0))[0] != 0   # the mode is back
