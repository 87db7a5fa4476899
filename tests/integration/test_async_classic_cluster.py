"""The seed's cluster lines on a real 3-member cluster: machines, leader, reconnect, redirect."""

import time

import pytest

import etcd
from etcd._async.io import join, sleep, spawn

pytestmark = [pytest.mark.integration, pytest.mark.cluster]


async def test_machines_lists_every_member(etcd_cluster):
    async with etcd.AsyncClient(endpoints=etcd_cluster.endpoints[:1]) as client:
        assert sorted(await client.machines) == sorted(etcd_cluster.client_urls)


async def test_machines_still_lists_every_member_after_one_is_killed(etcd_cluster):
    dead = etcd_cluster.members[0]
    async with etcd.AsyncClient(
        endpoints=etcd_cluster.endpoints, timeout=10, connect_timeout=1
    ) as client:
        assert client.base_uri == dead.client_url
        dead.kill()
        # machines is the membership, not who is up (as on v2): a dead member stays listed
        # until it is removed. The list comes from a member that answers.
        assert sorted(await client.machines) == sorted(etcd_cluster.client_urls)
        assert client.base_uri != dead.client_url
        # A write needs a leader: when the dead member led, a write sent during the
        # election times out with an ambiguous outcome, and a put is never resent then.
        etcd_cluster.leader(20)
        await client.set("/machines", "still served")
        assert (await client.get("/machines")).value == "still served"


async def test_leader_is_the_members_leader(etcd_cluster):
    expected = etcd_cluster.leader()
    for endpoint in etcd_cluster.endpoints:
        async with etcd.AsyncClient(endpoints=[endpoint]) as client:
            leader = await client.leader
            assert leader.name == expected.name
            assert leader["name"] == expected.name
            assert leader["clientURLs"] == [expected.client_url]
            assert leader.peer_urls == (expected.peer_url,)


async def test_leader_changes_when_the_leader_dies(etcd_cluster):
    old = etcd_cluster.leader()
    survivor = next(m for m in etcd_cluster.members if m is not old)
    async with etcd.AsyncClient(endpoints=[survivor.endpoint], timeout=10) as client:
        assert (await client.leader).name == old.name
        old.kill()
        new = etcd_cluster.leader()
        deadline = time.monotonic() + 20
        while True:
            try:
                if (await client.leader).name == new.name:
                    break
            except etcd.EtcdNoLeader:
                pass
            assert time.monotonic() < deadline, "the client never saw the new leader"
            await sleep(0.2)


async def test_allow_reconnect_moves_to_a_member_learned_from_the_cluster(etcd_cluster):
    first = etcd_cluster.members[0]
    async with etcd.AsyncClient(
        endpoints=[first.endpoint], allow_reconnect=True, timeout=10, connect_timeout=1
    ) as client:
        await client.set("/reconnect", "before")
        assert len(client.endpoints) == 3
        first.kill()
        assert (await client.get("/reconnect")).value == "before"
        await client.set("/reconnect", "after")
        assert (await client.get("/reconnect")).value == "after"


async def test_without_allow_reconnect_a_lone_dead_endpoint_fails_clearly(etcd_cluster):
    first = etcd_cluster.members[0]
    async with etcd.AsyncClient(
        endpoints=[first.endpoint], timeout=3, connect_timeout=0.5
    ) as client:
        await client.set("/reconnect", "x")
        assert client.endpoints == [first.client_url]
        first.kill()
        with pytest.raises(etcd.EtcdConnectionFailed) as raised:
            await client.get("/reconnect")
        assert first.endpoint in str(raised.value)


async def test_configured_endpoints_fail_over_when_a_member_dies(etcd_cluster):
    async with etcd.AsyncClient(
        endpoints=etcd_cluster.endpoints, timeout=10, connect_timeout=1
    ) as client:
        await client.set("/failover", "1")
        etcd_cluster.members[0].kill()
        # Reads are retried on the next member.
        assert (await client.get("/failover")).value == "1"
        for i in range(5):
            await client.set("/failover", str(i))
        assert (await client.get("/failover")).value == "4"


async def test_a_write_cut_off_by_a_dying_member_says_its_outcome_is_unknown(etcd_cluster):
    async with etcd.AsyncClient(
        endpoints=etcd_cluster.endpoints, timeout=10, connect_timeout=1
    ) as client:
        await client.set("/failover", "1")
        etcd_cluster.members[0].kill()
        try:
            await client.set("/failover", "2")
        except etcd.EtcdConnectionFailed as error:
            # Cut off under the request, it may or may not have been applied: it is not
            # silently resent, and the error says so. Refused outright, it says that.
            if error.outcome_unknown:
                assert "may or may not have been applied" in str(error)
            else:
                assert "may or may not" not in str(error)
        etcd_cluster.leader(timeout=20)
        await client.set("/failover", "3")
        assert (await client.get("/failover")).value == "3"


async def test_allow_redirect_false_refuses_a_member_without_leader(etcd_cluster):
    lonely, *others = etcd_cluster.members
    async with etcd.AsyncClient(
        endpoints=[lonely.endpoint], allow_redirect=False, timeout=2
    ) as client:
        await client.set("/redirect", "ok")
        for member in others:
            member.pause()
        deadline = time.monotonic() + 20
        while True:
            try:
                await client.get("/redirect", timeout=1)
            except etcd.EtcdNoLeader as error:
                assert lonely.endpoint in str(error)
                break
            except etcd.EtcdTimeout:
                pass
            assert time.monotonic() < deadline, "the member never reported losing its leader"
            await sleep(0.2)


async def test_watch_survives_the_death_of_its_member(etcd_cluster):
    first = etcd_cluster.members[0]
    endpoints = etcd_cluster.endpoints
    async with (
        etcd.AsyncClient(endpoints=endpoints, timeout=10, connect_timeout=1) as client,
        etcd.AsyncClient(endpoints=endpoints[1:], timeout=10) as writer,
    ):
        start = (await client.set("/watched", "0")).modifiedIndex + 1
        changes = client.eternal_watch("/watched", index=start)
        await writer.set("/watched", "1")
        assert (await anext(changes)).value == "1"
        first.kill()
        etcd_cluster.leader(timeout=20)
        await writer.set("/watched", "2")
        await writer.set("/watched", "3")
        assert [(await anext(changes)).value for _ in range(2)] == ["2", "3"]
        await changes.aclose()


async def test_watch_blocks_across_a_leader_change(etcd_cluster):
    async with etcd.AsyncClient(endpoints=etcd_cluster.endpoints, timeout=10) as client:
        results = []

        async def wait_for_the_change():
            results.append(await client.watch("/handover", timeout=30))

        waiter = spawn(wait_for_the_change, name="waiter")
        await sleep(0.5)
        etcd_cluster.leader().kill()
        etcd_cluster.leader(timeout=20)
        async with etcd.AsyncClient(endpoints=etcd_cluster.endpoints, timeout=10) as writer:
            await writer.set("/handover", "done")
        await join(waiter, 30)
        assert results and results[0].value == "done"
