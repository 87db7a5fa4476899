"""Service discovery: registrations kept under a lease, and live lists of a service's
endpoints, in the key and value format of Go's ``naming/endpoints`` package.

A registration is one key written under a lease of its own that the client keeps alive;
when the lease is lost anyway, a task of its own registers again, with back-off, until it
succeeds or the registration is closed. A discovery is a live cache of the service's
prefix whose values are read as endpoints. The format, the events and the gRPC targets
are pure, in :mod:`etcd._core.discovery`.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from types import TracebackType
from typing import Any, Protocol

from .._core import exceptions as exc
from .._core.cache import CacheEvent, CacheUpdate
from .._core.compare import Compare
from .._core.deadline import deadline_after, time_left
from .._core.discovery import (
    EndpointEvent,
    InvalidEndpoint,
    ServiceEndpoint,
    endpoint_events,
    grpc_target,
    parse_endpoint,
    service_prefix,
)
from .._core.kv import LeaseArg, Op
from .._core.log_fields import log_fields
from .._core.responses import PutResponse, ResponseHeader, TxnResponse
from .._core.retry import RetryPolicy
from .._core.validation import UNSET, Timeout
from .cache import AsyncCache
from .io import Condition, Flag, Lock, Worker, is_current, join, spawn
from .lease_keeper import AsyncLease

log = logging.getLogger("etcd.discovery")

# Closing is best effort: etcd deletes the key anyway when the lease runs out.
_DEREGISTER_TIMEOUT = 5.0

# Between attempts to register again: from half a second, doubling up to half a minute,
# spread so that instances cut off together do not come back all at once.
_REREGISTER_BACKOFF = RetryPolicy(base_delay=0.5, max_delay=30.0, jitter=0.5)

ParsedEndpoint = ServiceEndpoint | InvalidEndpoint


class _AsyncRegistrar(Protocol):
    """What a registration needs of a client (:class:`etcd.AsyncClient` has it)."""

    async def lease(
        self,
        ttl: int,
        *,
        on_lost: Callable[[exc.EtcdLeaseExpired], object] | None = ...,
        timeout: Timeout = ...,
    ) -> AsyncLease: ...

    async def put(
        self,
        key: str | bytes,
        value: str | bytes | None = ...,
        *,
        lease: LeaseArg = ...,
        timeout: Timeout = ...,
    ) -> PutResponse: ...

    async def txn(
        self, compare: Any = ..., success: Any = ..., failure: Any = ..., *, timeout: Timeout = ...
    ) -> TxnResponse: ...

    async def lease_revoke(self, lease: LeaseArg, *, timeout: Timeout = ...) -> ResponseHeader: ...


class AsyncRegistration:
    """An endpoint of a service, registered under a lease this client keeps alive.

    ::

        async with await client.register("billing", "10.0.0.5:50051") as registration:
            await serve()           # the endpoint is listed as long as the block runs

    If the lease is lost (revoked elsewhere, or etcd unreachable for a whole TTL), the
    key is written again under a new lease, in the background, until that works or the
    registration is closed: ``on_lost`` is called at the loss, ``on_reregistered`` once
    registered again, and :attr:`reregistrations` counts the times. Closing deletes the
    key and revokes the lease. See :doc:`/discovery`.
    """

    def __init__(
        self,
        client: _AsyncRegistrar,
        service: str,
        address: str,
        metadata: Any,
        value: bytes,
        ttl: int,
        *,
        on_lost: Callable[[exc.EtcdLeaseExpired], object] | None = None,
        on_reregistered: Callable[[AsyncRegistration], object] | None = None,
    ) -> None:
        self.service = service
        self.address = address
        self.metadata = metadata
        self.key = f"{service}/{address}"
        self.ttl = ttl
        self._client = client
        self._value = value
        self._on_lost = on_lost
        self._on_reregistered = on_reregistered
        self._lease: AsyncLease | None = None
        self._lock = Lock()
        self._registered = Flag()
        self._closing = Flag()
        self._reregistered = Condition()
        self._worker: Worker | None = None
        self._closed = False
        self.reregistrations = 0
        """How many times the key was written again after its lease was lost."""
        self.last_error: exc.EtcdException | None = None
        """Why the last attempt to register again failed (``None`` once it worked)."""

    # --- state ---------------------------------------------------------------------------------

    @property
    def lease(self) -> AsyncLease | None:
        """The lease the key is attached to now (a new one after each re-registration)."""
        return self._lease

    @property
    def registered(self) -> bool:
        """Whether the key is registered under a lease that is not known to be lost."""
        return self._registered.is_set() and not self._closed

    @property
    def closed(self) -> bool:
        return self._closed

    async def wait_registered(self, timeout: float | None = None) -> bool:
        """Wait until the key is registered (at once unless its lease was lost and it is
        not registered again yet): ``True``, or ``False`` after ``timeout`` seconds."""
        return await self._registered.wait(timeout) and not self._closed

    async def wait_reregistered(self, count: int = 1, timeout: float | None = None) -> bool:
        """Wait until the key has been registered again ``count`` times in all (``True``),
        or ``timeout`` seconds pass or the registration is closed (``False``)."""
        deadline = deadline_after(timeout)
        while self.reregistrations < count:
            left = time_left(deadline)
            if self._closed or left == 0:
                return False
            with self._reregistered:
                if self.reregistrations >= count:
                    break
                await self._reregistered.wait(left)
        return True

    # --- registering ---------------------------------------------------------------------------

    async def _register(self, timeout: Timeout = UNSET) -> None:
        """Grant a lease and write the key under it."""
        lease = await self._client.lease(self.ttl, on_lost=self._lease_lost, timeout=timeout)
        try:
            await self._client.put(self.key, self._value, lease=lease, timeout=timeout)
        except BaseException:
            await self._abandon(lease)
            raise
        with self._lock:
            self._lease = lease
            self._registered.set()

    async def _abandon(self, lease: AsyncLease) -> None:
        lease.stop_keep_alive()
        try:
            await self._client.lease_revoke(lease.id, timeout=_DEREGISTER_TIMEOUT)
        except exc.EtcdException as error:
            log.debug(
                "lease %x of %s left to expire: %s",
                lease.id,
                self.key,
                error,
                extra=log_fields(key=self.key, lease_id=lease.id, error=error),
            )

    def _lease_lost(self, error: exc.EtcdLeaseExpired) -> None:
        """Called (on a task of its own) when a lease of this registration is lost."""
        with self._lock:
            lease = self._lease
            if self._closed or self._worker is not None or lease is None or not lease.lost:
                return  # closing, already registering again, or a lease no longer used
            self._registered.clear()
            self._worker = spawn(self._register_again, name="etcd-registration")
        fields = log_fields(key=self.key, lease_id=lease.id)
        log.warning(
            "registration of %s lost (%s); registering it again", self.key, error, extra=fields
        )
        if self._on_lost is not None:
            try:
                self._on_lost(error)
            except Exception:
                log.exception("on_lost callback %r raised", self._on_lost, extra=fields)

    async def _register_again(self) -> None:
        """Register until that works or the registration is closed; never ends silently."""
        attempt = 0
        while True:
            with self._lock:
                lease = self._lease
                if self._closed or (lease is not None and not lease.lost):
                    self._worker = None
                    return
            attempt += 1
            try:
                await self._register()
            except exc.EtcdClientClosed:
                log.warning(
                    "registration of %s not made again: the client is closed",
                    self.key,
                    extra=log_fields(key=self.key),
                )
                with self._lock:
                    self._worker = None
                return
            except Exception as error:
                self._attempt_failed(error, attempt)
                await self._closing.wait(_REREGISTER_BACKOFF.delay(attempt))
                continue
            if self._closed:
                await self._deregister()
                continue
            self._count_reregistration()

    def _attempt_failed(self, error: Exception, attempt: int) -> None:
        if isinstance(error, exc.EtcdException):
            self.last_error = error
            log.warning(
                "registering %s again failed (attempt %d): %s",
                self.key,
                attempt,
                error,
                extra=log_fields(
                    key=self.key, attempt=attempt, endpoint=error.endpoint, error=error
                ),
            )
        else:  # a bug must still be heard, and the registration still tried
            self.last_error = exc.EtcdException(f"registering failed unexpectedly: {error!r}")
            log.exception(
                "registering %s again failed unexpectedly",
                self.key,
                extra=log_fields(key=self.key, attempt=attempt, error=error),
            )

    def _count_reregistration(self) -> None:
        lease = self._lease
        with self._reregistered:
            self.reregistrations += 1
            self.last_error = None
            self._reregistered.notify_all()
        fields = log_fields(key=self.key, lease_id=lease.id if lease else None)
        log.info(
            "%s registered again under lease %x", self.key, lease.id if lease else 0, extra=fields
        )
        if self._on_reregistered is not None:
            try:
                self._on_reregistered(self)
            except Exception:
                log.exception(
                    "on_reregistered callback %r raised", self._on_reregistered, extra=fields
                )

    # --- closing -------------------------------------------------------------------------------

    async def close(self) -> None:
        """Deregister: delete the key and revoke its lease (best effort, each within 5
        seconds; etcd deletes the key anyway once the lease runs out). Safe to call twice."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            worker = self._worker
        self._closing.set()
        with self._reregistered:
            self._reregistered.notify_all()
        if worker is not None and not is_current(worker):
            await join(worker, _DEREGISTER_TIMEOUT)
        await self._deregister()

    async def _deregister(self) -> None:
        with self._lock:
            lease, self._lease = self._lease, None
            self._registered.clear()
        if lease is None:
            return
        lease.stop_keep_alive()
        try:
            # Only while the key is still ours: another instance may have taken it over.
            await self._client.txn(
                [Compare.lease(self.key, "==", lease.id)],
                [Op.delete_range(self.key)],
                timeout=_DEREGISTER_TIMEOUT,
            )
            await self._client.lease_revoke(lease.id, timeout=_DEREGISTER_TIMEOUT)
        except exc.EtcdLeaseNotFound:
            pass
        except exc.EtcdException as error:
            log.warning(
                "could not deregister %s (%s): etcd deletes it when lease %x runs out, within %d s",
                self.key,
                error,
                lease.id,
                self.ttl,
                extra=log_fields(
                    key=self.key, lease_id=lease.id, endpoint=error.endpoint, error=error
                ),
            )

    async def __aenter__(self) -> AsyncRegistration:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    def __repr__(self) -> str:
        state = "closed" if self._closed else "registered" if self.registered else "lost"
        return f"<Registration key={self.key!r} ttl={self.ttl} {state}>"


