"""The live cache's scenario: writers make puts, deletes, range deletes and transactions
on a three-member cluster while the member the cache watches through is killed and a
compaction lands while the cache cannot reach any member (its other route goes through a
fault proxy that black-holes it); then the route heals.

Asserted at the end: the copy equals a linearizable read of the prefix at the copy's
revision; the cache listed the prefix again exactly once, and both subscribers (a callback
added before the cache started, an ``updates()`` iterator that began from a snapshot) saw
every revision the writers wrote, in order, none lost, repeated or reordered, except the
revisions the compaction removed, which one update marked ``reset`` replaced by exactly
their net difference (``cache_check.py`` says what is checked, and
``test_cache_check.py`` checks the checker).
"""

from __future__ import annotations

import collections
import random
import threading
import time
from collections.abc import Callable

import pytest

import etcd
from etcd.testing import EtcdCluster

from .cache_check import check_updates
from .proxy import FaultProxy

pytestmark = [
    pytest.mark.integration,
    pytest.mark.cluster,
    pytest.mark.faults,
    pytest.mark.timeout(60),
]

WRITERS = 3
KEYS = 5
PREFIX = "/cache-scenario/"
MARKERS = "/cache-scenario-markers/"
SEED = 20261207  # the writers' choices; how their writes interleave is up to the machine


