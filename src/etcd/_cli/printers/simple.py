"""``-w simple``: hand-written lines, as etcdctl prints them by default.

Keys and values are written raw (or ``\\xNN`` each byte with ``--hex``), lease and member
IDs in hex.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..._core.auth import AuthStatus, Permission, PermissionType, Role, User
from ..._core.cluster import (
    MemberAddResponse,
    MemberListResponse,
    MemberPromoteResponse,
    MemberRemoveResponse,
    MemberUpdateResponse,
)
from ..._core.keys import prefix_end
from ..._core.lease import (
    LeaseGrantResponse,
    LeaseKeepAliveResponse,
    LeaseLeasesResponse,
    LeaseTimeToLiveResponse,
)
from ..._core.maintenance import Alarm
from ..._core.responses import (
    DeleteRangeResponse,
    KeyValue,
    PutResponse,
    RangeResponse,
    ResponseHeader,
    TxnResponse,
)
from .._gofmt import hex_escaped
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
    hash_rows,
    lines,
    member_rows,
    snapshot_row,
    status_rows,
)


def _alarm_text(alarm: Alarm) -> str:
    """An alarm as etcd's protobuf text (``%+v``) writes it, trailing space included."""
    text = f"memberID:{alarm.member_id} " if alarm.member_id else ""
    if alarm.alarm != "NONE":
        text += f"alarm:{alarm.alarm} "
    return text


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
            return lines(value)
        return lines(key, value)

    def get(self, response: RangeLike) -> bytes:
        return b"".join(self._kv(kv) for kv in response.kvs)

    def put(self, response: PutResponse) -> bytes:
        out = lines("OK")
        if response.prev_kv is not None:
            out += self._kv(response.prev_kv)
        return out

    def delete(self, response: DeleteRangeResponse) -> bytes:
        return lines(str(response.deleted)) + b"".join(self._kv(kv) for kv in response.prev_kvs)

    def txn(self, response: TxnResponse) -> bytes:
        out = lines("SUCCESS" if response.succeeded else "FAILURE")
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
            out += lines(event.type.name)
            if event.prev_kv is not None:
                out += self._kv(event.prev_kv)
            out += self._kv(event.kv)
        return out

    def lease_grant(self, response: LeaseGrantResponse) -> bytes:
        return lines(f"lease {response.id:016x} granted with TTL({response.ttl}s)")

    def lease_revoke(self, lease_id: int, header: ResponseHeader) -> bytes:
        return lines(f"lease {lease_id:016x} revoked")

    def lease_keep_alive(self, response: LeaseKeepAliveResponse) -> bytes:
        return lines(f"lease {response.id:016x} keepalived with TTL({response.ttl})")

    def lease_time_to_live(self, response: LeaseTimeToLiveResponse, keys: bool) -> bytes:
        if response.granted_ttl == 0 and response.ttl == -1:
            return lines(f"lease {response.id:016x} already expired")
        text = (
            f"lease {response.id:016x} granted with TTL({response.granted_ttl}s), "
            f"remaining({response.ttl}s)"
        ).encode()
        if keys:
            text += b", attached keys([" + b" ".join(response.keys) + b"])"
        return lines(text)

    def lease_list(self, response: LeaseLeasesResponse) -> bytes:
        return lines(
            f"found {len(response.ids)} leases", *(f"{lease:016x}" for lease in response.ids)
        )

    def member_add(self, response: MemberAddResponse) -> bytes:
        return lines(
            f"Member {response.member.id:16x} added to cluster {response.header.cluster_id:16x}"
        )

    def member_remove(self, member_id: int, response: MemberRemoveResponse) -> bytes:
        return lines(
            f"Member {member_id:16x} removed from cluster {response.header.cluster_id:16x}"
        )

    def member_update(self, member_id: int, response: MemberUpdateResponse) -> bytes:
        return lines(f"Member {member_id:16x} updated in cluster {response.header.cluster_id:16x}")

    def member_promote(self, member_id: int, response: MemberPromoteResponse) -> bytes:
        return lines(f"Member {member_id:16x} promoted in cluster {response.header.cluster_id:16x}")

    def member_list(self, response: MemberListResponse) -> bytes:
        return lines(*(", ".join(row) for row in member_rows(response.members)))

    def endpoint_health(self, healths: Sequence[Health]) -> bytes:
        # Unhealthy endpoints are reported on stderr by the command, as etcdctl does.
        return lines(
            *(
                f"{h.endpoint} is healthy: successfully committed proposal: took = {h.took}"
                for h in healths
                if not h.error
            )
        )

    def endpoint_status(self, statuses: Sequence[NamedStatus]) -> bytes:
        return lines(*(", ".join(row) for row in status_rows(statuses)))

    def endpoint_hashkv(self, hashes: Sequence[NamedHash]) -> bytes:
        return lines(*(", ".join(row) for row in hash_rows(hashes)))

    def move_leader(self, leader: int, target: int, header: ResponseHeader) -> bytes:
        return lines(f"Leadership transferred from {leader:x} to {target:x}")

    def alarm(self, alarms: Alarms) -> bytes:
        return lines(*(_alarm_text(alarm) for alarm in alarms.alarms))

    def snapshot_status(self, status: SnapshotStatus) -> bytes:
        return lines(", ".join(snapshot_row(status)))

    def auth_status(self, status: AuthStatus) -> bytes:
        return lines(
            f"Authentication Status: {go_bool(status.enabled)}",
            f"AuthRevision: {status.auth_revision}",
        )

    def role_add(self, role: str, header: ResponseHeader) -> bytes:
        return lines(f"Role {role} created")

    def role_get(self, role: Role) -> bytes:
        return lines(f"Role {role.name}", *_permission_lines(role.permissions))

    def role_delete(self, role: str, header: ResponseHeader) -> bytes:
        return lines(f"Role {role} deleted")

    def role_list(self, roles: Names) -> bytes:
        return lines(*roles.names)

    def role_grant_permission(self, role: str, header: ResponseHeader) -> bytes:
        return lines(f"Role {role} updated")

    def role_revoke_permission(
        self, role: str, key: bytes, range_end: bytes, header: ResponseHeader
    ) -> bytes:
        who = f" is revoked from role {role}".encode()
        if not range_end:
            return lines(b"Permission of key " + key + who)
        if range_end == b"\0":
            return lines(b"Permission of range [" + key + b", <open ended>" + who)
        return lines(b"Permission of range [" + key + b", " + range_end + b")" + who)

    def user_add(self, user: str, header: ResponseHeader) -> bytes:
        return lines(f"User {user} created")

    def user_get(self, user: User) -> bytes:
        return lines(f"User: {user.name}", "Roles:" + "".join(f" {r}" for r in user.roles))

    def user_list(self, users: Names) -> bytes:
        return lines(*users.names)

    def user_change_password(self, header: ResponseHeader) -> bytes:
        return lines("Password updated")

    def user_grant_role(self, user: str, role: str, header: ResponseHeader) -> bytes:
        return lines(f"Role {role} is granted to user {user}")

    def user_revoke_role(self, user: str, role: str, header: ResponseHeader) -> bytes:
        return lines(f"Role {role} is revoked from user {user}")

    def user_delete(self, user: str, header: ResponseHeader) -> bytes:
        return lines(f"User {user} deleted")
