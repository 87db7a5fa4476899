"""Cluster membership calls (etcd's ``Cluster`` service) and endpoint auto-sync.

Results, checks and the choice of endpoints are pure, in :mod:`etcd._core.cluster`.
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Sequence
from typing import TYPE_CHECKING

from .. import _wire
from .._core import exceptions as exc
from .._core import validation as check
from .._core.log_fields import log_fields
from .._core.validation import Timeout
from .io import Flag, Worker, is_current, is_running, join, spawn
from .part import AsyncClientPart

# The models are imported by the calls that use them: most programs never make these
# calls, and they keep ``import etcd`` light.
if TYPE_CHECKING:
    from .._core.cluster import (
        MemberAddResponse,
        MemberListResponse,
        MemberPromoteResponse,
        MemberRemoveResponse,
        MemberUpdateResponse,
    )
    from .._core.config import Endpoint
    from .transport import AsyncTransport

log = logging.getLogger("etcd.cluster")

_LINEARIZABLE_LIST = "a linearizable member list (MemberList linearizable)"
_LEARNER = "a learner member (MemberAdd isLearner)"


async def list_members(
    transport: AsyncTransport,
    timeout: float | None,
    *,
    linearizable: bool | None = None,
    endpoint: Endpoint | None = None,
) -> MemberListResponse:
    """``Cluster.MemberList`` over ``transport`` (shared with the maintenance calls);
    ``linearizable=None`` asks for it where the member can (etcd 3.5 and later)."""
    from .._core.cluster import decode_member_list

    response = await transport.unary(
        _wire.methods.CLUSTER_MEMBER_LIST,
        _wire.messages.MemberListRequest(linearizable=linearizable is not False),
        timeout=timeout,
        mutation=False,
        endpoint=endpoint,
        requires=_LINEARIZABLE_LIST if linearizable else None,
    )
    return decode_member_list(response)


class _AutoSync:
    """Syncs a client's endpoints every ``interval`` seconds until stopped or closed.

    Holds the client weakly: a client that is dropped without being closed does not stay
    alive for this task's sake.
    """

    def __init__(self, client: AsyncClusterCalls, interval: float) -> None:
        self._client = weakref.ref(client)
        self.interval = interval
        self.stopped = Flag()
        self.worker: Worker | None = None

    def start(self) -> None:
        self.worker = spawn(self.run, name="etcd-auto-sync")

    async def run(self) -> None:
        while not await self.stopped.wait(self.interval):
            client = self._client()
            if client is None:
                return
            try:
                await client.sync_endpoints()
            except (exc.EtcdClientClosed, exc.EtcdForkedClient):
                return
            except Exception as error:
                # Never fatal: the next round tries again.
                log.info(
                    "endpoint auto-sync failed (retrying in %g s): %s",
                    self.interval,
                    error,
                    extra=log_fields(
                        endpoint=getattr(error, "endpoint", None), error=error, delay=self.interval
                    ),
                )
            finally:
                del client


class AsyncClusterCalls(AsyncClientPart):
    """Membership calls and endpoint syncing, mixed into :class:`etcd.Client`."""

    _auto_sync: _AutoSync | None = None

    async def member_list(
        self, *, linearizable: bool | None = None, timeout: Timeout = check.UNSET
    ) -> MemberListResponse:
        """Every member of the cluster (etcd's ``MemberList``).

        Args:
            linearizable: ``True`` asks the leader's view, so that a member added or
                removed a moment ago is already shown (etcd 3.5 and later:
                :class:`etcd.EtcdNotSupported` from an older member); ``False`` accepts
                the contacted member's own, possibly stale, view (works without a
                leader). ``None`` (the default) asks for the leader's view where the
                member can give it.
        """
        if linearizable is not None:
            linearizable = check.boolean(linearizable, "linearizable")
        return await list_members(
            self._transport, self._call_timeout(timeout), linearizable=linearizable
        )

    async def member_add(
        self,
        peer_urls: Sequence[str],
        *,
        learner: bool = False,
        timeout: Timeout = check.UNSET,
    ) -> MemberAddResponse:
        """Add a member that will listen to its peers on ``peer_urls`` (``MemberAdd``).

        The new member must then be started with ``--initial-cluster-state=existing`` and
        an ``--initial-cluster`` that lists it. ``learner=True`` adds it as a non-voting
        learner, promoted later with :meth:`member_promote` once it has caught up: the
        safe way to grow a cluster, since a voting member that never starts can cost the
        cluster its quorum.
        """
        from .._core.cluster import check_peer_urls, decode_member_add

        as_learner = check.boolean(learner, "learner")
        request = _wire.messages.MemberAddRequest(
            peerURLs=check_peer_urls(peer_urls), isLearner=as_learner
        )
        response = await self._transport.unary(
            _wire.methods.CLUSTER_MEMBER_ADD,
            request,
            timeout=self._call_timeout(timeout),
            mutation=True,
            requires=_LEARNER if as_learner else None,
        )
        return decode_member_add(response)

    async def member_remove(
        self, member_id: int, *, timeout: Timeout = check.UNSET
    ) -> MemberRemoveResponse:
        """Remove the member ``member_id`` from the cluster (``MemberRemove``).

        Raises :class:`etcd.EtcdNotFound` for an unknown ID.
        """
        from .._core.cluster import check_member_id, decode_member_remove

        request = _wire.messages.MemberRemoveRequest(ID=check_member_id(member_id))
        response = await self._transport.unary(
            _wire.methods.CLUSTER_MEMBER_REMOVE,
            request,
            timeout=self._call_timeout(timeout),
            mutation=True,
        )
        return decode_member_remove(response)

    async def member_update(
        self, member_id: int, peer_urls: Sequence[str], *, timeout: Timeout = check.UNSET
    ) -> MemberUpdateResponse:
        """Change the peer URLs of the member ``member_id`` (``MemberUpdate``)."""
        from .._core.cluster import check_member_id, check_peer_urls, decode_member_update

        request = _wire.messages.MemberUpdateRequest(
            ID=check_member_id(member_id), peerURLs=check_peer_urls(peer_urls)
        )
        response = await self._transport.unary(
            _wire.methods.CLUSTER_MEMBER_UPDATE,
            request,
            timeout=self._call_timeout(timeout),
            mutation=True,
        )
        return decode_member_update(response)

    async def member_promote(
        self, member_id: int, *, timeout: Timeout = check.UNSET
    ) -> MemberPromoteResponse:
        """Make the learner ``member_id`` a voting member (``MemberPromote``).

        The server refuses (:class:`etcd.EtcdPreconditionFailed`) while the learner has
        not started or has not caught up with the leader's log: retry later.
        """
        from .._core.cluster import check_member_id, decode_member_promote

        request = _wire.messages.MemberPromoteRequest(ID=check_member_id(member_id))
        response = await self._transport.unary(
            _wire.methods.CLUSTER_MEMBER_PROMOTE,
            request,
            timeout=self._call_timeout(timeout),
            mutation=True,
        )
        return decode_member_promote(response)

    # --- endpoints ------------------------------------------------------------------------

    async def sync_endpoints(self, *, timeout: Timeout = check.UNSET) -> list[str]:
        """Replace the client's endpoints with the cluster members' client URLs.

        Uses the URLs of the started, voting members with the client's scheme, and returns
        them. The member in use is kept when
        it is still in the list. Raises :class:`etcd.EtcdUnavailable`, and changes
        nothing, when no member advertises a usable URL.
        """
        from .._core.cluster import endpoints_from_members

        listed = await list_members(self._transport, self._call_timeout(timeout))
        secure = self._transport.config.secure
        endpoints = endpoints_from_members(listed.members, secure=secure)
        if not endpoints:
            scheme = "https" if secure else "http"
            raise exc.EtcdUnavailable(
                f"no started voting member advertises an {scheme} client URL; "
                "keeping the current endpoints"
            )
        if endpoints != self._transport.endpoints:
            log.info(
                "endpoints synced: %s",
                ", ".join(e.url for e in endpoints),
                extra=log_fields(endpoints=endpoints),
            )
            await self._transport.set_endpoints(endpoints)
        return [endpoint.url for endpoint in endpoints]

    def start_auto_sync(self, interval: float = 60.0) -> None:
        """Sync the endpoints (:meth:`sync_endpoints`) every ``interval`` seconds.

        Runs as a task until :meth:`stop_auto_sync` or until the client is closed.
        A failed sync is logged (at INFO) and tried again at the next interval. Calling it
        again replaces the running schedule.
        """
        seconds = check.timeout(interval, "interval")
        if seconds is None:
            raise exc.EtcdValueError("interval must be a positive number of seconds")
        self._signal_auto_sync_stop()
        syncer = _AutoSync(self, seconds)
        self._auto_sync = syncer
        syncer.start()

    def _signal_auto_sync_stop(self) -> _AutoSync | None:
        syncer = self._auto_sync
        self._auto_sync = None
        if syncer is not None:
            syncer.stopped.set()
        return syncer

    async def stop_auto_sync(self, timeout: float | None = 5.0) -> None:
        """Stop the auto-sync task, if running, and wait up to ``timeout`` s for it."""
        syncer = self._signal_auto_sync_stop()
        worker = syncer.worker if syncer is not None else None
        if worker is not None and not is_current(worker):
            await join(worker, timeout)

    @property
    def auto_sync_running(self) -> bool:
        """Whether the auto-sync task runs."""
        syncer = self._auto_sync
        return syncer is not None and syncer.worker is not None and is_running(syncer.worker)
