"""Compares a case's answer on tinyann with Keras's, and describes a difference in
one line (the form docs/keras_differences.md lists it in)."""

from __future__ import annotations

import math

RTOL, ATOL = 1e-3, 1e-4
MESSAGE_START = 40  # characters of an error message compared


def _close(a, b):
    return math.isclose(a, b, rel_tol=RTOL, abs_tol=ATOL)


def first_difference(want, got, path="") -> str | None:
    """Where ``got`` first differs from ``want`` (None: they match)."""
    if "error" in want or "error" in got:
        w = f"{want.get('error')}: {want.get('message', '')[:MESSAGE_START]}" \
            if "error" in want else "no error"
        g = f"{got.get('error')}: {got.get('message', '')[:MESSAGE_START]}" \
            if "error" in got else "no error"
        return None if w == g else f"error | {w} | {g}"
    return _diff(want["result"], got["result"], "result")


def _diff(want, got, path):
    if isinstance(want, dict) and isinstance(got, dict):
        if "t" in want and want.get("t") != got.get("t"):
            return f"{path} type | {want.get('t')} | {got.get('t')}"
        for key in ("shape", "dtype"):
            if want.get(key) != got.get(key):
                return f"{path} {key} | {want.get(key)} | {got.get(key)}"
        if want.get("t") in ("float", "array"):
            w, g = want.get("v"), got.get("v")
            if w is None or g is None:
                return None
            w, g = (w, g) if isinstance(w, list) else ([w], [g])
            if len(w) != len(g) or not all(_close(a, b) for a, b in zip(w, g)):
                return f"{path} values | {w[:4]} | {g[:4]}"
            return None
        if sorted(want) != sorted(got):
            return f"{path} keys | {sorted(want)} | {sorted(got)}"
        for key in want:
            found = _diff(want[key], got[key], f"{path}.{key}")
            if found:
                return found
        return None
    if isinstance(want, list) and isinstance(got, list):
        if len(want) != len(got):
            return f"{path} length | {len(want)} | {len(got)}"
        for i, (w, g) in enumerate(zip(want, got)):
            found = _diff(w, g, f"{path}[{i}]")
            if found:
                return found
        return None
    if want != got:
        return f"{path} | {str(want)[:80]} | {str(got)[:80]}"
    return None
