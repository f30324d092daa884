"""Optimizer base: learning rate (or schedule), clipping, weight decay, iterations.

Slots (momentums, velocities...) are flat arrays over all variables, in the
order the variables were given to ``build``. When the variables are views into
one packed buffer (a model's fast path), ``apply_packed`` updates every weight
with one set of NumPy calls. ``apply_gradients`` packs the variables it is given
into one buffer (``pack_variables``, as fit does) and takes the same path, reading
gradients in place when they tile one flat buffer alike (a packed model's gradients
from a GradientTape) and gathering them into a reused one otherwise; variables of
mixed dtypes are updated one at a time through views into the same slots. All
paths give identical numbers. The update formulas themselves are ops (``tinyann.kernels``:
``adam_update`` and the others, reference and fast); a subclass's ``_update``
passes them the weight, its gradient, its slots and two scratch arrays.
"""

from __future__ import annotations

import operator
import warnings

import numpy as np

from tinyann import _identifiers, backend, kernels
from tinyann.utils.denormals import denormals_flushed
from tinyann.variables import Variable, pack_variables, packed_base


def _check_non_negative(name, value):
    if value is not None and (not np.isscalar(value) or not np.isfinite(value) or value < 0):
        raise ValueError(
            f"Argument `{name}` must be a non-negative number. Received: {name}={value!r}"
        )


_value_of = operator.attrgetter("value")


def _fortran(a) -> bool:
    return a.ndim > 1 and a.flags.f_contiguous and not a.flags.c_contiguous


