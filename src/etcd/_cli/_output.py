"""The output formats of ``-w simple|json|fields|table``, byte for byte etcdctl's (pure).

Each format is a :class:`Printer` with one method per kind of answer; each method takes
the client's typed result and returns the bytes to write. A format that etcdctl does not
define for an answer raises :class:`Unsupported`, as etcdctl refuses it (exit code 4);
:meth:`Printer.supports` tells beforehand, so that a command can refuse before it changes
anything.

What etcdctl's formats are:

``simple``
    Hand-written lines; keys and values raw (or ``\\xNN`` each byte with ``--hex``),
    lease and member IDs in hex.
``json``
    Go's ``encoding/json`` of etcd's protobuf messages: snake_case names, zero values
    left out, 64-bit IDs as plain numbers, keys and values in base64. Some answers are
    Go client structs instead (leases, watches), with their own names and the header's
    fields inlined; ``--hex`` prints the IDs of ``member list`` in hex.
``fields``
    ``"Name" : value`` lines, strings quoted as Go's ``%q``.
``table``
    Boxes drawn as etcdctl's table library draws them (see :mod:`._table`).
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final, Protocol

from .._core.auth import AuthStatus, Permission, PermissionType, Role, User
from .._core.classic import Member
from .._core.cluster import (
    MemberAddResponse,
    MemberListResponse,
    MemberPromoteResponse,
    MemberRemoveResponse,
    MemberUpdateResponse,
)
from .._core.kv import prefix_end
from .._core.lease import (
    LeaseGrantResponse,
    LeaseKeepAliveResponse,
    LeaseLeasesResponse,
    LeaseTimeToLiveResponse,
)
from .._core.maintenance import ALARM_TYPES, Alarm, HashKVResponse, StatusResponse
from .._core.responses import (
    DeleteRangeResponse,
    KeyValue,
    OpResponse,
    PutResponse,
    RangeResponse,
    ResponseHeader,
    TxnResponse,
)
from .._core.watch import Event, EventType
from . import _table
from ._gofmt import hex_escaped, humanize_bytes, json_string, quote

FORMATS: Final = ("simple", "json", "fields", "table")


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


# --- the printers ---------------------------------------------------------------------------


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


def _lines(*lines: str | bytes) -> bytes:
    return b"".join((line.encode() if isinstance(line, str) else line) + b"\n" for line in lines)


def _go_bool(value: bool) -> str:
    return "true" if value else "false"


def _go_list(items: Iterable[str]) -> str:
    """Go's ``%v`` of a ``[]string``."""
    return "[" + " ".join(items) + "]"


def _alarm_text(alarm: Alarm) -> str:
    """An alarm as etcd's protobuf text (``%+v``) writes it, trailing space included."""
    text = f"memberID:{alarm.member_id} " if alarm.member_id else ""
    if alarm.alarm != "NONE":
        text += f"alarm:{alarm.alarm} "
    return text


# --- simple ---------------------------------------------------------------------------------


def _member_rows(members: Sequence[Member]) -> list[list[str]]:
    return [
        [
            f"{member.id:x}",
            "started" if member.name else "unstarted",
            member.name,
            ",".join(member.peer_urls),
            ",".join(member.client_urls),
            _go_bool(member.is_learner),
        ]
        for member in members
    ]


_MEMBER_HEADER: Final = ["ID", "STATUS", "NAME", "PEER ADDRS", "CLIENT ADDRS", "IS LEARNER"]
_HEALTH_HEADER: Final = ["ENDPOINT", "HEALTH", "TOOK", "ERROR"]
_STATUS_HEADER: Final = [
    "ENDPOINT",
    "ID",
    "VERSION",
    "DB SIZE",
    "IS LEADER",
    "IS LEARNER",
    "RAFT TERM",
    "RAFT INDEX",
    "RAFT APPLIED INDEX",
    "ERRORS",
]
_HASH_HEADER: Final = ["ENDPOINT", "HASH"]
_SNAPSHOT_HEADER: Final = ["HASH", "REVISION", "TOTAL KEYS", "TOTAL SIZE"]


def _health_rows(healths: Sequence[Health]) -> list[list[str]]:
    return [[h.endpoint, _go_bool(h.health), h.took, h.error] for h in healths]


