"""Membership calls and endpoint syncing against real etcd members."""

import logging
import time

import pytest

import etcd
from etcd._async.io import is_running, sleep
from etcd.testing import EtcdServer, free_port

pytestmark = pytest.mark.integration


async def _wait_for(condition, timeout=10.0, what="the condition"):
    """Poll ``condition()`` until it is true."""
    deadline = time.monotonic() + timeout
    while not await condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await sleep(0.1)


# --- listing ---------------------------------------------------------------------------------


@pytest.mark.cluster
async def test_member_list_shows_every_member(etcd_cluster):
    async with etcd.AsyncClient(endpoints=etcd_cluster.endpoints[:1]) as client:
        listed = await client.member_list()
        serializable = await client.member_list(linearizable=False)
    by_name = {member.name: member for member in listed.members}
    assert sorted(by_name) == sorted(server.name for server in etcd_cluster.members)
    for server in etcd_cluster.members:
        assert by_name[server.name].client_urls == (server.client_url,)
        assert by_name[server.name].peer_urls == (server.peer_url,)
        assert not by_name[server.name].is_learner
    assert listed.header.cluster_id != 0
    assert {m.id for m in serializable.members} == {m.id for m in listed.members}


async def test_peer_urls_are_checked_before_sending(async_etcd_client):
    async with etcd.AsyncClient(endpoints=async_etcd_client.endpoints) as client:
        with pytest.raises(etcd.EtcdTypeError):
            await client.member_add("http://127.0.0.1:2380")
        with pytest.raises(etcd.EtcdValueError):
            await client.member_add([])
        with pytest.raises(etcd.EtcdValueError):
            await client.member_add(["ftp://127.0.0.1:2380"])
        with pytest.raises(etcd.EtcdValueError):
            await client.member_update(0, ["http://127.0.0.1:2380"])
        assert len((await client.member_list()).members) == 1


# --- a learner that never starts --------------------------------------------------------------


async def test_learner_lifecycle_without_starting_it(etcd_server_factory):
    server = etcd_server_factory()
    async with etcd.AsyncClient(endpoints=[server.endpoint], timeout=10) as client:
        peer_url = f"http://127.0.0.1:{free_port()}"
        added = await client.member_add([peer_url], learner=True)
        assert added.member.is_learner
        assert added.member.peer_urls == (peer_url,)
        assert added.member.id in {m.id for m in added.members}

        listed = {m.id: m for m in (await client.member_list()).members}
        assert len(listed) == 2
        learner = listed[added.member.id]
        assert learner.is_learner
        assert learner.name == ""
        assert learner.client_urls == ()

        # Not started, so not in sync with the leader: the server refuses, typed.
        with pytest.raises(etcd.EtcdPreconditionFailed):
            await client.member_promote(added.member.id)

        moved = f"http://127.0.0.1:{free_port()}"
        updated = await client.member_update(added.member.id, [moved])
        assert moved in {url for m in updated.members for url in m.peer_urls}
        listed = {m.id: m for m in (await client.member_list()).members}
        assert listed[added.member.id].peer_urls == (moved,)

        removed = await client.member_remove(added.member.id)
        assert added.member.id not in {m.id for m in removed.members}
        assert [m.name for m in (await client.member_list()).members] == [server.name]

        with pytest.raises(etcd.EtcdNotFound):
            await client.member_remove(added.member.id)


# --- a learner that joins for real ------------------------------------------------------------


