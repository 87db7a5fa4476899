"""The client: its configuration, its lifecycle, and the parts it is composed of.

Each concern is a part in a module of its own (see :mod:`.part`); this module only puts
them together. The I/O-free half every client shares, from the arguments to the checked
request, is :class:`etcd._core.client.BaseClient`.
"""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import TYPE_CHECKING

from .._core import validation as check
from .._core.client import AsyncContainsMixin, BaseClient
from . import io
from .auth import AsyncAuthCalls
from .classic import AsyncClassicCalls
from .classic_cluster import AsyncClassicClusterCalls
from .cluster import AsyncClusterCalls
from .factories import AsyncFactories
from .kv import AsyncKVCalls
from .lease import AsyncLeaseCalls
from .maintenance import AsyncMaintenanceCalls
from .transport import AsyncTransport
from .watch import AsyncWatchCalls

if TYPE_CHECKING:
    from .._core.config import Endpoint
    from .._core.events import ClientEvent
    from .._core.srv import SRVQuery
    from .coalescing import AsyncCoalescer


class AsyncClient(
    BaseClient,
    AsyncClassicCalls,
    AsyncClassicClusterCalls,
    AsyncFactories,
    AsyncKVCalls,
    AsyncWatchCalls,
    AsyncLeaseCalls,
    AsyncClusterCalls,
    AsyncMaintenanceCalls,
    AsyncAuthCalls,
    AsyncContainsMixin,
):
    """A client for an etcd cluster (v3 API, over gRPC).

    ::

        client = etcd.AsyncClient()                                   # 127.0.0.1:2379
        client = etcd.AsyncClient(host="10.0.0.5", port=2379)
        client = etcd.AsyncClient(endpoints=["https://a:2379", "https://b:2379"],
                                  ca_cert="ca.pem", cert=("client.pem", "client-key.pem"))

    One client serves many concurrent tasks, over one connection per member.
    Construction does no network I/O: the first call connects. Every call has a deadline:
    ``timeout`` seconds (5 by default) unless the call passes its own ``timeout=``; pass
    ``timeout=None`` explicitly for none. Calls that fail raise subclasses of
    :class:`etcd.EtcdException`.

    All arguments but ``host`` and ``port`` are keyword-only.

    Args:
        host: a host name or address, or python-etcd's tuple of ``(host, port)`` pairs.
        port: the client port (2379, etcd's registered port).
        endpoints: ``["host:port", "https://host:port", ...]``; wins over ``host``/``port``.
        protocol: ``"http"`` or ``"https"`` for endpoints given without a scheme.
        cert: a client certificate: ``(cert_file, key_file)`` or one PEM file holding both.
        ca_cert: the CA bundle that signed the server's certificate (default: the system's).
        username: etcd user, for clusters with authentication enabled.
        password: that user's password.
        timeout: the default per-call deadline in seconds (``read_timeout`` is an alias).
        connect_timeout: how long to wait for a connection before moving on.
        allow_redirect: ``False`` makes every request require a member with a leader
            (etcd's require-leader): a member cut off from the majority refuses at once
            with :class:`etcd.EtcdNoLeader` instead of waiting or answering stale.
        allow_reconnect: ``True`` also learns the other members' URLs from the cluster
            (after the first successful call), so that losing every configured endpoint
            still leaves somewhere to go. Failover between the endpoints given is always on.
        max_request_bytes: the server's request limit, checked before sending (1.5 MiB).
        max_receive_bytes: the largest answer accepted (2 GiB).
        max_txn_ops: the server's limit of operations per transaction (128).
        retry_policy: how failed calls are retried (:class:`etcd.RetryPolicy`).
        token: an auth token issued elsewhere, used instead of a user name and password
            (it is not refreshed: when it expires, calls raise
            :class:`etcd.EtcdInvalidAuthToken`).
        tls_server_name: the name to verify the server's certificate against, when it
            differs from the host connected to.
        auto_sync_interval: refresh the endpoints from the cluster's member list every
            this many seconds (:meth:`start_auto_sync`), as Go's ``AutoSyncInterval``.
        insecure: allow credentials to travel without TLS to a host other than this
            machine (refused otherwise, and logged as a warning when allowed).
        coalesce: under load, send concurrent reads of one key as one transaction; every
            call keeps its own result, error and linearizability (see "Coalescing" in the
            docs). ``"reads"`` (the default) sends each call as itself while fewer than
            eight reads of its kind are under way, and coalesces past that; ``"auto"``
            does the same for small writes too, which then share a revision; ``True``
            coalesces both whenever two requests of a kind are in flight; ``False``
            never.
        interceptors: gRPC client interceptors (``grpc.aio`` ones for
            :class:`etcd.AsyncClient`, grpcio's for :class:`etcd.Client`), applied in order
            to every channel the client makes, including channels to members it moves to
            later (see "Observability" in the docs).
        discovery_srv: a DNS domain whose SRV records list the members, as etcd publishes
            them (``_etcd-client-ssl._tcp.<domain>`` for https, ``_etcd-client._tcp`` for
            http); looked up once, by the constructor, instead of ``endpoints`` (see
            "DNS discovery" in the docs). Needs the ``dns`` extra.
        discovery_srv_name: etcd's ``--discovery-srv-name``: the records are then
            ``_etcd-client-ssl-<name>._tcp`` and ``_etcd-client-<name>._tcp``.
        discovery_nameservers: the DNS servers to ask (``"address[:port]"``), instead of
            the system's.
        srv_domain: python-etcd's name for ``discovery_srv``; it also looks up
            python-etcd's ``_etcd._tcp.<domain>`` when etcd's own records are missing.
    """

    _transport: AsyncTransport
    _coalescer: AsyncCoalescer | None

    def _look_up_members(self, query: SRVQuery, timeout: float) -> tuple[Endpoint, ...]:
        # asyncio: a constructor cannot await, so the lookup blocks the event loop for at
        # most `timeout` seconds, once (docs/configuration.rst says how to avoid even that).
        # Imported here: only clients made with discovery_srv or srv_domain look up DNS.
        from .. import _dns

        return _dns.look_up(query, timeout).chosen

    def _start(self) -> None:
        self._transport = AsyncTransport(self._config, self._retry_policy)
        self._coalescer = None
        if self._config.coalesce:
            from .coalescing import AsyncCoalescer

            self._coalescer = AsyncCoalescer(
                self._transport,
                adaptive=self._config.coalesce in ("auto", "reads"),
                writes=self._config.coalesce != "reads",
                max_ops=self._config.max_txn_ops,
                # Half the request limit: room for the transaction's own encoding.
                max_bytes=self._config.max_request_bytes // 2,
            )
        self._made_on_first_use = io.Lock()
        if self._auto_sync_interval is not None:
            self.start_auto_sync(self._auto_sync_interval)

    # --- lifecycle ----------------------------------------------------------------------

    async def close(self) -> None:
        """Stop every watch and close every connection. The client cannot be used afterwards.

        Watches still being iterated raise :class:`etcd.EtcdClientClosed`.
        """
        await self.stop_auto_sync()
        await self._close_watches()
        await self._close_leases()
        await self._transport.close()
        self._transport.events.close()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    # --- events ------------------------------------------------------------------------

    def add_event_listener(
        self, listener: Callable[[ClientEvent], object], *, inline: bool = False
    ) -> None:
        """Call ``listener(event)`` for every event of this client (``etcd.events``):
        retries, fail-overs, logins again, watch resumes and compactions, lost leases,
        endpoint changes, and the start and end of every call and logical operation.

        By default the listener runs on a thread of the client's, in the order of the
        events, and a slow one never delays the client. ``inline=True`` calls it where
        the event happens instead (in the thread or task of the operation), as tracing
        needs; an inline listener must be quick. An exception it raises is logged on
        ``etcd.events``, once, and the listener is kept.
        """
        self._transport.events.add(listener, inline=check.boolean(inline, "inline"))

    def remove_event_listener(self, listener: Callable[[ClientEvent], object]) -> None:
        """Stop calling ``listener``."""
        self._transport.events.remove(listener)

    @property
    def endpoints(self) -> list[str]:
        """The URLs of the members this client talks to."""
        return [endpoint.url for endpoint in self._transport.endpoints]

    def _endpoints_for_repr(self) -> tuple[Endpoint, ...]:
        return self._transport.endpoints
