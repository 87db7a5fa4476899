"""The cache's copy without a server: listings, watch responses, relists, snapshots."""

import random
import threading

import pytest

import etcd
from etcd._core.cache import CacheState, cache_prefix
from etcd._core.responses import KeyValue
from etcd._core.watch import Event, EventType


def kv(key, revision, value=b"v", created=None, version=1):
    return KeyValue(key, value, created or revision, revision, version, 0)


def put(key, revision, value=b"v"):
    return Event(EventType.PUT, kv(key, revision, value))


def delete(key, revision):
    return Event(EventType.DELETE, KeyValue(key, b"", 0, revision, 0, 0))


def loaded(*kvs, revision=10, **options):
    state = CacheState(b"/p/", **options)
    state.load(list(kvs), revision)
    return state


def test_the_first_listing_is_one_update_of_every_key_in_key_order():
    state = CacheState(b"/p/")
    update = state.load([kv(b"/p/b", 3), kv(b"/p/a", 5)], 9)
    assert state.revision == 9 and update.revision == 9 and not update.reset
    assert [(e.type, e.key, e.prev_entry) for e in update.events] == [
        (EventType.PUT, b"/p/a", None),
        (EventType.PUT, b"/p/b", None),
    ]
    assert state.snapshot()[b"/p/a"] == b"v" and list(state.snapshot()) == [b"/p/a", b"/p/b"]


def test_a_transaction_is_one_update_and_each_revision_its_own():
    state = loaded(kv(b"/p/a", 5))
    updates = state.apply(
        [put(b"/p/b", 11), delete(b"/p/a", 11), put(b"/p/c", 12, b"x")], revision=12
    )
    assert [(u.revision, [(e.type, e.key) for e in u.events]) for u in updates] == [
        (11, [(EventType.PUT, b"/p/b"), (EventType.DELETE, b"/p/a")]),
        (12, [(EventType.PUT, b"/p/c")]),
    ]
    deleted = updates[0].events[1]
    assert deleted.entry is None and deleted.prev_entry is not None
    assert deleted.prev_entry.mod_revision == 5
    assert state.revision == 12 and sorted(state.snapshot()) == [b"/p/b", b"/p/c"]


def test_a_replayed_revision_is_not_applied_twice():
    state = loaded(kv(b"/p/a", 5), revision=10)
    assert state.apply([put(b"/p/a", 9, b"old")], revision=10) == []
    assert state.snapshot()[b"/p/a"] == b"v"


def test_the_revision_never_goes_back():
    state = loaded(revision=10)
    state.advance(7)  # a progress notification from a member that is behind
    assert state.revision == 10
    state.apply([], revision=8)
    assert state.revision == 10
    with pytest.raises(etcd.EtcdException, match="back from 10"):
        state.load([], 9)


def test_a_relist_gives_the_difference_and_says_it_is_a_reset():
    state = loaded(kv(b"/p/same", 5), kv(b"/p/changed", 6), kv(b"/p/gone", 7), revision=10)
    update = state.load([kv(b"/p/same", 5), kv(b"/p/changed", 15, b"new"), kv(b"/p/new", 16)], 20)
    assert update.reset and update.revision == 20
    assert [(e.type, e.key) for e in update.events] == [
        (EventType.PUT, b"/p/changed"),
        (EventType.DELETE, b"/p/gone"),
        (EventType.PUT, b"/p/new"),
    ]
    assert dict(state.snapshot()) == {b"/p/same": b"v", b"/p/changed": b"new", b"/p/new": b"v"}


def test_a_snapshot_never_changes_while_the_copy_moves_on():
    state = loaded(kv(b"/p/a", 5), revision=10)
    before = state.snapshot()
    state.apply([put(b"/p/b", 11), delete(b"/p/a", 12)], revision=12)
    assert before.revision == 10 and dict(before) == {b"/p/a": b"v"}
    after = state.snapshot()
    assert after.revision == 12 and list(after) == [b"/p/b"]


