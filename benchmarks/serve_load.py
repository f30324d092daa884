"""``tinyann serve`` under load: p50 / p99 of 200 predictions at once, per image kind, and
the server's CPU per request.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE .venv/bin/python benchmarks/serve_load.py

Starts ``tinyann serve RUN --no-test-images`` on a free port of 127.0.0.1 (RUN: a run
folder; without one, the seeds' linear model is trained for one epoch into a temporary
folder), then for each image kind sends 20 requests to warm up, 50 one at a time, and
``--rounds`` rounds of ``--requests`` at once with ``tinyann.app.loadtest``'s client, then
``--cpu-requests`` more to measure the CPU per request finely. The image kinds, made here
so every run sends the same bytes:

    png300   the load test's 300x240 PNG (a dark triangle on off-white, 1.3 KB)
    png28    a 28x28 grey PNG, light on dark, as the page's samples are
    jpeg     a 640x480 JPEG photo of the same scene with sensor-like noise (quality 90)

``--tinyann TREE`` serves another checkout's code with this client (``git archive
COMMIT | tar -x -C TREE`` for a before / after). Server CPU is user + system time of the
server and its worker processes (Linux /proc) over a round, divided by the requests;
client CPU is this process's time in the round. The load average is printed before and
after: the p99 figures mean little above ~1.5 on two cores.
"""

from __future__ import annotations

import argparse
import io
import os
import socket
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)

from tinyann.app.loadtest import run_load  # noqa: E402

KINDS = ("png300", "png28", "jpeg")


