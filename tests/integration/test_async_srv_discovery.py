"""DNS SRV discovery: records published by a DNS server on 127.0.0.1 lead the client to a
real etcd; missing records, failing and silent servers end in typed errors."""

import pytest

import etcd

from .._dns_server import Record, dns_server, silent_nameserver

pytestmark = pytest.mark.integration

DOMAIN = "cluster.example.test"


@pytest.fixture
def dns():
    with dns_server() as server:
        yield server


async def test_the_members_published_for_http_are_reached(dns, etcd_server):
    dns.publish(f"_etcd-client._tcp.{DOMAIN}", Record(etcd_server.client_port))
    client = etcd.AsyncClient(discovery_srv=DOMAIN, discovery_nameservers=[dns.nameserver])
    async with client:
        assert client.endpoints == [f"http://localhost:{etcd_server.client_port}"]
        await client.put("/srv/plain", "v")
        assert (await client.range("/srv/plain")).kvs[0].value == b"v"
    assert f"_etcd-client-ssl._tcp.{DOMAIN}" in dns.resolver.questions


async def test_a_service_name_selects_its_own_records(dns, etcd_server):
    dns.publish(f"_etcd-client._tcp.{DOMAIN}", Record(1))
    dns.publish(f"_etcd-client-billing._tcp.{DOMAIN}", Record(etcd_server.client_port))
    client = etcd.AsyncClient(
        discovery_srv=DOMAIN + ".",
        discovery_srv_name="billing",
        discovery_nameservers=[dns.nameserver],
    )
    async with client:
        assert client.endpoints == [f"http://localhost:{etcd_server.client_port}"]
        await client.put("/srv/named", "v")


async def test_the_ssl_records_are_reached_over_tls(dns, etcd_server_factory, etcd_tls):
    server = etcd_server_factory(tls=etcd_tls)
    dns.publish(f"_etcd-client-ssl._tcp.{DOMAIN}", Record(server.client_port))
    # A plain record beside it is not used: one scheme serves every member, and TLS wins.
    dns.publish(f"_etcd-client._tcp.{DOMAIN}", Record(1))
    client = etcd.AsyncClient(
        discovery_srv=DOMAIN,
        discovery_nameservers=[dns.nameserver],
        ca_cert=etcd_tls.ca_cert,
        cert=(etcd_tls.client_cert, etcd_tls.client_key),
    )
    async with client:
        assert client.endpoints == [f"https://localhost:{server.client_port}"]
        await client.put("/srv/tls", "v")
        assert (await client.range("/srv/tls")).kvs[0].value == b"v"


async def test_members_are_tried_in_priority_order(dns, etcd_server):
    dns.publish(
        f"_etcd-client._tcp.{DOMAIN}",
        Record(etcd_server.client_port, "127.0.0.1", priority=20),
        Record(etcd_server.client_port, "localhost", priority=10),
    )
    client = etcd.AsyncClient(discovery_srv=DOMAIN, discovery_nameservers=[dns.nameserver])
    async with client:
        assert client.endpoints == [
            f"http://localhost:{etcd_server.client_port}",
            f"http://127.0.0.1:{etcd_server.client_port}",
        ]


async def test_a_domain_without_records_is_refused_at_construction(dns):
    with pytest.raises(etcd.EtcdDiscoveryNotFound) as raised:
        etcd.AsyncClient(
            discovery_srv="missing.example.test", discovery_nameservers=[dns.nameserver]
        )
    assert "missing.example.test" in str(raised.value)
    assert "_etcd-client-ssl._tcp.missing.example.test" in str(raised.value)
    assert isinstance(raised.value, etcd.EtcdConnectionFailed)


async def test_a_failing_name_server_is_an_error_not_a_fallback(dns, etcd_server):
    # The TLS lookup fails: falling back to the plain records would drop TLS.
    dns.fail(f"_etcd-client-ssl._tcp.{DOMAIN}")
    dns.publish(f"_etcd-client._tcp.{DOMAIN}", Record(etcd_server.client_port))
    with pytest.raises(etcd.EtcdDiscoveryFailed, match="SERVFAIL") as raised:
        etcd.AsyncClient(discovery_srv=DOMAIN, discovery_nameservers=[dns.nameserver])
    assert DOMAIN in str(raised.value)


async def test_a_silent_name_server_ends_at_the_deadline():
    with silent_nameserver() as nameserver:
        with pytest.raises(etcd.EtcdDiscoveryTimedOut) as raised:
            etcd.AsyncClient(discovery_srv=DOMAIN, discovery_nameservers=[nameserver], timeout=0.3)
    assert isinstance(raised.value, TimeoutError)
    assert DOMAIN in str(raised.value)


async def test_python_etcds_srv_domain_prefers_etcds_own_records(dns, etcd_server):
    dns.publish(f"_etcd._tcp.{DOMAIN}", Record(1))
    dns.publish(f"_etcd-client._tcp.{DOMAIN}", Record(etcd_server.client_port))
    client = etcd.AsyncClient(srv_domain=DOMAIN, discovery_nameservers=[dns.nameserver])
    async with client:
        assert client.endpoints == [f"http://localhost:{etcd_server.client_port}"]


async def test_python_etcds_srv_domain_falls_back_to_its_own_records(dns, etcd_server):
    dns.publish(f"_etcd._tcp.{DOMAIN}", Record(etcd_server.client_port))
    client = etcd.AsyncClient(srv_domain=DOMAIN, discovery_nameservers=[dns.nameserver])
    async with client:
        assert client.endpoints == [f"http://localhost:{etcd_server.client_port}"]
        await client.set("/srv/classic", "v")
        assert (await client.get("/srv/classic")).value == "v"
    with pytest.raises(etcd.EtcdDiscoveryNotFound, match=r"_etcd\._tcp\.missing\.test"):
        etcd.AsyncClient(srv_domain="missing.test", discovery_nameservers=[dns.nameserver])


async def test_srv_domain_with_https_takes_python_etcds_records_as_tls(
    dns, etcd_server_factory, etcd_tls
):
    server = etcd_server_factory(tls=etcd_tls)
    dns.publish(f"_etcd._tcp.{DOMAIN}", Record(server.client_port))
    client = etcd.AsyncClient(
        srv_domain=DOMAIN,
        protocol="https",
        ca_cert=etcd_tls.ca_cert,
        cert=(etcd_tls.client_cert, etcd_tls.client_key),
        discovery_nameservers=[dns.nameserver],
    )
    async with client:
        assert client.endpoints == [f"https://localhost:{server.client_port}"]
        await client.set("/srv/classic-tls", "v")


async def test_from_env_reads_etcdctls_discovery_variables(dns, etcd_server):
    dns.publish(f"_etcd-client-edge._tcp.{DOMAIN}", Record(etcd_server.client_port))
    environ = {
        "ETCDCTL_ENDPOINTS": "127.0.0.1:1",  # discovery wins, as in etcdctl
        "ETCDCTL_DISCOVERY_SRV": DOMAIN,
        "ETCDCTL_DISCOVERY_SRV_NAME": "edge",
    }
    client = etcd.AsyncClient.from_env(environ, discovery_nameservers=[dns.nameserver])
    async with client:
        assert client.endpoints == [f"http://localhost:{etcd_server.client_port}"]
        await client.put("/srv/env", "v")
