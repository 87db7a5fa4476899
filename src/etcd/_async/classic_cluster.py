"""The python-etcd layer's view of its connection and of the cluster: ``base_uri``,
``host``, ``machines``, ``leader``, ``stats`` and their kin, answered by etcd v3's cluster
and status calls.

The keys, directories and watches of that layer are in :mod:`.classic`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .._core import exceptions as exc
from .cluster import AsyncClusterCalls
from .maintenance import AsyncMaintenanceCalls

if TYPE_CHECKING:
    from .._core.classic import Member


class AsyncClassicClusterCalls(AsyncClusterCalls, AsyncMaintenanceCalls):
    """The client's python-etcd view of its connection and cluster (``client.machines``)."""

    # --- the connection, as python-etcd named it -----------------------------------------

    @property
    def base_uri(self) -> str:
        """The URL of the member in use (python-etcd's ``base_uri``)."""
        return self._transport.current_endpoint.url

    @property
    def host(self) -> str:
        """The host of the member in use."""
        return self._transport.current_endpoint.host

    @property
    def port(self) -> int:
        """The client port of the member in use."""
        return self._transport.current_endpoint.port

    @property
    def protocol(self) -> str:
        """``"https"`` or ``"http"``: how the member in use is reached."""
        return "https" if self._transport.current_endpoint.secure else "http"

    @property
    def read_timeout(self) -> float | None:
        """The default per-call deadline in seconds (``None``: none), python-etcd's name."""
        return self._config.timeout

    @property
    def allow_redirect(self) -> bool:
        """``False`` when every request requires a member with a leader."""
        return not self._config.require_leader

    @property
    def allow_reconnect(self) -> bool:
        """``True`` when the client also learns the other members' URLs from the cluster."""
        return self._config.allow_reconnect

    # --- the cluster, as python-etcd showed it ----------------------------------------------

    async def _member_list(self) -> list[Member]:
        return (await self.member_list()).members

    @property
    async def machines(self) -> list[str]:
        """The client URLs of every member of the cluster."""
        return [url for member in await self._member_list() for url in member.client_urls]

    @property
    async def members(self) -> dict[str, Member]:
        """The members, by ID in hex as etcd v2 wrote it."""
        return {f"{member.id:x}": member for member in await self._member_list()}

    @property
    async def leader(self) -> Member:
        """The cluster's leader, as the member in use sees it.

        Raises :class:`etcd.EtcdNoLeader` while the cluster has none (an election, or a
        member cut off from the majority).
        """
        status = await self.status()
        for member in await self._member_list():
            if member.id == status.leader:
                return member
        raise exc.EtcdNoLeader(
            f"{self._transport.current_endpoint} knows no leader right now",
            endpoint=str(self._transport.current_endpoint),
        )

    @property
    async def version(self) -> str:
        """The etcd version of the member in use."""
        return str((await self.status()).version)

    @property
    async def stats(self) -> dict[str, Any]:
        """The member in use, as python-etcd's ``stats`` (from the v3 status call)."""
        status = await self.status()
        members = await self._member_list()
        own = next((m for m in members if m.id == status.header.member_id), None)
        return {
            "id": f"{status.header.member_id:x}",
            "name": own.name if own else "",
            "state": "StateLeader" if status.leader == status.header.member_id else "StateFollower",
            "leaderInfo": {"leader": f"{status.leader:x}"},
            "version": status.version,
            "dbSize": status.db_size,
            "raftIndex": status.raft_index,
            "raftTerm": status.raft_term,
        }

    @property
    def leader_stats(self) -> dict[str, Any]:
        """Always raises :class:`etcd.EtcdNotSupported`, for want of a v3 equivalent.

        etcd v2's leader statistics (each follower's latency and message counts) have no
        v3 API; etcd exports them as Prometheus metrics on ``/metrics`` instead.
        """
        raise exc.EtcdNotSupported(
            "leader_stats: etcd v3 has no API for the leader's statistics of its followers; "
            "read the etcd_network_peer_* metrics on the members' /metrics URL instead"
        )

    @property
    def store_stats(self) -> dict[str, Any]:
        """Always raises :class:`etcd.EtcdNotSupported`, for want of a v3 equivalent.

        etcd v2 counted the operations of its store; v3 has no API for such counters (its
        ``/metrics`` URL has the etcd_mvcc_* ones). :attr:`etcd.Client.stats` has the size and
        indexes.
        """
        raise exc.EtcdNotSupported(
            "store_stats: etcd v3 has no API for store operation counters; client.stats has "
            "the database size and raft indexes, the members' /metrics URL the etcd_mvcc_* "
            "counters"
        )

    @property
    def cluster_version(self) -> str:
        """Always raises :class:`etcd.EtcdNotSupported`, for want of a v3 equivalent.

        The cluster version came from the v2 ``/version`` URL; etcd v3's status call only
        gives each member's own version, which :attr:`etcd.Client.version` returns.
        """
        raise exc.EtcdNotSupported(
            "cluster_version: etcd v3's API does not report the cluster version; "
            "client.version gives the version of the member in use"
        )
