# Generated from test_async_auth_admin.py by scripts/generate_sync.py: edit that file,
# then run the script. CI fails when the two differ.
"""Users, roles and permissions against a real etcd; tokens that expire under long-lived clients.

Authentication is server-wide, so every test runs on a member of its own.
"""

from __future__ import annotations

import logging

import pytest

import etcd
from etcd import Permission, PermissionType
from etcd._sync_io import sleep

pytestmark = pytest.mark.integration

ROOT_PASSWORD = "r00t-Pa55word-never-shown"
USER_PASSWORD = "us3r-Pa55word-never-shown"


def client(server, **options):
    return etcd.Client(endpoints=[server.endpoint], timeout=10, **options)


def root_client(server):
    return client(server, username="root", password=ROOT_PASSWORD)


def enable_auth(server):
    """Create root with the root role and turn authentication on (as an anonymous client)."""
    with client(server) as admin:
        admin.user_add("root", ROOT_PASSWORD)
        admin.role_add("root")
        admin.user_grant_role("root", "root")
        admin.auth_enable()


def add_user_with_role(root, user, role):
    root.user_add(user, USER_PASSWORD)
    root.user_grant_role(user, role)


# --- enabling and disabling ---------------------------------------------------------------------


def test_enabling_requires_a_root_user_with_the_root_role(etcd_server_factory):
    server = etcd_server_factory()
    with client(server) as admin:
        status = admin.auth_status()
        assert not status.enabled
        first_revision = status.auth_revision
        with pytest.raises(etcd.EtcdPreconditionFailed, match="root user does not exist") as e:
            admin.auth_enable()
        assert e.value.operation == "Auth.AuthEnable" and e.value.code == "FAILED_PRECONDITION"
        admin.user_add("root", ROOT_PASSWORD)
        with pytest.raises(etcd.EtcdPreconditionFailed, match="does not have root role"):
            admin.auth_enable()
        admin.role_add("root")
        admin.user_grant_role("root", "root")
        header = admin.auth_enable()
        assert header.member_id
        # From now on, a client without credentials is refused.
        with pytest.raises(etcd.EtcdAuthError):
            admin.range("/k")
        with pytest.raises(etcd.EtcdAuthError):
            admin.auth_status()
    with root_client(server) as root:
        status = root.auth_status()
        assert status.enabled and status.auth_revision > first_revision
        root.put("/k", "v")
        root.auth_disable()
    with client(server) as anonymous:
        assert not anonymous.auth_status().enabled
        assert anonymous.range("/k").kvs[0].value == b"v"


def test_only_root_may_disable_auth(etcd_server_factory):
    server = etcd_server_factory()
    enable_auth(server)
    with root_client(server) as root:
        root.role_add("plain")
        add_user_with_role(root, "alice", "plain")
        with client(server, username="alice", password=USER_PASSWORD) as alice:
            with pytest.raises(etcd.EtcdPermissionDenied):
                alice.auth_disable()
        assert root.auth_status().enabled


# --- users and roles ----------------------------------------------------------------------------


def test_users(etcd_server_factory):
    server = etcd_server_factory()
    enable_auth(server)
    with root_client(server) as root:
        root.role_add("reader")
        root.role_grant_permission("reader", "/k", permission="read")
        root.role_add("writer")
        root.user_add("alice", USER_PASSWORD)
        root.user_add("cert-only", no_password=True)
        assert root.user_list() == ["alice", "cert-only", "root"]
        root.user_grant_role("alice", "reader")
        root.user_grant_role("alice", "writer")
        user = root.user_get("alice")
        assert (user.name, sorted(user.roles)) == ("alice", ["reader", "writer"])
        assert user.header is not None and user.header.member_id
        root.user_revoke_role("alice", "writer")
        assert root.user_get("alice").roles == ["reader"]
        assert root.user_get("cert-only").roles == []

        with pytest.raises(etcd.EtcdPreconditionFailed, match="already exists"):
            root.user_add("alice", USER_PASSWORD)
        with pytest.raises(etcd.EtcdException, match="user name not found"):
            root.user_get("nobody")
        with pytest.raises(etcd.EtcdException, match="role name not found"):
            root.user_grant_role("alice", "no-such-role")

        # A user without a password cannot log in with one.
        with client(server, username="cert-only", password="anything") as cert_only:
            with pytest.raises(etcd.EtcdException, match="no password user"):
                cert_only.range("/k")

        new_password = USER_PASSWORD + "-2"
        root.user_change_password("alice", new_password)
        with client(server, username="alice", password=new_password) as alice:
            alice.range("/k")
        with client(server, username="alice", password=USER_PASSWORD) as stale:
            with pytest.raises(etcd.EtcdAuthFailed) as raised:
                stale.range("/k")
        assert USER_PASSWORD not in str(raised.value)

        root.user_delete("alice")
        root.user_delete("cert-only")
        assert root.user_list() == ["root"]
        with pytest.raises(etcd.EtcdException, match="user name not found"):
            root.user_delete("alice")


