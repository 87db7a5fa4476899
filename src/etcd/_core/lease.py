"""Leases without I/O: typed results, and the keep-alive schedule of each lease.

A lease is refreshed a third of its TTL after the last refresh, as Go's client does; if no
refresh has been confirmed for a whole TTL, the lease must be presumed gone. The shells
send what :class:`KeepAliveSchedule` says is due and report what it says is lost.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .responses import ResponseHeader, decode_header

__all__ = [
    "LeaseGrantResponse",
    "LeaseKeepAliveResponse",
    "LeaseLeasesResponse",
    "LeaseTimeToLiveResponse",
]


@dataclass(slots=True)
class LeaseGrantResponse:
    """A new lease: its ``id`` and the ``ttl`` the server granted (it may round up)."""

    header: ResponseHeader
    id: int
    ttl: int


@dataclass(slots=True)
class LeaseKeepAliveResponse:
    """A refresh: the lease's time to live starts again at ``ttl`` seconds."""

    header: ResponseHeader
    id: int
    ttl: int


@dataclass(slots=True)
class LeaseTimeToLiveResponse:
    """What is left of a lease: ``ttl`` seconds (-1 once it is gone), of ``granted_ttl``."""

    header: ResponseHeader
    id: int
    ttl: int
    granted_ttl: int
    keys: list[bytes] = field(default_factory=list)

    @property
    def exists(self) -> bool:
        return self.ttl >= 0


@dataclass(slots=True)
class LeaseLeasesResponse:
    """The IDs of every lease the cluster holds."""

    header: ResponseHeader
    ids: list[int] = field(default_factory=list)


def decode_grant(response: Any) -> LeaseGrantResponse:
    return LeaseGrantResponse(decode_header(response.header), response.ID, response.TTL)


def decode_keep_alive(response: Any) -> LeaseKeepAliveResponse:
    return LeaseKeepAliveResponse(decode_header(response.header), response.ID, response.TTL)


def decode_time_to_live(response: Any) -> LeaseTimeToLiveResponse:
    return LeaseTimeToLiveResponse(
        decode_header(response.header),
        response.ID,
        response.TTL,
        response.grantedTTL,
        list(response.keys),
    )


def decode_leases(response: Any) -> LeaseLeasesResponse:
    return LeaseLeasesResponse(
        decode_header(response.header), [status.ID for status in response.leases]
    )


class KeepAliveSchedule:
    """When to refresh one lease, and when to give it up for lost.

    Times are ``time.monotonic()`` seconds, passed in so that the schedule can be tested
    without waiting.
    """

    def __init__(self, lease_id: int, ttl: int, now: float) -> None:
        self.lease_id = lease_id
        self.ttl = ttl
        self.confirmed_at = now
        self.next_send = now + ttl / 3
        self.in_flight = False
        self.sent_at = now

    @property
    def expires_at(self) -> float:
        """When the lease runs out unless a refresh is confirmed before."""
        return self.confirmed_at + self.ttl

    def due(self, now: float) -> bool:
        return not self.in_flight and now >= self.next_send

    def sent(self, now: float) -> None:
        self.in_flight = True
        self.sent_at = now
        # Ask again if no answer comes soon (a lost stream resends everything anyway).
        self.next_send = now + max(self.ttl / 3, 1.0)

    def resend_now(self, now: float) -> None:
        """A new stream: refresh at once rather than wait for the next turn."""
        self.in_flight = False
        self.next_send = now

    def confirmed(self, ttl: int, now: float) -> bool:
        """Account for a keep-alive answer; ``False`` if it says the lease is gone."""
        self.in_flight = False
        if ttl <= 0:
            return False
        self.ttl = ttl
        self.confirmed_at = now
        self.next_send = now + ttl / 3
        return True

    def unanswered(self, now: float, grace: float) -> bool:
        """Whether a refresh has waited too long for its answer: the stream is stuck."""
        return self.in_flight and now - self.sent_at > max(1.0, min(self.ttl / 3, grace))

    def expired(self, now: float) -> bool:
        return now >= self.expires_at

    def wake_at(self) -> float:
        """The next moment something is due for this lease."""
        return min(self.next_send, self.expires_at)
