"""What a cache's subscriber must have seen, checked against what the writers wrote.

:func:`check_updates` is pure: it takes the writers' acknowledged changes of the prefix by
revision and the :class:`etcd.CacheUpdate` s one subscriber received, and reports every
gap, duplicate, reorder and wrong event, in words. Its rules:

- update revisions strictly increase (a revision seen again is a duplicate, a lower one
  never seen a reorder);
- an ordinary update is exactly one revision the writers wrote at, with exactly their
  changes (each key once, the new value and ``mod_revision``, ``None`` for a delete), and
  no revision the writers wrote at is passed over;
- the first listing (when the subscriber was there from the start) and an update marked
  ``reset`` replace the revisions since the previous update by their net difference: the
  events must be exactly the keys whose entry differs between what the subscriber held
  and the store at the update's revision, and nothing else. A ``reset`` is legitimate
  only after a compaction that removed the revision the watch had to resume at
  (``previous + 1 < compaction <= reset``);
- every event's ``prev_entry`` is what the subscriber held for that key;
- at the end, every revision the writers wrote at up to ``until`` was delivered or
  replaced by a reset, and what the subscriber holds equals the store at ``until``.

Writers must use a new value on every put, so that an entry is known by its value, and
must report only changes that took effect (a delete of a key that exists).
"""

from __future__ import annotations

import bisect
from collections.abc import Collection, Mapping, Sequence

from etcd import CacheEntry, CacheSnapshot, CacheUpdate, EventType

__all__ = ["Changes", "check_updates", "state_at"]

#: revision -> {key: the value written, or None for a delete}
Changes = Mapping[int, Mapping[bytes, "bytes | None"]]
# What a key holds: (value, mod_revision).
_Held = tuple[bytes, int]


def state_at(writes: Changes, revision: int) -> dict[bytes, _Held]:
    """The prefix after every write up to ``revision``: key -> (value, mod_revision)."""
    state: dict[bytes, _Held] = {}
    for at in sorted(r for r in writes if r <= revision):
        for key, value in writes[at].items():
            if value is None:
                state.pop(key, None)
            else:
                state[key] = (value, at)
    return state


def _held(entry: CacheEntry[bytes] | None) -> _Held | None:
    return None if entry is None else (entry.value, entry.mod_revision)


def _difference(
    before: Mapping[bytes, _Held], after: Mapping[bytes, _Held]
) -> dict[bytes, _Held | None]:
    return {
        key: after.get(key)
        for key in sorted(set(before) | set(after))
        if before.get(key) != after.get(key)
    }


def _show(changes: Mapping[bytes, _Held | None], limit: int = 6) -> str:
    shown = [
        f"{key.decode(errors='replace')}={'<deleted>' if held is None else held[0].decode()}"
        f"{'' if held is None else f'@{held[1]}'}"
        for key, held in list(changes.items())[:limit]
    ]
    more = f" (+{len(changes) - limit} more)" if len(changes) > limit else ""
    return "{" + ", ".join(shown) + "}" + more


def _received(update: CacheUpdate[bytes], problems: list[str]) -> dict[bytes, _Held | None]:
    """The update's events as key -> new entry, noting malformed events."""
    got: dict[bytes, _Held | None] = {}
    r = update.revision
    for event in update.events:
        if event.key in got:
            problems.append(f"revision {r}: {event.key!r} changed twice in one update")
        if event.revision != r:
            problems.append(f"revision {r}: an event says revision {event.revision}")
        if (event.type == EventType.DELETE) != (event.entry is None):
            problems.append(f"revision {r}: {event.type.name} of {event.key!r} with {event.entry}")
        got[event.key] = _held(event.entry)
    return got


def check_updates(
    writes: Changes,
    updates: Sequence[CacheUpdate[bytes]],
    *,
    until: int,
    start: CacheSnapshot[bytes] | None = None,
    compactions: Collection[int] = (),
) -> list[str]:
    """Everything wrong with ``updates`` (one subscriber's, in the order received).

    ``writes`` holds every change made under the prefix, by revision (a fresh prefix:
    empty before the first). With ``start=None`` the subscriber was there from the start
    and its first update is the cache's first listing (or, when the prefix was empty
    then, the first change); otherwise it began from the
    snapshot ``start`` (taken once it was subscribed), and the updates at or below the
    snapshot's revision that it received first are already in it. ``until`` is the
    revision the subscriber must have reached (the cache's at the end); ``compactions``
    the revisions the history was compacted at. Returns ``[]`` when all is well.
    """
    problems: list[str] = []
    revisions = sorted(r for r in writes if r <= until)
    position = 0
    held: dict[bytes, _Held] = {}
    listing_first = start is None
    if start is not None:
        position = start.revision
        for key in start:
            entry = start.entry(key)
            assert entry is not None
            held[key] = (entry.value, entry.mod_revision)
        there = state_at(writes, position)
        if held != there:
            problems.append(
                f"the snapshot at revision {position} is not the store there: "
                f"it differs by {_show(_difference(held, there))}"
            )
        skip = 0
        while skip < len(updates) and updates[skip].revision <= position:
            skip += 1
        updates = updates[skip:]
    delivered: set[int] = set()
    for index, update in enumerate(updates):
        r = update.revision
        listing = listing_first and index == 0
        if r <= position:
            kind = "duplicate" if r in delivered else "reordered"
            problems.append(f"{kind}: an update at revision {r} came after revision {position}")
            continue
        expected: dict[bytes, _Held | None]
        if listing or update.reset:
            if listing and update.reset:
                problems.append(f"revision {r}: the first listing is marked reset")
            if update.reset and not any(position + 1 < c <= r for c in compactions):
                problems.append(
                    f"reset at revision {r} after revision {position}, but no compaction "
                    f"removed revision {position + 1} (compactions: {sorted(compactions)})"
                )
            what = "the first listing" if listing else "reset"
            expected = _difference(held, state_at(writes, r))
        else:
            what = "update"
            start_at = bisect.bisect_right(revisions, position)
            skipped = revisions[start_at : bisect.bisect_left(revisions, r)]
            if skipped:
                problems.append(
                    f"gap: revisions {skipped[:10]}{' ...' if len(skipped) > 10 else ''} were "
                    f"never delivered (the next update is at revision {r})"
                )
            if r not in writes:
                problems.append(f"revision {r}: an update where no writer wrote")
            expected = {
                key: None if value is None else (value, r)
                for key, value in sorted(writes.get(r, {}).items())
            }
        got = _received(update, problems)
        for event in update.events:
            if _held(event.prev_entry) != held.get(event.key):
                problems.append(
                    f"revision {r}: {event.key!r} was {held.get(event.key)} for the "
                    f"subscriber, its event says {_held(event.prev_entry)}"
                )
        if got != expected:
            problems.append(
                f"{what} at revision {r}: events {_show(got)}, but the writers' changes "
                f"make {_show(expected)}"
            )
        for key, new in got.items():
            if new is None:
                held.pop(key, None)
            else:
                held[key] = new
        delivered.add(r)
        position = r
    tail = revisions[bisect.bisect_right(revisions, position) :]
    if tail:
        problems.append(
            f"gap: revisions {tail[:10]}{' ...' if len(tail) > 10 else ''} were never "
            f"delivered (the last update is at revision {position}, the cache at {until})"
        )
    final = state_at(writes, until)
    if held != final:
        problems.append(
            f"the subscriber's copy differs from the store at revision {until} by "
            f"{_show(_difference(held, final))}"
        )
    return problems
