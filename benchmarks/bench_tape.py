"""The GradientTape training loop against `fit`, and a custom keras.ops layer in `fit`:
tinyann beside Keras 3 (TensorFlow, JAX) and PyTorch, one epoch of Fashion-MNIST each,
in fresh processes taking turns; medians.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE .venv/bin/python benchmarks/bench_tape.py \\
        --keras-python /work/kerasenv/bin/python --torch-python /work/torchenv/bin/python

Workloads (60,000 training images / 255, batch 32, Adam, no shuffling, 1,875 steps):

- ``fit``: the textbook ReLU network, Flatten -> Dense(100, relu) -> Dense(10, softmax),
  trained by ``model.fit``;
- ``tape``: the same model and steps as TensorFlow's custom training loop:
  ``model(x, training=True)`` and the loss on a GradientTape, ``tape.gradient``,
  ``optimizer.apply_gradients``. Keras on TensorFlow runs the step under
  ``@tf.function``; on JAX it is ``jax.jit`` of ``stateless_call`` +
  ``stateless_apply`` (JAX has no tape); PyTorch runs its usual loop (``backward``,
  ``step``) for both ``fit`` and ``tape``;
- ``ops``: Flatten -> Dense(100) -> ``CenterNormSplit`` -> Dense(10, softmax) by ``fit``,
  where ``CenterNormSplit`` is a user's layer written only in ``keras.ops`` (centre the
  features, L2-normalise them, concatenate ``relu(x)`` and ``relu(-x)``: 200 features);
- ``ops_base``: the same network without that layer (Dense(100) -> Dense(10, softmax)).

Each epoch is timed after one warm-up batch (tracing and compilation are outside the
figure, for every framework alike).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
DATA = "/usr/share/datasets/fashion-mnist"
WORKLOADS = ("fit", "tape", "ops", "ops_base")
BATCH = 32


def data():
    """Fashion-MNIST's training set from its IDX files: (60000, 28, 28) float32 / 255."""
    import numpy as np

    with gzip.open(os.path.join(DATA, "train-images-idx3-ubyte.gz")) as f:
        x = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 28, 28)
    with gzip.open(os.path.join(DATA, "train-labels-idx1-ubyte.gz")) as f:
        y = np.frombuffer(f.read(), np.uint8, offset=8).astype("int64")
    return (x / np.float32(255)).astype("float32"), y


def custom_layer(keras):
    """The user's layer, in keras.ops only (the same source for tinyann and Keras)."""
    ops = keras.ops

    class CenterNormSplit(keras.layers.Layer):
        def call(self, x):
            x = x - ops.mean(x, axis=-1, keepdims=True)
            x = x / ops.sqrt(ops.sum(ops.square(x), axis=-1, keepdims=True) + 1e-12)
            return ops.concatenate([ops.relu(x), ops.relu(-x)], axis=-1)

        def compute_output_shape(self, input_shape):
            return tuple(input_shape[:-1]) + (2 * input_shape[-1],)

    return CenterNormSplit()


def keras_model(keras, workload):
    layers = keras.layers
    if workload in ("fit", "tape"):
        body = [layers.Dense(100, activation="relu")]
    elif workload == "ops":
        body = [layers.Dense(100), custom_layer(keras)]
    else:
        body = [layers.Dense(100)]
    return keras.Sequential([keras.Input((28, 28)), layers.Flatten(), *body,
                             layers.Dense(10, activation="softmax")])


def run_keras(keras, workload, backend):
    import time

    keras.utils.set_random_seed(0)
    x, y = data()
    model = keras_model(keras, workload)
    if workload != "tape":
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        model.fit(x[:BATCH], y[:BATCH], batch_size=BATCH, epochs=1, verbose=0)  # warm-up
        start = time.perf_counter()
        model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0, shuffle=False)
        return time.perf_counter() - start
    step = tape_step(keras, model, backend)
    step(x[:BATCH], y[:BATCH])  # warm-up (tracing)
    start = time.perf_counter()
    for i in range(0, len(x), BATCH):
        step(x[i:i + BATCH], y[i:i + BATCH])
    return time.perf_counter() - start


