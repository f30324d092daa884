"""Learning-rate schedules: ``schedule(step) -> learning rate``, Keras's formulas."""

from __future__ import annotations

import math

import numpy as np

from tinyann import _identifiers


def _check_decay_steps(decay_steps):
    if decay_steps <= 0:
        raise ValueError(
            f"Argument `decay_steps` must be > 0. Received: decay_steps={decay_steps}"
        )


class LearningRateSchedule(_identifiers.Configurable):
    """Base class: callable on the optimizer's ``iterations``."""

    # a built-in schedule's config: these attributes, in Keras's order
    _config_keys: tuple[str, ...] = ()

    def __call__(self, step):
        raise NotImplementedError

    def get_config(self) -> dict:
        if not self._config_keys:
            raise NotImplementedError
        return {key: getattr(self, key) for key in self._config_keys}


class _Decay(LearningRateSchedule):
    """A decay from ``initial_learning_rate`` over ``decay_steps``."""

    def __init__(self, initial_learning_rate, decay_steps, name):
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.name = name


class _TimeDecay(_Decay):
    """What ExponentialDecay and InverseTimeDecay share: their arguments and the
    decay's progress ``step / decay_steps`` (floored with ``staircase``)."""

    _config_keys = ("initial_learning_rate", "decay_steps", "decay_rate", "staircase", "name")

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase, name):
        super().__init__(initial_learning_rate, decay_steps, name)
        self.decay_rate = decay_rate
        self.staircase = staircase

    def _progress(self, step):
        p = step / self.decay_steps
        return math.floor(p) if self.staircase else p


class ExponentialDecay(_TimeDecay):
    """``initial * decay_rate ^ (step / decay_steps)`` (floored with ``staircase``)."""

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False,
                 name="ExponentialDecay"):
        _check_decay_steps(decay_steps)
        super().__init__(initial_learning_rate, decay_steps, decay_rate, staircase, name)

    def __call__(self, step):
        return self.initial_learning_rate * self.decay_rate ** self._progress(step)


class PiecewiseConstantDecay(LearningRateSchedule):
    """``values[i]`` while ``boundaries[i-1] < step <= boundaries[i]``."""

    _config_keys = ("boundaries", "values", "name")

    def __init__(self, boundaries, values, name="PiecewiseConstant"):
        if len(values) != len(boundaries) + 1:
            raise ValueError(
                "The length of `values` must be one more than the length of `boundaries`. "
                f"Received: len(boundaries)={len(boundaries)}, len(values)={len(values)}"
            )
        self.boundaries = list(boundaries)
        self.values = list(values)
        self.name = name

    def __call__(self, step):
        for boundary, value in zip(self.boundaries, self.values):
            if step <= boundary:
                return value
        return self.values[-1]


class CosineDecay(_Decay):
    """Optional linear warmup, then cosine decay from the peak to ``alpha * peak``."""

    _config_keys = ("initial_learning_rate", "decay_steps", "alpha", "name", "warmup_target",
                    "warmup_steps")

    def __init__(self, initial_learning_rate, decay_steps, alpha=0.0, name="CosineDecay",
                 warmup_target=None, warmup_steps=0):
        _check_decay_steps(decay_steps)
        super().__init__(initial_learning_rate, decay_steps, name)
        self.alpha = alpha
        self.warmup_target = warmup_target
        self.warmup_steps = warmup_steps

    def __call__(self, step):
        if self.warmup_target is not None and step < self.warmup_steps:
            frac = step / self.warmup_steps
            return self.initial_learning_rate + frac * (
                self.warmup_target - self.initial_learning_rate)
        peak = self.initial_learning_rate if self.warmup_target is None else self.warmup_target
        step = min(step - (self.warmup_steps if self.warmup_target is not None else 0),
                   self.decay_steps)
        cosine = 0.5 * (1.0 + math.cos(math.pi * step / self.decay_steps))
        return peak * ((1.0 - self.alpha) * cosine + self.alpha)