def test_a_password_for_a_user_without_one_is_an_auth_failure(etcd_server_factory):
    server = etcd_server_factory()
    enable_auth(server)
    with root_client(server) as root:
        root.user_add("cert-only", no_password=True)
    with client(server, username="cert-only", password="anything") as cert_only:
        with pytest.raises(etcd.EtcdAuthFailed):
            cert_only.range("/k")


def test_roles_and_permissions(etcd_server_factory):
    server = etcd_server_factory()
    enable_auth(server)
    with root_client(server) as root:
        root.role_add("ops")
        assert root.role_list() == ["ops", "root"]
        assert root.role_get("ops").permissions == []
        root.role_grant_permission("ops", "/app/", prefix=True, permission="read")
        root.role_grant_permission("ops", "/a", "/m", permission=PermissionType.READWRITE)
        root.role_grant_permission("ops", "/single", permission="write")
        root.role_grant_permission("ops", "/tail", from_key=True, permission="read")
        role = root.role_get("ops")
        assert role.name == "ops"
        by_kind = {p.kind: p for p in role.permissions}
        assert by_kind == {
            "prefix": Permission(PermissionType.READ, b"/app/", b"/app0"),
            "range": Permission(PermissionType.READWRITE, b"/a", b"/m"),
            "key": Permission(PermissionType.WRITE, b"/single", b""),
            "from_key": Permission(PermissionType.READ, b"/tail", b"\0"),
        }
        # Granting again on exactly the same keys replaces the type.
        root.role_grant_permission("ops", "/app/", prefix=True, permission="readwrite")
        assert {p.type for p in root.role_get("ops").permissions if p.is_prefix} == {
            PermissionType.READWRITE
        }
        root.role_revoke_permission("ops", "/app/", prefix=True)
        root.role_revoke_permission("ops", "/a", "/m")
        root.role_revoke_permission("ops", "/single")
        root.role_revoke_permission("ops", "/tail", from_key=True)
        assert root.role_get("ops").permissions == []
        with pytest.raises(etcd.EtcdException, match="permission is not granted"):
            root.role_revoke_permission("ops", "/single")

        root.role_grant_permission("ops", etcd.ALL_KEYS, permission="read")
        assert root.role_get("ops").permissions == [Permission(PermissionType.READ, b"\0", b"\0")]

        root.role_delete("ops")
        assert root.role_list() == ["root"]
        with pytest.raises(etcd.EtcdException, match="role name not found"):
            root.role_get("ops")


# --- what permissions allow -----------------------------------------------------------------


def test_a_read_only_prefix_role(etcd_server_factory):
    server = etcd_server_factory()
    enable_auth(server)
    with root_client(server) as root:
        root.put("/app/x", "1")
        root.put("/other", "2")
        root.role_add("app-reader")
        root.role_grant_permission("app-reader", "/app/", prefix=True, permission="read")
        add_user_with_role(root, "reader", "app-reader")
        with client(server, username="reader", password=USER_PASSWORD) as reader:
            assert reader.range("/app/x").kvs[0].value == b"1"
            assert [kv.key for kv in reader.range("/app/", prefix=True).kvs] == [b"/app/x"]
            with pytest.raises(etcd.EtcdPermissionDenied) as raised:
                reader.put("/app/x", "changed")
            assert isinstance(raised.value, PermissionError)
            with pytest.raises(etcd.EtcdPermissionDenied):
                reader.range("/other")
            with pytest.raises(etcd.EtcdPermissionDenied):
                reader.delete_range("/app/x")
        assert root.range("/app/x").kvs[0].value == b"1"


def test_a_readwrite_range_permission(etcd_server_factory):
    server = etcd_server_factory()
    enable_auth(server)
    with root_client(server) as root:
        root.role_add("ranger")
        root.role_grant_permission("ranger", "/r/a", "/r/m")
        add_user_with_role(root, "ranger", "ranger")
        with client(server, username="ranger", password=USER_PASSWORD) as ranger:
            ranger.put("/r/a", "1")
            ranger.put("/r/lz", "2")
            assert ranger.range("/r/a", "/r/m").count == 2
            ranger.delete_range("/r/a")
            with pytest.raises(etcd.EtcdPermissionDenied):
                ranger.put("/r/m", "end is exclusive")
            with pytest.raises(etcd.EtcdPermissionDenied):
                ranger.range("/r/", prefix=True)


