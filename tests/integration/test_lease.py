# Generated from test_async_lease.py by scripts/generate_sync.py: edit that file,
# then run the script. CI fails when the two differ.
"""Leases and their keep-alive against a real etcd."""

import time

import pytest

import etcd
from etcd._sync_io import running_workers, sleep

pytestmark = pytest.mark.integration


def test_grant_time_to_live_leases_revoke(etcd_client):
    granted = etcd_client.lease_grant(30)
    assert granted.id > 0 and granted.ttl == 30
    etcd_client.put("/l/a", "1", lease=granted.id)
    ttl = etcd_client.lease_time_to_live(granted.id, keys=True)
    assert ttl.exists and 0 < ttl.ttl <= 30 and ttl.granted_ttl == 30 and ttl.keys == [b"/l/a"]
    assert granted.id in etcd_client.lease_leases().ids
    refreshed = etcd_client.lease_keep_alive_once(granted.id)
    assert refreshed.id == granted.id and refreshed.ttl == 30
    etcd_client.lease_revoke(granted.id)
    assert not etcd_client.range("/l/a").kvs
    assert not etcd_client.lease_time_to_live(granted.id).exists
    with pytest.raises(etcd.EtcdLeaseNotFound):
        etcd_client.lease_keep_alive_once(granted.id)
    with pytest.raises(etcd.EtcdLeaseNotFound):
        etcd_client.lease_revoke(granted.id)


def test_grant_with_a_chosen_id(etcd_client):
    granted = etcd_client.lease_grant(20, lease_id=0x1234ABCD)
    assert granted.id == 0x1234ABCD
    etcd_client.lease_revoke(granted.id)


def test_bad_lease_input_is_refused_before_sending(etcd_client):
    with pytest.raises(etcd.EtcdValueError):
        etcd_client.lease_grant(0)
    with pytest.raises(etcd.EtcdTypeError):
        etcd_client.lease_grant("10")
    with pytest.raises(etcd.EtcdValueError):
        etcd_client.lease_revoke(0)


def test_a_kept_alive_lease_outlives_its_ttl_and_is_revoked_after_the_block(
    etcd_client,
):
    with etcd_client.lease(ttl=2) as lease:
        etcd_client.put("/l/kept", "v", lease=lease)
        sleep(5)
        assert etcd_client.range("/l/kept").kvs
        assert lease.time_to_live().ttl > 0 and not lease.lost
    assert not etcd_client.range("/l/kept").kvs
    assert not lease.time_to_live().exists


def test_a_lease_revoked_elsewhere_is_reported_to_its_owner(etcd_client, etcd_server):
    lost = []
    lease = etcd_client.lease(ttl=3, on_lost=lost.append)
    with etcd.Client(endpoints=[etcd_server.endpoint]) as other:
        other.lease_revoke(lease.id)
    assert lease.wait_lost(10)
    deadline = time.monotonic() + 5
    while not lost and time.monotonic() < deadline:
        sleep(0.05)
    assert isinstance(lost[0], etcd.EtcdLeaseExpired)
    with pytest.raises(etcd.EtcdLeaseExpired):
        etcd_client.put("/l/x", "v", lease=lease)
    with pytest.raises(etcd.EtcdLeaseExpired):
        lease.keep_alive_once()


def test_a_lease_is_reported_lost_when_no_member_confirms_it(etcd_server_factory):
    server = etcd_server_factory()
    with etcd.Client(endpoints=[server.endpoint], timeout=5, connect_timeout=1) as client:
        lease = client.lease(ttl=2)
        server.pause()
        try:
            assert lease.wait_lost(20)
            assert lease.lost
        finally:
            server.resume()
        with pytest.raises(etcd.EtcdLeaseExpired):
            lease.check()


def test_many_leases_share_one_keep_alive_stream(etcd_client):
    leases = [etcd_client.lease(ttl=2) for _ in range(10)]
    try:
        assert running_workers("etcd-lease-keepalive") == 1
        sleep(4)
        assert all([lease.time_to_live().ttl > 0 for lease in leases])
    finally:
        for lease in leases:
            lease.revoke()


def test_keep_alive_stops_with_the_client(etcd_server):
    client = etcd.Client(endpoints=[etcd_server.endpoint])
    lease = client.lease(ttl=5)
    client.close()
    deadline = time.monotonic() + 5
    while running_workers("etcd-lease-keepalive"):
        assert time.monotonic() < deadline, "the keep-alive thread outlived its client"
        sleep(0.05)
    with etcd.Client(endpoints=[etcd_server.endpoint]) as other:
        other.lease_revoke(lease.id)


@pytest.mark.cluster
def test_keep_alive_survives_the_death_of_its_member(etcd_cluster):
    victim = etcd_cluster.members[0]
    endpoints = etcd_cluster.endpoints
    with etcd.Client(endpoints=endpoints, timeout=10, connect_timeout=1) as client:
        assert client._transport.current_endpoint.target == victim.endpoint
        lost = []
        lease = client.lease(ttl=3, on_lost=lost.append)
        client.put("/l/survivor", "v", lease=lease)
        victim.kill()
        etcd_cluster.leader(timeout=20)
        sleep(8)
        assert not lease.lost and not lost
        with etcd.Client(endpoints=endpoints[1:], timeout=10) as other:
            assert other.range("/l/survivor").kvs
            assert other.lease_time_to_live(lease.id).ttl > 0
        lease.revoke()


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


def test_a_lease_lost_while_its_owner_process_is_stopped_is_reported(etcd_server):
    import signal
    import subprocess
    import sys

    owner = subprocess.Popen(
        [sys.executable, "-c", OWNER, etcd_server.endpoint], stdout=subprocess.PIPE, text=True
    )
    try:
        lease_id = int(owner.stdout.readline())
        owner.send_signal(signal.SIGSTOP)
        with etcd.Client(endpoints=[etcd_server.endpoint]) as observer:
            deadline = time.monotonic() + 20
            while observer.lease_time_to_live(lease_id).exists:
                assert time.monotonic() < deadline, "the lease never expired"
                sleep(0.2)
        owner.send_signal(signal.SIGCONT)
        out, _ = owner.communicate(timeout=30)
    finally:
        if owner.poll() is None:
            owner.send_signal(signal.SIGCONT)
            owner.kill()
            owner.communicate()
    assert owner.returncode == 0
    assert "LOST AND REFUSED" in out
