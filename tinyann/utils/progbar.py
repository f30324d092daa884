"""Keras 3's progress bar: ``1500/1500 ━━━━━━━━━━━━━━━━━━━━ 1s 400us/step - loss: 0.5012``.

On a terminal the line is redrawn at most every ``interval`` seconds; otherwise
(a file, a pipe, CI) only the finished line is written, so logs get one line
per epoch and no carriage-return flood. In a Jupyter kernel the line is redrawn in
place (a carriage return, which notebooks honour) at most 10 times a second, and the
finished line stays: a stored notebook keeps one line per epoch.
"""

from __future__ import annotations

import logging
import os
import sys
import time

import numpy as np

from tinyann.utils.notebook_display import is_kernel_stream

#: the shortest time between redraws in a notebook (each one is a message to the browser)
NOTEBOOK_INTERVAL = 0.1


def _is_interactive(stream) -> bool:
    if os.environ.get("TINYANN_INTERACTIVE") is not None:
        return os.environ["TINYANN_INTERACTIVE"] not in ("", "0")
    if is_kernel_stream(stream):
        return True
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


class _LogStream:
    """A stream whose lines go to the ``tinyann`` logger (at INFO), as Keras sends its
    messages to logging while interactive logging is disabled."""

    def write(self, text):
        text = text.strip("\r\n")
        if text:
            logging.getLogger("tinyann").info(text)

    def flush(self):
        pass


_LOG_STREAM = _LogStream()


def is_interactive_logging_enabled() -> bool:
    from tinyann import config

    return config.is_interactive_logging_enabled()


def format_value(value: float) -> str:
    """4 decimals, or scientific notation for tiny values, as Keras."""
    return f"{value:.4f}" if abs(value) > 1e-3 else f"{value:.4e}"


def format_time_per_step(seconds: float, unit: str = "step") -> str:
    if seconds >= 1 or seconds == 0:
        return f"{seconds:.0f}s/{unit}"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.0f}ms/{unit}"
    return f"{seconds * 1e6:.0f}us/{unit}"


def format_eta(seconds: float) -> str:
    if seconds > 3600:
        return f"{int(seconds // 3600)}:{int(seconds % 3600 // 60):02d}:{int(seconds % 60):02d}"
    if seconds > 60:
        return f"{int(seconds // 60)}:{int(seconds % 60):02d}"
    return f"{seconds:.0f}s"


