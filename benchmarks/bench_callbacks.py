"""What EarlyStopping + ModelCheckpoint cost in fit: the seed recipe timed bare and
with both callbacks attached.

The seed recipe: Input(784) -> Dense(10, softmax), RMSprop, 5 epochs, batch 32, on
Fashion-MNIST / 255 split by train_test_split(test_size=0.2, random_state=42). The
recipe has no validation data, so both callbacks watch ``loss``; the checkpoint
saves a ``.keras`` file whenever the loss improves (every epoch here). Neither does
anything per batch, so the fit loop never calls them per batch.

Each run is a fresh process (as a user's script); bare and callback runs alternate
so that a change in machine load hits both. Prints the median of each and the ratio.
The one-time import of h5py / tinyann.saving happens before the clock starts in both
modes and is printed separately.

    .venv/bin/python benchmarks/bench_callbacks.py [--repeats 3]
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


def one_run(mode: str) -> dict:
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from workloads import load_split

    import tinyann as keras

    x, y, _, _, _, _ = load_split(True)
    # h5py and the zip writer load on the first save (about 0.1 s once per process):
    # loaded before the clock starts in both modes, and reported on their own
    start = time.perf_counter()
    from tinyann.saving import h5

    h5.require_h5py()
    import_seconds = time.perf_counter() - start
    keras.utils.set_random_seed(42)
    model = keras.Sequential([keras.Input((784,)), keras.layers.Dense(10, activation="softmax")])
    model.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    callbacks = []
    with tempfile.TemporaryDirectory() as tmp:
        if mode == "callbacks":
            callbacks = [keras.callbacks.EarlyStopping(monitor="loss", patience=2),
                         keras.callbacks.ModelCheckpoint(os.path.join(tmp, "seed.keras"),
                                                         monitor="loss", save_best_only=True)]
        start = time.perf_counter()
        history = model.fit(x, y, epochs=5, batch_size=32, verbose=0, callbacks=callbacks)
        seconds = time.perf_counter() - start
    return {"mode": mode, "fit_seconds": seconds, "epochs": len(history.history["loss"]),
            "loss": history.history["loss"][-1], "import_seconds": import_seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--one", choices=["bare", "callbacks"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one_run(args.one)))
        return
    times = {"bare": [], "callbacks": []}
    imports = []
    for _ in range(args.repeats):
        for mode in ("bare", "callbacks"):
            out = subprocess.run([sys.executable, os.path.abspath(__file__), "--one", mode],
                                 check=True, capture_output=True, text=True).stdout
            result = json.loads(out.strip().splitlines()[-1])
            times[mode].append(result["fit_seconds"])
            imports.append(result["import_seconds"])
            print(f"  {mode:9s} {result['fit_seconds']:.3f} s  (loss {result['loss']:.4f})",
                  flush=True)
    bare = statistics.median(times["bare"])
    with_cb = statistics.median(times["callbacks"])
    print(f"bare fit:                              {bare:.3f} s (median of {args.repeats})")
    print(f"with EarlyStopping + ModelCheckpoint:  {with_cb:.3f} s (median of {args.repeats})")
    print(f"ratio:                                 {with_cb / bare:.3f}")
    print(f"(not timed: loading h5py and tinyann.saving, {statistics.median(imports):.3f} s "
          "once per process, paid by the first save)")


if __name__ == "__main__":
    main()
