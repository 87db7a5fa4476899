"""TLS failures that name their cause, pre-issued tokens, credentials hygiene, and clients
configured from etcdctl's environment variables."""

import os

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


async def test_a_certificate_for_another_host_is_refused(wrong_name_server):
    server, tls = wrong_name_server
    client = etcd.AsyncClient(
        endpoints=[f"https://{server.endpoint}"],
        ca_cert=tls.ca_cert,
        cert=(tls.client_cert, tls.client_key),
        timeout=5,
    )
    async with client:
        with pytest.raises(etcd.EtcdConnectionFailed) as raised:
            await client.range("/k")
    assert server.endpoint in str(raised.value)
    assert "another host name" in str(raised.value)


async def test_the_expected_server_name_can_be_given(wrong_name_server):
    server, tls = wrong_name_server
    async with etcd.AsyncClient(
        endpoints=[f"https://{server.endpoint}"],
        ca_cert=tls.ca_cert,
        cert=(tls.client_cert, tls.client_key),
        tls_server_name="etcd.wrong.example",
        timeout=5,
    ) as client:
        await client.put("/k", "v")
        assert (await client.range("/k")).kvs[0].value == b"v"


async def enable_auth(server):
    async with etcd.AsyncClient(endpoints=[server.endpoint]) as admin:
        for method, request in (
            (methods.AUTH_USER_ADD, pb.AuthUserAddRequest(name="root", password="pw")),
            (methods.AUTH_ROLE_ADD, pb.AuthRoleAddRequest(name="root")),
            (methods.AUTH_USER_GRANT_ROLE, pb.AuthUserGrantRoleRequest(user="root", role="root")),
            (methods.AUTH_ENABLE, pb.AuthEnableRequest()),
        ):
            await admin._transport.unary(method, request, timeout=5, mutation=True)


async def test_a_pre_issued_token(etcd_server_factory):
    server = etcd_server_factory()
    await enable_auth(server)
    async with etcd.AsyncClient(endpoints=[server.endpoint]) as anonymous:
        token = (
            await anonymous._transport.unary(
                methods.AUTH_AUTHENTICATE,
                pb.AuthenticateRequest(name="root", password="pw"),
                timeout=5,
                mutation=False,
            )
        ).token
    async with etcd.AsyncClient(endpoints=[server.endpoint], token=token) as client:
        await client.put("/t", "v")
        assert (await client.range("/t")).kvs[0].value == b"v"
        assert token not in repr(client)
    async with etcd.AsyncClient(endpoints=[server.endpoint], token="not-a-token") as client:
        with pytest.raises(etcd.EtcdAuthError) as raised:
            await client.range("/t")
        assert "not-a-token" not in str(raised.value)


def etcdctl_environment(monkeypatch, **variables):
    """Exactly these ``ETCDCTL_*`` variables, whatever the machine running the tests set."""
    for name in list(os.environ):
        if name.startswith("ETCDCTL_"):
            monkeypatch.delenv(name)
    for name, value in variables.items():
        monkeypatch.setenv(f"ETCDCTL_{name}", value)


async def test_from_env_reaches_a_tls_etcd_with_etcdctls_variables(
    etcd_server_factory, etcd_tls, monkeypatch
):
    server = etcd_server_factory(tls=etcd_tls)
    etcdctl_environment(
        monkeypatch,
        ENDPOINTS=server.client_url,
        CACERT=etcd_tls.ca_cert,
        CERT=etcd_tls.client_cert,
        KEY=etcd_tls.client_key,
        DIAL_TIMEOUT="2s",
        COMMAND_TIMEOUT="5s",
    )
    async with etcd.AsyncClient.from_env() as client:
        assert client.endpoints == [server.client_url]
        assert (client.protocol, client.base_uri) == ("https", server.client_url)
        assert (client.config.timeout, client.config.connect_timeout) == (5.0, 2.0)
        await client.put("/env/tls", "v")
        assert (await client.range("/env/tls")).kvs[0].value == b"v"
    # The same server refuses a client without the certificate: the variables did the work.
    etcdctl_environment(monkeypatch, ENDPOINTS=server.client_url, CACERT=etcd_tls.ca_cert)
    async with etcd.AsyncClient.from_env(timeout=5) as client:
        with pytest.raises(etcd.EtcdConnectionFailed, match="certificate"):
            await client.range("/env/tls")


async def test_from_env_logs_in_with_etcdctls_user_variables(etcd_server_factory, monkeypatch):
    server = etcd_server_factory()
    await enable_auth(server)
    etcdctl_environment(monkeypatch, ENDPOINTS=server.endpoint, USER="root:pw")
    async with etcd.AsyncClient.from_env() as client:
        assert client.config.username == "root"
        await client.put("/env/auth", "v")
        assert "pw" not in repr(client)
    etcdctl_environment(monkeypatch, ENDPOINTS=server.endpoint, USER="root", PASSWORD="pw")
    async with etcd.AsyncClient.from_env() as client:
        assert (await client.range("/env/auth")).kvs[0].value == b"v"
    etcdctl_environment(monkeypatch, ENDPOINTS=server.endpoint, USER="root", PASSWORD="wrong")
    async with etcd.AsyncClient.from_env() as client:
        with pytest.raises(etcd.EtcdAuthFailed):
            await client.range("/env/auth")
    etcdctl_environment(monkeypatch, ENDPOINTS=server.endpoint)
    async with etcd.AsyncClient.from_env() as client:
        with pytest.raises(etcd.EtcdAuthError):
            await client.range("/env/auth")
