"""The asyncio watch shell: one Watch stream per client, shared by every watch.

A single background task owns the stream. It sends the create requests, hands every
response to the :class:`~etcd._core.watch.WatchCursor` of its watch, and queues what the cursor
says to deliver. When the stream breaks (member killed, leader lost, connection dropped,
token expired), it opens a new one on the next healthy member and re-creates every watch
from its cursor's revision: the consumer sees neither a gap nor a repeat.
"""

from __future__ import annotations

import collections
import itertools
import logging
import time
from collections.abc import AsyncIterator, Callable
from types import TracebackType
from typing import Any

from .._core import exceptions as exc
from .._core.config import Endpoint
from .._core.deadline import deadline_after, time_left
from .._core.events import WatchCompacted, WatchDelivered, WatchResumed
from .._core.log_fields import log_fields
from .._core.stream import token_may_be_stale
from .._core.watch import (
    BROADCAST_WATCH_ID,
    Event,
    Outcome,
    OutcomeKind,
    StreamLiveness,
    WatchCursor,
    WatchResponse,
    WatchSpec,
    broadcast_progress_is_reliable,
    cancel_request,
    progress_request,
)
from .._wire import methods
from .io import Condition, Empty, Flag, Queue, Worker, is_active, sleep, spawn
from .stream import AsyncStreamSupervisor, Reopen
from .transport import AsyncTransport

log = logging.getLogger("etcd.watch")

_END = object()
_STOP = object()
# How often a blocked consumer wakes up to notice a deadline or a closed client.
_POLL = 0.25
# Failures that another stream will not cure (besides a closed or forked client): every
# watch fails with them.
_FINAL_ERRORS = (
    exc.EtcdAuthFailed,
    exc.EtcdPermissionDenied,
    exc.EtcdValueError,
    exc.EtcdTypeError,
    exc.EtcdAuthNotEnabled,
)


class AsyncWatch:
    """A running watch. Iterate it for :class:`etcd.Event` objects, or call
    :meth:`responses` for whole server responses (one or more complete revisions each).

    Use it as a context manager, or call :meth:`cancel`, to stop it. Iteration ends after a
    cancel, and raises if the watch failed: :class:`etcd.EtcdCompacted` when its resume
    point was compacted away, :class:`etcd.EtcdWatchCancelled` (or a more precise error,
    such as :class:`etcd.EtcdPermissionDenied`) when the server ended it.
    """

    def __init__(
        self,
        watcher: AsyncWatcher,
        watch_id: int,
        spec: WatchSpec,
        callback: Callable[[WatchResponse], object] | None,
        on_error: Callable[[exc.EtcdException], object] | None,
    ) -> None:
        self.id = watch_id
        self.spec = spec
        self._watcher = watcher
        self._cursor = WatchCursor(spec)
        self._items: Queue[Any] = Queue()
        self._pending: collections.deque[Event] = collections.deque()
        self._finished: BaseException | object | None = None
        self._created = Flag()
        self._error: exc.EtcdException | None = None
        self._relogged = False
        self._callbacks = (callback, on_error) if callback is not None else None
        self._callback_worker: Worker | None = None

    # --- consumption ------------------------------------------------------------------------

    def __aiter__(self) -> AsyncWatch:
        return self

    async def __anext__(self) -> Event:
        while not self._pending:
            self._pending.extend((await self.next_response()).events)
        return self._pending.popleft()

    async def responses(self, *, progress: bool = False) -> AsyncIterator[WatchResponse]:
        """Each server response in turn; with ``progress=True``, progress notifications too."""
        while True:
            try:
                response = await self.next_response()
            except StopAsyncIteration:
                return
            if response.events or progress:
                yield response

    async def next_response(self, timeout: float | None = None) -> WatchResponse:
        """The next response (a progress notification included), waiting at most ``timeout``.

        Raises:
            StopAsyncIteration: the watch was cancelled.
            etcd.EtcdWatchTimedOut: nothing came within ``timeout`` seconds.
        """
        deadline = deadline_after(timeout)
        while True:
            if self._finished is not None:
                self._raise_finished()
            try:
                item = self._items.get_nowait()
            except Empty:
                remaining = time_left(deadline)
                wait = _POLL if remaining is None else min(_POLL, remaining)
                if wait == 0:
                    raise exc.EtcdWatchTimedOut(
                        f"no change of {self.spec.describe()} within {timeout} s",
                        operation="Watch.Watch",
                    ) from None
                try:
                    item = await self._items.get(timeout=wait)
                except Empty:
                    continue
            if isinstance(item, WatchResponse):
                return item
            self._finished = item
            self._raise_finished()

    async def next_event(self, timeout: float | None = None) -> Event:
        """The next event, waiting at most ``timeout`` seconds in all.

        Raises:
            etcd.EtcdWatchTimedOut: no event came within ``timeout`` seconds.
        """
        if self._pending:
            return self._pending.popleft()
        deadline = deadline_after(timeout)
        while True:
            response = await self.next_response(time_left(deadline))
            if response.events:
                self._pending.extend(response.events[1:])
                return response.events[0]

    def _raise_finished(self) -> None:
        if isinstance(self._finished, BaseException):
            raise self._finished
        raise StopAsyncIteration

    # --- control ----------------------------------------------------------------------------

    @property
    def next_revision(self) -> int:
        """The revision this watch resumes from; every change before it was delivered."""
        return self._cursor.next_revision

    async def wait_created(self, timeout: float | None = None) -> bool:
        """Wait until the server confirmed the watch; ``False`` on timeout.

        Raises the watch's error if the server refused it (a permission, a compacted start
        revision).
        """
        created = await self._created.wait(timeout)
        if self._error is not None:
            raise self._error
        return created

    def cancel(self) -> None:
        """Stop the watch; iteration ends once the events already received are consumed."""
        self._watcher.cancel(self)

    async def __aenter__(self) -> AsyncWatch:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.cancel()

    def __repr__(self) -> str:
        state = "done" if self._finished is not None else "active"
        return f"<Watch {self.spec.describe()} next_revision={self.next_revision} {state}>"

    # --- called by the watcher ----------------------------------------------------------------

    def _deliver(self, response: WatchResponse) -> None:
        self._items.put(response)

    def _end(self, error: BaseException | None = None) -> None:
        if isinstance(error, exc.EtcdException):
            self._error = error
        self._items.put(_END if error is None else error)
        self._created.set()

    async def _run_callbacks(
        self,
        callback: Callable[[WatchResponse], object],
        on_error: Callable[[exc.EtcdException], object] | None,
    ) -> None:
        while True:
            try:
                response = await self.next_response()
            except StopAsyncIteration:
                return
            except exc.EtcdException as error:
                if on_error is None:
                    log.error(
                        "watch on %s ended: %s",
                        self.spec.describe(),
                        error,
                        extra=log_fields(
                            watch_id=self.id,
                            key=self.spec.key,
                            endpoint=error.endpoint,
                            error=error,
                        ),
                    )
                else:
                    _call_safely(on_error, error, self)
                return
            if response.events:
                _call_safely(callback, response, self)