class Progbar:
    """A progress bar over ``target`` steps, as ``keras.utils.Progbar``.

    Values given to ``update`` are averaged over the steps (each weighted by the
    steps since the previous update) unless they are stateful metrics, shown as
    given: pass ``stateful_metrics`` (names shown as given, the rest averaged) or
    ``stateless_metrics`` (names averaged, the rest shown as given), not both.
    The final update shows the last value given, as Keras's.

    Args:
        target: total number of steps, or None if unknown.
        width: characters of the bar.
        verbose: 0 silent, 1 the bar, 2 one plain line at the end.
        interval: minimum seconds between redraws on a terminal (at least 0.1 in a
            notebook).
        unit_name: ``'step'`` or ``'sample'``.
        stream: where to write; ``sys.stdout`` by default.
    """

    def __init__(self, target, width=20, verbose=1, interval=0.05, stateful_metrics=None,
                 stateless_metrics=None, unit_name="step", stream=None):
        if stateful_metrics is not None and stateless_metrics is not None:
            raise ValueError(
                "Only one of `stateful_metrics` or `stateless_metrics` can be provided."
            )
        self.target = target
        self.width = width
        self.verbose = verbose
        self.interval = interval
        self.unit_name = unit_name
        self.stateful_metrics = None if stateless_metrics is not None else set(
            stateful_metrics or ())
        self.stateless_metrics = None if stateless_metrics is None else set(
            stateless_metrics)
        # nothing to average: values need only be read when a line is drawn
        self._all_stateful = self.stateless_metrics is not None and not self.stateless_metrics
        self.stream = stream or sys.stdout
        self.interactive = _is_interactive(self.stream)
        if not is_interactive_logging_enabled():
            # Keras's `disable_interactive_logging()`: the lines go to logging instead
            self.stream, self.interactive = _LOG_STREAM, False
        if is_kernel_stream(self.stream):
            self.interval = max(interval, NOTEBOOK_INTERVAL)
        self._start = time.perf_counter()
        self._last_draw = 0.0
        self._last_len = 0
        self._finished = False
        self._seen_so_far = 0
        self._values: dict = {}  # name -> [weighted sum, weight]
        self._order: list = []

    def _averaged(self, name) -> bool:
        if self.stateful_metrics is not None:
            return name not in self.stateful_metrics
        return name in self.stateless_metrics

    def _record(self, current, values, finalize):
        if callable(values):
            values = values()
        items = values.items() if hasattr(values, "items") else (values or [])
        for name, value in items:
            if np.ndim(value):  # a metric at several thresholds: Keras shows their mean
                value = np.mean(value)
            if name not in self._values:
                self._order.append(name)
            if self._averaged(name) and not finalize:
                base = max(current - self._seen_so_far, 1)
                total, count = self._values.get(name, (0.0, 0))
                self._values[name] = [total + float(value) * base, count + base]
            else:
                self._values[name] = [float(value), 1]

    def update(self, current, values=None, finalize=None):
        """Shows step ``current`` with ``values`` (a mapping or (name, value) pairs).

        ``values`` may also be a callable returning them; when no value is averaged
        (``stateless_metrics=set()``, as fit's logger uses) it is only called, and a
        mapping only read, when a line is drawn.
        """
        if finalize is None:
            finalize = self.target is not None and current >= self.target
        if self.verbose == 0 or self._finished:
            self._seen_so_far = current
            return
        now = time.perf_counter()
        draw = finalize or (self.interactive and self.verbose == 1
                            and now - self._last_draw >= self.interval)
        if not self._all_stateful:
            self._record(current, values, finalize)
        elif draw:
            self._record(current, values, finalize)
        self._seen_so_far = current
        if not draw:
            return
        self._last_draw = now
        elapsed = now - self._start
        per_step = elapsed / current if current else 0.0
        metrics = "".join(f" - {name}: {format_value(total / max(count, 1))}"
                          for name, (total, count) in
                          ((n, self._values[n]) for n in self._order))
        if self.verbose == 2:
            if finalize:
                line = (f"{self._counter(current)} - {elapsed:.0f}s - "
                        f"{format_time_per_step(per_step, self.unit_name)}{metrics}")
                self.stream.write(line + "\n")
                self._finished = True
                self.stream.flush()
            return
        if finalize:
            timing = f"{elapsed:.0f}s {format_time_per_step(per_step, self.unit_name)}"
        else:
            remaining = per_step * (self.target - current) if self.target else 0.0
            timing = f"{format_eta(remaining)} {format_time_per_step(per_step, self.unit_name)}"
        line = f"{self._counter(current)} {self._bar(current)} {timing}{metrics}"
        if self.interactive:
            visible = len(line) - (18 if self.target else 0)  # the colour codes of the bar
            pad = max(self._last_len - visible, 0)
            self.stream.write("\r" + line + " " * pad)
            self._last_len = visible
            if finalize:
                self.stream.write("\n")
        else:
            self.stream.write(line + "\n")
        if finalize:
            self._finished = True
        self.stream.flush()

    def add(self, n, values=None):
        """Moves the bar ``n`` steps on (``update(seen + n, values)``)."""
        self.update(self._seen_so_far + n, values)

    def _counter(self, current):
        if self.target is None:
            return f"{current:7d}/Unknown"
        digits = len(str(self.target))
        return f"{current:>{digits}}/{self.target}"

    def _bar(self, current):
        if self.target is None:
            return ""
        filled = int(self.width * min(current / self.target, 1.0)) if self.target else self.width
        if self.interactive:
            # green for the done part, white for the rest, as Keras on a terminal
            done = "\x1b[32m" + "━" * filled + "\x1b[0m"
            rest = "\x1b[37m" + "━" * (self.width - filled) + "\x1b[0m"
            return done + rest
        return "━" * self.width
