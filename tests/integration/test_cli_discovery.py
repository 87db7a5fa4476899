"""``--discovery-srv``, ``--discovery-srv-name`` and ``--insecure-discovery`` of the command
line, and their ``ETCDCTL_*`` variables, answered by a DNS server on 127.0.0.1.

The command line asks dnspython's default resolver, as etcdctl asks the system's; these
tests make that resolver ask the test's server.
"""

import io

import pytest

from etcd._cli import run
from etcd.testing import make_tls

from .._dns_server import Record, dns_server
from ._etcdctl import clean_environment

pytestmark = pytest.mark.integration

DOMAIN = "cli.example.test"


@pytest.fixture
def dns(monkeypatch):
    resolver_module = pytest.importorskip("dns.resolver")
    nameserver_module = pytest.importorskip("dns.nameserver")
    with dns_server() as server:
        resolver = resolver_module.Resolver(configure=False)
        resolver.nameservers = [nameserver_module.Do53Nameserver("127.0.0.1", server.port)]
        monkeypatch.setattr(resolver_module, "default_resolver", resolver)
        yield server


def cli(*args, **env):
    out, err = io.BytesIO(), io.StringIO()
    code = run(
        list(args),
        stdin=io.BytesIO(),
        stdout=out,
        stderr=err,
        environ=clean_environment(**env),
    )
    return code, out.getvalue().decode(), err.getvalue()


def test_discovery_srv_finds_the_member(dns, etcd_server):
    dns.publish(f"_etcd-client._tcp.{DOMAIN}", Record(etcd_server.client_port))
    assert cli("-d", DOMAIN, "put", "/cli/srv", "v") == (0, "OK\n", "")
    assert cli(f"--discovery-srv={DOMAIN}", "get", "/cli/srv") == (0, "/cli/srv\nv\n", "")
    code, out, _ = cli("-d", DOMAIN, "endpoint", "health")
    assert code == 0
    assert out.startswith(f"http://localhost:{etcd_server.client_port} is healthy")


def test_the_service_name_and_etcdctls_variables(dns, etcd_server):
    dns.publish(f"_etcd-client-blue._tcp.{DOMAIN}", Record(etcd_server.client_port))
    assert cli("-d", DOMAIN, "--discovery-srv-name", "blue", "put", "/cli/n", "v")[0] == 0
    env = {"ETCDCTL_DISCOVERY_SRV": DOMAIN, "ETCDCTL_DISCOVERY_SRV_NAME": "blue"}
    assert cli("get", "/cli/n", "--print-value-only", **env) == (0, "v\n", "")


def test_no_records_is_an_error_naming_the_domain(dns):
    code, out, err = cli("-d", "missing.example.test", "get", "/k")
    assert (code, out) == (1, "")
    assert err.startswith("Error: DNS discovery for 'missing.example.test'")
    assert "_etcd-client._tcp.missing.example.test" in err


def test_secure_discovery_ignores_http_members_and_falls_back_to_endpoints(dns, etcd_server):
    dns.publish(f"_etcd-client._tcp.{DOMAIN}", Record(1))
    code, out, err = cli(
        "-d",
        DOMAIN,
        "--insecure-discovery=false",
        f"--endpoints={etcd_server.endpoint}",
        "put",
        "/cli/fallback",
        "v",
    )
    assert (code, out) == (0, "OK\n")
    assert err == 'ignoring discovered insecure endpoint "http://localhost:1"\n'


def test_the_ssl_records_over_tls(dns, etcd_server_factory, etcd_tls):
    server = etcd_server_factory(tls=etcd_tls)
    dns.publish(f"_etcd-client-ssl._tcp.{DOMAIN}", Record(server.client_port))
    tls = [
        f"--cacert={etcd_tls.ca_cert}",
        f"--cert={etcd_tls.client_cert}",
        f"--key={etcd_tls.client_key}",
    ]
    assert cli("-d", DOMAIN, *tls, "put", "/cli/tls", "v") == (0, "OK\n", "")
    # Secure discovery checks the certificates against the domain, which this one does not
    # name (it names localhost): refused.
    code, _, err = cli("-d", DOMAIN, "--insecure-discovery=false", *tls, "get", "/cli/tls")
    assert code != 0
    assert "Error:" in err


def test_secure_discovery_accepts_certificates_naming_the_domain(
    dns, etcd_server_factory, tmp_path
):
    tls_files = make_tls(tmp_path, hostnames=(DOMAIN,))
    server = etcd_server_factory(tls=tls_files)
    dns.publish(f"_etcd-client-ssl._tcp.{DOMAIN}", Record(server.client_port))
    code, out, err = cli(
        "-d",
        DOMAIN,
        "--insecure-discovery=false",
        f"--cacert={tls_files.ca_cert}",
        f"--cert={tls_files.client_cert}",
        f"--key={tls_files.client_key}",
        "put",
        "/cli/named",
        "v",
    )
    assert (code, out, err) == (0, "OK\n", "")
