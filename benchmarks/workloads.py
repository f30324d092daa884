"""One benchmark measurement per process: ``python workloads.py FRAMEWORK WORKLOAD``.

Prints one JSON line. FRAMEWORK is ``tinyann``, ``keras`` (Keras 3, any backend) or
``torch`` (a plain PyTorch loop doing the same work); each runs in whatever Python
has it installed, so tinyann's environment never needs TensorFlow or PyTorch.
WORKLOAD: ``seed_fit`` (Input(784) -> Dense(10, softmax), RMSprop, 5 epochs, batch 32
on the seeds' 48,000-image split), ``mlp_fit`` (Flatten -> Dense(100, relu) ->
Dense(10, softmax), Adam, 5 epochs), ``predict`` (the seed model: one sample, and
10,000 samples).
"""

from __future__ import annotations

import json
import resource
import sys
import time

import numpy as np


def load_split(flat):
    """Fashion-MNIST / 255 and the seeds' split (train_test_split 0.2, random_state 42)."""
    sys.path.insert(0, __file__.rsplit("/", 2)[0])
    from tinyann.datasets import fashion_mnist  # reads files only; no tinyann model code

    (x, y), (xt, yt) = fashion_mnist.load_data()
    x = x / 255.0
    xt = xt / 255.0
    if flat:
        x, xt = x.reshape(-1, 784), xt.reshape(-1, 784)
    rng = np.random.RandomState(42)
    # the same permutation as sklearn's ShuffleSplit(test_size=0.2, random_state=42)
    perm = rng.permutation(len(x))
    val, train = perm[:12000], perm[12000:]
    return x[train], y[train], x[val], y[val], xt, yt


def _keras_like(module, flat, optimizer):
    layers = module.layers
    if flat:
        model = module.Sequential([module.Input((784,)), layers.Dense(10, activation="softmax")])
    else:
        model = module.Sequential([module.Input((28, 28)), layers.Flatten(),
                                   layers.Dense(100, activation="relu"),
                                   layers.Dense(10, activation="softmax")])
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def keras_like_fit(module, flat, optimizer):
    x, y, vx, vy, _, _ = load_split(flat)
    module.utils.set_random_seed(42)
    model = _keras_like(module, flat, optimizer)
    start = time.perf_counter()
    model.fit(x, y, epochs=5, batch_size=32, verbose=0)
    seconds = time.perf_counter() - start
    loss, acc = model.evaluate(vx, vy, verbose=0)
    return {"fit_seconds": seconds, "val_accuracy": float(acc)}


def keras_like_predict(module):
    x, y, vx, vy, xt, _ = load_split(True)
    model = _keras_like(module, True, "rmsprop")
    one, many = xt[:1], xt[:10000]
    model.predict(one, verbose=0)
    model.predict(many, verbose=0)
    times1 = []
    for _ in range(200):
        start = time.perf_counter()
        model.predict(one, verbose=0)
        times1.append(time.perf_counter() - start)
    times_many = []
    for _ in range(20):
        start = time.perf_counter()
        model.predict(many, verbose=0)
        times_many.append(time.perf_counter() - start)
    return {"predict_1_seconds": float(np.median(times1)),
            "predict_10000_seconds": float(np.median(times_many))}


def torch_fit(flat, optimizer):
    import torch

    torch.manual_seed(42)
    x, y, vx, vy, _, _ = load_split(flat)
    x = torch.tensor(x.reshape(len(x), -1), dtype=torch.float32)
    y = torch.tensor(y, dtype=torch.long)
    if flat:
        net = torch.nn.Linear(784, 10)
    else:
        net = torch.nn.Sequential(torch.nn.Linear(784, 100), torch.nn.ReLU(),
                                  torch.nn.Linear(100, 10))
    if optimizer == "rmsprop":
        opt = torch.optim.RMSprop(net.parameters(), lr=1e-3, alpha=0.9, eps=1e-7)
    else:
        opt = torch.optim.Adam(net.parameters(), lr=1e-3, eps=1e-7)
    loss_fn = torch.nn.CrossEntropyLoss()
    start = time.perf_counter()
    for _ in range(5):
        order = torch.randperm(len(x))
        for i in range(0, len(x), 32):
            idx = order[i:i + 32]
            opt.zero_grad()
            loss = loss_fn(net(x[idx]), y[idx])
            loss.backward()
            opt.step()
    seconds = time.perf_counter() - start
    with torch.no_grad():
        pred = net(torch.tensor(vx.reshape(len(vx), -1), dtype=torch.float32)).argmax(1)
    return {"fit_seconds": seconds, "val_accuracy": float((pred.numpy() == vy).mean())}


def main(framework, workload):
    if framework == "torch":
        result = {"seed_fit": lambda: torch_fit(True, "rmsprop"),
                  "mlp_fit": lambda: torch_fit(False, "adam")}[workload]()
    else:
        if framework == "tinyann":
            sys.path.insert(0, __file__.rsplit("/", 2)[0])
            import tinyann as module
        else:
            import keras as module
        result = {"seed_fit": lambda: keras_like_fit(module, True, "rmsprop"),
                  "mlp_fit": lambda: keras_like_fit(module, False, "adam"),
                  "predict": lambda: keras_like_predict(module)}[workload]()
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
