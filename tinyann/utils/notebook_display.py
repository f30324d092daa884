"""What tinyann shows differently inside a Jupyter kernel (ipykernel).

Nothing here imports IPython at module import: ``in_notebook()`` reads ``sys.modules``
(a kernel has IPython loaded already), and ``IPython.display`` is imported only when
something is about to be displayed in a kernel.

- :func:`in_notebook`: whether code runs in a Jupyter kernel (``ZMQInteractiveShell``).
- :func:`is_kernel_stream`: whether a stream is ipykernel's ``sys.stdout`` / ``stderr``.
- :func:`display_text_blocks`: text shown as Keras shows its summary in a notebook: a
  ``display_data`` per block with ``text/plain`` and the ``text/html`` form rich gives.
- :class:`DisplayImage`: what ``plot_model`` returns, shown inline as PNG (or JPEG, SVG).
"""

from __future__ import annotations

import html
import os
import sys

__all__ = ["in_notebook", "is_kernel_stream", "display_text_blocks", "html_block",
           "DisplayImage"]

# rich's Jupyter form (rich/jupyter.py), which Keras 3's summary shows in a notebook
_PRE_STYLE = ("white-space:pre;overflow-x:auto;line-height:normal;"
              "font-family:Menlo,'DejaVu Sans Mono',consolas,'Courier New',monospace")


def in_notebook() -> bool:
    """True inside a Jupyter kernel (ipykernel's shell), False in a terminal IPython,
    a script or a test."""
    ipython = sys.modules.get("IPython")
    if ipython is None or "ipykernel" not in sys.modules:
        return False
    try:
        shell = ipython.get_ipython()
    except AttributeError:
        return False
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


def is_kernel_stream(stream) -> bool:
    """True for ipykernel's ``OutStream`` (what ``sys.stdout`` is in a notebook cell)."""
    return type(stream).__module__.startswith("ipykernel.")


def html_block(text: str, bold_prefixes=()) -> str:
    """``text`` as rich renders it for Jupyter: one ``<pre>``, HTML-escaped; lines that
    start with one of ``bold_prefixes`` have that prefix in bold (Keras's labels)."""
    lines = []
    for line in text.split("\n"):
        for prefix in bold_prefixes:
            if line.startswith(prefix):
                line = (f'<span style="font-weight: bold">{html.escape(prefix, quote=False)}'
                        f"</span>{html.escape(line[len(prefix):], quote=False)}")
                break
        else:
            line = html.escape(line, quote=False)
        lines.append(line)
    return f'<pre style="{_PRE_STYLE}">' + "\n".join(lines) + "</pre>\n"


def display_text_blocks(blocks, bold_prefixes=()) -> None:
    """Shows each text block as a ``display_data`` output (``text/plain`` + ``text/html``),
    as rich's console does in a notebook for each ``print``. Only call it in a kernel."""
    from IPython.display import display

    for block in blocks:
        display({"text/plain": block, "text/html": html_block(block, bold_prefixes)},
                raw=True)


_MIME = {"png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg",
         "svg": "image/svg+xml"}


class DisplayImage:
    """An image file that a notebook shows inline, as ``IPython.display.Image`` does.

    ``plot_model`` returns one: the last expression of a cell, or ``display(img)``, shows
    the picture (``_repr_png_`` / ``_repr_jpeg_`` / ``_repr_svg_``); ``data`` holds the
    file's bytes and ``filename`` its path.
    """

    def __init__(self, filename=None, data=None, format=None):
        if data is None and filename is None:
            raise ValueError("DisplayImage needs `filename` or `data`; received neither.")
        self.filename = None if filename is None else os.fspath(filename)
        if data is None:
            with open(self.filename, "rb") as handle:
                data = handle.read()
        self.data = data
        extension = os.path.splitext(self.filename or "")[1][1:].lower()
        self.format = (format or extension or "png").lower()
        if self.format not in _MIME:
            raise ValueError(f"DisplayImage shows {', '.join(sorted(_MIME))} images; "
                             f"received format={self.format!r}")

    @property
    def mimetype(self) -> str:
        return _MIME[self.format]

    def _repr_png_(self):
        return self.data if self.format == "png" else None

    def _repr_jpeg_(self):
        return self.data if self.format in ("jpg", "jpeg") else None

    def _repr_svg_(self):
        return self.data.decode("utf-8") if self.format == "svg" else None

    def __repr__(self):
        where = f" {self.filename!r}" if self.filename else ""
        return f"<tinyann image{where}: {self.mimetype}, {len(self.data)} bytes>"
