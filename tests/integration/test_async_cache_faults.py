"""The live cache through failures on real etcd clusters: a member killed under it, a
compaction while it is cut off, an expired auth token, connections cut by a fault proxy,
a cluster gone for good, a member that is behind.

Every test ends the same way: the copy equals ``range(prefix, revision=cache.revision)``,
and each subscriber (a callback added before the cache started, and an ``updates()``
iterator that began from a snapshot) saw every revision the writers wrote, in order, none
lost, repeated or reordered, a reset only where a compaction removed the history
(``tests/faults/cache_check.py`` says exactly what is checked).
"""

import collections
import random
import time
from typing import Any

import pytest

import etcd
from etcd._async.io import join, sleep, spawn

from ..faults.cache_check import check_updates
from ..faults.proxy import FaultProxy

pytestmark = [pytest.mark.integration, pytest.mark.cluster, pytest.mark.timeout(60)]

MARKERS = "/cache-faults-markers"


class Writers:
    """A few writers making puts, deletes, range deletes and transactions under
    ``prefix``, each on keys of its own and one operation at a time; ``changes`` holds
    every change that took effect, by revision.

    Each operation is one transaction that also creates a marker key of its own, outside
    the prefix, on condition that the marker does not exist yet. One whose outcome is
    unknown (its member died under it) is sent again: it either applies then, or finds
    its marker, whose ``mod_revision`` says when it applied. So every change is known
    with its revision, and none is made twice. Every put writes a new value.
    """

    def __init__(self, endpoints, prefix, *, writers=2, keys=4, seed=1, **options):
        self.endpoints = list(endpoints)
        self.prefix = prefix
        self.options = {"timeout": 5, "connect_timeout": 1, **options}
        self.keys = keys
        self.changes: dict[int, dict[bytes, bytes | None]] = {}
        self.kinds: collections.Counter[str] = collections.Counter()
        self.acknowledged = 0
        self.resent = 0
        self.errors: list[str] = []
        self._live: list[dict[bytes, bytes]] = [{} for _ in range(writers)]
        self._steps = [0] * writers
        self._rngs = [random.Random(seed * 1000 + n) for n in range(writers)]

    @property
    def last_revision(self):
        return max(self.changes, default=0)

    async def write(self, operations, pause=0.005):
        """Every writer makes ``operations`` more operations; returns when all are done."""
        async with etcd.AsyncClient(endpoints=self.endpoints, **self.options) as client:
            workers = [
                spawn(self._write, client, n, operations, pause, name=f"test-cache-writer-{n}")
                for n in range(len(self._live))
            ]
            for worker in workers:
                await join(worker, 50)
        assert not self.errors, self.errors

    async def _write(self, client, n, operations, pause):
        try:
            for _ in range(operations):
                await self._one(client, n)
                await sleep(pause)
        except Exception as error:  # reported by write(), in the test's own task
            self.errors.append(f"writer {n}: {error!r}")

    def _plan(self, n):
        """The next operation of writer ``n``: its ops, its changes, its kind."""
        rng, live, step = self._rngs[n], self._live[n], self._steps[n]
        keys = [f"{self.prefix}w{n}/k{i}".encode() for i in range(self.keys)]
        existing = sorted(live)
        choice = rng.random()
        if existing and choice < 0.2:
            key = rng.choice(existing)
            return [etcd.Op.delete_range(key)], {key: None}, "delete"
        if len(existing) >= 2 and choice < 0.3:
            whole = etcd.Op.delete_range(f"{self.prefix}w{n}/", prefix=True)
            return [whole], dict.fromkeys(existing), "delete-range"
        if choice < 0.65:
            put_keys = rng.sample(keys, 2)
            others = [key for key in existing if key not in put_keys]
            changes: dict[bytes, bytes | None] = {
                key: f"w{n}-{step}-{key.decode()[-1]}".encode() for key in put_keys
            }
            ops: list[etcd.Op] = [etcd.Op.put(key, value) for key, value in changes.items()]
            if others:
                gone = rng.choice(others)
                ops.append(etcd.Op.delete_range(gone))
                changes[gone] = None
            return ops, changes, "transaction"
        key = rng.choice(keys)
        value = f"w{n}-{step}".encode()
        return [etcd.Op.put(key, value)], {key: value}, "put"

    async def _one(self, client, n):
        ops, changes, kind = self._plan(n)
        marker = f"{MARKERS}{self.prefix}{n}/{self._steps[n]}"
        self._steps[n] += 1
        deadline = time.monotonic() + 40
        while True:
            try:
                answer = await client.txn(
                    [etcd.Version(marker) == 0],
                    [etcd.Op.put(marker, kind), *ops],
                    [etcd.Op.range(marker)],
                )
                break
            except etcd.EtcdConnectionFailed:
                assert time.monotonic() < deadline, f"writer {n} could not write for 40 s"
                self.resent += 1
                await sleep(0.05)
        if answer.succeeded:
            revision = answer.header.revision
        else:
            revision = answer.responses[0].kvs[0].mod_revision
        assert revision not in self.changes, f"two operations at revision {revision}"
        self.changes[revision] = changes
        for key, value in changes.items():
            if value is None:
                self._live[n].pop(key, None)
            else:
                self._live[n][key] = value
        self.kinds[kind] += 1
        self.acknowledged += 1


