"""Users, roles and permissions against a real etcd; tokens that expire under long-lived clients.

Authentication is server-wide, so every test runs on a member of its own.
"""

from __future__ import annotations

import logging

import pytest

import etcd
from etcd import Permission, PermissionType
from etcd._async.io import sleep

pytestmark = pytest.mark.integration

ROOT_PASSWORD = "r00t-Pa55word-never-shown"
USER_PASSWORD = "us3r-Pa55word-never-shown"


def client(server, **options):
    return etcd.AsyncClient(endpoints=[server.endpoint], timeout=10, **options)


def root_client(server):
    return client(server, username="root", password=ROOT_PASSWORD)


async def enable_auth(server):
    """Create root with the root role and turn authentication on (as an anonymous client)."""
    async with client(server) as admin:
        await admin.user_add("root", ROOT_PASSWORD)
        await admin.role_add("root")
        await admin.user_grant_role("root", "root")
        await admin.auth_enable()


async def add_user_with_role(root, user, role):
    await root.user_add(user, USER_PASSWORD)
    await root.user_grant_role(user, role)


# --- enabling and disabling ---------------------------------------------------------------------


@pytest.mark.etcd_version("3.5", reason="reads the auth revision from AuthStatus")
async def test_enabling_requires_a_root_user_with_the_root_role(etcd_server_factory):
    server = etcd_server_factory()
    async with client(server) as admin:
        status = await admin.auth_status()
        assert not status.enabled
        first_revision = status.auth_revision
        with pytest.raises(etcd.EtcdPreconditionFailed, match="root user does not exist") as e:
            await admin.auth_enable()
        assert e.value.operation == "Auth.AuthEnable" and e.value.code == "FAILED_PRECONDITION"
        await admin.user_add("root", ROOT_PASSWORD)
        with pytest.raises(etcd.EtcdPreconditionFailed, match="does not have root role"):
            await admin.auth_enable()
        await admin.role_add("root")
        await admin.user_grant_role("root", "root")
        header = await admin.auth_enable()
        assert header.member_id
        # From now on, a client without credentials is refused.
        with pytest.raises(etcd.EtcdAuthError):
            await admin.range("/k")
        with pytest.raises(etcd.EtcdAuthError):
            await admin.auth_status()
    async with root_client(server) as root:
        status = await root.auth_status()
        assert status.enabled and status.auth_revision > first_revision
        await root.put("/k", "v")
        await root.auth_disable()
    async with client(server) as anonymous:
        assert not (await anonymous.auth_status()).enabled
        assert (await anonymous.range("/k")).kvs[0].value == b"v"


async def test_only_root_may_disable_auth(etcd_server_factory):
    server = etcd_server_factory()
    await enable_auth(server)
    async with root_client(server) as root:
        await root.role_add("plain")
        await add_user_with_role(root, "alice", "plain")
        async with client(server, username="alice", password=USER_PASSWORD) as alice:
            with pytest.raises(etcd.EtcdPermissionDenied):
                await alice.auth_disable()
        assert (await root.auth_status()).enabled


# --- users and roles ----------------------------------------------------------------------------


async def test_users(etcd_server_factory):
    server = etcd_server_factory()
    await enable_auth(server)
    async with root_client(server) as root:
        await root.role_add("reader")
        await root.role_grant_permission("reader", "/k", permission="read")
        await root.role_add("writer")
        await root.user_add("alice", USER_PASSWORD)
        await root.user_add("cert-only", no_password=True)
        assert await root.user_list() == ["alice", "cert-only", "root"]
        await root.user_grant_role("alice", "reader")
        await root.user_grant_role("alice", "writer")
        user = await root.user_get("alice")
        assert (user.name, sorted(user.roles)) == ("alice", ["reader", "writer"])
        assert user.header is not None and user.header.member_id
        await root.user_revoke_role("alice", "writer")
        assert (await root.user_get("alice")).roles == ["reader"]
        assert (await root.user_get("cert-only")).roles == []

        with pytest.raises(etcd.EtcdPreconditionFailed, match="already exists"):
            await root.user_add("alice", USER_PASSWORD)
        with pytest.raises(etcd.EtcdException, match="user name not found"):
            await root.user_get("nobody")
        with pytest.raises(etcd.EtcdException, match="role name not found"):
            await root.user_grant_role("alice", "no-such-role")

        # A user without a password cannot log in with one.
        async with client(server, username="cert-only", password="anything") as cert_only:
            with pytest.raises(etcd.EtcdException, match="no password user"):
                await cert_only.range("/k")

        new_password = USER_PASSWORD + "-2"
        await root.user_change_password("alice", new_password)
        async with client(server, username="alice", password=new_password) as alice:
            await alice.range("/k")
        async with client(server, username="alice", password=USER_PASSWORD) as stale:
            with pytest.raises(etcd.EtcdAuthFailed) as raised:
                await stale.range("/k")
        assert USER_PASSWORD not in str(raised.value)

        await root.user_delete("alice")
        await root.user_delete("cert-only")
        assert await root.user_list() == ["root"]
        with pytest.raises(etcd.EtcdException, match="user name not found"):
            await root.user_delete("alice")


