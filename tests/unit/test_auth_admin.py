"""Users, roles and permissions without a server: checks, requests, decoding, the mixin."""

from __future__ import annotations

import dataclasses

import pytest

import etcd
from etcd._core import validation as check
from etcd._core.auth import (
    AuthStatus,
    Permission,
    PermissionType,
    Role,
    User,
    change_password_request,
    check_name,
    check_password,
    decode_auth_status,
    decode_permission,
    decode_role,
    decode_user,
    grant_permission_request,
    permission_kind,
    permission_range,
    permission_type,
    revoke_permission_request,
    user_add_request,
)
from etcd._core.keys import KeyRange
from etcd._core.responses import ResponseHeader
from etcd._sync.auth import AuthCalls
from etcd._wire import messages as pb
from etcd._wire import methods

SECRET = "hunter2-correct-horse"


def header_pb(revision: int = 7):
    return pb.ResponseHeader(cluster_id=1, member_id=2, revision=revision, raft_term=3)


# --- checks ---------------------------------------------------------------------------------


def test_names_must_be_non_empty_strings():
    assert check_name("alice", "name") == "alice"
    with pytest.raises(etcd.EtcdValueError, match="role must not be empty"):
        check_name("", "role")
    with pytest.raises(etcd.EtcdTypeError, match="name must be a str, not bytes"):
        check_name(b"alice", "name")


@pytest.mark.parametrize("bad", ["", 12345, b"hunter2-correct-horse", None])
def test_a_refused_password_is_never_quoted(bad):
    with pytest.raises(etcd.EtcdException) as raised:
        check_password(bad)
    assert "password" in str(raised.value)
    assert SECRET not in str(raised.value) and "12345" not in str(raised.value)


def test_permission_types_by_enum_or_name():
    assert permission_type(PermissionType.WRITE) is PermissionType.WRITE
    assert permission_type("read") is PermissionType.READ
    assert permission_type("READWRITE") is PermissionType.READWRITE
    assert permission_type("read-write") is PermissionType.READWRITE
    with pytest.raises(etcd.EtcdValueError, match="'read', 'write', 'readwrite'"):
        permission_type("admin")
    with pytest.raises(etcd.EtcdTypeError):
        permission_type(2)
    assert [member.value for member in PermissionType] == [
        pb.Permission.READ,
        pb.Permission.WRITE,
        pb.Permission.READWRITE,
    ]


# --- key ranges of permissions --------------------------------------------------------------


def test_permission_ranges_are_named_like_every_other_range():
    assert permission_range("/a") == KeyRange(b"/a")
    assert permission_range("/app/", prefix=True) == KeyRange(b"/app/", b"/app0")
    assert permission_range("/a", "/b") == KeyRange(b"/a", b"/b")
    assert permission_range("/a", from_key=True) == KeyRange(b"/a", b"\0")
    assert permission_range(etcd.ALL_KEYS) == KeyRange(b"\0", b"\0")
    with pytest.raises(etcd.EtcdValueError, match="only one"):
        permission_range("/a", "/b", prefix=True)
    with pytest.raises(etcd.EtcdValueError, match="empty"):
        permission_range("")
    with pytest.raises(etcd.EtcdValueError, match="sort after"):
        permission_range("/b", "/a")


@pytest.mark.parametrize(
    ("key", "range_end", "kind"),
    [
        (b"/a", b"", "key"),
        (b"/app/", b"/app0", "prefix"),
        (b"/a\xff", b"/b", "prefix"),
        (b"/a", b"/c", "range"),
        (b"/a", b"\0", "from_key"),
        (b"\0", b"\0", "from_key"),
    ],
)
def test_permission_kind(key, range_end, kind):
    assert permission_kind(key, range_end) == kind
    permission = Permission(PermissionType.READ, key, range_end)
    assert permission.kind == kind
    assert permission.is_single_key == (kind == "key")
    assert permission.is_prefix == (kind == "prefix")