async def test_a_started_learner_is_promoted_then_removed(etcd_server_factory, etcd_binary):
    first = etcd_server_factory(name="first")
    async with etcd.AsyncClient(endpoints=[first.endpoint], timeout=10) as client:
        peer_port = free_port()
        peer_url = f"http://127.0.0.1:{peer_port}"
        added = await client.member_add([peer_url], learner=True)
        second = EtcdServer(
            binary=etcd_binary,
            name="second",
            peer_port=peer_port,
            initial_cluster=f"first={first.peer_url},second={peer_url}",
            initial_cluster_state="existing",
        )
        try:
            second.start(wait=False)

            async def learner_started():
                try:
                    return (await client.status(second.endpoint, timeout=1)).is_learner
                except etcd.EtcdException:
                    return False

            await _wait_for(learner_started, 30, "the learner to start")
            listed = {m.id: m for m in (await client.member_list()).members}
            assert listed[added.member.id].name == "second"
            assert listed[added.member.id].is_learner

            deadline = time.monotonic() + 30
            while True:
                try:
                    promoted = await client.member_promote(added.member.id)
                    break
                except etcd.EtcdPreconditionFailed:
                    assert time.monotonic() < deadline, "the learner never caught up"
                    await sleep(0.5)
            assert not {m.id: m for m in promoted.members}[added.member.id].is_learner
            voting = [m for m in (await client.member_list()).members if not m.is_learner]
            assert sorted(m.name for m in voting) == ["first", "second"]

            # Both vote now. etcd refuses ("unhealthy cluster") to remove a voting member
            # until its peers have been connected for a few seconds: retry until then.
            deadline = time.monotonic() + 30
            while True:
                try:
                    removed = await client.member_remove(added.member.id)
                    break
                except etcd.EtcdUnavailable:
                    assert time.monotonic() < deadline, "the removal was never accepted"
                    await sleep(0.5)
            assert [m.name for m in removed.members] == ["first"]
            await client.put("/after-removal", "ok")
            assert (await client.range("/after-removal")).kvs[0].value == b"ok"
        finally:
            second.kill()
            second.close()


# --- endpoint syncing -------------------------------------------------------------------------


@pytest.mark.cluster
async def test_sync_endpoints_learns_every_member(etcd_cluster):
    async with etcd.AsyncClient(endpoints=etcd_cluster.endpoints[:1]) as client:
        assert len(client.endpoints) == 1
        synced = await client.sync_endpoints()
        assert sorted(synced) == sorted(etcd_cluster.client_urls)
        assert sorted(client.endpoints) == sorted(etcd_cluster.client_urls)
        await client.put("/synced", "yes")


@pytest.mark.cluster
async def test_auto_sync_picks_up_the_members_and_stops(etcd_cluster):
    async with etcd.AsyncClient(endpoints=etcd_cluster.endpoints[:1]) as client:
        client.start_auto_sync(0.5)
        assert client.auto_sync_running

        async def synced():
            return len(client.endpoints) == 3

        await _wait_for(synced, 10, "auto-sync")
        assert sorted(client.endpoints) == sorted(etcd_cluster.client_urls)
        await client.stop_auto_sync()
        assert not client.auto_sync_running
        await client.stop_auto_sync()  # twice is fine


@pytest.mark.cluster
async def test_auto_sync_ends_when_the_client_closes(etcd_cluster):
    client = etcd.AsyncClient(endpoints=etcd_cluster.endpoints[:1])
    client.start_auto_sync(0.2)
    syncer = client._auto_sync
    await client.close()
    assert syncer.worker is not None and not is_running(syncer.worker)


async def test_a_failing_auto_sync_is_logged_and_retried(caplog):
    dead = f"127.0.0.1:{free_port()}"
    async with etcd.AsyncClient(endpoints=[dead], timeout=0.3, connect_timeout=0.1) as client:
        with caplog.at_level(logging.INFO, logger="etcd.cluster"):
            client.start_auto_sync(0.1)

            async def failed_twice():
                return sum("auto-sync failed" in r.getMessage() for r in caplog.records) >= 2

            await _wait_for(
                failed_twice,
                10,
                "two failed syncs",
            )
            assert client.auto_sync_running
            await client.stop_auto_sync()
        assert client.endpoints == [f"http://{dead}"]


async def test_auto_sync_interval_is_checked(async_etcd_client):
    async with etcd.AsyncClient(endpoints=async_etcd_client.endpoints) as client:
        for bad in (0, -1, None):
            with pytest.raises(etcd.EtcdException):
                client.start_auto_sync(bad)  # type: ignore[arg-type]
        assert not client.auto_sync_running


@pytest.mark.cluster
async def test_auto_sync_from_the_constructor(etcd_cluster):
    async with etcd.AsyncClient(
        endpoints=etcd_cluster.endpoints[:1], auto_sync_interval=0.3
    ) as client:
        deadline = time.monotonic() + 15
        while len(client.endpoints) < 3:
            assert time.monotonic() < deadline, "the endpoints were never synced"
            await sleep(0.1)
        assert client.auto_sync_running
    assert not client.auto_sync_running
