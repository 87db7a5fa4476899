"""One long-lived gRPC stream, kept open for as long as its owner has work for it.

The watches of a client share one Watch stream, its kept-alive leases one LeaseKeepAlive
stream. What both need is here: the background task (started when work arrives), opening
the stream on a healthy member, and when it breaks: logging in again if the token went
stale, leaving a member that cannot serve, backing off, and failing everything that waits
on the stream when no new stream can help. The owner says what to send on each new stream
and what to do with each message (:class:`AsyncStreamOwner`).
"""

from __future__ import annotations

import enum
import logging
from collections.abc import AsyncIterator
from typing import Any, Protocol

import grpc

from .._core import exceptions as exc
from .._core.config import Endpoint
from .._core.error_mapping import NotConnected, StreamStalled, operation_name, status_of
from .._core.log_fields import log_fields
from .._core.stream import StreamFailure, classify_failure, failure_log_level
from .._wire.methods import Method
from .io import Condition, Worker, is_current, join, messages, spawn
from .transport import AsyncTransport


class AsyncStreamOwner(Protocol):
    """What a supervised stream serves. The supervisor's condition is held while it calls
    :meth:`has_work` and :meth:`requests_for_new_stream`, and no other method."""

    def has_work(self) -> bool:
        """Whether the stream is still needed: the client is open, and something uses it."""
        ...

    def requests_for_new_stream(self) -> AsyncIterator[Any]:
        """The request side of a new stream, taking up where the last one left off."""
        ...

    def stream_opened(self, call: Any) -> None:
        """A new stream is open; its messages come next."""
        ...

    def on_message(self, message: Any, endpoint: Endpoint) -> None:
        """Handle one message of the stream (raise :class:`Reopen` to replace the stream)."""
        ...

    def stream_closed(self) -> None:
        """The stream is gone (or never opened): end its request side."""
        ...

    def fail_all(self, error: exc.EtcdException) -> None:
        """Fail everything waiting on the stream, and forget it: no stream will serve it."""
        ...


