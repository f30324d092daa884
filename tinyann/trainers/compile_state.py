"""What ``compile()`` decides, in one object the trainer reads: ``CompileState``.

``compile()`` checks its arguments at once and keeps them; the parts that need the
model's outputs (one loss per output, the metrics' names) are resolved when the
model has its layer graph, and the parts that need data (the metrics' shapes, the
per-output loss trackers, whether softmax + cross-entropy fuse) at the first data,
as Keras builds them at the first batch.
"""

from __future__ import annotations

from tinyann import losses
from tinyann import metrics as metrics_module
from tinyann.trainers.outputs import (
    _check_weights_type,
    _get_loss,
    _is_config,
    _metric_leaves,
    _per_output_losses,
    _per_output_metrics,
    _per_output_weights,
    output_structure,
)


class OutputSpec:
    """How compile's ``loss`` / ``loss_weights`` map onto a model with several outputs.

    ``names``: the outputs' names in Keras's order (output layers' names; a dict of
    outputs: its keys, sorted); ``order``: each one's position among the graph's
    outputs; ``losses`` and ``weights`` (None: 1) per output; ``loss_trackers``:
    the ``<name>_loss`` means, made at the first data as Keras makes them.
    """

    def __init__(self, names, order, losses_, weights):
        self.names = names
        self.order = order
        self.losses = losses_
        self.weights = weights
        self.loss_trackers = []


class CompileState:
    """The loss, metrics, output spec, fusion decision and loss tracker of a compiled
    model.

    Attributes:
        loss: the loss of a single output (a ``Loss``; a ``WeightedLoss`` with a
            loss weight); before the outputs are resolved, compile's losses as given
            (one, a list or a dict).
        metrics: the ``CompileMetrics`` (None when compiled without metrics).
        output_spec: an ``OutputSpec`` for a model with several outputs, else None.
        fused: whether the output's softmax (sigmoid) and the cross-entropy loss are
            differentiated together (dL/dlogits), decided at the first data.
        loss_tracker: the running mean behind the ``loss`` log.
        config: compile's arguments as given, for the saved compile config.
        half_batches: whether the running ``fit`` trains two half-batches in two
            threads (tinyann/trainers/half_batches.py), and ``half_batch_runner``
            the ``HalfBatches`` doing it.
    """

    half_batches = False
    half_batch_runner = None

    def __init__(self, loss, loss_weights, metrics):
        if isinstance(loss, (list, tuple)):
            resolved = [_get_loss(entry, loss) for entry in loss]
        elif isinstance(loss, dict):
            resolved = {key: _get_loss(entry, loss) for key, entry in loss.items()}
        else:
            resolved = None if loss is None else losses.get(loss)
        if metrics is not None and not isinstance(metrics, (list, tuple)) and not (
                isinstance(metrics, dict) and not _is_config(metrics)):
            # Keras 2 took a single metric: seeds 001 and 003 pass metrics='accuracy'
            metrics = [metrics]
        for m in _metric_leaves(metrics):
            if not (isinstance(m, str) and m in metrics_module._ACCURACY_STRINGS):
                metrics_module.get(m)  # fail now, at compile, on unknown names
        _check_weights_type(loss_weights)
        self.loss = resolved
        self.metrics = None if metrics is None else metrics_module.CompileMetrics()
        self.output_spec = None
        self.fused = False
        self.loss_tracker = metrics_module.Mean(name="loss")
        self.config = {"loss": loss, "loss_weights": loss_weights, "metrics": metrics or None}
        self._args = (loss, loss_weights, metrics)
        self._resolved = False

    @property
    def metric_list(self) -> list:
        """The single metric objects (empty before the first data)."""
        return self.metrics.metrics if self.metrics is not None else []

    def all_metrics(self) -> list:
        """``model.metrics``: the loss tracker, the ``CompileMetrics``, then one loss
        tracker per output of a model with several."""
        found = [self.loss_tracker]
        if self.metrics is not None:
            found.append(self.metrics)
        if self.output_spec is not None:
            found.extend(self.output_spec.loss_trackers)
        return found

    def resolve_outputs(self, model) -> None:
        """Maps compile's arguments onto the model's outputs (once): Keras 3's rules.

        loss: one loss (for every output), a list (one per output) or a dict keyed by
        output name. loss_weights: a number (one output), a list or a dict. metrics:
        with one output, every metric given (nested lists and dicts flattened); with
        several, a list with one entry per output or a dict keyed by output name, each
        entry a metric, a list of metrics or None.
        """
        if self._resolved or self.loss is None or model._graph is None:
            return
        loss, loss_weights, metrics = self._args
        names, order, _ = output_structure(model)
        per_loss = _per_output_losses(self.loss, loss, names)
        weights = _per_output_weights(loss_weights, names)
        if self.metrics is not None:
            self.metrics.configure(_per_output_metrics(metrics, names),
                                   names if len(names) > 1 else None)
        if len(names) == 1:
            self.loss = per_loss[0] if weights is None else losses.WeightedLoss(per_loss[0],
                                                                                 weights[0])
        else:
            self.output_spec = OutputSpec(names, order, per_loss,
                                          weights or [None] * len(names))
        self._resolved = True

    def build(self, model, y) -> None:
        """Builds the metrics (and the per-output loss trackers) from the first
        targets, and decides the fusion, as Keras builds them at the first batch."""
        self.resolve_outputs(model)
        spec, cm, graph = self.output_spec, self.metrics, model._graph
        if spec is None:
            if cm is not None and not cm.built:
                cm.build([y.shape], [graph.outputs[0].shape])
            self.fused = _is_fused(self.loss, graph)
            return
        if cm is not None and not cm.built:
            cm.build([a.shape for a in y.arrays], [graph.outputs[i].shape for i in spec.order])
        if not spec.loss_trackers:
            spec.loss_trackers = [metrics_module.Mean(name=f"{n}_loss") for n in spec.names]
        self.fused = False


def _is_fused(loss, graph) -> bool:
    """Softmax (sigmoid) output + categorical (binary) cross-entropy on probabilities."""
    last = graph.steps[-1][0] if graph.steps else None
    activation = getattr(last, "activation", None)
    return bool(
        loss.fused_activation and not getattr(loss, "from_logits", False)
        and activation is not None and getattr(activation, "name", None) == loss.fused_activation
        and hasattr(last, "backward_preactivation")
    )