class Optimizer:
    """Base class. Subclasses set ``slot_names`` and implement ``_update``.

    Args:
        learning_rate: a non-negative float or a ``LearningRateSchedule``.
        weight_decay: decoupled decay applied as ``w -= w * weight_decay * lr``.
        clipnorm: clip each gradient to this L2 norm.
        clipvalue: clip each gradient element to ``[-clipvalue, clipvalue]``.
        global_clipnorm: clip all gradients together to this L2 norm.
    """

    slot_names: tuple[str, ...] = ()
    # a built-in optimizer's own config entries: these attributes, after the base's
    _config_keys: tuple[str, ...] = ()

    def __init__(self, learning_rate=0.001, weight_decay=None, clipnorm=None, clipvalue=None,
                 global_clipnorm=None, use_ema=False, ema_momentum=0.99,
                 ema_overwrite_frequency=None, loss_scale_factor=None,
                 gradient_accumulation_steps=None, name=None, **kwargs):
        if kwargs.pop("decay", None) is not None:
            warnings.warn("Argument `decay` is no longer supported and will be ignored.",
                          stacklevel=2)
        if kwargs:
            raise ValueError(f"Argument(s) not recognized: {kwargs}")
        if use_ema or gradient_accumulation_steps or loss_scale_factor:
            raise NotImplementedError(
                "use_ema, gradient_accumulation_steps and loss_scale_factor are not "
                "supported by tinyann yet"
            )
        if sum(a is not None for a in (clipnorm, clipvalue, global_clipnorm)) > 1:
            raise ValueError(
                "Only one of `clipnorm`, `clipvalue` and `global_clipnorm` can be set. "
                f"Received: clipnorm={clipnorm}, clipvalue={clipvalue}, "
                f"global_clipnorm={global_clipnorm}"
            )
        for key, value in (("weight_decay", weight_decay), ("clipnorm", clipnorm),
                           ("clipvalue", clipvalue), ("global_clipnorm", global_clipnorm)):
            _check_non_negative(key, value)
        # Keras's auto names: sgd, sgd_1, ...; RMSprop -> rm_sprop
        self.name = name or backend.unique_name(backend.to_snake_case(type(self).__name__))
        self.weight_decay = weight_decay
        self.clipnorm = clipnorm
        self.clipvalue = clipvalue
        self.global_clipnorm = global_clipnorm
        self.use_ema = use_ema
        self.ema_momentum = ema_momentum
        self.ema_overwrite_frequency = ema_overwrite_frequency
        self.loss_scale_factor = loss_scale_factor
        self.gradient_accumulation_steps = gradient_accumulation_steps
        self.iterations = 0
        self._learning_rate = None
        self.learning_rate = learning_rate
        self._variables: list[Variable] = []
        self._slots: dict[str, np.ndarray] = {}
        self._offsets: list[tuple[int, int]] = []
        self._scratch_arrays = None
        self._constant_arrays = None
        self._packed_cache = None   # (flat values, the variables' value views)
        self._flat_grads = None     # apply's gathered gradients
        self._constrained = []      # the variables with a constraint (Keras's order)
        self.built = False

    # ------------------------------------------------------------ learning rate
    @property
    def learning_rate(self):
        """The current learning rate: a 0-d Variable, or the schedule's value now."""
        if callable(self._learning_rate) and not isinstance(self._learning_rate, Variable):
            return np.float32(self._learning_rate(self.iterations))
        return self._learning_rate

    @learning_rate.setter
    def learning_rate(self, value):
        from tinyann.optimizers.schedules import LearningRateSchedule

        if isinstance(value, LearningRateSchedule) or (
            callable(value) and not isinstance(value, (Variable, np.ndarray))
        ):
            self._learning_rate = value
            return
        value = float(np.asarray(value))
        _check_non_negative("learning_rate", value)
        if isinstance(self._learning_rate, Variable):
            self._learning_rate.assign(value)
        else:
            self._learning_rate = Variable(value, name="learning_rate", trainable=False)

    lr = learning_rate

    def _current_lr(self) -> float:
        return float(self.learning_rate)

    # ------------------------------------------------------------ building
    def build(self, variables) -> None:
        """Makes the slot arrays for ``variables`` (zeros unless the optimizer says)."""
        self._variables = list(variables)
        self._offsets = []
        start = 0
        for v in self._variables:
            self._offsets.append((start, start + v.size))
            start += v.size
        dtype = self._variables[0].value.dtype if self._variables else backend.floatx()
        self._slots = {name: self._initial_slot(name, start, dtype) for name in self.slot_names}
        self._packed_cache = None
        self._constrained = [v for v in self._variables
                             if getattr(v, "constraint", None) is not None]
        self.built = True

    def _initial_slot(self, name, size, dtype) -> np.ndarray:
        return np.zeros((size,), dtype=dtype)

    def _slot_views(self, index) -> dict[str, np.ndarray]:
        start, stop = self._offsets[index]
        value = self._variables[index].value
        # the slots follow the variable's memory order (a transposed small kernel is
        # packed column by column), so element (i, j) of a view matches the weight's
        order = "F" if _fortran(value) else "C"
        return {k: s[start:stop].reshape(value.shape, order=order)
                for k, s in self._slots.items()}

    # Keras builds each group of slots in one pass over the variables, interleaved
    # within the group (Adam: momentum, velocity of w0, then of w1...; RMSprop: all
    # velocities, then all momentums). Subclasses whose order differs set this.
    slot_groups: tuple[tuple[str, ...], ...] | None = None

    def _slot_order(self) -> list[tuple[int, str]]:
        groups = self.slot_groups if self.slot_groups is not None else (tuple(self.slot_names),)
        return [(i, name) for group in groups for i in range(len(self._variables))
                for name in group]

    @property
    def variables(self) -> list[np.ndarray]:
        """Keras's order: iterations, the learning rate (unless a schedule), then the
        slots as Keras builds them. Slots are views: writing into them changes the state."""
        out = [np.asarray(self.iterations, dtype="int64")]
        if isinstance(self._learning_rate, Variable):
            out.append(self._learning_rate.value)
        if self.built:
            views = [self._slot_views(i) for i in range(len(self._variables))]
            out.extend(views[i][name] for i, name in self._slot_order())
        return out

    def _variable_names(self) -> list[str]:
        """Keras's names of ``variables``: ``iteration``, ``learning_rate``,
        ``<weight path with _>_<slot>`` (Keras's slot names)."""
        keras_slot = {"m": "momentum", "u": "norm"}
        names = ["iteration"]
        if isinstance(self._learning_rate, Variable):
            names.append("learning_rate")
        if self.built:
            names.extend(f"{self._variables[i].path.replace('/', '_')}_{keras_slot.get(n, n)}"
                         for i, n in self._slot_order())
        return names

    def set_weights(self, weights) -> None:
        """Sets ``variables`` (iterations, learning rate, slots) from arrays, in order."""
        if not self.built:
            raise ValueError(
                "You are calling `set_weights()` on an optimizer that has not yet been "
                "built. Please call `optimizer.build(trainable_variables)` to create the "
                "optimizer weights before calling `set_weights()`."
            )
        targets = self.variables
        weights = [np.asarray(w) for w in weights]
        if len(weights) != len(targets):
            raise ValueError(
                f"Optimizer {self.name!r} has {len(targets)} variables "
                f"({self._variable_names()}); received {len(weights)} values."
            )
        for name, target, w in zip(self._variable_names(), targets, weights):
            if target.shape != w.shape:
                raise ValueError(
                    f"Optimizer variable {name} has shape {target.shape} not compatible "
                    f"with provided weight shape {w.shape}."
                )
        self.iterations = int(weights[0])
        for target, w in zip(targets[1:], weights[1:]):
            np.copyto(target, w, casting="unsafe")

    # ------------------------------------------------------------ applying
    def apply_gradients(self, grads_and_vars) -> int:
        """Keras's form: a list of ``(gradient, variable)`` pairs."""
        grads, variables = [], []
        for g, v in grads_and_vars:
            grads.append(g)
            variables.append(v)
        return self.apply(grads, variables)

    def apply(self, grads, trainable_variables=None) -> int:
        """Updates ``trainable_variables`` (those given to ``build``) in place."""
        if trainable_variables is None:
            trainable_variables = self._variables
        elif type(trainable_variables) is not list:
            trainable_variables = list(trainable_variables)
        built_for = self._variables
        if not self.built or len(trainable_variables) != len(built_for) or not all(
                map(operator.is_, trainable_variables, built_for)):
            if self.built and self.iterations:
                raise ValueError(
                    f"Optimizer {self.name!r} was built for {len(self._variables)} variables; "
                    f"received {len(trainable_variables)} different ones. Use a new optimizer "
                    "for another model."
                )
            self.build(trainable_variables)
        # subnormal floats flushed to zero, as fit's update (and TensorFlow's kernels):
        # Adam's slots decaying through them made its update up to 5x slower
        with denormals_flushed():
            return self._apply(grads, trainable_variables)

    def _apply(self, grads, trainable_variables) -> int:
        # clipping works in place: copy, so the caller's gradient arrays stay as given
        clipping = self.clipvalue is not None or self.clipnorm is not None or (
            self.global_clipnorm is not None)
        values = self._packed_values(trainable_variables)
        if values is not None:
            # fit's update: one blocked pass over the flat buffers (per variable, a
            # Fortran-order kernel against C-order temporaries costs ~3x more)
            flat = None if clipping else packed_base(
                [getattr(g, "value", g) for g in grads], self._offsets, values.dtype,
                like=[v.value for v in trainable_variables])
            if flat is None:
                flat = self._gather(grads, trainable_variables, values)
            self.apply_packed(values, flat)
            return self.iterations
        as_array = np.array if clipping else np.asarray
        grads = [as_array(g, dtype=v.value.dtype) for g, v in zip(grads, trainable_variables)]
        grads = self._clip(grads)
        lr = self._current_lr()
        for i, (g, v) in enumerate(zip(grads, trainable_variables)):
            self._decay_weights(v.value, lr)
            self._update(v.value, g, lr, self._slot_views(i))
        self.iterations += 1
        if self._constrained:
            self._apply_constraints()
        return self.iterations

    def _packed_values(self, variables) -> np.ndarray | None:
        """The flat buffer ``variables`` (those built for) are views into, in order;
        they are packed into one first if they share a dtype. None: the per-variable
        update."""
        cache = self._packed_cache
        if cache is not None and len(cache[1]) == len(variables) and all(
                map(operator.is_, map(_value_of, variables), cache[1])):
            return cache[0]
        self._packed_cache = None
        if not variables or not all(isinstance(v, Variable) for v in variables) or len(
                {v.value.dtype for v in variables}) != 1:
            return None
        values = packed_base([v.value for v in variables], self._offsets,
                             variables[0].value.dtype)
        if values is None:
            # the variables move into one buffer, as fit does with a model's weights;
            # their values and gradients stay where `Variable.value` / `.grad` point
            values = pack_variables(variables)[0]
        self._packed_cache = (values, [v.value for v in variables])
        return values

    def _gather(self, grads, variables, values) -> np.ndarray:
        """The gradients copied into one reused flat buffer laid out as ``values``."""
        flat = self._flat_grads
        if flat is None or flat.shape != values.shape or flat.dtype != values.dtype:
            flat = self._flat_grads = np.empty_like(values)
        for g, v, (start, stop) in zip(grads, variables, self._offsets):
            # the slots' layout: the variable's own memory order
            view = flat[start:stop].reshape(v.value.shape, order="F" if _fortran(v.value)
                                            else "C")
            np.copyto(view, getattr(g, "value", g), casting="unsafe")
        return flat

    def apply_packed(self, values: np.ndarray, grads: np.ndarray) -> None:
        """The fast path: ``values`` and ``grads`` are the flat buffers behind the
        variables given to ``build``; ``grads`` may be clipped in place."""
        if self.clipvalue is not None or self.clipnorm is not None or (
                self.global_clipnorm is not None):
            parts = [grads[a:b] for a, b in self._offsets]
            self._clip(parts)
        lr = self._current_lr()
        size = values.shape[0]
        step = kernels.update_block(size)
        if size <= step:
            self._decay_weights(values, lr)
            self._update(values, grads, lr, self._slots)
        else:
            # a block at a time (the NumPy set): its weights, gradients, slots and
            # temporaries stay in the core's L2 cache through the update's passes
            slots = self._slots
            for start in range(0, size, step):
                block = slice(start, start + step)
                w = values[block]
                self._decay_weights(w, lr)
                self._update(w, grads[block], lr, {k: v[block] for k, v in slots.items()})
        self.iterations += 1
        if self._constrained:
            self._apply_constraints()

    def _apply_constraints(self) -> None:
        """Keras's projection after the update: ``v.assign(v.constraint(v))`` for each
        variable that has a constraint (written in place: packed views stay valid)."""
        for v in self._constrained:
            v.assign(v.constraint(v.value))

    def _decay_weights(self, w, lr) -> None:
        """Keras's decoupled decay, ``w = w - w * weight_decay * lr``, in w's dtype."""
        if self.weight_decay:
            kernels.weight_decay_update(w, lr, self.weight_decay)

    def _clip(self, grads: list[np.ndarray]) -> list[np.ndarray]:
        """clipnorm, global_clipnorm or clipvalue (only one may be set). In place."""
        if self.clipnorm is not None:
            for g in grads:
                norm = float(np.sqrt(np.dot(g.ravel(), g.ravel())))
                if norm > self.clipnorm:
                    g *= g.dtype.type(self.clipnorm / norm)
        if self.global_clipnorm is not None:
            norm = float(np.sqrt(sum(float(np.dot(g.ravel(), g.ravel())) for g in grads)))
            if norm > self.global_clipnorm:
                for g in grads:
                    g *= g.dtype.type(self.global_clipnorm / norm)
        if self.clipvalue is not None:
            for g in grads:
                np.clip(g, -self.clipvalue, self.clipvalue, out=g)
        return grads

    def _scratch(self, w, count=2):
        """Reusable temporary arrays shaped like ``w`` (no allocation per step)."""
        cached = self._scratch_arrays
        # the same array as last step (the packed weights): the same buffers
        if cached is not None and cached[0] is w:
            return cached[1]
        flat = cached[2] if cached is not None else None
        if flat is None or len(flat) != count or flat[0].size < w.size or (
                flat[0].dtype != w.dtype):
            # at least a block's size: the first block's buffers serve the others
            flat = [np.empty(max(w.size, kernels.update_block(w.size) if w.ndim == 1 else 0),
                             w.dtype)
                    for _ in range(count)]
        arrays = [b[: w.size].reshape(w.shape) for b in flat]
        self._scratch_arrays = (w, arrays, flat)
        return arrays

    def _update(self, w, g, lr, slots) -> None:
        """One step on arrays ``w`` with gradient ``g`` (any shape; slots alike)."""
        raise NotImplementedError

    # ------------------------------------------------------------ config
    def get_config(self) -> dict:
        lr = self._learning_rate
        if isinstance(lr, Variable):
            lr = float(lr)
        elif hasattr(lr, "get_config"):
            lr = _identifiers.serialize(lr, "keras.optimizers.schedules")
        config = {
            "name": self.name,
            "learning_rate": lr,
            "weight_decay": self.weight_decay,
            "clipnorm": self.clipnorm,
            "global_clipnorm": self.global_clipnorm,
            "clipvalue": self.clipvalue,
            "use_ema": self.use_ema,
            "ema_momentum": self.ema_momentum,
            "ema_overwrite_frequency": self.ema_overwrite_frequency,
            "loss_scale_factor": self.loss_scale_factor,
            "gradient_accumulation_steps": self.gradient_accumulation_steps,
        }
        config.update((key, getattr(self, key)) for key in self._config_keys)
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        lr = config.get("learning_rate")
        if isinstance(lr, dict):
            from tinyann.optimizers import schedules

            config["learning_rate"] = schedules.deserialize(lr)
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name} iterations={self.iterations}>"
