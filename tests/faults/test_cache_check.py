"""The cache subscriber checker (``cache_check.py``) without a server: the updates a real
:class:`~etcd._core.cache.CacheState` gives pass, and every way of losing, repeating,
reordering or falsifying an update is reported."""

from __future__ import annotations

import dataclasses
import random

from etcd import CacheUpdate, Event, EventType, KeyValue
from etcd._core.cache import CacheState

from .cache_check import Changes, check_updates, state_at


def with_events(update, events):
    """``update`` with other events: a tampered copy for the checker to catch."""
    return CacheUpdate(update.revision, events, update.reset)


PREFIX = b"/p/"


def kv(key: bytes, value: bytes, revision: int) -> KeyValue:
    return KeyValue(key, value, revision, revision, 1, 0)


def events_at(writes: Changes, revision: int) -> list[Event]:
    return [
        Event(EventType.DELETE, KeyValue(key, b"", 0, revision, 0, 0))
        if value is None
        else Event(EventType.PUT, kv(key, value, revision))
        for key, value in writes[revision].items()
    ]


def listing(writes: Changes, revision: int) -> list[KeyValue]:
    return [
        KeyValue(key, value, mod, mod, 1, 0)
        for key, (value, mod) in sorted(state_at(writes, revision).items())
    ]


def follow(
    writes: Changes, *, listed_at: int, until: int, relists: dict[int, int] | None = None
) -> tuple[CacheState[bytes], list[CacheUpdate[bytes]]]:
    """What a cache gives its subscriber: a listing at ``listed_at``, then each revision
    the watch brings, except that after each revision ``a`` in ``relists`` the history up
    to ``relists[a]`` is gone and the prefix is listed again there."""
    state: CacheState[bytes] = CacheState(PREFIX)
    updates = [state.load(listing(writes, listed_at), listed_at)]
    relists = relists or {}
    at = listed_at
    while at < until:
        if at in relists:
            at = relists[at]
            updates.append(state.load(listing(writes, at), at))
            continue
        at += 1
        if at in writes:
            updates.extend(state.apply(events_at(writes, at), at))
        else:
            state.advance(at)  # a revision outside the prefix
    return state, [u for u in updates if u.events or u.reset]


def some_writes() -> dict[int, dict[bytes, bytes | None]]:
    return {
        3: {b"/p/a": b"a1", b"/p/b": b"b1"},
        4: {b"/p/c": b"c1"},
        6: {b"/p/a": b"a2"},  # 5 is outside the prefix
        7: {b"/p/b": None, b"/p/d": b"d1"},  # a transaction
        8: {b"/p/c": None},
        9: {b"/p/e": b"e1"},
        10: {b"/p/e": None},
        11: {b"/p/c": b"c2", b"/p/f": b"f1"},
        12: {b"/p/a": b"a3"},
    }


def test_what_a_cache_gives_passes():
    writes = some_writes()
    _, updates = follow(writes, listed_at=4, until=12)
    assert [u.revision for u in updates] == [4, 6, 7, 8, 9, 10, 11, 12]
    assert check_updates(writes, updates, until=12) == []


def test_a_lost_update_is_a_gap():
    writes = some_writes()
    _, updates = follow(writes, listed_at=4, until=12)
    problems = check_updates(writes, updates[:3] + updates[4:], until=12)
    assert problems and problems[0].startswith("gap: revisions [8]")


def test_a_lost_last_update_is_a_gap():
    writes = some_writes()
    _, updates = follow(writes, listed_at=4, until=12)
    problems = check_updates(writes, updates[:-1], until=12)
    assert any(p.startswith("gap: revisions [12]") for p in problems)


def test_a_repeated_update_is_a_duplicate():
    writes = some_writes()
    _, updates = follow(writes, listed_at=4, until=12)
    problems = check_updates(writes, [*updates[:4], updates[3], *updates[4:]], until=12)
    assert problems == ["duplicate: an update at revision 8 came after revision 8"]
    problems = check_updates(writes, [*updates[:5], updates[2], *updates[5:]], until=12)
    assert problems == ["duplicate: an update at revision 7 came after revision 9"]


