"""Leases without I/O: typed results, and the keep-alive schedule of each lease.

A lease is refreshed a third of its TTL after the last refresh, as Go's client does; if no
refresh has been confirmed for a whole TTL, the lease must be presumed gone. The shells
send what :class:`KeepAliveTimetable` says is due and report what it says is lost.
"""

from __future__ import annotations

import heapq
import itertools
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
        return self.in_flight and now > self.stuck_at(grace)

    def stuck_at(self, grace: float) -> float:
        """The moment after which the refresh sent last has waited too long for its answer."""
        return self.sent_at + max(1.0, min(self.ttl / 3, grace))

    def expired(self, now: float) -> bool:
        return now >= self.expires_at

    def wake_at(self) -> float:
        """The next moment something is due for this lease."""
        return min(self.next_send, self.expires_at)


@dataclass(slots=True)
class KeepAliveTurn:
    """What the request side has to do now: refresh the leases ``due``, report the
    ``expired`` ones lost, and replace the stream if it is ``stalled``; then sleep until
    ``wake_at`` (``None``: no lease left)."""

    due: list[int]
    expired: list[KeepAliveSchedule]
    stalled: bool
    wake_at: float | None


class KeepAliveTimetable:
    """The schedules of every lease one stream keeps alive, in the order in which each
    next needs a look.

    The request side wakes up whenever some lease is due, which with thousands of leases
    is many times a second: a wake-up must cost the leases it finds due, not a look at
    every lease. ``grace`` is how long an answer may take (see
    :meth:`KeepAliveSchedule.unanswered`).
    """

    def __init__(self, grace: float) -> None:
        self._grace = grace
        self._schedules: dict[int, KeepAliveSchedule] = {}
        # (moment, turn, lease ID), a heap: each change of a schedule adds an entry of a
        # new turn, and the entries of older turns are dropped as they come up.
        self._moments: list[tuple[float, int, int]] = []
        self._turns: dict[int, int] = {}
        self._counter = itertools.count()

    def __len__(self) -> int:
        return len(self._schedules)

    def __contains__(self, lease_id: object) -> bool:
        return lease_id in self._schedules

    def add(self, lease_id: int, ttl: int, now: float) -> None:
        """Keep a lease alive from now on, refreshing it at once: it may have aged since it
        was granted (or last kept)."""
        schedule = KeepAliveSchedule(lease_id, ttl, now)
        schedule.resend_now(now)
        self._schedules[lease_id] = schedule
        self._enter(schedule)

    def remove(self, lease_id: int) -> None:
        self._schedules.pop(lease_id, None)
        self._turns.pop(lease_id, None)

    def clear(self) -> None:
        self._schedules.clear()
        self._turns.clear()
        self._moments.clear()

    def resend_all(self, now: float) -> None:
        """A new stream: every lease is refreshed at once."""
        self._moments.clear()
        for schedule in self._schedules.values():
            schedule.resend_now(now)
            self._enter(schedule)

    def confirm(self, lease_id: int, ttl: int, now: float) -> float | None:
        """Account for the answer to a refresh of a lease kept here: the round trip, or
        ``None`` if the answer says the lease is gone (it is then forgotten)."""
        schedule = self._schedules[lease_id]
        round_trip = now - schedule.sent_at
        if not schedule.confirmed(ttl, now):
            self.remove(lease_id)
            return None
        self._enter(schedule)
        return round_trip

    def poll(self, now: float) -> KeepAliveTurn:
        """Take the turn that is due at ``now``: the leases due are counted as sent, the
        expired ones forgotten."""
        due: list[int] = []
        expired: list[KeepAliveSchedule] = []
        looked_at: list[KeepAliveSchedule] = []
        stalled = False
        while self._moments and self._moments[0][0] <= now:
            _, turn, lease_id = heapq.heappop(self._moments)
            if self._turns.get(lease_id) != turn:
                continue
            schedule = self._schedules[lease_id]
            if schedule.unanswered(now, self._grace):
                stalled = True
            elif schedule.expired(now):
                self.remove(lease_id)
                expired.append(schedule)
                continue
            elif schedule.due(now):
                schedule.sent(now)
                due.append(lease_id)
            looked_at.append(schedule)
        # Entered after the loop: a moment that is not past yet (an answer awaited for
        # exactly its grace) must not be looked at again in this turn.
        for schedule in looked_at:
            self._enter(schedule)
        return KeepAliveTurn(due, expired, stalled, self._next_moment())

    def expire(self, now: float) -> list[KeepAliveSchedule]:
        """Forget the leases whose refresh was not confirmed within their TTL (reconnecting
        took too long), and return them."""
        overdue = [schedule for schedule in self._schedules.values() if schedule.expired(now)]
        for schedule in overdue:
            self.remove(schedule.lease_id)
        return overdue

    def _enter(self, schedule: KeepAliveSchedule) -> None:
        moment = schedule.wake_at()
        if schedule.in_flight:
            moment = min(moment, schedule.stuck_at(self._grace))
        turn = next(self._counter)
        self._turns[schedule.lease_id] = turn
        heapq.heappush(self._moments, (moment, turn, schedule.lease_id))

    def _next_moment(self) -> float | None:
        moments = self._moments
        while moments and self._turns.get(moments[0][2]) != moments[0][1]:
            heapq.heappop(moments)
        return moments[0][0] if moments else None