class InverseTimeDecay(_TimeDecay):
    """``initial / (1 + decay_rate * step / decay_steps)``."""

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False,
                 name="InverseTimeDecay"):
        super().__init__(initial_learning_rate, decay_steps, decay_rate, staircase, name)

    def __call__(self, step):
        return self.initial_learning_rate / (1.0 + self.decay_rate * self._progress(step))


class PolynomialDecay(_Decay):
    """``(initial - end) * (1 - step / decay_steps) ^ power + end``, the step held at
    ``decay_steps`` (with ``cycle``: ``decay_steps`` stretched to the first multiple of
    it at or above the step, so the decay restarts). In float32, as Keras computes."""

    _config_keys = ("initial_learning_rate", "decay_steps", "end_learning_rate", "power",
                    "cycle", "name")

    def __init__(self, initial_learning_rate, decay_steps, end_learning_rate=0.0001,
                 power=1.0, cycle=False, name="PolynomialDecay"):
        super().__init__(initial_learning_rate, decay_steps, name)
        self.end_learning_rate = end_learning_rate
        self.power = power
        self.cycle = cycle
        _check_decay_steps(decay_steps)

    def __call__(self, step):
        f32 = np.float32
        initial, end, power = f32(self.initial_learning_rate), f32(
            self.end_learning_rate), f32(self.power)
        step = f32(step)
        decay_steps = f32(self.decay_steps)
        if self.cycle:
            multiplier = f32(1.0) if step == 0 else np.ceil(step / decay_steps)
            decay_steps = decay_steps * multiplier
        else:
            step = min(step, decay_steps)
        p = step / decay_steps
        return float((initial - end) * (f32(1) - p) ** power + end)


class CosineDecayRestarts(LearningRateSchedule):
    """SGDR: cosine decays from ``initial_learning_rate`` to ``alpha`` times it over
    ``first_decay_steps``, restarting each time, the i-th period ``t_mul ** i`` times
    as long and its peak ``m_mul ** i`` times as high. In float32, as Keras computes."""

    def __init__(self, initial_learning_rate, first_decay_steps, t_mul=2.0, m_mul=1.0,
                 alpha=0.0, name="SGDRDecay"):
        self.initial_learning_rate = initial_learning_rate
        self.first_decay_steps = first_decay_steps
        self._t_mul = t_mul
        self._m_mul = m_mul
        self.alpha = alpha
        self.name = name
        if first_decay_steps <= 0:
            raise ValueError("Argument `first_decay_steps` must be > 0. Received: "
                             f"first_decay_steps={first_decay_steps}")

    def __call__(self, step):
        f32 = np.float32
        initial = f32(self.initial_learning_rate)
        alpha, t_mul, m_mul = f32(self.alpha), f32(self._t_mul), f32(self._m_mul)
        fraction = f32(step) / f32(self.first_decay_steps)
        if t_mul == 1.0:
            restart = np.floor(fraction)
            fraction = fraction - restart
        else:
            restart = np.floor(np.log(f32(1.0) - fraction * (f32(1.0) - t_mul)) / np.log(t_mul))
            done = (f32(1.0) - t_mul ** restart) / (f32(1.0) - t_mul)
            fraction = (fraction - done) / t_mul ** restart
        cosine = f32(0.5) * m_mul ** restart * (f32(1.0) + np.cos(f32(math.pi) * fraction))
        return float(initial * ((f32(1) - alpha) * cosine + alpha))

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "first_decay_steps": self.first_decay_steps, "t_mul": self._t_mul,
                "m_mul": self._m_mul, "alpha": self.alpha, "name": self.name}


_CLASSES = {c.__name__: c for c in (ExponentialDecay, PiecewiseConstantDecay, CosineDecay,
                                    InverseTimeDecay, PolynomialDecay, CosineDecayRestarts)}


def deserialize(config: dict) -> LearningRateSchedule:
    name = config.get("class_name")
    if name not in _CLASSES:
        raise ValueError(
            f"Unknown learning rate schedule {name!r}. Expected one of {sorted(_CLASSES)}"
        )
    return _CLASSES[name].from_config(config.get("config") or {})


def serialize(schedule: LearningRateSchedule) -> dict:
    return _identifiers.serialize(schedule, "keras.optimizers.schedules")
