"""NaN and inf in the inputs: found at the cost of one matrix-vector product per array,
and named (sample and position) when found."""

from __future__ import annotations

import numpy as np


def probe_finite(xs, indices=None, offset=0):
    """Raises if float inputs hold NaN or inf, at the cost of one matrix-vector
    product per array (NaN and inf survive the row sums; a saturating activation
    could hide them from the outputs). The exact scan runs only if the probe fails."""
    for a in xs:
        if a.dtype.kind != "f" or a.size == 0:
            continue
        flat = a.reshape(len(a), -1)
        if not np.isfinite(flat @ np.ones(flat.shape[1], dtype=a.dtype)).all():
            raise_if_nonfinite(xs, indices, offset)


def raise_if_nonfinite(xs, indices=None, offset=0):
    """Raises, naming the first sample and position, if any input holds NaN or inf.

    ``indices``: the rows' indices in the user's data (else ``offset`` + row).
    """
    for k, a in enumerate(xs):
        if a.dtype.kind not in "fc":  # ints and strings cannot be NaN
            continue
        bad = ~np.isfinite(a)
        if bad.any():
            where = np.argwhere(bad)[0]
            row = int(indices[where[0]]) if indices is not None else offset + int(where[0])
            label = "x" if len(xs) == 1 else f"x[{k}]"
            raise ValueError(
                f"`{label}` contains NaN or infinite values: sample {row} has "
                f"{a[tuple(where)]} at position {tuple(int(i) for i in where[1:])}. "
                "Clean or impute the data first."
            )


