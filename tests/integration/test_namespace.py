# Generated from test_async_namespace.py by scripts/generate_sync.py: edit that file,
# then run the script. CI fails when the two differ.
"""Namespaces against a real etcd: everything inside, nothing outside ever seen or touched."""

from __future__ import annotations

import pytest

import etcd
from etcd import ALL_KEYS, Compare, Op
from etcd._namespace import Namespace, NamespacedWatch
from etcd._sync_io import Flag

pytestmark = pytest.mark.integration

# Keys around the namespace /ns/, sorted: each one would leak through a careless range.
OUTSIDE = ["/ns", "/ns.", "/ns0", "/nr/x", "/nsx/a", "/a", "\xff"]


@pytest.fixture
def ns(etcd_client):
    for key in OUTSIDE:
        etcd_client.put(key, "outside")
    return Namespace(etcd_client, "/ns/")


def _outside_untouched(client: etcd.Client) -> None:
    got = client.range(ALL_KEYS)
    outside = {kv.key.decode("utf-8", "replace"): kv.value for kv in got.kvs}
    for key in OUTSIDE:
        assert outside.get(key) == b"outside", key


def _keys(response: etcd.RangeResponse) -> list[bytes]:
    return [kv.key for kv in response.kvs]


def test_put_and_range(ns, etcd_client):
    put = ns.put("a", "1")
    assert put.prev_kv is None
    assert ns.put("a", "2", prev_kv=True).prev_kv.key == b"a"
    assert etcd_client.range("/ns/a").kvs[0].value == b"2"
    got = ns.range("a")
    assert _keys(got) == [b"a"] and got.kvs[0].value == b"2"
    assert ns.range("/ns/a").kvs == []  # keys are relative: no double prefix
    _outside_untouched(etcd_client)


def test_ranges_never_leave_the_namespace(ns, etcd_client):
    for key in ["a", "b/1", "b/2", "c", "\xfe"]:
        ns.put(key, "in")
    every = [b"a", b"b/1", b"b/2", b"c", "\xfe".encode()]
    assert _keys(ns.range(ALL_KEYS)) == every
    assert ns.range(ALL_KEYS, count_only=True).count == 5
    assert _keys(ns.range("b", from_key=True)) == every[1:]
    assert _keys(ns.range("b/", prefix=True)) == [b"b/1", b"b/2"]
    assert _keys(ns.range("a", "c")) == [b"a", b"b/1", b"b/2"]
    assert _keys(ns.range("a", b"\0")) == every
    assert [kv.key for kv in ns.range_iter(ALL_KEYS, page_size=2)] == every
    assert [kv.key for kv in ns.range_iter("b", from_key=True, page_size=1)] == every[1:]
    assert _keys(ns.range(ALL_KEYS, sort_order="descend")) == every[::-1]
    limited = ns.range(ALL_KEYS, limit=2)
    assert _keys(limited) == every[:2] and limited.more and limited.count == 5


def test_deletes_never_leave_the_namespace(ns, etcd_client):
    for key in ["a", "b", "c", "d"]:
        ns.put(key, "in")
    deleted = ns.delete_range("c", from_key=True, prev_kv=True)
    assert deleted.deleted == 2
    assert [kv.key for kv in deleted.prev_kvs] == [b"c", b"d"]
    _outside_untouched(etcd_client)
    assert ns.delete_range("a", prefix=True).deleted == 1
    assert ns.delete_range(ALL_KEYS).deleted == 1
    assert ns.range(ALL_KEYS).count == 0
    _outside_untouched(etcd_client)


def test_txn_in_both_forms(ns, etcd_client):
    ns.put("k", "1")
    ok = ns.txn(
        [Compare.value("k", "==", "1")],
        [Op.put("k", "2", prev_kv=True), Op.range("k")],
        [],
    )
    assert ok.succeeded
    assert ok.responses[0].prev_kv.key == b"k"
    assert _keys(ok.responses[1]) == [b"k"]
    failed = ns.txn(
        etcd.Txn().If(etcd.Value("k") == "1").Then(Op.put("k", "x")).Else(Op.range("k"))
    )
    assert not failed.succeeded
    assert failed.responses[0].kvs[0].value == b"2"
    bound = ns.transaction().If(etcd.Version("k") > 0).Then(Op.delete_range("k", prev_kv=True))
    assert bound.commit().responses[0].prev_kvs[0].key == b"k"
    assert etcd_client.range("/ns/k").kvs == []


def test_txn_compares_see_only_namespaced_keys(ns, etcd_client):
    # /ns0 and others exist outside: a compare over the whole namespace must not see them.
    assert ns.txn([etcd.Version(ALL_KEYS) == 0], [Op.put("first", "1")]).succeeded
    assert not ns.txn([etcd.Version(ALL_KEYS) == 0], [Op.put("second", "1")]).succeeded
    etcd_client.put("/other/k", "1")
    # "k" in the namespace is /ns/k, not /other/k.
    assert ns.txn([etcd.Version("k") == 0], [Op.put("k", "ns")]).succeeded
    assert ns.txn([etcd.CreateRevision("f", prefix=True) > 0], []).succeeded
    assert _keys(ns.range(ALL_KEYS)) == [b"first", b"k"]


