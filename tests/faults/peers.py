"""A cluster whose members talk to each other only through fault proxies, so that a test
can cut one member off from the others (a network partition) while clients still reach
every member directly.

::

    with PeerProxiedCluster(binary) as peers:
        peers.isolate(peers.cluster.leader())   # the leader loses both its peers
        ...
        peers.heal()

Each member advertises its proxy's port as its peer URL (``EtcdCluster(peer_proxy=...)``),
so every connection to a member's peer port goes through that member's proxy. Isolating
a member black-holes its own proxy (what the others send it) and, on the others' proxies,
the connections the isolated member opened (what it sends them, and what they answer on
those connections): no raft message moves either way, while TCP connections stay open, as
in a partition that TCP outlives. Telling who opened a connection reads ``/proc``: Linux
only.
"""

from __future__ import annotations

import contextlib
import os
from types import TracebackType

from etcd.testing import EtcdCluster, EtcdServer

from .proxy import FaultProxy

__all__ = ["PeerProxiedCluster", "can_partition"]


def can_partition() -> bool:
    """Whether this system tells which process opened a connection (Linux's ``/proc``)."""
    return os.path.exists("/proc/net/tcp") and os.path.isdir(f"/proc/{os.getpid()}/fd")


class PeerProxiedCluster:
    """An :class:`EtcdCluster` with a fault proxy in front of every member's peer port."""

    def __init__(self, binary: str, size: int = 3) -> None:
        self._stack = contextlib.ExitStack()
        self._by_peer_port: dict[int, FaultProxy] = {}
        self.isolated: set[str] = set()

        def proxy(peer_port: int) -> int:
            fault_proxy = self._stack.enter_context(FaultProxy(peer_port))
            self._by_peer_port[peer_port] = fault_proxy
            return fault_proxy.port

        try:
            self.cluster = EtcdCluster(size, binary=binary, peer_proxy=proxy)
            self._stack.callback(self.cluster.close)
        except BaseException:
            self._stack.close()
            raise

    def proxy(self, member: EtcdServer) -> FaultProxy:
        """The proxy in front of ``member``'s peer port."""
        return self._by_peer_port[member.peer_port]

    def isolate(self, member: EtcdServer) -> int:
        """Cut ``member`` off from every other member, both ways.

        Returns how many connections ``member`` had opened to its peers when cut off (they
        are held from now on, like every new one)."""
        assert member.pid is not None, f"{member.name} is not running"
        self.isolated.add(member.name)
        self.proxy(member).blackhole()
        held = 0
        for other in self.cluster.members:
            if other is not member:
                self.proxy(other).blackhole(from_pids={member.pid})
                held += self.proxy(other).connections_from({member.pid})
        return held

    def heal(self) -> None:
        """Let every message through again (held ones go out now)."""
        for fault_proxy in self._by_peer_port.values():
            fault_proxy.heal()
        self.isolated.clear()

    def __enter__(self) -> PeerProxiedCluster:
        try:
            self.cluster.start()
        except BaseException:
            self._stack.close()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stack.close()
