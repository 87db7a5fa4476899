"""opentelemetry-instrumentation-grpc on etcd.Client. Its sync interceptor is not one
of grpcio's interceptor classes (it has an interface of its own, applied by its own
channel wrapper), so ``interceptors=`` refuses it; its instrumentor patches
``grpc.insecure_channel`` and ``grpc.secure_channel``, which the client calls for each
member, and so sees every RPC, with two limits documented on the Observability page:
spans go to the global tracer provider, and a snapshot needs a filter."""

import pytest

pytest.importorskip(
    "opentelemetry.instrumentation.grpc",
    reason="opentelemetry-instrumentation-grpc is not installed (pip install -e '.[test]')",
)

from opentelemetry import trace
from opentelemetry.instrumentation.grpc import (
    GrpcInstrumentorClient,
    client_interceptor,
    filters,
)
from opentelemetry.sdk.trace import TracerProvider

import etcd
import etcd.otel

from ._otel import Telemetry

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def global_tracer_provider():
    """The instrumentor's interceptor takes the global provider, whatever ``instrument()``
    is given: set it once for this process (OpenTelemetry allows no second time)."""
    provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):
        provider = TracerProvider()
        trace.set_tracer_provider(provider)
    return provider


@pytest.fixture
def instrumentor():
    made = []

    def instrument(**options):
        instance = GrpcInstrumentorClient(**options)
        instance.instrument()
        made.append(instance)

    yield instrument
    for instance in made:
        if instance.is_instrumented_by_opentelemetry:
            instance.uninstrument()


def test_its_sync_interceptor_is_refused_with_the_reason(etcd_server):
    with pytest.raises(etcd.EtcdTypeError, match="grpcio client interceptors"):
        etcd.Client(endpoints=[etcd_server.endpoint], interceptors=[client_interceptor()])


def test_the_instrumentor_patches_the_channels_of_the_client(
    etcd_server, global_tracer_provider, instrumentor
):
    telemetry = Telemetry(global_tracer_provider)
    instrumentor()
    with etcd.Client(endpoints=[etcd_server.endpoint]) as client:
        with etcd.otel.instrument(client, tracer_provider=global_tracer_provider):
            client.put("/grpc-otel/patched", "1")
            client.range("/grpc-otel/patched")
    (put,) = telemetry.named("KV.Put")
    assert [span.name for span in telemetry.children(put)] == [
        "/etcdserverpb.Maintenance/Status",  # the first call checked the member first
        "/etcdserverpb.KV/Put",
    ]
    (range_,) = telemetry.named("KV.Range")
    assert [span.name for span in telemetry.children(range_)] == ["/etcdserverpb.KV/Range"]


def test_a_snapshot_needs_the_instrumentor_to_leave_it_out(
    etcd_server, global_tracer_provider, instrumentor, tmp_path
):
    # The sync interceptor hands back a server stream as a plain generator, which has
    # none of the call's methods; the client cancels its stream when done.
    instrumentor()
    with etcd.Client(endpoints=[etcd_server.endpoint]) as client:
        with pytest.raises(AttributeError, match="cancel"):
            client.snapshot(tmp_path / "broken.db")
    GrpcInstrumentorClient().uninstrument()
    instrumentor(filter_=filters.negate(filters.method_name("Snapshot")))
    with etcd.Client(endpoints=[etcd_server.endpoint]) as client:
        assert client.snapshot(tmp_path / "whole.db").size > 0
