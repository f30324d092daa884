"""``model.summary()`` in Keras 3's layout (box-drawn table, thousands separators,
byte sizes), without colours so it reads the same in a file as on a terminal.

Keras draws the table with ``rich``; the rules kept here are rich's: column widths
from ``positions`` shrunk to fit the borders (``_column_widths``), cells padded by
display width (a Korean syllable takes two columns), text wrapped at spaces and a
word too long for its column cut with an ellipsis.
"""

from __future__ import annotations

import shutil
import unicodedata

_UNITS = ("B", "KB", "MB", "GB", "TB")


def readable_size(num_bytes: float) -> str:
    """``31400`` -> ``'30.66 KB'`` (1024-based, as Keras)."""
    size = float(num_bytes)
    for unit in _UNITS:
        if size < 1024 or unit == _UNITS[-1]:
            return f"{size:.2f} {unit}"
        size /= 1024
    return f"{size:.2f} TB"  # unreachable, keeps type checkers calm


# ---------------------------------------------------------------- text cells
def _char_width(ch: str) -> int:
    if unicodedata.combining(ch):
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def cell_width(text: str) -> int:
    """Columns ``text`` takes on a terminal: ``cell_width('출력층') == 6``."""
    return sum(_char_width(ch) for ch in text)


def _truncate(text: str, width: int) -> str:
    """``text`` cut to ``width`` columns, ending in '…' if it was longer."""
    if cell_width(text) <= width:
        return text
    out, used = [], 0
    for ch in text:
        w = _char_width(ch)
        if used + w > width - 1:
            break
        out.append(ch)
        used += w
    # a wide character that does not fit leaves a one-column gap, as rich does
    return "".join(out) + " " * (width - 1 - used) + "…"


def _wrap(text: str, width: int) -> list[str]:
    """Greedy word wrap at spaces within ``width`` columns; long words are cut."""
    lines, current = [], ""
    for word in text.split(" "):
        candidate = f"{current} {word}" if current else word
        if current and cell_width(candidate) > width:
            lines.append(current)
            current = word
        else:
            current = candidate
    lines.append(current)
    return [_truncate(line, width) for line in lines]


