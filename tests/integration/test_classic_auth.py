"""python-etcd's ``etcd.auth`` on v3 users, roles and permissions."""

import pytest

import etcd
from etcd import auth

pytestmark = pytest.mark.integration


@pytest.fixture
def clean_auth(etcd_client):
    yield etcd_client
    for user in etcd_client.user_list():
        etcd_client.user_delete(user)
    for role in etcd_client.role_list():
        etcd_client.role_delete(role)


def test_users_as_python_etcd_had_them(clean_auth):
    client = clean_auth
    auth.EtcdRole(client, "readers").write()
    auth.EtcdRole(client, "writers").write()
    user = auth.EtcdUser(client, "app")
    user.password = "secret"
    user.roles = {"readers"}
    user.write()
    assert user.password is None and "app" in user.names
    loaded = auth.EtcdUser(client, "app")
    loaded.read()
    assert loaded.roles == {"readers"}
    loaded.roles = {"writers"}
    loaded.write()
    assert client.user_get("app").roles == ["writers"]
    assert '"user": "app"' in str(loaded)
    loaded.delete()
    with pytest.raises(etcd.EtcdKeyNotFound):
        loaded.read()
    with pytest.raises(etcd.EtcdKeyNotFound):
        loaded.delete()
    with pytest.raises(etcd.EtcdValueError, match="password"):
        auth.EtcdUser(client, "nopassword").write()


def test_roles_map_v2_paths_onto_v3_ranges(clean_auth):
    client = clean_auth
    role = auth.EtcdRole(client, "app")
    role.grant("/app/*", "RW")
    role.grant("/config", "R")
    role.grant("*", "W")
    role.write()
    permissions = {(p.key, p.range_end, p.type) for p in client.role_get("app").permissions}
    assert permissions == {
        (b"/app/", b"/app0", etcd.PermissionType.READWRITE),
        (b"/config", b"", etcd.PermissionType.READ),
        (b"\0", b"\0", etcd.PermissionType.WRITE),
    }
    loaded = auth.EtcdRole(client, "app")
    loaded.read()
    assert loaded.acls == {"/app/*": "RW", "/config": "R", "*": "W"}
    loaded.revoke("/app/*", "W")
    loaded.revoke("*", "W")
    loaded.write()
    loaded.read()
    assert loaded.acls == {"/app/*": "R", "/config": "R"}
    assert "app" in loaded.names


def test_patterns_v3_cannot_keep_are_refused_with_the_reason(clean_auth):
    role = auth.EtcdRole(clean_auth, "odd")
    with pytest.raises(etcd.EtcdNotSupported, match="contiguous range"):
        role.grant("/a/*/b", "R")
    role.acls = {"/fine": "R"}
    role.write()
    clean_auth.role_grant_permission("odd", "/a", "/c", permission="read")
    with pytest.raises(etcd.EtcdNotSupported, match="no v2 path pattern"):
        auth.EtcdRole(clean_auth, "odd").read()


def test_auth_active(etcd_server_factory):
    server = etcd_server_factory()
    with etcd.Client(endpoints=[server.endpoint], timeout=10) as client:
        switch = auth.Auth(client)
        assert switch.active is False
        root = auth.EtcdUser(client, "root")
        root.password = "rootpw"
        root.roles = {"root"}
        root.write()
        switch.active = True
    with etcd.Client(
        endpoints=[server.endpoint], timeout=10, username="root", password="rootpw"
    ) as client:
        switch = auth.Auth(client)
        assert switch.active is True
        switch.active = False
    # A client with credentials cannot log in once authentication is off: ask without.
    with etcd.Client(endpoints=[server.endpoint], timeout=10) as client:
        assert auth.Auth(client).active is False
