"""Same-run timings of two commits of tinyann: alternating fresh processes, medians.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE \\
        python benchmarks/compare_commits.py OLD NEW [--repeats 3] [--cnn-batches N]
                                             [--only seed_fit ...] [--json F]

Each revision is exported (``git archive``) into a temporary folder and timed with its
own ``benchmarks/workloads.py`` and ``benchmarks/bench_cnn.py`` (both put their own
tree first on ``sys.path``), so each process runs exactly that commit's library. The
rounds take turns, OLD then NEW, so both see the same drift of the host's speed.
Workloads: the seed recipe's fit, the ReLU network's fit, predict on 1 and 10,000
samples, and one epoch of the textbook CNN (``--cnn-batches N``: N batches,
extrapolated to the epoch; ``--cnn-batches 0`` skips it).

Run it as a user's machine runs NumPy: with ``OPENBLAS_CORETYPE`` and
``OPENBLAS_L2_SIZE`` unset in this command only (the BLAS kernel is printed).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)

# (name shown, workload, the figure taken from its JSON line)
WORKLOADS = [("seed fit, 5 epochs (s)", "seed_fit", "fit_seconds"),
             ("ReLU net fit, 5 epochs (s)", "mlp_fit", "fit_seconds"),
             ("predict 1 sample (s)", "predict", "predict_1_seconds"),
             ("predict 10,000 (s)", "predict", "predict_10000_seconds")]


def export(rev, folder):
    """The tree of ``rev`` in ``folder`` (the library, its benchmarks)."""
    archive = subprocess.run(["git", "-C", REPO, "archive", "--format=tar", rev],
                             capture_output=True, check=True).stdout
    import io

    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(folder, filter="data")
    return folder


def workload(tree, name):
    out = subprocess.run([sys.executable, os.path.join(tree, "benchmarks", "workloads.py"),
                          "tinyann", name], capture_output=True, text=True, cwd=tree)
    if out.returncode:
        raise RuntimeError(f"{tree}: {name} failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def cnn_epoch(tree, data_dir, batches):
    cmd = [sys.executable, os.path.join(tree, "benchmarks", "bench_cnn.py"), "--worker",
           "tinyann", "--data", data_dir]
    if batches:
        cmd += ["--batches", str(batches)]
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=tree)
    if out.returncode:
        raise RuntimeError(f"{tree}: CNN epoch failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def blas():
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "threadpoolctl not installed"
    import numpy  # noqa: F401 - loads the BLAS that threadpoolctl reports

    return ", ".join(f"{i.get('internal_api')} {i.get('version')} {i.get('architecture')} "
                     f"x{i.get('num_threads')}" for i in threadpool_info())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("old")
    parser.add_argument("new")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--cnn-batches", type=int, default=None,
                        help="CNN batches to time (default: the whole epoch; 0 skips)")
    parser.add_argument("--only", choices=sorted({load for _, load, _ in WORKLOADS}),
                        nargs="+", help="time only these workloads (and the CNN unless "
                        "--cnn-batches 0)")
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args()
    workloads = [w for w in WORKLOADS if not args.only or w[1] in args.only]
    for var in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        if var in os.environ:
            print(f"warning: {var} is set: NumPy's BLAS runs slower than on a user's machine",
                  file=sys.stderr)
    print("BLAS:", blas(), flush=True)
    revs = {"old": args.old, "new": args.new}
    results = {key: {name: [] for name, _, _ in workloads} for key in revs}
    with tempfile.TemporaryDirectory() as tmp:
        trees = {key: export(rev, os.path.join(tmp, key)) for key, rev in revs.items()}
        for round_ in range(args.repeats):
            for key, tree in trees.items():
                done = {}
                for name, load, figure in workloads:
                    if load not in done:
                        done[load] = workload(tree, load)
                    results[key][name].append(done[load][figure])
                print(f"round {round_ + 1} {key}: " + ", ".join(
                    f"{n.split(' (')[0]} {v[-1]:.4g}" for n, v in results[key].items()),
                    flush=True)
        if args.cnn_batches != 0:
            data_dir = os.path.join(tmp, "cnn-data")
            os.makedirs(data_dir)
            subprocess.run([sys.executable, "-c", "import sys; sys.argv=['x']; "
                            f"sys.path.insert(0, {HERE!r}); import bench_cnn; "
                            f"bench_cnn._prepare_data({data_dir!r})"], check=True)
            name = "CNN epoch (s)"
            for key in revs:
                results[key][name] = []
            for round_ in range(args.repeats):
                for key, tree in trees.items():
                    seconds = cnn_epoch(tree, data_dir, args.cnn_batches)["epoch_seconds"]
                    results[key][name].append(seconds)
                    print(f"round {round_ + 1} {key}: CNN epoch {seconds:.2f} s", flush=True)
    print(f"\n| work | {args.old} | {args.new} | new / old |\n|---|---|---|---|")
    for name in results["old"]:
        old = statistics.median(results["old"][name])
        new = statistics.median(results["new"][name])
        print(f"| {name} | {old:.4g} | {new:.4g} | {new / old:.3f} |")
    if args.json:
        with open(args.json, "w") as handle:
            json.dump({"revs": revs, "blas": blas(), "runs": results}, handle, indent=2)


if __name__ == "__main__":
    main()
