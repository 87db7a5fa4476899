"""Operator scenarios under load: a storage quota that fills up, and a compaction that
passes a watcher cut off from its member.

Each runs the fault suite's workload (four clients reading, writing and
compare-and-swapping, a watcher following their prefix) and asserts what every scenario
does (``check_common``: linearizable, no acknowledged write lost, the watcher saw every
acknowledged mutation once and in order, no call overran its deadline by much), plus its
own properties.
"""

from __future__ import annotations

import functools
import threading
import time
import uuid
from collections.abc import Callable, Iterator

import pytest

import etcd
from etcd.testing import EtcdCluster

from .history import CAS, OK, READ, WRITE
from .proxy import FaultProxy
from .workload import SendCounter, WatchedEvent, Workload, check_common, ready

pytestmark = [pytest.mark.integration, pytest.mark.cluster, pytest.mark.faults]

QUOTA = 4 * 1024 * 1024  # --quota-backend-bytes: filled in about a second
FILLERS = 2
FILL_KEYS = 4  # keys per filler, overwritten again and again
FILL_VALUE = 32 * 1024
_WAIT = 20.0  # how long a condition the scenario waits for may take, at most


@pytest.fixture
def prefix() -> str:
    return f"faults/{uuid.uuid4().hex[:8]}/"


def wait_until(condition: Callable[[], bool], what: str, timeout: float = _WAIT) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


# --- the storage quota fills up ------------------------------------------------------------


def test_quota_full_then_compact_defragment_disarm(etcd_binary: str, prefix: str) -> None:
    """A three-member cluster with a 4 MiB backend quota. Two fillers overwrite a few keys
    with 32 KiB values until etcd raises its NOSPACE alarm; the workload goes on for 2 s
    with the store full, then the operator's recovery: compact, defragment every member,
    disarm. Writes must fail with ``EtcdNoSpace`` at once (one request per call: no
    retry loop), none may be acknowledged while the alarm is raised, reads keep working
    throughout, and writes work again after the disarm."""
    with EtcdCluster(
        3, binary=etcd_binary, extra_args=[f"--quota-backend-bytes={QUOTA}"]
    ) as cluster:
        run_quota_scenario(cluster, prefix)


def run_quota_scenario(cluster: EtcdCluster, prefix: str) -> None:
    fill_keys = [f"{prefix}fill{n}-{i}" for n in range(FILLERS) for i in range(FILL_KEYS)]
    counters: dict[int, SendCounter] = {}

    def count_sends(number: int, client: etcd.Client) -> None:
        counters[number] = SendCounter(client, ["KV.Put", "KV.Txn"])

    workload = Workload(
        cluster.endpoints,
        prefix,
        extra_keys=fill_keys,
        on_client=count_sends,
        watch_reference=False,  # the recovery compacts the prefix's history away
    )
    filling = threading.Event()
    filling.set()
    no_space: list[tuple[str, float, int]] = []  # (filler, duration, requests sent)
    filled = [0]

    def fill(number: int) -> None:
        with workload.client() as client:
            counter = SendCounter(client, ["KV.Put"])
            sequence = 0
            while filling.is_set() and not workload.stop.is_set():
                sequence += 1
                key = f"{prefix}fill{number}-{sequence % FILL_KEYS}"
                value = f"f{number}-{sequence}:".ljust(FILL_VALUE, "x")
                before = counter.sent()
                started = time.monotonic()
                error = None
                try:
                    with workload.history.record(f"fill{number}", WRITE, key, value):
                        revision = client.put(key, value).header.revision
                    workload._ack(revision, key, value, -1 - number)
                    filled[0] += 1
                except etcd.EtcdNoSpace as failure:
                    error = repr(failure)
                    no_space.append(
                        (f"fill{number}", time.monotonic() - started, counter.sent() - before)
                    )
                    time.sleep(0.05)
                except etcd.EtcdException as failure:
                    error = repr(failure)
                    time.sleep(0.05)
                finally:
                    workload.record_call(-1 - number, "put(fill)", started, error)

    with etcd.Client(endpoints=cluster.endpoints, timeout=10) as admin:
        workload.start()
        for number in range(FILLERS):
            workload.extra_thread(functools.partial(fill, number), f"faults-filler-{number}")
        try:
            wait_until(lambda: any(a.alarm == "NOSPACE" for a in admin.alarms()), "NOSPACE")
            full = workload.fault("NOSPACE alarm raised: the quota is full")
            sizes_full = [admin.status(m.endpoint).db_size for m in cluster.members]
            time.sleep(2.0)
            recovering = workload.fault("stop filling; compact")
            filling.clear()
            revision = admin.range(fill_keys[0]).header.revision
            # A watcher still behind the compaction point would lose its events: wait.
            wait_until(lambda: workload.watched_revision() >= revision, "the watcher")
            admin.compact(revision, physical=True)
            for member in cluster.members:
                workload.fault(f"defragment {member.name}")
                admin.defragment(member.endpoint)
            sizes_defragmented = [admin.status(m.endpoint).db_size for m in cluster.members]
            disarming = workload.fault("disarm NOSPACE")
            cleared = admin.disarm_all()
            time.sleep(2.5)
        finally:
            filling.clear()
            workload.stop.set()
        report = workload.finish(ready(cluster))
        alarms_after = admin.alarms()

    ops = report.ops
    acknowledged_while_full = [
        op
        for op in ops
        if op.outcome == OK
        and op.kind != READ
        and (op.kind == WRITE or op.output)
        and full <= op.invoked < disarming
    ]
    reads_while_full = [op for op in ops if op.kind == READ and full <= op.invoked < recovering]
    failed_reads_while_full = [op for op in reads_while_full if op.outcome != OK]
    workload_no_space = [
        call
        for call in report.calls
        if call.process >= 0 and call.error and call.error.startswith("EtcdNoSpace")
    ]
    mutations_by_client = {
        number: sum(1 for c in report.calls if c.process == number and c.kind in (WRITE, CAS))
        for number in range(workload.clients)
    }
    sent_by_client = {number: counter.sent() for number, counter in counters.items()}
    recovery = report.recovery_after(disarming)
    retried = [entry for entry in no_space if entry[2] != 1]
    report.notes += [
        f"quota {QUOTA} bytes; {filled[0]} fill puts of {FILL_VALUE} bytes acknowledged; "
        f"db sizes when full {sizes_full}, after compact+defragment {sizes_defragmented}; "
        f"alarms cleared {[a.alarm for a in cleared]}, left {alarms_after}",
        f"EtcdNoSpace: {len(no_space)} filler puts (requests sent per call: "
        f"{sorted({sent for _, _, sent in no_space})}, slowest "
        f"{max((d for _, d, _ in no_space), default=0):.3f}s) and {len(workload_no_space)} "
        f"workload writes; mutations acknowledged while full: {len(acknowledged_while_full)}",
        f"reads while full: {len(reads_while_full)} ({len(failed_reads_while_full)} failed); "
        f"workload put/txn calls {mutations_by_client}, requests sent {sent_by_client}; "
        f"first acknowledged write after the disarm {recovery and round(recovery, 3)}s",
    ]
    check_common(report, "quota full, then compact+defragment+disarm", workload.started)
    assert no_space, "the fillers never met the quota"
    assert workload_no_space, "no workload write met the full quota"
    assert not retried, f"a call that met the full quota was sent again: {retried[:3]}"
    assert sent_by_client == mutations_by_client, "a put or txn was sent more than once"
    assert not acknowledged_while_full, [op.describe() for op in acknowledged_while_full[:3]]
    assert reads_while_full, "no read was made while the quota was full"
    assert not failed_reads_while_full, [op.describe() for op in failed_reads_while_full[:3]]
    assert max(sizes_defragmented) < QUOTA
    assert not alarms_after
    assert recovery is not None, "no write was acknowledged after the disarm"