def test_nested_transactions(ns, etcd_client):
    inner = etcd.Txn().If(etcd.Version("x") == 0).Then(Op.put("x", "1"), Op.range("x"))
    response = ns.txn([], [inner, Op.range(ALL_KEYS)], [])
    nested = response.responses[0]
    assert nested.succeeded
    assert _keys(nested.responses[1]) == [b"x"]
    assert _keys(response.responses[1]) == [b"x"]
    assert etcd_client.range("/ns/x").kvs[0].value == b"1"


def test_nested_namespaces(ns, etcd_client):
    team = ns.namespace("team/")
    assert team.prefix == b"/ns/team/"
    team.put("member", "ann")
    ns.put("loose", "1")
    assert _keys(team.range(ALL_KEYS)) == [b"member"]
    assert _keys(ns.range(ALL_KEYS)) == [b"loose", b"team/member"]
    assert etcd_client.range("/ns/team/member").kvs[0].value == b"ann"
    team.delete_range(ALL_KEYS)
    assert _keys(ns.range(ALL_KEYS)) == [b"loose"]
    _outside_untouched(etcd_client)


def test_compact_passes_through(ns):
    revision = ns.put("a", "1").header.revision
    ns.put("a", "2")
    ns.compact(revision)
    with pytest.raises(etcd.EtcdCompacted):
        ns.range("a", revision=revision - 1)


def test_watch_sees_stripped_keys_and_nothing_outside(ns, etcd_client):
    with ns.watch_stream(ALL_KEYS, prev_kv=True) as watch:
        assert isinstance(watch, NamespacedWatch)
        assert watch.wait_created(10)
        etcd_client.put("/ns0", "outside again")
        etcd_client.put("/ns", "outside again")
        ns.put("a", "1")
        ns.put("a", "2")
        ns.delete_range("a")
        events = [next(watch) for _ in range(3)]
        assert [(e.type, e.key) for e in events] == [
            (etcd.EventType.PUT, b"a"),
            (etcd.EventType.PUT, b"a"),
            (etcd.EventType.DELETE, b"a"),
        ]
        assert events[1].prev_kv.key == b"a" and events[1].prev_kv.value == b"1"
        assert events[2].prev_kv.value == b"2"
        assert watch.next_revision == events[2].revision + 1
        with pytest.raises(etcd.EtcdWatchTimedOut):
            watch.next_response(timeout=0.3)


def test_watch_prefix_responses_and_history(ns, etcd_client):
    start = ns.put("jobs/1", "a").header.revision
    ns.txn([], [Op.put("jobs/2", "b"), Op.put("other", "c")], [])
    keys: list[bytes] = []
    with ns.watch_prefix("jobs/", start_revision=start) as watch:
        # Replayed history may come as one response or several: gather up to two events.
        while len(keys) < 2:
            keys.extend(e.key for e in watch.next_response(timeout=10).events)
    assert keys == [b"jobs/1", b"jobs/2"]
    with ns.watch_prefix("jobs/", start_revision=start) as watch:
        first = next(watch.responses())
        assert first.events[0].key == b"jobs/1"


def test_watch_from_key_stays_inside(ns, etcd_client):
    start = etcd_client.put("/ns/m", "in").header.revision
    etcd_client.put("/ns0", "out")
    etcd_client.put("/ns/z", "in")
    with ns.watch_stream("m", from_key=True, start_revision=start) as watch:
        got = [next(watch).key, next(watch).key]
        assert got == [b"m", b"z"]
        with pytest.raises(etcd.EtcdWatchTimedOut):
            watch.next_response(timeout=0.3)


def test_watch_once_and_callback(ns, etcd_client):
    received: list[etcd.WatchResponse] = []
    arrived = Flag()

    def on_response(response: etcd.WatchResponse) -> None:
        received.append(response)
        arrived.set()

    with ns.watch_stream("cb", callback=on_response) as watch:
        assert watch.wait_created(10)
        ns.put("cb", "1")
        assert arrived.wait(10)
    assert received[0].events[0].key == b"cb"

    start = ns.put("once", "0").header.revision
    event = ns.watch_once("once", start_revision=start, timeout=10)
    assert (event.key, event.value) == (b"once", b"0")
    with pytest.raises(etcd.EtcdWatchTimedOut):
        ns.watch_once("never", timeout=0.3)


def test_leases_through_the_namespace(ns, etcd_client):
    granted = ns.lease_grant(30)
    ns.put("leased", "v", lease=granted.id)
    etcd_client.put("/elsewhere", "v", lease=granted.id)
    assert etcd_client.range("/ns/leased").kvs[0].lease == granted.id
    inside = ns.lease_time_to_live(granted.id, keys=True)
    assert inside.exists and inside.granted_ttl == 30
    assert inside.keys == [b"leased"]  # relative, and only the namespace's
    assert granted.id in ns.lease_leases().ids
    assert ns.lease_keep_alive_once(granted.id).ttl == 30
    ns.lease_revoke(granted.id)
    assert ns.range("leased").kvs == []
    assert etcd_client.range("/elsewhere").kvs == []
    assert granted.id not in ns.lease_leases().ids
    assert not ns.lease_time_to_live(granted.id).exists
    _outside_untouched(etcd_client)


def test_a_kept_alive_lease_through_the_namespace(ns, etcd_client):
    with ns.lease(ttl=10) as lease:
        ns.put("kept", "v", lease=lease)
        assert ns.lease_time_to_live(lease.id, keys=True).keys == [b"kept"]
    assert ns.range("kept").kvs == []
