"""A bounded load client for ``tinyann serve``: N requests, C at a time, p50 / p99.

    python -m tinyann.app.loadtest http://127.0.0.1:8000 photo.jpg --requests 200

Only for servers you run yourself, on this machine: the count and a total time limit
bound every run, and it stops by itself.

The client speaks plain HTTP/1.1 with an asyncio protocol (on uvloop when installed) and
builds the multipart request once: it runs on the same cores as the server, and a
general-purpose client (httpx spent about 5 ms of CPU per request with 200 connections
open) would measure itself.
Each request opens its own connection, as 200 separate users do, and its latency runs
from the connect to the last byte of the answer.
"""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid
from dataclasses import dataclass
from urllib.parse import urlsplit

import numpy as np


@dataclass
class LoadResult:
    """Latencies in milliseconds of the answered requests, and what went wrong."""

    latencies_ms: list
    statuses: dict
    errors: list
    seconds: float

    @property
    def answered(self) -> int:
        return len(self.latencies_ms)

    def percentile(self, q) -> float:
        return float(np.percentile(self.latencies_ms, q)) if self.latencies_ms else float("nan")

    def summary(self) -> str:
        return (f"{self.answered} answered ({self.statuses}), {len(self.errors)} lost, in "
                f"{self.seconds:.2f} s: p50 {self.percentile(50):.1f} ms, "
                f"p99 {self.percentile(99):.1f} ms, max {max(self.latencies_ms, default=0):.1f} ms")


def upload_request(host: str, port: int, payload: bytes, filename: str) -> bytes:
    """The raw bytes of ``POST /api/predict`` with ``payload`` as the multipart ``file``."""
    boundary = uuid.uuid4().hex
    safe_name = filename.replace('"', "").replace("\r", "").replace("\n", "")
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
            f"filename=\"{safe_name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
            ).encode() + payload + f"\r\n--{boundary}--\r\n".encode()
    head = (f"POST /api/predict HTTP/1.1\r\nHost: {host}:{port}\r\n"
            f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode()
    return head + body


class _Exchange(asyncio.Protocol):
    """One request on its own connection: sends it, collects the answer, sets ``done`` to
    (status, body). A protocol rather than streams: a third of the client's CPU."""

    def __init__(self, request: bytes, done: asyncio.Future):
        self.request, self.done, self.data = request, done, bytearray()
        self.transport = None

    def connection_made(self, transport):
        self.transport = transport
        transport.write(self.request)

    def data_received(self, data):
        self.data += data
        answer = _answer(self.data, ended=False)
        if answer is not None and not self.done.done():
            self.done.set_result(answer)
            self.transport.close()

    def connection_lost(self, error):
        if self.done.done():
            return
        try:
            if error is not None:
                raise error
            self.done.set_result(_answer(self.data, ended=True))
        except (OSError, asyncio.IncompleteReadError, ValueError, IndexError) as problem:
            self.done.set_exception(problem)


def _answer(data: bytearray, ended: bool) -> tuple[int, bytes] | None:
    """(status, body) once ``data`` holds a whole answer; None while more is to come.
    Raises IncompleteReadError when the connection ``ended`` before that."""
    end = data.find(b"\r\n\r\n")
    if end >= 0:
        lines = bytes(data[:end]).decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        length = next((int(line.split(":", 1)[1]) for line in lines[1:]
                       if line.lower().startswith("content-length:")), None)
        body = bytes(data[end + 4:])
        if length is not None and len(body) >= length:
            return status, body[:length]
        if length is None and ended:  # the body runs to the end of the connection
            return status, body
    if ended:
        raise asyncio.IncompleteReadError(bytes(data), None)
    return None


async def _post(host, port, request: bytes) -> tuple[int, bytes]:
    """Sends one raw request on a new connection; returns (status, body)."""
    loop = asyncio.get_running_loop()
    done = loop.create_future()
    transport, _ = await loop.create_connection(lambda: _Exchange(request, done), host, port)
    try:
        return await done
    finally:
        transport.close()


async def _run(host, port, request, requests, concurrency, timeout):
    gate = asyncio.Semaphore(concurrency)
    latencies, statuses, errors = [], {}, []

    async def one():
        async with gate:
            start = time.perf_counter()
            try:
                status, _ = await _post(host, port, request)
            except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError,
                    ValueError, IndexError) as error:
                errors.append(f"{type(error).__name__}: {error}")
                return
            latencies.append((time.perf_counter() - start) * 1000)
            statuses[status] = statuses.get(status, 0) + 1

    start = time.perf_counter()
    await asyncio.wait_for(asyncio.gather(*(one() for _ in range(requests))), timeout=timeout)
    return LoadResult(latencies, statuses, errors, time.perf_counter() - start)


def _new_loop():
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


def run_load(url, payload: bytes, filename="photo.png", requests=200, concurrency=200,
             timeout=60.0) -> LoadResult:
    """Sends ``requests`` POST /api/predict, ``concurrency`` at a time; waits at most
    ``timeout`` seconds in all."""
    if not url.startswith(("http://127.", "http://localhost", "http://[::1]")):
        raise ValueError(f"the load client only targets this machine; received url={url!r}")
    parts = urlsplit(url)
    host, port = parts.hostname, parts.port or 80
    request = upload_request(host, port, payload, filename)

    def go():
        # uvloop when it is there (the app extra has it): the client shares the cores
        # with the server, and uvloop halves its CPU
        loop = _new_loop()
        try:
            return loop.run_until_complete(_run(host, port, request, requests, concurrency,
                                                timeout))
        finally:
            loop.close()

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return go()
    # called from inside an event loop (Playwright's sync API keeps one): use a thread
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(go).result()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tinyann.app.loadtest",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("url")
    parser.add_argument("image")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=200)
    args = parser.parse_args(argv)
    with open(args.image, "rb") as handle:
        payload = handle.read()
    for concurrency in sorted({1, args.concurrency}):
        result = run_load(args.url, payload, requests=args.requests, concurrency=concurrency)
        print(f"concurrency {concurrency}: {result.summary()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
