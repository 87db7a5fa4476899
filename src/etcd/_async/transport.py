"""The asyncio I/O shell: gRPC channels, deadlines, retries, authentication.

This is the only place where the asyncio client touches the network; it is also the
strict point of cut-off for errors: a ``grpc.RpcError`` never passes it.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import grpc

from .. import _core, _wire
from .._core import exceptions as exc
from .._core.deadline import deadline_after, time_left
from .._core.error_mapping import NotConnected, map_rpc_error, operation_name, status_of
from .._core.event_hub import EventHub, Operation
from .._core.log_fields import log_fields
from .._core.retry import (
    DEFAULT_RETRY_POLICY,
    LOGINS_PER_CALL,
    RetryPolicy,
    another_member_ready,
    next_endpoint,
)
from .._core.stream import token_may_be_stale
from .._core.versions import check_option
from .io import Lock, check_interceptors, messages, open_channel, sleep
from .operations import run_operation

if TYPE_CHECKING:
    from .._core.config import ClientConfig, Endpoint
    from .._wire.methods import Method

log = logging.getLogger("etcd.transport")

#: How long to wait for gRPC's reason when a connection could not be made in time, and
#: how far past the call's deadline that may go.
_EXPLAIN_TIMEOUT = 0.2
_EXPLAIN_MINIMUM = 0.05


# How many fork()s made this process: a client made before one of them refuses calls. Every
# call checks it, and comparing a counter costs nothing where asking the kernel for the
# process ID is a system call. (Where there is no fork(), it stays 0.)
_forks = 0


def _count_fork() -> None:
    global _forks
    _forks += 1


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_count_fork)


class AsyncTransport:
    """Channels to the configured endpoints, and the calls made over them."""

    def __init__(self, config: ClientConfig, retry_policy: RetryPolicy = DEFAULT_RETRY_POLICY):
        check_interceptors(config.interceptors)
        self.config = config
        self.events = EventHub()
        self.retry_policy = retry_policy
        self._endpoints: tuple[Endpoint, ...] = config.endpoints
        self._current = 0
        self._channels: dict[str, Any] = {}
        # Targets known to have a working connection; others are probed before use.
        self._connected: set[str] = set()
        # What each member said it runs, from the status request that proved it reachable.
        self._server_versions: dict[str, str] = {}
        self._failed_at: dict[str, float] = {}
        self._discovered = False
        self._callables: dict[tuple[str, str], Any] = {}
        self._lock = Lock()
        self._pid = os.getpid()
        self._forks_before = _forks
        self._closed = False
        self._token: str | None = None
        self._base_metadata: tuple[tuple[str, str], ...] = (
            (("hasleader", "true"),) if config.require_leader else ()
        )
        self._metadata: tuple[tuple[str, str], ...] = self._base_metadata
        if config.token:
            # A token issued elsewhere: used as is, never refreshed (there is no password).
            self.set_token(config.token)

    # --- endpoints and channels -----------------------------------------------------------

    @property
    def endpoints(self) -> tuple[Endpoint, ...]:
        return self._endpoints

    @property
    def current_endpoint(self) -> Endpoint:
        return self._endpoints[self._current % len(self._endpoints)]

    async def set_endpoints(self, endpoints: tuple[Endpoint, ...]) -> None:
        """Replace the endpoint list (channels to members that left are closed)."""
        if not endpoints:
            raise exc.EtcdValueError("at least one endpoint is needed")
        current = self.current_endpoint
        before = self._endpoints
        with self._lock:
            self._endpoints = endpoints
            targets = [e.target for e in endpoints]
            self._current = targets.index(current.target) if current.target in targets else 0
            dropped = [self._forget_channel(t) for t in self._channels if t not in targets]
        for channel in dropped:
            await channel.close()
        if self.events.active and before != endpoints:
            self.events.emit(
                _core.events.EndpointsChanged(tuple(map(str, before)), tuple(map(str, endpoints)))
            )

    def _advance(self, failed: Endpoint, code: str, operation_id: int | None) -> None:
        """Move on from a failed endpoint (unless another thread already did), preferring
        members that have not failed recently."""
        now = time.monotonic()
        self._failed_at[failed.target] = now
        if len(self._endpoints) > 1 and self.current_endpoint.target == failed.target:
            targets = [endpoint.target for endpoint in self._endpoints]
            self._current = next_endpoint(
                targets, self._current % len(targets), self._failed_at, now
            )
            log.info(
                "switching from %s to %s",
                failed,
                self.current_endpoint,
                extra=log_fields(endpoint=failed, next_endpoint=self.current_endpoint, code=code),
            )
            if self.events.active:
                self.events.emit(
                    _core.events.Failover(
                        str(failed), str(self.current_endpoint), code, operation_id
                    )
                )

    def _another_member_ready(self, endpoint: Endpoint) -> bool:
        targets = [other.target for other in self._endpoints]
        return another_member_ready(targets, endpoint.target, self._failed_at, time.monotonic())

    def _channel(self, endpoint: Endpoint) -> Any:
        channel = self._channels.get(endpoint.target)
        if channel is not None:
            return channel
        with self._lock:
            channel = self._channels.get(endpoint.target)
            if channel is None:
                self.check_usable()
                channel = self._open_channel(endpoint)
                self._channels[endpoint.target] = channel
        return channel

    def _open_channel(self, endpoint: Endpoint) -> Any:
        tls = self.config.tls
        credentials = None
        if tls is not None:
            credentials = grpc.ssl_channel_credentials(
                root_certificates=tls.root_certificates,
                private_key=tls.private_key,
                certificate_chain=tls.certificate_chain,
            )
        return open_channel(
            endpoint.target, self.config.channel_options(), credentials, self.config.interceptors
        )

    async def _ensure_connected(
        self, endpoint: Endpoint, remaining: float | None, *, pinned: bool
    ) -> None:
        """Wait for the connection to ``endpoint``, at most ``connect_timeout`` seconds.

        A member that is down, paused or cut off would otherwise keep a call waiting until
        its whole deadline is gone, with other members available. When another member has
        not failed lately, a connection that fails outright (refused, or still backing off
        after a failure) is not waited for at all: the call moves on at once.
        """
        if endpoint.target in self._connected:
            return
        wait = self.config.connect_timeout
        if remaining is not None:
            wait = min(wait, remaining)
        waits = pinned or not self._another_member_ready(endpoint)
        # A cheap request that may wait for the connection: any answer, even a refusal,
        # proves the member is reachable. (gRPC's ready-future would do too, but its polling
        # thread fails noisily when the channel is closed under it.) Without waiting for
        # readiness, it still waits for a connection attempt under way, and fails with the
        # attempt's reason when that attempt fails.
        probe = self._callable(endpoint, _wire.methods.MAINTENANCE_STATUS)
        try:
            status = await probe(_wire.messages.StatusRequest(), timeout=wait, wait_for_ready=waits)
            self._server_versions[endpoint.target] = status.version
        except grpc.RpcError as error:
            if error.code() == grpc.StatusCode.DEADLINE_EXCEEDED:
                if waits:
                    # A failed connection answers the question at once; only a member that
                    # is still connecting makes it wait, and then mostly within the deadline.
                    left = _EXPLAIN_TIMEOUT if remaining is None else remaining - wait
                    await self._explain_connection_failure(
                        endpoint, min(_EXPLAIN_TIMEOUT, max(left, _EXPLAIN_MINIMUM))
                    )
                raise NotConnected(f"no connection within {wait:.2f} s") from None
            if error.code() == grpc.StatusCode.UNAVAILABLE:
                # The request itself never left: say so, so that it may be retried.
                raise NotConnected(error.details() or "unavailable") from None
        self._connected.add(endpoint.target)

    async def _explain_connection_failure(self, endpoint: Endpoint, timeout: float) -> None:
        """Raise gRPC's own reason when the connection failed outright (refused, TLS).

        A cheap request that cannot wait for the connection fails at once with the reason
        of the last failed attempt, such as a certificate the client does not trust; a
        member that is merely slow (or paused) makes it time out instead, and the caller
        reports that.
        """
        probe = self._callable(endpoint, _wire.methods.MAINTENANCE_STATUS)
        try:
            await probe(_wire.messages.StatusRequest(), timeout=timeout, wait_for_ready=False)
        except grpc.RpcError as error:
            if error.code() == grpc.StatusCode.UNAVAILABLE:
                raise

    def server_version(self, endpoint: Endpoint) -> str | None:
        """The etcd version ``endpoint`` reported when it was connected to (``None`` while
        unknown, as when the member refused to say)."""
        return self._server_versions.get(endpoint.target)

    def _forget_channel(self, target: str) -> Any:
        """Stop using the channel to ``target``, and return it (the caller closes it)."""
        self._connected.discard(target)
        for key in [k for k in self._callables if k[0] == target]:
            del self._callables[key]
        return self._channels.pop(target)

    def _callable(self, endpoint: Endpoint, method: Method) -> Any:
        key = (endpoint.target, method.path)
        bound = self._callables.get(key)
        if bound is None:
            channel = self._channel(endpoint)
            factory = getattr(channel, method.kind)
            bound = factory(
                method.path,
                request_serializer=method.request.SerializeToString,
                response_deserializer=method.response.FromString,
            )
            self._callables[key] = bound
        return bound

    # --- lifecycle ------------------------------------------------------------------------

    def check_usable(self) -> None:
        if self._closed:
            raise exc.EtcdClientClosed("the client is closed")
        if _forks != self._forks_before:
            raise exc.EtcdForkedClient(
                f"this client was created in process {self._pid} and cannot be used in "
                f"process {os.getpid()} after fork(): create a new client in the child"
            )

    async def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            if _forks != self._forks_before:
                # The parent owns these connections; closing them here could hang.
                self._channels.clear()
                self._callables.clear()
                return
            channels = [self._forget_channel(target) for target in list(self._channels)]
        for channel in channels:
            await channel.close()

    # --- calls ----------------------------------------------------------------------------

    async def unary(
        self,
        method: Method,
        request: Any,
        *,
        timeout: float | None,
        mutation: bool,
        endpoint: Endpoint | None = None,
        requires: str | None = None,
    ) -> Any:
        """Send one request and return its response message, retrying what is safe.

        ``endpoint`` pins the call to one member (no failover), for per-member calls.
        ``requires`` names an option of the request (in :data:`versions.ADDED_IN`) that a
        member older than its release would ignore: such a member is refused it.
        """
        if not self.events.active:
            return await self._unary(method, request, timeout, mutation, endpoint, None, requires)

        async def call(operation: Operation | None) -> Any:
            return await self._unary(
                method, request, timeout, mutation, endpoint, operation, requires
            )

        return await run_operation(
            self.events,
            "call",
            operation_name(method),
            call,
            key=getattr(request, "key", None),
            attributes=_attributes_of(method, request),
        )

    async def _unary(
        self,
        method: Method,
        request: Any,
        timeout: float | None,
        mutation: bool,
        endpoint: Endpoint | None,
        operation: Operation | None,
        requires: str | None = None,
    ) -> Any:
        self.check_usable()
        deadline = deadline_after(timeout)
        attempt = 0
        logins_again = 0
        while True:
            attempt += 1
            target = endpoint or self.current_endpoint
            if attempt == 1 and (timeout is None or timeout > 0):
                remaining = timeout  # the deadline was set just now
            else:
                remaining = self._remaining(deadline, method, target, timeout, mutation, attempt)
            logging_in = bool(self.config.username) and self._token is None
            current = _wire.methods.AUTH_AUTHENTICATE if logging_in else method
            if operation is not None:
                operation.endpoint, operation.attempts = str(target), attempt
            try:
                if logging_in or target.target not in self._connected:
                    await self._prepare_endpoint(target, remaining, pinned=endpoint is not None)
                current = method
                if requires is not None:
                    check_option(
                        requires, True, str(target), self._server_versions.get(target.target)
                    )
                call = self._callable(target, method)
                response = await call(request, timeout=remaining, metadata=self._metadata)
            except (grpc.RpcError, NotConnected) as error:
                code, details = status_of(error)
                mapped = self.map_error(
                    error, current, target, mutation=mutation and current is method
                )
                if self._should_reauthenticate(mapped, logins_again):
                    # Expired or foreign token: nothing was applied; get a new one and resend.
                    logins_again += 1
                    log.debug(
                        "%s on %s: the token was refused; logging in again",
                        operation_name(method),
                        target,
                        extra=log_fields(
                            operation=operation_name(method), endpoint=target, attempt=attempt
                        ),
                    )
                    if self.events.active:
                        self.events.emit(_core.events.Reauthenticated(str(target)))
                    continue
                self.note_failure(
                    target,
                    code,
                    details,
                    pinned=endpoint is not None,
                    operation_id=None if operation is None else operation.id,
                )
                if not self.retry_policy.should_retry(
                    code, details, mutation=mutation, attempt=attempt
                ):
                    raise mapped from error
                pause = self.retry_policy.delay(attempt)
                if not await self._pause(pause, deadline):
                    raise mapped from error
                log.debug(
                    "%s on %s failed (%s), retrying",
                    operation_name(method),
                    target,
                    code,
                    extra=log_fields(
                        operation=operation_name(method),
                        endpoint=target,
                        attempt=attempt,
                        code=code,
                        error=mapped,
                        delay=pause,
                    ),
                )
                if operation is not None:
                    self.events.emit(
                        _core.events.Retry(
                            operation.id,
                            operation.name,
                            str(target),
                            attempt,
                            code,
                            type(mapped).__name__,
                            pause,
                        )
                    )
                continue
            if endpoint is None and self._needs_discovery:
                await self._discover(deadline)
            return response

    async def open_stream(
        self, method: Method, request: Any, *, timeout: float | None
    ) -> tuple[Any, Endpoint]:
        """Start a streaming call on the current member (connected and authenticated).

        Returns the call (iterate it for responses; cancel it when done) and the member it
        went to. Errors while iterating are ``grpc.RpcError``: turn them into library errors
        with :meth:`map_error`, and report them with :meth:`note_failure`. Streams always
        ask for a member with a leader, so a cut-off member fails instead of going silent.
        """
        self.check_usable()
        target = self.current_endpoint
        await self._prepare_endpoint(target, timeout, pinned=False)
        metadata = self._metadata
        if not self.config.require_leader:
            metadata = (*metadata, ("hasleader", "true"))
        call = self._callable(target, method)(request, timeout=timeout, metadata=metadata)
        return call, target

    async def server_stream(
        self, method: Method, request: Any, *, timeout: float | None
    ) -> AsyncIterator[Any]:
        """The answers of a call that streams them to one request, as they arrive.

        Until the first answer, a failure that allows it is retried on another member;
        after it, the failure is raised (mapped), since part was delivered already.
        """
        deadline = deadline_after(timeout)
        attempt = 0
        while True:
            attempt += 1
            call = None
            target = self.current_endpoint
            answered = False
            try:
                call, target = await self.open_stream(method, request, timeout=time_left(deadline))
                async for message in messages(call):
                    answered = True
                    yield message
                return
            except (grpc.RpcError, NotConnected) as error:
                code, details = status_of(error)
                mapped = self.map_error(error, method, target)
                self.note_failure(target, code, details, pinned=False)
                if (
                    answered
                    or not self.should_retry_stream(error, attempt)
                    or not await self.back_off(attempt, deadline)
                ):
                    raise mapped from error
            finally:
                if call is not None:
                    call.cancel()

    async def first_response(
        self, method: Method, request: Any, *, timeout: float | None
    ) -> tuple[Any, Endpoint]:
        """Open a stream with one request and return its first answer (then close it).

        For streaming RPCs used as single calls, such as one lease refresh; retried on
        another member when the request could not be sent.
        """
        deadline = deadline_after(timeout)
        attempt = 0
        while True:
            attempt += 1
            target = self.current_endpoint
            remaining = self._remaining(deadline, method, target, timeout, False, attempt)
            call = None
            try:
                call, target = await self.open_stream(method, iter([request]), timeout=remaining)
                async for response in messages(call):
                    return response, target
                raise exc.EtcdUnavailable(
                    f"{operation_name(method)} on {target} ended without an answer",
                    operation=operation_name(method),
                    endpoint=str(target),
                )
            except (grpc.RpcError, NotConnected) as error:
                code, details = status_of(error)
                mapped = self.map_error(error, method, target)
                self.note_failure(target, code, details, pinned=False)
                if not self.retry_policy.should_retry(
                    code, details, mutation=False, attempt=attempt
                ) or not await self.back_off(attempt, deadline):
                    raise mapped from error
            finally:
                if call is not None:
                    call.cancel()

    def map_error(
        self,
        error: grpc.RpcError | NotConnected,
        method: Method,
        endpoint: Endpoint,
        *,
        mutation: bool = False,
    ) -> exc.EtcdException:
        code, details = status_of(error)
        return map_rpc_error(
            code,
            details,
            operation=operation_name(method),
            endpoint=str(endpoint),
            mutation=mutation,
            server_version=self._server_versions.get(endpoint.target),
        )

    def note_failure(
        self,
        endpoint: Endpoint,
        code: str,
        details: str,
        *,
        pinned: bool,
        operation_id: int | None = None,
    ) -> None:
        """Forget a broken connection, and move on from a member that cannot serve
        (``operation_id``: the reported call that failed, for its listeners)."""
        if code in ("UNAVAILABLE", "DEADLINE_EXCEEDED"):
            self._connected.discard(endpoint.target)
        if not pinned and self.retry_policy.should_switch_endpoint(code, details):
            self._advance(endpoint, code, operation_id)

    def should_retry_stream(self, error: grpc.RpcError | NotConnected, attempt: int) -> bool:
        """Whether a failed stream (a read) may be opened again."""
        code, details = status_of(error)
        return self.retry_policy.should_retry(code, details, mutation=False, attempt=attempt)

    def _remaining(
        self,
        deadline: float | None,
        method: Method,
        target: Endpoint,
        timeout: float | None,
        mutation: bool,
        attempt: int,
    ) -> float | None:
        remaining = time_left(deadline)
        if remaining == 0:
            raise exc.EtcdTimeout(
                f"{operation_name(method)} on {target} timed out after {timeout} s",
                operation=operation_name(method),
                endpoint=str(target),
                code="DEADLINE_EXCEEDED",
                outcome_unknown=mutation and attempt > 1,
            )
        return remaining

    async def back_off(self, attempt: int, deadline: float | None) -> bool:
        """Sleep before the next attempt; ``False`` when that would pass the deadline."""
        return await self._pause(self.retry_policy.delay(attempt), deadline)

    async def _pause(self, pause: float, deadline: float | None) -> bool:
        remaining = time_left(deadline)
        if remaining is not None and pause >= remaining:
            return False
        await sleep(pause)
        return True

    async def _prepare_endpoint(
        self, target: Endpoint, remaining: float | None, *, pinned: bool
    ) -> None:
        """Connect to ``target``, and log in if the client has a user and no token yet.

        ``pinned``: the call may go nowhere else, so it waits for this member.
        """
        await self._ensure_connected(target, remaining, pinned=pinned)
        if self.config.username and self._token is None:
            await self._authenticate(target, remaining)

    def _should_reauthenticate(self, mapped: exc.EtcdException, logins_again: int) -> bool:
        if token_may_be_stale(mapped) and self.config.username and logins_again < LOGINS_PER_CALL:
            self._token = None
            return True
        return False

    # --- cluster discovery ----------------------------------------------------------------

    @property
    def _needs_discovery(self) -> bool:
        return self.config.allow_reconnect and not self._discovered

    async def _discover(self, deadline: float | None) -> None:
        """Add every member's client URLs to the endpoints (``allow_reconnect=True``).

        Done once, after the first call that succeeds, so that losing the only configured
        member later still leaves the client somewhere to go. Failing to list the members
        is not an error of the user's call: it is retried after the next success.
        """
        self._discovered = True
        remaining = time_left(deadline)
        if remaining is not None:
            remaining = max(remaining, 0.5)
        try:
            call = self._callable(self.current_endpoint, _wire.methods.CLUSTER_MEMBER_LIST)
            listed = await call(
                _wire.messages.MemberListRequest(), timeout=remaining, metadata=self._metadata
            )
        except grpc.RpcError as error:
            self._discovered = False
            log.debug(
                "could not list the cluster's members: %s",
                error.details(),
                extra=log_fields(
                    operation=operation_name(_wire.methods.CLUSTER_MEMBER_LIST),
                    endpoint=self.current_endpoint,
                    code=status_of(error)[0],
                ),
            )
            return
        found = [
            endpoint
            for member in listed.members
            for url in member.clientURLs
            for endpoint in [_core.config.endpoint_or_none(url)]
            if endpoint is not None
        ]
        known = {e.target for e in self._endpoints}
        added = tuple(e for e in found if e.target not in known)
        if added:
            log.info(
                "discovered cluster members at %s",
                ", ".join(map(str, added)),
                extra=log_fields(endpoints=added),
            )
            await self.set_endpoints(self._endpoints + added)

    # --- authentication -------------------------------------------------------------------

    async def _authenticate(self, endpoint: Endpoint, remaining: float | None) -> None:
        """Exchange the user name and password for a token (kept out of every log)."""
        call = self._callable(endpoint, _wire.methods.AUTH_AUTHENTICATE)
        response = await call(
            _wire.messages.AuthenticateRequest(
                name=self.config.username, password=self.config.password
            ),
            timeout=remaining,
            metadata=self._base_metadata,
        )
        self.set_token(response.token)
        log.debug(
            "authenticated as %r on %s",
            self.config.username,
            endpoint,
            extra=log_fields(
                operation=operation_name(_wire.methods.AUTH_AUTHENTICATE),
                endpoint=endpoint,
                user=self.config.username,
            ),
        )

    def set_token(self, token: str | None) -> None:
        self._token = token
        self._metadata = self._base_metadata + ((("token", token),) if token else ())


def _attributes_of(method: Method, request: Any) -> dict[str, int | str]:
    """What a span may tell of a request without its keys or values: a transaction's size."""
    if method is _wire.methods.KV_TXN:
        return {
            "etcd.txn.compares": len(request.compare),
            "etcd.txn.success_ops": len(request.success),
            "etcd.txn.failure_ops": len(request.failure),
        }
    return {}
