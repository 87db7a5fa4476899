"""``interceptors=`` on etcd.Client: grpcio client interceptors see every RPC, on every
channel the client makes."""

import grpc
import pytest

import etcd

pytestmark = pytest.mark.integration


class Recorder(grpc.UnaryUnaryClientInterceptor, grpc.UnaryStreamClientInterceptor):  # type: ignore[misc]
    """Records each RPC's method and the target it went to."""

    def __init__(self):
        self.calls = []

    def intercept_unary_unary(self, continuation, client_call_details, request):
        self.calls.append(client_call_details.method)
        return continuation(client_call_details, request)

    def intercept_unary_stream(self, continuation, client_call_details, request):
        self.calls.append(client_call_details.method)
        return continuation(client_call_details, request)


class Tagger(grpc.UnaryUnaryClientInterceptor):  # type: ignore[misc]
    """Adds a metadata entry; shows that interceptors run in order and may change calls."""

    def __init__(self, seen):
        self.seen = seen

    def intercept_unary_unary(self, continuation, client_call_details, request):
        self.seen.append("tagger")
        metadata = [*(client_call_details.metadata or ()), ("x-request-origin", "tests")]
        details = client_call_details._replace(metadata=metadata)
        return continuation(details, request)


def test_every_call_goes_through_the_interceptors(etcd_server):
    recorder = Recorder()
    with etcd.Client(endpoints=[etcd_server.endpoint], interceptors=[recorder]) as client:
        client.put("/interceptors/a", "1")
        assert client.range("/interceptors/a").kvs[0].value == b"1"
        client.delete_range("/interceptors/a")
    paths = [path.decode() if isinstance(path, bytes) else path for path in recorder.calls]
    assert "/etcdserverpb.KV/Put" in paths
    assert "/etcdserverpb.KV/Range" in paths
    assert "/etcdserverpb.KV/DeleteRange" in paths


def test_interceptors_run_in_order_and_may_change_the_call(etcd_server):
    seen: list[object] = []

    class Second(grpc.UnaryUnaryClientInterceptor):  # type: ignore[misc]
        def intercept_unary_unary(self, continuation, client_call_details, request):
            seen.append(("second", dict(client_call_details.metadata or ())))
            return continuation(client_call_details, request)

    with etcd.Client(
        endpoints=[etcd_server.endpoint], interceptors=[Tagger(seen), Second()]
    ) as client:
        client.put("/interceptors/order", "1")
    assert seen[0] == "tagger"
    assert seen[1][1]["x-request-origin"] == "tests"


def test_channels_made_after_a_fail_over_are_intercepted(etcd_cluster):
    recorder = Recorder()
    first, second, _ = etcd_cluster.members
    with etcd.Client(
        endpoints=[first.endpoint, second.endpoint], interceptors=[recorder], timeout=10
    ) as client:
        client.put("/interceptors/failover", "1")
        before = len(recorder.calls)
        first.kill()
        try:
            client.range("/interceptors/failover")  # a read: retried on the next member
        finally:
            first.start()
        assert client._transport.current_endpoint.target.endswith(str(second.client_port))
        assert len(recorder.calls) > before


def test_what_is_not_a_grpcio_interceptor_is_refused_at_construction(etcd_server):
    with pytest.raises(etcd.EtcdTypeError, match="grpcio client interceptors"):
        etcd.Client(endpoints=[etcd_server.endpoint], interceptors=[object()])
    with pytest.raises(etcd.EtcdTypeError, match=r"give it to etcd\.AsyncClient"):
        etcd.Client(
            endpoints=[etcd_server.endpoint],
            interceptors=[grpc.aio.UnaryUnaryClientInterceptor.__new__(AioRecorder)],
        )
    with pytest.raises(etcd.EtcdTypeError, match="a list of gRPC client interceptors"):
        etcd.Client(endpoints=[etcd_server.endpoint], interceptors=Recorder())


class AioRecorder(grpc.aio.UnaryUnaryClientInterceptor):  # type: ignore[misc]
    async def intercept_unary_unary(self, continuation, client_call_details, request):
        return await continuation(client_call_details, request)
