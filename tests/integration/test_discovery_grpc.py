"""A grpcio channel made from a discovered service's target spreads calls over every
endpoint registered, and a channel made again after a change reaches the new list."""

from __future__ import annotations

import time
from concurrent import futures

import grpc
import pytest

import etcd

pytestmark = pytest.mark.integration


def start_echo_server(name: str, hits: list[str]) -> tuple[grpc.Server, int]:
    """A gRPC server with one method, ``/test.Echo/Echo``, that records who answered."""

    def echo(request: bytes, context: grpc.ServicerContext) -> bytes:
        hits.append(name)
        return request

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    handler = grpc.method_handlers_generic_handler(
        "test.Echo", {"Echo": grpc.unary_unary_rpc_method_handler(echo)}
    )
    server.add_generic_rpc_handlers((handler,))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    return server, port


def call_many(target: str, times: int) -> None:
    with grpc.insecure_channel(target, options=etcd.GRPC_ROUND_ROBIN) as channel:
        echo = channel.unary_unary("/test.Echo/Echo")
        for _ in range(times):
            assert echo(b"ping", timeout=5, wait_for_ready=True) == b"ping"


def wait_for(condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_a_channel_to_a_discovered_service_uses_every_endpoint(etcd_client):
    hits: list[str] = []
    servers = {name: start_echo_server(name, hits) for name in ("a", "b", "c")}
    registrations = []
    try:
        for name in ("a", "b"):
            port = servers[name][1]
            registrations.append(etcd_client.register("svc/echo", f"127.0.0.1:{port}", ttl=10))
        with etcd_client.discover("svc/echo") as found:
            found.wait_ready(10)
            wait_for(lambda: len(found) == 2)
            call_many(found.grpc_target(), 20)
            assert set(hits) == {"a", "b"}

            # The list changes: a channel made again from the new target follows it.
            registrations.pop(0).close()
            port = servers["c"][1]
            registrations.append(etcd_client.register("svc/echo", f"127.0.0.1:{port}", ttl=10))
            wait_for(lambda: f"127.0.0.1:{servers['a'][1]}" not in found.grpc_target())
            wait_for(lambda: len(found) == 2)
            hits.clear()
            call_many(found.grpc_target(), 20)
            assert set(hits) == {"b", "c"}
    finally:
        for registration in registrations:
            registration.close()
        for server, _ in servers.values():
            server.stop(None)
