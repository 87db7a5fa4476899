"""etcd.otel against real etcd: a span per logical operation, its retries and fail-over
as children, standalone spans for watch resumes and lost leases, the metrics, and no
value, password or token anywhere."""

import pytest

pytest.importorskip(
    "opentelemetry.sdk", reason="OpenTelemetry's SDK is not installed (pip install -e '.[test]')"
)

from opentelemetry import trace
from opentelemetry.trace import SpanKind, StatusCode

import etcd
import etcd.otel
from etcd._async.io import map_concurrently, sleep
from etcd.testing import enable_auth

from ._otel import Telemetry

pytestmark = pytest.mark.integration


def instrumented(client, **options):
    telemetry = Telemetry()
    etcd.otel.instrument(
        client,
        tracer_provider=telemetry.tracer_provider,
        meter_provider=telemetry.meter_provider,
        **options,
    )
    return telemetry


def follower_and_leader(cluster):
    leader = cluster.leader(timeout=10)
    return next(member for member in cluster.members if member is not leader), leader


async def wait_until(condition, timeout=15.0):
    waited = 0.0
    while not condition():
        assert waited < timeout, "timed out waiting for the telemetry"
        await sleep(0.05)
        waited += 0.05


async def test_each_call_is_a_client_span_with_the_database_conventions(etcd_server):
    host, port = etcd_server.endpoint.rsplit(":", 1)
    async with etcd.AsyncClient(endpoints=[etcd_server.endpoint]) as client:
        telemetry = instrumented(client)
        await client.put("/otel/a", "1")
        await client.range("/otel/a")
        await client.txn([etcd.Value("/otel/a") == "1"], [etcd.Op.put("/otel/b", "2")], [])
        with pytest.raises(etcd.EtcdLeaseNotFound):
            await client.lease_revoke(0x4242)
    put, _, txn, revoke = telemetry.spans
    assert [span.name for span in telemetry.spans] == [
        "KV.Put",
        "KV.Range",
        "KV.Txn",
        "Lease.LeaseRevoke",
    ]
    for span in telemetry.spans:
        assert span.kind is SpanKind.CLIENT and span.parent is None
        assert span.attributes["db.system.name"] == "etcd"
        assert span.attributes["db.operation.name"] == span.name
        assert span.attributes["server.address"] == host
        assert span.attributes["server.port"] == int(port)
        assert span.attributes["etcd.attempts"] == 1
        assert "etcd.key" not in span.attributes
    assert put.status.status_code is StatusCode.UNSET and "error.type" not in put.attributes
    assert txn.attributes["etcd.txn.compares"] == 1
    assert txn.attributes["etcd.txn.success_ops"] == 1
    assert txn.attributes["etcd.txn.failure_ops"] == 0
    assert revoke.status.status_code is StatusCode.ERROR
    assert revoke.attributes["error.type"] == "EtcdLeaseNotFound"
    assert revoke.attributes["db.response.status_code"] == "NOT_FOUND"

    durations = {
        (point.attributes["db.operation.name"], point.attributes.get("error.type")): point.count
        for point in telemetry.points("db.client.operation.duration")
    }
    assert durations == {
        ("KV.Put", None): 1,
        ("KV.Range", None): 1,
        ("KV.Txn", None): 1,
        ("Lease.LeaseRevoke", "EtcdLeaseNotFound"): 1,
    }
    assert all(p.value == 0 for p in telemetry.points("etcd.client.calls.in_flight"))


async def test_keys_are_recorded_only_when_asked(etcd_server):
    async with etcd.AsyncClient(endpoints=[etcd_server.endpoint]) as client:
        quiet = instrumented(client)
        keyed = instrumented(client, record_keys=True)
        await client.put("/otel/tenant-42/config", "1")
        await client.range("/otel/tenant-42/config")
    assert all("etcd.key" not in span.attributes for span in quiet.spans)
    assert [span.attributes["etcd.key"] for span in keyed.spans] == ["/otel/tenant-42/config"] * 2
    assert "tenant-42" not in " ".join(quiet.every_attribute_value())


async def test_a_call_is_the_current_span_of_its_own_task_or_thread(etcd_server):
    async with etcd.AsyncClient(endpoints=[etcd_server.endpoint]) as client:
        telemetry = instrumented(client)
        tracer = telemetry.tracer_provider.get_tracer("the application")

        async def handle(request):
            with tracer.start_as_current_span(f"request {request}") as outer:
                await client.put(f"/otel/concurrent/{request}", "1")
                await client.range(f"/otel/concurrent/{request}")
                # The call's span was detached: the application's span is current again.
                assert trace.get_current_span() is outer

        await map_concurrently(handle, list(range(8)), name="request")
    for request in range(8):
        (outer,) = telemetry.named(f"request {request}")
        assert [span.name for span in telemetry.children(outer)] == ["KV.Put", "KV.Range"]


