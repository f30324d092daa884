"""Arrays handed out again once nothing refers to them any more.

A training step of a recurrent layer makes a few megabytes of new arrays (the cache
for backward, the products, the gradients) and frees them a step later. Freed, glibc
gives large blocks back to the system and the next step's arrays come back as fresh
pages, each zeroed by the kernel on its first write: measured on chapter 9's LSTM, 58,000
page faults in an epoch, about 0.1 s of a 0.35 s epoch. The pool keeps those blocks.

Safety comes from reference counts, not from a promise about who reads what when: every
array handed out is a view of a pooled block, and a view keeps its block alive, so a
block whose only references are the pool's own is read by no one (a cache a tape still
holds, an output a later layer kept, a user's array all count). ``take`` finds such a
block or makes one.
"""

from __future__ import annotations

import math
import sys
import threading

import numpy as np

#: blocks larger than this are made afresh each time (their page faults are small next
#: to the work on them), and the pool keeps at most this many bytes in all
MAX_BLOCK = 16 << 20
MAX_BYTES = 96 << 20

_blocks: list = []   # 1-D uint8 arrays, 64-byte aligned views handed out
_lock = threading.Lock()
# sys.getrefcount(block) of a free block inside ``take``'s loop: the list, the loop's
# variable and the call's argument
_FREE = 3


def take(shape, dtype) -> np.ndarray:
    """An uninitialised C-contiguous array of ``shape`` and ``dtype`` (like ``np.empty``),
    whose memory may have served an array nobody refers to any more."""
    dtype = np.dtype(dtype)
    nbytes = math.prod(shape) * dtype.itemsize
    if nbytes == 0 or nbytes > MAX_BLOCK:
        return np.empty(shape, dtype)
    with _lock:
        found = None
        for block in _blocks:
            # at most twice the size asked for: a small array does not take the block a
            # large one will want next
            if nbytes <= block.size <= 2 * nbytes and sys.getrefcount(block) == _FREE:
                if found is None or block.size < found.size:
                    found = block
        if found is None:
            found = np.empty(nbytes, np.uint8)
            _blocks.append(found)
            _trim()
    return found[:nbytes].view(dtype).reshape(shape)


def _trim() -> None:
    """Drops free blocks, the oldest first, while the pool holds more than MAX_BYTES."""
    total = sum(block.size for block in _blocks)
    index = 0
    while total > MAX_BYTES and index < len(_blocks):
        if sys.getrefcount(_blocks[index]) == _FREE - 1:  # no loop variable here
            total -= _blocks.pop(index).size
        else:
            index += 1


def clear() -> None:
    """Forgets every block (those in use stay alive while their views do)."""
    with _lock:
        _blocks.clear()


def held_bytes() -> int:
    """The bytes of all the pool's blocks, free or in use."""
    with _lock:
        return sum(block.size for block in _blocks)
