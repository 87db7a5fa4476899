# Generated from test_async_security.py by scripts/generate_sync.py: edit that file,
# then run the script. CI fails when the two differ.
"""TLS failures that name their cause, pre-issued tokens, and credentials hygiene."""

import pytest

import etcd
from etcd._wire import messages as pb
from etcd._wire import methods

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def wrong_name_server(etcd_binary, tmp_path_factory):
    from etcd.testing import EtcdServer, make_tls

    tls = make_tls(tmp_path_factory.mktemp("wrong-name"), hostnames=("etcd.wrong.example",))
    with EtcdServer(binary=etcd_binary, tls=tls) as server:
        yield server, tls


def test_a_certificate_for_another_host_is_refused(wrong_name_server):
    server, tls = wrong_name_server
    client = etcd.Client(
        endpoints=[f"https://{server.endpoint}"],
        ca_cert=tls.ca_cert,
        cert=(tls.client_cert, tls.client_key),
        timeout=5,
    )
    with client:
        with pytest.raises(etcd.EtcdConnectionFailed) as raised:
            client.range("/k")
    assert server.endpoint in str(raised.value)
    assert "another host name" in str(raised.value)


def test_the_expected_server_name_can_be_given(wrong_name_server):
    server, tls = wrong_name_server
    with etcd.Client(
        endpoints=[f"https://{server.endpoint}"],
        ca_cert=tls.ca_cert,
        cert=(tls.client_cert, tls.client_key),
        tls_server_name="etcd.wrong.example",
        timeout=5,
    ) as client:
        client.put("/k", "v")
        assert client.range("/k").kvs[0].value == b"v"


def enable_auth(server):
    with etcd.Client(endpoints=[server.endpoint]) as admin:
        for method, request in (
            (methods.AUTH_USER_ADD, pb.AuthUserAddRequest(name="root", password="pw")),
            (methods.AUTH_ROLE_ADD, pb.AuthRoleAddRequest(name="root")),
            (methods.AUTH_USER_GRANT_ROLE, pb.AuthUserGrantRoleRequest(user="root", role="root")),
            (methods.AUTH_ENABLE, pb.AuthEnableRequest()),
        ):
            admin._transport.unary(method, request, timeout=5, mutation=True)


def test_a_pre_issued_token(etcd_server_factory):
    server = etcd_server_factory()
    enable_auth(server)
    with etcd.Client(endpoints=[server.endpoint]) as anonymous:
        token = (
            anonymous._transport.unary(
                methods.AUTH_AUTHENTICATE,
                pb.AuthenticateRequest(name="root", password="pw"),
                timeout=5,
                mutation=False,
            )
        ).token
    with etcd.Client(endpoints=[server.endpoint], token=token) as client:
        client.put("/t", "v")
        assert client.range("/t").kvs[0].value == b"v"
        assert token not in repr(client)
    with etcd.Client(endpoints=[server.endpoint], token="not-a-token") as client:
        with pytest.raises(etcd.EtcdAuthError) as raised:
            client.range("/t")
        assert "not-a-token" not in str(raised.value)