class Subscriber:
    """Takes every update of ``cache.updates()`` on a task of its own, from a snapshot
    taken once it is subscribed (updates at or below the snapshot's revision are in it)."""

    def __init__(self, cache):
        self.cache = cache
        self.updates: list[etcd.CacheUpdate[bytes]] = []
        self.error: BaseException | None = None
        self.start: etcd.CacheSnapshot[bytes] | None = None
        self._worker = None

    async def begin(self):
        subscribed = len(self.cache._subscribers)
        self._worker = spawn(self._take, name="test-cache-subscriber")
        await until(lambda: len(self.cache._subscribers) > subscribed, 10, "subscribed")
        self.start = self.cache.snapshot()
        return self

    async def _take(self):
        try:
            async for update in self.cache.updates():
                self.updates.append(update)
        except etcd.EtcdException as error:
            self.error = error

    async def end(self):
        """Wait until the iterator ended (the cache was closed, or failed)."""
        assert self._worker is not None
        await join(self._worker, 10)


async def until(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"not {what} within {timeout} s"
        await sleep(0.01)


async def caught_up(cache, revision, timeout=30):
    """Wait until the copy reached ``revision`` (a revision the writers wrote under the
    prefix, which the watch itself brings: no progress notification is asked for)."""
    deadline = time.monotonic() + timeout
    while cache.revision < revision:
        if cache.error is not None:
            raise cache.error
        assert time.monotonic() < deadline, (
            f"the cache stayed at revision {cache.revision}, short of {revision}"
        )
        await sleep(0.02)


async def assert_equals_the_store(endpoints, cache, **options):
    """The copy equals a linearizable read of the prefix at the copy's revision."""
    snapshot = cache.snapshot()
    async with etcd.AsyncClient(endpoints=endpoints, timeout=10, **options) as reader:
        listed = await reader.range(cache.prefix, prefix=True, revision=snapshot.revision)
    assert dict(snapshot) == {kv.key: kv.value for kv in listed.kvs}
    return snapshot


async def assert_followed(writers, seen, subscriber, endpoints, compactions=(), **options):
    """Once the cache is closed (nothing moves any more): its copy equals the store at its
    revision, and both subscribers saw every revision up to it."""
    final = await assert_equals_the_store(endpoints, subscriber.cache, **options)
    problems = check_updates(writers.changes, seen, until=final.revision, compactions=compactions)
    assert not problems, "callback: " + "\n".join(problems[:10])
    problems = check_updates(
        writers.changes,
        subscriber.updates,
        until=final.revision,
        start=subscriber.start,
        compactions=compactions,
    )
    assert not problems, "updates(): " + "\n".join(problems[:10])
    assert subscriber.error is None
    return final


def watched_cache(client, prefix, seen, **options):
    cache = client.cache(prefix, page_size=5, **options)
    cache.add_callback(seen.append)
    return cache


# --- a member dies ---------------------------------------------------------------------


async def test_the_cache_follows_through_the_death_of_its_member(etcd_cluster):
    victim = etcd_cluster.followers()[0]
    others = [m.endpoint for m in etcd_cluster.members if m is not victim]
    prefix = "/cf/member/"
    writers = Writers(others, prefix)
    await writers.write(4)  # something to list, in pages
    seen: list[etcd.CacheUpdate[bytes]] = []
    async with etcd.AsyncClient(
        endpoints=[victim.endpoint, *others], timeout=10, connect_timeout=1
    ) as client:
        assert client._transport.current_endpoint.target == victim.endpoint
        async with watched_cache(client, prefix, seen) as cache:
            await cache.wait_ready(10)
            subscriber = await Subscriber(cache).begin()
            writing = spawn(writers.write, 60, name="test-cache-writing")
            await until(lambda: writers.acknowledged >= 30, 30, "30 writes done")
            victim.kill()
            await join(writing, 50)
            assert writers.acknowledged == 2 * 64
            await cache.wait_for_revision(writers.last_revision, 30)
            await caught_up(cache, writers.last_revision)
            assert client._transport.current_endpoint.target != victim.endpoint
        await subscriber.end()
    await assert_followed(writers, seen, subscriber, others)
    assert cache.relists == 0 and not any(u.reset for u in seen)
    assert set(writers.kinds) == {"put", "delete", "delete-range", "transaction"}


# --- a compaction while the cache's member is down ---------------------------------------


async def test_a_compaction_while_its_member_is_down_is_one_reset(etcd_cluster):
    lonely = etcd_cluster.followers()[0]
    others = [m.endpoint for m in etcd_cluster.members if m is not lonely]
    prefix = "/cf/compact/"
    writers = Writers(others, prefix, seed=2)
    await writers.write(4)
    seen: list[etcd.CacheUpdate[bytes]] = []
    async with etcd.AsyncClient(
        endpoints=[lonely.endpoint], timeout=5, connect_timeout=1
    ) as client:
        async with watched_cache(client, prefix, seen) as cache:
            await cache.wait_ready(10)
            subscriber = await Subscriber(cache).begin()
            await writers.write(10)
            await caught_up(cache, writers.last_revision)
            before = cache.revision
            # Killed while nobody writes: etcd 3.5 before 3.5.3 may replay writes that
            # were in flight when it crashed, which is not what this test is about.
            lonely.kill()
            etcd_cluster.leader(timeout=20)
            await writers.write(15)  # puts, deletes, transactions while it is down
            async with etcd.AsyncClient(endpoints=others, timeout=10) as admin:
                compacted = (await admin.range(MARKERS)).header.revision
                await admin.compact(compacted, physical=True)
            assert compacted > before + 1
            await writers.write(3)  # after the compaction, still down
            lonely.restart()
            await until(lambda: any(u.reset for u in seen), 30, "listed again")
            await writers.write(5)  # and after
            await caught_up(cache, writers.last_revision)
            await cache.wait_for_revision(writers.last_revision, 10)
            assert cache.relists == 1
        await subscriber.end()
    await assert_followed(writers, seen, subscriber, others, compactions=[compacted])
    (reset,) = [u for u in seen if u.reset]
    assert before < reset.revision and compacted <= reset.revision
    assert {e.type for e in reset.events} == {etcd.EventType.PUT, etcd.EventType.DELETE}
    assert [u for u in subscriber.updates if u.reset] == [reset]


# --- an auth token expires ----------------------------------------------------------------


async def enable_auth(server):
    async with etcd.AsyncClient(endpoints=[server.endpoint], timeout=10) as admin:
        await admin.user_add("root", "pw")
        await admin.user_grant_role("root", "root")
        await admin.auth_enable()


async def test_the_cache_outlives_its_auth_token(etcd_server_factory):
    # Simple tokens live 2 s after their last use. The cache's client uses its token
    # only to list and to open the watch stream, so it has expired each time the proxy
    # cuts the stream: the stream is opened again after logging in again, and a
    # relist (the history was compacted meanwhile) logs in again too.
    server = etcd_server_factory(auth_token="simple", auth_token_ttl=2)
    await enable_auth(server)
    prefix = "/cf/auth/"
    auth: dict[str, Any] = {"username": "root", "password": "pw"}
    writers = Writers([server.endpoint], prefix, seed=3, **auth)
    await writers.write(3)
    seen: list[etcd.CacheUpdate[bytes]] = []
    with FaultProxy(server.client_port) as proxy:
        async with etcd.AsyncClient(
            endpoints=[proxy.address], timeout=5, connect_timeout=1, **auth
        ) as client:
            async with watched_cache(client, prefix, seen) as cache:
                await cache.wait_ready(10)
                subscriber = await Subscriber(cache).begin()
                await writers.write(3)
                await sleep(3.5)  # the cache's token expires
                proxy.reset()  # its watch stream must be opened again
                await writers.write(5)
                await caught_up(cache, writers.last_revision)
                await sleep(3.5)  # expired again
                proxy.blackhole()
                proxy.reset()
                await writers.write(5)
                async with etcd.AsyncClient(
                    endpoints=[server.endpoint], timeout=10, **auth
                ) as admin:
                    compacted = (await admin.range(MARKERS)).header.revision
                    await admin.compact(compacted)
                proxy.heal()
                await caught_up(cache, writers.last_revision)
                await writers.write(3)
                await caught_up(cache, writers.last_revision)
                await cache.wait_for_revision(writers.last_revision, 10)
                assert cache.error is None and cache.relists == 1
            await subscriber.end()
    await assert_followed(
        writers, seen, subscriber, [server.endpoint], compactions=[compacted], **auth
    )


# --- connections cut through a fault proxy ----------------------------------------------


async def test_a_cache_whose_connection_is_cut_resumes_without_a_gap(etcd_cluster):
    member = etcd_cluster.members[0]
    endpoints = etcd_cluster.endpoints
    prefix = "/cf/cut/"
    writers = Writers(endpoints, prefix, seed=4)
    await writers.write(4)
    seen: list[etcd.CacheUpdate[bytes]] = []
    with FaultProxy(member.client_port) as proxy:
        async with etcd.AsyncClient(
            endpoints=[proxy.address], timeout=5, connect_timeout=1
        ) as client:
            async with watched_cache(client, prefix, seen) as cache:
                await cache.wait_ready(10)
                subscriber = await Subscriber(cache).begin()
                writing = spawn(writers.write, 80, 0.01, name="test-cache-writing")
                await until(lambda: writers.acknowledged >= 20, 30, "20 writes done")
                proxy.reset_every(0.3)  # every connection reset, again and again
                await sleep(2.0)
                proxy.heal()
                await until(lambda: cache.revision >= writers.last_revision, 30, "resumed")
                proxy.blackhole()  # then nothing moves for a while
                proxy.reset()
                await sleep(2.0)
                proxy.heal()
                await join(writing, 50)
                await caught_up(cache, writers.last_revision)
                await cache.wait_for_revision(writers.last_revision, 10)
                assert proxy.resets_done > 1
            await subscriber.end()
    await assert_followed(writers, seen, subscriber, endpoints)
    assert cache.relists == 0


async def test_a_cache_cut_off_while_thousands_of_revisions_are_written_catches_up(etcd_cluster):
    # etcd sends a resumed watch's history in batches of at most 1,000 revisions, each
    # stamped with the store's current revision, and (before 3.5.8) answers a progress
    # request at once, ahead of the batches still to come. Neither may make the cache
    # skip a batch, even with a waiter asking for progress all along.
    member = etcd_cluster.members[0]
    prefix = "/cf/backlog/"
    writers = Writers(etcd_cluster.endpoints, prefix, seed=7)
    await writers.write(2)
    seen: list[etcd.CacheUpdate[bytes]] = []
    with FaultProxy(member.client_port) as proxy:
        async with etcd.AsyncClient(
            endpoints=[proxy.address], timeout=5, connect_timeout=1
        ) as client:
            async with watched_cache(client, prefix, seen) as cache:
                await cache.wait_ready(10)
                subscriber = await Subscriber(cache).begin()
                proxy.blackhole()
                proxy.reset()
                await writers.write(700, pause=0)  # 1,400 revisions under the prefix
                waiter = spawn(
                    cache.wait_for_revision, writers.last_revision, 40, name="test-cache-waiter"
                )
                await sleep(0.5)  # the waiter asks for progress while the cache is cut off
                proxy.heal()
                await join(waiter, 45)
                await caught_up(cache, writers.last_revision)
            await subscriber.end()
    assert writers.last_revision - min(writers.changes) > 1000
    await assert_followed(writers, seen, subscriber, etcd_cluster.endpoints)


async def test_a_cache_closed_as_soon_as_it_caught_up_still_hands_out_every_update(
    etcd_cluster,
):
    # A resumed watch brings many revisions in one response: the copy applies them at
    # once, then hands them out one by one (here slowly, through a slow callback). Closing
    # the cache as soon as its revision shows the last of them must not end an iterator
    # ahead of the updates still being handed out.
    member = etcd_cluster.members[0]
    prefix = "/cf/closing/"
    writers = Writers(etcd_cluster.endpoints, prefix, seed=8)
    await writers.write(1)
    seen: list[etcd.CacheUpdate[bytes]] = []
    with FaultProxy(member.client_port) as proxy:
        async with etcd.AsyncClient(
            endpoints=[proxy.address], timeout=5, connect_timeout=1
        ) as client:
            async with watched_cache(client, prefix, seen) as cache:
                await cache.wait_ready(10)
                subscriber = await Subscriber(cache).begin()
                cache.add_callback(lambda update: time.sleep(0.01))
                proxy.blackhole()
                proxy.reset()
                await writers.write(30, pause=0)
                proxy.heal()
                await caught_up(cache, writers.last_revision)
            await subscriber.end()
    await assert_followed(writers, seen, subscriber, etcd_cluster.endpoints)


# --- the whole cluster is gone --------------------------------------------------------------


async def test_a_cache_whose_cluster_is_gone_fails_and_says_so(etcd_cluster):
    prefix = "/cf/gone/"
    writers = Writers(etcd_cluster.endpoints, prefix, seed=5)
    await writers.write(3)
    async with etcd.AsyncClient(
        endpoints=etcd_cluster.endpoints, timeout=2, connect_timeout=0.5
    ) as client:
        async with client.cache(prefix, give_up_after=2) as cache:
            await cache.wait_ready(10)
            subscriber = await Subscriber(cache).begin()
            # Idle for longer than give_up_after (and than the cache's idle probe
            # interval), with etcd there: that is no failure.
            await sleep(6)
            assert cache.error is None and cache.ready
            await writers.write(1)
            await cache.wait_for_revision(writers.last_revision, 10)
            stale = cache.revision
            for member in etcd_cluster.members:
                member.kill()
            with pytest.raises(etcd.EtcdConnectionFailed) as raised:
                await cache.wait_for_revision(stale + 1, 30)
            assert raised.value is cache.error
            with pytest.raises(etcd.EtcdConnectionFailed):
                await cache.wait_ready(1)
            assert not cache.ready and "failed" in repr(cache)
            await subscriber.end()
            assert subscriber.error is cache.error
            with pytest.raises(etcd.EtcdConnectionFailed):
                async for _ in cache.updates():
                    pass
    assert cache.revision == stale


async def test_a_cache_whose_server_dies_before_its_watch_is_created_fails(
    etcd_server_factory,
):
    # The listing succeeds; the server dies before the watch is created: the cache must
    # give up after give_up_after seconds, not wait for the watch for ever.
    server = etcd_server_factory()
    async with etcd.AsyncClient(endpoints=[server.endpoint], timeout=10) as writer:
        await writer.put("/cf/early/a", "1")
    async with etcd.AsyncClient(
        endpoints=[server.endpoint], timeout=2, connect_timeout=0.5
    ) as client:
        cache = client.cache("/cf/early/", give_up_after=2)
        cache.add_callback(lambda update: server.kill())  # on the first listing
        async with cache:
            with pytest.raises(etcd.EtcdConnectionFailed):
                await cache.wait_ready(30)
            assert isinstance(cache.error, etcd.EtcdConnectionFailed)
            with pytest.raises(etcd.EtcdConnectionFailed):
                await cache.wait_for_revision(cache.revision + 1, 5)
        assert dict(cache.snapshot()) == {b"/cf/early/a": b"1"}


# --- a member that is behind ---------------------------------------------------------------


async def test_the_revision_never_goes_back_on_a_member_that_is_behind(etcd_cluster):
    # The cache's client reaches one member through a proxy and another, frozen
    # (SIGSTOP) while the writers go on, directly. The proxy is closed, so the client
    # must move to the frozen member, which is then continued: it has every write to
    # catch up on when the watch resumes there.
    leader = etcd_cluster.leader()
    first, behind = etcd_cluster.followers()
    prefix = "/cf/behind/"
    writers = Writers([leader.endpoint, first.endpoint], prefix, seed=6)
    await writers.write(4)
    seen: list[etcd.CacheUpdate[bytes]] = []
    samples: list[int] = []
    with FaultProxy(first.client_port) as proxy:
        async with etcd.AsyncClient(
            endpoints=[proxy.address, behind.endpoint], timeout=5, connect_timeout=1
        ) as client:
            async with watched_cache(client, prefix, seen) as cache:
                await cache.wait_ready(10)
                subscriber = await Subscriber(cache).begin()
                sampling = True

                async def sample():
                    while sampling:
                        samples.append(cache.revision)
                        await sleep(0.002)

                sampler = spawn(sample, name="test-cache-sampler")
                await writers.write(5)
                behind.pause()
                await writers.write(30)  # the frozen member misses these
                await caught_up(cache, writers.last_revision)
                proxy.reset()
                proxy.close()  # the client must leave for the frozen member
                await writers.write(8)
                await sleep(1.5)  # it tries the frozen member meanwhile
                behind.resume()
                await writers.write(15)
                await caught_up(cache, writers.last_revision)
                await cache.wait_for_revision(writers.last_revision, 10)
                assert client._transport.current_endpoint.target == behind.endpoint
                sampling = False
                await join(sampler, 5)
            await subscriber.end()
    assert samples == sorted(samples), "the cache's revision went back"
    await assert_followed(writers, seen, subscriber, [leader.endpoint])
