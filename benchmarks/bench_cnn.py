"""The textbook CNN on Fashion-MNIST: one epoch, predict throughput, and the accuracy recipe.

    python benchmarks/bench_cnn.py [--batches N] [--repeats N] [--torch-python PATH]
                                   [--keras-python PATH] [--threads N] [--accuracy]
                                   [--no-speed] [--json FILE]

Model: Input(28, 28, 1) -> Conv2D(32, 3, relu, same) -> MaxPooling2D(2) ->
Conv2D(64, 3, relu, same) -> MaxPooling2D(2) -> Flatten -> Dense(100, relu) ->
Dropout(0.4) -> Dense(10, softmax); Adam, batch 32, 48,000 training images (the
textbook's ``validation_split=0.2``). Reported:

- ``epoch_seconds``: one ``fit`` epoch (with ``--batches N``: N batches, and the
  epoch extrapolated from them: for development, the full epoch takes a while);
- ``predict_images_per_second``: ``predict`` on the 10,000 test images (batch 32);
- with ``--repeats N``: N rounds, each running every framework once in turn (the
  host's speed drifts from minute to minute; taking turns exposes each framework to
  the same drift), and the medians;
- with ``--torch-python`` / ``--keras-python``: the same work in PyTorch / Keras 3,
  each in its own process with that interpreter (numpy must be importable there);
- ``--threads N`` holds BLAS (and PyTorch's, TensorFlow's) threads to N: on a loaded
  machine OpenBLAS's two threads wait on each other, and one is much faster;
- with ``--accuracy`` (several minutes): Adam, up to 20 epochs,
  ``EarlyStopping(patience=2, restore_best_weights=True)`` on ``val_loss`` with
  ``validation_split=0.2``; the best validation accuracy, the test accuracy, and the
  wall time to the first epoch with validation accuracy >= 0.91; with
  ``--torch-python`` the same recipe as a PyTorch loop, too.

Every framework runs in a fresh process, one after the other, never at once. Never
part of the test suite; timings depend on the machine and on what else runs on it.
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
TRAIN = 48_000


# ---------------------------------------------------------------------- workers
def _load(data_dir):
    import numpy as np

    arrays = [np.load(os.path.join(data_dir, f"{name}.npy"), allow_pickle=False)
              for name in ("x", "y", "xt", "yt")]
    return arrays


def _keras_like(keras):
    layers = keras.layers
    return keras.Sequential([
        keras.Input((28, 28, 1)),
        layers.Conv2D(32, 3, activation="relu", padding="same"),
        layers.MaxPooling2D(2),
        layers.Conv2D(64, 3, activation="relu", padding="same"),
        layers.MaxPooling2D(2),
        layers.Flatten(),
        layers.Dense(100, activation="relu"),
        layers.Dropout(0.4),
        layers.Dense(10, activation="softmax"),
    ])


def _threads():
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return None
    return [{k: info.get(k) for k in ("internal_api", "num_threads", "version")}
            for info in threadpool_info()]


def worker_keras_like(framework, data_dir, batches):
    if framework == "tinyann":
        sys.path.insert(0, os.path.dirname(HERE))
        import tinyann as keras
    else:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        import keras
    x, y, xt, yt = _load(data_dir)
    n = TRAIN if batches is None else min(TRAIN, 32 * batches)
    model = _keras_like(keras)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    start = time.perf_counter()
    history = model.fit(x[:n], y[:n], epochs=1, batch_size=32, verbose=0)
    seconds = time.perf_counter() - start
    model.predict(xt[:320], verbose=0)  # warm-up
    start = time.perf_counter()
    model.predict(xt, verbose=0, batch_size=32)
    predict_seconds = time.perf_counter() - start
    return {"fit_seconds": seconds, "batches": -(-n // 32),
            "epoch_seconds": seconds * (TRAIN / n),
            "train_accuracy": float(history.history["accuracy"][-1]),
            "predict_seconds": predict_seconds,
            "predict_images_per_second": len(xt) / predict_seconds, "threads": _threads()}


def worker_torch(data_dir, batches):
    import numpy as np
    import torch
    from torch import nn

    torch.manual_seed(0)
    x, y, xt, yt = _load(data_dir)
    n = TRAIN if batches is None else min(TRAIN, 32 * batches)
    x = torch.from_numpy(np.ascontiguousarray(x[:n].transpose(0, 3, 1, 2)))
    y = torch.from_numpy(y[:n].astype(np.int64))
    xt = torch.from_numpy(np.ascontiguousarray(xt.transpose(0, 3, 1, 2)))
    net = nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(3136, 100), nn.ReLU(), nn.Dropout(0.4), nn.Linear(100, 10))
    opt = torch.optim.Adam(net.parameters(), lr=1e-3, eps=1e-7)  # Keras's defaults
    loss_fn = nn.CrossEntropyLoss()
    start = time.perf_counter()
    net.train()
    order = torch.randperm(n)
    correct = 0
    for i in range(0, n, 32):
        idx = order[i:i + 32]
        opt.zero_grad()
        logits = net(x[idx])
        loss = loss_fn(logits, y[idx])
        loss.backward()
        opt.step()
        correct += int((logits.argmax(1) == y[idx]).sum())
    seconds = time.perf_counter() - start
    net.eval()

    def predict():
        with torch.no_grad():
            return torch.cat([net(xt[i:i + 32]) for i in range(0, len(xt), 32)])

    with torch.no_grad():
        net(xt[:320])
    start = time.perf_counter()
    predict()
    predict_seconds = time.perf_counter() - start
    return {"fit_seconds": seconds, "batches": -(-n // 32),
            "epoch_seconds": seconds * (TRAIN / n), "train_accuracy": correct / n,
            "predict_seconds": predict_seconds,
            "predict_images_per_second": len(xt) / predict_seconds,
            "threads": torch.get_num_threads(), "torch": torch.__version__}


def _time_to(history, seconds_at_epoch_end, threshold=0.91):
    """Wall time at the end of the first epoch whose validation accuracy >= threshold."""
    for accuracy, seconds in zip(history["val_accuracy"], seconds_at_epoch_end):
        if accuracy >= threshold:
            return seconds
    return None


def _accuracy_result(history, seconds, ends, test_accuracy, test_loss):
    val = history["val_accuracy"]
    best = min(range(len(val)), key=lambda i: history["val_loss"][i])
    return {"epochs_run": len(val), "best_epoch": best + 1,
            "val_accuracy_at_best": val[best], "max_val_accuracy": max(val),
            "test_accuracy": float(test_accuracy), "test_loss": float(test_loss),
            "seconds": seconds, "seconds_to_val_accuracy_0.91": _time_to(history, ends),
            "epoch_end_seconds": [round(t, 2) for t in ends],
            "history": {k: [round(float(v), 4) for v in vals] for k, vals in history.items()}}


def worker_accuracy(data_dir):
    """The textbook recipe: Adam, batch 32, validation_split=0.2, up to 20 epochs,
    EarlyStopping(patience=2, restore_best_weights=True) on val_loss."""
    sys.path.insert(0, os.path.dirname(HERE))
    import tinyann as keras
    from tinyann.callbacks import EarlyStopping, LambdaCallback

    x, y, xt, yt = _load(data_dir)
    keras.utils.set_random_seed(42)
    model = _keras_like(keras)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    stop = EarlyStopping(patience=2, restore_best_weights=True)
    ends = []
    start = time.perf_counter()
    clock = LambdaCallback(on_epoch_end=lambda epoch, logs: ends.append(
        time.perf_counter() - start))
    history = model.fit(x, y, epochs=20, batch_size=32, validation_split=0.2,
                        callbacks=[clock, stop], verbose=2)
    seconds = time.perf_counter() - start
    test_loss, test_accuracy = model.evaluate(xt, yt, verbose=0)
    return _accuracy_result(history.history, seconds, ends, test_accuracy, test_loss)


def worker_torch_accuracy(data_dir):
    """The same recipe as a PyTorch loop: the last 20% of the training images validate
    (as Keras's validation_split), the best val_loss epoch's weights are restored."""
    import copy

    import numpy as np
    import torch
    from torch import nn

    torch.manual_seed(42)
    x, y, xt, yt = _load(data_dir)
    split = int(len(x) * 0.8)

    def tensors(images, labels):
        return (torch.from_numpy(np.ascontiguousarray(images.transpose(0, 3, 1, 2))),
                torch.from_numpy(labels.astype(np.int64)))

    (tx, ty), (vx, vy), (ex, ey) = (tensors(x[:split], y[:split]),
                                    tensors(x[split:], y[split:]), tensors(xt, yt))
    net = nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(3136, 100), nn.ReLU(), nn.Dropout(0.4), nn.Linear(100, 10))
    opt = torch.optim.Adam(net.parameters(), lr=1e-3, eps=1e-7)
    loss_fn = nn.CrossEntropyLoss(reduction="sum")

    def evaluate(images, labels):
        net.eval()
        with torch.no_grad():
            total = correct = 0.0
            for i in range(0, len(images), 32):
                logits = net(images[i:i + 32])
                total += float(loss_fn(logits, labels[i:i + 32]))
                correct += int((logits.argmax(1) == labels[i:i + 32]).sum())
        return total / len(images), correct / len(images)

    history = {"loss": [], "accuracy": [], "val_loss": [], "val_accuracy": []}
    ends, best, best_state, waited = [], float("inf"), None, 0
    start = time.perf_counter()
    for _ in range(20):
        net.train()
        order = torch.randperm(len(tx))
        total = correct = 0.0
        for i in range(0, len(tx), 32):
            idx = order[i:i + 32]
            opt.zero_grad()
            logits = net(tx[idx])
            loss = loss_fn(logits, ty[idx])
            (loss / len(idx)).backward()
            opt.step()
            total += float(loss.detach())
            correct += int((logits.argmax(1) == ty[idx]).sum())
        val_loss, val_accuracy = evaluate(vx, vy)
        for key, value in (("loss", total / len(tx)), ("accuracy", correct / len(tx)),
                           ("val_loss", val_loss), ("val_accuracy", val_accuracy)):
            history[key].append(value)
        ends.append(time.perf_counter() - start)
        if val_loss < best:
            best, best_state, waited = val_loss, copy.deepcopy(net.state_dict()), 0
        else:
            waited += 1
            if waited >= 2:
                break
    net.load_state_dict(best_state)
    seconds = time.perf_counter() - start
    test_loss, test_accuracy = evaluate(ex, ey)
    return _accuracy_result(history, seconds, ends, test_accuracy, test_loss)


# ---------------------------------------------------------------------- parent
def _prepare_data(folder):
    sys.path.insert(0, os.path.dirname(HERE))
    import numpy as np

    from tinyann.datasets import fashion_mnist

    (x, y), (xt, yt) = fashion_mnist.load_data()
    scale = np.float32(1 / 255)
    np.save(os.path.join(folder, "x.npy"), (x[..., None] * scale).astype("float32"))
    np.save(os.path.join(folder, "y.npy"), y)
    np.save(os.path.join(folder, "xt.npy"), (xt[..., None] * scale).astype("float32"))
    np.save(os.path.join(folder, "yt.npy"), yt)


def _limit_threads(worker, threads):
    if worker.startswith("torch"):
        import torch

        torch.set_num_threads(threads)
        return
    os.environ["TF_NUM_INTRAOP_THREADS"] = str(threads)
    from threadpoolctl import threadpool_limits

    # kept for the worker's lifetime
    _limit_threads.handle = threadpool_limits(threads, user_api="blas")


def _run(python, worker, data_dir, batches=None, threads=None):
    cmd = [python, os.path.abspath(__file__), "--worker", worker, "--data", data_dir]
    if batches is not None:
        cmd += ["--batches", str(batches)]
    if threads is not None:
        cmd += ["--threads", str(threads)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        return {"error": out.stderr.strip().splitlines()[-1] if out.stderr.strip() else
                f"exit code {out.returncode}"}
    return json.loads(out.stdout.strip().splitlines()[-1])


def _median_run(runs):
    """The median epoch and predict times of several runs (with every run kept)."""
    good = [r for r in runs if "error" not in r]
    if not good:
        return runs[0]
    result = dict(good[0])
    for key in ("fit_seconds", "epoch_seconds", "predict_seconds"):
        result[key] = statistics.median(r[key] for r in good)
    result["predict_images_per_second"] = 10_000 / result["predict_seconds"]
    if len(runs) > 1:
        result["runs"] = runs
    return result


def _line(name, r):
    if "error" in r:
        return f"{name:8s} failed: {r['error']}"
    partial = "" if r["batches"] >= TRAIN // 32 else (
        f" (extrapolated from {r['batches']} batches)")
    return (f"{name:8s} epoch {r['epoch_seconds']:6.1f} s{partial}"
            f", predict {r['predict_images_per_second']:7.0f} images/s"
            f" ({r['predict_seconds']:.2f} s for 10,000)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, help="time this many batches, not an epoch")
    parser.add_argument("--repeats", type=int, default=1,
                        help="rounds of runs taking turns; the medians are reported")
    parser.add_argument("--torch-python", default=os.environ.get("TORCH_PYTHON"))
    parser.add_argument("--keras-python", default=os.environ.get("KERAS_PYTHON"))
    parser.add_argument("--accuracy", action="store_true",
                        help="also run the 20-epoch accuracy recipe (several minutes)")
    parser.add_argument("--no-speed", action="store_true",
                        help="skip the epoch and predict timings (with --accuracy)")
    parser.add_argument("--threads", type=int,
                        help="limit BLAS / PyTorch threads to this many in every framework")
    parser.add_argument("--json", help="also write the results to this file")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.worker:
        if args.threads:
            _limit_threads(args.worker, args.threads)
        if args.worker == "torch":
            result = worker_torch(args.data, args.batches)
        elif args.worker == "accuracy":
            result = worker_accuracy(args.data)
        elif args.worker == "torch-accuracy":
            result = worker_torch_accuracy(args.data)
        else:
            result = worker_keras_like(args.worker, args.data, args.batches)
        print(json.dumps(result))
        return

    results = {"machine": {"cpus": os.cpu_count(), "load_average": os.getloadavg(),
                           "threads": args.threads}}
    with tempfile.TemporaryDirectory() as data_dir:
        _prepare_data(data_dir)
        frameworks = [] if args.no_speed else [
            ("tinyann", sys.executable), ("torch", args.torch_python),
            ("keras", args.keras_python)]
        frameworks = [(name, python) for name, python in frameworks if python]
        runs = {name: [] for name, _ in frameworks}
        for round_ in range(args.repeats):
            for name, python in frameworks:
                runs[name].append(_run(python, name, data_dir, args.batches, args.threads))
                if args.repeats > 1:
                    print(f"round {round_ + 1}: " + _line(name, runs[name][-1]), flush=True)
        for name, _ in frameworks:
            results[name] = _median_run(runs[name])
            print(_line(name, results[name]), flush=True)
        if args.accuracy:
            results["accuracy"] = _run(sys.executable, "accuracy", data_dir,
                                       threads=args.threads)
            print("accuracy", json.dumps(results["accuracy"]), flush=True)
            if args.torch_python:
                results["torch_accuracy"] = _run(args.torch_python, "torch-accuracy",
                                                 data_dir, threads=args.threads)
                print("torch accuracy", json.dumps(results["torch_accuracy"]), flush=True)
    results["machine"]["load_average_after"] = os.getloadavg()
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(results, handle, indent=2)


if __name__ == "__main__":
    main()
