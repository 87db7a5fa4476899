"""A voting member added to the real three-member cluster, then removed.

Sync-only, not generated from an asyncio twin: the test drives the harness (it starts
and stops an etcd process and waits on it), which is synchronous, and the client calls
it makes are covered for both APIs by the cluster API tests.
"""

import time

import pytest

import etcd
from etcd.testing import EtcdCluster

pytestmark = [pytest.mark.integration, pytest.mark.cluster]

_WAIT = 30.0


def _retry_until_accepted(call, what):
    """etcd refuses a membership change ("unhealthy cluster") until every voting member
    has been connected to the leader for a few seconds: retry until then."""
    deadline = time.monotonic() + _WAIT
    while True:
        try:
            return call()
        except etcd.EtcdUnavailable:
            assert time.monotonic() < deadline, f"{what} was never accepted"
            time.sleep(0.5)


def _wait_for(condition, what):
    deadline = time.monotonic() + _WAIT
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def test_a_voting_member_joins_the_cluster_and_leaves_it(etcd_cluster: EtcdCluster) -> None:
    original = {member.name for member in etcd_cluster.members}
    joining = etcd_cluster.joining_member("member3")
    added_id = None
    removed = False
    try:
        with etcd.Client(endpoints=etcd_cluster.endpoints, timeout=10) as client:
            added = _retry_until_accepted(
                lambda: client.member_add([joining.peer_url]), "the member add"
            )
            added_id = added.member.id
            assert not added.member.is_learner
            assert added.member.peer_urls == (joining.peer_url,)
            assert len(added.members) == 4

            joining.start()  # healthy: it joined and has a leader

            def published():
                listed = {m.id: m for m in client.member_list().members}
                return listed[added_id].name == "member3"

            _wait_for(published, "the new member to publish its name")
            listed = {m.id: m for m in client.member_list().members}
            assert sorted(m.name for m in listed.values()) == sorted([*original, "member3"])
            assert not any(m.is_learner for m in listed.values())
            assert listed[added_id].client_urls == (joining.client_url,)
            status = client.status(joining.endpoint)
            assert not status.is_learner
            assert status.leader == client.status(etcd_cluster.endpoints[0]).leader != 0

            # It votes and serves: a write through it, read back linearizably elsewhere.
            with etcd.Client(endpoints=[joining.endpoint], timeout=10) as through_new:
                revision = through_new.put("/membership/through-new", "yes").header.revision
            read = client.range("/membership/through-new")
            assert read.kvs[0].value == b"yes"
            assert read.kvs[0].mod_revision == revision

            left = _retry_until_accepted(
                lambda: client.member_remove(added_id), "the member removal"
            )
            removed = True
            assert sorted(m.name for m in left.members) == sorted(original)
            assert added_id not in {m.id for m in client.member_list().members}
            # A removed member stops by itself.
            _wait_for(lambda: not joining.alive, "the removed member to exit")

        etcd_cluster.wait_healthy()
        etcd_cluster.leader()
        for endpoint in etcd_cluster.endpoints:
            with etcd.Client(endpoints=[endpoint], timeout=10) as each:
                each.put("/membership/after", endpoint)
                assert each.range("/membership/after").kvs[0].value == endpoint.encode()
    finally:
        joining.kill()
        joining.close()
        if added_id is not None and not removed:
            _leave_no_fourth_member(etcd_cluster, added_id)


def _leave_no_fourth_member(cluster: EtcdCluster, member_id: int) -> None:
    """The test failed with the member still listed: remove it, or else kill one of the
    shared cluster's members, so that the fixture replaces the whole cluster."""
    try:
        with etcd.Client(endpoints=cluster.endpoints, timeout=10) as client:
            _retry_until_accepted(lambda: client.member_remove(member_id), "the cleanup")
    except (etcd.EtcdException, AssertionError):
        cluster.members[0].kill()
