"""Cluster membership (etcd's ``Cluster`` service) and endpoint auto-sync.

The decoders, the checks of peer URLs and the choice of endpoints from a member list are
pure functions; :class:`ClusterMixin` adds the calls to the client.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from . import _exceptions as exc
from . import _validation as check
from ._classic import Member, decode_member
from ._config import Endpoint, parse_endpoint
from ._models import ResponseHeader, decode_header
from ._validation import Timeout
from ._wire import messages as pb
from ._wire import methods

if TYPE_CHECKING:
    from ._transport import Transport

__all__ = [
    "ClusterMixin",
    "MemberAddResponse",
    "MemberListResponse",
    "MemberPromoteResponse",
    "MemberRemoveResponse",
    "MemberUpdateResponse",
    "check_member_id",
    "check_peer_urls",
    "decode_member_add",
    "decode_member_list",
    "endpoints_from_members",
    "leader_endpoint",
]


log = logging.getLogger(__name__)


# --- results ------------------------------------------------------------------------------


@dataclass(slots=True)
class MemberListResponse:
    """The answer to :meth:`etcd.Client.member_list`."""

    header: ResponseHeader
    members: list[Member] = field(default_factory=list)
    """Every member of the cluster, learners included."""


@dataclass(slots=True)
class MemberAddResponse:
    """The answer to :meth:`etcd.Client.member_add`."""

    header: ResponseHeader
    member: Member
    """The new member: its ID, and no name or client URLs until it has started."""
    members: list[Member] = field(default_factory=list)
    """The whole membership after the addition."""


@dataclass(slots=True)
class MemberRemoveResponse:
    """The answer to :meth:`etcd.Client.member_remove`."""

    header: ResponseHeader
    members: list[Member] = field(default_factory=list)
    """The membership after the removal."""


@dataclass(slots=True)
class MemberUpdateResponse:
    """The answer to :meth:`etcd.Client.member_update`."""

    header: ResponseHeader
    members: list[Member] = field(default_factory=list)
    """The membership after the change."""


@dataclass(slots=True)
class MemberPromoteResponse:
    """The answer to :meth:`etcd.Client.member_promote`."""

    header: ResponseHeader
    members: list[Member] = field(default_factory=list)
    """The membership after the promotion."""


# --- decoders (pure) ----------------------------------------------------------------------


def _members(response: Any) -> list[Member]:
    return [decode_member(member) for member in response.members]


def decode_member_list(response: Any) -> MemberListResponse:
    return MemberListResponse(decode_header(response.header), _members(response))


def decode_member_add(response: Any) -> MemberAddResponse:
    return MemberAddResponse(
        decode_header(response.header), decode_member(response.member), _members(response)
    )


def decode_member_remove(response: Any) -> MemberRemoveResponse:
    return MemberRemoveResponse(decode_header(response.header), _members(response))


def decode_member_update(response: Any) -> MemberUpdateResponse:
    return MemberUpdateResponse(decode_header(response.header), _members(response))


def decode_member_promote(response: Any) -> MemberPromoteResponse:
    return MemberPromoteResponse(decode_header(response.header), _members(response))


# --- checks (pure) ------------------------------------------------------------------------


def check_member_id(value: object, what: str = "member_id") -> int:
    """A member ID: a positive 64-bit unsigned integer."""
    member_id = check.integer(value, what, minimum=0, maximum=check.UINT64_MAX)
    if member_id == 0:
        raise exc.EtcdValueError(f"{what} must not be 0")
    return member_id


def check_peer_urls(peer_urls: object, what: str = "peer_urls") -> list[str]:
    """A non-empty list of distinct ``http://host:port`` or ``https://host:port`` URLs.

    etcd refuses anything else (a path, a missing port, another scheme); refusing here
    gives a clearer message and sends nothing.
    """
    if isinstance(peer_urls, (str, bytes)) or not isinstance(peer_urls, Iterable):
        raise exc.EtcdTypeError(
            f"{what} must be a list of URLs, not {type(peer_urls).__name__}"
            + (" (wrap a single URL in a list)" if isinstance(peer_urls, str) else "")
        )
    urls = list(peer_urls)
    if not urls:
        raise exc.EtcdValueError(f"{what} must hold at least one URL")
    seen: set[str] = set()
    for url in urls:
        if not isinstance(url, str):
            raise exc.EtcdTypeError(f"each of {what} must be a str, not {type(url).__name__}")
        _check_peer_url(url, what)
        if url in seen:
            raise exc.EtcdValueError(f"{what} lists {url!r} twice")
        seen.add(url)
    return urls


def _check_peer_url(url: str, what: str) -> None:
    problem = f"{what}: {url!r} is not an http(s)://host:port URL"
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise exc.EtcdValueError(f"{problem} ({error})") from None
    if parts.scheme not in ("http", "https"):
        raise exc.EtcdValueError(f"{problem} (the scheme must be http or https)")
    if not parts.hostname:
        raise exc.EtcdValueError(f"{problem} (no host)")
    if port is None:
        raise exc.EtcdValueError(f"{problem} (no port)")
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        raise exc.EtcdValueError(f"{problem} (only a scheme, a host and a port are allowed)")


# --- choosing endpoints (pure) ------------------------------------------------------------


def _scheme_endpoint(url: str, secure: bool) -> Endpoint | None:
    """The endpoint of a client URL whose scheme matches the client's, else ``None``."""
    scheme = url.partition("://")[0].lower() if "://" in url else ""
    if scheme not in ("http", "https") or (scheme == "https") != secure:
        return None
    try:
        return parse_endpoint(url)
    except exc.EtcdException:
        return None


