"""Learning-rate schedules: ``schedule(step) -> learning rate``, Keras's formulas."""

from __future__ import annotations

import math

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


_CLASSES = {c.__name__: c for c in (ExponentialDecay, PiecewiseConstantDecay, CosineDecay,
                                    InverseTimeDecay)}


def deserialize(config: dict) -> LearningRateSchedule:
    name = config.get("class_name")
    if name not in _CLASSES:
        raise ValueError(
            f"Unknown learning rate schedule {name!r}. Expected one of {sorted(_CLASSES)}"
        )
    return _CLASSES[name].from_config(config.get("config") or {})


def serialize(schedule: LearningRateSchedule) -> dict:
    return _identifiers.serialize(schedule, "keras.optimizers.schedules")
