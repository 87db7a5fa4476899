"""What a client tells its listeners: typed events for the moments that matter when
something goes wrong, and the start and end of each logical operation.

A listener is a function of one event, added with ``client.add_event_listener``. The
client's OpenTelemetry support (:mod:`etcd.otel`) and the ``--debug`` output of the
command line are listeners like any other.

Nothing here is made while a client has no listener: emitting starts with a check of
one attribute, so a client without listeners pays nothing more. No event carries a value,
a password or a token; keys appear only in ``OperationStarted.key``, which listeners
record only where their owner opted in (keys can be sensitive).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TypeAlias

__all__ = [
    "ClientEvent",
    "CoalescedBatch",
    "EndpointsChanged",
    "Failover",
    "KeepAliveAnswered",
    "LeaseLost",
    "OperationEnded",
    "OperationStarted",
    "Reauthenticated",
    "Retry",
    "StmRetry",
    "WatchCompacted",
    "WatchDelivered",
    "WatchResumed",
]


@dataclass(frozen=True, slots=True)
class OperationStarted:
    """A logical operation began: a call (``kind="call"``, ``name`` its RPC, such as
    ``"Range"``), a lock acquire (``"lock.acquire"``), an election campaign
    (``"election.campaign"``) or an STM run (``"stm"``)."""

    id: int
    kind: str
    name: str
    key: bytes | None = None
    attributes: Mapping[str, int | float | str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class OperationEnded:
    """The operation ``id`` ended: after ``duration`` seconds, on ``endpoint`` (the last
    member it went to, if any), with ``error_type`` the class name of the exception it
    raised (``None`` when it succeeded) and ``code`` the gRPC status name of that error
    when etcd or gRPC gave one. ``attempts`` counts the tries of a call."""

    id: int
    kind: str
    name: str
    duration: float
    error_type: str | None = None
    endpoint: str | None = None
    attempts: int = 1
    attributes: Mapping[str, int | float | str] = field(default_factory=dict)
    code: str | None = None


@dataclass(frozen=True, slots=True)
class Retry:
    """Attempt ``attempt`` of a call failed with ``code`` and is tried again after
    ``delay`` seconds (emitted after that pause)."""

    operation_id: int
    name: str
    endpoint: str
    attempt: int
    code: str
    error_type: str
    delay: float


@dataclass(frozen=True, slots=True)
class Failover:
    """The client moved from one member to another after ``code``; ``operation_id`` is
    the call that failed there (``None`` when a stream failed)."""

    from_endpoint: str
    to_endpoint: str
    code: str
    operation_id: int | None = None


@dataclass(frozen=True, slots=True)
class Reauthenticated:
    """The token was refused as expired or stale, and the client logged in again."""

    endpoint: str


@dataclass(frozen=True, slots=True)
class EndpointsChanged:
    """The client's endpoint list changed (an endpoint sync, a discovery)."""

    before: tuple[str, ...]
    after: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class WatchResumed:
    """A watch was created again on a new stream, from ``revision``: nothing before it
    is delivered twice, nothing after it is lost."""

    watch_id: int
    revision: int


@dataclass(frozen=True, slots=True)
class WatchCompacted:
    """A watch could not resume: the history from its revision was compacted."""

    watch_id: int
    revision: int
    compact_revision: int


@dataclass(frozen=True, slots=True)
class WatchDelivered:
    """A watch delivered a response of ``events`` events."""

    watch_id: int
    events: int


@dataclass(frozen=True, slots=True)
class KeepAliveAnswered:
    """A keep-alive request for ``lease_id`` was answered after ``round_trip`` seconds."""

    lease_id: int
    round_trip: float
    endpoint: str


@dataclass(frozen=True, slots=True)
class LeaseLost:
    """A lease this client kept alive is lost (expired, or revoked elsewhere)."""

    lease_id: int
    reason: str


@dataclass(frozen=True, slots=True)
class CoalescedBatch:
    """Coalescing sent ``size`` callers' requests of one ``kind`` (``"get"`` or
    ``"put"``) as one transaction."""

    kind: str
    size: int


@dataclass(frozen=True, slots=True)
class StmRetry:
    """An STM run found a conflict and runs its function again (``attempt`` next)."""

    operation_id: int
    attempt: int


ClientEvent: TypeAlias = (
    OperationStarted
    | OperationEnded
    | Retry
    | Failover
    | Reauthenticated
    | EndpointsChanged
    | WatchResumed
    | WatchCompacted
    | WatchDelivered
    | KeepAliveAnswered
    | LeaseLost
    | CoalescedBatch
    | StmRetry
)
