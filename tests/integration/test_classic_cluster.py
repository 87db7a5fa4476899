# Generated from test_async_classic_cluster.py by scripts/generate_sync.py: edit that file,
# then run the script. CI fails when the two differ.
"""The seed's cluster lines on a real 3-member cluster: machines, leader, reconnect, redirect."""

import time

import pytest

import etcd
from etcd._sync_io import join, sleep, spawn

pytestmark = [pytest.mark.integration, pytest.mark.cluster]


def test_machines_lists_every_member(etcd_cluster):
    with etcd.Client(endpoints=etcd_cluster.endpoints[:1]) as client:
        assert sorted(client.machines) == sorted(etcd_cluster.client_urls)


def test_machines_still_lists_every_member_after_one_is_killed(etcd_cluster):
    dead = etcd_cluster.members[0]
    with etcd.Client(endpoints=etcd_cluster.endpoints, timeout=10, connect_timeout=1) as client:
        assert client.base_uri == dead.client_url
        dead.kill()
        # machines is the membership, not who is up (as on v2): a dead member stays listed
        # until it is removed. The list comes from a member that answers.
        assert sorted(client.machines) == sorted(etcd_cluster.client_urls)
        assert client.base_uri != dead.client_url
        client.set("/machines", "still served")
        assert client.get("/machines").value == "still served"


def test_leader_is_the_members_leader(etcd_cluster):
    expected = etcd_cluster.leader()
    for endpoint in etcd_cluster.endpoints:
        with etcd.Client(endpoints=[endpoint]) as client:
            leader = client.leader
            assert leader.name == expected.name
            assert leader["name"] == expected.name
            assert leader["clientURLs"] == [expected.client_url]
            assert leader.peer_urls == (expected.peer_url,)


def test_leader_changes_when_the_leader_dies(etcd_cluster):
    old = etcd_cluster.leader()
    survivor = next(m for m in etcd_cluster.members if m is not old)
    with etcd.Client(endpoints=[survivor.endpoint], timeout=10) as client:
        assert client.leader.name == old.name
        old.kill()
        new = etcd_cluster.leader()
        deadline = time.monotonic() + 20
        while True:
            try:
                if client.leader.name == new.name:
                    break
            except etcd.EtcdNoLeader:
                pass
            assert time.monotonic() < deadline, "the client never saw the new leader"
            sleep(0.2)


def test_allow_reconnect_moves_to_a_member_learned_from_the_cluster(etcd_cluster):
    first = etcd_cluster.members[0]
    with etcd.Client(
        endpoints=[first.endpoint], allow_reconnect=True, timeout=10, connect_timeout=1
    ) as client:
        client.set("/reconnect", "before")
        assert len(client.endpoints) == 3
        first.kill()
        assert client.get("/reconnect").value == "before"
        client.set("/reconnect", "after")
        assert client.get("/reconnect").value == "after"


def test_without_allow_reconnect_a_lone_dead_endpoint_fails_clearly(etcd_cluster):
    first = etcd_cluster.members[0]
    with etcd.Client(endpoints=[first.endpoint], timeout=3, connect_timeout=0.5) as client:
        client.set("/reconnect", "x")
        assert client.endpoints == [first.client_url]
        first.kill()
        with pytest.raises(etcd.EtcdConnectionFailed) as raised:
            client.get("/reconnect")
        assert first.endpoint in str(raised.value)


def test_configured_endpoints_fail_over_when_a_member_dies(etcd_cluster):
    with etcd.Client(endpoints=etcd_cluster.endpoints, timeout=10, connect_timeout=1) as client:
        client.set("/failover", "1")
        etcd_cluster.members[0].kill()
        # Reads are retried on the next member.
        assert client.get("/failover").value == "1"
        for i in range(5):
            client.set("/failover", str(i))
        assert client.get("/failover").value == "4"


def test_a_write_cut_off_by_a_dying_member_says_its_outcome_is_unknown(etcd_cluster):
    with etcd.Client(endpoints=etcd_cluster.endpoints, timeout=10, connect_timeout=1) as client:
        client.set("/failover", "1")
        etcd_cluster.members[0].kill()
        try:
            client.set("/failover", "2")
        except etcd.EtcdConnectionFailed as error:
            # Cut off under the request, it may or may not have been applied: it is not
            # silently resent, and the error says so. Refused outright, it says that.
            if error.outcome_unknown:
                assert "may or may not have been applied" in str(error)
            else:
                assert "may or may not" not in str(error)
        etcd_cluster.leader(timeout=20)
        client.set("/failover", "3")
        assert client.get("/failover").value == "3"


def test_allow_redirect_false_refuses_a_member_without_leader(etcd_cluster):
    lonely, *others = etcd_cluster.members
    with etcd.Client(endpoints=[lonely.endpoint], allow_redirect=False, timeout=2) as client:
        client.set("/redirect", "ok")
        for member in others:
            member.pause()
        deadline = time.monotonic() + 20
        while True:
            try:
                client.get("/redirect", timeout=1)
            except etcd.EtcdNoLeader as error:
                assert lonely.endpoint in str(error)
                break
            except etcd.EtcdTimeout:
                pass
            assert time.monotonic() < deadline, "the member never reported losing its leader"
            sleep(0.2)


def test_watch_survives_the_death_of_its_member(etcd_cluster):
    first = etcd_cluster.members[0]
    endpoints = etcd_cluster.endpoints
    with (
        etcd.Client(endpoints=endpoints, timeout=10, connect_timeout=1) as client,
        etcd.Client(endpoints=endpoints[1:], timeout=10) as writer,
    ):
        start = client.set("/watched", "0").modifiedIndex + 1
        changes = client.eternal_watch("/watched", index=start)
        writer.set("/watched", "1")
        assert next(changes).value == "1"
        first.kill()
        etcd_cluster.leader(timeout=20)
        writer.set("/watched", "2")
        writer.set("/watched", "3")
        assert [next(changes).value for _ in range(2)] == ["2", "3"]
        changes.close()


def test_watch_blocks_across_a_leader_change(etcd_cluster):
    with etcd.Client(endpoints=etcd_cluster.endpoints, timeout=10) as client:
        results = []

        def wait_for_the_change():
            results.append(client.watch("/handover", timeout=30))

        waiter = spawn(wait_for_the_change, name="waiter")
        sleep(0.5)
        etcd_cluster.leader().kill()
        etcd_cluster.leader(timeout=20)
        with etcd.Client(endpoints=etcd_cluster.endpoints, timeout=10) as writer:
            writer.set("/handover", "done")
        join(waiter, 30)
        assert results and results[0].value == "done"
