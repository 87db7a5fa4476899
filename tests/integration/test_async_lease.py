"""Leases and their keep-alive against a real etcd."""

import time

import pytest

import etcd
from etcd._async.io import running_workers, sleep

pytestmark = pytest.mark.integration


async def test_grant_time_to_live_leases_revoke(async_etcd_client):
    granted = await async_etcd_client.lease_grant(30)
    assert granted.id > 0 and granted.ttl == 30
    await async_etcd_client.put("/l/a", "1", lease=granted.id)
    ttl = await async_etcd_client.lease_time_to_live(granted.id, keys=True)
    assert ttl.exists and 0 < ttl.ttl <= 30 and ttl.granted_ttl == 30 and ttl.keys == [b"/l/a"]
    assert granted.id in (await async_etcd_client.lease_leases()).ids
    refreshed = await async_etcd_client.lease_keep_alive_once(granted.id)
    assert refreshed.id == granted.id and refreshed.ttl == 30
    await async_etcd_client.lease_revoke(granted.id)
    assert not (await async_etcd_client.range("/l/a")).kvs
    assert not (await async_etcd_client.lease_time_to_live(granted.id)).exists
    with pytest.raises(etcd.EtcdLeaseNotFound):
        await async_etcd_client.lease_keep_alive_once(granted.id)
    with pytest.raises(etcd.EtcdLeaseNotFound):
        await async_etcd_client.lease_revoke(granted.id)


async def test_grant_with_a_chosen_id(async_etcd_client):
    granted = await async_etcd_client.lease_grant(20, lease_id=0x1234ABCD)
    assert granted.id == 0x1234ABCD
    await async_etcd_client.lease_revoke(granted.id)


async def test_bad_lease_input_is_refused_before_sending(async_etcd_client):
    with pytest.raises(etcd.EtcdValueError):
        await async_etcd_client.lease_grant(0)
    with pytest.raises(etcd.EtcdTypeError):
        await async_etcd_client.lease_grant("10")
    with pytest.raises(etcd.EtcdValueError):
        await async_etcd_client.lease_revoke(0)


async def test_a_kept_alive_lease_outlives_its_ttl_and_is_revoked_after_the_block(
    async_etcd_client,
):
    async with await async_etcd_client.lease(ttl=2) as lease:
        await async_etcd_client.put("/l/kept", "v", lease=lease)
        await sleep(5)
        assert (await async_etcd_client.range("/l/kept")).kvs
        assert (await lease.time_to_live()).exists and not lease.lost
    assert not (await async_etcd_client.range("/l/kept")).kvs
    assert not (await lease.time_to_live()).exists


async def test_a_lease_revoked_elsewhere_is_reported_to_its_owner(async_etcd_client, etcd_server):
    lost = []
    lease = await async_etcd_client.lease(ttl=3, on_lost=lost.append)
    async with etcd.AsyncClient(endpoints=[etcd_server.endpoint]) as other:
        await other.lease_revoke(lease.id)
    assert await lease.wait_lost(10)
    deadline = time.monotonic() + 5
    while not lost and time.monotonic() < deadline:
        await sleep(0.05)
    assert isinstance(lost[0], etcd.EtcdLeaseExpired)
    with pytest.raises(etcd.EtcdLeaseExpired):
        await async_etcd_client.put("/l/x", "v", lease=lease)
    with pytest.raises(etcd.EtcdLeaseExpired):
        await lease.keep_alive_once()


async def test_a_lease_is_reported_lost_when_no_member_confirms_it(etcd_server_factory):
    server = etcd_server_factory()
    async with etcd.AsyncClient(
        endpoints=[server.endpoint], timeout=5, connect_timeout=1
    ) as client:
        lease = await client.lease(ttl=2)
        server.pause()
        try:
            assert await lease.wait_lost(20)
            assert lease.lost
        finally:
            server.resume()
        with pytest.raises(etcd.EtcdLeaseExpired):
            lease.check()


async def test_many_leases_share_one_keep_alive_stream(async_etcd_client):
    leases = [await async_etcd_client.lease(ttl=2) for _ in range(10)]
    try:
        assert running_workers("etcd-lease-keepalive") == 1
        await sleep(4)
        assert all([(await lease.time_to_live()).exists for lease in leases])
    finally:
        for lease in leases:
            await lease.revoke()


async def test_keep_alive_stops_with_the_client(etcd_server):
    client = etcd.AsyncClient(endpoints=[etcd_server.endpoint])
    lease = await client.lease(ttl=5)
    await client.close()
    deadline = time.monotonic() + 5
    while running_workers("etcd-lease-keepalive"):
        assert time.monotonic() < deadline, "the keep-alive thread outlived its client"
        await sleep(0.05)
    async with etcd.AsyncClient(endpoints=[etcd_server.endpoint]) as other:
        await other.lease_revoke(lease.id)


@pytest.mark.cluster
async def test_keep_alive_survives_the_death_of_its_member(etcd_cluster):
    victim = etcd_cluster.members[0]
    endpoints = etcd_cluster.endpoints
    async with etcd.AsyncClient(endpoints=endpoints, timeout=10, connect_timeout=1) as client:
        assert client._transport.current_endpoint.target == victim.endpoint
        lost = []
        # A TTL that leaves room for an election and a reconnection on a loaded machine:
        # the lease must outlive the kill by more than a whole TTL, refreshed elsewhere.
        lease = await client.lease(ttl=5, on_lost=lost.append)
        await client.put("/l/survivor", "v", lease=lease)
        victim.kill()
        etcd_cluster.leader(timeout=20)
        await sleep(12)
        assert not lease.lost and not lost
        async with etcd.AsyncClient(endpoints=endpoints[1:], timeout=10) as other:
            assert (await other.range("/l/survivor")).kvs
            assert (await other.lease_time_to_live(lease.id)).exists
        await lease.revoke()


OWNER = """
import sys, etcd
with etcd.Client(endpoints=[sys.argv[1]], timeout=5) as client:
    lease = client.lease(ttl=2)
    print(lease.id, flush=True)
    lost = lease.wait_lost(60)
    try:
        client.put("/l/owner", "v", lease=lease)
    except etcd.EtcdLeaseExpired:
        print("LOST AND REFUSED", flush=True)
    sys.exit(0 if lost else 1)
"""


async def test_a_lease_lost_while_its_owner_process_is_stopped_is_reported(etcd_server):
    import signal
    import subprocess
    import sys

    owner = subprocess.Popen(
        [sys.executable, "-c", OWNER, etcd_server.endpoint], stdout=subprocess.PIPE, text=True
    )
    try:
        lease_id = int(owner.stdout.readline())
        owner.send_signal(signal.SIGSTOP)
        async with etcd.AsyncClient(endpoints=[etcd_server.endpoint]) as observer:
            deadline = time.monotonic() + 20
            while (await observer.lease_time_to_live(lease_id)).exists:
                assert time.monotonic() < deadline, "the lease never expired"
                await sleep(0.2)
        owner.send_signal(signal.SIGCONT)
        out, _ = owner.communicate(timeout=30)
    finally:
        if owner.poll() is None:
            owner.send_signal(signal.SIGCONT)
            owner.kill()
            owner.communicate()
    assert owner.returncode == 0
    assert "LOST AND REFUSED" in out
