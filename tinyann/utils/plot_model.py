"""``plot_model``: the layer graph of a model drawn with matplotlib (no graphviz).

Each layer is a box (its class, optionally name, activation, shapes, dtype and
trainable flag) placed by its depth in the graph, top to bottom (``rankdir='TB'``)
or left to right (``'LR'``), with arrows from each layer to the layers that read
its output, as Keras's pydot drawing shows it.
"""

from __future__ import annotations

import io
import os

from tinyann.utils.files import atomic_write_bytes

_FONT_PT = 10
_CHAR_IN = 0.61 * _FONT_PT / 72  # width of one monospace character, inches
_LINE_IN = 1.45 * _FONT_PT / 72
_PAD_IN = 0.18
_GAP_IN = 0.45
_FORMATS = ("png", "pdf", "svg", "jpg", "jpeg", "eps", "ps", "tif", "tiff", "webp")


def _graph_of(model):
    """``(nodes, edges)``: layers in order and ``(from, to)`` index pairs."""
    graph = getattr(model, "_graph", None)
    if graph is None:
        raise ValueError(
            "This model has not yet been built. Build the model first by calling `build()` "
            "or by calling the model on a batch of data."
        )
    if getattr(model, "_sequential", False):  # duck-typed: utils never import models
        nodes = list(model.layers)
        return nodes, [(i, i + 1) for i in range(len(nodes) - 1)]
    nodes = [t.node.layer for t in graph.inputs]
    producer = {i: i for i in range(len(graph.inputs))}  # slot -> node index
    edges = []
    for layer, ins, out in graph.steps:
        if layer not in nodes:
            nodes.append(layer)
        index = nodes.index(layer)
        for slot in ins:
            edges.append((producer[slot], index))
        for slot in (out if isinstance(out, tuple) else (out,)):
            producer[slot] = index
    return nodes, edges


def _shape_text(layer, what):
    try:
        tensors = getattr(layer, what)
    except (AttributeError, ValueError):
        return "?"
    if isinstance(tensors, list):
        return ", ".join(str(t.shape) for t in tensors)
    return str(tensors.shape)


def _label(layer, show_shapes, show_dtype, show_layer_names, show_layer_activations,
           show_trainable):
    cls = type(layer).__name__
    lines = [f"{layer.name} ({cls})" if show_layer_names else cls]
    activation = getattr(layer, "activation", None)
    if show_layer_activations and activation is not None:
        lines.append(f"Activation: {getattr(activation, 'name', activation)}")
    if show_shapes:
        if cls != "InputLayer":
            lines.append(f"Input shape: {_shape_text(layer, 'input')}")
        lines.append(f"Output shape: {_shape_text(layer, 'output')}")
    if show_dtype:
        lines.append(f"Output dtype: {layer.dtype}")
    if show_trainable:
        lines.append(f"Trainable: {'T' if layer.trainable else 'F'}")
    return lines


def _ranks(count, edges):
    """Depth of each node: one more than its deepest parent (longest path)."""
    rank = [0] * count
    for src, dst in sorted(edges, key=lambda e: e[1]):
        rank[dst] = max(rank[dst], rank[src] + 1)
    return rank


def plot_model(model, to_file="model.png", show_shapes=False, show_dtype=False,
               show_layer_names=False, rankdir="TB", expand_nested=False, dpi=200,
               show_layer_activations=False, show_trainable=False, splines="ortho",
               **kwargs):
    """Draws ``model``'s layer graph into an image file.

    Args:
        model: a built ``Sequential`` or functional ``Model``.
        to_file: output path; its extension picks the format (``.png`` if none).
        show_shapes, show_dtype, show_layer_names, show_layer_activations,
        show_trainable: what each box shows besides the layer class.
        rankdir: ``'TB'`` (top to bottom) or ``'LR'`` (left to right).
        dpi: resolution of raster formats.
        expand_nested, splines: accepted for Keras compatibility; nested models are
            drawn as one box and arrows as straight lines.

    Returns:
        an image object that shows inline in a notebook (``_repr_png_``, as Keras's
        ``IPython.display.Image``) for PNG, JPEG and SVG files, else None.

    Example:
        >>> plot_model(model, to_file="cnn.png", show_shapes=True)
    """
    if kwargs.pop("layer_range", None) is not None:
        raise ValueError("Argument `layer_range` is no longer supported.")
    if kwargs:
        raise ValueError(f"Unrecognized keyword arguments: {kwargs}")
    if rankdir not in ("TB", "LR"):
        raise ValueError(f"Argument `rankdir` must be 'TB' or 'LR'. Received: rankdir={rankdir!r}")
    to_file = os.fspath(to_file)
    extension = os.path.splitext(to_file)[1][1:].lower() or "png"
    if extension not in _FORMATS:
        raise ValueError(
            f"Cannot write a plot as '.{extension}'. Expected one of "
            f"{', '.join('.' + f for f in _FORMATS)}. Received: to_file={to_file!r}"
        )
    nodes, edges = _graph_of(model)
    labels = [_label(layer, show_shapes, show_dtype, show_layer_names,
                     show_layer_activations, show_trainable) for layer in nodes]
    figure = _draw(labels, edges, _ranks(len(nodes), edges), rankdir)
    buffer = io.BytesIO()
    figure.savefig(buffer, format=extension, dpi=dpi)
    atomic_write_bytes(to_file, buffer.getvalue())
    return _inline_image(to_file, extension)


