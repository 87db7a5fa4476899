"""A local copy of a prefix, without I/O: the map, its revision, and what each change means.

The shells (sync and asyncio) list the prefix and watch it; they hand every listing and
every watch response to a :class:`CacheState`, which applies it and returns the
:class:`CacheUpdate` to give subscribers. Keeping this here, away from threads and
sockets, is what lets unit tests check that the copy equals the store at every revision it
reports, that a relist after a compaction yields exactly the difference, and that the
revision never goes back.

Reads come from any thread or task while one consumer applies changes. The map is copied
on write: a snapshot shares the current map and its sorted keys, and the first change
after it works on a copy, so a snapshot stays valid, and iterating one never races a
change.
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from . import exceptions as exc
from . import validation as check
from .keys import prefix_end
from .responses import KeyValue
from .watch import Event, EventType

__all__ = ["CacheEntry", "CacheEvent", "CacheSnapshot", "CacheUpdate"]

V = TypeVar("V")


# Plain slotted dataclasses rather than frozen ones: freezing costs a second per million
# objects made. Events are read-only by convention, like etcd.KeyValue.
@dataclass(slots=True)
class CacheEntry(Generic[V]):
    """One key of the copy: its value (decoded, if the cache decodes) and its metadata.
    Made when read: change it freely, the copy does not see it."""

    key: bytes
    value: V
    create_revision: int
    mod_revision: int
    version: int
    lease: int


@dataclass(slots=True)
class CacheEvent(Generic[V]):
    """One change of the copy: ``entry`` is the key's new state (``None`` once deleted),
    ``prev_entry`` what the copy held before (``None`` for a new key)."""

    type: EventType
    key: bytes
    entry: CacheEntry[V] | None
    prev_entry: CacheEntry[V] | None
    revision: int


# What the copy keeps of a key: (value, create_revision, mod_revision, version, lease).
# A plain tuple of bytes and ints is one object, and Python's garbage collector stops
# tracking it at its first collection; a CacheEntry per key would stay tracked, and every
# full collection would walk the whole copy. With a million keys, or a fast stream of
# changes, that walk cost a quarter of the time spent following the store.
_Row = tuple[Any, int, int, int, int]


def _entry_of(key: bytes, row: _Row | None) -> CacheEntry[Any] | None:
    if row is None:
        return None
    return CacheEntry(key, row[0], row[1], row[2], row[3], row[4])


# The changes of one revision, as the copy applied them: the kinds, keys, new rows and
# previous rows, side by side, made into CacheEvents only when a subscriber reads them.
_Changes = tuple[list[EventType], list[bytes], list[_Row | None], list[_Row | None]]


class CacheUpdate(Generic[V]):
    """The changes the copy applied at one revision, given to subscribers in order.

    A transaction changes its keys at one revision, so it arrives as one update. ``reset``
    marks the update that a relist produced (after the history the watch needed was
    compacted): its events are the difference between the copy before and after, and
    the revisions in between are gone from etcd, not from the copy. ``len(update)`` is
    the number of keys it changed.
    """

    __slots__ = ("_changes", "_events", "reset", "revision")

    def __init__(
        self, revision: int, events: Sequence[CacheEvent[V]] = (), reset: bool = False
    ) -> None:
        self.revision = revision
        self.reset = reset
        self._events: tuple[CacheEvent[V], ...] | None = tuple(events)
        self._changes: _Changes | None = None

    @classmethod
    def _of_changes(cls, revision: int, changes: _Changes) -> CacheUpdate[V]:
        # The events are made when first read: each object made is one more for Python's
        # garbage collector to track, and a subscriber may not read every change.
        update: CacheUpdate[V] = cls(revision)
        update._events = None
        update._changes = changes
        return update

    @property
    def events(self) -> tuple[CacheEvent[V], ...]:
        """The changes, in the order the revision made them."""
        events = self._events
        if events is None:
            assert self._changes is not None
            kinds, keys, entries, previous = self._changes
            revision = self.revision
            events = tuple(
                CacheEvent(kind, key, _entry_of(key, new), _entry_of(key, old), revision)
                for kind, key, new, old in zip(kinds, keys, entries, previous, strict=True)
            )
            self._events = events
        return events

    def __len__(self) -> int:
        if self._events is not None:
            return len(self._events)
        assert self._changes is not None
        return len(self._changes[1])

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CacheUpdate):
            return NotImplemented
        return (self.revision, self.reset, self.events) == (
            other.revision,
            other.reset,
            other.events,
        )

    __hash__ = None  # type: ignore[assignment]  # compared by value, like the events

    def __repr__(self) -> str:
        return (
            f"CacheUpdate(revision={self.revision}, events={self.events!r}, reset={self.reset!r})"
        )


def _as_key(key: object) -> bytes:
    if isinstance(key, str):
        return key.encode("utf-8")
    if isinstance(key, (bytes, bytearray, memoryview)):
        return bytes(key)
    raise exc.EtcdTypeError(f"a cache key is str or bytes, not {type(key).__name__}")


class CacheSnapshot(Mapping[bytes, V]):
    """The copy at one revision: keys, values and the revision together.

    It never changes, whatever the cache applies afterwards. Keys are bytes (a ``str`` is
    looked up as its UTF-8 encoding) and iterate in key order.
    """

    __slots__ = ("_entries", "_keys", "revision")

    def __init__(self, entries: dict[bytes, _Row], keys: list[bytes], revision: int):
        self._entries = entries
        self._keys = keys
        self.revision = revision
        """The store revision this snapshot reflects."""

    def __getitem__(self, key: object) -> V:
        value: V = self._entries[_as_key(key)][0]
        return value

    def __contains__(self, key: object) -> bool:
        try:
            return _as_key(key) in self._entries
        except exc.EtcdTypeError:
            return False

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[bytes]:
        return iter(self._keys)

    def entry(self, key: str | bytes) -> CacheEntry[V] | None:
        """The key's entry (value and metadata), or ``None``."""
        raw = _as_key(key)
        return _entry_of(raw, self._entries.get(raw))

    def entries(self, prefix: str | bytes = b"") -> Iterator[CacheEntry[V]]:
        """The entries whose key starts with ``prefix``, in key order."""
        entries = self._entries
        for key in self._keys_under(_as_key(prefix)):
            row = entries[key]
            yield CacheEntry(key, row[0], row[1], row[2], row[3], row[4])

    def items(self, prefix: str | bytes = b"") -> Iterator[tuple[bytes, V]]:  # type: ignore[override]
        """``(key, value)`` of every key starting with ``prefix``, in key order."""
        entries = self._entries
        for key in self._keys_under(_as_key(prefix)):
            yield key, entries[key][0]

    def _keys_under(self, prefix: bytes) -> Sequence[bytes]:
        if not prefix:
            return self._keys
        start = bisect.bisect_left(self._keys, prefix)
        after = prefix_end(prefix)
        end = bisect.bisect_left(self._keys, after) if after else None
        return self._keys[start:end]

    def __repr__(self) -> str:
        return f"<CacheSnapshot keys={len(self._entries)} revision={self.revision}>"


