"""Prometheus metrics of a client, built on its event hook, against a throwaway etcd.

A listener given to ``client.add_event_listener`` turns the client's typed events
(:mod:`etcd.events`) into ``prometheus-client`` metrics: call durations per method and
outcome, calls in flight, retries, fail-overs, logins again, watch resumes, compactions
and events, keep-alive round trips, lost leases and coalesced batch sizes. It runs on the
client's event thread (the default), so it never slows a call down.

The script starts an etcd server of its own (on 127.0.0.1, with free ports, removed
afterwards), makes a few calls, a watch and a lease, then prints the metrics as
Prometheus would scrape them. A service would instead serve them::

    prometheus_client.start_http_server(9100, registry=registry)

Run it with ``python examples/prometheus_metrics.py``; it needs an etcd binary (the
``server`` extra installs one) and ``prometheus-client``.
"""

from __future__ import annotations

import contextlib
import time

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

import etcd
from etcd.events import (
    ClientEvent,
    CoalescedBatch,
    Failover,
    KeepAliveAnswered,
    LeaseLost,
    OperationEnded,
    OperationStarted,
    Reauthenticated,
    Retry,
    WatchCompacted,
    WatchDelivered,
    WatchResumed,
)
from etcd.testing import EtcdServer


class PrometheusMetrics:
    """An event listener that keeps a client's metrics in ``registry``."""

    def __init__(self, registry: CollectorRegistry) -> None:
        def counter(name: str, text: str, labels: tuple[str, ...] = ()) -> Counter:
            return Counter(name, text, labels, registry=registry)

        self.call_seconds = Histogram(
            "etcd_client_call_duration_seconds",
            "etcd calls, with their retries, by method and outcome",
            ("method", "outcome"),
            registry=registry,
        )
        self.in_flight = Gauge(
            "etcd_client_calls_in_flight", "Calls under way", ("method",), registry=registry
        )
        self.retries = counter("etcd_client_retries", "Calls sent again", ("method", "code"))
        self.failovers = counter("etcd_client_failovers", "Moves to another member", ("code",))
        self.logins = counter("etcd_client_reauthentications", "Logins again after a token expired")
        self.resumes = counter("etcd_client_watch_resumes", "Watches created again on a new stream")
        self.compactions = counter("etcd_client_watch_compactions", "Watches past compaction")
        self.events = counter("etcd_client_watch_events", "Events delivered by watches")
        self.keep_alive_seconds = Histogram(
            "etcd_client_keepalive_round_trip_seconds",
            "Round trip of lease keep-alives",
            registry=registry,
        )
        self.leases_lost = counter("etcd_client_leases_lost", "Leases kept alive and lost")
        self.batch_sizes = Histogram(
            "etcd_client_coalesced_batch_size",
            "Calls sent together as one transaction",
            ("kind",),
            buckets=(1, 2, 4, 8, 16, 32, 64, 128),
            registry=registry,
        )

    def __call__(self, event: ClientEvent) -> None:
        match event:
            case OperationStarted(kind="call", name=name):
                self.in_flight.labels(name).inc()
            case OperationEnded(kind="call", name=name, duration=duration, error_type=error):
                self.in_flight.labels(name).dec()
                self.call_seconds.labels(name, error or "ok").observe(duration)
            case Retry(name=name, code=code):
                self.retries.labels(name, code).inc()
            case Failover(code=code):
                self.failovers.labels(code).inc()
            case Reauthenticated():
                self.logins.inc()
            case WatchResumed():
                self.resumes.inc()
            case WatchCompacted():
                self.compactions.inc()
            case WatchDelivered(events=count):
                self.events.inc(count)
            case KeepAliveAnswered(round_trip=seconds):
                self.keep_alive_seconds.observe(seconds)
            case LeaseLost():
                self.leases_lost.inc()
            case CoalescedBatch(kind=kind, size=size):
                self.batch_sizes.labels(kind).observe(size)


def exercise(client: etcd.Client) -> None:
    """Calls (one of them failing), a watch of two changes, and a lease kept alive."""
    start = client.put("/example/config/color", "blue").header.revision
    client.put("/example/config/size", "large")
    client.range("/example/config/", prefix=True)
    with contextlib.suppress(etcd.EtcdLeaseNotFound):  # counted with that outcome
        client.lease_revoke(0x1234)
    watch = client.watch_stream("/example/config/", prefix=True, start_revision=start)
    try:
        delivered = 0
        while delivered < 2:
            delivered += len(watch.next_response(10).events)
    finally:
        watch.cancel()
    with client.lease(ttl=3):
        time.sleep(1.5)  # the first keep-alive goes out after a third of the TTL


def main() -> None:
    registry = CollectorRegistry()
    with EtcdServer() as server, etcd.Client(endpoints=[server.endpoint]) as client:
        client.add_event_listener(PrometheusMetrics(registry))
        exercise(client)
    # Closing the client delivered the events still queued for the listener. The
    # histograms' buckets are left out of the printout, to keep it short.
    for line in generate_latest(registry).decode().splitlines():
        if line.startswith("etcd_client_") and not line.split("{")[0].endswith(
            ("_bucket", "_created")
        ):
            print(line)


if __name__ == "__main__":
    main()