async def test_a_password_for_a_user_without_one_is_an_auth_failure(etcd_server_factory):
    server = etcd_server_factory()
    await enable_auth(server)
    async with root_client(server) as root:
        await root.user_add("cert-only", no_password=True)
    async with client(server, username="cert-only", password="anything") as cert_only:
        with pytest.raises(etcd.EtcdAuthFailed):
            await cert_only.range("/k")


async def test_roles_and_permissions(etcd_server_factory):
    server = etcd_server_factory()
    await enable_auth(server)
    async with root_client(server) as root:
        await root.role_add("ops")
        assert await root.role_list() == ["ops", "root"]
        assert (await root.role_get("ops")).permissions == []
        await root.role_grant_permission("ops", "/app/", prefix=True, permission="read")
        await root.role_grant_permission("ops", "/a", "/m", permission=PermissionType.READWRITE)
        await root.role_grant_permission("ops", "/single", permission="write")
        await root.role_grant_permission("ops", "/tail", from_key=True, permission="read")
        role = await root.role_get("ops")
        assert role.name == "ops"
        by_kind = {p.kind: p for p in role.permissions}
        assert by_kind == {
            "prefix": Permission(PermissionType.READ, b"/app/", b"/app0"),
            "range": Permission(PermissionType.READWRITE, b"/a", b"/m"),
            "key": Permission(PermissionType.WRITE, b"/single", b""),
            "from_key": Permission(PermissionType.READ, b"/tail", b"\0"),
        }
        # Granting again on exactly the same keys replaces the type.
        await root.role_grant_permission("ops", "/app/", prefix=True, permission="readwrite")
        assert {p.type for p in (await root.role_get("ops")).permissions if p.is_prefix} == {
            PermissionType.READWRITE
        }
        await root.role_revoke_permission("ops", "/app/", prefix=True)
        await root.role_revoke_permission("ops", "/a", "/m")
        await root.role_revoke_permission("ops", "/single")
        await root.role_revoke_permission("ops", "/tail", from_key=True)
        assert (await root.role_get("ops")).permissions == []
        with pytest.raises(etcd.EtcdException, match="permission is not granted"):
            await root.role_revoke_permission("ops", "/single")

        await root.role_grant_permission("ops", etcd.ALL_KEYS, permission="read")
        assert (await root.role_get("ops")).permissions == [
            Permission(PermissionType.READ, b"\0", b"\0")
        ]

        await root.role_delete("ops")
        assert await root.role_list() == ["root"]
        with pytest.raises(etcd.EtcdException, match="role name not found"):
            await root.role_get("ops")


# --- what permissions allow -----------------------------------------------------------------


async def test_a_read_only_prefix_role(etcd_server_factory):
    server = etcd_server_factory()
    await enable_auth(server)
    async with root_client(server) as root:
        await root.put("/app/x", "1")
        await root.put("/other", "2")
        await root.role_add("app-reader")
        await root.role_grant_permission("app-reader", "/app/", prefix=True, permission="read")
        await add_user_with_role(root, "reader", "app-reader")
        async with client(server, username="reader", password=USER_PASSWORD) as reader:
            assert (await reader.range("/app/x")).kvs[0].value == b"1"
            assert [kv.key for kv in (await reader.range("/app/", prefix=True)).kvs] == [b"/app/x"]
            with pytest.raises(etcd.EtcdPermissionDenied) as raised:
                await reader.put("/app/x", "changed")
            assert isinstance(raised.value, PermissionError)
            with pytest.raises(etcd.EtcdPermissionDenied):
                await reader.range("/other")
            with pytest.raises(etcd.EtcdPermissionDenied):
                await reader.delete_range("/app/x")
        assert (await root.range("/app/x")).kvs[0].value == b"1"


async def test_a_readwrite_range_permission(etcd_server_factory):
    server = etcd_server_factory()
    await enable_auth(server)
    async with root_client(server) as root:
        await root.role_add("ranger")
        await root.role_grant_permission("ranger", "/r/a", "/r/m")
        await add_user_with_role(root, "ranger", "ranger")
        async with client(server, username="ranger", password=USER_PASSWORD) as ranger:
            await ranger.put("/r/a", "1")
            await ranger.put("/r/lz", "2")
            assert (await ranger.range("/r/a", "/r/m")).count == 2
            await ranger.delete_range("/r/a")
            with pytest.raises(etcd.EtcdPermissionDenied):
                await ranger.put("/r/m", "end is exclusive")
            with pytest.raises(etcd.EtcdPermissionDenied):
                await ranger.range("/r/", prefix=True)


