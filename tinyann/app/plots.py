"""The report's figures, each a function of arrays returning PNG bytes (matplotlib, Agg).

No figure reads files or models: the report gathers the arrays, so each plot is
tested with small arrays of its own.
"""

from __future__ import annotations

import io

import numpy as np


def _plt():
    try:
        import matplotlib
    except ImportError as error:  # matplotlib is in the `app` extra
        raise ImportError("matplotlib is needed for the report: pip install 'tinyann[app]'") \
            from error
    matplotlib.use("Agg", force=True)  # files only; never a window
    import matplotlib.pyplot as plt

    return plt


def _png(fig) -> bytes:
    plt = _plt()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    plt.close(fig)
    return buffer.getvalue()


def image_grid(images, titles=None, cols=10, cmap="gray_r", cell=1.0, vmin=None,
               vmax=None, title_size=7) -> bytes:
    """A grid of (N, H, W) images, or (N, H, W, 3) colour ones, optionally titled; the
    seeds draw samples 'gray_r'."""
    plt = _plt()
    images = np.asarray(images)
    n = len(images)
    if n == 0:
        raise ValueError("image_grid needs at least one image; received 0")
    cols = min(cols, n)
    rows = -(-n // cols)
    if titles is None and images.ndim == 3:
        return _mosaic(images, rows, cols, cmap, cell, vmin, vmax)
    extra = 0.35
    fig, axes = plt.subplots(rows, cols, figsize=(cols * cell, rows * (cell + extra)),
                             squeeze=False)
    for i, ax in enumerate(axes.ravel()):
        ax.axis("off")
        if i < n:
            ax.imshow(images[i], cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
            if titles is not None:
                ax.set_title(titles[i], fontsize=title_size)
    return _png(fig)


def _mosaic(images, rows, cols, cmap, cell, vmin, vmax) -> bytes:
    """Untitled grids as one picture with one-pixel gaps: one imshow instead of one axes
    per image, many times faster for 100 weight images or 32 feature maps."""
    plt = _plt()
    n, h, w = images.shape
    sheet = np.full((rows * (h + 1) - 1, cols * (w + 1) - 1), np.nan, dtype=np.float32)
    for i in range(n):
        r, c = divmod(i, cols)
        sheet[r * (h + 1):r * (h + 1) + h, c * (w + 1):c * (w + 1) + w] = images[i]
    fig, ax = plt.subplots(figsize=(cols * cell, rows * cell))
    colours = plt.get_cmap(cmap).with_extremes(bad="white")  # the gaps
    ax.imshow(sheet, cmap=colours, vmin=vmin, vmax=vmax, interpolation="nearest")
    ax.axis("off")
    return _png(fig)


def class_counts(counts, names) -> bytes:
    """Bar chart of how many training images each class has."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7, 2.6))
    positions = np.arange(len(counts))
    ax.bar(positions, counts, color="#4c72b0")
    ax.set_xticks(positions, names, rotation=30, ha="right", fontsize=8)
    ax.set_ylabel("images")
    for x, c in zip(positions, counts):
        ax.text(x, c, str(int(c)), ha="center", va="bottom", fontsize=7)
    ax.set_ylim(0, max(counts) * 1.15 if len(counts) and max(counts) > 0 else 1)
    return _png(fig)


def learning_curves(history: dict) -> bytes:
    """Seed 004's twin-axis plot: loss on the left axis, accuracy on the right,
    train and validation, by epoch."""
    plt = _plt()
    fig, loss_ax = plt.subplots(figsize=(7, 3.4))
    acc_ax = loss_ax.twinx()
    epochs = None
    for key, axis, style, label in (("loss", loss_ax, "y-o", "train loss"),
                                    ("val_loss", loss_ax, "r-o", "val loss"),
                                    ("accuracy", acc_ax, "b-s", "train acc"),
                                    ("val_accuracy", acc_ax, "g-s", "val acc")):
        values = history.get(key)
        if values:
            epochs = np.arange(1, len(values) + 1)
            axis.plot(epochs, values, style, label=label, markersize=4)
    if epochs is None:
        raise ValueError("the history has none of loss, val_loss, accuracy, val_accuracy; "
                         f"received keys {sorted(history)}")
    loss_ax.set_xlabel("epoch")
    loss_ax.set_ylabel("loss")
    acc_ax.set_ylabel("accuracy")
    loss_ax.set_xticks(epochs)
    loss_ax.legend(loc="upper left", fontsize=8)
    acc_ax.legend(loc="lower left", fontsize=8)
    return _png(fig)


def confusion_matrix(matrix, names) -> bytes:
    """The confusion matrix (rows: true class, columns: predicted), counts written in."""
    plt = _plt()
    matrix = np.asarray(matrix)
    fig, ax = plt.subplots(figsize=(6.4, 5.6))
    image = ax.imshow(matrix, cmap="Blues")
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    ticks = np.arange(len(names))
    ax.set_xticks(ticks, names, rotation=45, ha="right", fontsize=8)
    ax.set_yticks(ticks, names, fontsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    threshold = matrix.max() / 2 if matrix.size else 0
    for (i, j), value in np.ndenumerate(matrix):
        ax.text(j, i, str(int(value)), ha="center", va="center", fontsize=6.5,
                color="white" if value > threshold else "black")
    return _png(fig)


def per_class_accuracy(accuracy, names) -> bytes:
    """Horizontal bars of each class's accuracy (recall), worst at the bottom."""
    plt = _plt()
    accuracy = np.asarray(accuracy, dtype=float)
    fig, ax = plt.subplots(figsize=(6.4, 3.2))
    positions = np.arange(len(accuracy))
    bars = ax.barh(positions, accuracy, color="#55a868")
    ax.set_yticks(positions, names, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0, 1.08)
    ax.set_xlabel("accuracy on the test images of the class")
    for bar, value in zip(bars, accuracy):
        ax.text(bar.get_width() + 0.01, bar.get_y() + bar.get_height() / 2,
                f"{value:.1%}", va="center", fontsize=7)
    return _png(fig)


def weight_images(kernel, titles=None, cols=10) -> bytes:
    """A Dense kernel (784, units) as ``units`` 28x28 images: red is a positive weight,
    blue a negative one, white zero, on one symmetric colour scale per image."""
    kernel = np.asarray(kernel, dtype=np.float32)
    if kernel.ndim != 2 or kernel.shape[0] != 784:
        raise ValueError("weight_images expects a Dense kernel of shape (784, units); "
                         f"received shape {kernel.shape}")
    images = kernel.T.reshape(-1, 28, 28)
    scale = np.abs(images).max(axis=(1, 2), keepdims=True)
    images = images / np.where(scale > 0, scale, 1.0)
    return image_grid(images, titles, cols=cols, cmap="bwr", vmin=-1, vmax=1)


def conv_filters(kernel, cols=8) -> bytes:
    """A Conv2D kernel (kh, kw, in, filters): each filter's first input channel."""
    kernel = np.asarray(kernel, dtype=np.float32)
    if kernel.ndim != 4:
        raise ValueError("conv_filters expects a Conv2D kernel (kh, kw, in, filters); "
                         f"received shape {kernel.shape}")
    images = np.moveaxis(kernel[:, :, 0, :], -1, 0)
    scale = np.abs(images).max(axis=(1, 2), keepdims=True)
    images = images / np.where(scale > 0, scale, 1.0)
    return image_grid(images, [str(i) for i in range(len(images))], cols=cols, cmap="bwr",
                      vmin=-1, vmax=1, cell=0.7)


def feature_maps(maps, cols=8) -> bytes:
    """One image's feature maps (H, W, channels) from a convolution or pooling layer."""
    maps = np.asarray(maps, dtype=np.float32)
    if maps.ndim != 3:
        raise ValueError("feature_maps expects (height, width, channels); "
                         f"received shape {maps.shape}")
    return image_grid(np.moveaxis(maps, -1, 0), cols=cols, cmap="viridis", cell=0.7)
