"""The seed's https lines against an etcd that requires client certificates; etcd auth."""

import pytest

import etcd
from etcd._async.io import sleep
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
    return etcd.AsyncClient(host=host, port=int(port), protocol="https", timeout=5, **options)


async def test_https_with_a_certificate_and_key_pair(tls_server):
    server, tls = tls_server
    async with https_client(
        server, cert=(tls.client_cert, tls.client_key), ca_cert=tls.ca_cert
    ) as c:
        await c.set("/tls/pair", 1)
        assert (await c.get("/tls/pair")).value == "1"
        assert await c.machines == [server.client_url]


async def test_https_with_a_combined_pem(tls_server):
    server, tls = tls_server
    async with https_client(server, cert=tls.client_combined, ca_cert=tls.ca_cert) as c:
        await c.set("/tls/combined", 2)
        assert (await c.get("/tls/combined")).value == "2"


async def test_an_untrusted_server_certificate_is_a_clear_error(tls_server):
    server, tls = tls_server
    untrusting = https_client(
        server, cert=(tls.client_cert, tls.client_key), ca_cert=tls.other_ca_cert
    )
    async with untrusting as c:
        with pytest.raises(etcd.EtcdConnectionFailed) as raised:
            await c.get("/tls/pair")
    message = str(raised.value)
    assert server.endpoint in message
    assert "not signed by a trusted CA" in message


async def test_a_missing_client_certificate_is_refused_by_the_server(tls_server):
    server, tls = tls_server
    async with https_client(server, ca_cert=tls.ca_cert) as c:
        with pytest.raises(etcd.EtcdConnectionFailed) as raised:
            await c.get("/tls/pair")
    assert server.endpoint in str(raised.value)
    assert "refused this client's certificate" in str(raised.value)


async def test_missing_certificate_files_are_refused_at_construction(tls_server, tmp_path):
    server, tls = tls_server
    with pytest.raises(etcd.EtcdException, match=r"no-such\.pem"):
        https_client(server, cert=str(tmp_path / "no-such.pem"), ca_cert=tls.ca_cert)
    with pytest.raises(etcd.EtcdValueError, match="https"):
        etcd.AsyncClient(port=1, cert=(tls.client_cert, tls.client_key))


async def enable_auth(client, password):
    async def call(method, request):
        return await client._transport.unary(method, request, timeout=5, mutation=True)

    await call(methods.AUTH_USER_ADD, pb.AuthUserAddRequest(name="root", password=password))
    await call(methods.AUTH_ROLE_ADD, pb.AuthRoleAddRequest(name="root"))
    await call(methods.AUTH_USER_GRANT_ROLE, pb.AuthUserGrantRoleRequest(user="root", role="root"))
    await call(methods.AUTH_ENABLE, pb.AuthEnableRequest())


async def test_username_and_password(etcd_server_factory):
    server = etcd_server_factory(auth_token="simple", auth_token_ttl=2)
    async with etcd.AsyncClient(endpoints=[server.endpoint]) as admin:
        await enable_auth(admin, "s3cret")
    async with etcd.AsyncClient(
        endpoints=[server.endpoint], username="root", password="s3cret"
    ) as client:
        await client.set("/auth/k", "v")
        assert (await client.get("/auth/k")).value == "v"
        # Simple tokens die after 2 idle seconds: the client logs in again by itself.
        await sleep(3.5)
        assert (await client.get("/auth/k")).value == "v"
        assert "s3cret" not in repr(client)
    wrong = etcd.AsyncClient(endpoints=[server.endpoint], username="root", password="wrong")
    async with wrong:
        with pytest.raises(etcd.EtcdAuthFailed):
            await wrong.get("/auth/k")
    async with etcd.AsyncClient(endpoints=[server.endpoint]) as anonymous:
        with pytest.raises(etcd.EtcdAuthError):
            await anonymous.get("/auth/k")
