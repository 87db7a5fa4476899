"""Cluster membership results, the checks of peer URLs, and the choice of endpoints from a
member list (pure, no I/O).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from . import exceptions as exc
from . import validation as check
from .classic import Member, decode_member
from .config import Endpoint, parse_endpoint
from .responses import ResponseHeader, decode_header

if TYPE_CHECKING:
    pass


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
        from urllib.parse import urlsplit  # kept off the import of the package

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
