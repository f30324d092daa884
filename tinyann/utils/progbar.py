"""Keras 3's progress bar: ``1500/1500 ━━━━━━━━━━━━━━━━━━━━ 1s 400us/step - loss: 0.5012``.

On a terminal the line is redrawn at most every ``interval`` seconds; otherwise
(a file, a pipe, CI) only the finished line is written, so logs get one line
per epoch and no carriage-return flood.
"""

from __future__ import annotations

import os
import sys
import time


def _is_interactive(stream) -> bool:
    if os.environ.get("TINYANN_INTERACTIVE") is not None:
        return os.environ["TINYANN_INTERACTIVE"] not in ("", "0")
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


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
    """A progress bar over ``target`` steps.

    Args:
        target: total number of steps, or None if unknown.
        verbose: 1 for the bar, 2 for one plain line at the end.
        interval: minimum seconds between redraws on a terminal.
        unit_name: ``'step'`` or ``'sample'``.
    """

    def __init__(self, target, width=20, verbose=1, interval=0.05, stateful_metrics=None,
                 unit_name="step", stream=None):
        self.target = target
        self.width = width
        self.verbose = verbose
        self.interval = interval
        self.unit_name = unit_name
        self.stream = stream or sys.stdout
        self.interactive = _is_interactive(self.stream)
        self._start = time.perf_counter()
        self._last_draw = 0.0
        self._last_len = 0
        self._finished = False

    def update(self, current, values=None, finalize=None):
        """Shows step ``current`` with ``values`` (a mapping or (name, value) pairs).

        ``values`` may be a callable returning them, so they are only computed when
        the line is actually drawn.
        """
        if finalize is None:
            finalize = self.target is not None and current >= self.target
        if self.verbose == 0 or self._finished:
            return
        now = time.perf_counter()
        if not finalize and (not self.interactive or self.verbose != 1
                             or now - self._last_draw < self.interval):
            return
        self._last_draw = now
        if callable(values):
            values = values()
        items = list(values.items()) if hasattr(values, "items") else list(values or [])
        elapsed = now - self._start
        per_step = elapsed / current if current else 0.0
        metrics = "".join(f" - {k}: {format_value(float(v))}" for k, v in items)
        if self.verbose == 2:
            if finalize:
                line = (f"{self._counter(current)} - {elapsed:.0f}s - "
                        f"{format_time_per_step(per_step, self.unit_name)}{metrics}")
                self.stream.write(line + "\n")
                self._finished = True
            return
        if finalize:
            timing = f"{elapsed:.0f}s {format_time_per_step(per_step, self.unit_name)}"
        else:
            remaining = per_step * (self.target - current) if self.target else 0.0
            timing = f"{format_eta(remaining)} {format_time_per_step(per_step, self.unit_name)}"
        line = f"{self._counter(current)} {self._bar(current)} {timing}{metrics}"
        if self.interactive:
            pad = max(self._last_len - len(line), 0)
            self.stream.write("\r" + line + " " * pad)
            self._last_len = len(line)
            if finalize:
                self.stream.write("\n")
        else:
            self.stream.write(line + "\n")
        if finalize:
            self._finished = True
        self.stream.flush()

    def _counter(self, current):
        if self.target is None:
            return f"{current}/Unknown"
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
