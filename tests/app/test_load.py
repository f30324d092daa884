"""200 concurrent predictions against a server in its own process: none lost.

Latencies are printed (p50 / p99), never asserted: timings depend on the machine.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import httpx
import pytest

from tinyann.app.loadtest import run_load


def _free_port():
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def server_process(tiny_run):
    """``tinyann serve`` of the tiny run in its own process on a free port; stopped after."""
    port = _free_port()
    command = [sys.executable, "-m", "tinyann", "serve", tiny_run, "--port", str(port),
               "--no-test-images"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               env={**os.environ, "PYTHONUNBUFFERED": "1"})
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise RuntimeError("the server exited: " + process.stdout.read().decode())
            try:
                if httpx.get(url + "/api/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the server did not start within 30 s")
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def test_two_hundred_concurrent_requests_all_answered(server_process, images, tmp_path,
                                                      capsys):
    with open(images.photo_of_shape(3, tmp_path / "triangle.png"), "rb") as handle:
        payload = handle.read()
    sequential = run_load(server_process, payload, requests=50, concurrency=1, timeout=60)
    burst = run_load(server_process, payload, requests=200, concurrency=200, timeout=120)
    with capsys.disabled():
        print(f"\n  load, one at a time: {sequential.summary()}"
              f"\n  load, 200 at once:   {burst.summary()}")
    assert burst.errors == [] and sequential.errors == []
    assert burst.statuses == {200: 200}
    assert sequential.statuses == {200: 50}


def test_load_client_refuses_other_hosts():
    with pytest.raises(ValueError, match="only targets this machine"):
        run_load("http://example.com", b"", requests=1)


def test_answers_are_read_whole_or_reported_incomplete():
    import asyncio

    from tinyann.app.loadtest import _answer

    whole = bytearray(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}")
    assert _answer(whole, ended=False) == (200, b"{}")
    short = bytearray(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n{}")
    assert _answer(short, ended=False) is None
    with pytest.raises(asyncio.IncompleteReadError):
        _answer(short, ended=True)
    unsized = bytearray(b"HTTP/1.1 400 Bad Request\r\n\r\nabc")
    assert _answer(unsized, ended=False) is None  # its body ends with the connection
    assert _answer(unsized, ended=True) == (400, b"abc")
    with pytest.raises(asyncio.IncompleteReadError):
        _answer(bytearray(b"HTTP/1.1 200"), ended=True)


def test_refused_connections_are_counted_as_lost():
    result = run_load(f"http://127.0.0.1:{_free_port()}", b"x", requests=3, concurrency=3,
                      timeout=30)
    assert result.answered == 0 and len(result.errors) == 3
    assert all(error.startswith("ConnectionRefusedError") for error in result.errors)