def _status_rows(statuses: Sequence[NamedStatus]) -> list[list[str]]:
    return [
        [
            item.endpoint,
            f"{item.status.header.member_id:x}",
            item.status.version,
            humanize_bytes(item.status.db_size),
            _go_bool(item.status.leader == item.status.header.member_id),
            _go_bool(item.status.is_learner),
            str(item.status.raft_term),
            str(item.status.raft_index),
            str(item.status.raft_applied_index),
            ", ".join(item.status.errors),
        ]
        for item in statuses
    ]


def _hash_rows(hashes: Sequence[NamedHash]) -> list[list[str]]:
    return [[item.endpoint, str(item.hash.hash)] for item in hashes]


def _snapshot_row(status: SnapshotStatus) -> list[str]:
    return [
        f"{status.hash:x}",
        str(status.revision),
        str(status.total_key),
        humanize_bytes(status.total_size),
    ]


def _permission_lines(permissions: Sequence[Permission]) -> list[bytes]:
    def describe(permission: Permission) -> bytes:
        key, end = permission.key, permission.range_end
        if not end:
            return b"\t" + key
        if end == b"\0":
            return b"\t[" + key + b", <open ended>"
        text = b"\t[" + key + b", " + end + b")"
        if end == prefix_end(key):
            text += b" (prefix " + key + b")"
        return text

    reads = [p for p in permissions if p.type in (PermissionType.READ, PermissionType.READWRITE)]
    writes = [p for p in permissions if p.type in (PermissionType.WRITE, PermissionType.READWRITE)]
    return [b"KV Read:", *map(describe, reads), b"KV Write:", *map(describe, writes)]