def test_swapped_updates_are_a_reorder():
    writes = some_writes()
    _, updates = follow(writes, listed_at=4, until=12)
    swapped = [*updates[:2], updates[3], updates[2], *updates[4:]]
    problems = check_updates(writes, swapped, until=12)
    assert "reordered: an update at revision 7 came after revision 8" in problems
    assert any(p.startswith("gap: revisions [7]") for p in problems)


def test_a_wrong_value_or_a_missing_event_is_reported():
    writes = some_writes()
    _, updates = follow(writes, listed_at=4, until=12)
    txn = updates[2]
    entry = txn.events[1].entry
    assert entry is not None
    wrong = dataclasses.replace(txn.events[1], entry=dataclasses.replace(entry, value=b"other"))
    tampered = with_events(txn, (txn.events[0], wrong))
    problems = check_updates(writes, [*updates[:2], tampered, *updates[3:]], until=12)
    assert any(p.startswith("update at revision 7: events") for p in problems)
    half = with_events(txn, txn.events[:1])
    problems = check_updates(writes, [*updates[:2], half, *updates[3:]], until=12)
    assert any(p.startswith("update at revision 7: events") for p in problems)


def test_an_update_where_nobody_wrote_is_reported():
    writes = some_writes()
    _, updates = follow(writes, listed_at=4, until=12)
    phantom = CacheUpdate(5, updates[1].events)
    problems = check_updates(writes, [*updates[:1], phantom, *updates[1:]], until=12)
    assert "revision 5: an update where no writer wrote" in problems


def test_a_wrong_previous_entry_is_reported():
    writes = some_writes()
    _, updates = follow(writes, listed_at=4, until=12)
    update = updates[1]
    event = dataclasses.replace(update.events[0], prev_entry=None)
    problems = check_updates(
        writes, [updates[0], with_events(update, (event,)), *updates[2:]], until=12
    )
    assert any("its event says None" in p for p in problems)


def test_a_reset_after_a_compaction_is_exactly_the_difference():
    writes = some_writes()
    # The copy is at 6; revisions 7 to 10 are compacted away; it lists again at 11.
    _, updates = follow(writes, listed_at=4, until=12, relists={6: 11})
    reset = next(u for u in updates if u.reset)
    assert reset.revision == 11
    # b deleted, c deleted and created again (a new entry), d created; e came and went.
    assert {e.key: e.type for e in reset.events} == {
        b"/p/b": EventType.DELETE,
        b"/p/c": EventType.PUT,
        b"/p/d": EventType.PUT,
        b"/p/f": EventType.PUT,
    }
    assert check_updates(writes, updates, until=12, compactions=[10]) == []
    # The same updates without a compaction that removed revision 7: not legitimate.
    problems = check_updates(writes, updates, until=12)
    assert problems and problems[0].startswith("reset at revision 11 after revision 6, but no")
    problems = check_updates(writes, updates, until=12, compactions=[7])
    assert problems and problems[0].startswith("reset at revision 11")


