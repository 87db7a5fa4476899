"""OpenTelemetry traces and metrics of a client's logical operations.

Install the extra (``pip install 'etcd-client[otel]'``, which brings OpenTelemetry's API;
the application picks the SDK and its exporters), then::

    import etcd
    import etcd.otel

    client = etcd.Client(endpoints=[...])
    telemetry = etcd.otel.instrument(client)  # the global providers, unless given
    ...
    telemetry.remove()

Everything here is a listener of the client's events (:mod:`etcd.events`), called inline
so that a call's span is the current span while its RPCs run: the spans of gRPC's own
instrumentation (``opentelemetry-instrumentation-grpc``) nest under it. Importing this
module imports nothing of OpenTelemetry; :func:`instrument` does.

No value, password or token is ever an attribute. Keys are recorded only with
``record_keys=True``, as ``etcd.key``: keys can be sensitive (user names, tenant names).
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

from ._core.events import (
    CoalescedBatch,
    EndpointsChanged,
    Failover,
    KeepAliveAnswered,
    LeaseLost,
    OperationEnded,
    OperationStarted,
    Reauthenticated,
    Retry,
    StmRetry,
    WatchCompacted,
    WatchDelivered,
    WatchResumed,
)
from ._version import __version__

if TYPE_CHECKING:
    from contextvars import Token
    from types import TracebackType

    from opentelemetry.context import Context
    from opentelemetry.metrics import MeterProvider
    from opentelemetry.trace import Span, TracerProvider
    from opentelemetry.util.types import AttributeValue

__all__ = ["Instrumentation", "instrument"]

#: The instrumentation scope of the tracer and the meter.
SCOPE = "etcd"

#: The boundaries OpenTelemetry's database conventions advise for operation durations.
_DURATION_BUCKETS = (0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0)
_BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256)


class _Instrumentable(Protocol):
    def add_event_listener(self, listener: Callable[[Any], object], *, inline: bool) -> None: ...

    def remove_event_listener(self, listener: Callable[[Any], object]) -> None: ...


def instrument(
    client: _Instrumentable,
    *,
    tracer_provider: TracerProvider | None = None,
    meter_provider: MeterProvider | None = None,
    record_keys: bool = False,
) -> Instrumentation:
    """Trace and measure ``client`` (an :class:`etcd.Client` or :class:`etcd.AsyncClient`)
    until the returned handle is removed (``.remove()``, or the end of a ``with`` block).

    ``tracer_provider`` and ``meter_provider`` default to OpenTelemetry's global ones.
    ``record_keys=True`` adds each call's key as the ``etcd.key`` attribute.
    """
    try:
        import opentelemetry.trace  # noqa: F401
    except ImportError as error:
        raise ImportError(
            "etcd.otel needs OpenTelemetry's API: pip install 'etcd-client[otel]'"
        ) from error
    return Instrumentation(client, tracer_provider, meter_provider, record_keys=record_keys)


class _Open(NamedTuple):
    """A started operation: its span, the context token that made it current, and the
    attributes its in-flight count was taken with."""

    span: Span
    token: Token[Context]
    in_flight: Mapping[str, AttributeValue] | None


class Instrumentation:
    """The spans and metrics of one client; made by :func:`instrument`."""

    def __init__(
        self,
        client: _Instrumentable,
        tracer_provider: TracerProvider | None,
        meter_provider: MeterProvider | None,
        *,
        record_keys: bool,
    ) -> None:
        from opentelemetry import context, metrics, trace

        self._context = context
        self._trace = trace
        self._tracer = trace.get_tracer(SCOPE, __version__, tracer_provider)
        self._instruments = _Instruments(metrics.get_meter(SCOPE, __version__, meter_provider))
        self._record_keys = bool(record_keys)
        self._client = client
        self._open: dict[int, _Open] = {}
        self._removing = False
        self._listening = True
        self._lock = threading.Lock()
        handlers: dict[type, Callable[[Any], None]] = {
            OperationStarted: self._started,
            OperationEnded: self._ended,
            Retry: self._retry,
            Failover: self._failover,
            Reauthenticated: self._reauthenticated,
            EndpointsChanged: self._endpoints_changed,
            WatchResumed: self._watch_resumed,
            WatchCompacted: self._watch_compacted,
            WatchDelivered: self._watch_delivered,
            KeepAliveAnswered: self._keep_alive_answered,
            LeaseLost: self._lease_lost,
            CoalescedBatch: self._coalesced_batch,
            StmRetry: self._stm_retry,
        }
        self._handlers = handlers
        # One bound method, kept: the client removes a listener by identity.
        self._listener = self._on_event
        client.add_event_listener(self._listener, inline=True)

    # --- the handle ---------------------------------------------------------------------

    def remove(self) -> None:
        """Stop tracing and measuring. Operations under way still end their spans (a
        span left current would become the parent of unrelated work); nothing new is
        started."""
        with self._lock:
            self._removing = True
            idle = not self._open
        if idle:
            self._stop_listening()

    def __enter__(self) -> Instrumentation:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.remove()

    def _stop_listening(self) -> None:
        with self._lock:
            if not self._listening:
                return
            self._listening = False
        self._client.remove_event_listener(self._listener)

    # --- events -------------------------------------------------------------------------

    def _on_event(self, event: object) -> None:
        handler = self._handlers.get(type(event))
        if handler is not None:
            handler(event)

    def _started(self, event: OperationStarted) -> None:
        if self._removing:
            return
        is_call = event.kind == "call"
        attributes: dict[str, AttributeValue] = {"db.system.name": "etcd"}
        if is_call:
            attributes["db.operation.name"] = event.name
        attributes.update(event.attributes)
        if self._record_keys and event.key is not None:
            attributes["etcd.key"] = event.key.decode("utf-8", "backslashreplace")
        kind = self._trace.SpanKind.CLIENT if is_call else self._trace.SpanKind.INTERNAL
        span = self._tracer.start_span(event.name, kind=kind, attributes=attributes)
        # Current until the operation ends, in its thread or task: the spans of its RPCs
        # (gRPC's instrumentation) and of its inner calls become its children.
        token = self._context.attach(self._trace.set_span_in_context(span))
        in_flight = None
        if is_call:
            in_flight = {"db.system.name": "etcd", "db.operation.name": event.name}
            self._instruments.in_flight.add(1, in_flight)
        self._open[event.id] = _Open(span, token, in_flight)

    def _ended(self, event: OperationEnded) -> None:
        opened = self._open.pop(event.id, None)
        if opened is None:
            return  # started before this instrumentation, or while it was being removed
        self._context.detach(opened.token)
        span = opened.span
        server = _server_attributes(event.endpoint)
        # One update of the span: each call of the SDK takes its lock and checks values.
        attributes: dict[str, AttributeValue] = {**server, **event.attributes}
        is_call = event.kind == "call"
        if is_call:
            attributes["etcd.attempts"] = event.attempts
        measured: dict[str, AttributeValue] = {"db.system.name": "etcd"}
        if event.error_type is not None:
            attributes["error.type"] = measured["error.type"] = event.error_type
            if event.code is not None:
                attributes["db.response.status_code"] = event.code
            # The type only: an error's message may name a key.
            span.set_status(self._trace.Status(self._trace.StatusCode.ERROR, event.error_type))
        span.set_attributes(attributes)
        span.end()
        if is_call:
            measured["db.operation.name"] = event.name
            measured.update(server)
            self._instruments.call_duration.record(event.duration, measured)
        else:
            measured["etcd.operation.kind"] = event.kind
            self._instruments.operation_duration.record(event.duration, measured)
        if opened.in_flight is not None:
            self._instruments.in_flight.add(-1, opened.in_flight)
        if self._removing and not self._open:
            self._stop_listening()

    def _retry(self, event: Retry) -> None:
        self._instruments.retries.add(
            1,
            {
                "db.system.name": "etcd",
                "db.operation.name": event.name,
                "db.response.status_code": event.code,
            },
        )
        opened = self._open.get(event.operation_id)
        if opened is None:
            return
        # The event comes after the back-off: the span covers that pause.
        ended = time.time_ns()
        span = self._tracer.start_span(
            "retry",
            context=self._trace.set_span_in_context(opened.span),
            start_time=ended - int(event.delay * 1e9),
            attributes={
                "db.system.name": "etcd",
                "db.operation.name": event.name,
                "etcd.retry.attempt": event.attempt,
                "etcd.retry.delay": event.delay,
                "db.response.status_code": event.code,
                "error.type": event.error_type,
                **_server_attributes(event.endpoint),
            },
        )
        span.set_status(self._trace.Status(self._trace.StatusCode.ERROR, event.error_type))
        span.end(end_time=ended)

    def _failover(self, event: Failover) -> None:
        self._instruments.failovers.add(
            1, {"db.system.name": "etcd", "db.response.status_code": event.code}
        )
        attributes = {
            "etcd.failover.from": event.from_endpoint,
            "etcd.failover.to": event.to_endpoint,
            "db.response.status_code": event.code,
        }
        opened = None if event.operation_id is None else self._open.get(event.operation_id)
        if opened is not None:
            opened.span.add_event("failover", attributes)
        else:
            self._standalone_span("failover", attributes)

    def _reauthenticated(self, event: Reauthenticated) -> None:
        self._instruments.reauthentications.add(1, {"db.system.name": "etcd"})
        # Emitted inside the call whose token was refused, so that call's span is current.
        current = self._trace.get_current_span()
        if current.is_recording():
            current.add_event("reauthenticated", _server_attributes(event.endpoint))

    def _endpoints_changed(self, event: EndpointsChanged) -> None:
        self._instruments.endpoint_changes.add(1, {"db.system.name": "etcd"})

    def _watch_resumed(self, event: WatchResumed) -> None:
        self._instruments.watch_resumes.add(1, {"db.system.name": "etcd"})
        self._standalone_span(
            "watch.resume", {"etcd.watch.id": event.watch_id, "etcd.watch.revision": event.revision}
        )

    def _watch_compacted(self, event: WatchCompacted) -> None:
        self._instruments.watch_compactions.add(1, {"db.system.name": "etcd"})
        self._standalone_span(
            "watch.compacted",
            {
                "etcd.watch.id": event.watch_id,
                "etcd.watch.revision": event.revision,
                "etcd.watch.compact_revision": event.compact_revision,
            },
            error_type="EtcdCompacted",
        )

    def _watch_delivered(self, event: WatchDelivered) -> None:
        self._instruments.watch_events.add(event.events, {"db.system.name": "etcd"})

    def _keep_alive_answered(self, event: KeepAliveAnswered) -> None:
        self._instruments.keep_alive_round_trip.record(
            event.round_trip, {"db.system.name": "etcd", **_server_attributes(event.endpoint)}
        )

    def _lease_lost(self, event: LeaseLost) -> None:
        self._instruments.leases_lost.add(1, {"db.system.name": "etcd"})
        self._standalone_span(
            "lease.lost",
            {"etcd.lease.id": event.lease_id, "etcd.lease.lost_reason": event.reason},
            error_type="EtcdLeaseExpired",
        )

    def _coalesced_batch(self, event: CoalescedBatch) -> None:
        self._instruments.batch_size.record(
            event.size, {"db.system.name": "etcd", "etcd.coalesce.kind": event.kind}
        )

    def _stm_retry(self, event: StmRetry) -> None:
        self._instruments.stm_retries.add(1, {"db.system.name": "etcd"})
        opened = self._open.get(event.operation_id)
        if opened is not None:
            opened.span.add_event("stm.retry", {"etcd.stm.attempt": event.attempt})

    def _standalone_span(
        self,
        name: str,
        attributes: Mapping[str, AttributeValue],
        *,
        error_type: str | None = None,
    ) -> None:
        """A span of its own trace, for what happens in the client's background work (a
        stream, a keep-alive): the context there is whatever was current when that work
        began, often an operation long finished."""
        span = self._tracer.start_span(
            name,
            context=self._empty_context(),
            kind=self._trace.SpanKind.INTERNAL,
            attributes={"db.system.name": "etcd", **attributes},
        )
        if error_type is not None:
            span.set_attribute("error.type", error_type)
            span.set_status(self._trace.Status(self._trace.StatusCode.ERROR, error_type))
        span.end()

    def _empty_context(self) -> Context:
        return self._context.Context()


#: The counters: attribute of :class:`_Instruments`, name, unit and description.
_COUNTERS = (
    ("retries", "etcd.client.retries", "{retry}", "Calls sent again after a failure"),
    ("failovers", "etcd.client.failovers", "{failover}", "Moves from one member to another"),
    (
        "reauthentications",
        "etcd.client.reauthentications",
        "{login}",
        "Logins again after a token was refused as expired or stale",
    ),
    (
        "endpoint_changes",
        "etcd.client.endpoint.changes",
        "{change}",
        "Changes of the endpoint list (endpoint syncs, discoveries)",
    ),
    (
        "watch_resumes",
        "etcd.client.watch.resumes",
        "{watch}",
        "Watches created again on a new stream",
    ),
    (
        "watch_compactions",
        "etcd.client.watch.compactions",
        "{watch}",
        "Watches that could not resume: their history was compacted",
    ),
    ("watch_events", "etcd.client.watch.events", "{event}", "Events watches delivered"),
    ("leases_lost", "etcd.client.lease.lost", "{lease}", "Leases kept alive and lost"),
    ("stm_retries", "etcd.client.stm.retries", "{retry}", "STM runs repeated after a conflict"),
)


class _Instruments:
    """The metric instruments, made once per instrumentation (the meter hands back the
    same instrument for the same name)."""

    retries: Any
    failovers: Any
    reauthentications: Any
    endpoint_changes: Any
    watch_resumes: Any
    watch_compactions: Any
    watch_events: Any
    leases_lost: Any
    stm_retries: Any

    def __init__(self, meter: Any) -> None:
        for attribute, name, unit, description in _COUNTERS:
            setattr(self, attribute, meter.create_counter(name, unit, description))
        self.in_flight = meter.create_up_down_counter(
            "etcd.client.calls.in_flight", unit="{call}", description="Calls under way"
        )
        self.call_duration = meter.create_histogram(
            "db.client.operation.duration",
            unit="s",
            description="Duration of etcd calls, with their retries",
            explicit_bucket_boundaries_advisory=_DURATION_BUCKETS,
        )
        self.operation_duration = meter.create_histogram(
            "etcd.client.operation.duration",
            unit="s",
            description="Duration of lock acquires, election campaigns and STM runs",
            explicit_bucket_boundaries_advisory=_DURATION_BUCKETS,
        )
        self.keep_alive_round_trip = meter.create_histogram(
            "etcd.client.lease.keepalive.duration",
            unit="s",
            description="Round trip of lease keep-alive requests",
            explicit_bucket_boundaries_advisory=_DURATION_BUCKETS,
        )
        self.batch_size = meter.create_histogram(
            "etcd.client.coalesce.batch.size",
            unit="{request}",
            description="Callers' requests sent together as one transaction",
            explicit_bucket_boundaries_advisory=_BATCH_BUCKETS,
        )


@functools.lru_cache(maxsize=256)
def _server_attributes(endpoint: str | None) -> Mapping[str, AttributeValue]:
    """``server.address`` and ``server.port`` of a ``host:port`` endpoint (kept: a
    client talks to a handful of members, and every call ends on one)."""
    if not endpoint:
        return {}
    host, colon, port = endpoint.rpartition(":")
    if not colon or not port.isdigit():
        return {"server.address": endpoint}
    return {"server.address": host.strip("[]"), "server.port": int(port)}