class SimplePrinter(Printer):
    name = "simple"

    def _kv(self, kv: KeyValue) -> bytes:
        key, value = kv.key, kv.value
        if self.hex:
            key, value = hex_escaped(key), hex_escaped(value)
        if self.value_only:
            return _lines(value)
        return _lines(key, value)

    def get(self, response: RangeLike) -> bytes:
        return b"".join(self._kv(kv) for kv in response.kvs)

    def put(self, response: PutResponse) -> bytes:
        out = _lines("OK")
        if response.prev_kv is not None:
            out += self._kv(response.prev_kv)
        return out

    def delete(self, response: DeleteRangeResponse) -> bytes:
        return _lines(str(response.deleted)) + b"".join(self._kv(kv) for kv in response.prev_kvs)

    def txn(self, response: TxnResponse) -> bytes:
        out = _lines("SUCCESS" if response.succeeded else "FAILURE")
        for item in response.responses:
            out += b"\n"
            if isinstance(item, RangeResponse):
                out += self.get(item)
            elif isinstance(item, PutResponse):
                out += self.put(item)
            elif isinstance(item, DeleteRangeResponse):
                out += self.delete(item)
            else:
                out += self.txn(item)
        return out

    def watch(self, batch: WatchBatch) -> bytes:
        out = b""
        for event in batch.events:
            out += _lines(event.type.name)
            if event.prev_kv is not None:
                out += self._kv(event.prev_kv)
            out += self._kv(event.kv)
        return out

    def lease_grant(self, response: LeaseGrantResponse) -> bytes:
        return _lines(f"lease {response.id:016x} granted with TTL({response.ttl}s)")

    def lease_revoke(self, lease_id: int, header: ResponseHeader) -> bytes:
        return _lines(f"lease {lease_id:016x} revoked")

    def lease_keep_alive(self, response: LeaseKeepAliveResponse) -> bytes:
        return _lines(f"lease {response.id:016x} keepalived with TTL({response.ttl})")

    def lease_time_to_live(self, response: LeaseTimeToLiveResponse, keys: bool) -> bytes:
        if response.granted_ttl == 0 and response.ttl == -1:
            return _lines(f"lease {response.id:016x} already expired")
        text = (
            f"lease {response.id:016x} granted with TTL({response.granted_ttl}s), "
            f"remaining({response.ttl}s)"
        ).encode()
        if keys:
            text += b", attached keys([" + b" ".join(response.keys) + b"])"
        return _lines(text)

    def lease_list(self, response: LeaseLeasesResponse) -> bytes:
        return _lines(
            f"found {len(response.ids)} leases", *(f"{lease:016x}" for lease in response.ids)
        )

    def member_add(self, response: MemberAddResponse) -> bytes:
        return _lines(
            f"Member {response.member.id:16x} added to cluster {response.header.cluster_id:16x}"
        )

    def member_remove(self, member_id: int, response: MemberRemoveResponse) -> bytes:
        return _lines(
            f"Member {member_id:16x} removed from cluster {response.header.cluster_id:16x}"
        )

    def member_update(self, member_id: int, response: MemberUpdateResponse) -> bytes:
        return _lines(f"Member {member_id:16x} updated in cluster {response.header.cluster_id:16x}")

    def member_promote(self, member_id: int, response: MemberPromoteResponse) -> bytes:
        return _lines(
            f"Member {member_id:16x} promoted in cluster {response.header.cluster_id:16x}"
        )

    def member_list(self, response: MemberListResponse) -> bytes:
        return _lines(*(", ".join(row) for row in _member_rows(response.members)))

    def endpoint_health(self, healths: Sequence[Health]) -> bytes:
        # Unhealthy endpoints are reported on stderr by the command, as etcdctl does.
        return _lines(
            *(
                f"{h.endpoint} is healthy: successfully committed proposal: took = {h.took}"
                for h in healths
                if not h.error
            )
        )

    def endpoint_status(self, statuses: Sequence[NamedStatus]) -> bytes:
        return _lines(*(", ".join(row) for row in _status_rows(statuses)))

    def endpoint_hashkv(self, hashes: Sequence[NamedHash]) -> bytes:
        return _lines(*(", ".join(row) for row in _hash_rows(hashes)))

    def move_leader(self, leader: int, target: int, header: ResponseHeader) -> bytes:
        return _lines(f"Leadership transferred from {leader:x} to {target:x}")

    def alarm(self, alarms: Alarms) -> bytes:
        return _lines(*(_alarm_text(alarm) for alarm in alarms.alarms))

    def snapshot_status(self, status: SnapshotStatus) -> bytes:
        return _lines(", ".join(_snapshot_row(status)))

    def auth_status(self, status: AuthStatus) -> bytes:
        return _lines(
            f"Authentication Status: {_go_bool(status.enabled)}",
            f"AuthRevision: {status.auth_revision}",
        )

    def role_add(self, role: str, header: ResponseHeader) -> bytes:
        return _lines(f"Role {role} created")

    def role_get(self, role: Role) -> bytes:
        return _lines(f"Role {role.name}", *_permission_lines(role.permissions))

    def role_delete(self, role: str, header: ResponseHeader) -> bytes:
        return _lines(f"Role {role} deleted")

    def role_list(self, roles: Names) -> bytes:
        return _lines(*roles.names)

    def role_grant_permission(self, role: str, header: ResponseHeader) -> bytes:
        return _lines(f"Role {role} updated")

    def role_revoke_permission(
        self, role: str, key: bytes, range_end: bytes, header: ResponseHeader
    ) -> bytes:
        who = f" is revoked from role {role}".encode()
        if not range_end:
            return _lines(b"Permission of key " + key + who)
        if range_end == b"\0":
            return _lines(b"Permission of range [" + key + b", <open ended>" + who)
        return _lines(b"Permission of range [" + key + b", " + range_end + b")" + who)

    def user_add(self, user: str, header: ResponseHeader) -> bytes:
        return _lines(f"User {user} created")

    def user_get(self, user: User) -> bytes:
        return _lines(f"User: {user.name}", "Roles:" + "".join(f" {r}" for r in user.roles))

    def user_list(self, users: Names) -> bytes:
        return _lines(*users.names)

    def user_change_password(self, header: ResponseHeader) -> bytes:
        return _lines("Password updated")

    def user_grant_role(self, user: str, role: str, header: ResponseHeader) -> bytes:
        return _lines(f"Role {role} is granted to user {user}")

    def user_revoke_role(self, user: str, role: str, header: ResponseHeader) -> bytes:
        return _lines(f"Role {role} is revoked from user {user}")

    def user_delete(self, user: str, header: ResponseHeader) -> bytes:
        return _lines(f"User {user} deleted")


# --- json -----------------------------------------------------------------------------------
#
# Values are JSON text; a field whose value is None is left out (Go's omitempty).


def _obj(*fields: tuple[str, str | None]) -> str:
    return "{" + ",".join(f'"{name}":{value}' for name, value in fields if value is not None) + "}"


def _num(value: int, omit_zero: bool = True) -> str | None:
    return None if omit_zero and value == 0 else str(value)


def _b64(value: bytes, omit_empty: bool = True) -> str | None:
    if omit_empty and not value:
        return None
    return '"' + base64.b64encode(value).decode("ascii") + '"'


