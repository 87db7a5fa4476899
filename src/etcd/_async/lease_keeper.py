"""The asyncio keep-alive shell: one LeaseKeepAlive stream per client, for every lease.

One background task owns the stream and reads its answers; the stream's request side
is a generator that sleeps until some lease is due (per
:class:`~etcd._core.lease.KeepAliveTimetable`) and then yields its refresh. When the stream
breaks it is reopened on the next member and every lease is refreshed at once. A lease
whose refresh has not been confirmed for a whole TTL, or that the server says is gone, is
reported lost to its owner: never silently.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from types import TracebackType
from typing import Any, Protocol

from .._core import exceptions as exc
from .._core.config import Endpoint
from .._core.event_hub import EventHub
from .._core.events import KeepAliveAnswered, LeaseLost
from .._core.kv import LeaseArg
from .._core.lease import (
    KeepAliveTimetable,
    LeaseKeepAliveResponse,
    LeaseTimeToLiveResponse,
)
from .._core.log_fields import log_fields
from .._core.responses import ResponseHeader
from .._core.validation import Timeout
from .._wire import messages as pb
from .._wire import methods
from .io import Condition, Flag, spawn
from .stream import AsyncStreamSupervisor
from .transport import AsyncTransport

log = logging.getLogger("etcd.lease")

# How often the request generator wakes up at the latest, to notice closing and expiry.
_TICK = 1.0


class _AsyncLeaseOwner(Protocol):
    """What a lease needs of the client that granted it (:class:`etcd.AsyncClient` has it)."""

    async def lease_time_to_live(
        self, lease: LeaseArg, *, keys: bool = ..., timeout: Timeout = ...
    ) -> LeaseTimeToLiveResponse: ...

    async def lease_keep_alive_once(
        self, lease: LeaseArg, *, timeout: Timeout = ...
    ) -> LeaseKeepAliveResponse: ...

    async def lease_revoke(self, lease: LeaseArg, *, timeout: Timeout = ...) -> ResponseHeader: ...

    @property
    def _keepaliver(self) -> AsyncKeepAliver: ...


class AsyncLease:
    """A lease owned by this client, optionally kept alive in the background.

    Pass it wherever a lease is expected (``await client.put(key, value, lease=lease)``). Once
    it is lost (expired, or revoked elsewhere), using it raises
    :class:`etcd.EtcdLeaseExpired`; :meth:`wait_lost` and the ``on_lost`` callback tell
    the owner as soon as the keep-alive notices. As a context manager it is revoked at the
    end of the block.
    """

    def __init__(
        self,
        client: _AsyncLeaseOwner,
        lease_id: int,
        ttl: int,
        *,
        on_lost: Callable[[exc.EtcdLeaseExpired], object] | None = None,
    ) -> None:
        self.id = lease_id
        self.ttl = ttl
        self._client = client
        self._on_lost = on_lost
        self._lost = Flag()
        self._error: exc.EtcdLeaseExpired | None = None
        self._revoked = False
        self._kept_alive = False

    # --- state --------------------------------------------------------------------------------

    @property
    def lost(self) -> bool:
        """Whether the lease is known to be gone."""
        return self._lost.is_set()

    @property
    def kept_alive(self) -> bool:
        """Whether the background keep-alive refreshes this lease."""
        return self._kept_alive

    async def wait_lost(self, timeout: float | None = None) -> bool:
        """Block until the lease is lost (``True``) or ``timeout`` passes (``False``)."""
        return await self._lost.wait(timeout)

    def check(self) -> None:
        """Raise :class:`etcd.EtcdLeaseExpired` if the lease is known to be lost."""
        if self._error is not None:
            raise self._error

    def _raise_if_lost(self) -> None:
        self.check()

    # --- calls --------------------------------------------------------------------------------

    async def time_to_live(self, *, keys: bool = False) -> LeaseTimeToLiveResponse:
        """The remaining TTL (and, with ``keys=True``, the keys attached)."""
        return await self._client.lease_time_to_live(self.id, keys=keys)

    async def keep_alive_once(self) -> LeaseKeepAliveResponse:
        """Refresh the lease now, once."""
        self.check()
        return await self._client.lease_keep_alive_once(self.id)

    def keep_alive(self) -> None:
        """Refresh the lease in the background from now on (until revoked or lost)."""
        self.check()
        if not self._kept_alive:
            self._kept_alive = True
            self._client._keepaliver.add(self)

    def stop_keep_alive(self) -> None:
        """Stop refreshing the lease; it expires after its TTL unless refreshed otherwise."""
        if self._kept_alive:
            self._kept_alive = False
            self._client._keepaliver.remove(self)

    async def revoke(self) -> None:
        """Revoke the lease now: every key attached to it is deleted. Safe to call twice."""
        self.stop_keep_alive()
        if self._revoked:
            return
        self._revoked = True
        with contextlib.suppress(exc.EtcdLeaseNotFound):
            await self._client.lease_revoke(self.id)
        # Later use fails here, before reaching the server.
        self._error = exc.EtcdLeaseExpired(f"lease {self.id:x} was revoked by its owner")
        self._lost.set()

    async def __aenter__(self) -> AsyncLease:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self.lost:
            self.stop_keep_alive()
        else:
            await self.revoke()

    def __repr__(self) -> str:
        state = "lost" if self.lost else "kept alive" if self._kept_alive else "granted"
        return f"<Lease id={self.id:x} ttl={self.ttl} {state}>"

    # --- called by the keep-alive task --------------------------------------------------------

    def _mark_lost(self, reason: str, events: EventHub | None = None) -> None:
        if self._lost.is_set():
            return
        if events is not None and events.active:
            events.emit(LeaseLost(self.id, reason))
        self._kept_alive = False
        self._error = exc.EtcdLeaseExpired(f"lease {self.id:x} is lost: {reason}")
        self._lost.set()
        log.warning("lease %x lost: %s", self.id, reason, extra=log_fields(lease_id=self.id))
        if self._on_lost is not None:
            callback, error = self._on_lost, self._error
            # On a task of its own: a slow or failing callback must not stall keep-alives.
            spawn(_call_safely, callback, error, self.id, name="etcd-lease-lost")


async def _call_safely(
    callback: Callable[[exc.EtcdLeaseExpired], object], error: Any, lease_id: int
) -> None:
    try:
        callback(error)
    except Exception:
        log.exception("on_lost callback %r raised", callback, extra=log_fields(lease_id=lease_id))


class AsyncKeepAliver:
    """Owns the client's LeaseKeepAlive stream: the leases it keeps alive, when each is
    due, and what each answer means (the stream itself is kept open by an
    :class:`AsyncStreamSupervisor`)."""

    def __init__(self, transport: AsyncTransport) -> None:
        self._transport = transport
        self._condition = Condition()
        self._leases: dict[int, AsyncLease] = {}
        self._timetable = KeepAliveTimetable(transport.config.keepalive_timeout)
        # Which stream the request side serves: a new stream ends the old one's.
        self._generation = 0
        self._closed = False
        self._stream = AsyncStreamSupervisor(
            transport,
            self,
            self._condition,
            method=methods.LEASE_KEEP_ALIVE,
            final_errors=(),
            name="keep-alive stream",
            worker_name="etcd-lease-keepalive",
            log=log,
        )

    def add(self, lease: AsyncLease) -> None:
        with self._condition:
            if self._closed:
                raise exc.EtcdClientClosed("the client is closed")
            self._leases[lease.id] = lease
            self._timetable.add(lease.id, lease.ttl, time.monotonic())
            self._stream.start()
            self._condition.notify_all()

    def keeps(self, lease_id: int) -> bool:
        """Whether a lease of this ID is kept alive here."""
        with self._condition:
            return lease_id in self._leases

    def remove(self, lease: AsyncLease) -> None:
        with self._condition:
            self._leases.pop(lease.id, None)
            self._timetable.remove(lease.id)
            if not self._leases:
                self._stream.cut_idle()
            self._condition.notify_all()

    async def close(self) -> None:
        with self._condition:
            self._closed = True
            self._leases.clear()
            self._timetable.clear()
        await self._stream.close()

    # --- served to the stream supervisor ------------------------------------------------------

    def has_work(self) -> bool:
        return not self._closed and bool(self._leases)

    def requests_for_new_stream(self) -> AsyncIterator[Any]:
        self._generation += 1
        self._timetable.resend_all(time.monotonic())
        return self._requests(self._generation)

    def stream_opened(self, call: Any) -> None:
        """Nothing to start: the request side refreshes every lease at once."""

    def on_message(self, message: Any, endpoint: Endpoint) -> None:
        with self._condition:
            lease = self._leases.get(message.ID)
            if lease is None:
                return
            round_trip = self._timetable.confirm(message.ID, message.TTL, time.monotonic())
            if round_trip is not None:
                # The request side is not woken: a confirmed lease is due later than
                # whatever it sleeps until.
                events = self._transport.events
                if events.active:
                    events.emit(KeepAliveAnswered(lease.id, round_trip, str(endpoint)))
                return
            self._leases.pop(message.ID, None)
        lease._mark_lost(
            "the server says it no longer exists (expired or revoked)", self._transport.events
        )

    def stream_closed(self) -> None:
        with self._condition:
            self._generation += 1
            self._condition.notify_all()
        self._expire_overdue()

    def fail_all(self, error: exc.EtcdException) -> None:
        with self._condition:
            leases = list(self._leases.values())
            self._leases.clear()
            self._timetable.clear()
        for lease in leases:
            lease._mark_lost(str(error), self._transport.events)

    # --- the request side ---------------------------------------------------------------------

    async def _requests(self, generation: int) -> AsyncIterator[Any]:
        """The request side of the stream: each lease's refresh, when it is due."""
        while True:
            with self._condition:
                if self._closed or generation != self._generation:
                    return
                now = time.monotonic()
                turn = self._timetable.poll(now)
                for schedule in turn.expired:
                    self._leases.pop(schedule.lease_id)._mark_lost(
                        f"no refresh confirmed for {schedule.ttl} s", self._transport.events
                    )
                if turn.stalled:
                    self._stream.cut_stalled("the member stopped answering keep-alives")
                    return
                if not turn.due:
                    wake = now + _TICK
                    if turn.wake_at is not None:
                        wake = min(wake, turn.wake_at)
                    await self._condition.wait(max(0.0, wake - now))
                    continue
            for lease_id in turn.due:
                yield pb.LeaseKeepAliveRequest(ID=lease_id)

    def _expire_overdue(self) -> None:
        with self._condition:
            expired = self._timetable.expire(time.monotonic())
            overdue = [self._leases.pop(schedule.lease_id) for schedule in expired]
        for lease in overdue:
            lease._mark_lost(
                "no refresh confirmed within its TTL while reconnecting", self._transport.events
            )
