"""Namespaces against a real etcd: everything inside, nothing outside ever seen or touched."""

from __future__ import annotations

import pytest

import etcd
from etcd import ALL_KEYS, Compare, Op
from etcd._async.io import Flag
from etcd._async.namespace import AsyncNamespace, AsyncNamespacedWatch

pytestmark = pytest.mark.integration

# Keys around the namespace /ns/, sorted: each one would leak through a careless range.
OUTSIDE = ["/ns", "/ns.", "/ns0", "/nr/x", "/nsx/a", "/a", "\xff"]


@pytest.fixture
async def ns(async_etcd_client):
    for key in OUTSIDE:
        await async_etcd_client.put(key, "outside")
    return AsyncNamespace(async_etcd_client, "/ns/")


async def _outside_untouched(client: etcd.AsyncClient) -> None:
    got = await client.range(ALL_KEYS)
    outside = {kv.key.decode("utf-8", "replace"): kv.value for kv in got.kvs}
    for key in OUTSIDE:
        assert outside.get(key) == b"outside", key


def _keys(response: etcd.RangeResponse) -> list[bytes]:
    return [kv.key for kv in response.kvs]


async def test_put_and_range(ns, async_etcd_client):
    put = await ns.put("a", "1")
    assert put.prev_kv is None
    assert (await ns.put("a", "2", prev_kv=True)).prev_kv.key == b"a"
    assert (await async_etcd_client.range("/ns/a")).kvs[0].value == b"2"
    got = await ns.range("a")
    assert _keys(got) == [b"a"] and got.kvs[0].value == b"2"
    assert (await ns.range("/ns/a")).kvs == []  # keys are relative: no double prefix
    await _outside_untouched(async_etcd_client)


async def test_ranges_never_leave_the_namespace(ns, async_etcd_client):
    for key in ["a", "b/1", "b/2", "c", "\xfe"]:
        await ns.put(key, "in")
    every = [b"a", b"b/1", b"b/2", b"c", "\xfe".encode()]
    assert _keys(await ns.range(ALL_KEYS)) == every
    assert (await ns.range(ALL_KEYS, count_only=True)).count == 5
    assert _keys(await ns.range("b", from_key=True)) == every[1:]
    assert _keys(await ns.range("b/", prefix=True)) == [b"b/1", b"b/2"]
    assert _keys(await ns.range("a", "c")) == [b"a", b"b/1", b"b/2"]
    assert _keys(await ns.range("a", b"\0")) == every
    assert [kv.key async for kv in ns.range_iter(ALL_KEYS, page_size=2)] == every
    assert [kv.key async for kv in ns.range_iter("b", from_key=True, page_size=1)] == every[1:]
    assert _keys(await ns.range(ALL_KEYS, sort_order="descend")) == every[::-1]
    limited = await ns.range(ALL_KEYS, limit=2)
    assert _keys(limited) == every[:2] and limited.more and limited.count == 5


async def test_deletes_never_leave_the_namespace(ns, async_etcd_client):
    for key in ["a", "b", "c", "d"]:
        await ns.put(key, "in")
    deleted = await ns.delete_range("c", from_key=True, prev_kv=True)
    assert deleted.deleted == 2
    assert [kv.key for kv in deleted.prev_kvs] == [b"c", b"d"]
    await _outside_untouched(async_etcd_client)
    assert (await ns.delete_range("a", prefix=True)).deleted == 1
    assert (await ns.delete_range(ALL_KEYS)).deleted == 1
    assert (await ns.range(ALL_KEYS)).count == 0
    await _outside_untouched(async_etcd_client)


async def test_txn_in_both_forms(ns, async_etcd_client):
    await ns.put("k", "1")
    ok = await ns.txn(
        [Compare.value("k", "==", "1")],
        [Op.put("k", "2", prev_kv=True), Op.range("k")],
        [],
    )
    assert ok.succeeded
    assert ok.responses[0].prev_kv.key == b"k"
    assert _keys(ok.responses[1]) == [b"k"]
    failed = await ns.txn(
        etcd.Txn().If(etcd.Value("k") == "1").Then(Op.put("k", "x")).Else(Op.range("k"))
    )
    assert not failed.succeeded
    assert failed.responses[0].kvs[0].value == b"2"
    bound = ns.transaction().If(etcd.Version("k") > 0).Then(Op.delete_range("k", prev_kv=True))
    assert (await bound.commit()).responses[0].prev_kvs[0].key == b"k"
    assert (await async_etcd_client.range("/ns/k")).kvs == []


async def test_txn_compares_see_only_namespaced_keys(ns, async_etcd_client):
    # /ns0 and others exist outside: a compare over the whole namespace must not see them.
    assert (await ns.txn([etcd.Version(ALL_KEYS) == 0], [Op.put("first", "1")])).succeeded
    assert not (await ns.txn([etcd.Version(ALL_KEYS) == 0], [Op.put("second", "1")])).succeeded
    await async_etcd_client.put("/other/k", "1")
    # "k" in the namespace is /ns/k, not /other/k.
    assert (await ns.txn([etcd.Version("k") == 0], [Op.put("k", "ns")])).succeeded
    assert (await ns.txn([etcd.CreateRevision("f", prefix=True) > 0], [])).succeeded
    assert _keys(await ns.range(ALL_KEYS)) == [b"first", b"k"]


async def test_nested_transactions(ns, async_etcd_client):
    inner = etcd.Txn().If(etcd.Version("x") == 0).Then(Op.put("x", "1"), Op.range("x"))
    response = await ns.txn([], [inner, Op.range(ALL_KEYS)], [])
    nested = response.responses[0]
    assert nested.succeeded
    assert _keys(nested.responses[1]) == [b"x"]
    assert _keys(response.responses[1]) == [b"x"]
    assert (await async_etcd_client.range("/ns/x")).kvs[0].value == b"1"


