"""Chapter 9's notebooks, whole, on synthetic IMDB: tinyann (``tinyann run``) beside
Keras 3 on TensorFlow running the same cells; wall time of each process.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_notebooks.py \\
        --keras-python /work/kerasenv/bin/python [--repeats 1] [--only 9-2 9-3]

The data is the file CI uses (tests/notebooks/test_chapter9.py: 5,000 + 2,000 reviews,
``synthetic_imdb.write(..., signal=0.25)``). tinyann reads it from
``$TINYANN_DATA_DIR/imdb``. Keras checks its download's hash, so its child gets the
file by a patched ``get_file`` inside ``keras.datasets.imdb`` (everything else in the
cells runs as written). The Keras child runs the code cells in order in one namespace,
with matplotlib's Agg backend; the time of starting a Jupyter kernel is in neither
figure (``tinyann run`` executes in its own process, as here).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
NOTEBOOKS = {"9-2": "9-2_recurrent_neural_network.ipynb", "9-3": "9-3_lstm_and_gru.ipynb"}
TRAIN, TEST = 5_000, 2_000


def make_data(folder):
    sys.path.insert(0, REPO)
    from tinyann.datasets import synthetic_imdb

    synthetic_imdb.write(os.path.join(folder, "imdb"), train=TRAIN, test=TEST, signal=0.25)


def keras_child(notebook, data_dir, workdir):
    """Runs the notebook's code cells with Keras 3 on TensorFlow (in the Keras venv)."""
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    os.environ["MPLBACKEND"] = "Agg"
    import keras  # noqa: F401
    from keras.src.datasets import imdb

    files = {"imdb.npz": "imdb.npz", "imdb_word_index.json": "imdb_word_index.json"}

    def get_file(fname=None, origin=None, **_):
        name = os.path.basename(fname or origin)
        return os.path.join(data_dir, "imdb", files[name])

    imdb.get_file = get_file
    with open(notebook, encoding="utf-8") as handle:
        cells = json.load(handle)["cells"]
    os.chdir(workdir)
    namespace = {"__name__": "__main__"}
    for cell in cells:
        if cell["cell_type"] == "code":
            source = "".join(cell["source"])
            lines = [line for line in source.splitlines() if not line.startswith(("%", "!"))]
            exec(compile("\n".join(lines), notebook, "exec"), namespace)


def run(command, env=None, cwd=None):
    start = time.perf_counter()
    done = subprocess.run(command, env={**os.environ, **(env or {})}, cwd=cwd,
                          capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"{command[:3]} failed:\n{done.stderr[-2000:]}")
    return seconds, done.stdout


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--keras-child", nargs=3, metavar=("NOTEBOOK", "DATA", "WORKDIR"))
    parser.add_argument("--keras-python")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--only", nargs="*", default=list(NOTEBOOKS))
    args = parser.parse_args()
    if args.keras_child:
        return keras_child(*args.keras_child)
    results = {}
    with tempfile.TemporaryDirectory() as data:
        make_data(data)
        for key in args.only:
            notebook = os.path.join(REPO, "examples", "notebooks", NOTEBOOKS[key])
            for r in range(args.repeats):
                with tempfile.TemporaryDirectory() as work:
                    seconds, _ = run([sys.executable, "-m", "tinyann", "run", notebook],
                                     env={"TINYANN_DATA_DIR": data}, cwd=work)
                results.setdefault((key, "tinyann"), []).append(seconds)
                print(f"{key} tinyann round {r + 1}: {seconds:.1f} s", flush=True)
                if args.keras_python:
                    with tempfile.TemporaryDirectory() as work:
                        seconds, _ = run([args.keras_python, __file__, "--keras-child",
                                          notebook, data, work])
                    results.setdefault((key, "keras-tensorflow"), []).append(seconds)
                    print(f"{key} keras-tensorflow round {r + 1}: {seconds:.1f} s",
                          flush=True)
    for (key, name), values in sorted(results.items()):
        print(f"{key:4} {name:17} median {statistics.median(values):7.1f} s  "
              f"({', '.join(f'{v:.1f}' for v in values)})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