def test_a_reset_must_be_the_difference_and_nothing_else():
    writes = some_writes()
    _, updates = follow(writes, listed_at=4, until=12, relists={6: 11})
    index = next(i for i, u in enumerate(updates) if u.reset)
    reset = updates[index]

    def check(events):
        tampered = [
            *updates[:index],
            with_events(reset, events),
            *updates[index + 1 :],
        ]
        return check_updates(writes, tampered, until=12, compactions=[10])

    # A delete left out; an unchanged key sent again; an event of a key that came and went.
    missing = tuple(e for e in reset.events if e.type != EventType.DELETE)
    assert any(p.startswith("reset at revision 11: events") for p in check(missing))
    state, _ = follow(writes, listed_at=4, until=6)
    unchanged = state.entry(b"/p/a")
    extra = (
        *reset.events,
        dataclasses.replace(reset.events[0], key=b"/p/a", entry=unchanged, prev_entry=unchanged),
    )
    assert any(p.startswith("reset at revision 11: events") for p in check(extra))
    came_and_went = dataclasses.replace(
        reset.events[0], type=EventType.DELETE, key=b"/p/e", entry=None, prev_entry=None
    )
    assert any(
        p.startswith("reset at revision 11: events") for p in check((*reset.events, came_and_went))
    )
    # The revisions it replaces must not be delivered on top of it as ordinary updates.
    revision_8 = next(u for u in follow(writes, listed_at=4, until=12)[1] if u.revision == 8)
    problems = check_updates(
        writes,
        [*updates[: index + 1], revision_8, *updates[index + 1 :]],
        until=12,
        compactions=[10],
    )
    assert "reordered: an update at revision 8 came after revision 11" in problems


def test_a_subscriber_that_began_from_a_snapshot():
    writes = some_writes()
    state, _updates = follow(writes, listed_at=4, until=8)
    snapshot = state.snapshot()
    later = follow(writes, listed_at=4, until=12)[1]
    # Updates at or below the snapshot's revision that arrive first are already in it.
    received = [u for u in later if u.revision >= 7]
    assert check_updates(writes, received, until=12, start=snapshot) == []
    assert [u.revision for u in received] == [7, 8, 9, 10, 11, 12]
    problems = check_updates(writes, received[:2] + received[3:], until=12, start=snapshot)
    assert problems[0].startswith("gap: revisions [9]")
    wrong = follow(writes, listed_at=4, until=7)[0].snapshot()
    wrong.revision = 8  # claims 8 but holds 7's copy (c still there)
    problems = check_updates(writes, received, until=12, start=wrong)
    assert problems[0].startswith("the snapshot at revision 8 is not the store there")


def test_random_histories_pass_and_any_single_fault_is_caught():
    rng = random.Random(1234)
    for _ in range(200):
        keys = [f"/p/{k}".encode() for k in "abcdef"]
        writes: dict[int, dict[bytes, bytes | None]] = {}
        live: set[bytes] = set()
        revision = 1
        for n in range(rng.randint(5, 40)):
            revision += rng.choice((1, 1, 1, 2))  # now and then a revision outside the prefix
            changes: dict[bytes, bytes | None] = {}
            for key in rng.sample(keys, rng.randint(1, 3)):
                if key in live and rng.random() < 0.4:
                    changes[key] = None
                    live.discard(key)
                else:
                    changes[key] = f"{key.decode()}-{n}".encode()
                    live.add(key)
            writes[revision] = changes
        until = revision + rng.randint(0, 2)
        listed_at = rng.randint(1, until)
        relists: dict[int, int] = {}
        compactions: list[int] = []
        if until - listed_at > 3 and rng.random() < 0.5:
            frm = rng.randint(listed_at, until - 3)
            to = rng.randint(frm + 2, until)
            relists[frm] = to
            compactions.append(rng.randint(frm + 2, to))
        _, updates = follow(writes, listed_at=listed_at, until=until, relists=relists)
        assert check_updates(writes, updates, until=until, compactions=compactions) == []
        ordinary = [i for i, u in enumerate(updates) if i > 0 and not u.reset]
        if not ordinary:
            continue
        i = rng.choice(ordinary)
        fault = rng.choice(("drop", "repeat", "swap"))
        if fault == "drop":
            faulty = updates[:i] + updates[i + 1 :]
        elif fault == "repeat":
            faulty = updates[: i + 1] + updates[i:]
        elif i + 1 < len(updates):
            faulty = [*updates[:i], updates[i + 1], updates[i], *updates[i + 2 :]]
        else:
            faulty = [*updates[: i - 1], updates[i], updates[i - 1]]
        problems = check_updates(writes, faulty, until=until, compactions=compactions)
        assert problems, (fault, i, [u.revision for u in updates])