def _str(value: str, omit_empty: bool = True) -> str | None:
    return None if omit_empty and not value else json_string(value)


def _flag(value: bool, omit_false: bool = True) -> str | None:
    return None if omit_false and not value else _go_bool(value)


def _arr(
    items: Sequence[str], *, omit_empty: bool = True, null_if_empty: bool = False
) -> str | None:
    if not items:
        if omit_empty:
            return None
        if null_if_empty:
            return "null"
    return "[" + ",".join(items) + "]"


def _header_fields(
    header: ResponseHeader, *, revision: bool = True
) -> list[tuple[str, str | None]]:
    return [
        ("cluster_id", _num(header.cluster_id)),
        ("member_id", _num(header.member_id)),
        ("revision", _num(header.revision) if revision else None),
        ("raft_term", _num(header.raft_term)),
    ]


def _header(header: ResponseHeader | None) -> str | None:
    """A response's header; left out when the server sent none (all fields zero: a real
    header always names the cluster)."""
    if header is None or header == ResponseHeader(0, 0, 0, 0):
        return None
    return _obj(*_header_fields(header))


def _kv_json(kv: KeyValue) -> str:
    return _obj(
        ("key", _b64(kv.key)),
        ("create_revision", _num(kv.create_revision)),
        ("mod_revision", _num(kv.mod_revision)),
        ("version", _num(kv.version)),
        ("value", _b64(kv.value)),
        ("lease", _num(kv.lease)),
    )


def _range_json(response: RangeLike) -> str:
    return _obj(
        ("header", _header(response.header)),
        ("kvs", _arr([_kv_json(kv) for kv in response.kvs])),
        ("more", _flag(response.more)),
        ("count", _num(response.count)),
    )


def _put_json(response: PutResponse) -> str:
    prev = response.prev_kv
    return _obj(
        ("header", _header(response.header)),
        ("prev_kv", _kv_json(prev) if prev is not None else None),
    )


def _delete_json(response: DeleteRangeResponse) -> str:
    return _obj(
        ("header", _header(response.header)),
        ("deleted", _num(response.deleted)),
        ("prev_kvs", _arr([_kv_json(kv) for kv in response.prev_kvs])),
    )


def _txn_json(response: TxnResponse) -> str:
    def one(item: OpResponse) -> str:
        if isinstance(item, RangeResponse):
            inner = ("response_range", _range_json(item))
        elif isinstance(item, PutResponse):
            inner = ("response_put", _put_json(item))
        elif isinstance(item, DeleteRangeResponse):
            inner = ("response_delete_range", _delete_json(item))
        else:
            inner = ("response_txn", _txn_json(item))
        return _obj(("Response", _obj(inner)))

    return _obj(
        ("header", _header(response.header)),
        ("succeeded", _flag(response.succeeded)),
        ("responses", _arr([one(item) for item in response.responses])),
    )


def _event_json(event: Event) -> str:
    return _obj(
        ("type", _num(int(event.type))),
        ("kv", _kv_json(event.kv)),
        ("prev_kv", _kv_json(event.prev_kv) if event.prev_kv is not None else None),
    )


def _member_json(member: Member) -> str:
    return _obj(
        ("ID", _num(member.id)),
        ("name", _str(member.name)),
        ("peerURLs", _arr([json_string(u) for u in member.peer_urls])),
        ("clientURLs", _arr([json_string(u) for u in member.client_urls])),
        ("isLearner", _flag(member.is_learner)),
    )


def _members_json(header: ResponseHeader, members: Sequence[Member], **extra: str) -> str:
    return _obj(
        ("header", _obj(*_header_fields(header))),
        *extra.items(),
        ("members", _arr([_member_json(m) for m in members])),
    )


def _status_json(status: StatusResponse) -> str:
    return _obj(
        ("header", _header(status.header)),
        ("version", _str(status.version)),
        ("dbSize", _num(status.db_size)),
        ("leader", _num(status.leader)),
        ("raftIndex", _num(status.raft_index)),
        ("raftTerm", _num(status.raft_term)),
        ("raftAppliedIndex", _num(status.raft_applied_index)),
        ("errors", _arr([json_string(e) for e in status.errors])),
        ("dbSizeInUse", _num(status.db_size_in_use)),
        ("isLearner", _flag(status.is_learner)),
    )


