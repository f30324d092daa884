"""A bounded load client for ``tinyann serve``: N requests, C at a time, p50 / p99.

    python -m tinyann.app.loadtest http://127.0.0.1:8000 photo.jpg --requests 200

Only for servers you run yourself, on this machine: the count and a total time limit
bound every run, and it stops by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from dataclasses import dataclass

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


async def _run(url, payload, filename, requests, concurrency, timeout):
    import httpx

    gate = asyncio.Semaphore(concurrency)
    latencies, statuses, errors = [], {}, []
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, timeout=timeout, limits=limits) as client:

        async def one():
            async with gate:
                start = time.perf_counter()
                try:
                    response = await client.post("/api/predict",
                                                 files={"file": (filename, payload)})
                except httpx.HTTPError as error:
                    errors.append(f"{type(error).__name__}: {error}")
                    return
                latencies.append((time.perf_counter() - start) * 1000)
                statuses[response.status_code] = statuses.get(response.status_code, 0) + 1

        start = time.perf_counter()
        await asyncio.wait_for(asyncio.gather(*(one() for _ in range(requests))),
                               timeout=timeout)
    return LoadResult(latencies, statuses, errors, time.perf_counter() - start)


def run_load(url, payload: bytes, filename="photo.png", requests=200, concurrency=200,
             timeout=60.0) -> LoadResult:
    """Sends ``requests`` POST /api/predict, ``concurrency`` at a time; waits at most
    ``timeout`` seconds in all."""
    if not url.startswith(("http://127.", "http://localhost", "http://[::1]")):
        raise ValueError(f"the load client only targets this machine; received url={url!r}")
    def go():
        return asyncio.run(_run(url, payload, filename, requests, concurrency, timeout))

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
