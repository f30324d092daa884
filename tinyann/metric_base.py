"""The base of every metric: ``Metric`` (Keras's ``keras.metrics.Metric``), whose
``result()`` gives a scalar Tensor, and ``result_value`` for fit's logs. The metrics
themselves are in tinyann/metrics.py and tinyann/confusion_metrics.py."""

from __future__ import annotations

import functools

import numpy as np

from tinyann import _identifiers, backend


def _as_tensor(value, dtype):
    """A metric's result as Keras gives it: a scalar Tensor (a dict of results, as
    CompileMetrics gives, stays a dict)."""
    from tinyann.autodiff import Tensor

    if isinstance(value, (Tensor, dict)):
        return value
    array = np.asarray(getattr(value, "value", value))
    return Tensor(array.astype(dtype if array.dtype.kind in "biuf" else array.dtype))


def _tensor_result(fn):
    """``result`` returning a Tensor; the function it wraps stays reachable as
    ``raw`` (fit's logs read the float it computes, without a float32 round trip)."""
    @functools.wraps(fn)
    def result(self):
        return _as_tensor(fn(self), self.dtype)
    result.raw = fn
    return result


def result_value(metric):
    """``metric.result()`` as fit's logs take it: the wrapped function's own value
    (a float for tinyann's metrics), or the user's Tensor / number."""
    fn = type(metric).result
    return getattr(fn, "raw", fn)(metric)


class Metric(_identifiers.Configurable):
    """Base class for stateful metrics. ``result()`` returns a scalar Tensor (Keras's),
    for tinyann's metrics and for a subclass's own ``result``."""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        own = cls.__dict__.get("result")
        if own is not None and not hasattr(own, "raw"):
            cls.result = _tensor_result(own)

    def __init__(self, name=None, dtype=None):
        self.name = name or backend.to_snake_case(type(self).__name__)
        self.dtype = dtype or backend.floatx()
        # a user's reset_state reads the weights its __init__ makes after this call
        # (Keras's base __init__ resets nothing): only tinyann's own run here
        if type(self).reset_state.__module__.startswith("tinyann"):
            self.reset_state()
        else:
            Metric.reset_state(self)

    def add_weight(self, shape=(), initializer="zeros", dtype=None, name=None,
                   aggregation="sum"):
        """A state variable of a user's metric (Keras's ``Metric.add_weight``):
        ``assign`` / ``assign_add`` it in ``update_state``, read it in ``result``;
        ``reset_state`` sets it back to its initial value."""
        from tinyann import initializers
        from tinyann.variables import Variable

        init = initializers.get(initializer)
        dtype = dtype or self.dtype
        variable = Variable(init(tuple(shape), dtype=dtype), name=name or "variable",
                            trainable=False, dtype=dtype)
        # metrics are never differentiated: a tape does not watch their state
        self.__dict__.setdefault("_state_variables", []).append(
            (variable, variable.numpy()))
        return variable

    def reset_state(self) -> None:
        for variable, initial in self.__dict__.get("_state_variables", ()):
            variable.assign(initial)
        self.total = 0.0
        self.count = 0.0

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        raise NotImplementedError

    @_tensor_result
    def result(self):
        return self.total / self.count if self.count else 0.0

    def __call__(self, y_true, y_pred, sample_weight=None):
        self.update_state(y_true, y_pred, sample_weight)
        return self.result()

    @property
    def variables(self):
        return [np.float32(self.total), np.float32(self.count)]

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype}

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}>"
