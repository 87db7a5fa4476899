"""etcd.otel fed events by hand: spans current while their operation runs, removal
that waits for the operations under way, and the server attributes of an endpoint."""

import pytest

pytest.importorskip(
    "opentelemetry.sdk", reason="OpenTelemetry's SDK is not installed (pip install -e '.[test]')"
)

from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import etcd.otel
from etcd._core.event_hub import EventHub
from etcd.events import OperationEnded, OperationStarted, Retry


class EventSource:
    """What instrument() needs of a client: somewhere to add and remove listeners."""

    def __init__(self):
        self.hub = EventHub()

    def add_event_listener(self, listener, *, inline=False):
        self.hub.add(listener, inline=inline)

    def remove_event_listener(self, listener):
        self.hub.remove(listener)


@pytest.fixture
def exporter():
    return InMemorySpanExporter()


@pytest.fixture
def provider(exporter):
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider


def test_the_span_is_current_between_start_and_end(provider, exporter):
    source = EventSource()
    etcd.otel.instrument(source, tracer_provider=provider)
    before = trace.get_current_span()
    source.hub.emit(OperationStarted(1, "call", "KV.Range", b"/k"))
    current = trace.get_current_span()
    assert current is not before and current.is_recording()
    source.hub.emit(OperationEnded(1, "call", "KV.Range", 0.01, endpoint="[::1]:2379"))
    assert trace.get_current_span() is before
    (span,) = exporter.get_finished_spans()
    assert span.attributes["server.address"] == "::1"
    assert span.attributes["server.port"] == 2379
    assert "etcd.key" not in span.attributes


def test_removal_waits_for_the_operations_under_way(provider, exporter):
    source = EventSource()
    telemetry = etcd.otel.instrument(source, tracer_provider=provider)
    source.hub.emit(OperationStarted(1, "call", "KV.Put"))
    telemetry.remove()
    assert source.hub.active  # still listening, for the end of operation 1
    source.hub.emit(OperationStarted(2, "call", "KV.Range"))  # after removal: not traced
    source.hub.emit(Retry(1, "KV.Put", "127.0.0.1:2379", 1, "UNAVAILABLE", "E", 0.01))
    source.hub.emit(OperationEnded(2, "call", "KV.Range", 0.01))
    source.hub.emit(OperationEnded(1, "call", "KV.Put", 0.02))
    assert not source.hub.active
    assert sorted(span.name for span in exporter.get_finished_spans()) == ["KV.Put", "retry"]
    assert not trace.get_current_span().is_recording()


def test_an_end_without_a_start_is_ignored(provider, exporter):
    source = EventSource()
    etcd.otel.instrument(source, tracer_provider=provider)
    source.hub.emit(OperationEnded(7, "call", "KV.Put", 0.02, error_type="EtcdUnavailable"))
    assert exporter.get_finished_spans() == ()
