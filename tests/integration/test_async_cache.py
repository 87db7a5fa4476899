"""The live cache against a real etcd: the copy equals the store at its revision, updates
arrive in order, failures say so (failures of members, connections and compactions
mid-outage are in test_async_cache_faults.py)."""

import json

import pytest

import etcd
from etcd._async.io import Flag, join, running_workers, spawn

pytestmark = pytest.mark.integration


async def assert_equals_the_store(client, cache):
    snapshot = cache.snapshot()
    listed = await client.range(cache.prefix, prefix=True, revision=snapshot.revision)
    assert dict(snapshot) == {kv.key: kv.value for kv in listed.kvs}


async def test_the_copy_is_loaded_in_pages_and_follows_every_change(async_etcd_client):
    client = async_etcd_client
    for i in range(25):
        await client.put(f"/c/a/{i:02d}", str(i))
    await client.put("/c/outside", "x")
    async with client.cache("/c/a/", page_size=7) as cache:
        await cache.wait_ready(10)
        assert len(cache) == 25 and cache["/c/a/03"] == b"3" and "/c/outside" not in cache
        await assert_equals_the_store(client, cache)
        written = await client.put("/c/a/new", "n")
        await cache.wait_for_revision(written.header.revision, 5)
        assert cache.get("/c/a/new") == b"n" and cache.revision >= written.header.revision
        await client.delete_range("/c/a/0", prefix=True)
        await cache.wait_for_revision((await client.range("/c/x")).header.revision, 5)
        assert sorted(cache) == [f"/c/a/{i}".encode() for i in range(10, 25)] + [b"/c/a/new"]
        await assert_equals_the_store(client, cache)


async def test_a_write_outside_the_prefix_is_waited_for_too(async_etcd_client):
    client = async_etcd_client
    await client.put("/c/b/k", "v")
    async with client.cache("/c/b/") as cache:
        await cache.wait_ready(10)
        elsewhere = await client.put("/c/not-b", "x")
        await cache.wait_for_revision(elsewhere.header.revision, 5)
        # The copy reflects that revision: it equals the store there (members before etcd
        # 3.5.8 cannot vouch for it with progress, so revision itself may stay below).
        listed = await client.range("/c/b/", prefix=True, revision=elsewhere.header.revision)
        assert dict(cache.snapshot()) == {kv.key: kv.value for kv in listed.kvs}


async def test_a_transaction_is_one_update_in_revision_order(async_etcd_client):
    client = async_etcd_client
    await client.put("/c/t/gone", "1")
    updates = []
    async with client.cache("/c/t/") as cache:
        await cache.wait_ready(10)
        cache.add_callback(updates.append)
        response = await client.txn(
            [],
            [
                etcd.Op.put("/c/t/a", "1"),
                etcd.Op.put("/c/t/b", "2"),
                etcd.Op.delete_range("/c/t/gone"),
            ],
            [],
        )
        await client.put("/c/t/a", "3")
        last = await client.put("/c/t/b", "4")
        await cache.wait_for_revision(last.header.revision, 5)
    assert [u.revision for u in updates] == sorted({u.revision for u in updates})
    first = updates[0]
    assert first.revision == response.header.revision
    assert [(e.type, e.key) for e in first.events] == [
        (etcd.EventType.PUT, b"/c/t/a"),
        (etcd.EventType.PUT, b"/c/t/b"),
        (etcd.EventType.DELETE, b"/c/t/gone"),
    ]
    assert first.events[2].prev_entry.value == b"1"
    assert updates[1].events[0].prev_entry.value == b"1"


async def test_the_updates_iterator_ends_when_the_cache_closes(async_etcd_client):
    client = async_etcd_client
    cache = client.cache("/c/i/", decode=json.loads)
    await cache.start()
    await cache.wait_ready(10)
    seen = []
    started = Flag()

    async def consume():
        started.set()
        async for update in cache.updates():
            seen.append(update)

    worker = spawn(consume, name="test-cache-consumer")
    await started.wait(5)
    written = await client.put("/c/i/k", '{"on": true}')
    await cache.wait_for_revision(written.header.revision, 5)
    await cache.close()
    await join(worker, 5)
    assert [e.entry.value for u in seen for e in u.events] == [{"on": True}]
    assert cache["/c/i/k"] == {"on": True}


async def test_a_cache_that_is_refused_says_so(etcd_server_factory):
    server = etcd_server_factory()
    async with etcd.AsyncClient(endpoints=[server.endpoint]) as root:
        await root.user_add("root", "rootpw")
        await root.user_grant_role("root", "root")
        await root.user_add("reader", "readerpw")
        await root.role_add("narrow")
        await root.role_grant_permission("narrow", "/allowed/", prefix=True)
        await root.user_grant_role("reader", "narrow")
        await root.auth_enable()
    async with etcd.AsyncClient(
        endpoints=[server.endpoint], username="reader", password="readerpw"
    ) as client:
        cache = client.cache("/secret/")
        await cache.start()
        with pytest.raises(etcd.EtcdPermissionDenied):
            await cache.wait_ready(10)
        assert isinstance(cache.error, etcd.EtcdPermissionDenied)
        await cache.close()


async def test_closing_stops_the_background_work(async_etcd_client):
    before = running_workers("etcd-cache")
    async with async_etcd_client.cache("/c/z/") as cache:
        await cache.wait_ready(10)
        assert running_workers("etcd-cache") == before + 1
    assert running_workers("etcd-cache") == before
    with pytest.raises(etcd.EtcdClientClosed):
        await cache.wait_for_revision(10**9, 1)
