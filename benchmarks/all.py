"""Regenerate every section of ``benchmarks/RESULTS.md`` with one command.

Each benchmark runs as its own process, one after the other (they would disturb each
other's figures if they shared the machine), with the settings its section was last
written with, and writes its own section. ``--quick`` runs each with tiny sizes and one
round, to check that they all still run, and writes nothing.

    python benchmarks/all.py [--quick] [--only NAME ...] [--venvs DIR]

The whole run takes about an hour on a two-core machine. Peers (python-etcd3, aetcd,
etcd3gw, python-etcd) are installed into ``--venvs`` the first time; the Go column needs
Go and etcd's Go client sources, and is skipped with a message where they are missing.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

# name: (arguments of a full run, arguments of a quick one)
BENCHMARKS: dict[str, tuple[list[str], list[str]]] = {
    "compare.py": (
        ["--rounds", "5", "--operations", "2000", "--ranges", "50", "--events", "5000"],
        [
            # 128: at least one call for each of the 64 in flight.
            *["--rounds", "1", "--operations", "128", "--ranges", "5", "--events", "200"],
            *["--clients", "etcd-client", "etcd-client asyncio", "bare grpcio", "bare grpc.aio"],
        ],
    ),
    "coalescing_curve.py": (
        ["--rounds", "3", "--operations", "2000", "--kinds", "get", "put"],
        ["--rounds", "1", "--operations", "50", "--callers", "1", "8", "--kinds", "get"],
    ),
    "own_cost.py": (["--calls", "20000", "--rounds", "5"], ["--calls", "500", "--rounds", "1"]),
    "flat_costs.py": (
        ["--rounds", "3"],
        [
            *["--rounds", "1", "--max-keys", "20000", "--events", "200", "--watches", "1", "10"],
            *["--leases", "1", "10", "--lease-seconds", "2", "--large-calls", "3"],
            *["--threads", "1", "4", "--operations", "200"],
        ],
    ),
    "cache_costs.py": (
        ["--keys", "100000", "1000000", "--events", "100000", "--rounds", "5"],
        ["--keys", "2000", "--events", "500", "--rounds", "1"],
    ),
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes, nothing written")
    parser.add_argument("--only", nargs="+", choices=list(BENCHMARKS), metavar="NAME")
    parser.add_argument("--venvs", help="where compare.py keeps the peers' environments")
    args = parser.parse_args()
    began = time.monotonic()
    for name, (full, quick) in BENCHMARKS.items():
        if args.only and name not in args.only:
            continue
        command = [sys.executable, str(HERE / name), *(quick if args.quick else full)]
        if not args.quick:
            command.append("--write")
        if name == "compare.py" and args.venvs:
            command += ["--venvs", args.venvs]
        print(f"==== {' '.join(command[1:])}", flush=True)
        started = time.monotonic()
        if subprocess.run(command, check=False).returncode != 0:
            print(f"{name} failed: the sections after it were not run", file=sys.stderr)
            return 1
        print(f"==== {name}: {time.monotonic() - started:.0f} s", flush=True)
    print(f"all done in {(time.monotonic() - began) / 60:.1f} min")
    return 0


if __name__ == "__main__":
    sys.exit(main())
