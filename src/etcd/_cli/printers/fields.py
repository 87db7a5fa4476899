"""``-w fields``: one ``"Name" : value`` line per field, as etcdctl prints them.

Strings are quoted as Go's ``%q``; numbers and booleans are written as Go's ``fmt`` does.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from ..._core.auth import Role
from ..._core.cluster import MemberListResponse
from ..._core.lease import (
    LeaseGrantResponse,
    LeaseKeepAliveResponse,
    LeaseLeasesResponse,
    LeaseTimeToLiveResponse,
)
from ..._core.responses import (
    DeleteRangeResponse,
    KeyValue,
    PutResponse,
    RangeResponse,
    ResponseHeader,
    TxnResponse,
)
from ..._core.watch import EventType
from .._gofmt import quote
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
    reports_hash_revisions,
    reports_newer_status,
)


def _go_list(items: Iterable[str]) -> str:
    """Go's ``%v`` of a ``[]string``."""
    return "[" + " ".join(items) + "]"


def _field(name: str, value: object) -> str:
    """``"Name" : value`` as Go's ``fmt.Println`` writes its operands."""
    if isinstance(value, bool):
        value = go_bool(value)
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
        return lines(*self._get_lines(response))

    def put(self, response: PutResponse) -> bytes:
        return lines(*self._put_lines(response))

    def delete(self, response: DeleteRangeResponse) -> bytes:
        return lines(*self._delete_lines(response))

    def txn(self, response: TxnResponse) -> bytes:
        return lines(*self._txn_lines(response))

    def watch(self, batch: WatchBatch) -> bytes:
        out = _fields_header(batch.header)
        for event in batch.events:
            out.append(f'"Type" : {EventType(event.type).name}')
            if event.prev_kv is not None:
                out += _fields_kv(event.prev_kv, "Prev")
            out += _fields_kv(event.kv)
        return lines(*out)

    def lease_grant(self, response: LeaseGrantResponse) -> bytes:
        return lines(
            *_fields_header(response.header),
            _field("ID", response.id),
            _field("TTL", response.ttl),
        )

    def lease_revoke(self, lease_id: int, header: ResponseHeader) -> bytes:
        return lines(*_fields_header(header))

    def lease_keep_alive(self, response: LeaseKeepAliveResponse) -> bytes:
        return lines(
            *_fields_header(response.header),
            _field("ID", response.id),
            _field("TTL", response.ttl),
        )

    def lease_time_to_live(self, response: LeaseTimeToLiveResponse, keys: bool) -> bytes:
        return lines(
            *_fields_header(response.header),
            _field("ID", response.id),
            _field("TTL", response.ttl),
            _field("GrantedTTL", response.granted_ttl),
            *(_field("Key", quote(key)) for key in response.keys),
        )

    def lease_list(self, response: LeaseLeasesResponse) -> bytes:
        return lines(
            *_fields_header(response.header), *(_field("ID", lease) for lease in response.ids)
        )

    def member_list(self, response: MemberListResponse) -> bytes:
        out = _fields_header(response.header)
        for member in response.members:
            out += [_field("ID", member.id), _field("Name", quote(member.name))]
            out += [_field("PeerURL", quote(url)) for url in member.peer_urls]
            out += [_field("ClientURL", quote(url)) for url in member.client_urls]
            out += [_field("IsLearner", member.is_learner), ""]
        return lines(*out)

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
        return lines(*out)

    def endpoint_status(self, statuses: Sequence[NamedStatus]) -> bytes:
        out: list[str] = []
        newer = reports_newer_status(statuses)  # then the fields etcdctl 3.6 prints
        for item in statuses:
            status = item.status
            downgrade = status.downgrade
            out += [
                *_fields_header(status.header),
                _field("Version", quote(status.version)),
                *([_field("StorageVersion", quote(status.storage_version))] if newer else []),
                _field("DBSize", status.db_size),
                *([_field("DBSizeInUse", status.db_size_in_use)] if newer else []),
                _field("Leader", status.leader),
                _field("IsLearner", status.is_learner),
                _field("RaftIndex", status.raft_index),
                _field("RaftTerm", status.raft_term),
                _field("RaftAppliedIndex", status.raft_applied_index),
                _field("Errors", _go_list(status.errors)),
                _field("Endpoint", quote(item.endpoint)),
                *(
                    [
                        _field(
                            "DowngradeTargetVersion",
                            quote(downgrade.target_version if downgrade else ""),
                        ),
                        _field("DowngradeEnabled", bool(downgrade and downgrade.enabled)),
                    ]
                    if newer
                    else []
                ),
                "",
            ]
        return lines(*out)

    def endpoint_hashkv(self, hashes: Sequence[NamedHash]) -> bytes:
        out: list[str] = []
        newer = reports_hash_revisions(hashes)
        for item in hashes:
            out += [
                *_fields_header(item.hash.header),
                _field("Endpoint", quote(item.endpoint)),
                _field("Hash", item.hash.hash),
                *([_field("HashRevision", item.hash.hash_revision)] if newer else []),
                "",
            ]
        return lines(*out)

    def alarm(self, alarms: Alarms) -> bytes:
        out = _fields_header(alarms.header)
        for alarm in alarms.alarms:
            out += [_field("MemberID", alarm.member_id), _field("AlarmType", alarm.alarm), ""]
        return lines(*out)

    def snapshot_status(self, status: SnapshotStatus) -> bytes:
        return lines(
            _field("Hash", status.hash),
            _field("Revision", status.revision),
            _field("Keys", status.total_key),
            _field("Size", status.total_size),
        )

    def role_add(self, role: str, header: ResponseHeader) -> bytes:
        return lines(*_fields_header(header))

    def role_get(self, role: Role) -> bytes:
        out = _fields_header(role.header)
        for permission in role.permissions:
            out += [
                f'"PermType" :  {permission.type.name}',
                _field("Key", quote(permission.key)),
                _field("RangeEnd", quote(permission.range_end)),
            ]
        return lines(*out)

    def role_delete(self, role: str, header: ResponseHeader) -> bytes:
        return lines(*_fields_header(header))

    def role_list(self, roles: Names) -> bytes:
        return lines(
            *_fields_header(roles.header),
            '"Roles" :' + "".join(f" {quote(r)}" for r in roles.names),
        )

    def role_grant_permission(self, role: str, header: ResponseHeader) -> bytes:
        return lines(*_fields_header(header))

    def role_revoke_permission(
        self, role: str, key: bytes, range_end: bytes, header: ResponseHeader
    ) -> bytes:
        return lines(*_fields_header(header))

    def user_add(self, user: str, header: ResponseHeader) -> bytes:
        return lines(*_fields_header(header))

    def user_change_password(self, header: ResponseHeader) -> bytes:
        return lines(*_fields_header(header))

    def user_grant_role(self, user: str, role: str, header: ResponseHeader) -> bytes:
        return lines(*_fields_header(header))

    def user_revoke_role(self, user: str, role: str, header: ResponseHeader) -> bytes:
        return lines(*_fields_header(header))

    def user_delete(self, user: str, header: ResponseHeader) -> bytes:
        return lines(*_fields_header(header))
