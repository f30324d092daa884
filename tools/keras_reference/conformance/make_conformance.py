"""Runs every conformance case on real Keras 3 (TensorFlow backend) and writes the
answers to tests/fixtures/keras/conformance.json (compact JSON, keyed by case id).

Run from the repo root in the Keras environment:
    KERAS_BACKEND=tensorflow /work/kerasenv/bin/python \
        tools/keras_reference/conformance/make_conformance.py
"""

from __future__ import annotations

import json
import os
import sys
import time

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402
from cases import all_cases, case_id  # noqa: E402
from runner import run_case  # noqa: E402

OUT = os.path.join("tests", "fixtures", "keras", "conformance.json")


def main():
    cases = all_cases()
    answers = {}
    if sys.argv[1:] == ["--record-only"]:
        # the cases with a recording callback again, the others' answers kept
        with open(OUT) as f:
            answers = json.load(f)["answers"]
        cases = [spec for spec in cases if spec.get("record")]
    elif len(sys.argv) > 1:
        cases = cases[:int(sys.argv[1])]
    start = time.time()
    for i, spec in enumerate(cases):
        # eager: the same answers without tracing a graph for each tiny case
        answers[case_id(spec)] = run_case(keras, spec, tf=tf,
                                          compile_extra={"run_eagerly": True})
        keras.backend.clear_session()
        if i % 50 == 0:
            print(i, f"{time.time() - start:.0f}s", flush=True)
    payload = {"keras": keras.__version__, "backend": keras.backend.backend(),
               "answers": answers}
    tmp = OUT + ".tmp"
    with open(tmp, "w") as f:
        json.dump(payload, f, separators=(",", ":"), sort_keys=True)
    os.replace(tmp, OUT)
    print(len(answers), "cases,", f"{time.time() - start:.0f}s")


if __name__ == "__main__":
    main()