def test_a_permission_knows_the_keys_it_covers():
    prefix = Permission(PermissionType.READ, b"/app/", b"/app0")
    assert prefix.contains("/app/x") and prefix.contains(b"/app/")
    assert not prefix.contains("/other") and not prefix.contains("/app")
    single = Permission(PermissionType.WRITE, b"/k")
    assert single.contains("/k") and not single.contains("/k2")
    everything = Permission(PermissionType.READWRITE, b"\0", b"\0")
    assert everything.contains("anything")


def test_permissions_are_immutable_values():
    permission = Permission(PermissionType.READ, b"/a")
    with pytest.raises(dataclasses.FrozenInstanceError):
        permission.key = b"/b"  # type: ignore[misc]
    assert permission == Permission(PermissionType.READ, b"/a", b"")
    assert {permission, Permission(PermissionType.READ, b"/a")} == {permission}


# --- requests -------------------------------------------------------------------------------


def test_a_user_with_a_password():
    request = user_add_request("alice", SECRET, no_password=False)
    assert request.name == "alice" and request.password == SECRET
    assert not request.options.no_password and not request.hashedPassword


def test_a_user_without_a_password():
    request = user_add_request("cert-user", None, no_password=True)
    assert request.name == "cert-user" and request.password == ""
    assert request.options.no_password


def test_exactly_one_of_password_and_no_password():
    with pytest.raises(etcd.EtcdValueError, match="not both") as both:
        user_add_request("alice", SECRET, no_password=True)
    with pytest.raises(etcd.EtcdValueError, match="give a password"):
        user_add_request("alice", None, no_password=False)
    with pytest.raises(etcd.EtcdValueError, match="password must not be empty"):
        user_add_request("alice", "", no_password=False)
    with pytest.raises(etcd.EtcdTypeError, match="no_password must be a bool"):
        user_add_request("alice", None, no_password="yes")  # type: ignore[arg-type]
    assert SECRET not in str(both.value)


def test_change_password_request():
    request = change_password_request("alice", SECRET)
    assert (request.name, request.password, request.hashedPassword) == ("alice", SECRET, "")
    with pytest.raises(etcd.EtcdValueError) as raised:
        change_password_request("", SECRET)
    assert SECRET not in str(raised.value)


def test_grant_permission_requests():
    request = grant_permission_request("reader", "/app/", prefix=True, permission="read")
    assert request.name == "reader"
    assert request.perm == pb.Permission(
        permType=pb.Permission.READ, key=b"/app/", range_end=b"/app0"
    )
    request = grant_permission_request("rw", "/a", "/m")
    assert request.perm.permType == pb.Permission.READWRITE
    assert (request.perm.key, request.perm.range_end) == (b"/a", b"/m")
    request = grant_permission_request("w", b"/k", permission=PermissionType.WRITE)
    assert request.perm == pb.Permission(permType=pb.Permission.WRITE, key=b"/k")
    request = grant_permission_request("all", etcd.ALL_KEYS, permission="readwrite")
    assert (request.perm.key, request.perm.range_end) == (b"\0", b"\0")
    with pytest.raises(etcd.EtcdValueError):
        grant_permission_request("r", "/a", permission="execute")
    with pytest.raises(etcd.EtcdValueError):
        grant_permission_request("", "/a")


def test_revoke_permission_requests_name_the_same_keys():
    request = revoke_permission_request("reader", "/app/", prefix=True)
    assert (request.role, request.key, request.range_end) == ("reader", b"/app/", b"/app0")
    request = revoke_permission_request("reader", "/a", from_key=True)
    assert (request.key, request.range_end) == (b"/a", b"\0")
    request = revoke_permission_request("reader", "/a")
    assert (request.key, request.range_end) == (b"/a", b"")


# --- decoding -------------------------------------------------------------------------------


def test_decode_auth_status():
    status = decode_auth_status(
        pb.AuthStatusResponse(header=header_pb(), enabled=True, authRevision=12)
    )
    assert status == AuthStatus(True, 12, ResponseHeader(1, 2, 7, 3))


