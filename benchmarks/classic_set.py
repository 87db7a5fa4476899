"""What v2 directories cost a python-etcd ``set`` that never uses them.

Every ``client.set`` now checks, in its one transaction, that its key is not a directory,
that no key above it has a value, and which TTL the directories above have. This script
measures that against a ``set`` made the way it was before directories existed (the same
argument handling, transaction minus the checks, and result), on one etcd it starts on
127.0.0.1, ``--rounds`` interleaved rounds of ``--operations`` sets each, at the depths
given (``/k`` is depth 1, ``/a/b/c/k`` depth 4):

    python benchmarks/classic_set.py --operations 2000 --rounds 7 --depths 1 3 6

It prints, per depth, the median time of one set with and without the checks, and their
ratio, with the median of the per-round ratios.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import etcd
from etcd._core import classic, classic_writes
from etcd._core.kv import Op, Txn
from etcd.testing import EtcdServer


def set_without_directories(client: etcd.Client, key: str, value: object) -> etcd.EtcdResult:
    """``client.set(key, value)`` as it was made before directories: no tree checks."""
    name = classic.normalize_key(key)
    classic.refuse_root(name)
    data = classic.value_text(value)
    condition = classic_writes.WriteCondition.build(None, None, None)
    raw = name.encode("utf-8")
    txn = Txn().If().Then(Op.range(raw), Op.put(raw, data)).Else(Op.range(raw))
    response = client.txn(txn)
    return classic_writes.write_result(name, data, 0, None, condition, response)


def key_at(depth: int, index: int) -> str:
    return "/" + "/".join(f"d{level}" for level in range(depth - 1)) + f"/k{index % 100}"


def one_round(set_one: Callable[[str, object], object], depth: int, operations: int) -> float:
    """Seconds per set."""
    started = time.perf_counter()
    for index in range(operations):
        set_one(key_at(depth, index).replace("//", "/"), "v" * 100)
    return (time.perf_counter() - started) / operations


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--operations", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--depths", type=int, nargs="+", default=[1, 3, 6])
    args = parser.parse_args()
    with EtcdServer() as server, etcd.Client(endpoints=[server.endpoint], timeout=30) as client:
        ways: dict[str, Callable[[str, object], object]] = {
            "with directory checks": client.set,
            "without": lambda key, value: set_without_directories(client, key, value),
        }
        for depth in args.depths:
            for set_one in ways.values():
                one_round(set_one, depth, 200)  # warm up
            times: dict[str, list[float]] = {name: [] for name in ways}
            ratios = []
            for _ in range(args.rounds):
                for name, set_one in ways.items():
                    times[name].append(one_round(set_one, depth, args.operations))
                ratios.append(times["with directory checks"][-1] / times["without"][-1])
            with_checks = statistics.median(times["with directory checks"]) * 1e6
            without = statistics.median(times["without"]) * 1e6
            print(
                f"depth {depth}: set with directory checks {with_checks:.0f} µs, without "
                f"{without:.0f} µs (ratio of medians {with_checks / without:.3f}, median "
                f"ratio per round {statistics.median(ratios):.3f})",
                flush=True,
            )


if __name__ == "__main__":
    main()
