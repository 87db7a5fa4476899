"""Watches without I/O: what to send, and what each server response means.

Every watch has a :class:`WatchCursor` that knows the revision to resume from. The shells
(sync and asyncio) own the stream; they hand each response to the cursor of its watch and
act on the :class:`Outcome` it returns. Keeping that bookkeeping here, away from threads and
sockets, is what makes "no event lost, none repeated, order kept" checkable by unit tests.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from typing import Any

from .._wire import messages as pb
from . import exceptions as exc
from . import validation as check
from .error_mapping import map_rpc_error
from .keys import KeyArg, KeyRange
from .responses import KeyValue, ResponseHeader, decode_header, decode_kv

__all__ = [
    "Event",
    "EventType",
    "WatchResponse",
]


class EventType(enum.IntEnum):
    """What happened to a key."""

    PUT = 0
    DELETE = 1


class Event:
    """One change of one key.

    For a ``DELETE``, ``kv`` holds the key and the revision of the deletion (its
    ``mod_revision``), with an empty value; ``prev_kv`` holds what was deleted when the
    watch asked for previous values.

    An event from the server is decoded when it is read, and only as far as it is read:
    a watcher that looks at ``key`` alone never pays for a :class:`KeyValue`, nor for a
    ``prev_kv`` it did not ask for.
    """

    __slots__ = ("_kv", "_prev_kv", "_raw", "_type")
    __match_args__ = ("type", "kv", "prev_kv")

    def __init__(self, type: EventType, kv: KeyValue, prev_kv: KeyValue | None = None) -> None:
        self._raw: Any = None
        self._type = type
        self._kv: KeyValue | None = kv
        self._prev_kv: object = prev_kv

    @property
    def type(self) -> EventType:
        """``PUT`` or ``DELETE``."""
        raw = self._raw
        return self._type if raw is None else _EVENT_TYPES[raw.type]

    @property
    def kv(self) -> KeyValue:
        """The key after the change."""
        kv = self._kv
        if kv is None:
            kv = self._kv = decode_kv(self._raw.kv)
        return kv

    @property
    def prev_kv(self) -> KeyValue | None:
        """The key before the change, when the watch asked for it (``prev_kv=True``)."""
        prev = self._prev_kv
        if prev is _UNREAD:
            raw = self._raw
            prev = self._prev_kv = decode_kv(raw.prev_kv) if raw.HasField("prev_kv") else None
        return prev  # type: ignore[return-value]

    @property
    def key(self) -> bytes:
        """The key that changed."""
        kv = self._kv
        return self._raw.kv.key if kv is None else kv.key

    @property
    def value(self) -> bytes:
        """The new value (empty for a ``DELETE``)."""
        return self.kv.value

    @property
    def revision(self) -> int:
        """The revision of the change."""
        kv = self._kv
        return self._raw.kv.mod_revision if kv is None else kv.mod_revision

    @property
    def is_create(self) -> bool:
        """A put that created the key (rather than changing it)."""
        return self.type == EventType.PUT and self.kv.version == 1

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Event):
            return NotImplemented
        return (self.type, self.kv, self.prev_kv) == (other.type, other.kv, other.prev_kv)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Event(type={self.type!r}, kv={self.kv!r}, prev_kv={self.prev_kv!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (Event, (self.type, self.kv, self.prev_kv))


# An event from the server whose previous value has not been looked at yet.
_UNREAD = object()


def _wire_event(raw: Any, new: Any = Event.__new__, cls: type[Event] = Event) -> Event:
    event: Event = new(cls)
    event._raw = raw
    event._kv = None
    event._prev_kv = _UNREAD
    return event


@dataclass(slots=True)
class WatchResponse:
    """The events of one server response: whole revisions, in order.

    A response never splits a revision (fragments are joined before delivery), so acting
    per response is acting per transaction. ``progress`` marks a response without events.

    ``header.revision`` is the store's revision when the server sent the response, which
    can be ahead of the watch: a watch catching up on history gets it in batches, each
    stamped with the store's current revision. ``synced_revision`` is what the watch can
    vouch for: every change of its keys up to that revision has been delivered, by this
    response or an earlier one.
    """

    header: ResponseHeader
    events: list[Event] = field(default_factory=list)
    progress: bool = False
    synced_revision: int = 0

    @property
    def revision(self) -> int:
        """The store revision when the server sent this response."""
        return self.header.revision


# Indexing a tuple is several times cheaper than calling the enum, once per event.
_EVENT_TYPES = (EventType.PUT, EventType.DELETE)


def decode_event(event: Any) -> Event:
    """An event as the server sent it, decoded field by field when read."""
    return _wire_event(event)


@dataclass(frozen=True, slots=True)
class WatchSpec:
    """What a watch asks for; checked when built, before anything is sent."""

    key: bytes
    range_end: bytes = b""
    start_revision: int = 0
    prev_kv: bool = False
    no_put: bool = False
    no_delete: bool = False
    progress_notify: bool = False
    fragment: bool = False

    @classmethod
    def build(
        cls,
        key: KeyArg,
        range_end: KeyArg | None = None,
        *,
        prefix: bool = False,
        from_key: bool = False,
        start_revision: int | None = None,
        prev_kv: bool = False,
        no_put: bool = False,
        no_delete: bool = False,
        progress_notify: bool = False,
        fragment: bool = False,
    ) -> WatchSpec:
        keys = KeyRange.resolve(key, range_end, prefix=prefix, from_key=from_key)
        start = 0 if start_revision is None else check.revision(start_revision, "start_revision")
        if no_put and no_delete:
            raise exc.EtcdValueError("no_put and no_delete together would filter every event")
        return cls(
            key=keys.key,
            range_end=keys.range_end,
            start_revision=start,
            prev_kv=check.boolean(prev_kv, "prev_kv"),
            no_put=check.boolean(no_put, "no_put"),
            no_delete=check.boolean(no_delete, "no_delete"),
            progress_notify=check.boolean(progress_notify, "progress_notify"),
            fragment=check.boolean(fragment, "fragment"),
        )

    def describe(self) -> str:
        if not self.range_end:
            return repr(self.key)
        return f"[{self.key!r}, {self.range_end!r})"


class OutcomeKind(enum.Enum):
    CREATED = "created"
    DELIVER = "deliver"
    PENDING = "pending"
    FAILED = "failed"
    RESUME = "resume"


@dataclass(slots=True)
class Outcome:
    """What the shell should do with a response: deliver it, fail the watch, or wait."""

    kind: OutcomeKind
    response: WatchResponse | None = None
    error: exc.EtcdException | None = None


_PENDING = Outcome(OutcomeKind.PENDING)
_CREATED = Outcome(OutcomeKind.CREATED)
# The server dropped the watch for a reason that a fresh stream cures (a stale auth token,
# a member that lost its leader): resume from the cursor, as after a broken stream.
_RESUMABLE_CANCEL_REASONS = (
    "invalid auth token",
    "revision of auth store is old",
    "no leader",
    "leader changed",
)


class WatchCursor:
    """One watch's position: the next revision it needs, and any half-received revision.

    ``next_revision`` is 0 only for a watch that started "from now" and has not been
    created yet; the created response pins it to the revision the server started at, so a
    stream that breaks before the first event still resumes without a gap.
    """

    def __init__(self, spec: WatchSpec) -> None:
        self.spec = spec
        self.next_revision = spec.start_revision
        self._fragments: list[Any] = []
        self.created = False

    def create_request(self, watch_id: int) -> Any:
        """The request that (re)creates this watch on a stream, from where it left off."""
        self._fragments.clear()
        self.created = False
        spec = self.spec
        filters = []
        if spec.no_put:
            filters.append(pb.WatchCreateRequest.NOPUT)
        if spec.no_delete:
            filters.append(pb.WatchCreateRequest.NODELETE)
        return pb.WatchRequest(
            create_request=pb.WatchCreateRequest(
                key=spec.key,
                range_end=spec.range_end,
                start_revision=self.next_revision,
                progress_notify=spec.progress_notify,
                filters=filters,
                prev_kv=spec.prev_kv,
                watch_id=watch_id,
                fragment=spec.fragment,
            )
        )

    def on_response(
        self, message: Any, *, endpoint: str = "", reliable_broadcast: bool = False
    ) -> Outcome:
        """Account for one response of this watch and say what to do with it.

        ``reliable_broadcast``: the member answers a progress request of the whole stream
        only once every watch on it has caught up (see
        :func:`broadcast_progress_is_reliable`); otherwise such an answer says nothing of
        this watch, and moves nothing.
        """
        if message.compact_revision:
            error = exc.EtcdCompacted(
                f"watch on {self.spec.describe()} cannot resume at revision "
                f"{self.next_revision}: revisions before {message.compact_revision} are "
                "compacted (events in between are lost: re-read the keys, then watch from "
                "the revision of that read plus one)",
                operation="Watch.Watch",
                endpoint=endpoint or None,
            )
            error.compact_revision = int(message.compact_revision)
            return Outcome(OutcomeKind.FAILED, error=error)
        if message.canceled:
            reason = message.cancel_reason or "the server cancelled the watch"
            if any(marker in reason for marker in _RESUMABLE_CANCEL_REASONS):
                return Outcome(
                    OutcomeKind.RESUME,
                    error=_cancel_error(reason, endpoint, self.spec),
                )
            return Outcome(OutcomeKind.FAILED, error=_cancel_error(reason, endpoint, self.spec))
        if message.created:
            self.created = True
            if self.next_revision == 0:
                self.next_revision = message.header.revision + 1
            if not message.events:
                return _CREATED
        if message.fragment:
            self._fragments.append(message)
            return _PENDING
        if self._fragments:
            parts = [*self._fragments, message]
            self._fragments.clear()
            raw_events: Any = [event for part in parts for event in part.events]
        else:
            parts = [message]
            raw_events = message.events
        # Anything at or below the resume point was already delivered before a reconnect.
        # Events come in revision order: only a response that starts below it needs a look
        # at each one.
        if raw_events and raw_events[0].kv.mod_revision < self.next_revision:
            first_new = self.next_revision
            raw_events = [event for event in raw_events if event.kv.mod_revision >= first_new]
        header = decode_header(message.header)
        if raw_events:
            events = [_wire_event(event) for event in raw_events]
            self.next_revision = raw_events[-1].kv.mod_revision + 1
            return Outcome(
                OutcomeKind.DELIVER, WatchResponse(header, events, False, self.next_revision - 1)
            )
        if any(part.events for part in parts) or not self.created:
            # Old events already delivered; or a progress notification for the stream that
            # reached a watch the server has not created yet, which it does not vouch for.
            return _PENDING
        if message.watch_id != BROADCAST_WATCH_ID or reliable_broadcast:
            # Everything up to header.revision has been sent.
            self.next_revision = max(self.next_revision, message.header.revision + 1)
        return Outcome(OutcomeKind.DELIVER, WatchResponse(header, [], True, self.next_revision - 1))


# Cancel reasons carry the Go error text of a gRPC status: keep only its description.
_GO_STATUS = re.compile(r"^rpc error: code = \w+ desc = (?P<desc>.*)$", re.DOTALL)


def _cancel_error(reason: str, endpoint: str, spec: WatchSpec) -> exc.EtcdException:
    match = _GO_STATUS.match(reason)
    if match:
        reason = match.group("desc")
    error = map_rpc_error(
        "UNKNOWN",
        reason,
        operation="Watch.Watch",
        endpoint=endpoint or "the server",
        mutation=False,
    )
    if type(error) is exc.EtcdServerError:
        return exc.EtcdWatchCancelled(
            f"the server cancelled the watch on {spec.describe()}: {reason}",
            operation="Watch.Watch",
            endpoint=endpoint or None,
            details=reason,
        )
    return error


# The watch id of a response to a progress request of the whole stream.
BROADCAST_WATCH_ID = -1


def broadcast_progress_is_reliable(server_version: str | None) -> bool:
    """Whether a member of this version answers a progress request of the whole stream
    only once every watch on it has caught up.

    Before etcd 3.5.8 (and 3.4.25 on the 3.4 line) it answered at once with the store's
    revision, even while a watch was still being sent older history: taken as progress,
    that answer would make the history still to come look already delivered.
    """
    if not server_version:
        return False
    try:
        parts = tuple(int(part) for part in server_version.split("-")[0].split(".")[:3])
    except ValueError:
        return False
    if len(parts) < 3:
        return False
    if parts[:2] == (3, 4):
        return parts >= (3, 4, 25)
    return parts >= (3, 5, 8)


def progress_request() -> Any:
    return pb.WatchRequest(progress_request=pb.WatchProgressRequest())


def cancel_request(watch_id: int) -> Any:
    return pb.WatchRequest(cancel_request=pb.WatchCancelRequest(watch_id=watch_id))


class StreamLiveness:
    """Tells a live watch stream from one whose member stopped answering.

    gRPC's own keep-alive does not reliably notice a frozen member under an idle stream,
    and an idle watch must not wait for ever on one. So after ``interval`` seconds without
    any message, the shell sends a progress request; if nothing arrives within ``grace``
    seconds after that, the stream is dead and is reopened elsewhere.
    """

    def __init__(self, interval: float, grace: float, now: float) -> None:
        self.interval = interval
        self.grace = grace
        self.last_heard = now
        self.probe_sent: float | None = None

    def heard(self, now: float) -> None:
        """A message arrived: the stream is alive."""
        self.last_heard = now
        self.probe_sent = None

    def check(self, now: float) -> str | None:
        """``"probe"`` to send a progress request, ``"dead"`` to give up, or ``None``."""
        if self.probe_sent is not None:
            return "dead" if now - self.probe_sent >= self.grace else None
        if now - self.last_heard >= self.interval:
            self.probe_sent = now
            return "probe"
        return None
