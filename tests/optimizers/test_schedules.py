"""Learning-rate schedules against Keras's formulas, and used as an optimizer's
learning rate (step t of training uses schedule(t), t counted from 0)."""

import math

import numpy as np
import pytest

from tinyann import optimizers
from tinyann.optimizers import schedules
from tinyann.variables import Variable, pack_variables

STEPS = range(0, 25)


def _exponential(t, staircase):
    p = t / 10
    return 0.1 * 0.5 ** (math.floor(p) if staircase else p)


def _piecewise(t):
    return 1.0 if t <= 3 else 0.5 if t <= 6 else 0.1


def _cosine_warmup(t):
    if t < 4:
        return 0.1 + (0.5 - 0.1) * t / 4
    s = min(t - 4, 10)
    return 0.5 * ((1 - 0.2) * 0.5 * (1 + math.cos(math.pi * s / 10)) + 0.2)


def _cosine(t):
    s = min(t, 8)
    return 0.3 * 0.5 * (1 + math.cos(math.pi * s / 8))


def _inverse_time(t, staircase):
    p = t / 5
    return 0.1 / (1 + 0.5 * (math.floor(p) if staircase else p))


SCHEDULES = [
    ("exponential", lambda: schedules.ExponentialDecay(0.1, 10, 0.5),
     lambda t: _exponential(t, False)),
    ("exponential_staircase", lambda: schedules.ExponentialDecay(0.1, 10, 0.5, staircase=True),
     lambda t: _exponential(t, True)),
    ("piecewise", lambda: schedules.PiecewiseConstantDecay([3, 6], [1.0, 0.5, 0.1]), _piecewise),
    ("cosine", lambda: schedules.CosineDecay(0.3, decay_steps=8), _cosine),
    ("cosine_warmup", lambda: schedules.CosineDecay(0.1, decay_steps=10, alpha=0.2,
                                                    warmup_target=0.5, warmup_steps=4),
     _cosine_warmup),
    ("inverse_time", lambda: schedules.InverseTimeDecay(0.1, 5, 0.5),
     lambda t: _inverse_time(t, False)),
    ("inverse_time_staircase", lambda: schedules.InverseTimeDecay(0.1, 5, 0.5, staircase=True),
     lambda t: _inverse_time(t, True)),
]
IDS = [s[0] for s in SCHEDULES]


@pytest.mark.parametrize("name, make, formula", SCHEDULES, ids=IDS)
def test_schedule_matches_formula(name, make, formula):
    schedule = make()
    got = [float(schedule(t)) for t in STEPS]
    np.testing.assert_allclose(got, [formula(t) for t in STEPS], rtol=1e-12)


def test_staircase_is_flat_within_a_period():
    s = schedules.ExponentialDecay(1.0, 4, 0.5, staircase=True)
    assert [s(t) for t in range(9)] == [1.0] * 4 + [0.5] * 4 + [0.25]


def test_piecewise_boundaries_belong_to_the_lower_piece():
    s = schedules.PiecewiseConstantDecay([3, 6], [1.0, 0.5, 0.1])
    assert (s(3), s(4), s(6), s(7)) == (1.0, 0.5, 0.5, 0.1)


def test_cosine_warmup_reaches_target_then_floor():
    s = schedules.CosineDecay(0.0, decay_steps=10, alpha=0.1, warmup_target=1.0, warmup_steps=5)
    assert s(0) == 0.0
    assert s(5) == pytest.approx(1.0)
    assert s(15) == pytest.approx(0.1) and s(100) == pytest.approx(0.1)


@pytest.mark.parametrize("packed", [False, True], ids=["apply_gradients", "packed"])
@pytest.mark.parametrize("name, make, formula", SCHEDULES, ids=IDS)
def test_schedule_as_learning_rate(float64, name, make, formula, packed):
    """SGD with gradient 1: each step moves the weight by the schedule at that step
    (float64 weights, so the differences of the weights are exact enough to compare)."""
    opt = optimizers.SGD(learning_rate=make())
    v = Variable(np.zeros(2))
    if packed:
        values, grads = pack_variables([v])
        opt.build([v])
    seen = []
    for _ in range(12):
        seen.append(float(opt.learning_rate))
        before = v.numpy()
        if packed:
            grads[:] = 1.0
            opt.apply_packed(values, grads)
        else:
            opt.apply_gradients([(np.ones(2), v)])
        np.testing.assert_allclose(before - v.numpy(), seen[-1], rtol=1e-12)
    np.testing.assert_allclose(seen, [formula(t) for t in range(12)], rtol=1e-6)


def test_plain_callable_as_learning_rate():
    opt = optimizers.SGD(learning_rate=lambda step: 0.5 / (step + 1))
    v = Variable(np.zeros(1))
    for _ in range(3):
        opt.apply_gradients([(np.ones(1), v)])
    np.testing.assert_allclose(v.numpy(), [-(0.5 + 0.25 + 0.5 / 3)], rtol=1e-6)


@pytest.mark.parametrize("name, make, formula", SCHEDULES, ids=IDS)
def test_serialize_deserialize_round_trip(name, make, formula):
    schedule = make()
    config = schedules.serialize(schedule)
    assert config["class_name"] == type(schedule).__name__
    restored = schedules.deserialize(config)
    assert type(restored) is type(schedule)
    assert restored.get_config() == schedule.get_config()
    assert [restored(t) for t in STEPS] == [schedule(t) for t in STEPS]


@pytest.mark.parametrize("make", [
    lambda: schedules.ExponentialDecay(0.1, 0, 0.5),
    lambda: schedules.CosineDecay(0.1, decay_steps=-1),
])
def test_non_positive_decay_steps_raise(make):
    with pytest.raises(ValueError, match="Argument `decay_steps` must be > 0"):
        make()


def test_piecewise_lengths_must_match():
    with pytest.raises(ValueError, match="one more than the length of `boundaries`"):
        schedules.PiecewiseConstantDecay([1, 2], [1.0, 0.5])


def test_unknown_schedule_lists_valid_ones():
    with pytest.raises(ValueError, match=r"Unknown learning rate schedule 'Polynomial'.*"
                                         r"'CosineDecay'"):
        schedules.deserialize({"class_name": "Polynomial", "config": {}})