def tape_step(keras, model, backend):
    """One training step as the backend's custom loop writes it: ``step(x, y)``."""
    loss_fn = keras.losses.SparseCategoricalCrossentropy()
    optimizer = keras.optimizers.Adam()
    if backend in ("tinyann", "tensorflow"):
        if backend == "tinyann":
            from tinyann.autodiff import GradientTape
        else:
            import tensorflow as tf

            GradientTape = tf.GradientTape  # noqa: N806

        def step(x, y):
            with GradientTape() as tape:
                loss = loss_fn(y, model(x, training=True))
            grads = tape.gradient(loss, model.trainable_weights)
            optimizer.apply_gradients(zip(grads, model.trainable_weights))
            return loss
        return tf.function(step) if backend == "tensorflow" else step
    import jax

    optimizer.build(model.trainable_variables)

    def compute_loss(trainable, non_trainable, x, y):
        pred, non_trainable = model.stateless_call(trainable, non_trainable, x, training=True)
        return loss_fn(y, pred), non_trainable

    grad_fn = jax.value_and_grad(compute_loss, has_aux=True)

    @jax.jit
    def jax_step(state, x, y):
        trainable, non_trainable, opt_vars = state
        (loss, non_trainable), grads = grad_fn(trainable, non_trainable, x, y)
        trainable, opt_vars = optimizer.stateless_apply(opt_vars, grads, trainable)
        return loss, (trainable, non_trainable, opt_vars)

    state = [[v.value for v in model.trainable_variables],
             [v.value for v in model.non_trainable_variables],
             [v.value for v in optimizer.variables]]

    def step(x, y):
        loss, new = jax_step(state, x, y)
        state[:] = new
        return loss
    return step


def run_torch(workload):
    import time

    import torch
    from torch import nn

    if workload != "fit" and workload != "tape":
        raise SystemExit("torch runs fit and tape only")
    torch.set_num_threads(int(os.environ.get("BENCH_THREADS", "2")))
    torch.manual_seed(0)
    x, y = data()
    x, y = torch.from_numpy(x), torch.from_numpy(y)
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 100), nn.ReLU(), nn.Linear(100, 10))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
    loss_fn = nn.CrossEntropyLoss()  # softmax + cross-entropy on the logits

    def step(xb, yb):
        opt.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        opt.step()

    step(x[:BATCH], y[:BATCH])
    start = time.perf_counter()
    for i in range(0, len(x), BATCH):
        step(x[i:i + BATCH], y[i:i + BATCH])
    return time.perf_counter() - start


def interleaved(steps, rounds):
    """tinyann alone, in this process: ``steps`` steps of each workload in turn,
    ``rounds`` times; the median of each. On a machine shared with other work, the
    ratios drift less this way than across fresh processes minutes apart."""
    import statistics
    import time

    sys.path.insert(0, os.environ.get("BENCH_TINYANN_TREE", REPO))
    import tinyann as keras

    keras.utils.set_random_seed(0)
    x, y = data()
    n = steps * BATCH
    runs = {}
    for workload in WORKLOADS:
        model = keras_model(keras, workload)
        if workload == "tape":
            step = tape_step(keras, model, "tinyann")

            def run(step=step):
                for i in range(0, n, BATCH):
                    step(x[i:i + BATCH], y[i:i + BATCH])
        else:
            model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")

            def run(model=model):
                model.fit(x[:n], y[:n], batch_size=BATCH, epochs=1, verbose=0, shuffle=False)
        run()  # warm-up
        runs[workload] = run
    times = {w: [] for w in runs}
    cpu = {w: [] for w in runs}   # the process's CPU time (fit's batch thread included)
    for _ in range(rounds):
        for workload, run in runs.items():
            start, start_cpu = time.perf_counter(), time.process_time()
            run()
            cpu[workload].append((time.process_time() - start_cpu) / steps * 1e6)
            times[workload].append((time.perf_counter() - start) / steps * 1e6)
    for label, measured in (("wall", times), ("cpu", cpu)):
        med = {w: statistics.median(t) for w, t in measured.items()}
        print(f"{label}: " + " ".join(f"{w} {v:.0f} us/step" for w, v in med.items()))
        print(f"{label}: tape / fit {med['tape'] / med['fit']:.2f}, ops / ops_base "
              f"{med['ops'] / med['ops_base']:.2f}")


def child(framework, workload):
    if framework == "torch":
        seconds = run_torch(workload)
    elif framework.startswith("tinyann"):
        # --baseline: another tree of tinyann (an exported commit) in the same rounds
        sys.path.insert(0, os.environ.get("BENCH_TINYANN_TREE", REPO))
        import tinyann as keras

        seconds = run_keras(keras, workload, "tinyann")
    else:
        backend = framework.split("-")[1]
        os.environ["KERAS_BACKEND"] = backend
        import keras

        seconds = run_keras(keras, workload, backend)
    print(json.dumps({"seconds": seconds}))


