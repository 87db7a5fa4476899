"""A DNS server on 127.0.0.1 for the discovery tests: SRV records from a dict, nothing else.

Tests never ask real DNS. They start one of these (on a free UDP port), publish the
records they need, and point the client at it with ``discovery_nameservers``.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest

dnslib = pytest.importorskip("dnslib", reason="the discovery tests need dnslib (the test extra)")
dnslib_server = pytest.importorskip("dnslib.server")


@dataclass(frozen=True)
class Record:
    """One SRV record: ``target`` without its trailing dot."""

    port: int
    target: str = "localhost"
    priority: int = 0
    weight: int = 0


class SRVResolver:
    """Answers SRV questions from ``records``; NXDOMAIN for any other name, SERVFAIL for
    the names in ``failing``."""

    def __init__(self) -> None:
        self.records: dict[str, list[Record]] = {}
        self.failing: set[str] = set()
        self.questions: list[str] = []

    def resolve(self, request, handler):
        reply = request.reply()
        name = str(request.q.qname).rstrip(".").lower()
        self.questions.append(name)
        if name in self.failing:
            reply.header.rcode = dnslib.RCODE.SERVFAIL
        elif name not in self.records:
            reply.header.rcode = dnslib.RCODE.NXDOMAIN
        elif request.q.qtype == dnslib.QTYPE.SRV:
            for record in self.records[name]:
                reply.add_answer(
                    dnslib.RR(
                        request.q.qname,
                        dnslib.QTYPE.SRV,
                        ttl=5,
                        rdata=dnslib.SRV(
                            record.priority, record.weight, record.port, record.target + "."
                        ),
                    )
                )
        return reply


class _Silent:
    def log_recv(self, *args): ...
    def log_send(self, *args): ...
    def log_request(self, *args): ...
    def log_reply(self, *args): ...
    def log_truncated(self, *args): ...
    def log_error(self, *args): ...
    def log_data(self, *args): ...


class DNSServer:
    """The server: publish with :meth:`publish`; ``nameserver`` is its ``address:port``."""

    def __init__(self, resolver: SRVResolver, server, port: int) -> None:
        self.resolver = resolver
        self._server = server
        self.port = port

    @property
    def nameserver(self) -> str:
        return f"127.0.0.1:{self.port}"

    def publish(self, name: str, *records: Record) -> None:
        self.resolver.records[name.lower()] = list(records)

    def fail(self, name: str) -> None:
        self.resolver.failing.add(name.lower())


def _udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def dns_server() -> Iterator[DNSServer]:
    """A running server, stopped at the end."""
    resolver = SRVResolver()
    last_error: OSError | None = None
    for _ in range(5):
        port = _udp_port()
        try:
            server = dnslib_server.DNSServer(
                resolver, port=port, address="127.0.0.1", logger=_Silent()
            )
        except OSError as error:  # taken between the probe and the bind
            last_error = error
            continue
        server.start_thread()
        try:
            yield DNSServer(resolver, server, port)
        finally:
            server.stop()
            server.server.server_close()
        return
    raise RuntimeError(f"no free UDP port for the test DNS server: {last_error}")


@contextmanager
def silent_nameserver() -> Iterator[str]:
    """``address:port`` of a UDP socket that never answers: every lookup there times out."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sink:
        sink.bind(("127.0.0.1", 0))
        yield f"127.0.0.1:{sink.getsockname()[1]}"
