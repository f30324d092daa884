"""`tinyann train --model cnn`'s training, with the test accuracy after every epoch.

    python benchmarks/cli_recipe.py [--epochs 20] [--batch-size 32] [--learning-rate LR]
                                    [--seed 42] [--json FILE]

The same data, split, model, optimizer and seed as the command (both call
tinyann/cli.py's ``prepare_training``), so epoch N here trains the same weights as
``tinyann train --model cnn --epochs N`` with the same options: the table tells which
``--epochs`` reaches a test accuracy, and the command itself then confirms it. The
time column is the fit's wall time at each epoch's end, without the test evaluations.
Never part of the test suite.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import tinyann as keras  # noqa: E402
from tinyann.cli import prepare_training  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--learning-rate", type=float, default=None)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--json", default=None, help="also write the rows here")
    args = parser.parse_args()

    model, _, (x_tr, y_tr), (x_val, y_val), (x_test, y_test) = prepare_training(
        "cnn", args.seed, None, args.learning_rate)
    rows = []

    class TestEachEpoch(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.start, self.paused = time.perf_counter(), 0.0

        def on_epoch_end(self, epoch, logs=None):
            seconds = time.perf_counter() - self.start - self.paused
            pause = time.perf_counter()
            # evaluate uses no random numbers: training goes on as without it
            _, test_accuracy = self.model.evaluate(x_test, y_test, verbose=0)
            self.paused += time.perf_counter() - pause
            rows.append({"epoch": epoch + 1, "fit_seconds": round(seconds, 1),
                         "val_accuracy": logs["val_accuracy"],
                         "test_accuracy": test_accuracy})
            print(f"epoch {epoch + 1:2d}  {seconds:6.1f} s  val {logs['val_accuracy']:.4f}"
                  f"  test {test_accuracy:.4f}", flush=True)

    model.fit(x_tr, y_tr, epochs=args.epochs, batch_size=args.batch_size,
              validation_data=(x_val, y_val), verbose=0, callbacks=[TestEachEpoch()])
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"options": vars(args), "epochs": rows}, f, indent=2)


if __name__ == "__main__":
    main()
