"""The client's own Python per call: the CPU a call costs with gRPC taken out.

Against a real etcd the cost of gRPC and of the loop dwarfs the client's own work and
moves with the machine; here each client first makes real calls (connected, versions
known, every code path loaded), then its gRPC callables are replaced by stubs that return
the answer the server gave. What remains per call is the client's own work: checking the
arguments, building the request, the deadline, the retry loop, and decoding the answer.
The same stub called directly is the floor that is subtracted.

    python benchmarks/own_cost.py --calls 20000 --rounds 5 [--write]

Timings on a shared machine scatter by a microsecond or more from run to run. An
instruction counter does not: ``--only CALL`` makes only that call, ``--calls`` times,
untimed, so that two runs under valgrind's callgrind with different ``--calls`` give the
instructions one call executes: their difference, divided by the difference of calls.
Starting the server moves a run's count by a few million instructions, so the calls
should number in the tens of thousands; fix ``PYTHONHASHSEED`` too, as the layout of
dictionaries moves the count a little:

    PYTHONHASHSEED=0 valgrind --tool=callgrind python benchmarks/own_cost.py \
        --only etcd.Client.range --calls 2000    # then --calls 20000
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
#: The same read from a client made with ``coalesce=False``: the difference to ``range``
#: is what the default coalescing's count costs a read on a quiet lane.
PLAIN_READ = "range (coalesce=False)"
ROW_NAMES = [
    f"etcd.{client}.{row}"
    for client in ("Client", "AsyncClient")
    for row in ("range", "put", PLAIN_READ)
]


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
    parser.add_argument(
        "--only",
        metavar="CALL",
        help="make only CALL (a row, such as etcd.Client.range) --calls times, untimed, and "
        "print nothing: for an instruction counter",
    )
    args = parser.parse_args()
    if args.only is not None and args.only not in ROW_NAMES:
        parser.error(f"--only takes one of {', '.join(ROW_NAMES)}")
    own: dict[str, list[float]] = {}
    with EtcdServer() as server:
        endpoints = [server.endpoint]
        with (
            etcd.Client(endpoints=endpoints, timeout=30) as client,
            etcd.Client(endpoints=endpoints, timeout=30, coalesce=False) as plain,
        ):
            floor = stub_sync(client)
            stub_sync(plain)
            rows = {**sync_rows(client), PLAIN_READ: sync_rows(plain)["range"]}
            named = {f"etcd.Client.{name}": call for name, call in rows.items()}
            if args.only in named:
                for _ in range(args.calls):
                    named[args.only]()
            for _ in range(0 if args.only else args.rounds):
                base = cpu_per_call(floor, args.calls)
                for name, call in named.items():
                    own.setdefault(name, []).append(cpu_per_call(call, args.calls) - base)

        async def asynchronous() -> None:
            async with (
                etcd.AsyncClient(endpoints=endpoints, timeout=30) as client,
                etcd.AsyncClient(endpoints=endpoints, timeout=30, coalesce=False) as plain,
            ):
                floor = await stub_async(client)
                await stub_async(plain)
                rows = {**async_rows(client), PLAIN_READ: async_rows(plain)["range"]}
                named = {f"etcd.AsyncClient.{name}": call for name, call in rows.items()}
                if args.only in named:
                    for _ in range(args.calls):
                        await named[args.only]()
                for _ in range(0 if args.only else args.rounds):
                    base = await cpu_per_async_call(floor, args.calls)
                    for name, call in named.items():
                        own.setdefault(name, []).append(
                            await cpu_per_async_call(call, args.calls) - base
                        )

        asyncio.run(asynchronous())
    if args.only:
        return
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