def _triangle(side):
    from PIL import Image, ImageDraw

    mask = Image.new("L", (side, side), 0)
    ImageDraw.Draw(mask).polygon([(side // 2, 0), (side - 1, side - 1), (0, side - 1)],
                                 fill=255)
    return mask


def _scene(width, height):
    """tests/app/conftest.py's photo_of_shape(3): ink on off-white, off centre."""
    from PIL import Image

    photo = Image.new("RGB", (width, height), (236, 234, 228))
    photo.paste((30, 40, 70), (width // 6, height // 8), _triangle(min(width, height) * 2 // 3))
    return photo


def image_bytes(kind: str) -> bytes:
    """The upload of one image kind (see the module's docstring)."""
    from PIL import Image

    buffer = io.BytesIO()
    if kind == "png300":
        _scene(300, 240).save(buffer, format="PNG")
    elif kind == "png28":
        item = np.asarray(_triangle(22), dtype=np.float32) * 0.8
        canvas = np.zeros((28, 28), dtype=np.float32)
        canvas[3:25, 3:25] = item
        rng = np.random.default_rng(0)
        canvas = np.clip(canvas + rng.normal(0, 8, canvas.shape), 0, 255)
        Image.fromarray(canvas.astype(np.uint8)).save(buffer, format="PNG")
    elif kind == "jpeg":
        photo = np.asarray(_scene(640, 480), dtype=np.float32)
        noisy = photo + np.random.default_rng(0).normal(0, 4, photo.shape)
        Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8)).save(
            buffer, format="JPEG", quality=90)
    else:
        raise ValueError(f"unknown image kind {kind!r}; expected one of {KINDS}")
    return buffer.getvalue()


def cpu_seconds(pid: int) -> float:
    """User + system CPU of ``pid`` and its descendants (the worker processes)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    own = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    children = []
    for task in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{task}/children") as listed:
            children += [int(child) for child in listed.read().split()]
    return own + sum(cpu_seconds(child) for child in children)


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _train(folder, env):
    subprocess.run([sys.executable, "-m", "tinyann", "train", "--out", folder, "--epochs",
                    "1", "--no-report", "--verbose", "0"], check=True,
                   stdout=subprocess.DEVNULL, env=env)
    return folder


def _wait_until_up(url, server, log, seconds=60):
    import httpx

    deadline = time.monotonic() + seconds
    while True:
        if server.poll() is not None:
            with open(log) as output:
                raise RuntimeError("the server exited: " + output.read())
        try:
            if httpx.get(url + "/api/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"the server did not start within {seconds} s")
        time.sleep(0.2)


def measure(url, pid, payload, filename, rounds, requests, concurrency, cpu_requests=0):
    """Prints one line per round; returns [(p50, p99, server ms/request)] of the rounds."""
    run_load(url, payload, filename, requests=20, concurrency=1)  # warm up
    single = run_load(url, payload, filename, requests=50, concurrency=1)
    print(f"  one at a time: p50 {single.percentile(50):.1f} ms, "
          f"p99 {single.percentile(99):.1f} ms", flush=True)
    found = []
    for index in range(rounds):
        time.sleep(0.5)  # let the previous round's connections close
        server_before, client_before = cpu_seconds(pid), time.process_time()
        result = run_load(url, payload, filename, requests=requests, concurrency=concurrency,
                          timeout=120)
        server_ms = (cpu_seconds(pid) - server_before) * 1000 / requests
        client_ms = (time.process_time() - client_before) * 1000 / requests
        lost = "" if not result.errors else f", {len(result.errors)} LOST ({result.errors[0]})"
        print(f"  {concurrency} at once, round {index + 1}: p50 {result.percentile(50):6.1f} "
              f"ms, p99 {result.percentile(99):6.1f} ms, max {max(result.latencies_ms):6.1f}"
              f" ms; CPU per request: server {server_ms:.2f} ms, client {client_ms:.2f} ms;"
              f" statuses {result.statuses}{lost}", flush=True)
        found.append((result.percentile(50), result.percentile(99), server_ms))
    if cpu_requests:  # /proc counts CPU in 10 ms ticks: many requests for a finer figure
        server_before, client_before = cpu_seconds(pid), time.process_time()
        run_load(url, payload, filename, requests=cpu_requests, concurrency=concurrency,
                 timeout=600)
        print(f"  CPU per request over {cpu_requests} more: server "
              f"{(cpu_seconds(pid) - server_before) * 1000 / cpu_requests:.3f} ms, client "
              f"{(time.process_time() - client_before) * 1000 / cpu_requests:.3f} ms",
              flush=True)
    return found


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run", nargs="?", help="a run folder (default: train the seeds' "
                        "linear model for one epoch)")
    parser.add_argument("--kinds", nargs="+", choices=KINDS, default=list(KINDS))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=200)
    parser.add_argument("--cpu-requests", type=int, default=2000,
                        help="requests after the rounds, for the CPU per request")
    parser.add_argument("--workers", type=int, default=0,
                        help="server processes (default: tinyann serve's own default)")
    parser.add_argument("--serve-option", action="append", default=[],
                        help="an extra option for tinyann serve (repeatable)")
    parser.add_argument("--tinyann", default=ROOT, metavar="TREE",
                        help="the source tree whose tinyann serves (default: this script's; "
                        "another checkout to compare commits with the same client)")
    args = parser.parse_args(argv)
    path = os.environ.get("PYTHONPATH")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([os.path.abspath(args.tinyann)]
                                                      + ([path] if path else []))}
    with tempfile.TemporaryDirectory() as scratch:
        run = args.run or _train(os.path.join(scratch, "linear"), env)
        port = _free_port()
        command = [sys.executable, "-m", "tinyann", "serve", run, "--port", str(port),
                   "--no-test-images", *(["--workers", str(args.workers)] if args.workers
                                         else []), *args.serve_option]
        log = os.path.join(scratch, "serve.log")  # a file: a full pipe would stall the server
        with open(log, "wb") as output:
            server = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT,
                                      env=env, cwd=scratch)
        url = f"http://127.0.0.1:{port}"
        try:
            _wait_until_up(url, server, log)
            print(f"load average {os.getloadavg()[0]:.2f}; {' '.join(command[1:])} "
                  f"(tinyann from {os.path.abspath(args.tinyann)})")
            for kind in args.kinds:
                payload = image_bytes(kind)
                print(f"{kind} ({len(payload)} bytes):", flush=True)
                measure(url, server.pid, payload, f"photo.{kind[:3]}", args.rounds,
                        args.requests, args.concurrency, args.cpu_requests)
            print(f"load average {os.getloadavg()[0]:.2f}")
        finally:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait(timeout=10)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