async def test_lock_campaign_and_stm_are_spans_with_their_calls_inside(etcd_server):
    async with etcd.AsyncClient(endpoints=[etcd_server.endpoint]) as client:
        holder = client.lock("/otel/lock", ttl=10)
        assert await holder.acquire(timeout=5)
        telemetry = instrumented(client)
        waiter = client.lock("/otel/lock", ttl=10)

        async def take_turns(role):
            if role == "waiter":
                return await waiter.acquire(timeout=10)
            await sleep(0.5)
            await holder.release()
            return True

        assert await map_concurrently(take_turns, ["waiter", "holder"], name="lock") == [True] * 2
        await waiter.release()

        election = client.election("/otel/election", ttl=10)
        assert await election.campaign("candidate", timeout=5)
        await election.resign()

        conflicts = []

        async def apply(stm):
            value = await stm.get("/otel/stm")
            if not conflicts:
                conflicts.append(True)
                await client.put("/otel/stm", "changed meanwhile")
            stm.put("/otel/stm", (value or b"") + b"!")

        await client.stm(apply)

    (acquire,) = telemetry.named("lock.acquire")
    assert acquire.kind is SpanKind.INTERNAL
    assert acquire.attributes["etcd.lock.acquired"] == "true"
    assert acquire.attributes["etcd.lock.wait"] > 0  # it queued behind the holder
    inside = [span.name for span in telemetry.children(acquire)]
    assert "Lease.LeaseGrant" in inside and "KV.Txn" in inside

    (campaign,) = telemetry.named("election.campaign")
    assert campaign.status.status_code is StatusCode.UNSET
    assert "KV.Txn" in [span.name for span in telemetry.children(campaign)]

    (stm,) = telemetry.named("stm")
    assert stm.attributes["etcd.stm.attempts"] == 2
    assert stm.attributes["etcd.stm.isolation"] == "serializable_snapshot"
    assert [(e.name, dict(e.attributes)) for e in stm.events] == [
        ("stm.retry", {"etcd.stm.attempt": 2})
    ]
    assert [span.name for span in telemetry.children(stm)].count("KV.Txn") == 2
    assert telemetry.total("etcd.client.stm.retries") == 1
    kinds = {
        p.attributes["etcd.operation.kind"]
        for p in telemetry.points("etcd.client.operation.duration")
    }
    assert kinds == {"lock.acquire", "election.campaign", "stm"}


async def test_retries_and_the_fail_over_appear_in_the_trace_of_their_call(etcd_cluster):
    follower, leader = follower_and_leader(etcd_cluster)
    async with etcd.AsyncClient(
        endpoints=[follower.endpoint, leader.endpoint], timeout=10, connect_timeout=1
    ) as client:
        await client.put("/otel/failover", "1")  # connected to the follower
        telemetry = instrumented(client)
        follower.kill()
        try:
            # A read, so it is sent again: a write in flight to a killed member may have
            # been applied, and is not retried.
            await client.range("/otel/failover")
        finally:
            follower.start()
    (call,) = telemetry.named("KV.Range")
    assert call.status.status_code is StatusCode.UNSET
    assert call.attributes["server.port"] == leader.client_port
    assert call.attributes["etcd.attempts"] >= 2
    retries = telemetry.named("retry")
    assert retries and all(span.parent.span_id == call.context.span_id for span in retries)
    first = retries[0]
    assert first.status.status_code is StatusCode.ERROR
    assert first.attributes["db.response.status_code"] == "UNAVAILABLE"
    assert first.attributes["server.port"] == follower.client_port
    assert first.attributes["etcd.retry.attempt"] == 1
    (failover,) = [event for event in call.events if event.name == "failover"]
    assert failover.attributes["etcd.failover.from"] == follower.endpoint
    assert failover.attributes["etcd.failover.to"] == leader.endpoint
    assert telemetry.total("etcd.client.retries") == len(retries)
    assert telemetry.total("etcd.client.failovers") == 1