async def test_nested_namespaces(ns, async_etcd_client):
    team = ns.namespace("team/")
    assert team.prefix == b"/ns/team/"
    await team.put("member", "ann")
    await ns.put("loose", "1")
    assert _keys(await team.range(ALL_KEYS)) == [b"member"]
    assert _keys(await ns.range(ALL_KEYS)) == [b"loose", b"team/member"]
    assert (await async_etcd_client.range("/ns/team/member")).kvs[0].value == b"ann"
    await team.delete_range(ALL_KEYS)
    assert _keys(await ns.range(ALL_KEYS)) == [b"loose"]
    await _outside_untouched(async_etcd_client)


async def test_compact_passes_through(ns):
    revision = (await ns.put("a", "1")).header.revision
    await ns.put("a", "2")
    await ns.compact(revision)
    with pytest.raises(etcd.EtcdCompacted):
        await ns.range("a", revision=revision - 1)


async def test_watch_sees_stripped_keys_and_nothing_outside(ns, async_etcd_client):
    async with ns.watch_stream(ALL_KEYS, prev_kv=True) as watch:
        assert isinstance(watch, AsyncNamespacedWatch)
        assert await watch.wait_created(10)
        await async_etcd_client.put("/ns0", "outside again")
        await async_etcd_client.put("/ns", "outside again")
        await ns.put("a", "1")
        await ns.put("a", "2")
        await ns.delete_range("a")
        events = [await anext(watch) for _ in range(3)]
        assert [(e.type, e.key) for e in events] == [
            (etcd.EventType.PUT, b"a"),
            (etcd.EventType.PUT, b"a"),
            (etcd.EventType.DELETE, b"a"),
        ]
        assert events[1].prev_kv.key == b"a" and events[1].prev_kv.value == b"1"
        assert events[2].prev_kv.value == b"2"
        assert watch.next_revision == events[2].revision + 1
        with pytest.raises(etcd.EtcdWatchTimedOut):
            await watch.next_response(timeout=0.3)


async def test_watch_prefix_responses_and_history(ns, async_etcd_client):
    start = (await ns.put("jobs/1", "a")).header.revision
    await ns.txn([], [Op.put("jobs/2", "b"), Op.put("other", "c")], [])
    keys: list[bytes] = []
    async with ns.watch_prefix("jobs/", start_revision=start) as watch:
        # Replayed history may come as one response or several: gather up to two events.
        while len(keys) < 2:
            keys.extend(e.key for e in (await watch.next_response(timeout=10)).events)
    assert keys == [b"jobs/1", b"jobs/2"]
    async with ns.watch_prefix("jobs/", start_revision=start) as watch:
        first = await anext(watch.responses())
        assert first.events[0].key == b"jobs/1"


async def test_watch_from_key_stays_inside(ns, async_etcd_client):
    start = (await async_etcd_client.put("/ns/m", "in")).header.revision
    await async_etcd_client.put("/ns0", "out")
    await async_etcd_client.put("/ns/z", "in")
    async with ns.watch_stream("m", from_key=True, start_revision=start) as watch:
        got = [(await anext(watch)).key, (await anext(watch)).key]
        assert got == [b"m", b"z"]
        with pytest.raises(etcd.EtcdWatchTimedOut):
            await watch.next_response(timeout=0.3)


async def test_watch_once_and_callback(ns, async_etcd_client):
    received: list[etcd.WatchResponse] = []
    arrived = Flag()

    def on_response(response: etcd.WatchResponse) -> None:
        received.append(response)
        arrived.set()

    async with ns.watch_stream("cb", callback=on_response) as watch:
        assert await watch.wait_created(10)
        await ns.put("cb", "1")
        assert await arrived.wait(10)
    assert received[0].events[0].key == b"cb"

    start = (await ns.put("once", "0")).header.revision
    event = await ns.watch_once("once", start_revision=start, timeout=10)
    assert (event.key, event.value) == (b"once", b"0")
    with pytest.raises(etcd.EtcdWatchTimedOut):
        await ns.watch_once("never", timeout=0.3)


async def test_leases_through_the_namespace(ns, async_etcd_client):
    granted = await ns.lease_grant(30)
    await ns.put("leased", "v", lease=granted.id)
    await async_etcd_client.put("/elsewhere", "v", lease=granted.id)
    assert (await async_etcd_client.range("/ns/leased")).kvs[0].lease == granted.id
    inside = await ns.lease_time_to_live(granted.id, keys=True)
    assert inside.exists and inside.granted_ttl == 30
    assert inside.keys == [b"leased"]  # relative, and only the namespace's
    assert granted.id in (await ns.lease_leases()).ids
    assert (await ns.lease_keep_alive_once(granted.id)).ttl == 30
    await ns.lease_revoke(granted.id)
    assert (await ns.range("leased")).kvs == []
    assert (await async_etcd_client.range("/elsewhere")).kvs == []
    assert granted.id not in (await ns.lease_leases()).ids
    assert not (await ns.lease_time_to_live(granted.id)).exists
    await _outside_untouched(async_etcd_client)


async def test_a_kept_alive_lease_through_the_namespace(ns, async_etcd_client):
    async with await ns.lease(ttl=10) as lease:
        await ns.put("kept", "v", lease=lease)
        assert (await ns.lease_time_to_live(lease.id, keys=True)).keys == [b"kept"]
    assert (await ns.range("kept")).kvs == []
