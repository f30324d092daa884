"""``model.summary()`` in Keras 3's layout (box-drawn table, thousands separators,
byte sizes), without colours so it reads the same in a file as on a terminal."""

from __future__ import annotations

import shutil

_UNITS = ("B", "KB", "MB", "GB", "TB")


def readable_size(num_bytes: float) -> str:
    """``31400`` -> ``'30.66 KB'`` (1024-based, as Keras)."""
    size = float(num_bytes)
    for unit in _UNITS:
        if size < 1024 or unit == _UNITS[-1]:
            return f"{size:.2f} {unit}"
        size /= 1024
    return f"{size:.2f} TB"  # unreachable, keeps type checkers calm


def _fold(text: str, width: int) -> list[str]:
    """Splits ``text`` into pieces of at most ``width`` characters (long names wrap)."""
    if width <= 0:
        return [text]
    return [text[i:i + width] for i in range(0, max(len(text), 1), width)] or [""]


def _row(cells, widths, aligns, edge="│"):
    folded = [_fold(c, w - 2) for c, w in zip(cells, widths)]
    height = max(len(f) for f in folded)
    lines = []
    for i in range(height):
        parts = []
        for f, w, a in zip(folded, widths, aligns):
            text = f[i] if i < len(f) else ""
            parts.append(" " + (text.rjust(w - 2) if a == "right" else text.ljust(w - 2)) + " ")
        lines.append(edge + edge.join(parts) + edge)
    return lines


def _rule(widths, left, mid, right, fill):
    return left + mid.join(fill * w for w in widths) + right


def _shape_text(layer):
    nodes = getattr(layer, "_inbound_nodes", [])
    if not nodes:
        return "?"
    shapes = [t.shape for t in nodes[0].outputs]
    return str(shapes[0]) if len(shapes) == 1 else str(shapes)


def _params_text(layer):
    if not layer.built:
        return "0 (unbuilt)"
    return f"{layer.count_params():,}"


def _connections(layer, model):
    nodes = getattr(layer, "_inbound_nodes", [])
    if not nodes or not nodes[0].inputs:
        return "-"
    names = []
    for t in nodes[0].inputs:
        producer = t.node.layer if t.node is not None else None
        names.append(f"{producer.name}[0][0]" if producer is not None else "?")
    return ", ".join(names)


def print_summary(model, line_length=None, positions=None, print_fn=None,
                  show_trainable=False):
    """Prints (or passes to ``print_fn`` once, as one string) the model summary."""
    from tinyann.layers.input_layer import InputLayer
    from tinyann.models.sequential import Sequential

    sequential = isinstance(model, Sequential)
    graph = model._graph
    sequential_like = sequential or (graph is not None and graph.is_chain)
    if sequential_like:
        default_length, default_positions = 88, [0.45, 0.80, 1.0]
        headers = ["Layer (type)", "Output Shape", "Param #"]
        aligns = ["left", "left", "right"]
    else:
        default_length, default_positions = 108, [0.3, 0.6, 0.70, 1.0]
        headers = ["Layer (type)", "Output Shape", "Param #", "Connected to"]
        aligns = ["left", "left", "right", "left"]
    if line_length is None:
        line_length = min(default_length, shutil.get_terminal_size().columns - 4)
    positions = positions or default_positions
    if positions[-1] <= 1:
        positions = [int(line_length * p) for p in positions]
    widths = _column_widths(positions)

    if sequential:
        layers = list(model.layers)
    else:
        layers = list(graph.layers) if graph is not None else []
    lines = [f'Model: "{model.name}"']
    lines.append(_rule(widths, "┏", "┳", "┓", "━"))
    lines.extend(_row(headers, widths, ["left", "left", "right", "left"][: len(widths)], "┃"))
    lines.append(_rule(widths, "┡", "╇", "┩", "━"))
    for i, layer in enumerate(layers):
        cells = [f"{layer.name} ({type(layer).__name__})", _shape_text(layer),
                 "0" if isinstance(layer, InputLayer) else _params_text(layer)]
        if not sequential_like:
            cells.append(_connections(layer, model))
        lines.extend(_row(cells, widths, aligns))
        if i < len(layers) - 1:
            lines.append(_rule(widths, "├", "┼", "┤", "─"))
    lines.append(_rule(widths, "└", "┴", "┘", "─"))

    built = all(layer.built for layer in layers)
    trainable = sum(w.size for w in model.trainable_weights) if built else 0
    non_trainable = sum(w.size for w in model.non_trainable_weights) if built else 0
    itemsize = 4
    optimizer = getattr(model, "optimizer", None)
    opt_params = 0
    if optimizer is not None and optimizer.built and optimizer.iterations:
        # iterations and learning rate, then every slot array (as Keras counts them)
        opt_params = 2 + sum(s.size for s in optimizer._slots.values())
    total = trainable + non_trainable + opt_params
    lines.append(f" Total params: {total:,} ({readable_size(total * itemsize)})")
    lines.append(f" Trainable params: {trainable:,} ({readable_size(trainable * itemsize)})")
    lines.append(f" Non-trainable params: {non_trainable:,} "
                 f"({readable_size(non_trainable * itemsize)})")
    if opt_params:
        lines.append(f" Optimizer params: {opt_params:,} ({readable_size(opt_params * itemsize)})")
    text = "\n".join(lines) + "\n"
    if print_fn is None:
        print(text, end="")
    else:
        print_fn(text)


def _column_widths(positions):
    """Widths between the bars for columns ending at ``positions`` (Keras's rule).

    The first column gets ``positions[0] - 1``, the middle ones ``p_i - p_{i-1} - 2``
    and the last ``p_n - p_{n-1} - 1``: with the n + 1 bars that sums to the line length.
    """
    widths = [positions[0] - 1]
    for i in range(1, len(positions)):
        last = i == len(positions) - 1
        widths.append(positions[i] - positions[i - 1] - (1 if last else 2))
    return widths
