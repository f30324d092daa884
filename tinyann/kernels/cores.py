"""How many CPU cores this process may use: one answer for the threads tinyann starts
(half-batches, recurrent chunks) and the server's worker processes."""

from __future__ import annotations

import functools
import os


@functools.cache
def usable_cores() -> int:
    """The cores this process may run on (its affinity, as a container or ``taskset``
    limits it), else the machine's count; asked once (8 us a call: ``predict`` on one
    sample looks)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1
