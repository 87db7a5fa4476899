"""opentelemetry-instrumentation-grpc on etcd.AsyncClient: its grpc.aio interceptors
through ``interceptors=``, and its instrumentor, which patches the channels the client
makes; each RPC is a span, under the client's own call span when etcd.otel is on too."""

import pytest

pytest.importorskip(
    "opentelemetry.instrumentation.grpc",
    reason="opentelemetry-instrumentation-grpc is not installed (pip install -e '.[test]')",
)

from opentelemetry.instrumentation.grpc import GrpcAioInstrumentorClient, aio_client_interceptors
from opentelemetry.trace import SpanKind, StatusCode

import etcd
import etcd.otel

from ._otel import Telemetry

pytestmark = pytest.mark.integration


async def test_each_rpc_is_a_span_through_interceptors(etcd_server):
    telemetry = Telemetry()
    interceptors = aio_client_interceptors(tracer_provider=telemetry.tracer_provider)
    async with etcd.AsyncClient(
        endpoints=[etcd_server.endpoint], interceptors=interceptors
    ) as client:
        await client.put("/grpc-otel/a", "1")
        await client.range("/grpc-otel/a")
        await client.delete_range("/grpc-otel/a")
    names = [span.name for span in telemetry.spans]
    # The first call checked the member first (Maintenance.Status).
    assert names == [
        "/etcdserverpb.Maintenance/Status",
        "/etcdserverpb.KV/Put",
        "/etcdserverpb.KV/Range",
        "/etcdserverpb.KV/DeleteRange",
    ]
    put = telemetry.spans[1]
    assert put.kind is SpanKind.CLIENT
    assert put.attributes["rpc.system"] == "grpc"
    assert (put.attributes["rpc.service"], put.attributes["rpc.method"]) == (
        "etcdserverpb.KV",
        "Put",
    )


async def test_rpc_spans_nest_under_the_call_span_through_a_fail_over(etcd_cluster):
    telemetry = Telemetry()
    interceptors = aio_client_interceptors(tracer_provider=telemetry.tracer_provider)
    leader = etcd_cluster.leader(timeout=10)
    follower = next(member for member in etcd_cluster.members if member is not leader)
    async with etcd.AsyncClient(
        endpoints=[follower.endpoint, leader.endpoint],
        interceptors=interceptors,
        timeout=10,
        connect_timeout=1,
    ) as client:
        etcd.otel.instrument(client, tracer_provider=telemetry.tracer_provider)
        await client.put("/grpc-otel/moved", "1")
        follower.kill()
        try:
            await client.range("/grpc-otel/moved")
        finally:
            follower.start()
    (put,) = telemetry.named("KV.Put")
    assert "/etcdserverpb.KV/Put" in [span.name for span in telemetry.children(put)]
    (call,) = telemetry.named("KV.Range")
    rpcs = [span for span in telemetry.children(call) if span.name == "/etcdserverpb.KV/Range"]
    # The try on the killed member failed; the one on the leader answered.
    assert rpcs[0].status.status_code is StatusCode.ERROR
    assert rpcs[-1].status.status_code is not StatusCode.ERROR
    assert "retry" in [span.name for span in telemetry.children(call)]


async def test_the_instrumentor_patches_the_channels_of_the_client(etcd_server):
    telemetry = Telemetry()
    instrumentor = GrpcAioInstrumentorClient()
    instrumentor.instrument(tracer_provider=telemetry.tracer_provider)
    try:
        async with etcd.AsyncClient(endpoints=[etcd_server.endpoint]) as client:
            with etcd.otel.instrument(client, tracer_provider=telemetry.tracer_provider):
                await client.put("/grpc-otel/patched", "1")
    finally:
        instrumentor.uninstrument()
    (put,) = telemetry.named("KV.Put")
    assert "/etcdserverpb.KV/Put" in [span.name for span in telemetry.children(put)]
