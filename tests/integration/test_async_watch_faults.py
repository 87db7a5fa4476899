"""Watches through failures on a real 3-member cluster: no event lost, none repeated."""

import time

import pytest

import etcd
from etcd._async.io import join, sleep, spawn
from etcd.testing import enable_auth

pytestmark = [pytest.mark.integration, pytest.mark.cluster]

WRITES = 200


async def write_stream(endpoints, prefix, count, revisions, pause=0.005):
    """Create ``count`` keys, one at a time, recording each one's revision.

    Each key is created only if absent, so a write whose outcome was unknown can be sent
    again without ever landing twice.
    """
    async with etcd.AsyncClient(endpoints=endpoints, timeout=10, connect_timeout=1) as writer:
        for i in range(count):
            key = f"{prefix}{i:04}"
            while True:
                try:
                    created = await writer.txn(
                        [etcd.Version(key) == 0], [etcd.Op.put(key, str(i))], [etcd.Op.range(key)]
                    )
                except etcd.EtcdConnectionFailed:
                    await sleep(0.05)
                    continue
                if created.succeeded:
                    revisions.append(created.header.revision)
                else:
                    revisions.append(created.responses[0].kvs[0].mod_revision)
                break
            await sleep(pause)


async def receive(watch, count, timeout=60):
    events: list[etcd.Event] = []
    deadline = time.monotonic() + timeout
    while len(events) < count:
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"only {len(events)} of {count} events arrived"
        events.extend((await watch.next_response(remaining)).events)
    return events


async def run_through(cluster, victim_of, prefix):
    """Watch ``prefix`` from a client connected to the victim, kill it mid-stream."""
    victim = victim_of(cluster)
    others = [m for m in cluster.members if m is not victim]
    endpoints = [victim.endpoint] + [m.endpoint for m in others]
    async with etcd.AsyncClient(endpoints=endpoints, timeout=10, connect_timeout=1) as client:
        assert client._transport.current_endpoint.target == victim.endpoint
        watch = client.watch_prefix(prefix)
        assert await watch.wait_created(10)
        revisions: list[int] = []
        other_endpoints = [m.endpoint for m in others]
        writer = spawn(write_stream, other_endpoints, prefix, WRITES, revisions, name="writer")
        while len(revisions) < WRITES // 3:
            await sleep(0.01)
        victim.kill()
        await join(writer, 120)
        events = await receive(watch, WRITES)
        watch.cancel()
    keys = [e.key for e in events]
    assert keys == [f"{prefix}{i:04}".encode() for i in range(WRITES)]
    assert [e.revision for e in events] == revisions
    assert len(set(e.revision for e in events)) == WRITES


async def test_a_watch_survives_the_death_of_its_member(etcd_cluster):
    await run_through(etcd_cluster, lambda c: c.followers()[0], "/faults/member/")


async def test_a_watch_survives_the_death_of_the_leader(etcd_cluster):
    await run_through(etcd_cluster, lambda c: c.leader(), "/faults/leader/")


async def test_compaction_while_the_watch_is_disconnected_is_reported(etcd_cluster):
    lonely, *others = etcd_cluster.members
    other_endpoints = [m.endpoint for m in others]
    async with etcd.AsyncClient(
        endpoints=[lonely.endpoint], timeout=5, connect_timeout=1
    ) as client:
        start = (await client.put("/faults/compact", "0")).header.revision
        watch = client.watch_stream("/faults/compact", start_revision=start + 1)
        assert await watch.wait_created(10)
        lonely.kill()
        etcd_cluster.leader(timeout=20)
        async with etcd.AsyncClient(endpoints=other_endpoints, timeout=10) as writer:
            await writer.put("/faults/compact", "1")
            latest = (await writer.put("/faults/compact", "2")).header.revision
            await writer.compact(latest, physical=True)
        lonely.restart()
        with pytest.raises(etcd.EtcdCompacted) as raised:
            await receive(watch, 1, timeout=60)
        assert raised.value.compact_revision == latest
        assert f"revision {start + 1}" in str(raised.value)


