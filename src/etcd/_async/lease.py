"""Lease calls: grant, revoke, inspect and refresh leases, and :meth:`lease`, one kept
alive in the background.

The :class:`etcd.AsyncLease` handle and the keep-alive stream every lease of a client
shares are in :mod:`.lease_keeper`, loaded with the first kept lease; the results and the
refresh schedule are pure, in :mod:`etcd._core.lease`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from .. import _core, _wire
from .._core import exceptions as exc
from .._core import validation as check
from .._core.validation import Timeout
from .part import AsyncClientPart

# The models are imported by the calls that use them: ``import etcd`` stays light.
if TYPE_CHECKING:
    from .._core.kv import LeaseArg
    from .._core.lease import (
        LeaseGrantResponse,
        LeaseKeepAliveResponse,
        LeaseLeasesResponse,
        LeaseTimeToLiveResponse,
    )
    from .._core.responses import ResponseHeader
    from .lease_keeper import AsyncKeepAliver, AsyncLease


class AsyncLeaseCalls(AsyncClientPart):
    """The client's lease part: etcd's ``Lease`` service, and leases kept alive."""

    _lease_keeper: AsyncKeepAliver | None = None

    @property
    def _keepaliver(self) -> AsyncKeepAliver:
        """The keep-alive stream of this client's leases, made on first use (most programs
        never keep a lease, and its modules stay unimported)."""
        with self._made_on_first_use:
            if self._lease_keeper is None:
                from .lease_keeper import AsyncKeepAliver

                self._lease_keeper = AsyncKeepAliver(self._transport)
            return self._lease_keeper

    async def _close_leases(self) -> None:
        if self._lease_keeper is not None:
            await self._lease_keeper.close()

    async def lease_grant(
        self, ttl: int, lease_id: int = 0, *, timeout: Timeout = check.UNSET
    ) -> LeaseGrantResponse:
        """Grant a lease of ``ttl`` seconds (``lease_id`` 0: the server picks the ID).

        The server may round a short TTL up to its minimum. Nothing keeps this lease alive:
        see :meth:`lease` for one that is refreshed in the background.
        """
        from .._core.lease import decode_grant

        request = _wire.messages.LeaseGrantRequest(
            TTL=check.lease_ttl(ttl), ID=check.integer(lease_id, "lease_id", minimum=0)
        )
        response = await self._transport.unary(
            _wire.methods.LEASE_GRANT, request, timeout=self._call_timeout(timeout), mutation=True
        )
        if response.error:
            raise exc.EtcdServerError(
                f"Lease.LeaseGrant failed: {response.error}", operation="Lease.LeaseGrant"
            )
        return decode_grant(response)

    async def lease_revoke(
        self, lease: LeaseArg, *, timeout: Timeout = check.UNSET
    ) -> ResponseHeader:
        """Revoke a lease: every key attached to it is deleted."""
        request = _wire.messages.LeaseRevokeRequest(ID=self._existing_lease(lease))
        response = await self._transport.unary(
            _wire.methods.LEASE_REVOKE, request, timeout=self._call_timeout(timeout), mutation=True
        )
        return _core.responses.decode_header(response.header)

    async def lease_time_to_live(
        self, lease: LeaseArg, *, keys: bool = False, timeout: Timeout = check.UNSET
    ) -> LeaseTimeToLiveResponse:
        """The remaining TTL of a lease (-1 once it is gone), and its keys if asked."""
        from .._core.lease import decode_time_to_live

        request = _wire.messages.LeaseTimeToLiveRequest(
            ID=self._existing_lease(lease), keys=check.boolean(keys, "keys")
        )
        response = await self._transport.unary(
            _wire.methods.LEASE_TIME_TO_LIVE,
            request,
            timeout=self._call_timeout(timeout),
            mutation=False,
        )
        return decode_time_to_live(response)

    async def lease_leases(self, *, timeout: Timeout = check.UNSET) -> LeaseLeasesResponse:
        """The IDs of every lease in the cluster."""
        from .._core.lease import decode_leases

        response = await self._transport.unary(
            _wire.methods.LEASE_LEASES,
            _wire.messages.LeaseLeasesRequest(),
            timeout=self._call_timeout(timeout),
            mutation=False,
        )
        return decode_leases(response)

    async def lease_keep_alive_once(
        self, lease: LeaseArg, *, timeout: Timeout = check.UNSET
    ) -> LeaseKeepAliveResponse:
        """Refresh a lease once. Raises :class:`etcd.EtcdLeaseNotFound` if it is gone."""
        from .._core.lease import decode_keep_alive

        lease_id = self._existing_lease(lease)
        request = _wire.messages.LeaseKeepAliveRequest(ID=lease_id)
        response, endpoint = await self._transport.first_response(
            _wire.methods.LEASE_KEEP_ALIVE, request, timeout=self._call_timeout(timeout)
        )
        if response.TTL <= 0:
            raise exc.EtcdLeaseNotFound(
                f"lease {lease_id:x} not found (expired or revoked)",
                operation="Lease.LeaseKeepAlive",
                endpoint=str(endpoint),
            )
        return decode_keep_alive(response)

    async def lease(
        self,
        ttl: int,
        *,
        lease_id: int = 0,
        keep_alive: bool = True,
        on_lost: Callable[[exc.EtcdLeaseExpired], object] | None = None,
        timeout: Timeout = check.UNSET,
    ) -> AsyncLease:
        """Grant a lease and keep it alive in the background until it is revoked.

        ::

            async with await client.lease(ttl=10) as lease:
                await client.put("/service/me", "up", lease=lease)
                ...                       # the key lives as long as the block

        All leases of a client share one keep-alive stream, refreshed a third of the TTL
        after each refresh and moved to another member when one fails. If the lease is
        lost anyway (revoked elsewhere, or unreachable for a whole TTL), ``on_lost`` is
        called, :meth:`etcd.Lease.wait_lost` returns, and using the lease raises
        :class:`etcd.EtcdLeaseExpired`.
        """
        from .lease_keeper import AsyncLease

        granted = await self.lease_grant(ttl, lease_id, timeout=timeout)
        lease = AsyncLease(self, granted.id, granted.ttl, on_lost=on_lost)
        if check.boolean(keep_alive, "keep_alive"):
            lease.keep_alive()
        return lease

    async def keep_alive(
        self,
        lease: LeaseArg,
        *,
        on_lost: Callable[[exc.EtcdLeaseExpired], object] | None = None,
        timeout: Timeout = check.UNSET,
    ) -> AsyncLease:
        """Keep alive in the background a lease granted elsewhere (by another client or
        process, in any language), as Go's ``KeepAlive(ctx, id)`` does.

        ::

            lease = await client.keep_alive(lease_id)
            ...
            lease.stop_keep_alive()          # leave it to expire (a block revokes it)

        The lease is looked up first: its TTL is the one it was granted with, and a lease
        that does not exist raises :class:`etcd.EtcdLeaseNotFound`. The lease returned is
        the one :meth:`lease` returns, with the same ``on_lost`` and ``wait_lost``.
        """
        from .lease_keeper import AsyncLease

        lease_id = self._existing_lease(lease)
        if self._lease_keeper is not None and self._lease_keeper.keeps(lease_id):
            raise exc.EtcdValueError(f"lease {lease_id:x} is already kept alive by this client")
        status = await self.lease_time_to_live(lease_id, timeout=timeout)
        if not status.exists:
            raise exc.EtcdLeaseNotFound(
                f"lease {lease_id:x} not found (expired or revoked): it cannot be kept alive",
                operation="Lease.LeaseTimeToLive",
            )
        kept = AsyncLease(self, lease_id, status.granted_ttl, on_lost=on_lost)
        kept.keep_alive()
        return kept

    def _existing_lease(self, lease: object) -> int:
        lease_id = check.lease_id(lease)
        if not lease_id:
            raise exc.EtcdValueError("a lease ID must not be 0")
        return lease_id