def _header_only(header: ResponseHeader) -> bytes:
    return _lines(_obj(("header", _header(header))))


class JsonPrinter(Printer):
    name = "json"

    def get(self, response: RangeLike) -> bytes:
        return _lines(_range_json(response))

    def put(self, response: PutResponse) -> bytes:
        return _lines(_put_json(response))

    def delete(self, response: DeleteRangeResponse) -> bytes:
        return _lines(_delete_json(response))

    def txn(self, response: TxnResponse) -> bytes:
        return _lines(_txn_json(response))

    def watch(self, batch: WatchBatch) -> bytes:
        events = (
            "null" if batch.events_null else "[" + ",".join(map(_event_json, batch.events)) + "]"
        )
        return _lines(
            _obj(
                ("Header", _obj(*_header_fields(batch.header))),
                ("Events", events),
                ("CompactRevision", str(batch.compact_revision)),
                ("Canceled", _go_bool(batch.canceled)),
                ("Created", "false"),
            )
        )

    def lease_grant(self, response: LeaseGrantResponse) -> bytes:
        return _lines(
            _obj(
                *_header_fields(response.header),
                ("ID", str(response.id)),
                ("TTL", str(response.ttl)),
                ("Error", '""'),
            )
        )

    def lease_revoke(self, lease_id: int, header: ResponseHeader) -> bytes:
        return _header_only(header)

    def lease_keep_alive(self, response: LeaseKeepAliveResponse) -> bytes:
        return _lines(
            _obj(
                *_header_fields(response.header),
                ("ID", str(response.id)),
                ("TTL", str(response.ttl)),
            )
        )

    def lease_time_to_live(self, response: LeaseTimeToLiveResponse, keys: bool) -> bytes:
        key_list = [_b64(key, omit_empty=False) or '""' for key in response.keys]
        return _lines(
            _obj(
                *_header_fields(response.header),
                ("id", str(response.id)),
                ("ttl", str(response.ttl)),
                ("granted-ttl", str(response.granted_ttl)),
                ("keys", _arr(key_list, omit_empty=False, null_if_empty=True)),
            )
        )

    def lease_list(self, response: LeaseLeasesResponse) -> bytes:
        leases = [_obj(("id", str(lease))) for lease in response.ids]
        return _lines(
            _obj(*_header_fields(response.header), ("leases", _arr(leases, omit_empty=False)))
        )

    def member_add(self, response: MemberAddResponse) -> bytes:
        return _lines(
            _members_json(response.header, response.members, member=_member_json(response.member))
        )

    def member_remove(self, member_id: int, response: MemberRemoveResponse) -> bytes:
        return _lines(_members_json(response.header, response.members))

    def member_update(self, member_id: int, response: MemberUpdateResponse) -> bytes:
        return _lines(_members_json(response.header, response.members))

    def member_promote(self, member_id: int, response: MemberPromoteResponse) -> bytes:
        return _lines(_members_json(response.header, response.members))

    def member_list(self, response: MemberListResponse) -> bytes:
        if not self.hex:
            return _lines(_members_json(response.header, response.members))
        # etcdctl writes this one by hand, with its quirks: IDs as unpadded hex strings,
        # the name unescaped, "clientURLS", no learner flag.
        header = response.header
        text = (
            f'{{"header":{{"cluster_id":"{header.cluster_id:x}",'
            f'"member_id":"{header.member_id:x}","raft_term":{header.raft_term}'
        )
        for index, member in enumerate(response.members):
            text += '},"members":[{"ID":"' if index == 0 else ',{"ID":"'
            peers = _arr([json_string(u) for u in member.peer_urls]) or "null"
            clients = _arr([json_string(u) for u in member.client_urls]) or "null"
            text += (
                f'{member.id:x}","name":"{member.name}","peerURLs":{peers},"clientURLS":{clients}}}'
            )
            if index == len(response.members) - 1:
                text += "]}"
        return _lines(text)

    def endpoint_health(self, healths: Sequence[Health]) -> bytes:
        items = [
            _obj(
                ("endpoint", json_string(h.endpoint)),
                ("health", _go_bool(h.health)),
                ("took", json_string(h.took)),
                ("error", _str(h.error)),
            )
            for h in healths
        ]
        return _lines(_arr(items, omit_empty=False, null_if_empty=True) or "null")

    def endpoint_status(self, statuses: Sequence[NamedStatus]) -> bytes:
        items = [
            _obj(("Endpoint", json_string(s.endpoint)), ("Status", _status_json(s.status)))
            for s in statuses
        ]
        return _lines(_arr(items, omit_empty=False) or "[]")

    def endpoint_hashkv(self, hashes: Sequence[NamedHash]) -> bytes:
        items = [
            _obj(
                ("Endpoint", json_string(h.endpoint)),
                (
                    "HashKV",
                    _obj(
                        ("header", _header(h.hash.header)),
                        ("hash", _num(h.hash.hash)),
                        ("compact_revision", _num(h.hash.compact_revision)),
                    ),
                ),
            )
            for h in hashes
        ]
        return _lines(_arr(items, omit_empty=False) or "[]")

    def move_leader(self, leader: int, target: int, header: ResponseHeader) -> bytes:
        return _header_only(header)

    def alarm(self, alarms: Alarms) -> bytes:
        items = [
            _obj(
                ("memberID", _num(alarm.member_id)),
                (
                    "alarm",
                    _num(ALARM_TYPES.index(alarm.alarm) if alarm.alarm in ALARM_TYPES else 0),
                ),
            )
            for alarm in alarms.alarms
        ]
        return _lines(_obj(("header", _header(alarms.header)), ("alarms", _arr(items))))

    def snapshot_status(self, status: SnapshotStatus) -> bytes:
        return _lines(
            _obj(
                ("hash", str(status.hash)),
                ("revision", str(status.revision)),
                ("totalKey", str(status.total_key)),
                ("totalSize", str(status.total_size)),
            )
        )

    def auth_status(self, status: AuthStatus) -> bytes:
        return _lines(
            _obj(
                ("header", _header(status.header)),
                ("enabled", _flag(status.enabled)),
                ("authRevision", _num(status.auth_revision)),
            )
        )

    def role_add(self, role: str, header: ResponseHeader) -> bytes:
        return _header_only(header)

    def role_get(self, role: Role) -> bytes:
        permissions = [
            _obj(
                ("permType", _num(int(p.type))),
                ("key", _b64(p.key)),
                ("range_end", _b64(p.range_end)),
            )
            for p in role.permissions
        ]
        return _lines(_obj(("header", _header(role.header)), ("perm", _arr(permissions))))

    def role_delete(self, role: str, header: ResponseHeader) -> bytes:
        return _header_only(header)

    def role_list(self, roles: Names) -> bytes:
        names = [json_string(name) for name in roles.names]
        return _lines(_obj(("header", _header(roles.header)), ("roles", _arr(names))))

    def role_grant_permission(self, role: str, header: ResponseHeader) -> bytes:
        return _header_only(header)

    def role_revoke_permission(
        self, role: str, key: bytes, range_end: bytes, header: ResponseHeader
    ) -> bytes:
        return _header_only(header)

    def user_add(self, user: str, header: ResponseHeader) -> bytes:
        return _header_only(header)

    def user_get(self, user: User) -> bytes:
        roles = [json_string(name) for name in user.roles]
        return _lines(_obj(("header", _header(user.header)), ("roles", _arr(roles))))

    def user_list(self, users: Names) -> bytes:
        names = [json_string(name) for name in users.names]
        return _lines(_obj(("header", _header(users.header)), ("users", _arr(names))))

    def user_change_password(self, header: ResponseHeader) -> bytes:
        return _header_only(header)

    def user_grant_role(self, user: str, role: str, header: ResponseHeader) -> bytes:
        return _header_only(header)

    def user_revoke_role(self, user: str, role: str, header: ResponseHeader) -> bytes:
        return _header_only(header)

    def user_delete(self, user: str, header: ResponseHeader) -> bytes:
        return _header_only(header)


