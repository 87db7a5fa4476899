"""Service discovery against a real etcd: registrations in Go's format, kept and made
again, live lists of endpoints, and keeping alive a lease granted elsewhere."""

import json
import logging
import time

import pytest

import etcd
from etcd._async.io import sleep

pytestmark = pytest.mark.integration


async def eventually(condition, timeout=20.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the condition never held"
        await sleep(0.05)


async def test_a_registration_is_written_in_gos_format_and_deleted_on_close(async_etcd_client):
    client = async_etcd_client
    async with await client.register(
        "reg-format", "10.0.0.1:50051", {"zone": "a", "weight": 3}, ttl=5
    ) as registration:
        assert registration.key == "reg-format/10.0.0.1:50051" and registration.registered
        stored = (await client.range("reg-format/10.0.0.1:50051")).kvs[0]
        assert stored.value == (
            b'{"Op":0,"Addr":"10.0.0.1:50051","Metadata":{"weight":3,"zone":"a"}}'
        )
        assert stored.lease == registration.lease.id
        assert (await registration.lease.time_to_live()).granted_ttl == 5
        lease_id = registration.lease.id
    assert registration.closed and not registration.registered
    assert not (await client.range("reg-format/10.0.0.1:50051")).kvs
    assert not (await client.lease_time_to_live(lease_id)).exists


async def test_without_metadata_the_value_holds_null(async_etcd_client):
    registration = await async_etcd_client.register("reg-null", "[::1]:80")
    try:
        stored = (await async_etcd_client.range("reg-null/[::1]:80")).kvs[0]
        assert stored.value == b'{"Op":0,"Addr":"[::1]:80","Metadata":null}'
    finally:
        await registration.close()
        await registration.close()


async def test_bad_input_is_refused_before_anything_is_sent(async_etcd_client):
    client = async_etcd_client
    with pytest.raises(etcd.EtcdValueError, match="service"):
        await client.register("", "10.0.0.1:1")
    with pytest.raises(etcd.EtcdTypeError, match="address"):
        await client.register("svc", 8080)
    with pytest.raises(etcd.EtcdTypeError, match="metadata\\['when'\\]"):
        await client.register("svc", "10.0.0.1:1", {"when": object()})
    with pytest.raises(etcd.EtcdValueError, match="nan"):
        await client.register("svc", "10.0.0.1:1", [float("nan")])
    with pytest.raises(etcd.EtcdValueError, match="ttl"):
        await client.register("svc", "10.0.0.1:1", ttl=0)
    with pytest.raises(etcd.EtcdTypeError, match="on_lost"):
        await client.register("svc", "10.0.0.1:1", on_lost="print")
    with pytest.raises(etcd.EtcdTypeError):
        client.discover(b"svc")
    assert not (await client.range("svc/", prefix=True)).kvs
    assert not (await client.lease_leases()).ids


async def test_discover_reads_what_go_writes_and_follows_changes(async_etcd_client, caplog):
    client = async_etcd_client
    # As Go's endpoints.Manager.AddEndpoint writes them (encoding/json of its record).
    await client.put("disc/10.0.0.1:80", '{"Op":0,"Addr":"10.0.0.1:80","Metadata":null}')
    await client.put(
        "disc/10.0.0.2:80",
        '{"Op":0,"Addr":"10.0.0.2:80","Metadata":{"version":"v2","weights":[1,2.5]}}',
    )
    await client.put("disc/broken", "not json")
    await client.put("disc-other/10.0.0.9:80", '{"Op":0,"Addr":"10.0.0.9:80"}')
    events = []
    with caplog.at_level(logging.WARNING, logger="etcd.discovery"):
        async with client.discover("disc") as discovery:
            await discovery.wait_ready(10)
            discovery.add_callback(events.append)
            assert discovery.endpoints() == {
                "disc/10.0.0.1:80": etcd.ServiceEndpoint("10.0.0.1:80"),
                "disc/10.0.0.2:80": etcd.ServiceEndpoint(
                    "10.0.0.2:80", {"version": "v2", "weights": [1, 2.5]}
                ),
            }
            assert discovery.addresses() == ["10.0.0.1:80", "10.0.0.2:80"]
            assert discovery.grpc_target() == "ipv4:10.0.0.1:80,10.0.0.2:80"

            async with await client.register("disc", "10.0.0.3:80", {"a": 1}) as registration:
                await eventually(lambda: len(discovery) == 3)
                await client.delete_range("disc/10.0.0.1:80")
                await client.put("disc/10.0.0.2:80", '{"Addr":"10.0.0.2:81"}')
                await client.put("disc/broken", "[1]")
                written = await client.put("disc/also-broken", "{}")
                await eventually(lambda: discovery.revision >= written.header.revision)
            await eventually(lambda: len(discovery) == 1)
            assert registration.closed
    added, removed = etcd.EndpointEventType.ADDED, etcd.EndpointEventType.REMOVED
    assert [(event.type, event.key, event.endpoint.address) for event in events] == [
        (added, "disc/10.0.0.3:80", "10.0.0.3:80"),
        (removed, "disc/10.0.0.1:80", "10.0.0.1:80"),
        (removed, "disc/10.0.0.2:80", "10.0.0.2:80"),
        (added, "disc/10.0.0.2:80", "10.0.0.2:81"),
        (removed, "disc/10.0.0.3:80", "10.0.0.3:80"),
    ]
    assert events[0].endpoint.metadata == {"a": 1}
    assert [event.revision for event in events] == sorted(event.revision for event in events)
    warnings = [record.getMessage() for record in caplog.records]
    assert len(warnings) == 3, warnings
    assert all(" of service 'disc' is not an endpoint" in message for message in warnings)


async def test_an_empty_service_has_no_grpc_target(async_etcd_client):
    async with async_etcd_client.discover("nobody-here") as discovery:
        await discovery.wait_ready(10)
        assert discovery.endpoints() == {} and len(discovery) == 0
        with pytest.raises(etcd.EtcdValueError, match="no endpoints"):
            discovery.grpc_target()


async def test_a_registration_is_made_again_after_its_lease_is_revoked_elsewhere(
    async_etcd_client, etcd_server, caplog
):
    client = async_etcd_client
    lost, again = [], []
    with caplog.at_level(logging.WARNING, logger="etcd.discovery"):
        registration = await client.register(
            "again", "10.0.0.7:80", ttl=5, on_lost=lost.append, on_reregistered=again.append
        )
        first_lease = registration.lease.id
        async with client.discover("again") as discovery:
            await discovery.wait_ready(10)
            async with etcd.AsyncClient(endpoints=[etcd_server.endpoint]) as other:
                await other.lease_revoke(first_lease)
            assert await registration.wait_reregistered(1, timeout=30)
            assert registration.reregistrations == 1 and registration.registered
            assert await registration.wait_registered(0.1)
            assert registration.lease.id != first_lease
            stored = (await client.range("again/10.0.0.7:80")).kvs[0]
            assert stored.lease == registration.lease.id
            await eventually(lambda: discovery.addresses() == ["10.0.0.7:80"])
        await eventually(lambda: bool(lost) and bool(again))
        assert isinstance(lost[0], etcd.EtcdLeaseExpired) and again == [registration]
        await registration.close()
    assert not await registration.wait_reregistered(2, timeout=0.1)
    assert any("registration of again/10.0.0.7:80 lost" in r.getMessage() for r in caplog.records)
    assert not (await client.range("again/", prefix=True)).kvs


async def test_keep_alive_keeps_a_lease_granted_by_another_client(async_etcd_client, etcd_server):
    async with etcd.AsyncClient(endpoints=[etcd_server.endpoint]) as other:
        granted = await other.lease_grant(2)
        await other.put("/kept/elsewhere", "v", lease=granted.id)
    lost = []
    lease = await async_etcd_client.keep_alive(granted.id, on_lost=lost.append)
    assert isinstance(lease, etcd.AsyncLease) and lease.kept_alive
    assert lease.id == granted.id and lease.ttl == granted.ttl
    with pytest.raises(etcd.EtcdValueError, match="already kept alive"):
        await async_etcd_client.keep_alive(granted.id)
    await sleep(3 * granted.ttl)
    assert (await async_etcd_client.range("/kept/elsewhere")).kvs
    async with etcd.AsyncClient(endpoints=[etcd_server.endpoint]) as other:
        await other.lease_revoke(granted.id)
    assert await lease.wait_lost(10)
    await eventually(lambda: bool(lost))
    assert isinstance(lost[0], etcd.EtcdLeaseExpired)


async def test_keep_alive_of_a_missing_lease_names_it(async_etcd_client):
    granted = await async_etcd_client.lease_grant(5)
    await async_etcd_client.lease_revoke(granted.id)
    with pytest.raises(etcd.EtcdLeaseNotFound, match=f"{granted.id:x}"):
        await async_etcd_client.keep_alive(granted.id)
    with pytest.raises(etcd.EtcdValueError):
        await async_etcd_client.keep_alive(0)


async def test_the_value_round_trips_through_json(async_etcd_client):
    metadata = {"nested": {"list": [None, True, -0.5, 1e-7, "<&>", "é"]}, "n": 10**20}
    async with await async_etcd_client.register("rt", "10.1.1.1:1", metadata):
        stored = (await async_etcd_client.range("rt/10.1.1.1:1")).kvs[0].value
        assert json.loads(stored) == {"Op": 0, "Addr": "10.1.1.1:1", "Metadata": metadata}
        assert b"\\u003c\\u0026\\u003e" in stored and "é".encode() in stored
