"""What etcdctl 3.6 and 3.7 added to the command line: request and answer size limits, an
auth token, ``member list --consistency``, ``get``'s revision filters and ``downgrade``.

etcdctl 3.5 (the one installed here) has none of them, so these run our tool alone,
against a real etcd, and check it against etcdctl 3.6's documented behaviour.
"""

from __future__ import annotations

import io

import pytest

import etcd
from etcd._cli import run
from etcd._core.versions import release
from etcd.testing import enable_auth

from ._etcdctl import clean_environment

pytestmark = pytest.mark.integration


def ours(endpoint: str, *args: str) -> tuple[int, str, str]:
    out, err = io.BytesIO(), io.StringIO()
    code = run(
        [f"--endpoints={endpoint}", *args],
        stdin=io.BytesIO(b""),
        stdout=out,
        stderr=err,
        environ=clean_environment(),
    )
    return code, out.getvalue().decode(), err.getvalue()


def test_request_and_answer_size_limits(etcd_server):
    endpoint = etcd_server.endpoint
    code, _, err = ours(endpoint, "--max-request-bytes=64", "put", "/cli36/big", "v" * 200)
    assert code != 0 and "Error: " in err and "64" in err
    assert ours(endpoint, "put", "/cli36/big", "v" * 200)[0] == 0
    code, _, err = ours(endpoint, "--max-recv-bytes=100", "get", "/cli36/big")
    assert code != 0 and "Error: " in err
    code, out, _ = ours(endpoint, "--max-recv-bytes=10000", "get", "/cli36/big")
    assert code == 0 and out == "/cli36/big\n" + "v" * 200 + "\n"
    assert ours(endpoint, "--max-request-bytes=-1", "get", "/cli36/big")[0] != 0


def test_an_auth_token_stands_for_user_and_password(etcd_server_factory):
    server = etcd_server_factory(auth_token="simple")
    enable_auth([server.endpoint], "pw-36")
    with etcd.Client(endpoints=[server.endpoint], username="root", password="pw-36") as root:
        root.put("/cli36/secret", "1")
        token = root._transport._token
    assert token
    code, out, _ = ours(server.endpoint, f"--auth-jwt-token={token}", "get", "/cli36/secret")
    assert (code, out) == (0, "/cli36/secret\n1\n")
    # As etcdctl: the token wins over --user.
    code, out, _ = ours(
        server.endpoint, f"--auth-jwt-token={token}", "--user=nobody:x", "get", "/cli36/secret"
    )
    assert (code, out) == (0, "/cli36/secret\n1\n")
    code, _, err = ours(server.endpoint, "--auth-jwt-token=not-a-token", "get", "/cli36/secret")
    assert code != 0 and "not-a-token" not in err


def test_member_list_consistency(etcd_server):
    listed = ours(etcd_server.endpoint, "member", "list")
    assert listed[0] == 0 and listed[1].count("\n") == 1
    assert ours(etcd_server.endpoint, "member", "list", "--consistency=s")[:2] == listed[:2]
    code, _, err = ours(etcd_server.endpoint, "member", "list", "--consistency=x")
    assert code != 0 and 'unknown consistency flag "x"' in err


def test_get_filters_keys_by_their_revisions(etcd_server):
    endpoint = etcd_server.endpoint
    with etcd.Client(endpoints=[endpoint]) as client:
        first = client.put("/cli36/rev/a", "1").header.revision
        second = client.put("/cli36/rev/b", "2").header.revision
        client.put("/cli36/rev/a", "3")

    def keys(*flags: str) -> list[str]:
        code, out, err = ours(endpoint, "get", "/cli36/rev/", "--prefix", "--keys-only", *flags)
        assert code == 0, err
        return [line for line in out.splitlines() if line]

    assert keys() == ["/cli36/rev/a", "/cli36/rev/b"]
    assert keys(f"--min-create-rev={second}") == ["/cli36/rev/b"]
    assert keys(f"--max-create-rev={first}") == ["/cli36/rev/a"]
    assert keys(f"--max-mod-rev={second}") == ["/cli36/rev/b"]
    assert keys(f"--min-mod-rev={second + 1}") == ["/cli36/rev/a"]
    code, _, err = ours(endpoint, "get", "/cli36/rev/", "--prefix", "--min-mod-rev=-1")
    assert code != 0 and "Error: " in err


def test_downgrade_commands(etcd_server):
    endpoint = etcd_server.endpoint
    with etcd.Client(endpoints=[endpoint]) as client:
        version = client.status().version
    major, minor = release(version) or (0, 0)
    code, _, err = ours(endpoint, "downgrade", "validate")
    assert code != 0 and "TARGET_VERSION not provided" in err
    code, _, err = ours(endpoint, "downgrade", "validate", "3.4", "3.3")
    assert code != 0 and "too many arguments" in err
    code, out, err = ours(endpoint, "downgrade", "validate", f"{major}.{minor - 1}")
    if (major, minor) >= (3, 5):
        assert (code, out) == (
            0,
            f"Downgrade validate success, cluster version {major}.{minor}.0\n",
        )
    else:
        assert code != 0 and "needs etcd 3.5 or later" in err