# --- fields ---------------------------------------------------------------------------------


def _field(name: str, value: object) -> str:
    """``"Name" : value`` as Go's ``fmt.Println`` writes its operands."""
    if isinstance(value, bool):
        value = _go_bool(value)
    return f'"{name}" : {value}'


def _fields_header(header: ResponseHeader | None) -> list[str]:
    if header is None:
        return []
    return [
        _field("ClusterID", header.cluster_id),
        _field("MemberID", header.member_id),
        _field("Revision", header.revision),
        _field("RaftTerm", header.raft_term),
    ]


def _fields_kv(kv: KeyValue, prefix: str = "") -> list[str]:
    return [
        _field(f"{prefix}Key", quote(kv.key)),
        _field(f"{prefix}CreateRevision", kv.create_revision),
        _field(f"{prefix}ModRevision", kv.mod_revision),
        _field(f"{prefix}Version", kv.version),
        _field(f"{prefix}Value", quote(kv.value)),
        _field(f"{prefix}Lease", kv.lease),
    ]


class FieldsPrinter(Printer):
    name = "fields"

    def _get_lines(self, response: RangeLike) -> list[str]:
        out = _fields_header(response.header)
        for kv in response.kvs:
            out += _fields_kv(kv)
        return [*out, _field("More", response.more), _field("Count", response.count)]

    def _put_lines(self, response: PutResponse) -> list[str]:
        out = _fields_header(response.header)
        if response.prev_kv is not None:
            out += _fields_kv(response.prev_kv, "Prev")
        return out

    def _delete_lines(self, response: DeleteRangeResponse) -> list[str]:
        out = [*_fields_header(response.header), _field("Deleted", response.deleted)]
        for kv in response.prev_kvs:
            out += _fields_kv(kv, "Prev")
        return out

    def _txn_lines(self, response: TxnResponse) -> list[str]:
        out = [*_fields_header(response.header), _field("Succeeded", response.succeeded)]
        for item in response.responses:
            if isinstance(item, RangeResponse):
                out += self._get_lines(item)
            elif isinstance(item, PutResponse):
                out += self._put_lines(item)
            elif isinstance(item, DeleteRangeResponse):
                out += self._delete_lines(item)
            else:
                out += self._txn_lines(item)
        return out

    def get(self, response: RangeLike) -> bytes:
        return _lines(*self._get_lines(response))

    def put(self, response: PutResponse) -> bytes:
        return _lines(*self._put_lines(response))

    def delete(self, response: DeleteRangeResponse) -> bytes:
        return _lines(*self._delete_lines(response))

    def txn(self, response: TxnResponse) -> bytes:
        return _lines(*self._txn_lines(response))

    def watch(self, batch: WatchBatch) -> bytes:
        out = _fields_header(batch.header)
        for event in batch.events:
            out.append(f'"Type" : {EventType(event.type).name}')
            if event.prev_kv is not None:
                out += _fields_kv(event.prev_kv, "Prev")
            out += _fields_kv(event.kv)
        return _lines(*out)

    def lease_grant(self, response: LeaseGrantResponse) -> bytes:
        return _lines(
            *_fields_header(response.header),
            _field("ID", response.id),
            _field("TTL", response.ttl),
        )

    def lease_revoke(self, lease_id: int, header: ResponseHeader) -> bytes:
        return _lines(*_fields_header(header))

    def lease_keep_alive(self, response: LeaseKeepAliveResponse) -> bytes:
        return _lines(
            *_fields_header(response.header),
            _field("ID", response.id),
            _field("TTL", response.ttl),
        )

    def lease_time_to_live(self, response: LeaseTimeToLiveResponse, keys: bool) -> bytes:
        return _lines(
            *_fields_header(response.header),
            _field("ID", response.id),
            _field("TTL", response.ttl),
            _field("GrantedTTL", response.granted_ttl),
            *(_field("Key", quote(key)) for key in response.keys),
        )

    def lease_list(self, response: LeaseLeasesResponse) -> bytes:
        return _lines(
            *_fields_header(response.header), *(_field("ID", lease) for lease in response.ids)
        )

    def member_list(self, response: MemberListResponse) -> bytes:
        out = _fields_header(response.header)
        for member in response.members:
            out += [_field("ID", member.id), _field("Name", quote(member.name))]
            out += [_field("PeerURL", quote(url)) for url in member.peer_urls]
            out += [_field("ClientURL", quote(url)) for url in member.client_urls]
            out += [_field("IsLearner", member.is_learner), ""]
        return _lines(*out)

    def endpoint_health(self, healths: Sequence[Health]) -> bytes:
        out: list[str] = []
        for h in healths:
            out += [
                _field("Endpoint", quote(h.endpoint)),
                _field("Health", h.health),
                _field("Took", h.took),
                _field("Error", h.error),
                "",
            ]
        return _lines(*out)

    def endpoint_status(self, statuses: Sequence[NamedStatus]) -> bytes:
        out: list[str] = []
        for item in statuses:
            status = item.status
            out += [
                *_fields_header(status.header),
                _field("Version", quote(status.version)),
                _field("DBSize", status.db_size),
                _field("Leader", status.leader),
                _field("IsLearner", status.is_learner),
                _field("RaftIndex", status.raft_index),
                _field("RaftTerm", status.raft_term),
                _field("RaftAppliedIndex", status.raft_applied_index),
                _field("Errors", _go_list(status.errors)),
                _field("Endpoint", quote(item.endpoint)),
                "",
            ]
        return _lines(*out)

    def endpoint_hashkv(self, hashes: Sequence[NamedHash]) -> bytes:
        out: list[str] = []
        for item in hashes:
            out += [
                *_fields_header(item.hash.header),
                _field("Endpoint", quote(item.endpoint)),
                _field("Hash", item.hash.hash),
                "",
            ]
        return _lines(*out)

    def alarm(self, alarms: Alarms) -> bytes:
        out = _fields_header(alarms.header)
        for alarm in alarms.alarms:
            out += [_field("MemberID", alarm.member_id), _field("AlarmType", alarm.alarm), ""]
        return _lines(*out)

    def snapshot_status(self, status: SnapshotStatus) -> bytes:
        return _lines(
            _field("Hash", status.hash),
            _field("Revision", status.revision),
            _field("Keys", status.total_key),
            _field("Size", status.total_size),
        )

    def role_add(self, role: str, header: ResponseHeader) -> bytes:
        return _lines(*_fields_header(header))

    def role_get(self, role: Role) -> bytes:
        out = _fields_header(role.header)
        for permission in role.permissions:
            out += [
                f'"PermType" :  {permission.type.name}',
                _field("Key", quote(permission.key)),
                _field("RangeEnd", quote(permission.range_end)),
            ]
        return _lines(*out)

    def role_delete(self, role: str, header: ResponseHeader) -> bytes:
        return _lines(*_fields_header(header))

    def role_list(self, roles: Names) -> bytes:
        return _lines(
            *_fields_header(roles.header),
            '"Roles" :' + "".join(f" {quote(r)}" for r in roles.names),
        )

    def role_grant_permission(self, role: str, header: ResponseHeader) -> bytes:
        return _lines(*_fields_header(header))

    def role_revoke_permission(
        self, role: str, key: bytes, range_end: bytes, header: ResponseHeader
    ) -> bytes:
        return _lines(*_fields_header(header))

    def user_add(self, user: str, header: ResponseHeader) -> bytes:
        return _lines(*_fields_header(header))

    def user_change_password(self, header: ResponseHeader) -> bytes:
        return _lines(*_fields_header(header))

    def user_grant_role(self, user: str, role: str, header: ResponseHeader) -> bytes:
        return _lines(*_fields_header(header))

    def user_revoke_role(self, user: str, role: str, header: ResponseHeader) -> bytes:
        return _lines(*_fields_header(header))

    def user_delete(self, user: str, header: ResponseHeader) -> bytes:
        return _lines(*_fields_header(header))


