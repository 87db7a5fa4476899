"""No password and no token reaches the logs, at any level.

Against a member with authentication on and simple tokens that expire after two seconds
(so the client logs in again under calls, a watch and a kept-alive lease), every record
of every ``etcd*`` logger at DEBUG is kept whole: message, arguments, formatted message,
``extra`` fields, exception and traceback. None may hold a password, a token the client
was given, or anything shaped like a token; nor may the ``repr()`` and ``str()`` of the
client, its configuration, its leases and watches, or the errors it raised.
"""

from __future__ import annotations

import traceback

import pytest

import etcd
from etcd._async.io import sleep
from etcd.testing import enable_auth

from ._log_capture import Everything, assert_no_secret, everything_logged, extra_fields

pytestmark = pytest.mark.integration

ROOT_PASSWORD = "r00t-log-secret-pw"
USER_PASSWORD = "us3r-log-secret-pw"
NEW_USER_PASSWORD = "n3w-us3r-log-secret-pw"
WRONG_PASSWORD = "wr0ng-log-secret-pw"
PASSWORDS = (ROOT_PASSWORD, USER_PASSWORD, NEW_USER_PASSWORD, WRONG_PASSWORD)
TOKEN_TTL = 2
PAST_TTL = TOKEN_TTL + 1.5


def remember_tokens(client: etcd.AsyncClient, tokens: list[str]) -> None:
    """Keep every token ``client`` is given (to look for them in the logs)."""
    transport = client._transport
    set_token = transport.set_token

    def remembering(token: str | None) -> None:
        if token:
            tokens.append(token)
        set_token(token)

    transport.set_token = remembering  # type: ignore[method-assign]


def shown(*things: object) -> str:
    """Everything a user could print of ``things``: repr, str, and for errors the whole
    traceback with its causes."""
    texts = []
    for thing in things:
        texts += [repr(thing), str(thing)]
        if isinstance(thing, BaseException):
            texts.append("".join(traceback.format_exception(thing)))
    return "\n".join(texts)


async def logged_soon(logged: Everything, start: str) -> None:
    """Wait until a record's message starts with ``start``."""
    for _ in range(400):
        if any(record.getMessage().startswith(start) for record in logged.records):
            return
        await sleep(0.05)
    raise AssertionError(f"nothing logged as {start!r}...")


def failing_callback(*_: object) -> None:
    raise RuntimeError("a callback that fails, to log a traceback")


async def test_no_password_or_token_reaches_the_logs_at_any_level(etcd_server_factory):
    server = etcd_server_factory(auth_token="simple", auth_token_ttl=TOKEN_TTL)
    enable_auth([server.endpoint], ROOT_PASSWORD)
    tokens: list[str] = []
    seen: list[object] = []
    with everything_logged() as logged:
        root = etcd.AsyncClient(
            endpoints=[server.endpoint], username="root", password=ROOT_PASSWORD, timeout=10
        )
        remember_tokens(root, tokens)
        async with root:
            seen += [root, root.config]
            await root.put("/app/a", "1")
            await root.role_add("reader")
            await root.role_grant_permission("reader", "/app/", prefix=True, permission="read")
            await root.user_add("alice", USER_PASSWORD)
            await root.user_grant_role("alice", "reader")
            await root.user_change_password("alice", NEW_USER_PASSWORD)

            delivered = root.watch_stream("/app/", prefix=True)
            failing = root.watch_stream("/app/", prefix=True, callback=failing_callback)
            assert await delivered.wait_created(10) and await failing.wait_created(10)
            lease = await root.lease(ttl=3, on_lost=failing_callback)
            seen += [delivered, failing, lease]
            for round_ in range(2):
                await sleep(PAST_TTL)  # the token expires under the watch and the lease
                await root.put("/app/a", str(round_))
                response = await delivered.next_response(10)
                assert [event.value for event in response.events] == [str(round_).encode()]
                assert not lease.lost
            await root.put("/app/leased", "v", lease=lease)

            # A lease lost (revoked by another client) logs a warning, and its failing
            # on_lost callback an error with its traceback.
            async with etcd.AsyncClient(
                endpoints=[server.endpoint], username="root", password=ROOT_PASSWORD
            ) as other:
                remember_tokens(other, tokens)
                await other.lease_revoke(lease.id)
            await lease.wait_lost(10)

            alice = etcd.AsyncClient(
                endpoints=[server.endpoint], username="alice", password=NEW_USER_PASSWORD
            )
            remember_tokens(alice, tokens)
            async with alice:
                seen.append(alice)
                assert (await alice.range("/app/a")).kvs
                with pytest.raises(etcd.EtcdPermissionDenied) as denied:
                    await alice.put("/app/a", "no")
                seen.append(denied.value)
                # A watch refused for good: the client logs in again once, then logs
                # the end of the watch (it has a callback, and no on_error).
                refused = alice.watch_stream("/other/", prefix=True, callback=failing_callback)
                await logged_soon(logged, "watch on [b'/other/'")
                seen.append(refused)
            delivered.cancel()
            failing.cancel()

        wrong = etcd.AsyncClient(
            endpoints=[server.endpoint], username="alice", password=WRONG_PASSWORD
        )
        async with wrong:
            seen += [wrong, wrong.config]
            with pytest.raises(etcd.EtcdAuthFailed) as refused_login:
                await wrong.range("/app/a")
            seen.append(refused_login.value)

    assert len(set(tokens)) >= 4, "the test must see logins, and logins again"
    secrets = [*PASSWORDS, *tokens, *(token.partition(".")[0] for token in tokens)]
    assert_no_secret(logged.text(), secrets)
    assert_no_secret(shown(*seen), secrets)
    # What was looked through: records of every kind, from the levels that matter.
    messages = [record.getMessage() for record in logged.records]
    assert any(m.startswith("authenticated as 'root'") for m in messages)
    assert any("the token was refused; logging in again" in m for m in messages)
    assert any(m.startswith(f"lease {lease.id:x} lost") for m in messages)
    assert any(record.exc_info for record in logged.records)
    # ... and records carry their structured fields.
    fields = [extra_fields(record) for record in logged.records]
    assert {
        "etcd_operation": "Auth.Authenticate",
        "etcd_endpoint": server.endpoint,
        "etcd_user": "alice",
    } in fields
    assert {"etcd_lease_id": lease.id} in fields
    assert any(
        f.get("etcd_stream") == "watch stream"
        and f.get("etcd_operation") == "Watch.Watch"
        and f.get("etcd_endpoint") == server.endpoint
        for f in fields
    )
    assert any(f.get("etcd_watch_id") == refused.id for f in fields)