class _AsyncCacheMaker(Protocol):
    """What a discovery needs of a client (:class:`etcd.AsyncClient` has it)."""

    def cache(
        self,
        prefix: str | bytes,
        *,
        decode: Callable[[bytes], Any] | None = ...,
        give_up_after: float | None = ...,
    ) -> AsyncCache[Any]: ...


class AsyncDiscovery:
    """The endpoints of a service, kept current by a watch, as Go's resolver sees them.

    ::

        async with client.discover("billing") as billing:
            await billing.wait_ready()
            billing.endpoints()     # {"billing/10.0.0.5:50051": ServiceEndpoint(...), ...}

    Reads never touch the network. Values under the service's prefix that are not
    endpoints are left out, with one warning each on the ``etcd.discovery`` logger. See
    :doc:`/discovery`.
    """

    def __init__(
        self, client: _AsyncCacheMaker, service: str, *, give_up_after: float | None = None
    ) -> None:
        self.service = service
        self._cache: AsyncCache[ParsedEndpoint] = client.cache(
            service_prefix(service), decode=parse_endpoint, give_up_after=give_up_after
        )
        self._callbacks: list[Callable[[EndpointEvent], object]] = []
        # The revision of each value already warned about, so that a relist is quiet.
        self._warned: dict[bytes, int] = {}
        # Registered first: the cache describes its changes only while someone listens.
        self._cache.add_callback(self._on_update)

    async def start(self) -> AsyncDiscovery:
        """Start following the service in the background (once); returns itself."""
        await self._cache.start()
        return self

    async def close(self) -> None:
        """Stop following the service."""
        await self._cache.close()

    async def __aenter__(self) -> AsyncDiscovery:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    async def wait_ready(self, timeout: float | None = None) -> None:
        """Wait until the endpoints are listed and followed; raises :attr:`error` if the
        discovery failed, :class:`etcd.EtcdTimeout` after ``timeout`` seconds."""
        await self._cache.wait_ready(timeout)

    @property
    def ready(self) -> bool:
        return self._cache.ready

    @property
    def revision(self) -> int:
        """The store revision the list reflects (0 until it is loaded)."""
        return self._cache.revision

    @property
    def error(self) -> exc.EtcdException | None:
        """Why the list stopped following etcd for good (``None`` while it follows)."""
        return self._cache.error

    # --- reading -------------------------------------------------------------------------------

    def endpoints(self) -> dict[str, ServiceEndpoint]:
        """Every endpoint by its key, in key order, as of one revision."""
        return {
            _key_text(key): value
            for key, value in self._cache.snapshot().items()
            if isinstance(value, ServiceEndpoint)
        }

    def addresses(self) -> list[str]:
        """The address of every endpoint, in key order."""
        return [endpoint.address for endpoint in self.endpoints().values()]

    def grpc_target(self) -> str:
        """A grpcio target for every endpoint (see :func:`etcd.grpc_target`)."""
        return grpc_target(self.endpoints().values())

    def __len__(self) -> int:
        return len(self.endpoints())

    def __repr__(self) -> str:
        return (
            f"<Discovery service={self.service!r} endpoints={len(self)} revision={self.revision}>"
        )

    # --- changes -------------------------------------------------------------------------------

    def add_callback(self, callback: Callable[[EndpointEvent], object]) -> None:
        """Call ``callback(event)`` for every endpoint added or removed, in revision order
        (on the discovery's own task; an exception it raises is logged)."""
        if not callable(callback):
            raise exc.EtcdTypeError("the callback must be callable")
        self._callbacks.append(callback)

    def remove_callback(self, callback: Callable[[EndpointEvent], object]) -> None:
        """Stop calling ``callback``."""
        self._callbacks.remove(callback)

    async def events(self) -> AsyncIterator[EndpointEvent]:
        """Every endpoint added or removed from now on, in revision order, until the
        discovery is closed; raises its :attr:`error` once it fails."""
        async for update in self._cache.updates():
            for event in _events_of(update):
                yield event

    def _on_update(self, update: CacheUpdate[ParsedEndpoint]) -> None:
        for change in update.events:
            self._warn_if_invalid(change)
        for event in _events_of(update):
            for callback in list(self._callbacks):
                try:
                    callback(event)
                except Exception:
                    log.exception(
                        "discovery callback %r raised",
                        callback,
                        extra=log_fields(service=self.service),
                    )

    def _warn_if_invalid(self, change: CacheEvent[ParsedEndpoint]) -> None:
        entry = change.entry
        if entry is None or not isinstance(entry.value, InvalidEndpoint):
            self._warned.pop(change.key, None)
            return
        if self._warned.get(change.key) == entry.mod_revision:
            return
        self._warned[change.key] = entry.mod_revision
        log.warning(
            "%s of service %r is not an endpoint, left out: %s",
            _key_text(change.key),
            self.service,
            entry.value.reason,
            extra=log_fields(service=self.service, key=change.key, revision=entry.mod_revision),
        )


def _events_of(update: CacheUpdate[ParsedEndpoint]) -> list[EndpointEvent]:
    events = []
    for change in update.events:
        old = change.prev_entry.value if change.prev_entry is not None else None
        new = change.entry.value if change.entry is not None else None
        events.extend(endpoint_events(_key_text(change.key), old, new, update.revision))
    return events


def _key_text(key: bytes) -> str:
    return key.decode("utf-8", errors="replace")


async def register(
    client: _AsyncRegistrar,
    service: str,
    address: str,
    metadata: Any,
    value: bytes,
    ttl: int,
    *,
    on_lost: Callable[[exc.EtcdLeaseExpired], object] | None,
    on_reregistered: Callable[[AsyncRegistration], object] | None,
    timeout: Timeout,
) -> AsyncRegistration:
    """A registration made now: returned once the key is written."""
    registration = AsyncRegistration(
        client,
        service,
        address,
        metadata,
        value,
        ttl,
        on_lost=on_lost,
        on_reregistered=on_reregistered,
    )
    await registration._register(timeout)
    return registration