def endpoints_from_members(members: Sequence[Member], *, secure: bool) -> tuple[Endpoint, ...]:
    """The endpoints a client should use, from the cluster's member list.

    As Go's client does when it syncs: only started members (they have a name and client
    URLs) that vote (learners serve too little to be general endpoints). Only the URLs of
    the client's own scheme are kept (``https`` for a TLS client, ``http`` otherwise), so
    the client never ends up talking plain text to a TLS port, or the reverse. Order is
    the members' order; duplicates are dropped.
    """
    found: list[Endpoint] = []
    targets: set[str] = set()
    for member in members:
        if member.is_learner or not member.name:
            continue
        for url in member.client_urls:
            endpoint = _scheme_endpoint(url, secure)
            if endpoint is not None and endpoint.target not in targets:
                targets.add(endpoint.target)
                found.append(endpoint)
    return tuple(found)


def leader_endpoint(members: Sequence[Member], leader_id: int, *, secure: bool) -> Endpoint | None:
    """An endpoint of the member ``leader_id``, of the client's scheme; ``None`` if unknown."""
    for member in members:
        if member.id == leader_id:
            for url in member.client_urls:
                endpoint = _scheme_endpoint(url, secure)
                if endpoint is not None:
                    return endpoint
    return None


# --- the calls ----------------------------------------------------------------------------


def list_members(
    transport: Transport,
    timeout: float | None,
    *,
    linearizable: bool = True,
    endpoint: Endpoint | None = None,
) -> MemberListResponse:
    """``Cluster.MemberList`` over ``transport`` (shared with the maintenance calls)."""
    response = transport.unary(
        methods.CLUSTER_MEMBER_LIST,
        pb.MemberListRequest(linearizable=linearizable),
        timeout=timeout,
        mutation=False,
        endpoint=endpoint,
    )
    return decode_member_list(response)


class _AutoSync(threading.Thread):
    """Syncs a client's endpoints every ``interval`` seconds until stopped or closed.

    Holds the client weakly: a client that is dropped without being closed does not stay
    alive for this thread's sake.
    """

    def __init__(self, client: ClusterMixin, interval: float) -> None:
        super().__init__(name="etcd-auto-sync", daemon=True)
        self._client = weakref.ref(client)
        self.interval = interval
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(self.interval):
            client = self._client()
            if client is None:
                return
            try:
                client.sync_endpoints()
            except (exc.EtcdClientClosed, exc.EtcdForkedClient):
                return
            except Exception as error:
                # Never fatal: the next round tries again.
                log.info("endpoint auto-sync failed (retrying in %g s): %s", self.interval, error)
            finally:
                del client


