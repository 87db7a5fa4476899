"""``-w json``: Go's ``encoding/json`` of etcd's protobuf messages, as etcdctl prints them.

Names are snake_case, zero values left out, 64-bit IDs plain numbers, keys and values
base64. Some answers are Go client structs instead (leases, watches), with their own names
and the header's fields inlined; ``--hex`` prints the IDs of ``member list`` in hex.

The helpers build JSON text; a field whose value is None is left out (Go's omitempty).
"""

from __future__ import annotations

import base64
from collections.abc import Sequence

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
from ..._core.maintenance import ALARM_TYPES, DowngradeInfo, StatusResponse
from ..._core.responses import (
    DeleteRangeResponse,
    KeyValue,
    OpResponse,
    PutResponse,
    RangeResponse,
    ResponseHeader,
    TxnResponse,
)
from ..._core.watch import Event
from .._gofmt import json_string
from .base import (
    Alarms,
    Health,
    NamedHash,
    NamedStatus,
    Names,
    Printer,
    RangeLike,
    SnapshotStatus,
    WatchBatch,
    go_bool,
    lines,
)


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
    return None if omit_false and not value else go_bool(value)


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
        # What etcd 3.6 added: absent from older members' answers, as from etcdctl's.
        ("storageVersion", _str(status.storage_version)),
        ("dbSizeQuota", _num(status.db_size_quota)),
        ("downgradeInfo", _downgrade_json(status.downgrade)),
    )


def _downgrade_json(downgrade: DowngradeInfo | None) -> str | None:
    if downgrade is None:
        return None
    return _obj(
        ("enabled", _flag(downgrade.enabled)), ("targetVersion", _str(downgrade.target_version))
    )


def _header_only(header: ResponseHeader) -> bytes:
    return lines(_obj(("header", _header(header))))


class JsonPrinter(Printer):
    name = "json"

    def get(self, response: RangeLike) -> bytes:
        return lines(_range_json(response))

    def put(self, response: PutResponse) -> bytes:
        return lines(_put_json(response))

    def delete(self, response: DeleteRangeResponse) -> bytes:
        return lines(_delete_json(response))

    def txn(self, response: TxnResponse) -> bytes:
        return lines(_txn_json(response))

    def watch(self, batch: WatchBatch) -> bytes:
        events = (
            "null" if batch.events_null else "[" + ",".join(map(_event_json, batch.events)) + "]"
        )
        return lines(
            _obj(
                ("Header", _obj(*_header_fields(batch.header))),
                ("Events", events),
                ("CompactRevision", str(batch.compact_revision)),
                ("Canceled", go_bool(batch.canceled)),
                ("Created", "false"),
            )
        )

    def lease_grant(self, response: LeaseGrantResponse) -> bytes:
        return lines(
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
        return lines(
            _obj(
                *_header_fields(response.header),
                ("ID", str(response.id)),
                ("TTL", str(response.ttl)),
            )
        )

    def lease_time_to_live(self, response: LeaseTimeToLiveResponse, keys: bool) -> bytes:
        key_list = [_b64(key, omit_empty=False) or '""' for key in response.keys]
        return lines(
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
        return lines(
            _obj(*_header_fields(response.header), ("leases", _arr(leases, omit_empty=False)))
        )

    def member_add(self, response: MemberAddResponse) -> bytes:
        return lines(
            _members_json(response.header, response.members, member=_member_json(response.member))
        )

    def member_remove(self, member_id: int, response: MemberRemoveResponse) -> bytes:
        return lines(_members_json(response.header, response.members))

    def member_update(self, member_id: int, response: MemberUpdateResponse) -> bytes:
        return lines(_members_json(response.header, response.members))

    def member_promote(self, member_id: int, response: MemberPromoteResponse) -> bytes:
        return lines(_members_json(response.header, response.members))

    def member_list(self, response: MemberListResponse) -> bytes:
        if not self.hex:
            return lines(_members_json(response.header, response.members))
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
        return lines(text)

    def endpoint_health(self, healths: Sequence[Health]) -> bytes:
        items = [
            _obj(
                ("endpoint", json_string(h.endpoint)),
                ("health", go_bool(h.health)),
                ("took", json_string(h.took)),
                ("error", _str(h.error)),
            )
            for h in healths
        ]
        return lines(_arr(items, omit_empty=False, null_if_empty=True) or "null")

    def endpoint_status(self, statuses: Sequence[NamedStatus]) -> bytes:
        items = [
            _obj(("Endpoint", json_string(s.endpoint)), ("Status", _status_json(s.status)))
            for s in statuses
        ]
        return lines(_arr(items, omit_empty=False) or "[]")

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
                        ("hash_revision", _num(h.hash.hash_revision)),
                    ),
                ),
            )
            for h in hashes
        ]
        return lines(_arr(items, omit_empty=False) or "[]")

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
        return lines(_obj(("header", _header(alarms.header)), ("alarms", _arr(items))))

    def snapshot_status(self, status: SnapshotStatus) -> bytes:
        return lines(
            _obj(
                ("hash", str(status.hash)),
                ("revision", str(status.revision)),
                ("totalKey", str(status.total_key)),
                ("totalSize", str(status.total_size)),
            )
        )

    def auth_status(self, status: AuthStatus) -> bytes:
        return lines(
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
        return lines(_obj(("header", _header(role.header)), ("perm", _arr(permissions))))

    def role_delete(self, role: str, header: ResponseHeader) -> bytes:
        return _header_only(header)

    def role_list(self, roles: Names) -> bytes:
        names = [json_string(name) for name in roles.names]
        return lines(_obj(("header", _header(roles.header)), ("roles", _arr(names))))

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
        return lines(_obj(("header", _header(user.header)), ("roles", _arr(roles))))

    def user_list(self, users: Names) -> bytes:
        names = [json_string(name) for name in users.names]
        return lines(_obj(("header", _header(users.header)), ("users", _arr(names))))

    def user_change_password(self, header: ResponseHeader) -> bytes:
        return _header_only(header)

    def user_grant_role(self, user: str, role: str, header: ResponseHeader) -> bytes:
        return _header_only(header)

    def user_revoke_role(self, user: str, role: str, header: ResponseHeader) -> bytes:
        return _header_only(header)

    def user_delete(self, user: str, header: ResponseHeader) -> bytes:
        return _header_only(header)
