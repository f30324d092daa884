"""GradientTape's semantics, one by one, as TensorFlow defines them."""

from __future__ import annotations

import numpy as np
import pytest

from tinyann import ops
from tinyann.autodiff import GradientTape, Tensor
from tinyann.variables import Variable


def const(v):
    return Tensor(np.asarray(v, dtype=np.float32))


def test_watched_tensor_gets_its_gradient():
    x = const(3.0)
    with GradientTape() as tape:
        tape.watch(x)
        y = x * x
    assert float(tape.gradient(y, x)) == 6.0


def test_unwatched_tensor_gives_none_and_zero_on_request():
    x, z = const(3.0), const(1.0)
    with GradientTape(persistent=True) as tape:
        tape.watch(x)
        y = x * 2
    assert tape.gradient(y, z) is None
    assert tape.gradient(y, z, unconnected_gradients="zero").numpy() == 0.0


def test_trainable_variables_are_watched_automatically_others_not():
    w = Variable(np.array([1.0, 2.0]), name="w")
    frozen = Variable(np.array([1.0, 1.0]), name="f", trainable=False)
    with GradientTape() as tape:
        y = ops.sum(w * frozen * w)
    gw, gf = tape.gradient(y, [w, frozen])
    np.testing.assert_allclose(gw.numpy(), [2.0, 4.0])
    assert gf is None
    assert tape.watched_variables() == (w,)


def test_watch_accessed_variables_false_watches_only_what_is_asked():
    a = Variable(np.array(2.0), name="a")
    b = Variable(np.array(5.0), name="b")
    with GradientTape(watch_accessed_variables=False) as tape:
        tape.watch(a)
        y = a * b
    ga, gb = tape.gradient(y, [a, b])
    assert float(ga) == 5.0 and gb is None


def test_second_gradient_call_of_a_non_persistent_tape_raises():
    x = const(2.0)
    with GradientTape() as tape:
        tape.watch(x)
        y = x * x
    tape.gradient(y, x)
    with pytest.raises(RuntimeError, match="non-persistent GradientTape can only be used"):
        tape.gradient(y, x)


def test_persistent_tape_answers_several_times():
    x = const(3.0)
    with GradientTape(persistent=True) as tape:
        tape.watch(x)
        y = x * x
        z = y * y
    assert float(tape.gradient(z, x)) == 108.0   # 4 x^3
    assert float(tape.gradient(y, x)) == 6.0


def test_nested_tapes_record_independently():
    x = const(2.0)
    with GradientTape() as outer:
        outer.watch(x)
        with GradientTape() as inner:
            inner.watch(x)
            y = x * x * x
        inner_grad = inner.gradient(y, x)
        w = y * 2
    assert float(inner_grad) == 12.0
    assert float(outer.gradient(w, x)) == 24.0


def test_tapes_opened_side_by_side_each_see_their_sources():
    # the GAN pattern: two tapes, one forward pass, each differentiates its own weights
    g = Variable(np.array(1.5), name="g")
    d = Variable(np.array(-0.5), name="d")
    with GradientTape() as gen_tape, GradientTape() as disc_tape:
        fake = g * 2
        score = fake * d
    assert float(gen_tape.gradient(score, g)) == pytest.approx(-1.0)
    assert float(disc_tape.gradient(score, d)) == pytest.approx(3.0)


def test_gradients_come_back_in_the_nest_of_the_sources():
    a, b, c = const(1.0), const(2.0), const(3.0)
    with GradientTape() as tape:
        tape.watch([a, b, c])
        y = a * b * c
    grads = tape.gradient(y, {"x": a, "rest": (b, [c])})
    assert set(grads) == {"x", "rest"}
    assert float(grads["x"]) == 6.0
    assert isinstance(grads["rest"], tuple) and isinstance(grads["rest"][1], list)
    assert float(grads["rest"][0]) == 3.0 and float(grads["rest"][1][0]) == 2.0


def test_list_of_targets_is_summed():
    x = const(2.0)
    with GradientTape() as tape:
        tape.watch(x)
        ys = [x * x, x * 3]
    assert float(tape.gradient(ys, x)) == 7.0


def test_stop_gradient_cuts_the_path():
    x = const(2.0)
    with GradientTape() as tape:
        tape.watch(x)
        y = x * ops.stop_gradient(x * x)
    assert float(tape.gradient(y, x)) == 4.0


def test_stop_recording_leaves_ops_out():
    x = const(2.0)
    with GradientTape() as tape:
        tape.watch(x)
        with tape.stop_recording():
            y = x * x
        z = x * 3
    assert tape.gradient(y, x) is None
    assert tape.gradient is not None and float(z) == 6.0


def test_gradient_accumulates_over_paths_and_reused_values():
    x = const(3.0)
    with GradientTape() as tape:
        tape.watch(x)
        y = x * x
        z = y + y * x + ops.exp(ops.zeros(())) * x   # 2x^2 ... d/dx = 2x + 3x^2 + 1
    assert float(tape.gradient(z, x)) == pytest.approx(2 * 3 + 3 * 9 + 1)


def test_nothing_is_recorded_without_a_tape_or_outside_the_with_block():
    x = const(2.0)
    tape = GradientTape()
    tape.watch(x)
    y = x * x   # the tape is not open
    assert tape.gradient(y, x) is None


def test_watch_rejects_non_tensors_clearly():
    with GradientTape() as tape:
        with pytest.raises(ValueError, match="not a Tensor or Variable"):
            tape.watch(np.ones(3))


def test_output_gradients_weigh_the_target():
    x = const([1.0, 2.0])
    with GradientTape() as tape:
        tape.watch(x)
        y = x * x
    g = tape.gradient(y, x, output_gradients=const([10.0, 1.0]))
    np.testing.assert_allclose(g.numpy(), [20.0, 4.0])


def test_variable_arithmetic_and_assign_take_tensors():
    v = Variable(np.array([1.0, 2.0]), name="v")
    t = v * 2 + 1
    assert isinstance(t, Tensor)
    np.testing.assert_allclose(t.numpy(), [3.0, 5.0])
    v.assign(t)
    v.assign_add(ops.ones((2,)))
    v.assign_sub(const([1.0, 1.0]))
    np.testing.assert_allclose(v.numpy(), [3.0, 5.0])
    np.testing.assert_allclose((2 - v).numpy(), [-1.0, -3.0])


def test_tensor_behaves_as_an_array_for_numpy_code():
    t = ops.convert_to_tensor([[1.0, 5.0], [7.0, 2.0]])
    assert t.dtype == np.float32 and t.shape == (2, 2)
    assert np.argmax(t, axis=1).tolist() == [1, 0]
    assert isinstance(np.exp(t), np.ndarray)
    assert float(t[1, 0]) == 7.0
    assert [float(r[0]) for r in t] == [1.0, 7.0]
    assert "shape=(2, 2), dtype=float32" in repr(t)
    assert isinstance(np.ones(2) + ops.ones((2,)), Tensor)   # NumPy defers to the Tensor