class CacheState(Generic[V]):
    """The copy of one prefix, and the rules that keep it equal to the store.

    ``revision`` is 0 until the first listing; it then only ever grows.
    """

    def __init__(
        self,
        prefix: bytes,
        *,
        decode: Callable[[bytes], V] | None = None,
        keys_only: bool = False,
    ) -> None:
        if decode is not None and keys_only:
            raise exc.EtcdValueError("a cache that keeps keys only has no values to decode")
        if decode is not None and not callable(decode):
            raise exc.EtcdTypeError("decode must be a function of the value's bytes")
        self.prefix = prefix
        self.keys_only = check.boolean(keys_only, "keys_only")
        # What is stored of a value: the bytes themselves (None), decoded, or nothing.
        self._value_of: Callable[[bytes], Any] | None = _nothing if self.keys_only else decode
        self._lock = threading.Lock()
        self._entries: dict[bytes, _Row] = {}
        self._keys: list[bytes] | None = []
        self._shared = False  # a snapshot holds the current map: copy before changing it
        self.revision = 0

    # --- reading (any thread) ---------------------------------------------------------------

    def snapshot(self) -> CacheSnapshot[V]:
        with self._lock:
            if self._keys is None:
                self._keys = sorted(self._entries)
            self._shared = True
            return CacheSnapshot(self._entries, self._keys, self.revision)

    def entry(self, key: object) -> CacheEntry[V] | None:
        raw = key if type(key) is bytes else _as_key(key)
        return _entry_of(raw, self._entries.get(raw))

    def value(self, key: object, default: Any = None) -> Any:
        """The value of ``key``, or ``default``."""
        # One dictionary lookup is atomic: no lock, no copy.
        row = self._entries.get(key if type(key) is bytes else _as_key(key))
        return default if row is None else row[0]

    def __contains__(self, key: object) -> bool:
        return (key if type(key) is bytes else _as_key(key)) in self._entries

    def __len__(self) -> int:
        return len(self._entries)

    # --- changing (the one consumer) ----------------------------------------------------------

    def load(
        self, kvs: Iterable[KeyValue], revision: int, *, describe: bool = True
    ) -> CacheUpdate[V]:
        """Take a whole listing of the prefix at ``revision``; the update holds the
        difference from the copy (everything, the first time). ``describe=False``, when
        nobody listens, leaves the update's events out."""
        listed = {kv.key: self._row(kv) for kv in kvs}
        reset = self.revision > 0
        if revision < self.revision:
            raise exc.EtcdException(
                f"a listing at revision {revision} would take the cache back from {self.revision}"
            )
        events: list[CacheEvent[V]] = []
        for key, gone in self._entries.items() if describe else ():
            if key not in listed:
                events.append(
                    CacheEvent(EventType.DELETE, key, None, _entry_of(key, gone), revision)
                )
        for key, new in listed.items() if describe else ():
            old = self._entries.get(key)
            if old is None or old[2] != new[2]:
                events.append(
                    CacheEvent(
                        EventType.PUT, key, _entry_of(key, new), _entry_of(key, old), revision
                    )
                )
        events.sort(key=lambda event: event.key)
        with self._lock:
            self._entries = listed
            self._keys = None
            self._shared = False
            self.revision = revision
        return CacheUpdate(revision, tuple(events), reset=reset)

    def apply(
        self, events: Sequence[Event], revision: int, *, describe: bool = True
    ) -> list[CacheUpdate[V]]:
        """Apply one watch response: its events, then ``revision``, the revision it
        vouches for (its ``synced_revision``). One update per revision that changed the
        copy, in order; without their events with ``describe=False``."""
        updates: list[CacheUpdate[V]] = []
        if events:
            with self._lock:
                self._apply_events(events, describe, updates)
        self.advance(revision)
        return updates

    def advance(self, revision: int) -> None:
        """Everything up to ``revision`` was seen (a progress notification); a lower
        revision, from a member that is behind, never takes the copy back."""
        if revision > self.revision:
            self.revision = revision

    def _apply_events(
        self, events: Sequence[Event], describe: bool, updates: list[CacheUpdate[V]]
    ) -> None:
        # One pass, with its names local: this runs once per change the cache follows.
        if self._shared:
            self._entries = dict(self._entries)
            self._keys = None if self._keys is None else list(self._keys)
            self._shared = False
        entries, keys, value_of = self._entries, self._keys, self._value_of
        kinds: list[EventType] = []
        changed: list[bytes] = []
        news: list[_Row | None] = []
        olds: list[_Row | None] = []
        at = self.revision
        value: Any  # V: bytes without decode, None with keys_only, by construction
        for event in events:
            kv = event.kv
            revision = kv.mod_revision
            if revision <= self.revision:
                continue  # already in the copy: a replay after a reconnection
            if revision != at:
                if changed or at > self.revision:
                    self._close_revision(at, (kinds, changed, news, olds), updates)
                    kinds, changed, news, olds = [], [], [], []
                at = revision
            key = kv.key
            old = entries.get(key)
            if event.type is _DELETE:
                if old is not None:
                    del entries[key]
                    if keys is not None:
                        del keys[bisect.bisect_left(keys, key)]
                new = None
            else:
                value = kv.value if value_of is None else value_of(kv.value)
                new = (value, kv.create_revision, revision, kv.version, kv.lease)
                entries[key] = new
                if keys is not None and old is None:
                    bisect.insort(keys, key)
            if describe:
                kinds.append(event.type)
                changed.append(key)
                news.append(new)
                olds.append(old)
        if at > self.revision:
            self._close_revision(at, (kinds, changed, news, olds), updates)

    def _close_revision(
        self, revision: int, changes: _Changes, updates: list[CacheUpdate[V]]
    ) -> None:
        self.revision = revision
        updates.append(CacheUpdate._of_changes(revision, changes))

    def _row(self, kv: KeyValue) -> _Row:
        value: Any = kv.value if self._value_of is None else self._value_of(kv.value)
        return (value, kv.create_revision, kv.mod_revision, kv.version, kv.lease)


_PUT = EventType.PUT
_DELETE = EventType.DELETE


def _nothing(value: bytes) -> None:
    return None


def cache_prefix(prefix: object) -> bytes:
    """The prefix a cache copies, checked: a non-empty key (``b""`` would be every key,
    which :data:`etcd.ALL_KEYS` says explicitly)."""
    if not isinstance(prefix, (str, bytes, bytearray, memoryview)):
        raise exc.EtcdTypeError(f"a cache prefix is str or bytes, not {type(prefix).__name__}")
    raw = _as_key(prefix)
    if not raw:
        raise exc.EtcdValueError("a cache needs a non-empty prefix")
    return raw