def test_decode_user_and_role():
    user = decode_user("alice", pb.AuthUserGetResponse(header=header_pb(), roles=["a", "b"]))
    assert user == User("alice", ["a", "b"], ResponseHeader(1, 2, 7, 3))
    perms = [
        pb.Permission(permType=pb.Permission.READ, key=b"/app/", range_end=b"/app0"),
        pb.Permission(permType=pb.Permission.READWRITE, key=b"/k"),
    ]
    role = decode_role("reader", pb.AuthRoleGetResponse(header=header_pb(), perm=perms))
    assert role.name == "reader"
    assert role.permissions == [
        Permission(PermissionType.READ, b"/app/", b"/app0"),
        Permission(PermissionType.READWRITE, b"/k", b""),
    ]
    assert [p.kind for p in role.permissions] == ["prefix", "key"]
    assert isinstance(role, Role)


def test_decode_permission_types():
    for wire, kind in [
        (pb.Permission.READ, PermissionType.READ),
        (pb.Permission.WRITE, PermissionType.WRITE),
        (pb.Permission.READWRITE, PermissionType.READWRITE),
    ]:
        assert decode_permission(pb.Permission(permType=wire, key=b"k")).type is kind


def test_results_never_hold_a_password():
    fields = {
        f.name for cls in (AuthStatus, User, Role, Permission) for f in dataclasses.fields(cls)
    }
    assert not any("password" in name for name in fields)


# --- the mixin, over a recording transport ------------------------------------------------------


class RecordingTransport:
    def __init__(self, responses):
        self.responses = responses
        self.calls = []

    def unary(self, method, request, *, timeout, mutation):
        self.calls.append((method, request, timeout, mutation))
        return self.responses[method.name]


class FakeClient(AuthCalls):
    def __init__(self, responses):
        self._transport = RecordingTransport(responses)  # type: ignore[assignment]

    def _call_timeout(self, timeout):
        return 5.0 if isinstance(timeout, check._Unset) else timeout


def empty(cls):
    return cls(header=header_pb())


RESPONSES = {
    "AuthEnable": empty(pb.AuthEnableResponse),
    "AuthDisable": empty(pb.AuthDisableResponse),
    "AuthStatus": pb.AuthStatusResponse(header=header_pb(), enabled=True, authRevision=3),
    "UserAdd": empty(pb.AuthUserAddResponse),
    "UserGet": pb.AuthUserGetResponse(header=header_pb(), roles=["root"]),
    "UserList": pb.AuthUserListResponse(header=header_pb(), users=["alice", "root"]),
    "UserDelete": empty(pb.AuthUserDeleteResponse),
    "UserChangePassword": empty(pb.AuthUserChangePasswordResponse),
    "UserGrantRole": empty(pb.AuthUserGrantRoleResponse),
    "UserRevokeRole": empty(pb.AuthUserRevokeRoleResponse),
    "RoleAdd": empty(pb.AuthRoleAddResponse),
    "RoleGet": pb.AuthRoleGetResponse(
        header=header_pb(), perm=[pb.Permission(permType=pb.Permission.WRITE, key=b"/k")]
    ),
    "RoleList": pb.AuthRoleListResponse(header=header_pb(), roles=["reader", "root"]),
    "RoleDelete": empty(pb.AuthRoleDeleteResponse),
    "RoleGrantPermission": empty(pb.AuthRoleGrantPermissionResponse),
    "RoleRevokePermission": empty(pb.AuthRoleRevokePermissionResponse),
}