def _inline_image(path, extension):
    """What Keras returns (an ``IPython.display.Image``), without needing IPython: an
    object a notebook shows inline; None for formats a notebook cannot show."""
    from tinyann.utils.notebook_display import DisplayImage

    if extension not in ("png", "jpg", "jpeg", "svg"):
        return None
    return DisplayImage(filename=path)


def _draw(labels, edges, rank, rankdir):
    """A matplotlib Figure (no pyplot: no global state, no GUI backend)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch
    from matplotlib.path import Path

    sizes = [(max(len(line) for line in lines) * _CHAR_IN + 2 * _PAD_IN,
              len(lines) * _LINE_IN + 2 * _PAD_IN) for lines in labels]
    levels = [[i for i in range(len(labels)) if rank[i] == r] for r in range(max(rank) + 1)]
    tb = rankdir == "TB"
    # along: the axis the graph flows on; across: the axis of one rank's boxes
    centers, along = {}, _GAP_IN
    spans = []
    for level in levels:
        depth = max(sizes[i][1] if tb else sizes[i][0] for i in level)
        width = sum(sizes[i][0] if tb else sizes[i][1] for i in level) + _GAP_IN * (
            len(level) - 1)
        spans.append((along, depth, width, level))
        along += depth + _GAP_IN
    total_across = max(s[2] for s in spans) + 2 * _GAP_IN
    for start, depth, width, level in spans:
        across = (total_across - width) / 2
        for i in level:
            extent = sizes[i][0] if tb else sizes[i][1]
            centers[i] = (across + extent / 2, start + depth / 2)
            across += extent + _GAP_IN
    routes = {}
    for src, dst in edges:
        # an edge skipping ranks goes around the boxes between its ends at right
        # angles: down into the gap below its rank, across beyond their outer edge,
        # down to the gap above the target's rank, back, and in
        between = [i for i in centers if rank[src] < rank[i] < rank[dst]]
        if between:
            route = max(centers[i][0] + (sizes[i][0] if tb else sizes[i][1]) / 2
                        for i in between) + _GAP_IN / 2
            start, depth = spans[rank[src]][:2]
            routes[(src, dst)] = (route, start + depth + _GAP_IN / 2,
                                  spans[rank[dst]][0] - _GAP_IN / 2)
            total_across = max(total_across, route + _GAP_IN)
    fig_w, fig_h = (total_across, along) if tb else (along, total_across)
    figure = Figure(figsize=(fig_w, fig_h))
    FigureCanvasAgg(figure)
    ax = figure.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, fig_w)
    ax.set_ylim(fig_h, 0)  # y grows downwards, as the ranks do
    ax.axis("off")

    def xy(i):
        a, b = centers[i]
        return (a, b) if tb else (b, a)

    for i, lines in enumerate(labels):
        (x, y), (w, h) = xy(i), sizes[i]
        ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h,
                                    boxstyle="round,pad=0,rounding_size=0.06",
                                    facecolor="white", edgecolor="black", linewidth=1))
        band = _LINE_IN + _PAD_IN if len(lines) > 1 else h
        ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, band,
                                    boxstyle="round,pad=0,rounding_size=0.06",
                                    facecolor="black", edgecolor="black"))
        top = y - h / 2 + _PAD_IN / 2 + _LINE_IN / 2 if len(lines) > 1 else y
        for k, line in enumerate(lines):
            ax.text(x, top + k * _LINE_IN + (0 if k == 0 else _PAD_IN / 2), line,
                    ha="center", va="center", family="monospace", fontsize=_FONT_PT,
                    color="white" if k == 0 else "black", weight="bold" if k == 0 else None)
    for src, dst in edges:
        (a0, b0), (a1, b1) = centers[src], centers[dst]
        half = 1 if tb else 0  # the size index along the flow
        points = [(a0, b0 + sizes[src][half] / 2)]
        if (src, dst) in routes:
            route, below, above = routes[(src, dst)]
            points += [(a0, below), (route, below), (route, above), (a1, above)]
        points.append((a1, b1 - sizes[dst][half] / 2))
        vertices = [p if tb else (p[1], p[0]) for p in points]
        ax.add_patch(FancyArrowPatch(path=Path(vertices), arrowstyle="-|>", mutation_scale=12,
                                     linewidth=1, color="black"))
    return figure