def _pad(text: str, width: int, align: str) -> str:
    space = width - cell_width(text)
    if align == "right":
        return " " * space + text
    if align == "center":
        return " " * (space // 2) + text + " " * (space - space // 2)
    return text + " " * space


def _row(cells, widths, aligns, edge="│"):
    wrapped = [_wrap(c, w - 2) for c, w in zip(cells, widths)]
    height = max(len(lines) for lines in wrapped)
    out = []
    for i in range(height):
        parts = [" " + _pad(lines[i] if i < len(lines) else "", w - 2, a) + " "
                 for lines, w, a in zip(wrapped, widths, aligns)]
        out.append(edge + edge.join(parts) + edge)
    return out


def _rule(widths, left, mid, right, fill):
    return left + mid.join(fill * w for w in widths) + right


def _ratio_reduce(total, values):
    """rich's ``ratio_reduce`` with equal ratios: takes ``total`` off ``values``,
    spread evenly, rounding each share half to even (Python's ``round``)."""
    result, remaining, count = [], total, len(values)
    for value in values:
        share = min(value, round(remaining / count))
        result.append(value - share)
        remaining -= share
        count -= 1
    return result


def _column_widths(positions, line_length):
    """Widths between the bars (padding included) for Keras's relative ``positions``.

    Keras asks rich for columns of ``int(p_i * L) - int(p_{i-1} * L)`` characters plus
    one space of padding each side in a table ``L`` wide; rich then takes the excess
    (the padding and the n + 1 bars) off the columns evenly.
    """
    widths, current = [], 0
    for p in positions:
        width = int(p * line_length) - current
        if width < 4:
            raise ValueError("Insufficient console width to print summary.")
        widths.append(width)
        current += width
    padded = [w + 2 for w in widths]
    excess = sum(padded) - (line_length - (len(widths) + 1))
    return _ratio_reduce(excess, padded) if excess > 0 else padded


# ---------------------------------------------------------------- layer fields
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


def _connections(layer):
    nodes = getattr(layer, "_inbound_nodes", [])
    if not nodes or not nodes[0].inputs:
        return "-"
    names = []
    for t in nodes[0].inputs:
        producer = t.node.layer if t.node is not None else None
        index = t.node.outputs.index(t) if producer is not None else 0
        names.append(f"{producer.name}[0][{index}]" if producer is not None else "?")
    return ", ".join(names)


def _trainable_text(layer):
    if not layer.weights:
        return "-"
    return "Y" if layer.trainable else "N"


def print_summary(model, line_length=None, positions=None, print_fn=None,
                  show_trainable=False):
    """Prints (or passes to ``print_fn`` once, as one string) the model summary.

    Args:
        line_length: total width; default ``min(88, terminal columns - 4)`` (108 for
            graphs that are not a chain), as Keras.
        positions: right edges of the columns as fractions of ``line_length``.
        print_fn: called once with the whole text (ending in a newline).
        show_trainable: adds Keras's 'Trainable' column (Y / N / - without weights).
    """
    from tinyann.layers.input_layer import InputLayer

    # (the model duck-typed: utils never import models) a subclassed model lists the
    # layers it holds, as Keras does
    sequential = getattr(model, "_sequential", False) or getattr(model, "_subclassed", False)
    graph = model._graph
    sequential_like = sequential or (graph is not None and graph.is_chain)
    if sequential_like:
        default_length, default_positions = 88, [0.45, 0.80, 1.0]
        headers = ["Layer (type)", "Output Shape", "Param #"]
        aligns = ["left", "left", "right"]
    else:
        default_length, default_positions = 108, [0.3, 0.56, 0.74, 1.0]
        headers = ["Layer (type)", "Output Shape", "Param #", "Connected to"]
        aligns = ["left", "left", "right", "left"]
    positions = list(positions or default_positions)
    if show_trainable:
        default_length += 12
        positions = [p * 0.90 for p in positions] + [1.0]
        headers.append("Trainable")
        aligns.append("center")
    if line_length is None:
        line_length = min(default_length, shutil.get_terminal_size().columns - 4)
    if positions[-1] > 1:  # absolute positions, as Keras 2 took them
        positions = [p / line_length for p in positions]
    widths = _column_widths(positions, line_length)

    layers = list(model.layers) if sequential else (
        list(graph.layers) if graph is not None else [])
    lines = [f'Model: "{model.name}"']
    lines.append(_rule(widths, "┏", "┳", "┓", "━"))
    lines.extend(_row(headers, widths, aligns, "┃"))
    lines.append(_rule(widths, "┡", "╇", "┩", "━"))
    for i, layer in enumerate(layers):
        cells = [f"{layer.name} ({type(layer).__name__})", _shape_text(layer),
                 "0" if isinstance(layer, InputLayer) else _params_text(layer)]
        if not sequential_like:
            cells.append(_connections(layer))
        if show_trainable:
            cells.append(_trainable_text(layer))
        lines.extend(_row(cells, widths, aligns))
        if i < len(layers) - 1:
            lines.append(_rule(widths, "├", "┼", "┤", "─"))
    lines.append(_rule(widths, "└", "┴", "┘", "─"))
    totals = _totals(model, layers)
    lines.extend(totals)
    text = "\n".join(lines) + "\n"
    from tinyann.utils.progbar import _LOG_STREAM, is_interactive_logging_enabled

    if print_fn is not None:
        print_fn(text)
    elif not is_interactive_logging_enabled():
        _LOG_STREAM.write(text)  # Keras's disable_interactive_logging(): to logging
    elif _in_notebook():
        _display_in_notebook(lines, len(totals))
    else:
        print(text, end="")


def _in_notebook():
    from tinyann.utils.notebook_display import in_notebook

    return in_notebook()


def _display_in_notebook(lines, n_totals):
    """As Keras 3 in a notebook (rich's console): the title, the table and each total
    as its own output, text and HTML, the labels in bold."""
    from tinyann.utils.notebook_display import display_text_blocks

    table = lines[1:len(lines) - n_totals]
    blocks = [lines[0] + "\n", "\n".join(table) + "\n",
              *(line + "\n" for line in lines[len(lines) - n_totals:])]
    labels = (lines[0], " Total params:", " Trainable params:", " Non-trainable params:",
              " Optimizer params:")
    display_text_blocks(blocks, bold_prefixes=labels)


def _totals(model, layers):
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
    lines = [f" Total params: {total:,} ({readable_size(total * itemsize)})",
             f" Trainable params: {trainable:,} ({readable_size(trainable * itemsize)})",
             f" Non-trainable params: {non_trainable:,} "
             f"({readable_size(non_trainable * itemsize)})"]
    if opt_params:
        lines.append(f" Optimizer params: {opt_params:,} ({readable_size(opt_params * itemsize)})")
    return lines
