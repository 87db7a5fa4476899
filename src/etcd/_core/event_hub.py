"""A client's listeners and the delivery of its events (:mod:`etcd._core.events` holds
the events themselves).

The event types are imported when the first one is made, which is never for a client
without listeners: making a client, or a program that never listens, does not build them.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeAlias

from .. import _core
from .exceptions import EtcdException
from .log_fields import log_fields

if TYPE_CHECKING:
    import queue

log = logging.getLogger("etcd.events")

Listener: TypeAlias = Callable[[Any], object]

# Events wait here for the listeners that are called off the client's own path.
_QUEUE_SIZE = 10_000
_STOP = object()


class EventHub:
    """A client's listeners, and the delivery of events to them.

    Inline listeners are called where the event happens, in the thread or task of the
    operation (what tracing needs, to nest its spans); they must be quick. The others are
    called in order on a thread of their own, so that a slow one never delays the
    client; if they fall 10,000 events behind, newer events are dropped and counted in
    :attr:`dropped`. A listener that raises is logged (on ``etcd.events``) and kept.
    """

    def __init__(self) -> None:
        self.active = False
        """Whether anyone listens: the client checks it before making an event."""
        self._inline: tuple[Listener, ...] = ()
        self._queued: tuple[Listener, ...] = ()
        self._queue: queue.Queue[Any] | None = None
        self._queue_full: type[Exception] = Exception  # queue.Full, once there is a queue
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._complained: set[int] = set()
        self.dropped = 0
        """Events not delivered to the queued listeners because they fell behind."""

    def add(self, listener: Listener, *, inline: bool = False) -> None:
        if not callable(listener):
            from .exceptions import EtcdTypeError

            raise EtcdTypeError("an event listener is a function of one event")
        with self._lock:
            if inline:
                self._inline = (*self._inline, listener)
            else:
                self._queued = (*self._queued, listener)
                self._start_thread()
            self.active = True

    def remove(self, listener: Listener) -> None:
        with self._lock:
            self._inline = tuple(x for x in self._inline if x is not listener)
            self._queued = tuple(x for x in self._queued if x is not listener)
            self.active = bool(self._inline or self._queued)

    def next_id(self) -> int:
        return next(self._ids)

    def emit(self, event: Any) -> None:
        for listener in self._inline:
            self._call(listener, event)
        if self._queued and self._queue is not None:
            try:
                self._queue.put_nowait(event)
            except self._queue_full:
                self.dropped += 1
                if self.dropped in (1, 1000) or self.dropped % 100_000 == 0:
                    log.warning(
                        "event listeners fell behind: %d events dropped so far",
                        self.dropped,
                        extra=log_fields(count=self.dropped),
                    )

    def close(self) -> None:
        """Deliver what is queued, then stop the delivery thread."""
        with self._lock:
            thread, self._thread = self._thread, None
            if self._queue is not None:
                self._queue.put(_STOP)
        if thread is not None and thread is not threading.current_thread():
            thread.join(5)

    def _start_thread(self) -> None:
        if self._thread is None:
            import queue  # only clients with a listener of their own thread need it

            self._queue = queue.Queue(_QUEUE_SIZE)
            self._queue_full = queue.Full
            self._thread = threading.Thread(
                target=self._deliver, args=(self._queue,), name="etcd-events", daemon=True
            )
            self._thread.start()

    def _deliver(self, events: queue.Queue[Any]) -> None:
        while (event := events.get()) is not _STOP:
            for listener in self._queued:
                self._call(listener, event)

    def _call(self, listener: Listener, event: Any) -> None:
        try:
            listener(event)
        except Exception:
            # Logged with its traceback once per listener, then counted quietly: a
            # listener that fails on every event must not flood the log.
            if id(listener) not in self._complained:
                self._complained.add(id(listener))
                log.exception("event listener %r raised (reported once)", listener)


def hub_of(client: object) -> EventHub | None:
    """The event hub of a client, or of the client under a view of it (a namespace)."""
    for _ in range(4):
        transport = getattr(client, "_transport", None)
        if transport is not None:
            hub = getattr(transport, "events", None)
            return hub if isinstance(hub, EventHub) else None
        client = getattr(client, "_client", None)
        if client is None:
            return None
    return None


class Operation:
    """Times one logical operation and reports its start and end to ``hub``, when
    anyone listens (``with Operation(...) as operation:``, or ``start``/``end``)."""

    __slots__ = ("_hub", "_started", "attempts", "attributes", "endpoint", "id", "kind", "name")

    def __init__(
        self,
        hub: EventHub,
        kind: str,
        name: str,
        *,
        key: bytes | None = None,
        attributes: Mapping[str, int | float | str] | None = None,
    ) -> None:
        self._hub = hub
        self.kind = kind
        self.name = name
        self.id = hub.next_id()
        self.attributes: dict[str, int | float | str] = dict(attributes or {})
        self.endpoint: str | None = None
        self.attempts = 1
        self._started = time.monotonic()
        hub.emit(_core.events.OperationStarted(self.id, kind, name, key, dict(self.attributes)))

    def end(self, error: BaseException | None = None) -> None:
        self._hub.emit(
            _core.events.OperationEnded(
                self.id,
                self.kind,
                self.name,
                time.monotonic() - self._started,
                None if error is None else type(error).__name__,
                self.endpoint,
                self.attempts,
                self.attributes,
                error.code if isinstance(error, EtcdException) else None,
            )
        )

    def __enter__(self) -> Operation:
        return self

    def __exit__(self, exc_type: Any, exc_value: BaseException | None, traceback: Any) -> None:
        self.end(exc_value)