def blas() -> str:
    try:
        import numpy  # noqa: F401  (loads OpenBLAS, so that threadpoolctl sees it)
        from threadpoolctl import threadpool_info
    except ImportError:
        return "unknown"
    return ", ".join(f"{i['internal_api']} {i.get('version')} {i.get('architecture')}"
                     for i in threadpool_info())


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--child", nargs=2, metavar=("FRAMEWORK", "WORKLOAD"))
    parser.add_argument("--keras-python")
    parser.add_argument("--torch-python")
    parser.add_argument("--no-jax", action="store_true")
    parser.add_argument("--baseline", metavar="TREE",
                        help="also time the tinyann in TREE (e.g. `git archive` of a commit)")
    parser.add_argument("--threads", type=int,
                        help="threads per framework (BLAS, PyTorch, TensorFlow, XLA); on a "
                        "machine shared with other work, 1 avoids the spinning of idle "
                        "threads that made 2-thread runs 10-20x slower")
    parser.add_argument("--frameworks", nargs="*",
                        help="only these of tinyann, tinyann-baseline, keras-tensorflow, "
                        "keras-jax, torch")
    parser.add_argument("--interleaved", nargs=2, type=int, metavar=("STEPS", "ROUNDS"),
                        help="tinyann only, one process: STEPS steps of each workload in "
                        "turn, ROUNDS times; medians of wall and CPU time")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--only", nargs="*", default=list(WORKLOADS))
    args = parser.parse_args()
    if args.child:
        return child(*args.child)
    if args.interleaved:
        if args.threads:   # before NumPy loads its BLAS
            for key in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
                os.environ[key] = str(args.threads)
        return interleaved(*args.interleaved)
    runners = {"tinyann": sys.executable}
    if args.baseline:
        runners["tinyann-baseline"] = sys.executable
    if args.keras_python:
        runners["keras-tensorflow"] = args.keras_python
        if not args.no_jax:
            runners["keras-jax"] = args.keras_python
    if args.torch_python:
        runners["torch"] = args.torch_python
    if args.frameworks:
        runners = {n: p for n, p in runners.items() if n in args.frameworks}
    import numpy

    print(f"Python {sys.version.split()[0]}, NumPy {numpy.__version__}, BLAS: {blas()}, "
          f"threads: {args.threads or 'default'}")
    results = {}
    for r in range(args.repeats):
        for workload in args.only:   # tinyann's workloads take turns with each other too
            for name, python in runners.items():
                if name == "torch" and workload not in ("fit", "tape"):
                    continue
                env = dict(os.environ)
                if args.threads:
                    n = str(args.threads)
                    env.update(BENCH_THREADS=n, OMP_NUM_THREADS=n, OPENBLAS_NUM_THREADS=n,
                               MKL_NUM_THREADS=n, TF_NUM_INTRAOP_THREADS=n,
                               TF_NUM_INTEROP_THREADS=n)
                    if args.threads == 1:
                        env["XLA_FLAGS"] = ("--xla_cpu_multi_thread_eigen=false "
                                            "intra_op_parallelism_threads=1")
                if name == "tinyann-baseline":
                    env["BENCH_TINYANN_TREE"] = os.path.abspath(args.baseline)
                out = subprocess.run([python, __file__, "--child", name, workload],
                                     capture_output=True, text=True, env=env)
                line = [s for s in out.stdout.splitlines() if s.startswith("{")]
                if not line:
                    print(f"{workload} {name}: failed\n{out.stderr[-2000:]}")
                    continue
                seconds = json.loads(line[-1])["seconds"]
                results.setdefault(workload, {}).setdefault(name, []).append(seconds)
                print(f"round {r + 1} {workload} {name}: {seconds:.3f} s "
                      f"({seconds / (60000 // BATCH) * 1e6:.0f} us/step)", flush=True)
    steps = 60000 // BATCH
    print("\nmedian us/step")
    print("| workload | " + " | ".join(runners) + " |")
    print("|---" * (len(runners) + 1) + "|")
    medians = {}
    for workload, by_name in results.items():
        medians[workload] = {n: statistics.median(v) / steps * 1e6 for n, v in by_name.items()}
        cells = " | ".join(f"{medians[workload][n]:.0f}" if n in medians[workload] else "-"
                           for n in runners)
        print(f"| {workload} | {cells} |")
    t = {w: m.get("tinyann") for w, m in medians.items()}
    base = {w: m.get("tinyann-baseline") for w, m in medians.items()}
    if base.get("tape") and base.get("fit"):
        print(f"baseline tape / fit: {base['tape'] / base['fit']:.2f}")
    if t.get("tape") and t.get("fit"):
        print(f"tinyann tape / fit: {t['tape'] / t['fit']:.2f}")
    if t.get("ops") and t.get("ops_base"):
        print(f"tinyann ops / ops_base: {t['ops'] / t['ops_base']:.2f}")
    tf_ops = medians.get("ops", {}).get("keras-tensorflow")
    if t.get("ops") and tf_ops:
        print(f"tinyann ops / Keras-TensorFlow ops: {t['ops'] / tf_ops:.2f}")


if __name__ == "__main__":
    main()
