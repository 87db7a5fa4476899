"""A client's typed events against real etcd: calls, retries and fail-overs, logins
again, watch resumes and compactions, leases, locks, elections, STM and coalescing."""

import pytest

import etcd
from etcd._async.io import map_concurrently, sleep
from etcd.events import (
    CoalescedBatch,
    EndpointsChanged,
    Failover,
    KeepAliveAnswered,
    LeaseLost,
    OperationEnded,
    OperationStarted,
    Reauthenticated,
    Retry,
    StmRetry,
    WatchCompacted,
    WatchDelivered,
    WatchResumed,
)
from etcd.testing import enable_auth

pytestmark = pytest.mark.integration


def recording(client):
    events = []
    client.add_event_listener(events.append, inline=True)
    return events


def of_type(events, kind):
    return [event for event in events if isinstance(event, kind)]


async def wait_until(condition, timeout=15.0):
    waited = 0.0
    while not condition():
        assert waited < timeout, "timed out waiting for the event"
        await sleep(0.05)
        waited += 0.05


async def test_each_call_is_an_operation_with_its_outcome(etcd_server):
    async with etcd.AsyncClient(endpoints=[etcd_server.endpoint]) as client:
        events = recording(client)
        await client.put("/events/a", "secret-value")
        await client.range("/events/a")
        await client.txn([etcd.Value("/events/a") == "x"], [etcd.Op.put("/events/b", "1")], [])
        with pytest.raises(etcd.EtcdLeaseNotFound):
            await client.lease_revoke(0x1234)
    started = of_type(events, OperationStarted)
    ended = of_type(events, OperationEnded)
    assert [e.name for e in started] == ["KV.Put", "KV.Range", "KV.Txn", "Lease.LeaseRevoke"]
    assert [e.id for e in started] == [e.id for e in ended]
    assert started[0].key == b"/events/a" and started[0].kind == "call"
    assert [e.error_type for e in ended] == [None, None, None, "EtcdLeaseNotFound"]
    assert all(e.endpoint == etcd_server.endpoint and e.attempts == 1 for e in ended)
    assert ended[2].attributes == {
        "etcd.txn.compares": 1,
        "etcd.txn.success_ops": 1,
        "etcd.txn.failure_ops": 0,
    }
    assert "secret-value" not in repr(events)


async def test_retries_and_the_fail_over_belong_to_their_call(etcd_cluster):
    leader = etcd_cluster.leader(timeout=10)
    first = next(m for m in etcd_cluster.members if m is not leader)
    second = leader
    async with etcd.AsyncClient(
        endpoints=[first.endpoint, second.endpoint], timeout=10, connect_timeout=1
    ) as client:
        await client.put("/events/failover", "1")
        events = recording(client)
        first.kill()
        try:
            await client.range("/events/failover")
        finally:
            first.start()
    (ended,) = of_type(events, OperationEnded)
    assert ended.error_type is None
    assert ended.endpoint == second.endpoint
    assert ended.attempts >= 2
    (failover,) = of_type(events, Failover)
    assert (failover.from_endpoint, failover.to_endpoint) == (first.endpoint, second.endpoint)
    retries = of_type(events, Retry)
    assert retries and all(r.operation_id == ended.id and r.name == "KV.Range" for r in retries)


async def test_logging_in_again_is_reported_without_the_secrets(etcd_server_factory):
    server = etcd_server_factory(auth_token="simple", auth_token_ttl=2)
    enable_auth([server.endpoint], "pw-secret")
    async with etcd.AsyncClient(
        endpoints=[server.endpoint], username="root", password="pw-secret"
    ) as client:
        events = recording(client)
        await client.put("/events/auth", "1")
        token = client._transport._token
        await sleep(3.5)  # the token expires
        await client.range("/events/auth")
    assert of_type(events, Reauthenticated) == [Reauthenticated(server.endpoint)]
    assert "pw-secret" not in repr(events)
    assert token and token not in repr(events)