async def test_watch_resumes_and_compactions_are_spans_of_their_own(etcd_cluster):
    follower, leader = follower_and_leader(etcd_cluster)
    async with etcd.AsyncClient(
        endpoints=[follower.endpoint, leader.endpoint], timeout=10, connect_timeout=1
    ) as client:
        telemetry = instrumented(client)
        start = (await client.put("/otel/watched", "0")).header.revision
        watch = client.watch_stream("/otel/watched", start_revision=start)
        assert len((await watch.next_response(10)).events) == 1
        follower.kill()
        try:
            await client.range("/otel/watched")
            written = await client.put("/otel/watched", "1")
            assert (await watch.next_response(20)).events[0].revision == written.header.revision
        finally:
            follower.start()
        watch.cancel()
        await client.compact((await client.put("/otel/watched", "2")).header.revision)
        old = client.watch_stream("/otel/watched", start_revision=start)
        with pytest.raises(etcd.EtcdCompacted):
            await old.next_response(10)
    (resumed,) = telemetry.named("watch.resume")
    assert resumed.parent is None  # its own trace: no operation is under way
    assert resumed.attributes["etcd.watch.id"] == watch.id
    assert resumed.attributes["etcd.watch.revision"] == start + 1
    (compacted,) = telemetry.named("watch.compacted")
    assert compacted.status.status_code is StatusCode.ERROR
    assert compacted.attributes["etcd.watch.revision"] == start
    assert compacted.attributes["etcd.watch.compact_revision"] > start
    assert telemetry.total("etcd.client.watch.resumes") == 1
    assert telemetry.total("etcd.client.watch.compactions") == 1
    assert telemetry.total("etcd.client.watch.events") == 2


async def test_keep_alives_and_a_lost_lease(etcd_server):
    async with etcd.AsyncClient(endpoints=[etcd_server.endpoint]) as client:
        telemetry = instrumented(client)
        lease = await client.lease(ttl=3)
        await wait_until(lambda: telemetry.total("etcd.client.lease.keepalive.duration") >= 1)
        async with etcd.AsyncClient(endpoints=[etcd_server.endpoint]) as other:
            await other.lease_revoke(lease.id)
        await wait_until(lambda: telemetry.named("lease.lost"))
    (lost,) = telemetry.named("lease.lost")
    assert lost.parent is None and lost.status.status_code is StatusCode.ERROR
    assert lost.attributes["etcd.lease.id"] == lease.id
    assert "no longer exists" in lost.attributes["etcd.lease.lost_reason"]
    assert telemetry.total("etcd.client.lease.lost") == 1


async def test_coalesced_batches_are_measured(etcd_server):
    async with etcd.AsyncClient(endpoints=[etcd_server.endpoint], coalesce=True) as client:
        telemetry = instrumented(client)
        await client.put("/otel/coalesced", "1")
        await map_concurrently(client.range, ["/otel/coalesced"] * 32, name="getter")
    sizes = telemetry.points("etcd.client.coalesce.batch.size")
    assert sizes and {p.attributes["etcd.coalesce.kind"] for p in sizes} == {"get"}
    assert sum(p.sum for p in sizes) >= 2


async def test_no_value_password_or_token_reaches_a_span_or_a_metric(etcd_server_factory):
    server = etcd_server_factory(auth_token="simple", auth_token_ttl=2)
    enable_auth([server.endpoint], "pw-never-shown")
    async with etcd.AsyncClient(
        endpoints=[server.endpoint], username="root", password="pw-never-shown"
    ) as client:
        telemetry = instrumented(client, record_keys=True)
        await client.put("/otel/auth", "value-never-shown")
        tokens = [client._transport._token]
        await sleep(3.5)  # the simple token expires: the next call logs in again
        assert (await client.range("/otel/auth")).kvs[0].value == b"value-never-shown"
        tokens.append(client._transport._token)
        await client.txn([], [etcd.Op.put("/otel/auth", "value-never-shown-2")], [])
    assert telemetry.total("etcd.client.reauthentications") == 1
    (range_,) = telemetry.named("KV.Range")
    assert [event.name for event in range_.events] == ["reauthenticated"]
    recorded = " ".join(telemetry.every_attribute_value())
    assert "/otel/auth" in recorded  # keys were asked for
    for secret in ("value-never-shown", "pw-never-shown", *tokens):
        assert secret and secret not in recorded


async def test_removed_instrumentation_records_nothing_more(etcd_server):
    async with etcd.AsyncClient(endpoints=[etcd_server.endpoint]) as client:
        telemetry = Telemetry()
        with etcd.otel.instrument(
            client,
            tracer_provider=telemetry.tracer_provider,
            meter_provider=telemetry.meter_provider,
        ):
            await client.put("/otel/removed", "1")
        assert not client._transport.events.active
        await client.put("/otel/removed", "2")
    assert [span.name for span in telemetry.spans] == ["KV.Put"]