def test_a_long_lived_client_follows_permission_changes(etcd_server_factory):
    server = etcd_server_factory()
    enable_auth(server)
    with root_client(server) as root:
        root.put("/app/x", "1")
        root.role_add("app")
        root.role_grant_permission("app", "/app/", prefix=True, permission="read")
        add_user_with_role(root, "worker", "app")
        with client(server, username="worker", password=USER_PASSWORD) as worker:
            assert worker.range("/app/x").count == 1
            before = root.auth_status().auth_revision

            root.role_revoke_permission("app", "/app/", prefix=True)
            assert root.auth_status().auth_revision > before
            # The worker's token predates the change: the client logs in again, and the
            # new rules apply.
            with pytest.raises(etcd.EtcdPermissionDenied):
                worker.range("/app/x")

            root.role_grant_permission("app", "/app/", prefix=True, permission="readwrite")
            assert worker.range("/app/x").count == 1
            worker.put("/app/x", "2")

            root.user_revoke_role("worker", "app")
            with pytest.raises(etcd.EtcdPermissionDenied):
                worker.put("/app/x", "3")
            root.user_grant_role("worker", "app")
            worker.put("/app/x", "3")
        assert root.range("/app/x").kvs[0].value == b"3"


# --- tokens that expire under a long-lived client ---------------------------------------------


TOKEN_TTL = 2
PAST_TTL = TOKEN_TTL + 1.5


def short_token_server(etcd_server_factory):
    server = etcd_server_factory(auth_token="simple", auth_token_ttl=TOKEN_TTL)
    enable_auth(server)
    return server


def test_unary_calls_across_token_expiries(etcd_server_factory):
    server = short_token_server(etcd_server_factory)
    with root_client(server) as root:
        for round_ in range(3):
            sleep(PAST_TTL)
            root.put("/t", str(round_))
            assert root.range("/t").kvs[0].value == str(round_).encode()
            assert root.auth_status().enabled


def test_a_watch_across_token_expiries(etcd_server_factory):
    server = short_token_server(etcd_server_factory)
    with root_client(server) as watcher, root_client(server) as writer:
        watch = watcher.watch_stream("/w")
        assert watch.wait_created(10)
        for round_ in range(3):
            sleep(PAST_TTL)
            writer.put("/w", str(round_))
            response = watch.next_response(10)
            assert [event.value for event in response.events] == [str(round_).encode()]
        # A new watch on the same (long-idle) stream is created with a fresh token.
        sleep(PAST_TTL)
        second = watcher.watch_stream("/w2")
        assert second.wait_created(10)
        writer.put("/w2", "x")
        assert [event.value for event in second.next_response(10).events] == [b"x"]
        watch.cancel()
        second.cancel()


def test_a_lease_keep_alive_across_token_expiries(etcd_server_factory):
    server = short_token_server(etcd_server_factory)
    with root_client(server) as holder:
        lease = holder.lease(ttl=3)
        for _ in range(3):
            sleep(PAST_TTL)
            assert not lease.lost
        assert holder.lease_time_to_live(lease.id).ttl > 0
        holder.put("/leased", "v", lease=lease)
        lease.revoke()


# --- secrets hygiene ----------------------------------------------------------------------------


def test_passwords_are_never_shown(etcd_server_factory, caplog):
    caplog.set_level(logging.DEBUG, logger="etcd")
    server = short_token_server(etcd_server_factory)
    with root_client(server) as root:
        assert ROOT_PASSWORD not in repr(root)
        root.role_add("plain")
        root.user_add("alice", USER_PASSWORD)
        root.user_grant_role("alice", "plain")
        root.user_change_password("alice", USER_PASSWORD + "x")
        assert USER_PASSWORD not in repr(root.user_get("alice"))
        sleep(PAST_TTL)
        root.range("/k")  # logs in again
    wrong = client(server, username="alice", password=USER_PASSWORD)
    with wrong:
        with pytest.raises(etcd.EtcdAuthFailed) as raised:
            wrong.range("/k")
    assert USER_PASSWORD not in repr(wrong)
    assert USER_PASSWORD not in str(raised.value) and USER_PASSWORD not in repr(raised.value)
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert ROOT_PASSWORD not in logged and USER_PASSWORD not in logged