# --- a compaction passes a watcher that is cut off ------------------------------------------


@pytest.fixture
def member_proxy(etcd_cluster: EtcdCluster) -> Iterator[FaultProxy]:
    """A fault proxy in front of member0's client port."""
    with FaultProxy(etcd_cluster.members[0].client_port) as proxy:
        yield proxy


def test_compaction_while_a_watcher_is_cut_off(
    etcd_cluster: EtcdCluster, member_proxy: FaultProxy, prefix: str
) -> None:
    """A second watcher follows the prefix through a proxy to one member (its only
    endpoint). The proxy resets its connection and black-holes every new one; writes go
    on and the prefix is compacted past the watcher's position; then the proxy heals. The
    watcher must fail with ``EtcdCompacted`` carrying the compaction's revision, after
    delivering exactly the events before it (the same as the main watcher's)."""
    workload = Workload(etcd_cluster.endpoints, prefix, watch_reference=False)
    cut_events: list[WatchedEvent] = []
    outcome: list[tuple[float, BaseException | None]] = []

    def cut_off_watcher() -> None:
        with (
            workload.client([member_proxy.address]) as client,
            client.watch_prefix(prefix, start_revision=workload.start_revision) as watch,
        ):
            while not workload.stop.is_set():
                try:
                    response = watch.next_response(0.2)
                except etcd.EtcdWatchTimedOut:
                    continue
                except (etcd.EtcdException, StopIteration) as error:
                    outcome.append((time.monotonic(), error))
                    return
                cut_events.extend(
                    WatchedEvent(e.revision, e.key.decode(), e.value.decode(), e.type.name)
                    for e in response.events
                )
            outcome.append((time.monotonic(), None))

    workload.start()
    workload.extra_thread(cut_off_watcher, "faults-cut-off-watcher")
    with etcd.Client(endpoints=etcd_cluster.endpoints, timeout=10) as admin:
        try:
            time.sleep(1.0)
            workload.fault("cut the second watcher off (reset + blackhole)")
            member_proxy.blackhole()
            member_proxy.reset()
            seen_at_cut = len(cut_events)
            time.sleep(1.5)
            revision = admin.range(workload.keys[0]).header.revision
            wait_until(lambda: workload.watched_revision() >= revision, "the main watcher")
            workload.fault(f"compact at revision {revision}")
            admin.compact(revision)
            time.sleep(0.5)
            healed = workload.fault("heal")
            member_proxy.heal()
            wait_until(lambda: bool(outcome), "the cut-off watcher to end")
            time.sleep(1.0)
        finally:
            member_proxy.heal()
            workload.stop.set()
        report = workload.finish(ready(etcd_cluster))
    ended, error = outcome[0]
    last_seen = cut_events[-1].revision if cut_events else 0
    report.notes.append(
        f"cut-off watcher: {seen_at_cut} events when cut off, {len(cut_events)} delivered "
        f"in all (last at revision {last_seen}); compacted at {revision}; it ended "
        f"{ended - healed:.3f}s after healing with {type(error).__name__}"
        f"(compact_revision={getattr(error, 'compact_revision', None)}); "
        f"{member_proxy.connections_accepted} connections through its proxy"
    )
    check_common(report, "compaction while a watcher is cut off", workload.started)
    assert isinstance(error, etcd.EtcdCompacted), f"the cut-off watcher ended with {error!r}"
    assert error.compact_revision == revision
    assert seen_at_cut > 0, "the cut-off watcher saw nothing before the cut"
    assert last_seen < revision
    assert cut_events == report.watched[: len(cut_events)], "the two watchers disagree"
