"""A soak of ``tinyann serve``: predictions at a steady rate for a while, the server's
memory (RSS) sampled as it goes, to show whether it stays flat.

    python benchmarks/serve_soak.py RUN_DIR PHOTO --minutes 10 --rate 20 \
        --out benchmarks/serve_soak_rss.csv

Starts the server on a free port of 127.0.0.1 (``--no-test-images``), sends one request
every 1/rate seconds (waiting for each answer, so the rate is a ceiling), reads VmRSS from
/proc/PID/status of the server and its worker processes (summed) every ``--sample``
seconds, stops the server, and writes
``seconds,rss_mb,requests,errors`` rows (atomically, at the end and after each sample).
Linux only (/proc).
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import time


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def rss_mb(pid: int) -> float:
    """The resident memory of ``pid`` and all its descendants (the worker processes)."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                own = int(line.split()[1]) / 1024
                break
        else:
            raise RuntimeError(f"no VmRSS for process {pid}")
    children = []
    for task in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{task}/children") as listed:
            children += [int(child) for child in listed.read().split()]
    return own + sum(rss_mb(child) for child in children)


def _write(path, rows):
    tmp = f"{path}.tmp"
    with open(tmp, "w") as f:
        f.write("seconds,rss_mb,requests,errors\n")
        f.writelines(f"{s:.0f},{m:.1f},{n},{e}\n" for s, m, n, e in rows)
    os.replace(tmp, path)


def main(argv=None) -> int:
    import httpx

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run")
    parser.add_argument("photo")
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--rate", type=float, default=20.0, help="requests per second")
    parser.add_argument("--sample", type=float, default=10.0, help="seconds between samples")
    parser.add_argument("--out", default="serve_soak_rss.csv")
    parser.add_argument("--workers", type=int, default=0,
                        help="server processes (default: tinyann serve's own default)")
    args = parser.parse_args(argv)
    payload = open(args.photo, "rb").read()
    port = _free_port()
    server = subprocess.Popen([sys.executable, "-m", "tinyann", "serve", args.run, "--port",
                               str(port), "--no-test-images"]
                              + (["--workers", str(args.workers)] if args.workers else []),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    rows, sent, errors = [], 0, 0
    try:
        with httpx.Client(base_url=url, timeout=30) as client:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if client.get("/api/health").status_code == 200:
                        break
                except httpx.HTTPError:
                    if time.monotonic() > deadline or server.poll() is not None:
                        raise RuntimeError("the server did not start") from None
                    time.sleep(0.2)
            start = time.monotonic()
            end = start + args.minutes * 60
            next_sample = start
            while True:
                now = time.monotonic()
                if now >= next_sample:
                    rows.append((now - start, rss_mb(server.pid), sent, errors))
                    _write(args.out, rows)
                    print(f"{now - start:6.0f} s  rss {rows[-1][1]:7.1f} MB  "
                          f"requests {sent}  errors {errors}", flush=True)
                    next_sample += args.sample
                if now >= end:
                    break
                try:
                    reply = client.post("/api/predict", files={"file": ("p.png", payload)})
                    errors += reply.status_code != 200
                except httpx.HTTPError:
                    errors += 1
                sent += 1
                time.sleep(max(0.0, start + sent / args.rate - time.monotonic()))
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)
    _write(args.out, rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
