"""The textbook CNN's training step, in ms, for source trees (or commits' exports) side by side.

    python benchmarks/cnn_steps.py TREE [TREE ...] [--rounds N] [--batches N]

Each round runs every tree once, in turn, each in a fresh process: one batch first
(the JIT's cache load, reported apart), then ``--batches`` batches of 32 random
images (default 400), timed. Quicker than ``bench_cnn.py``'s whole epoch for
comparing two versions in the same minutes. Never part of the test suite.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

WORKER = r"""
import json, sys, time
sys.path.insert(0, sys.argv[1])
import numpy as np
import tinyann as keras
batches = int(sys.argv[2])
rng = np.random.default_rng(0)
x = rng.random((32 * batches, 28, 28, 1), dtype=np.float32)
y = rng.integers(0, 10, 32 * batches)
layers = keras.layers
model = keras.Sequential([
    keras.Input((28, 28, 1)), layers.Conv2D(32, 3, activation="relu", padding="same"),
    layers.MaxPooling2D(2), layers.Conv2D(64, 3, activation="relu", padding="same"),
    layers.MaxPooling2D(2), layers.Flatten(), layers.Dense(100, activation="relu"),
    layers.Dropout(0.4), layers.Dense(10, activation="softmax")])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
start = time.perf_counter()
model.fit(x[:32], y[:32], epochs=1, batch_size=32, verbose=0)
first = time.perf_counter() - start
start = time.perf_counter()
model.fit(x, y, epochs=1, batch_size=32, verbose=0)
print(json.dumps({"first_batch_s": first,
                  "ms_per_step": (time.perf_counter() - start) / batches * 1e3}))
"""


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("trees", nargs="+", help="folders holding a tinyann package")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batches", type=int, default=400)
    args = parser.parse_args()
    results = {tree: [] for tree in args.trees}
    for round_ in range(args.rounds):
        for tree in args.trees:
            out = subprocess.run([sys.executable, "-c", WORKER, os.path.abspath(tree),
                                  str(args.batches)], capture_output=True, text=True,
                                 check=True)
            result = json.loads(out.stdout.strip().splitlines()[-1])
            results[tree].append(result)
            print(f"round {round_ + 1}: {tree}: first batch {result['first_batch_s']:.2f} s, "
                  f"{result['ms_per_step']:.2f} ms a step", flush=True)
    for tree, runs in results.items():
        steps = sorted(r["ms_per_step"] for r in runs)
        print(f"{tree}: {steps[len(steps) // 2]:.2f} ms a step (median of {len(steps)})")


if __name__ == "__main__":
    main()
