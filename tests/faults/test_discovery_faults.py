"""Registrations through faults: a registration keeps its key through the death of the
leader it talks to, and one whose lease expired during a partition registers again once
the partition heals."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

import etcd
from etcd.testing import EtcdCluster, EtcdServer

from .proxy import FaultProxy

pytestmark = [pytest.mark.integration, pytest.mark.faults]


def _until(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"not {what} within {timeout} s"
        time.sleep(0.05)


def _reads_of(client: etcd.Client, key: str) -> bool | None:
    """Whether a member has ``key`` (``None``: no member answered)."""
    try:
        return bool(client.range(key, serializable=True).kvs)
    except etcd.EtcdConnectionFailed:
        return None


@pytest.mark.cluster
def test_a_registration_survives_the_death_of_the_leader(etcd_cluster: EtcdCluster) -> None:
    leader = etcd_cluster.leader()
    followers = etcd_cluster.followers()
    key = "faults-svc/10.9.0.1:50051"
    with (
        etcd.Client(
            endpoints=[leader.endpoint, *(f.endpoint for f in followers)],
            timeout=5,
            connect_timeout=1,
        ) as registering,
        etcd.Client(endpoints=[f.endpoint for f in followers], timeout=5) as observer,
        registering.register("faults-svc", "10.9.0.1:50051", ttl=10) as registration,
        observer.discover("faults-svc") as discovery,
    ):
        assert registering._transport.current_endpoint.target == leader.endpoint
        discovery.wait_ready(10)
        assert discovery.addresses() == ["10.9.0.1:50051"]
        lists: list[list[str]] = []
        discovery.add_callback(lambda event: lists.append(discovery.addresses()))

        leader.kill()
        new_leader = etcd_cluster.leader(timeout=10)
        assert new_leader is not leader
        # Past the lease's whole TTL: only refreshes through a surviving member keep it.
        seen = []
        outage_ends = time.monotonic() + 2 * registration.ttl
        while time.monotonic() < outage_ends:
            seen.append(_reads_of(observer, key))
            time.sleep(0.2)
        leader.start()
        etcd_cluster.wait_healthy()

        answered = [found for found in seen if found is not None]
        assert answered and all(answered), "the key was missing during the outage"
        assert discovery.addresses() == ["10.9.0.1:50051"] and lists == []
        assert registration.registered and registration.reregistrations == 0
        assert not registration.lease.lost
        assert observer.range(key).kvs[0].lease == registration.lease.id
        registration.close()
        assert not observer.range(key).kvs


def test_a_registration_lost_in_a_partition_is_made_again(
    etcd_server_factory: Callable[..., EtcdServer],
) -> None:
    server = etcd_server_factory()
    key = "faults-part/10.9.0.2:50051"
    lost: list[etcd.EtcdLeaseExpired] = []
    with (
        FaultProxy(server.client_port) as route,
        etcd.Client(endpoints=[route.address], timeout=2, connect_timeout=1) as registering,
        etcd.Client(endpoints=[server.endpoint], timeout=5) as observer,
        registering.register(
            "faults-part", "10.9.0.2:50051", ttl=2, on_lost=lost.append
        ) as registration,
        observer.discover("faults-part") as discovery,
    ):
        discovery.wait_ready(10)
        first_lease = registration.lease.id
        assert discovery.addresses() == ["10.9.0.2:50051"]

        route.blackhole()  # the registering client is cut off; etcd itself runs on
        _until(lambda: discovery.addresses() == [], 30, "expired by etcd")
        assert not observer.lease_time_to_live(first_lease).exists
        _until(lambda: bool(lost), 30, "reported lost to the program")
        assert not registration.registered and registration.reregistrations == 0

        route.heal()
        assert registration.wait_reregistered(1, timeout=60), registration.last_error
        assert registration.registered and registration.lease.id != first_lease
        _until(lambda: discovery.addresses() == ["10.9.0.2:50051"], 30, "listed again")
        assert observer.range(key).kvs[0].lease == registration.lease.id
        registration.close()
        assert not observer.range(key).kvs
