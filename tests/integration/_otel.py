"""OpenTelemetry's SDK with in-memory exporters, and readers of what it recorded.

Imported by the OpenTelemetry test modules after their ``pytest.importorskip``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter


class Telemetry:
    """A tracer provider and a meter provider of their own, kept in memory."""

    def __init__(self, tracer_provider: TracerProvider | None = None) -> None:
        self.exporter = InMemorySpanExporter()
        self.tracer_provider = tracer_provider or TracerProvider()
        self.tracer_provider.add_span_processor(SimpleSpanProcessor(self.exporter))
        self.reader = InMemoryMetricReader()
        self.meter_provider = MeterProvider(metric_readers=[self.reader])

    @property
    def spans(self) -> list[ReadableSpan]:
        return sorted(self.exporter.get_finished_spans(), key=lambda span: span.start_time or 0)

    def named(self, name: str) -> list[ReadableSpan]:
        return [span for span in self.spans if span.name == name]

    def children(self, parent: ReadableSpan) -> list[ReadableSpan]:
        span_id = parent.context.span_id
        return [span for span in self.spans if span.parent and span.parent.span_id == span_id]

    def points(self, metric: str) -> list[Any]:
        """The data points of one metric (empty when it recorded nothing)."""
        data = self.reader.get_metrics_data()
        if data is None:
            return []
        return [
            point
            for resource in data.resource_metrics
            for scope in resource.scope_metrics
            for found in scope.metrics
            if found.name == metric
            for point in found.data.data_points
        ]

    def total(self, metric: str) -> float:
        """The sum of a counter, or the count of a histogram, over all its attributes."""
        return float(
            sum(getattr(point, "count", None) or point.value for point in self.points(metric))
        )

    def every_attribute_value(self) -> Iterator[str]:
        """Every attribute value, span name and status text recorded, as text."""
        for span in self.exporter.get_finished_spans():
            yield span.name
            yield span.status.description or ""
            yield from map(str, (span.attributes or {}).values())
            for event in span.events:
                yield event.name
                yield from map(str, (event.attributes or {}).values())
        data = self.reader.get_metrics_data()
        for resource in data.resource_metrics if data else ():
            for scope in resource.scope_metrics:
                for metric in scope.metrics:
                    for point in metric.data.data_points:
                        yield from map(str, point.attributes.values())


def tree(spans: list[ReadableSpan]) -> str:
    """The spans as an indented tree, with their durations and main attributes."""
    by_id = {span.context.span_id: span for span in spans}
    children: dict[int | None, list[ReadableSpan]] = {}
    for span in sorted(spans, key=lambda span: span.start_time or 0):
        parent = span.parent.span_id if span.parent and span.parent.span_id in by_id else None
        children.setdefault(parent, []).append(span)
    lines: list[str] = []

    def show(span: ReadableSpan, depth: int) -> None:
        milliseconds = ((span.end_time or 0) - (span.start_time or 0)) / 1e6
        shown = {
            key: value
            for key, value in (span.attributes or {}).items()
            if key not in ("db.system.name", "db.operation.name")
        }
        status = " ERROR" if span.status.status_code.name == "ERROR" else ""
        lines.append(f"{'  ' * depth}{span.name} {milliseconds:.1f} ms{status} {shown}")
        for event in span.events:
            lines.append(f"{'  ' * (depth + 1)}* {event.name} {dict(event.attributes or {})}")
        for child in children.get(span.context.span_id, []):
            show(child, depth + 1)

    for root in children.get(None, []):
        show(root, 0)
    return "\n".join(lines)