def _call_safely(function: Callable[[Any], object], argument: Any, watch: AsyncWatch) -> None:
    try:
        function(argument)
    except Exception:
        # A failing callback must not stop the watch, nor pass unnoticed.
        log.exception(
            "watch callback %r on %s raised",
            function,
            watch.spec.describe(),
            extra=log_fields(watch_id=watch.id, key=watch.spec.key),
        )


class AsyncWatcher:
    """Owns the client's Watch stream: the watches it serves, and what each message means
    to them (the stream itself is kept open by an :class:`AsyncStreamSupervisor`)."""

    def __init__(self, transport: AsyncTransport) -> None:
        self._transport = transport
        self._condition = Condition()
        self._watches: dict[int, AsyncWatch] = {}
        self._ids = itertools.count(1)
        self._requests: Queue[Any] | None = None
        self._liveness = self._fresh_liveness()
        self._closed = False
        self._stream = AsyncStreamSupervisor(
            transport,
            self,
            self._condition,
            method=methods.WATCH_WATCH,
            final_errors=_FINAL_ERRORS,
            name="watch stream",
            worker_name="etcd-watch-stream",
            log=log,
        )
        self.streams_opened = 0
        """How many times the watch stream was opened (more than once means resumes)."""

    def watch(
        self,
        spec: WatchSpec,
        callback: Callable[[WatchResponse], object] | None = None,
        on_error: Callable[[exc.EtcdException], object] | None = None,
    ) -> AsyncWatch:
        with self._condition:
            if self._closed:
                raise exc.EtcdClientClosed("the client is closed")
            watch = AsyncWatch(self, next(self._ids), spec, callback, on_error)
            self._watches[watch.id] = watch
            self._stream.start()
            if self._requests is not None:
                self._requests.put(watch._cursor.create_request(watch.id))
        if watch._callbacks is not None:
            watch._callback_worker = spawn(
                watch._run_callbacks, *watch._callbacks, name=f"etcd-watch-{watch.id}-callbacks"
            )
        return watch

    def cancel(self, watch: AsyncWatch) -> None:
        with self._condition:
            if self._watches.pop(watch.id, None) is None:
                return
            if self._requests is not None:
                self._requests.put(cancel_request(watch.id))
            if not self._watches:
                self._stream.cut_idle()
        watch._end()

    def request_progress(self) -> None:
        """Ask the server for a progress notification on every watch of the stream."""
        with self._condition:
            if self._requests is not None:
                self._requests.put(progress_request())

    async def close(self) -> None:
        with self._condition:
            self._closed = True
            watches = list(self._watches.values())
            self._watches.clear()
        for watch in watches:
            watch._end(exc.EtcdClientClosed("the client was closed while watching"))
        await self._stream.close()

    # --- served to the stream supervisor ------------------------------------------------------

    def has_work(self) -> bool:
        return not self._closed and bool(self._watches)

    def requests_for_new_stream(self) -> AsyncIterator[Any]:
        # Every watch is created again from its cursor: no event is lost or repeated.
        requests: Queue[Any] = Queue()
        events = self._transport.events
        for watch in self._watches.values():
            if watch._cursor.created:
                revision = watch._cursor.next_revision
                # Checked first: a stream may carry thousands of watches.
                if log.isEnabledFor(logging.DEBUG):
                    log.debug(
                        "watch %d on %s resumes from revision %d",
                        watch.id,
                        watch.spec.describe(),
                        revision,
                        extra=log_fields(watch_id=watch.id, key=watch.spec.key, revision=revision),
                    )
                if events.active:
                    events.emit(WatchResumed(watch.id, revision))
            requests.put(watch._cursor.create_request(watch.id))
        self._requests = requests
        return _drain(requests)

    def stream_opened(self, call: Any) -> None:
        self.streams_opened += 1
        self._liveness = self._fresh_liveness()
        spawn(self._watch_liveness, call, self._liveness, name="etcd-watch-liveness")

    def on_message(self, message: Any, endpoint: Endpoint) -> None:
        self._liveness.heard(time.monotonic())
        with self._condition:
            if message.watch_id == BROADCAST_WATCH_ID:
                targets = list(self._watches.values())
            else:
                watch = self._watches.get(message.watch_id)
                targets = [watch] if watch is not None else []
        reliable = broadcast_progress_is_reliable(self._transport.server_version(endpoint))
        for watch in targets:
            outcome = watch._cursor.on_response(
                message, endpoint=str(endpoint), reliable_broadcast=reliable
            )
            self._apply(watch, outcome)

    def stream_closed(self) -> None:
        with self._condition:
            if self._requests is not None:
                self._requests.put(_STOP)
                self._requests = None

    def fail_all(self, error: exc.EtcdException) -> None:
        with self._condition:
            watches = list(self._watches.values())
            self._watches.clear()
        for watch in watches:
            watch._end(error)

    # --- the stream's messages and liveness ---------------------------------------------------

    def _apply(self, watch: AsyncWatch, outcome: Outcome) -> None:
        """Act on what ``watch``'s cursor made of a message."""
        if watch._cursor.created and not watch._created.is_set():
            watch._relogged = False
            watch._created.set()
        if outcome.kind is OutcomeKind.DELIVER:
            assert outcome.response is not None
            watch._deliver(outcome.response)
            if self._transport.events.active:
                self._transport.events.emit(WatchDelivered(watch.id, len(outcome.response.events)))
        elif outcome.kind is OutcomeKind.CREATED:
            watch._relogged = False
            watch._created.set()
        elif outcome.kind is OutcomeKind.FAILED:
            assert outcome.error is not None
            if isinstance(outcome.error, exc.EtcdCompacted) and self._transport.events.active:
                self._transport.events.emit(
                    WatchCompacted(
                        watch.id,
                        watch._cursor.next_revision,
                        outcome.error.compact_revision or 0,
                    )
                )
            if self._may_be_a_stale_token(watch, outcome.error):
                # A watch created on a stream whose token expired is refused as
                # "permission denied": log in again once before believing it.
                watch._relogged = True
                raise Reopen(
                    "permission denied; logging in again in case the token expired",
                    stale_token=True,
                )
            with self._condition:
                self._watches.pop(watch.id, None)
                if not self._watches:
                    self._stream.cut_idle()
            watch._end(outcome.error)
        elif outcome.kind is OutcomeKind.RESUME:
            assert outcome.error is not None
            raise Reopen(str(outcome.error), stale_token=token_may_be_stale(outcome.error))

    def _may_be_a_stale_token(self, watch: AsyncWatch, error: exc.EtcdException) -> bool:
        return (
            isinstance(error, exc.EtcdPermissionDenied)
            and bool(self._transport.config.username)
            and not watch._relogged
        )

    def _fresh_liveness(self) -> StreamLiveness:
        config = self._transport.config
        return StreamLiveness(config.keepalive_time, config.keepalive_timeout, time.monotonic())

    async def _watch_liveness(self, call: Any, liveness: StreamLiveness) -> None:
        """Probe an idle stream, and cut it when its member stopped answering."""
        while is_active(call) and not self._closed:
            await sleep(min(1.0, liveness.interval / 4))
            verdict = liveness.check(time.monotonic())
            if verdict == "probe":
                self.request_progress()
            elif verdict == "dead":
                log.warning(
                    "watch stream: no answer for %.0f s; reopening",
                    liveness.grace,
                    extra=log_fields(stream="watch stream", duration=liveness.grace),
                )
                with self._condition:
                    if is_active(call):
                        self._stream.cut_stalled("the member stopped answering")
                return


async def _drain(requests: Queue[Any]) -> AsyncIterator[Any]:
    """The request side of the stream: whatever is queued, until told to stop."""
    while True:
        item = await requests.get()
        if item is _STOP:
            return
        yield item