class Writers:
    """``WRITERS`` threads, each making random puts, deletes, range deletes and
    transactions on keys of its own, one operation at a time, until ``stop``.

    Each operation is one transaction that also creates a marker key of its own (outside
    the prefix) on condition that it does not exist yet: one whose outcome was unknown is
    sent again, and either applies then or finds its marker, whose ``mod_revision`` says
    when it applied. ``changes`` holds every change under the prefix, by revision; every
    put writes a new value.
    """

    def __init__(self, endpoints: list[str], seed: int) -> None:
        self.endpoints = endpoints
        self.seed = seed
        self.stop = threading.Event()
        self.changes: dict[int, dict[bytes, bytes | None]] = {}
        self.kinds: collections.Counter[str] = collections.Counter()
        self.resent = 0
        self.errors: list[str] = []
        self._lock = threading.Lock()
        self._threads = [
            threading.Thread(target=self._run, args=(n,), name=f"cache-scenario-writer-{n}")
            for n in range(WRITERS)
        ]

    @property
    def acknowledged(self) -> int:
        with self._lock:
            return len(self.changes)

    @property
    def last_revision(self) -> int:
        with self._lock:
            return max(self.changes, default=0)

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def finish(self) -> None:
        self.stop.set()
        for thread in self._threads:
            thread.join(30)
        assert not any(thread.is_alive() for thread in self._threads), "a writer hung"
        assert not self.errors, self.errors

    def wait_for(self, count: int, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while self.acknowledged < count:
            assert time.monotonic() < deadline, f"fewer than {count} writes in {timeout} s"
            assert not self.errors, self.errors
            time.sleep(0.01)

    def _run(self, n: int) -> None:
        rng = random.Random(self.seed * 100 + n)
        live: dict[bytes, bytes] = {}
        keys = [f"{PREFIX}w{n}/k{i}".encode() for i in range(KEYS)]
        try:
            with etcd.Client(endpoints=self.endpoints, timeout=5, connect_timeout=1) as client:
                step = 0
                while not self.stop.is_set():
                    ops, changes, kind = _plan(rng, n, step, keys, live)
                    revision = self._send(client, f"{MARKERS}{n}/{step}", kind, ops)
                    with self._lock:
                        assert revision not in self.changes, f"two writes at {revision}"
                        self.changes[revision] = changes
                        self.kinds[kind] += 1
                    for key, value in changes.items():
                        if value is None:
                            live.pop(key, None)
                        else:
                            live[key] = value
                    step += 1
                    time.sleep(rng.uniform(0, 0.01))
        except Exception as error:
            self.errors.append(f"writer {n}: {error!r}")

    def _send(self, client: etcd.Client, marker: str, kind: str, ops: list[etcd.Op]) -> int:
        deadline = time.monotonic() + 30
        while True:
            try:
                answer = client.txn(
                    [etcd.Version(marker) == 0],
                    [etcd.Op.put(marker, kind), *ops],
                    [etcd.Op.range(marker)],
                )
            except etcd.EtcdConnectionFailed:
                assert time.monotonic() < deadline, "a write could not be made for 30 s"
                with self._lock:
                    self.resent += 1
                time.sleep(0.05)
                continue
            if answer.succeeded:
                return int(answer.header.revision)
            return int(answer.responses[0].kvs[0].mod_revision)


def _plan(
    rng: random.Random, n: int, step: int, keys: list[bytes], live: dict[bytes, bytes]
) -> tuple[list[etcd.Op], dict[bytes, bytes | None], str]:
    """The next operation of writer ``n``: its ops, the changes they make, its kind."""
    existing = sorted(live)
    choice = rng.random()
    if existing and choice < 0.2:
        key = rng.choice(existing)
        return [etcd.Op.delete_range(key)], {key: None}, "delete"
    if len(existing) >= 2 and choice < 0.28:
        return (
            [etcd.Op.delete_range(f"{PREFIX}w{n}/", prefix=True)],
            dict.fromkeys(existing),
            ("delete-range"),
        )
    if choice < 0.65:
        puts = rng.sample(keys, rng.randint(2, 3))
        changes: dict[bytes, bytes | None] = {key: f"{n}.{step}".encode() for key in puts}
        ops: list[etcd.Op] = [etcd.Op.put(key, f"{n}.{step}") for key in puts]
        gone = [key for key in existing if key not in changes]
        if gone:
            key = rng.choice(gone)
            ops.append(etcd.Op.delete_range(key))
            changes[key] = None
        return ops, changes, "transaction"
    key = rng.choice(keys)
    return [etcd.Op.put(key, f"{n}.{step}")], {key: f"{n}.{step}".encode()}, "put"


def _until(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"not {what} within {timeout} s"
        time.sleep(0.01)


def test_writers_a_killed_member_and_a_compaction_mid_outage(etcd_cluster: EtcdCluster) -> None:
    leader = etcd_cluster.leader()
    victim, spare = etcd_cluster.followers()
    writers = Writers([leader.endpoint, spare.endpoint], seed=SEED)
    seen: list[etcd.CacheUpdate[bytes]] = []
    taken: list[etcd.CacheUpdate[bytes]] = []
    taking_failed: list[BaseException] = []
    faults: list[tuple[float, str]] = []
    started = time.monotonic()

    def fault(what: str) -> None:
        faults.append((time.monotonic() - started, what))

    writers.start()
    try:
        with (
            FaultProxy(spare.client_port) as route,
            etcd.Client(
                endpoints=[victim.endpoint, route.address], timeout=5, connect_timeout=1
            ) as client,
        ):
            assert client._transport.current_endpoint.target == victim.endpoint
            cache = client.cache(PREFIX, page_size=7)
            cache.add_callback(seen.append)
            writers.wait_for(20)  # a prefix to list, in pages, while it changes
            with cache:
                cache.wait_ready(10)

                def take() -> None:
                    try:
                        for update in cache.updates():
                            taken.append(update)
                    except etcd.EtcdException as error:
                        taking_failed.append(error)

                taker = threading.Thread(target=take, name="cache-scenario-updates")
                taker.start()
                _until(lambda: len(cache._subscribers) == 1, 10, "subscribed")
                start = cache.snapshot()

                writers.wait_for(writers.acknowledged + 40)
                route.blackhole()  # the cache's other way in goes nowhere
                route.reset()
                fault("black-hole the route to the spare member")
                before = cache.revision
                victim.kill()
                fault(f"kill -9 {victim.name}, the cache's member, under load")
                writers.wait_for(writers.acknowledged + 150)
                with etcd.Client(endpoints=[leader.endpoint], timeout=10) as admin:
                    compacted = int(admin.range(MARKERS).header.revision)
                    admin.compact(compacted)
                fault(f"compact at revision {compacted} while the cache reaches no member")
                writers.wait_for(writers.acknowledged + 60)
                stuck = cache.revision
                route.heal()
                fault("heal the route")
                writers.wait_for(writers.acknowledged + 100)
                writers.finish()
                fault("writers stopped")
                last = writers.last_revision
                _until(lambda: cache.revision >= last or cache.error is not None, 30, "caught up")
                assert cache.error is None, cache.error
                final = cache.snapshot()
                with etcd.Client(endpoints=[leader.endpoint, spare.endpoint], timeout=10) as reader:
                    listed = reader.range(PREFIX, prefix=True, revision=final.revision)
                relists = cache.relists
            taker.join(10)
    finally:
        writers.stop.set()

    resets = [update for update in seen if update.reset]
    callback_problems = check_updates(
        writers.changes, seen, until=final.revision, compactions=[compacted]
    )
    iterator_problems = check_updates(
        writers.changes, taken, until=final.revision, start=start, compactions=[compacted]
    )
    print(
        f"\n[cache scenario] seed {writers.seed}: {writers.acknowledged} writes "
        f"({dict(writers.kinds)}), {writers.resent} sent again; "
        f"{len(seen)} updates to the callback, {len(taken)} to updates() "
        f"(from revision {start.revision}); the cache was at {before} when its member died, "
        f"still at {stuck} when the route healed; reset at "
        f"{[u.revision for u in resets]} with {sum(len(u.events) for u in resets)} events; "
        f"copy at revision {final.revision} with {len(final)} keys\n  faults: "
        + "; ".join(f"{at:+.2f}s {what}" for at, what in faults)
    )
    assert dict(final) == {kv.key: kv.value for kv in listed.kvs}
    assert not callback_problems, "\n".join(callback_problems[:10])
    assert not iterator_problems, "\n".join(iterator_problems[:10])
    assert not taking_failed
    assert relists == 1 and len(resets) == 1
    assert stuck < compacted <= resets[0].revision
    assert [u for u in taken if u.reset] == resets
    assert set(writers.kinds) == {"put", "delete", "delete-range", "transaction"}
