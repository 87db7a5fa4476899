"""What every output format shares: the :class:`Printer` interface, :class:`Unsupported`,
the records of answers that are not a single client result, and the helpers that several
formats use.

Each format is a :class:`Printer` with one method per kind of answer; each method takes
the client's typed result and returns the bytes to write. A format that etcdctl does not
define for an answer raises :class:`Unsupported`, as etcdctl refuses it (exit code 4);
:meth:`Printer.supports` tells beforehand, so that a command can refuse before it changes
anything.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from ..._core.auth import AuthStatus, Role, User
from ..._core.classic import Member
from ..._core.cluster import (
    MemberAddResponse,
    MemberListResponse,
    MemberPromoteResponse,
    MemberRemoveResponse,
    MemberUpdateResponse,
)
from ..._core.lease import (
    LeaseGrantResponse,
    LeaseKeepAliveResponse,
    LeaseLeasesResponse,
    LeaseTimeToLiveResponse,
)
from ..._core.maintenance import Alarm, HashKVResponse, StatusResponse
from ..._core.responses import (
    DeleteRangeResponse,
    KeyValue,
    PutResponse,
    ResponseHeader,
    TxnResponse,
)
from ..._core.watch import Event
from .._gofmt import humanize_bytes


class Unsupported(Exception):
    """etcdctl defines no such output for this answer."""

    def __init__(self, output_format: str) -> None:
        super().__init__(f"{output_format} not supported as output format")
        self.format = output_format


# --- answers that are not a single client result ---------------------------------------------


@dataclass(frozen=True, slots=True)
class Health:
    """One endpoint's health, as ``endpoint health`` found it."""

    endpoint: str
    health: bool
    took: str
    """How long the check took, as a Go duration (``"3.82ms"``)."""
    error: str = ""


@dataclass(frozen=True, slots=True)
class NamedStatus:
    endpoint: str
    status: StatusResponse


@dataclass(frozen=True, slots=True)
class NamedHash:
    endpoint: str
    hash: HashKVResponse


@dataclass(frozen=True, slots=True)
class Alarms:
    """``alarm list`` (with the header) or ``alarm disarm`` (without one)."""

    header: ResponseHeader | None
    alarms: Sequence[Alarm] = ()


@dataclass(frozen=True, slots=True)
class Names:
    """``user list`` or ``role list``."""

    header: ResponseHeader
    names: Sequence[str] = ()


@dataclass(frozen=True, slots=True)
class SnapshotStatus:
    """What ``snapshot status`` reads from a snapshot file."""

    hash: int
    revision: int
    total_key: int
    total_size: int


@dataclass(frozen=True, slots=True)
class WatchBatch:
    """One watch response as etcdctl prints it (its Go struct also says whether the
    watch was cancelled, e.g. because its start revision was compacted)."""

    header: ResponseHeader
    events: Sequence[Event] = ()
    compact_revision: int = 0
    canceled: bool = False
    events_null: bool = False
    """A progress notification carries no event list at all (JSON ``null``)."""


class RangeLike(Protocol):
    """What the printers read of a range answer."""

    @property
    def header(self) -> ResponseHeader: ...
    @property
    def kvs(self) -> Sequence[KeyValue]: ...
    @property
    def more(self) -> bool: ...
    @property
    def count(self) -> int: ...


@dataclass(frozen=True, slots=True)
class Observed:
    """A leader seen by ``elect --listen``: etcdctl prints it as a get answer."""

    header: ResponseHeader
    kv: KeyValue
    more: bool = False
    count: int = 0

    @property
    def kvs(self) -> Sequence[KeyValue]:
        return (self.kv,)


# --- the interface --------------------------------------------------------------------------