@pytest.mark.etcd_version("3.5", reason="reads the auth revision from AuthStatus")
async def test_a_long_lived_client_follows_permission_changes(etcd_server_factory):
    server = etcd_server_factory()
    await enable_auth(server)
    async with root_client(server) as root:
        await root.put("/app/x", "1")
        await root.role_add("app")
        await root.role_grant_permission("app", "/app/", prefix=True, permission="read")
        await add_user_with_role(root, "worker", "app")
        async with client(server, username="worker", password=USER_PASSWORD) as worker:
            assert (await worker.range("/app/x")).count == 1
            before = (await root.auth_status()).auth_revision

            await root.role_revoke_permission("app", "/app/", prefix=True)
            assert (await root.auth_status()).auth_revision > before
            # The worker's token predates the change: the client logs in again, and the
            # new rules apply.
            with pytest.raises(etcd.EtcdPermissionDenied):
                await worker.range("/app/x")

            await root.role_grant_permission("app", "/app/", prefix=True, permission="readwrite")
            assert (await worker.range("/app/x")).count == 1
            await worker.put("/app/x", "2")

            await root.user_revoke_role("worker", "app")
            with pytest.raises(etcd.EtcdPermissionDenied):
                await worker.put("/app/x", "3")
            await root.user_grant_role("worker", "app")
            await worker.put("/app/x", "3")
        assert (await root.range("/app/x")).kvs[0].value == b"3"


# --- tokens that expire under a long-lived client ---------------------------------------------


TOKEN_TTL = 2
PAST_TTL = TOKEN_TTL + 1.5


async def short_token_server(etcd_server_factory):
    server = etcd_server_factory(auth_token="simple", auth_token_ttl=TOKEN_TTL)
    await enable_auth(server)
    return server


async def test_unary_calls_across_token_expiries(etcd_server_factory):
    server = await short_token_server(etcd_server_factory)
    async with root_client(server) as root:
        for round_ in range(3):
            await sleep(PAST_TTL)
            await root.put("/t", str(round_))
            assert (await root.range("/t")).kvs[0].value == str(round_).encode()
            assert (await root.auth_status()).enabled


async def test_a_watch_across_token_expiries(etcd_server_factory):
    server = await short_token_server(etcd_server_factory)
    async with root_client(server) as watcher, root_client(server) as writer:
        watch = watcher.watch_stream("/w")
        assert await watch.wait_created(10)
        for round_ in range(3):
            await sleep(PAST_TTL)
            await writer.put("/w", str(round_))
            response = await watch.next_response(10)
            assert [event.value for event in response.events] == [str(round_).encode()]
        # A new watch on the same (long-idle) stream is created with a fresh token.
        await sleep(PAST_TTL)
        second = watcher.watch_stream("/w2")
        assert await second.wait_created(10)
        await writer.put("/w2", "x")
        assert [event.value for event in (await second.next_response(10)).events] == [b"x"]
        watch.cancel()
        second.cancel()


async def test_a_lease_keep_alive_across_token_expiries(etcd_server_factory):
    server = await short_token_server(etcd_server_factory)
    async with root_client(server) as holder:
        lease = await holder.lease(ttl=3)
        for _ in range(3):
            await sleep(PAST_TTL)
            assert not lease.lost
        assert (await holder.lease_time_to_live(lease.id)).exists
        await holder.put("/leased", "v", lease=lease)
        await lease.revoke()


# --- secrets hygiene ----------------------------------------------------------------------------


async def test_passwords_are_never_shown(etcd_server_factory, caplog):
    caplog.set_level(logging.DEBUG, logger="etcd")
    server = await short_token_server(etcd_server_factory)
    async with root_client(server) as root:
        assert ROOT_PASSWORD not in repr(root)
        await root.role_add("plain")
        await root.user_add("alice", USER_PASSWORD)
        await root.user_grant_role("alice", "plain")
        await root.user_change_password("alice", USER_PASSWORD + "x")
        assert USER_PASSWORD not in repr(await root.user_get("alice"))
        await sleep(PAST_TTL)
        await root.range("/k")  # logs in again
    wrong = client(server, username="alice", password=USER_PASSWORD)
    async with wrong:
        with pytest.raises(etcd.EtcdAuthFailed) as raised:
            await wrong.range("/k")
    assert USER_PASSWORD not in repr(wrong)
    assert USER_PASSWORD not in str(raised.value) and USER_PASSWORD not in repr(raised.value)
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert ROOT_PASSWORD not in logged and USER_PASSWORD not in logged
