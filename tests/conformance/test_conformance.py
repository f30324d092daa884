"""The differential conformance suite: every case Keras answered (the fixture made
by tools/keras_reference/conformance/make_conformance.py) runs on tinyann and must
give the same answer, or exactly the difference docs/keras_differences.md lists."""

import json
import sys
import warnings
from pathlib import Path

import pytest

import tinyann as keras

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools" / "keras_reference" / "conformance"))

from compare import first_difference  # noqa: E402
from runner import run_case  # noqa: E402

FIXTURE = ROOT / "tests" / "fixtures" / "keras" / "conformance.json"
TABLE = ROOT / "docs" / "keras_differences.md"
ANSWERS = json.loads(FIXTURE.read_text())["answers"]


def listed_differences() -> dict:
    """``{case id: "what | Keras's | tinyann's"}`` from the table's rows."""
    rows = {}
    for line in TABLE.read_text().splitlines():
        if line.startswith("| `{"):
            cells = [c.strip() for c in line.strip("|").split(" | ")]
            case = cells[0].strip("`")
            rows[case] = " | ".join(cells[1:4])
    return rows


LISTED = listed_differences()


def test_the_suite_is_large_enough_and_the_table_names_real_cases():
    assert len(ANSWERS) >= 500
    assert set(LISTED) <= set(ANSWERS)


@pytest.mark.parametrize("case", sorted(ANSWERS))
def test_case_matches_keras(case):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got = run_case(keras, json.loads(case))
    difference = first_difference(ANSWERS[case], got)
    if difference is not None:  # as the table holds it: the cells stripped
        difference = " | ".join(part.strip() for part in difference.split(" | "))
    assert difference == LISTED.get(case), (
        f"tinyann's answer: {json.dumps(got)[:600]}")
