"""The floor under the seed recipe's fit: the same arithmetic as a bare NumPy loop.

    python benchmarks/bare_numpy_loop.py [--repeats 3]

Input(784) -> Dense(10, softmax), sparse cross-entropy, RMSprop (Keras's defaults),
5 epochs of batch 32 over the seeds' 48,000 training images, written as the fewest
NumPy calls we know per step (about 20: gather, two products, softmax, the fused
gradient, nine RMSprop passes) with no framework around them: no callbacks, no
checks, no loss bookkeeping, inputs already float32, every buffer preallocated.
tinyann's ``fit`` cannot be faster than this loop on the same machine, so its time
is the lower bound for the ``seed_fit`` target. Prints one JSON line: the median
and each run's seconds (fit only), and the validation accuracy of the last run.
Never part of the test suite.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from workloads import load_split  # noqa: E402


def train(x, y, rng, epochs=5, batch=32, lr=0.001, rho=0.9, eps=1e-7):
    """Five epochs; returns (kernel^T (10, 784), bias (10, 1))."""
    n = len(x)
    params = np.zeros(7850, np.float32)
    kernel_t = params[:7840].reshape(10, 784)  # stored transposed, as tinyann does
    bias = params[7840:].reshape(10, 1)
    limit = np.sqrt(6 / (784 + 10))  # glorot uniform
    kernel_t[...] = rng.uniform(-limit, limit, (10, 784))
    grads = np.zeros_like(params)
    grad_k, grad_b = grads[:7840].reshape(10, 784), grads[7840:].reshape(10, 1)
    velocity, tmp = np.zeros_like(params), np.empty_like(params)
    xb = np.empty((batch, 784), np.float32)
    z = np.empty((10, batch), np.float32)
    peak, total = np.empty((1, batch), np.float32), np.empty((1, batch), np.float32)
    columns = np.arange(batch)
    c_rho, c_one_minus, c_eps, c_lr = (np.float32(v) for v in (rho, 1 - rho, eps, lr))
    c_scale = np.float32(1 / batch)
    for _ in range(epochs):
        order = rng.permutation(n)
        for start in range(0, n - n % batch, batch):
            rows = order[start:start + batch]
            np.take(x, rows, axis=0, out=xb, mode="clip")
            labels = y[rows]
            np.matmul(kernel_t, xb.T, out=z)
            np.add(z, bias, out=z)
            np.max(z, axis=0, keepdims=True, out=peak)
            np.subtract(z, peak, out=z)
            np.exp(z, out=z)
            np.sum(z, axis=0, keepdims=True, out=total)
            np.divide(z, total, out=z)
            z[labels, columns] -= 1  # dL/dz = (p - onehot) / batch
            np.multiply(z, c_scale, out=z)
            np.matmul(z, xb, out=grad_k)
            np.sum(z, axis=1, keepdims=True, out=grad_b)
            np.multiply(grads, grads, out=tmp)
            np.multiply(tmp, c_one_minus, out=tmp)
            np.multiply(velocity, c_rho, out=velocity)
            np.add(velocity, tmp, out=velocity)
            np.add(velocity, c_eps, out=tmp)
            np.sqrt(tmp, out=tmp)
            np.divide(grads, tmp, out=tmp)
            np.multiply(tmp, c_lr, out=tmp)
            np.subtract(params, tmp, out=params)
    return kernel_t, bias


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    x, y, vx, vy, _, _ = load_split(True)
    x, vx = x.astype(np.float32), vx.astype(np.float32)
    # subnormal velocities slow RMSprop down 40x; tinyann's fit flushes them too
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    from tinyann.utils.denormals import flush_denormals

    seconds = []
    for repeat in range(args.repeats):
        rng = np.random.default_rng(repeat)
        with flush_denormals():
            start = time.perf_counter()
            kernel_t, bias = train(x, y, rng)
            seconds.append(time.perf_counter() - start)
    accuracy = float(((vx @ kernel_t.T + bias.T).argmax(axis=1) == vy).mean())
    print(json.dumps({"fit_seconds": statistics.median(seconds), "runs": seconds,
                      "val_accuracy": accuracy}))


if __name__ == "__main__":
    main()