async def test_a_watch_created_from_now_resumes_without_a_gap(etcd_cluster):
    victim = etcd_cluster.followers()[0]
    others = [m.endpoint for m in etcd_cluster.members if m is not victim]
    async with etcd.AsyncClient(
        endpoints=[victim.endpoint, *others], timeout=10, connect_timeout=1
    ) as c:
        watch = c.watch_stream("/faults/now")
        assert await watch.wait_created(10)
        victim.kill()
        async with etcd.AsyncClient(endpoints=others, timeout=10) as writer:
            revision = (await writer.put("/faults/now", "while reconnecting")).header.revision
        (event,) = await receive(watch, 1)
        assert event.revision == revision
        watch.cancel()


async def test_a_watch_outlives_its_auth_token(etcd_server_factory):
    server = etcd_server_factory(auth_token="simple", auth_token_ttl=2)
    enable_auth([server.endpoint], "pw")
    async with etcd.AsyncClient(
        endpoints=[server.endpoint], username="root", password="pw"
    ) as client:
        first = client.watch_stream("/auth/w")
        assert await first.wait_created(5)
        await sleep(3.5)  # the token expires
        second = client.watch_stream("/auth/w2")  # created on the same stream, later
        assert await second.wait_created(10)
        await client.put("/auth/w", "1")
        await client.put("/auth/w2", "2")
        assert (await receive(first, 1))[0].value == b"1"
        assert (await receive(second, 1))[0].value == b"2"
        first.cancel()
        second.cancel()


async def test_a_watch_on_a_frozen_member_moves_to_a_healthy_one(etcd_cluster):
    # A SIGSTOPped member keeps its TCP connections open but answers nothing: only the
    # connection's keep-alive can tell, and the watch must then resume elsewhere.
    frozen = etcd_cluster.followers()[0]
    others = [m.endpoint for m in etcd_cluster.members if m is not frozen]
    async with etcd.AsyncClient(
        endpoints=[frozen.endpoint, *others], timeout=10, connect_timeout=1
    ) as c:
        watch = c.watch_stream("/faults/frozen")
        assert await watch.wait_created(10)
        frozen.pause()
        async with etcd.AsyncClient(endpoints=others, timeout=10) as writer:
            revision = (await writer.put("/faults/frozen", "after the freeze")).header.revision
        (event,) = await receive(watch, 1, timeout=60)
        assert event.revision == revision
        watch.cancel()


async def test_a_watch_on_a_member_that_lost_its_leader_resumes_once_it_is_back(etcd_cluster):
    # Watch streams ask for a member with a leader: a member cut off from the majority
    # ends them instead of leaving them silently open, and the watch keeps trying until
    # a member with a leader takes it back, without a gap or a repeat.
    member = etcd_cluster.followers()[0]
    others = [m for m in etcd_cluster.members if m is not member]
    endpoints = [member.endpoint] + [m.endpoint for m in others]
    async with etcd.AsyncClient(endpoints=endpoints, timeout=10, connect_timeout=1) as client:
        assert client._transport.current_endpoint.target == member.endpoint
        watch = client.watch_prefix("/faults/leaderless/")
        assert await watch.wait_created(10)
        before = (await client.put("/faults/leaderless/0", "before")).header.revision
        assert [e.revision for e in await receive(watch, 1)] == [before]
        assert client._watcher.streams_opened == 1
        for other in others:
            other.pause()
        try:
            # The member ends the stream once it has had no leader for a while; the
            # watch then reopens (here, or on a frozen member that never answers).
            deadline = time.monotonic() + 60
            while client._watcher.streams_opened < 3:
                assert time.monotonic() < deadline, "the watch stayed on a leaderless member"
                await sleep(0.1)
        finally:
            for other in others:
                other.resume()
        etcd_cluster.leader(timeout=30)
        async with etcd.AsyncClient(endpoints=[m.endpoint for m in others], timeout=10) as writer:
            after = (await writer.put("/faults/leaderless/1", "after")).header.revision
            last = (await writer.put("/faults/leaderless/2", "last")).header.revision
        events = await receive(watch, 2)
        watch.cancel()
    assert [(e.key, e.value, e.revision) for e in events] == [
        (b"/faults/leaderless/1", b"after", after),
        (b"/faults/leaderless/2", b"last", last),
    ]
    assert last == after + 1 and after == before + 1
