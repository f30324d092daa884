"""Runs every conformance case on tinyann (the one on PYTHONPATH) and prints how many
match Keras's answers, the mismatches counted by area, and with ``--rows`` the
mismatches as rows for docs/keras_differences.md (the reason left to write).

    PYTHONPATH=. python tools/keras_reference/conformance/tally.py [--rows]
"""

from __future__ import annotations

import collections
import json
import os
import sys
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from compare import first_difference  # noqa: E402
from runner import run_case  # noqa: E402

import tinyann as keras  # noqa: E402

FIXTURE = os.path.join("tests", "fixtures", "keras", "conformance.json")


def area(spec) -> str:
    """A case's area: errors, data sources, callbacks, several outputs, or the call."""
    if spec.get("bad") or spec.get("no_compile") or spec.get("kwargs", {}).get(
            "batch_size") == 0 or "validation_freq" in spec.get("kwargs", {}) and \
            spec["kwargs"]["validation_freq"] == 0 or spec.get("kwargs", {}).get(
            "validation_split") == 1.5 or (spec["model"] == "multi" and "class_weight" in
                                           spec.get("kwargs", {})):
        return "invalid calls"
    if spec["action"] == "summary":
        return "summary"
    if spec.get("source"):
        return "datasets / generators / PyDataset"
    if spec.get("x") == "dict" or spec.get("y") in ("dict", "list", "tuple") or spec.get(
            "x") in ("list", "tuple"):
        return "dict / list / tuple inputs and targets"
    if spec.get("record"):
        return "callback hooks"
    return "arrays: " + spec["action"]


def main():
    answers = json.load(open(FIXTURE))["answers"]
    by_area = collections.Counter()
    total = collections.Counter()
    rows = []
    for case, want in sorted(answers.items()):
        spec = json.loads(case)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            got = run_case(keras, spec)
        total[area(spec)] += 1
        diff = first_difference(want, got)
        if diff:
            by_area[area(spec)] += 1
            rows.append(f"| `{case}` | {diff} | |")
    print(f"{len(answers) - len(rows)} of {len(answers)} cases match")
    for name in sorted(total):
        print(f"  {name}: {by_area[name]} of {total[name]} differ")
    if "--rows" in sys.argv:
        print("\n".join(rows))


if __name__ == "__main__":
    main()
