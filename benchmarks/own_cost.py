"""The client's own Python per call: the CPU a call costs with gRPC taken out.

Against a real etcd the cost of gRPC and of the loop dwarfs the client's own work and
moves with the machine; here each client first makes real calls (connected, versions
known, every code path loaded), then its gRPC callables are replaced by stubs that return
the answer the server gave. What remains per call is the client's own work: checking the
arguments, building the request, the deadline, the retry loop, and decoding the answer.
The same stub called directly is the floor that is subtracted.

    python benchmarks/own_cost.py --calls 20000 --rounds 5 [--write]
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import statistics
import time
from collections.abc import Callable
from typing import Any

from results import write_section

import etcd
from etcd.testing import EtcdServer

VALUE = b"v" * 100


def sync_rows(client: etcd.Client) -> dict[str, Callable[[], object]]:
    return {"range": lambda: client.range(b"/own/k"), "put": lambda: client.put(b"/own/k", VALUE)}


def async_rows(client: etcd.AsyncClient) -> dict[str, Callable[[], Any]]:
    return {"range": lambda: client.range(b"/own/k"), "put": lambda: client.put(b"/own/k", VALUE)}


def stub_sync(client: etcd.Client) -> Callable[[], object]:
    """Replace the client's gRPC callables by stubs answering what the server answered."""
    answers: dict[str, Any] = {}
    transport = client._transport
    real = transport._callable

    def recording(endpoint: Any, method: Any) -> Any:
        call = real(endpoint, method)

        def record(request: Any, **options: Any) -> Any:
            answers[method.path] = call(request, **options)
            return answers[method.path]

        return record

    transport._callable = recording  # type: ignore[method-assign]
    for call in sync_rows(client).values():
        call()

    def stub(endpoint: Any, method: Any) -> Any:
        answer = answers[method.path]
        return lambda request, **options: answer

    transport._callable = stub  # type: ignore[method-assign]
    floor = stub(None, type("M", (), {"path": "/etcdserverpb.KV/Range"})())
    return lambda: floor(None, timeout=30)


async def stub_async(client: etcd.AsyncClient) -> Callable[[], Any]:
    answers: dict[str, Any] = {}
    transport = client._transport
    real = transport._callable

    def recording(endpoint: Any, method: Any) -> Any:
        call = real(endpoint, method)

        async def record(request: Any, **options: Any) -> Any:
            answers[method.path] = await call(request, **options)
            return answers[method.path]

        return record

    transport._callable = recording  # type: ignore[method-assign]
    for call in async_rows(client).values():
        await call()

    def stub(endpoint: Any, method: Any) -> Any:
        answer = answers[method.path]

        async def answered(request: Any, **options: Any) -> Any:
            return answer

        return answered

    transport._callable = stub  # type: ignore[method-assign]
    floor = stub(None, type("M", (), {"path": "/etcdserverpb.KV/Range"})())
    return lambda: floor(None, timeout=30)


def cpu_per_call(call: Callable[[], object], calls: int) -> float:
    started = time.process_time()
    for _ in range(calls):
        call()
    return (time.process_time() - started) / calls * 1e6


async def cpu_per_async_call(call: Callable[[], Any], calls: int) -> float:
    started = time.process_time()
    for _ in range(calls):
        await call()
    return (time.process_time() - started) / calls * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--write", action="store_true", help="update benchmarks/RESULTS.md")
    args = parser.parse_args()
    own: dict[str, list[float]] = {}
    with EtcdServer() as server:
        with etcd.Client(endpoints=[server.endpoint], timeout=30) as client:
            floor = stub_sync(client)
            for _ in range(args.rounds):
                base = cpu_per_call(floor, args.calls)
                for name, call in sync_rows(client).items():
                    own.setdefault(f"etcd.Client.{name}", []).append(
                        cpu_per_call(call, args.calls) - base
                    )

        async def asynchronous() -> None:
            async with etcd.AsyncClient(endpoints=[server.endpoint], timeout=30) as client:
                floor = await stub_async(client)
                for _ in range(args.rounds):
                    base = await cpu_per_async_call(floor, args.calls)
                    for name, call in async_rows(client).items():
                        own.setdefault(f"etcd.AsyncClient.{name}", []).append(
                            await cpu_per_async_call(call, args.calls) - base
                        )

        asyncio.run(asynchronous())
    lines = [
        "## The client's own Python per call",
        "",
        f"Machine: {platform.machine()}, Python {platform.python_version()}. Command: "
        f"`python benchmarks/own_cost.py --calls {args.calls} --rounds {args.rounds}`: CPU per "
        "call with gRPC replaced by a stub that returns the server's answer, minus the stub "
        f"called alone; medians of {args.rounds} rounds.",
        "",
        "| call | own CPU (µs/call) |",
        "|---|---|",
        *(f"| `{name}` | {statistics.median(values):.1f} |" for name, values in own.items()),
    ]
    print("\n".join(lines))
    if args.write:
        write_section("own cost", lines)


if __name__ == "__main__":
    main()
