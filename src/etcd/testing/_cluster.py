"""A cluster of real etcd members, for tests."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Sequence
from types import TracebackType

from ._binary import find_etcd_binary
from ._errors import EtcdStartError
from ._ports import free_port
from ._server import EtcdServer
from ._tls import TLSFiles

__all__ = ["EtcdCluster"]

_POLL_INTERVAL = 0.1


class EtcdCluster:
    """Several etcd members on 127.0.0.1 forming one cluster, for tests.

    ::

        with EtcdCluster(size=3) as cluster:
            client = etcd.Client(endpoints=cluster.endpoints)
            cluster.leader().kill()

    The members are named ``member0`` to ``member{size-1}``; each has its own ports and
    temporary data directory, and the cluster token is unique, so clusters never mix.

    Args:
        size: the number of members.
        binary: the etcd executable; found with :func:`find_etcd_binary` when omitted.
        tls: serve clients over HTTPS with these files (peers stay plain HTTP).
        auth_token: etcd's ``--auth-token`` for every member.
        auth_token_ttl: etcd's ``--auth-token-ttl`` for every member, in seconds.
        extra_args: more command-line arguments for every member.
        start_timeout: how many seconds :meth:`start` waits for the whole cluster.
        peer_proxy: called with each member's peer port, before any member starts; it
            returns the port that member advertises to its peers instead, such as a fault
            proxy's that forwards to the peer port. Members then talk to each other only
            through these ports, so that a test can cut one off from the others.

    Raises:
        EtcdBinaryNotFound: no etcd executable was found.
        ValueError: ``size`` is less than 1.
    """

    def __init__(
        self,
        size: int = 3,
        *,
        binary: str | os.PathLike[str] | None = None,
        tls: TLSFiles | None = None,
        auth_token: str | None = None,
        auth_token_ttl: int | None = None,
        extra_args: Sequence[str] = (),
        start_timeout: float = 60.0,
        peer_proxy: Callable[[int], int] | None = None,
    ) -> None:
        if size < 1:
            raise ValueError(f"a cluster needs at least one member, not {size}")
        executable = find_etcd_binary(binary)
        self._binary = executable
        self._tls = tls
        self._auth_token = auth_token
        self._auth_token_ttl = auth_token_ttl
        self._extra_args = tuple(extra_args)
        self._start_timeout = start_timeout
        self._token = f"etcd-test-{uuid.uuid4().hex}"
        names = [f"member{index}" for index in range(size)]
        peer_ports = [free_port() for _ in names]
        advertised = [peer_proxy(port) if peer_proxy is not None else port for port in peer_ports]
        initial_cluster = ",".join(
            f"{name}=http://127.0.0.1:{port}" for name, port in zip(names, advertised, strict=True)
        )
        self._members: list[EtcdServer] = []
        try:
            for name, peer_port, advertise in zip(names, peer_ports, advertised, strict=True):
                self._members.append(
                    EtcdServer(
                        binary=executable,
                        name=name,
                        peer_port=peer_port,
                        advertise_peer_port=advertise if peer_proxy is not None else None,
                        tls=tls,
                        auth_token=auth_token,
                        auth_token_ttl=auth_token_ttl,
                        extra_args=extra_args,
                        start_timeout=start_timeout,
                        initial_cluster=initial_cluster,
                        initial_cluster_token=self._token,
                    )
                )
        except BaseException:
            self.close()
            raise

    @property
    def members(self) -> list[EtcdServer]:
        """The members, in name order (a copy of the list)."""
        return list(self._members)

    @property
    def endpoints(self) -> list[str]:
        """Every member's ``"127.0.0.1:PORT"``, as :class:`etcd.Client` takes them."""
        return [member.endpoint for member in self._members]

    @property
    def client_urls(self) -> list[str]:
        """Every member's client URL, with its scheme."""
        return [member.client_url for member in self._members]

    @property
    def token(self) -> str:
        """The cluster's ``--initial-cluster-token``."""
        return self._token

    def start(self) -> None:
        """Start every member and wait until all are healthy.

        Raises:
            EtcdStartError: a member failed; every member has been closed.
        """
        try:
            for member in self._members:
                member.start(wait=False)
            self.wait_healthy(self._start_timeout)
        except BaseException as err:
            self.close()
            if isinstance(err, EtcdStartError) or not isinstance(err, Exception):
                raise
            raise EtcdStartError(f"the etcd cluster did not start: {err}") from err

    def wait_healthy(self, timeout: float = 30.0) -> None:
        """Wait until every member that runs is healthy.

        Raises:
            EtcdStartError: a member's process is gone or it was not healthy in time.
        """
        deadline = time.monotonic() + timeout
        for member in self._members:
            if member.running:
                member.wait_healthy(max(0.0, deadline - time.monotonic()))

    def leader(self, timeout: float = 10.0) -> EtcdServer:
        """Return the member that leads, once exactly one running member says it does.

        Raises:
            TimeoutError: no single leader emerged within ``timeout`` seconds.
        """
        deadline = time.monotonic() + timeout
        while True:
            leaders = [member for member in self._members if member.is_leader()]
            if len(leaders) == 1:
                return leaders[0]
            if time.monotonic() >= deadline:
                claimed = ", ".join(member.name for member in leaders) or "none"
                raise TimeoutError(
                    f"no single etcd leader within {timeout:g} seconds (leaders: {claimed})"
                )
            time.sleep(_POLL_INTERVAL)

    def followers(self, timeout: float = 10.0) -> list[EtcdServer]:
        """The running members other than the leader (see :meth:`leader`)."""
        leader = self.leader(timeout)
        return [member for member in self._members if member.running and member is not leader]

    def joining_member(
        self,
        name: str,
        *,
        peer_port: int | None = None,
        advertise_peer_port: int | None = None,
    ) -> EtcdServer:
        """A new member, not started, set up to join this cluster once it was added.

        ::

            joining = cluster.joining_member("member3")
            client.member_add([joining.peer_url])
            joining.start()

        It runs the cluster's binary with its TLS, auth and extra arguments, with
        ``--initial-cluster-state=existing`` and an ``--initial-cluster`` that lists every
        member of this object and the new one (etcd checks that against the cluster's own
        member list). It is not one of :attr:`members`: the caller closes it.
        """
        if any(member.name == name for member in self._members):
            raise ValueError(f"the cluster has a member named {name!r} already")
        port = peer_port if peer_port is not None else free_port()
        advertised = advertise_peer_port if advertise_peer_port is not None else port
        initial_cluster = ",".join(
            [f"{member.name}={member.peer_url}" for member in self._members]
            + [f"{name}=http://127.0.0.1:{advertised}"]
        )
        return EtcdServer(
            binary=self._binary,
            name=name,
            peer_port=port,
            advertise_peer_port=advertise_peer_port,
            tls=self._tls,
            auth_token=self._auth_token,
            auth_token_ttl=self._auth_token_ttl,
            extra_args=self._extra_args,
            start_timeout=self._start_timeout,
            initial_cluster=initial_cluster,
            initial_cluster_state="existing",
            initial_cluster_token=self._token,
        )

    def heal(self, timeout: float | None = None) -> None:
        """Bring every member back: resume paused ones, restart stopped or killed ones,
        then wait until all are healthy.

        Raises:
            EtcdStartError: a member did not come back in time.
        """
        for member in self._members:
            if member.paused:
                member.resume()
            elif not member.alive:
                member.start(wait=False)
        self.wait_healthy(self._start_timeout if timeout is None else timeout)

    def close(self) -> None:
        """Kill every member and remove their temporary directories. Safe to call twice."""
        # The data goes away with the members, so a graceful shutdown buys nothing; and
        # stopping members gracefully side by side makes the leader wait out a failed
        # leadership transfer.
        for member in self._members:
            member.kill()
            member.close()

    def __enter__(self) -> EtcdCluster:
        if all(member.process is None for member in self._members):
            self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        states = ", ".join(
            f"{member.name}:{'paused' if member.paused else 'up' if member.alive else 'down'}"
            for member in self._members
        )
        return f"<EtcdCluster size={len(self._members)} [{states}]>"
