"""Chapter 9's recurrent models, one epoch each, tinyann against Keras 3 (TensorFlow, JAX)
and PyTorch, in fresh processes taking turns; medians.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_rnn.py \\
        --keras-python /work/kerasenv/bin/python --torch-python /work/torchenv/bin/python

Workloads (20,000 sequences of 100 steps, batch 64, random ids in [1, 500): the timings
do not depend on the words): ``lstm`` Embedding(500, 16) + LSTM(8) + Dense(1, sigmoid)
with adam; ``gru`` the same with GRU(8); ``simple_rnn`` SimpleRNN(8) on the one-hot
input (100 x 200); ``stacked`` two LSTM(8, return_sequences=True) then LSTM(8), as the
chapter's; ``predict``: the LSTM model's inference on 25,000 sequences. The epoch is
timed after one warm-up batch (compilation and tracing are outside the figure, for
every framework alike) and includes the data pipeline each framework uses.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
WORKLOADS = ("lstm", "gru", "simple_rnn", "stacked")
N, STEPS, VOCAB, BATCH = 20_000, 100, 500, 64


def data(n, onehot=False):
    import numpy as np

    rng = np.random.default_rng(0)
    x = rng.integers(1, VOCAB, size=(n, STEPS))
    y = rng.integers(0, 2, size=n)
    if onehot:
        x = np.eye(200, dtype=np.float32)[np.minimum(x, 199)]
    return x, y


def keras_model(keras, workload):
    layers = keras.layers
    if workload == "simple_rnn":
        body = [keras.Input((STEPS, 200)), layers.SimpleRNN(8)]
    else:
        body = [keras.Input((STEPS,)), layers.Embedding(VOCAB, 16)]
        if workload == "lstm":
            body.append(layers.LSTM(8))
        elif workload == "gru":
            body.append(layers.GRU(8))
        else:
            body += [layers.LSTM(8, return_sequences=True),
                     layers.LSTM(8, return_sequences=True), layers.LSTM(8)]
    model = keras.Sequential(body + [layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    return model


def run_keras(keras, workload):
    import time

    x, y = data(N, onehot=workload == "simple_rnn")
    model = keras_model(keras, "lstm" if workload == "predict" else workload)
    model.fit(x[:BATCH], y[:BATCH], batch_size=BATCH, epochs=1, verbose=0)  # warm-up
    if workload == "predict":
        xt, _ = data(25_000)
        model.predict(xt[:BATCH], batch_size=BATCH, verbose=0)
        start = time.perf_counter()
        model.predict(xt, batch_size=BATCH, verbose=0)
        return time.perf_counter() - start
    start = time.perf_counter()
    model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0)
    return time.perf_counter() - start


def run_torch(workload):
    import time

    import numpy as np
    import torch
    from torch import nn

    torch.set_num_threads(2)
    torch.manual_seed(0)

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.onehot = workload == "simple_rnn"
            if not self.onehot:
                self.embed = nn.Embedding(VOCAB, 16)
            kind = {"gru": nn.GRU, "simple_rnn": nn.RNN}.get(workload, nn.LSTM)
            layers = 3 if workload == "stacked" else 1
            self.rnn = kind(200 if self.onehot else 16, 8, num_layers=layers, batch_first=True)
            self.out = nn.Linear(8, 1)

        def forward(self, x):
            h = x if self.onehot else self.embed(x)
            seq, _ = self.rnn(h)
            return self.out(seq[:, -1]).squeeze(1)

    x, y = data(N, onehot=workload == "simple_rnn")
    x = torch.from_numpy(x if workload == "simple_rnn" else x.astype(np.int64))
    y = torch.from_numpy(y.astype(np.float32))
    model = Net()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.BCEWithLogitsLoss()

    def epoch(count):
        order = torch.randperm(count)
        for start in range(0, count, BATCH):
            idx = order[start:start + BATCH]
            opt.zero_grad()
            loss = loss_fn(model(x[idx]), y[idx])
            loss.backward()
            opt.step()

    if workload == "predict":
        xt, _ = data(25_000)
        xt = torch.from_numpy(xt.astype(np.int64))
        model.eval()
        with torch.no_grad():
            model(xt[:BATCH])
            start = time.perf_counter()
            for i in range(0, len(xt), BATCH):
                torch.sigmoid(model(xt[i:i + BATCH]))
        return time.perf_counter() - start
    epoch(BATCH)  # warm-up
    start = time.perf_counter()
    epoch(N)
    return time.perf_counter() - start


def child(framework, workload):
    if framework == "torch":
        seconds = run_torch(workload)
    else:
        if framework == "tinyann":
            sys.path.insert(0, REPO)
            import tinyann as keras
        else:
            os.environ["KERAS_BACKEND"] = framework.split("-")[1]
            import keras
        seconds = run_keras(keras, workload)
    print(json.dumps({"seconds": seconds}))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--child", nargs=2, metavar=("FRAMEWORK", "WORKLOAD"))
    parser.add_argument("--keras-python")
    parser.add_argument("--torch-python")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--only", nargs="*", default=list(WORKLOADS) + ["predict"])
    args = parser.parse_args()
    if args.child:
        return child(*args.child)
    runners = {"tinyann": sys.executable}
    if args.keras_python:
        runners["keras-tensorflow"] = runners["keras-jax"] = args.keras_python
    if args.torch_python:
        runners["torch"] = args.torch_python
    try:
        import numpy  # noqa: F401  (loads OpenBLAS, so that threadpoolctl sees it)
        from threadpoolctl import threadpool_info

        print("BLAS:", ", ".join(f"{i['internal_api']} {i.get('architecture')}"
                                 for i in threadpool_info()))
    except ImportError:
        pass
    results = {}
    for workload in args.only:
        for r in range(args.repeats):
            for name, python in runners.items():
                out = subprocess.run([python, __file__, "--child", name, workload],
                                     capture_output=True, text=True)
                line = [s for s in out.stdout.splitlines() if s.startswith("{")]
                if not line:
                    print(f"{workload} {name}: failed\n{out.stderr[-2000:]}")
                    continue
                seconds = json.loads(line[-1])["seconds"]
                results.setdefault(workload, {}).setdefault(name, []).append(seconds)
                print(f"round {r + 1} {workload} {name}: {seconds:.2f} s", flush=True)
    print("\n| workload | " + " | ".join(runners) + " | tinyann / fastest peer |")
    print("|---" * (len(runners) + 2) + "|")
    for workload, by_name in results.items():
        medians = {n: statistics.median(v) for n, v in by_name.items()}
        peers = [v for n, v in medians.items() if n != "tinyann"]
        ratio = f"{medians['tinyann'] / min(peers):.2f}" if peers and "tinyann" in medians \
            else "-"
        cells = " | ".join(f"{medians[n]:.2f}" if n in medians else "-" for n in runners)
        print(f"| {workload} | {cells} | {ratio} |")


if __name__ == "__main__":
    main()