class Printer:
    """The output of one format; every method not overridden is :class:`Unsupported`."""

    name = "base"

    def __init__(self, *, hex_output: bool = False, value_only: bool = False) -> None:
        self.hex = hex_output
        self.value_only = value_only

    def supports(self, method: str) -> bool:
        """Whether this format defines an output for ``method`` (e.g. ``"member_add"``)."""
        return getattr(type(self), method) is not getattr(Printer, method)

    def _unsupported(self) -> bytes:
        raise Unsupported(self.name)

    # KV
    def get(self, response: RangeLike) -> bytes:
        return self._unsupported()

    def put(self, response: PutResponse) -> bytes:
        return self._unsupported()

    def delete(self, response: DeleteRangeResponse) -> bytes:
        return self._unsupported()

    def txn(self, response: TxnResponse) -> bytes:
        return self._unsupported()

    def watch(self, batch: WatchBatch) -> bytes:
        return self._unsupported()

    def observed(self, seen: Observed) -> bytes:
        return self.get(seen)

    # leases
    def lease_grant(self, response: LeaseGrantResponse) -> bytes:
        return self._unsupported()

    def lease_revoke(self, lease_id: int, header: ResponseHeader) -> bytes:
        return self._unsupported()

    def lease_keep_alive(self, response: LeaseKeepAliveResponse) -> bytes:
        return self._unsupported()

    def lease_time_to_live(self, response: LeaseTimeToLiveResponse, keys: bool) -> bytes:
        return self._unsupported()

    def lease_list(self, response: LeaseLeasesResponse) -> bytes:
        return self._unsupported()

    # cluster
    def member_add(self, response: MemberAddResponse) -> bytes:
        return self._unsupported()

    def member_remove(self, member_id: int, response: MemberRemoveResponse) -> bytes:
        return self._unsupported()

    def member_update(self, member_id: int, response: MemberUpdateResponse) -> bytes:
        return self._unsupported()

    def member_promote(self, member_id: int, response: MemberPromoteResponse) -> bytes:
        return self._unsupported()

    def member_list(self, response: MemberListResponse) -> bytes:
        return self._unsupported()

    # maintenance
    def endpoint_health(self, healths: Sequence[Health]) -> bytes:
        return self._unsupported()

    def endpoint_status(self, statuses: Sequence[NamedStatus]) -> bytes:
        return self._unsupported()

    def endpoint_hashkv(self, hashes: Sequence[NamedHash]) -> bytes:
        return self._unsupported()

    def move_leader(self, leader: int, target: int, header: ResponseHeader) -> bytes:
        return self._unsupported()

    def alarm(self, alarms: Alarms) -> bytes:
        return self._unsupported()

    def snapshot_status(self, status: SnapshotStatus) -> bytes:
        return self._unsupported()

    # auth
    def auth_status(self, status: AuthStatus) -> bytes:
        return self._unsupported()

    def role_add(self, role: str, header: ResponseHeader) -> bytes:
        return self._unsupported()

    def role_get(self, role: Role) -> bytes:
        return self._unsupported()

    def role_delete(self, role: str, header: ResponseHeader) -> bytes:
        return self._unsupported()

    def role_list(self, roles: Names) -> bytes:
        return self._unsupported()

    def role_grant_permission(self, role: str, header: ResponseHeader) -> bytes:
        return self._unsupported()

    def role_revoke_permission(
        self, role: str, key: bytes, range_end: bytes, header: ResponseHeader
    ) -> bytes:
        return self._unsupported()

    def user_add(self, user: str, header: ResponseHeader) -> bytes:
        return self._unsupported()

    def user_get(self, user: User) -> bytes:
        return self._unsupported()

    def user_list(self, users: Names) -> bytes:
        return self._unsupported()

    def user_change_password(self, header: ResponseHeader) -> bytes:
        return self._unsupported()

    def user_grant_role(self, user: str, role: str, header: ResponseHeader) -> bytes:
        return self._unsupported()

    def user_revoke_role(self, user: str, role: str, header: ResponseHeader) -> bytes:
        return self._unsupported()

    def user_delete(self, user: str, header: ResponseHeader) -> bytes:
        return self._unsupported()


# --- helpers of several formats -------------------------------------------------------------


def lines(*items: str | bytes) -> bytes:
    """The items, each ended by a newline."""
    return b"".join((item.encode() if isinstance(item, str) else item) + b"\n" for item in items)


def go_bool(value: bool) -> str:
    return "true" if value else "false"


# ``simple`` prints the rows of the tabular answers comma-separated, ``table`` in boxes.
def member_rows(members: Sequence[Member]) -> list[list[str]]:
    return [
        [
            f"{member.id:x}",
            "started" if member.name else "unstarted",
            member.name,
            ",".join(member.peer_urls),
            ",".join(member.client_urls),
            go_bool(member.is_learner),
        ]
        for member in members
    ]


def health_rows(healths: Sequence[Health]) -> list[list[str]]:
    return [[h.endpoint, go_bool(h.health), h.took, h.error] for h in healths]


def reports_newer_status(statuses: Sequence[NamedStatus]) -> bool:
    """Whether the members report what etcd 3.6 added to a status (it always sends its
    downgrade information): then the columns are etcdctl 3.6's, else etcdctl 3.5's."""
    return any(item.status.downgrade is not None for item in statuses)


def status_rows(statuses: Sequence[NamedStatus]) -> list[list[str]]:
    newer = reports_newer_status(statuses)
    rows = []
    for item in statuses:
        status = item.status
        is_leader = go_bool(status.leader == status.header.member_id)
        raft = [str(status.raft_term), str(status.raft_index), str(status.raft_applied_index)]
        errors = ", ".join(status.errors)
        if not newer:
            rows.append(
                [
                    item.endpoint,
                    f"{status.header.member_id:x}",
                    status.version,
                    humanize_bytes(status.db_size),
                    is_leader,
                    go_bool(status.is_learner),
                    *raft,
                    errors,
                ]
            )
            continue
        downgrade = status.downgrade
        rows.append(
            [
                item.endpoint,
                f"{status.header.member_id:x}",
                status.version,
                status.storage_version,
                humanize_bytes(status.db_size),
                humanize_bytes(status.db_size_in_use),
                f"{_percentage_not_in_use(status.db_size, status.db_size_in_use)}%",
                humanize_bytes(status.db_size_quota),
                is_leader,
                go_bool(status.is_learner),
                *raft,
                errors,
                downgrade.target_version if downgrade else "",
                go_bool(bool(downgrade and downgrade.enabled)),
            ]
        )
    return rows


def _percentage_not_in_use(size: int, in_use: int) -> int:
    # Integer arithmetic, truncated toward zero, as etcdctl computes it.
    if size <= 0:
        return 0
    return 100 - (in_use * 100 // size)


def reports_hash_revisions(hashes: Sequence[NamedHash]) -> bool:
    """Whether the members say up to which revision they hashed (etcd 3.6 and later)."""
    return any(item.hash.hash_revision for item in hashes)


def hash_rows(hashes: Sequence[NamedHash]) -> list[list[str]]:
    if reports_hash_revisions(hashes):
        return [
            [item.endpoint, str(item.hash.hash), str(item.hash.hash_revision)] for item in hashes
        ]
    return [[item.endpoint, str(item.hash.hash)] for item in hashes]


def snapshot_row(status: SnapshotStatus) -> list[str]:
    return [
        f"{status.hash:x}",
        str(status.revision),
        str(status.total_key),
        humanize_bytes(status.total_size),
    ]
