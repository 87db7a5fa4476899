"""Fault-injection scenarios against a real etcd: clients keep reading, writing and
compare-and-swapping through a proxy that resets and blackholes their connections; the
recorded history must be linearizable, no acknowledged write may be lost, and no call
may overrun its deadline by much."""

from __future__ import annotations

import dataclasses
import random
import threading
import time
import uuid
from collections.abc import Iterator, Sequence

import pytest

import etcd
from etcd.testing import EtcdServer

from .history import CAS, OK, READ, UNKNOWN, WRITE, History
from .linearizability import check_history
from .proxy import FaultProxy

pytestmark = [pytest.mark.integration, pytest.mark.faults]

CLIENTS = 4
KEYS = 3
CALL_TIMEOUT = 2.0
MAX_OVERSHOOT = 1.0  # a call may end this much after its deadline, no more


@pytest.fixture
def proxy(etcd_server: EtcdServer) -> Iterator[FaultProxy]:
    with FaultProxy(etcd_server.client_port) as fault_proxy:
        yield fault_proxy


@pytest.fixture
def prefix(etcd_server: EtcdServer) -> Iterator[str]:
    name = f"faults/{uuid.uuid4().hex[:8]}/"
    yield name
    with etcd.Client(endpoints=[etcd_server.endpoint], timeout=10) as client:
        client.delete_range(name, prefix=True)


def _decode(kvs: Sequence[etcd.KeyValue]) -> str | None:
    return kvs[0].value.decode() if kvs else None


def worker(
    number: int,
    endpoint: str,
    keys: list[str],
    history: History,
    stop: threading.Event,
    durations: list[float],
    seed: int,
) -> None:
    """Random reads, writes and cas on ``keys`` until ``stop``; every value is unique."""
    rng = random.Random(seed)
    seen: dict[str, str | None] = dict.fromkeys(keys)
    with etcd.Client(endpoints=[endpoint], timeout=CALL_TIMEOUT, connect_timeout=0.5) as client:
        sequence = 0
        while not stop.is_set():
            key = rng.choice(keys)
            kind = rng.choice((READ, WRITE, CAS))
            sequence += 1
            value = f"c{number}-{sequence}"
            started = time.monotonic()
            try:
                if kind == READ:
                    with history.record(number, READ, key) as op:
                        op.output = _decode(client.range(key).kvs)
                    seen[key] = op.output
                elif kind == WRITE:
                    with history.record(number, WRITE, key, value):
                        client.put(key, value)
                else:
                    expected = seen[key]
                    compare = (
                        etcd.Compare.version(key, "==", 0)
                        if expected is None
                        else etcd.Compare.value(key, "==", expected)
                    )
                    with history.record(number, CAS, key, (expected, value)) as op:
                        op.output = client.txn([compare], [etcd.Op.put(key, value)], []).succeeded
                    if op.output:
                        seen[key] = value
            except etcd.EtcdException:
                time.sleep(0.01)  # recorded as failed or unknown; do not spin on errors
            finally:
                durations.append(time.monotonic() - started)


def test_resets_and_blackhole_lose_no_acknowledged_write(
    etcd_server: EtcdServer, proxy: FaultProxy, prefix: str
) -> None:
    keys = [f"{prefix}k{i}" for i in range(KEYS)]
    history = History()
    stop = threading.Event()
    durations: list[list[float]] = [[] for _ in range(CLIENTS)]
    seed = random.randrange(1 << 30)
    threads = [
        threading.Thread(
            target=worker,
            args=(n, proxy.address, keys, history, stop, durations[n], seed + n),
            name=f"faults-client-{n}",
        )
        for n in range(CLIENTS)
    ]
    for thread in threads:
        thread.start()
    faults: list[str] = []
    try:
        time.sleep(0.5)  # traffic flows normally first
        proxy.reset_every(0.3)
        faults.append("reset every 0.3 s for 2 s")
        time.sleep(2.0)
        proxy.heal()
        time.sleep(0.5)
        proxy.blackhole()
        faults.append("blackhole for 2 s")
        time.sleep(2.0)
        proxy.heal()
        time.sleep(1.0)  # and recovery
    finally:
        stop.set()
        for thread in threads:
            thread.join(60)
    assert not any(thread.is_alive() for thread in threads), "a client thread hung"

    # A final read of each key, after every client has stopped: a lost acknowledged
    # write shows up as this read contradicting the history.
    with etcd.Client(endpoints=[etcd_server.endpoint], timeout=10) as direct:
        for key in keys:
            with history.record("final", READ, key) as op:
                op.output = _decode(direct.range(key).kvs)

    ops = history.operations()
    result = check_history(ops)
    counts = history.counts()
    all_durations = [d for per_client in durations for d in per_client]
    overshoot = max(0.0, max(all_durations) - CALL_TIMEOUT)
    acknowledged_writes = [o for o in ops if o.outcome == OK and o.kind != READ]
    print(
        f"\nfault scenario (seed {seed}): {len(ops)} ops "
        f"({counts[OK]} ok, {counts['fail']} failed, {counts[UNKNOWN]} unknown), "
        f"{len(acknowledged_writes)} acknowledged mutations; "
        f"faults: {', '.join(faults)}; "
        f"proxy: {proxy.connections_accepted} connections accepted, "
        f"{proxy.resets_done} reset in {proxy.stats.reset_rounds} rounds; "
        f"max call duration {max(all_durations):.3f}s "
        f"(overshoot {overshoot:.3f}s of {MAX_OVERSHOOT}s allowed); "
        f"check {result.verdict} in {sum(r.seconds for r in result.keys.values()):.3f}s"
    )
    print(result.summary())

    assert counts["pending"] == 0
    assert counts[OK] > 50, "too few operations succeeded for the check to mean much"
    assert proxy.resets_done > 0, "the reset fault never hit a connection"
    assert counts[UNKNOWN] + counts["fail"] > 0, "the faults never disturbed a call"
    assert result.ok, result.summary()
    # Every key's final value was written by someone (or the key was never written).
    for key in keys:
        final = next(o for o in ops if o.process == "final" and o.key == key).output
        written = {
            o.value if o.kind == WRITE else o.value[1]
            for o in ops
            if o.key == key and o.kind != READ
        }
        assert final is None or final in written
    # Spelled out: in the linearization found, every acknowledged write is followed by a
    # later write of the key, or its value is the one the final read saw.
    for key in keys:
        order = result.keys[key].linearization or []
        for position, o in enumerate(order):
            if o.outcome != OK or o.kind == READ or (o.kind == CAS and not o.output):
                continue
            mine = o.value if o.kind == WRITE else o.value[1]
            later_write = any(
                x.kind == WRITE or (x.kind == CAS and (x.outcome != OK or x.output))
                for x in order[position + 1 :]
            )
            final = next(x for x in order if x.process == "final")
            assert later_write or final.output == mine, f"acknowledged {o.describe()} lost"
    # The check has teeth on this very history: a final read returning an acknowledged
    # value that a later acknowledged write overwrote is a lost write, and is caught.
    key = keys[0]
    writes = [o for o in ops if o.key == key and o.kind == WRITE and o.outcome == OK]
    overwritten = next((w for w in writes if any(x.invoked > w.returned for x in writes)), None)
    if overwritten is not None:
        tampered = [
            dataclasses.replace(o, output=overwritten.value)
            if o.process == "final" and o.key == key
            else o
            for o in ops
        ]
        assert check_history(tampered).verdict == "illegal"
    # The deadline is the property here: calls end at their timeout, give or take.
    assert overshoot <= MAX_OVERSHOOT, f"a call overran its {CALL_TIMEOUT}s timeout"
