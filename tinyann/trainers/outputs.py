"""Keras 3's rules for a model's outputs: their names and order, compile's ``loss``,
``loss_weights`` and ``metrics`` mapped onto them, and targets (or sample weights)
split per output (a single output is the case of one).
"""

from __future__ import annotations

import numpy as np

from tinyann import losses


class Targets:
    """One array per output (targets or sample weights), sliced together.

    ``ArrayData`` and its batching treat it as they treat one target array: they
    read ``shape[0]`` (the number of samples) and index rows with ``[rows]``.
    """

    __slots__ = ("arrays",)

    def __init__(self, arrays):
        self.arrays = list(arrays)

    @property
    def shape(self):
        return (self.arrays[0].shape[0],)

    def __len__(self):
        return self.arrays[0].shape[0]

    def __getitem__(self, rows):
        return Targets([a[rows] for a in self.arrays])


def output_structure(model):
    """``(names, order, keys)``: the outputs' names in Keras's order, each one's index
    among the graph's outputs, and the keys of a dict of outputs in their own order
    (None unless the model's outputs are a dict)."""
    graph = model._graph
    struct = getattr(model, "_outputs_struct", None)
    if isinstance(struct, dict) and len(struct) == len(graph.outputs):
        # the graph's outputs are the dict's values in sorted key order, as Keras's
        names = sorted(struct)
        return names, list(range(len(names))), list(struct)
    names = [t.node.layer.name if t.node is not None else f"output_{i}"
             for i, t in enumerate(graph.outputs)]
    return names, list(range(len(names))), None


def split_per_output(value, names, what):
    """``y`` (or ``sample_weight``) as one entry per output, in ``names`` order."""
    n = len(names)
    if isinstance(value, dict):
        unknown = [k for k in value if k not in names]
        missing = [k for k in names if k not in value]
        if unknown or missing:
            detail = "; ".join(part for part in (
                f"unknown name(s) {unknown}" if unknown else "",
                f"missing {missing}" if missing else "") if part)
            raise ValueError(
                f"`{what}` as a dict must have one entry per output of the model, keyed "
                f"by the output names {names}. Received keys {list(value)}: {detail}."
            )
        return [value[k] for k in names]
    if isinstance(value, (list, tuple)) and (n > 1 or len(value) == 1 and np.ndim(value[0])):
        if len(value) != n:
            raise ValueError(
                f"The model has {n} outputs {names}, so `{what}` must be a list of {n} "
                f"arrays (one per output, in that order) or a dict keyed by those names. "
                f"Received: a {type(value).__name__} of {len(value)} items"
            )
        return list(value)
    if n > 1:
        raise ValueError(
            f"The model has {n} outputs {names}, so `{what}` must be a list of {n} arrays "
            f"(one per output, in that order) or a dict keyed by those names. Received: "
            f"a single array of shape {np.shape(value)}"
        )
    return [value]


def _check_same_length(arrays, names, what):
    n = arrays[0].shape[0]
    for name, a in zip(names, arrays):
        if a.shape[0] != n:
            raise ValueError(
                f"Data cardinality is ambiguous: every output's `{what}` must have the same "
                f"number of samples. Received: {n} for '{names[0]}' and {a.shape[0]} for "
                f"'{name}'"
            )


def _get_loss(entry, loss):
    if entry is None:
        raise NotImplementedError(
            "An output without a loss (None in `loss`) is not supported by tinyann yet. "
            f"Received: loss={loss!r}"
        )
    return losses.get(entry)


def _per_output_losses(resolved, loss, names):
    n = len(names)
    if isinstance(resolved, list):
        if len(resolved) != n:
            raise ValueError(
                f"`loss` has {len(resolved)} entries but the model has {n} output(s) "
                f"{names}: give one loss per output, a dict keyed by output name, or one "
                f"loss for all outputs. Received: loss={loss!r}"
            )
        return resolved
    if isinstance(resolved, dict):
        if set(resolved) != set(names):
            raise ValueError(
                f"Expected keys {names} in loss dict, but found loss.keys()={list(resolved)}"
            )
        return [resolved[name] for name in names]
    return [resolved] * n


def _check_weights_type(loss_weights):
    if loss_weights is None:
        return
    if isinstance(loss_weights, dict):
        values = list(loss_weights.values())
    elif isinstance(loss_weights, (list, tuple)):
        values = list(loss_weights)
    else:
        values = [loss_weights]
    if not all(_is_number(w) for w in values):
        raise ValueError(
            "Expected `loss_weights` to be a number (one output), or a list or dict of "
            f"numbers (one per output). Received: loss_weights={loss_weights!r} (in Keras "
            "3's compile() `loss_weights` comes before `metrics`: pass metrics by name)"
        )


def _is_number(w) -> bool:
    return isinstance(w, (int, float, np.number)) and not isinstance(w, bool)


def _per_output_weights(loss_weights, names):
    n = len(names)
    if loss_weights is None:
        return None
    if isinstance(loss_weights, dict):
        unknown = [k for k in loss_weights if k not in names]
        missing = [k for k in names if k not in loss_weights]
        if unknown or missing:
            raise ValueError(
                f"`loss_weights` as a dict must give one weight per output, keyed by the "
                f"output names {names}. Received: loss_weights={loss_weights!r}"
            )
        return [float(loss_weights[k]) for k in names]
    if isinstance(loss_weights, (list, tuple)):
        if len(loss_weights) != n:
            raise ValueError(
                f"`loss_weights` must match the number of losses, got {n} losses and "
                f"{len(loss_weights)} weights. Received: loss_weights={loss_weights!r}"
            )
        return [float(w) for w in loss_weights]
    if n != 1:
        raise ValueError(
            f"The model has {n} outputs {names}: `loss_weights` must be a list or a dict "
            f"with one weight per output. Received: loss_weights={loss_weights!r}"
        )
    return [float(loss_weights)]


def _is_config(value) -> bool:
    return isinstance(value, dict) and "class_name" in value


def _metric_leaves(metrics):
    if metrics is None:
        return []
    if isinstance(metrics, (list, tuple)):
        return [leaf for m in metrics for leaf in _metric_leaves(m)]
    if isinstance(metrics, dict) and not _is_config(metrics):
        return [leaf for key in sorted(metrics) for leaf in _metric_leaves(metrics[key])]
    return [metrics]


def _per_output_metrics(metrics, names):
    n = len(names)
    if n == 1:
        return [_metric_leaves(metrics)]
    if isinstance(metrics, (list, tuple)) and len(metrics) == n:
        entries = list(metrics)
    elif isinstance(metrics, dict) and set(metrics) <= set(names):
        entries = [metrics.get(name) for name in names]
    else:
        raise ValueError(
            f"Invalid `metrics` for a model with {n} outputs {names}: expected a list with "
            "one entry per output (a metric, a list of metrics or None) or a dict keyed by "
            f"output name. Received: metrics={metrics!r}"
        )
    return [_metric_leaves(entry) for entry in entries]
