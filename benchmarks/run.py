"""Side-by-side timings: tinyann, and Keras / PyTorch where an environment has them.

    python benchmarks/run.py [--repeats 3] [--keras-python PATH] [--torch-python PATH]

Each measurement runs in a fresh process (as a user's script would), the median
of ``--repeats`` runs is reported. Never part of the test suite.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def run(python, framework, workload):
    out = subprocess.run([python, os.path.join(HERE, "workloads.py"), framework, workload],
                         capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"{framework} {workload} failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def median_of(python, framework, workload, repeats):
    runs = [run(python, framework, workload) for _ in range(repeats)]
    return {key: statistics.median(r[key] for r in runs) for key in runs[0]}


def import_time(python, repeats):
    code = "import time; t = time.perf_counter(); import tinyann; print(time.perf_counter() - t)"
    times = []
    for _ in range(repeats):
        out = subprocess.run([python, "-c", code], capture_output=True, text=True, check=True,
                             cwd=os.path.dirname(HERE))
        times.append(float(out.stdout))
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--keras-python", default=os.environ.get("KERAS_PYTHON"))
    parser.add_argument("--torch-python", default=os.environ.get("TORCH_PYTHON"))
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args()

    results = {"machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                           "platform": platform.platform()}}
    results["tinyann"] = {
        "import_seconds": import_time(sys.executable, max(args.repeats, 5)),
        "seed_fit": median_of(sys.executable, "tinyann", "seed_fit", args.repeats),
        "mlp_fit": median_of(sys.executable, "tinyann", "mlp_fit", args.repeats),
        "predict": median_of(sys.executable, "tinyann", "predict", args.repeats),
    }
    if args.keras_python:
        results["keras"] = {
            "seed_fit": median_of(args.keras_python, "keras", "seed_fit", 1),
            "mlp_fit": median_of(args.keras_python, "keras", "mlp_fit", 1),
            "predict": median_of(args.keras_python, "keras", "predict", 1),
        }
    if args.torch_python:
        results["torch"] = {
            "seed_fit": median_of(args.torch_python, "torch", "seed_fit", args.repeats),
            "mlp_fit": median_of(args.torch_python, "torch", "mlp_fit", args.repeats),
        }
    print(json.dumps(results, indent=2))
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(results, handle, indent=2)


if __name__ == "__main__":
    main()