async def test_a_resumed_watch_and_a_compaction_are_reported(etcd_cluster):
    leader = etcd_cluster.leader(timeout=10)
    victim = next(m for m in etcd_cluster.members if m is not leader)
    other = leader
    async with etcd.AsyncClient(
        endpoints=[victim.endpoint, other.endpoint], timeout=10, connect_timeout=1
    ) as client:
        events = recording(client)
        start = (await client.put("/events/w", "0")).header.revision
        watch = client.watch_stream("/events/w", start_revision=start)
        assert len((await watch.next_response(10)).events) == 1
        victim.kill()
        try:
            await client.range("/events/w")  # a read, retried: the client moves on
            written = await client.put("/events/w", "1")
            assert (await watch.next_response(20)).events[0].revision == written.header.revision
        finally:
            victim.start()
        watch.cancel()
        resumed = of_type(events, WatchResumed)
        assert resumed and resumed[0].watch_id == watch.id
        assert resumed[0].revision == start + 1
        assert sum(e.events for e in of_type(events, WatchDelivered)) == 2

        await client.put("/events/w", "2")
        await client.compact((await client.put("/events/w", "3")).header.revision)
        old = client.watch_stream("/events/w", start_revision=start)
        with pytest.raises(etcd.EtcdCompacted):
            await old.next_response(10)
    (compacted,) = of_type(events, WatchCompacted)
    assert compacted.watch_id == old.id and compacted.revision == start
    assert compacted.compact_revision > start


async def test_keep_alives_and_a_lost_lease_are_reported(etcd_server):
    async with etcd.AsyncClient(endpoints=[etcd_server.endpoint]) as client:
        events = recording(client)
        lease = await client.lease(ttl=3)
        await wait_until(lambda: of_type(events, KeepAliveAnswered))
        answered = of_type(events, KeepAliveAnswered)[0]
        assert answered.lease_id == lease.id and answered.round_trip >= 0
        async with etcd.AsyncClient(endpoints=[etcd_server.endpoint]) as other:
            await other.lease_revoke(lease.id)
        await wait_until(lambda: of_type(events, LeaseLost))
    (lost,) = of_type(events, LeaseLost)
    assert lost.lease_id == lease.id and "no longer exists" in lost.reason


async def test_lock_acquire_campaign_and_stm_are_operations(etcd_server):
    async with etcd.AsyncClient(endpoints=[etcd_server.endpoint]) as client:
        events = recording(client)
        lock = client.lock("/events/lock", ttl=10)
        assert await lock.acquire(timeout=5)
        await lock.release()
        election = client.election("/events/election", ttl=10)
        assert await election.campaign("me", timeout=5)
        await election.resign()

        conflicts = []

        async def apply(stm):
            value = await stm.get("/events/stm")
            if not conflicts:
                conflicts.append(True)
                await client.put("/events/stm", "changed meanwhile")
            stm.put("/events/stm", (value or b"") + b"!")

        await client.stm(apply)
    logical = [e for e in of_type(events, OperationEnded) if e.kind != "call"]
    assert [(e.kind, e.error_type) for e in logical] == [
        ("lock.acquire", None),
        ("election.campaign", None),
        ("stm", None),
    ]
    assert logical[0].attributes["etcd.lock.acquired"] == "true"
    assert logical[2].attributes["etcd.stm.attempts"] == 2
    (retry,) = of_type(events, StmRetry)
    assert retry.operation_id == logical[2].id and retry.attempt == 2
    starts = {e.id: e for e in of_type(events, OperationStarted)}
    assert starts[logical[0].id].key == b"/events/lock"


async def test_coalesced_batches_are_reported(etcd_server):
    async with etcd.AsyncClient(endpoints=[etcd_server.endpoint], coalesce=True) as client:
        events = recording(client)
        await client.put("/events/coalesced", "1")
        await map_concurrently(client.range, ["/events/coalesced"] * 32, name="getter")
    batches = of_type(events, CoalescedBatch)
    assert batches and all(b.kind == "get" and b.size >= 2 for b in batches)


async def test_an_endpoint_sync_reports_the_new_list(etcd_cluster):
    first = etcd_cluster.members[0]
    async with etcd.AsyncClient(endpoints=[first.endpoint]) as client:
        events = recording(client)
        await client.sync_endpoints()
    (changed,) = of_type(events, EndpointsChanged)
    assert changed.before == (first.endpoint,)
    assert sorted(changed.after) == sorted(m.endpoint for m in etcd_cluster.members)


async def test_a_listener_that_raises_never_breaks_a_call(etcd_server):
    async with etcd.AsyncClient(endpoints=[etcd_server.endpoint]) as client:

        def broken(event):
            raise RuntimeError("listener bug")

        client.add_event_listener(broken, inline=True)
        client.add_event_listener(broken)
        await client.put("/events/robust", "1")
        assert (await client.range("/events/robust")).kvs[0].value == b"1"
        client.remove_event_listener(broken)
        assert not client._transport.events.active