class ClusterMixin:
    """Membership calls and endpoint syncing, mixed into :class:`etcd.Client`."""

    _transport: Transport
    _auto_sync: _AutoSync | None = None

    if TYPE_CHECKING:

        def _call_timeout(self, timeout: float | check._Unset | None) -> float | None: ...

    def member_list(
        self, *, linearizable: bool = True, timeout: Timeout = check.UNSET
    ) -> MemberListResponse:
        """Every member of the cluster (etcd's ``MemberList``).

        Args:
            linearizable: ``True`` (the default) asks the leader's view, so that a member
                added or removed a moment ago is already shown; ``False`` accepts the
                contacted member's own, possibly stale, view (works without a leader).
        """
        return list_members(
            self._transport,
            self._call_timeout(timeout),
            linearizable=check.boolean(linearizable, "linearizable"),
        )

    def member_add(
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
        request = pb.MemberAddRequest(
            peerURLs=check_peer_urls(peer_urls), isLearner=check.boolean(learner, "learner")
        )
        response = self._transport.unary(
            methods.CLUSTER_MEMBER_ADD, request, timeout=self._call_timeout(timeout), mutation=True
        )
        return decode_member_add(response)

    def member_remove(
        self, member_id: int, *, timeout: Timeout = check.UNSET
    ) -> MemberRemoveResponse:
        """Remove the member ``member_id`` from the cluster (``MemberRemove``).

        Raises :class:`etcd.EtcdNotFound` for an unknown ID.
        """
        request = pb.MemberRemoveRequest(ID=check_member_id(member_id))
        response = self._transport.unary(
            methods.CLUSTER_MEMBER_REMOVE,
            request,
            timeout=self._call_timeout(timeout),
            mutation=True,
        )
        return decode_member_remove(response)

    def member_update(
        self, member_id: int, peer_urls: Sequence[str], *, timeout: Timeout = check.UNSET
    ) -> MemberUpdateResponse:
        """Change the peer URLs of the member ``member_id`` (``MemberUpdate``)."""
        request = pb.MemberUpdateRequest(
            ID=check_member_id(member_id), peerURLs=check_peer_urls(peer_urls)
        )
        response = self._transport.unary(
            methods.CLUSTER_MEMBER_UPDATE,
            request,
            timeout=self._call_timeout(timeout),
            mutation=True,
        )
        return decode_member_update(response)

    def member_promote(
        self, member_id: int, *, timeout: Timeout = check.UNSET
    ) -> MemberPromoteResponse:
        """Make the learner ``member_id`` a voting member (``MemberPromote``).

        The server refuses (:class:`etcd.EtcdPreconditionFailed`) while the learner has
        not started or has not caught up with the leader's log: retry later.
        """
        request = pb.MemberPromoteRequest(ID=check_member_id(member_id))
        response = self._transport.unary(
            methods.CLUSTER_MEMBER_PROMOTE,
            request,
            timeout=self._call_timeout(timeout),
            mutation=True,
        )
        return decode_member_promote(response)

    # --- endpoints ------------------------------------------------------------------------

    def sync_endpoints(self, *, timeout: Timeout = check.UNSET) -> list[str]:
        """Replace the client's endpoints with the cluster members' client URLs.

        Uses the URLs of the started, voting members with the client's scheme, and returns
        them. The member in use is kept when
        it is still in the list. Raises :class:`etcd.EtcdUnavailable`, and changes
        nothing, when no member advertises a usable URL.
        """
        listed = list_members(self._transport, self._call_timeout(timeout))
        secure = self._transport.config.secure
        endpoints = endpoints_from_members(listed.members, secure=secure)
        if not endpoints:
            scheme = "https" if secure else "http"
            raise exc.EtcdUnavailable(
                f"no started voting member advertises an {scheme} client URL; "
                "keeping the current endpoints"
            )
        if endpoints != self._transport.endpoints:
            log.info("endpoints synced: %s", ", ".join(e.url for e in endpoints))
            self._transport.set_endpoints(endpoints)
        return [endpoint.url for endpoint in endpoints]

    def start_auto_sync(self, interval: float = 60.0) -> None:
        """Sync the endpoints (:meth:`sync_endpoints`) every ``interval`` seconds.

        Runs in a daemon thread until :meth:`stop_auto_sync` or until the client is closed.
        A failed sync is logged (at INFO) and tried again at the next interval. Calling it
        again replaces the running schedule.
        """
        seconds = check.timeout(interval, "interval")
        if seconds is None:
            raise exc.EtcdValueError("interval must be a positive number of seconds")
        self.stop_auto_sync()
        syncer = _AutoSync(self, seconds)
        self._auto_sync = syncer
        syncer.start()

    def stop_auto_sync(self, timeout: float | None = 5.0) -> None:
        """Stop the auto-sync thread, if running, and wait up to ``timeout`` s for it."""
        syncer = self._auto_sync
        if syncer is None:
            return
        self._auto_sync = None
        syncer.stopped.set()
        if syncer is not threading.current_thread():
            syncer.join(timeout)

    @property
    def auto_sync_running(self) -> bool:
        """Whether the auto-sync thread runs."""
        syncer = self._auto_sync
        return syncer is not None and syncer.is_alive()