def test_sub_prefixes_and_str_keys():
    state = loaded(kv(b"/p/a/1", 2), kv(b"/p/a/2", 3), kv(b"/p/b/1", 4), kv(b"/p/a", 5))
    snapshot = state.snapshot()
    assert [key for key, _ in snapshot.items("/p/a/")] == [b"/p/a/1", b"/p/a/2"]
    assert [e.key for e in snapshot.entries(b"/p/b")] == [b"/p/b/1"]
    assert "/p/a" in snapshot and snapshot["/p/a"] == b"v" and 3 not in snapshot
    assert snapshot.entry("/p/a/2").mod_revision == 3


def test_values_decoded_or_not_kept():
    decoded = loaded(kv(b"/p/a", 5, b"41"), decode=lambda raw: int(raw) + 1)
    assert decoded.snapshot()[b"/p/a"] == 42
    keys_only = loaded(kv(b"/p/a", 5, b"big"), keys_only=True)
    assert keys_only.snapshot()[b"/p/a"] is None and keys_only.entry(b"/p/a").version == 1
    with pytest.raises(etcd.EtcdValueError):
        CacheState(b"/p/", decode=int, keys_only=True)


def test_a_prefix_is_checked():
    assert cache_prefix("/p/") == b"/p/"
    with pytest.raises(etcd.EtcdValueError):
        cache_prefix("")
    with pytest.raises(etcd.EtcdTypeError):
        cache_prefix(5)


def test_the_copy_equals_a_model_at_every_revision():
    # Random histories: the copy, updated per revision, is always the model's state.
    rng = random.Random(7)
    keys = [f"/p/{i}".encode() for i in range(12)]
    model = {}
    state = CacheState(b"/p/")
    state.load([], 1)
    revision = 1
    for _ in range(300):
        revision += 1
        events = []
        for key in rng.sample(keys, rng.randint(1, 3)):
            if key in model and rng.random() < 0.4:
                del model[key]
                events.append(delete(key, revision))
            else:
                model[key] = str(revision).encode()
                events.append(put(key, revision, model[key]))
        state.apply(events, revision)
        snapshot = state.snapshot()
        assert dict(snapshot) == model and list(snapshot) == sorted(model)
        if rng.random() < 0.1:  # a compaction: relisting the same state changes nothing
            relisted = [kv(k, int(v), v) for k, v in model.items()]
            assert state.load(relisted, revision).events == ()


def test_reads_from_other_threads_never_see_a_torn_copy():
    state = loaded(revision=1)
    stop = threading.Event()
    problems = []

    def read():
        while not stop.is_set():
            snapshot = state.snapshot()
            keys = list(snapshot)
            if keys != sorted(keys) or len(keys) != len(snapshot):
                problems.append(keys)

    readers = [threading.Thread(target=read) for _ in range(3)]
    for reader in readers:
        reader.start()
    for revision in range(2, 2000):
        state.apply([put(f"/p/{revision % 50}".encode(), revision)], revision)
        if revision % 3 == 0:
            state.apply([delete(f"/p/{revision % 50}".encode(), revision + 1)], revision + 1)
    stop.set()
    for reader in readers:
        reader.join()
    assert problems == []


def test_an_updates_events_are_made_when_first_read_and_equal_eager_ones():
    state = loaded(kv(b"/p/a", 5), revision=10)
    (update,) = state.apply([put(b"/p/b", 11), delete(b"/p/a", 11)], revision=11)
    assert len(update) == 2 and update._events is None
    events = update.events
    assert update.events is events  # made once
    assert update == etcd.CacheUpdate(11, events)
    assert [(e.type, e.key, e.revision) for e in events] == [
        (EventType.PUT, b"/p/b", 11),
        (EventType.DELETE, b"/p/a", 11),
    ]
    assert "revision=11" in repr(update)