class Reopen(Exception):
    """Raised by :meth:`AsyncStreamOwner.on_message`: the server's answer asks for a new
    stream, after logging in again if ``stale_token``, else on another member."""

    def __init__(self, reason: str, *, stale_token: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.stale_token = stale_token


class _Next(enum.Enum):
    STOP = "stop"
    REOPEN = "reopen"
    RETRY = "retry"


class AsyncStreamSupervisor:
    """Runs the task that keeps ``owner``'s stream open while :meth:`~AsyncStreamOwner.has_work`.

    ``condition`` is the owner's lock too: what the owner changes under it (its work, its
    closing) is seen at once by the task. ``final_errors`` are the errors that no new
    stream cures for this owner, besides a closed or forked client. Messages are logged to
    the owner's ``log``, naming the stream ``name``; the task is named ``worker_name``.
    """

    def __init__(
        self,
        transport: AsyncTransport,
        owner: AsyncStreamOwner,
        condition: Condition,
        *,
        method: Method,
        final_errors: tuple[type[exc.EtcdException], ...],
        name: str,
        worker_name: str,
        log: logging.Logger,
    ) -> None:
        self._transport = transport
        self._owner = owner
        self._condition = condition
        self._method = method
        self._final_errors = final_errors
        self._name = name
        self._worker_name = worker_name
        self._log = log
        self._worker: Worker | None = None
        self._call: Any = None
        # Why this client cancelled the current stream, if it did.
        self._idle = False
        self._stalled: StreamStalled | None = None
        # Failures in a row; any message resets it. Only the task touches it.
        self._failures = 0

    # --- called by the owner, holding the condition -------------------------------------------

    def start(self) -> None:
        """Work arrived: serve it, unless a task does already."""
        if self._worker is None:
            self._worker = spawn(self._run, name=self._worker_name)

    def cut_idle(self) -> None:
        """The work ran out: let the stream (and its task) go. Work that arrives before the
        task noticed gets a new stream at once."""
        if self._call is not None:
            self._idle = True
            self._call.cancel()

    def cut_stalled(self, reason: str) -> None:
        """The member stopped answering: cut the stream, and open the next one elsewhere."""
        self._stalled = StreamStalled(reason)
        if self._call is not None:
            self._call.cancel()

    # --- called by the owner, not holding the condition ---------------------------------------

    async def close(self) -> None:
        """Stop the task, once the owner is closed (it has no work, and takes no more)."""
        with self._condition:
            call, worker = self._call, self._worker
            self._condition.notify_all()
        if call is not None:
            call.cancel()
        if worker is not None and not is_current(worker):
            await join(worker, 5)

    # --- the task -----------------------------------------------------------------------------

    async def _run(self) -> None:
        try:
            self._failures = 0
            while (step := await self._stream_once()) is not _Next.STOP:
                if step is _Next.RETRY:
                    await self._back_off()
        except BaseException as error:  # pragma: no cover - a bug must still be heard
            self._log.exception(
                "the %s task failed", self._name, extra=log_fields(stream=self._name)
            )
            self._owner.fail_all(
                exc.EtcdException(f"the {self._name} failed unexpectedly: {error!r}")
            )
        finally:
            with self._condition:
                self._worker = None
                self._call = None
                if self._owner.has_work():
                    # Work arrived while the task was leaving: serve it.
                    self.start()

    async def _stream_once(self) -> _Next:
        """Open the stream and serve it until it ends; then say what comes next."""
        with self._condition:
            if not self._owner.has_work():
                return _Next.STOP
            requests = self._owner.requests_for_new_stream()
            self._idle = False
            self._stalled = None
        endpoint = self._transport.current_endpoint
        call = None
        try:
            call, endpoint = await self._transport.open_stream(self._method, requests, timeout=None)
            with self._condition:
                self._call = call
                if not self._owner.has_work():
                    self.cut_idle()
            self._owner.stream_opened(call)
            async for message in messages(call):
                self._failures = 0
                self._owner.on_message(message, endpoint)
            self._failures += 1
            self._log.info(
                "%s on %s ended by the server; reopening",
                self._name,
                endpoint,
                extra=self._fields(endpoint),
            )
            return _Next.RETRY
        except Reopen as reopen:
            return self._after_reopen(reopen, endpoint)
        except (grpc.RpcError, NotConnected) as error:
            return self._after_break(error, endpoint)
        except exc.EtcdException as error:
            return self._after_open_failed(error)
        finally:
            with self._condition:
                self._call = None
            self._owner.stream_closed()
            if call is not None:
                call.cancel()

    def _after_reopen(self, reopen: Reopen, endpoint: Endpoint) -> _Next:
        self._failures += 1
        if reopen.stale_token:
            self._transport.set_token(None)
        else:
            self._transport.note_failure(endpoint, "UNAVAILABLE", reopen.reason, pinned=False)
        self._log.info(
            "%s on %s: %s; reopening",
            self._name,
            endpoint,
            reopen.reason,
            extra=self._fields(endpoint),
        )
        return _Next.RETRY

    def _after_break(self, error: grpc.RpcError | NotConnected, endpoint: Endpoint) -> _Next:
        with self._condition:
            if not self._owner.has_work():
                return _Next.STOP
            idle, stalled = self._idle, self._stalled
        if idle:
            return _Next.REOPEN
        self._failures += 1
        failure = stalled or error
        code, details = status_of(failure)
        mapped = self._transport.map_error(failure, self._method, endpoint)
        verdict = classify_failure(mapped, self._final_errors)
        if verdict is StreamFailure.FINAL:
            self._owner.fail_all(mapped)
            return _Next.STOP
        if verdict is StreamFailure.REAUTHENTICATE:
            self._transport.set_token(None)
        self._transport.note_failure(endpoint, code, details, pinned=False)
        level = failure_log_level(self._failures)
        self._log.log(
            level,
            "%s on %s failed (%s); reopening",
            self._name,
            endpoint,
            mapped,
            extra=self._fields(endpoint, code=code, error=mapped),
        )
        return _Next.RETRY

    def _after_open_failed(self, error: exc.EtcdException) -> _Next:
        """The stream could not be opened: logging in failed, or the client is unusable."""
        with self._condition:
            wanted = self._owner.has_work()
        if not wanted or classify_failure(error, self._final_errors) is StreamFailure.FINAL:
            self._owner.fail_all(error)
            return _Next.STOP
        self._failures += 1
        self._log.info(
            "could not open the %s: %s",
            self._name,
            error,
            extra=self._fields(error.endpoint, error=error),
        )
        return _Next.RETRY

    def _fields(
        self,
        endpoint: object,
        *,
        code: str | None = None,
        error: BaseException | None = None,
    ) -> dict[str, object]:
        return log_fields(
            operation=operation_name(self._method),
            stream=self._name,
            endpoint=endpoint,
            failures=self._failures,
            code=code,
            error=error,
        )

    async def _back_off(self) -> None:
        with self._condition:
            if self._owner.has_work():
                await self._condition.wait(self._transport.retry_policy.delay(self._failures))
