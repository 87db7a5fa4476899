"""``interceptors=`` on etcd.AsyncClient: grpc.aio client interceptors see every RPC."""

import grpc
import pytest

import etcd

pytestmark = pytest.mark.integration


class Recorder(grpc.aio.UnaryUnaryClientInterceptor, grpc.aio.UnaryStreamClientInterceptor):  # type: ignore[misc]
    def __init__(self):
        self.calls = []

    async def intercept_unary_unary(self, continuation, client_call_details, request):
        self.calls.append(client_call_details.method)
        return await continuation(client_call_details, request)

    async def intercept_unary_stream(self, continuation, client_call_details, request):
        self.calls.append(client_call_details.method)
        return await continuation(client_call_details, request)


def method_names(recorder):
    return [path.decode() if isinstance(path, bytes) else path for path in recorder.calls]


async def test_every_call_goes_through_the_interceptors(etcd_server):
    recorder = Recorder()
    async with etcd.AsyncClient(
        endpoints=[etcd_server.endpoint], interceptors=[recorder]
    ) as client:
        await client.put("/aio-interceptors/a", "1")
        assert (await client.range("/aio-interceptors/a")).kvs[0].value == b"1"
        await client.delete_range("/aio-interceptors/a")
    paths = method_names(recorder)
    assert "/etcdserverpb.KV/Put" in paths
    assert "/etcdserverpb.KV/Range" in paths
    assert "/etcdserverpb.KV/DeleteRange" in paths


async def test_channels_made_after_a_fail_over_are_intercepted(etcd_cluster):
    recorder = Recorder()
    first, second, _ = etcd_cluster.members
    async with etcd.AsyncClient(
        endpoints=[first.endpoint, second.endpoint], interceptors=[recorder], timeout=10
    ) as client:
        await client.put("/aio-interceptors/moved", "1")
        before = len(recorder.calls)
        first.kill()
        try:
            await client.range("/aio-interceptors/moved")  # a read: retried elsewhere
        finally:
            first.start()
        assert client._transport.current_endpoint.target.endswith(str(second.client_port))
        assert len(recorder.calls) > before


async def test_sync_interceptors_are_refused(etcd_server):
    class SyncOne(grpc.UnaryUnaryClientInterceptor):  # type: ignore[misc]
        def intercept_unary_unary(self, continuation, client_call_details, request):
            return continuation(client_call_details, request)

    with pytest.raises(etcd.EtcdTypeError, match=r"give it to etcd\.Client"):
        etcd.AsyncClient(endpoints=[etcd_server.endpoint], interceptors=[SyncOne()])