def test_every_call_sends_the_right_request():
    client = FakeClient(RESPONSES)
    header = ResponseHeader(1, 2, 7, 3)
    assert client.auth_enable() == header
    assert client.auth_disable(timeout=2) == header
    assert client.auth_status() == AuthStatus(True, 3, header)
    assert client.user_add("alice", SECRET) == header
    assert client.user_add("bob", no_password=True) == header
    assert client.user_get("root") == User("root", ["root"], header)
    assert client.user_list() == ["alice", "root"]
    assert client.user_delete("bob") == header
    assert client.user_change_password("alice", SECRET + "!") == header
    assert client.user_grant_role("alice", "reader") == header
    assert client.user_revoke_role("alice", "reader") == header
    assert client.role_add("reader") == header
    assert client.role_get("reader") == Role(
        "reader", [Permission(PermissionType.WRITE, b"/k")], header
    )
    assert client.role_list() == ["reader", "root"]
    assert client.role_delete("reader") == header
    assert client.role_grant_permission("reader", "/app/", prefix=True, permission="read") == header
    assert client.role_revoke_permission("reader", "/app/", prefix=True) == header

    calls = client._transport.calls  # type: ignore[attr-defined]
    sent = [(method, timeout, mutation) for method, _, timeout, mutation in calls]
    assert sent == [
        (methods.AUTH_ENABLE, 5.0, True),
        (methods.AUTH_DISABLE, 2, True),
        (methods.AUTH_STATUS, 5.0, False),
        (methods.AUTH_USER_ADD, 5.0, True),
        (methods.AUTH_USER_ADD, 5.0, True),
        (methods.AUTH_USER_GET, 5.0, False),
        (methods.AUTH_USER_LIST, 5.0, False),
        (methods.AUTH_USER_DELETE, 5.0, True),
        (methods.AUTH_USER_CHANGE_PASSWORD, 5.0, True),
        (methods.AUTH_USER_GRANT_ROLE, 5.0, True),
        (methods.AUTH_USER_REVOKE_ROLE, 5.0, True),
        (methods.AUTH_ROLE_ADD, 5.0, True),
        (methods.AUTH_ROLE_GET, 5.0, False),
        (methods.AUTH_ROLE_LIST, 5.0, False),
        (methods.AUTH_ROLE_DELETE, 5.0, True),
        (methods.AUTH_ROLE_GRANT_PERMISSION, 5.0, True),
        (methods.AUTH_ROLE_REVOKE_PERMISSION, 5.0, True),
    ]
    requests = [request for _, request, _, _ in calls]
    assert isinstance(requests[0], pb.AuthEnableRequest)
    assert requests[3] == pb.AuthUserAddRequest(
        name="alice", password=SECRET, options=pb.UserAddOptions()
    )
    assert requests[4].options.no_password and not requests[4].password
    assert requests[5] == pb.AuthUserGetRequest(name="root")
    assert requests[7] == pb.AuthUserDeleteRequest(name="bob")
    assert requests[8] == pb.AuthUserChangePasswordRequest(name="alice", password=SECRET + "!")
    assert requests[9] == pb.AuthUserGrantRoleRequest(user="alice", role="reader")
    assert requests[10] == pb.AuthUserRevokeRoleRequest(name="alice", role="reader")
    assert requests[11] == pb.AuthRoleAddRequest(name="reader")
    assert requests[12] == pb.AuthRoleGetRequest(role="reader")
    assert requests[14] == pb.AuthRoleDeleteRequest(role="reader")
    assert requests[15].perm.range_end == b"/app0"
    assert requests[16] == pb.AuthRoleRevokePermissionRequest(
        role="reader", key=b"/app/", range_end=b"/app0"
    )


def test_bad_arguments_send_nothing():
    client = FakeClient(RESPONSES)
    with pytest.raises(etcd.EtcdValueError):
        client.user_add("alice")
    with pytest.raises(etcd.EtcdValueError):
        client.user_add("alice", SECRET, no_password=True)
    with pytest.raises(etcd.EtcdTypeError):
        client.user_grant_role("alice", None)  # type: ignore[arg-type]
    with pytest.raises(etcd.EtcdValueError):
        client.role_grant_permission("reader", "/a", permission="everything")
    with pytest.raises(etcd.EtcdValueError):
        client.role_revoke_permission("reader", "/a", "/b", from_key=True)
    with pytest.raises(etcd.EtcdValueError):
        client.user_change_password("alice", "")
    assert client._transport.calls == []  # type: ignore[attr-defined]