# --- table ----------------------------------------------------------------------------------


class TablePrinter(Printer):
    name = "table"

    def member_list(self, response: MemberListResponse) -> bytes:
        return _table.render(_MEMBER_HEADER, _member_rows(response.members)).encode()

    def endpoint_health(self, healths: Sequence[Health]) -> bytes:
        return _table.render(_HEALTH_HEADER, _health_rows(healths)).encode()

    def endpoint_status(self, statuses: Sequence[NamedStatus]) -> bytes:
        return _table.render(_STATUS_HEADER, _status_rows(statuses)).encode()

    def endpoint_hashkv(self, hashes: Sequence[NamedHash]) -> bytes:
        return _table.render(_HASH_HEADER, _hash_rows(hashes)).encode()

    def snapshot_status(self, status: SnapshotStatus) -> bytes:
        return _table.render(_SNAPSHOT_HEADER, [_snapshot_row(status)]).encode()


_PRINTERS: Final[dict[str, type[Printer]]] = {
    "simple": SimplePrinter,
    "json": JsonPrinter,
    "fields": FieldsPrinter,
    "table": TablePrinter,
}


def printer(output_format: str, *, hex_output: bool = False, value_only: bool = False) -> Printer:
    """The printer of ``output_format`` (one of :data:`FORMATS`)."""
    try:
        cls = _PRINTERS[output_format]
    except KeyError:
        raise ValueError(f"unknown output format {output_format!r}") from None
    return cls(hex_output=hex_output, value_only=value_only)
