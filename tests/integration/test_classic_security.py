# Generated from test_async_classic_security.py by scripts/generate_sync.py: edit that file,
# then run the script. CI fails when the two differ.
"""The seed's https lines against an etcd that requires client certificates; etcd auth."""

import pytest

import etcd
from etcd._sync_io import sleep
from etcd._wire import messages as pb
from etcd._wire import methods

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def tls_server(etcd_binary, tmp_path_factory):
    from etcd.testing import EtcdServer, make_tls

    tls = make_tls(tmp_path_factory.mktemp("tls"))
    with EtcdServer(binary=etcd_binary, tls=tls) as server:
        yield server, tls


def https_client(server, **options):
    host, _, port = server.endpoint.rpartition(":")
    return etcd.Client(host=host, port=int(port), protocol="https", timeout=5, **options)


def test_https_with_a_certificate_and_key_pair(tls_server):
    server, tls = tls_server
    with https_client(server, cert=(tls.client_cert, tls.client_key), ca_cert=tls.ca_cert) as c:
        c.set("/tls/pair", 1)
        assert c.get("/tls/pair").value == "1"
        assert c.machines == [server.client_url]


def test_https_with_a_combined_pem(tls_server):
    server, tls = tls_server
    with https_client(server, cert=tls.client_combined, ca_cert=tls.ca_cert) as c:
        c.set("/tls/combined", 2)
        assert c.get("/tls/combined").value == "2"


def test_an_untrusted_server_certificate_is_a_clear_error(tls_server):
    server, tls = tls_server
    untrusting = https_client(
        server, cert=(tls.client_cert, tls.client_key), ca_cert=tls.other_ca_cert
    )
    with untrusting as c:
        with pytest.raises(etcd.EtcdConnectionFailed) as raised:
            c.get("/tls/pair")
    message = str(raised.value)
    assert server.endpoint in message
    assert "not signed by a trusted CA" in message


def test_a_missing_client_certificate_is_refused_by_the_server(tls_server):
    server, tls = tls_server
    with https_client(server, ca_cert=tls.ca_cert) as c:
        with pytest.raises(etcd.EtcdConnectionFailed) as raised:
            c.get("/tls/pair")
    assert server.endpoint in str(raised.value)
    assert "refused this client's certificate" in str(raised.value)


def test_missing_certificate_files_are_refused_at_construction(tls_server, tmp_path):
    server, tls = tls_server
    with pytest.raises(etcd.EtcdException, match=r"no-such\.pem"):
        https_client(server, cert=str(tmp_path / "no-such.pem"), ca_cert=tls.ca_cert)
    with pytest.raises(etcd.EtcdValueError, match="https"):
        etcd.Client(port=1, cert=(tls.client_cert, tls.client_key))


def enable_auth(client, password):
    def call(method, request):
        return client._transport.unary(method, request, timeout=5, mutation=True)

    call(methods.AUTH_USER_ADD, pb.AuthUserAddRequest(name="root", password=password))
    call(methods.AUTH_ROLE_ADD, pb.AuthRoleAddRequest(name="root"))
    call(methods.AUTH_USER_GRANT_ROLE, pb.AuthUserGrantRoleRequest(user="root", role="root"))
    call(methods.AUTH_ENABLE, pb.AuthEnableRequest())


def test_username_and_password(etcd_server_factory):
    server = etcd_server_factory(auth_token="simple", auth_token_ttl=2)
    with etcd.Client(endpoints=[server.endpoint]) as admin:
        enable_auth(admin, "s3cret")
    with etcd.Client(endpoints=[server.endpoint], username="root", password="s3cret") as client:
        client.set("/auth/k", "v")
        assert client.get("/auth/k").value == "v"
        # Simple tokens die after 2 idle seconds: the client logs in again by itself.
        sleep(3.5)
        assert client.get("/auth/k").value == "v"
        assert "s3cret" not in repr(client)
    wrong = etcd.Client(endpoints=[server.endpoint], username="root", password="wrong")
    with wrong:
        with pytest.raises(etcd.EtcdAuthFailed):
            wrong.get("/auth/k")
    with etcd.Client(endpoints=[server.endpoint]) as anonymous:
        with pytest.raises(etcd.EtcdAuthError):
            anonymous.get("/auth/k")
