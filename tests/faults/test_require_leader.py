"""``allow_redirect=False`` (etcd's require-leader) on a member cut off from its leader by
a network partition (peer proxies, see ``peers.py``), for every kind of call.

A client whose only endpoint is the cut-off member gets :class:`etcd.EtcdNoLeader`
within the call's deadline for a put, a transaction, a linearizable read and a lease
refresh; its watch delivers nothing until the partition heals, then everything; its
kept-alive lease is reported lost (using it raises :class:`etcd.EtcdLeaseExpired`). A
client that also knows the other members moves to them: every call succeeds, its watch
and its kept-alive lease carry on from there.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest

import etcd

from .peers import PeerProxiedCluster
from .workload import MAX_OVERSHOOT

pytestmark = [pytest.mark.integration, pytest.mark.cluster, pytest.mark.faults]

TIMEOUT = 2.0
LEASE_TTL = 3
_WAIT = 20.0


def timed(call: Callable[[], object]) -> tuple[str, float, BaseException | None]:
    started = time.monotonic()
    try:
        call()
    except etcd.EtcdException as error:
        return type(error).__name__, time.monotonic() - started, error
    return "ok", time.monotonic() - started, None


def wait_until(condition: Callable[[], bool], what: str) -> float:
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < _WAIT, f"timed out waiting for {what}"
        time.sleep(0.05)
    return time.monotonic() - started


def test_require_leader_on_a_cut_off_member(peer_proxied_cluster: PeerProxiedCluster) -> None:
    cluster = peer_proxied_cluster.cluster
    cut = cluster.followers()[0]
    others = [member for member in cluster.members if member is not cut]
    prefix = f"require-leader/{uuid.uuid4().hex[:8]}/"
    key = f"{prefix}k"
    options: dict[str, Any] = {"timeout": TIMEOUT, "connect_timeout": 0.5, "allow_redirect": False}
    figures: list[str] = []
    with contextlib.ExitStack() as stack:
        lone = stack.enter_context(etcd.Client(endpoints=[cut.endpoint], **options))
        both = stack.enter_context(
            etcd.Client(endpoints=[cut.endpoint, *(m.endpoint for m in others)], **options)
        )
        admin = stack.enter_context(etcd.Client(endpoints=[m.endpoint for m in others], timeout=10))
        start = admin.put(f"{prefix}before", "1").header.revision + 1
        watches = {}
        leases = {}
        lost_at: dict[str, float] = {}

        def on_lost(name: str) -> Callable[[etcd.EtcdLeaseExpired], object]:
            return lambda _: lost_at.setdefault(name, time.monotonic())

        for name, client in (("lone", lone), ("both", both)):
            client.range(key)  # both use the cut-off member from now on
            watches[name] = stack.enter_context(client.watch_prefix(prefix, start_revision=start))
            assert watches[name].wait_created(10)
            leases[name] = stack.enter_context(client.lease(LEASE_TTL, on_lost=on_lost(name)))

        cut_at = time.monotonic()
        held = peer_proxied_cluster.isolate(cut)
        no_leader = wait_until(lambda: admin.status(cut.endpoint).leader == 0, "no leader")
        figures.append(
            f"{cut.name} cut off ({held} peer connections of its own held); it had no leader "
            f"after {no_leader:.2f}s"
        )

        lone_calls = {
            "put": lambda: lone.put(key, "lone"),
            "txn": lambda: lone.txn([], [etcd.Op.put(key, "lone-txn")], []),
            "range": lambda: lone.range(key),
            "keep-alive": lambda: lone.lease_keep_alive_once(leases["lone"].id),
        }
        lone_outcomes = {kind: timed(call) for kind, call in lone_calls.items()}
        both_calls = {
            "put": lambda: both.put(key, "both"),
            "txn": lambda: both.txn([], [etcd.Op.put(key, "both-txn")], []),
            "range": lambda: both.range(key),
            "keep-alive": lambda: both.lease_keep_alive_once(leases["both"].id),
        }
        both_outcomes = {kind: timed(call) for kind, call in both_calls.items()}
        during = admin.put(f"{prefix}during", "2").header.revision
        moved = wait_until(
            lambda: any(e.revision == during for e in drain(watches["both"])), "the watch"
        )
        lone_events = drain(watches["lone"])
        seen_while_cut = len(lone_events)
        wait_until(lambda: "lone" in lost_at, "the lone lease to be lost")
        cut_for = time.monotonic() - cut_at
        lost = lost_at["lone"] - cut_at
        both_lease_kept = not leases["both"].lost and "both" not in lost_at
        both_ttl = admin.lease_time_to_live(leases["both"].id).ttl

        peer_proxied_cluster.heal()
        resumed = wait_until(
            lambda: any(e.revision == during for e in drain(watches["lone"], lone_events)),
            "the lone watch after healing",
        )
        with pytest.raises(etcd.EtcdLeaseExpired):
            leases["lone"].check()
        after = wait_until(lambda: timed(lambda: lone.put(key, "healed"))[2] is None, "a put")

    figures += [
        "lone client (the cut-off member only): "
        + "; ".join(f"{k}: {w} after {s:.3f}s" for k, (w, s, _) in lone_outcomes.items()),
        "client with every member: "
        + "; ".join(f"{k}: {w} after {s:.3f}s" for k, (w, s, _) in both_outcomes.items()),
        f"its watch delivered a write made during the partition {moved:.2f}s later; the "
        f"lone watch saw {seen_while_cut} events during the partition and the write "
        f"{resumed:.2f}s after healing",
        f"the lone client's lease (TTL {LEASE_TTL}s) was reported lost {lost:.2f}s after "
        f"the cut; the other client's lease kept alive: {both_lease_kept} "
        f"(TTL left {both_ttl}s)",
        f"the lone client wrote again {after:.2f}s after the watch resumed",
    ]
    print(f"\n[require-leader, {cut.name} cut off]\n  " + "\n  ".join(figures))
    for kind, (what, seconds, error) in lone_outcomes.items():
        assert isinstance(error, etcd.EtcdNoLeader), f"{kind}: {what}"
        assert not error.outcome_unknown, f"{kind}: refused, so known not applied"
        assert seconds <= TIMEOUT + MAX_OVERSHOOT, f"{kind} overran its deadline: {seconds}"
    for kind, (what, seconds, _) in both_outcomes.items():
        assert what == "ok", f"{kind}: {what}"
        assert seconds <= TIMEOUT + MAX_OVERSHOOT
    assert not seen_while_cut, f"a member without a leader delivered {lone_events}"
    assert both_lease_kept and both_ttl >= 0  # 0: under a second left, alive
    assert cut_for > LEASE_TTL, "the partition did not outlast the lease's TTL"


def drain(watch: etcd.Watch, into: list[etcd.Event] | None = None) -> list[etcd.Event]:
    """The events ``watch`` has ready now (appended to ``into``, returned)."""
    events = [] if into is None else into
    while True:
        try:
            events.extend(watch.next_response(0.05).events)
        except etcd.EtcdWatchTimedOut:
            return events
