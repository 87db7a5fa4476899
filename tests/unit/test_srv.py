"""DNS SRV discovery without DNS: the names asked for, the options checked before any
lookup, and the order the answers give the members."""

from __future__ import annotations

import random
import sys
from collections import Counter

import pytest

import etcd
from etcd._core import srv
from etcd._core.config import Endpoint
from etcd._core.environment import env_options


def test_the_names_etcd_publishes():
    query = srv.SRVQuery("example.com")
    assert query.secure_name == srv.SRVName("_etcd-client-ssl._tcp.example.com", True)
    assert query.plain_name == srv.SRVName("_etcd-client._tcp.example.com", False)
    assert len(query.names()) == 2
    named = srv.SRVQuery("example.com", service_name="blue")
    assert named.secure_name.name == "_etcd-client-ssl-blue._tcp.example.com"
    assert named.plain_name.name == "_etcd-client-blue._tcp.example.com"


def test_python_etcds_name_comes_last_with_its_protocol():
    query = srv.SRVQuery("example.com", python_etcd_fallback=True, python_etcd_secure=True)
    assert query.names()[-1] == srv.SRVName("_etcd._tcp.example.com", True)


def test_options_are_checked_before_any_lookup():
    def query(**options):
        defaults = dict(
            discovery_srv=None,
            discovery_srv_name=None,
            srv_domain=None,
            discovery_nameservers=None,
            protocol="http",
            endpoints_given=False,
        )
        return srv.query_from_options(**{**defaults, **options})

    assert query() is None
    made = query(discovery_srv="Example.COM.", discovery_nameservers=["127.0.0.1:5353", "::1"])
    assert made == srv.SRVQuery("Example.COM", nameservers=(("127.0.0.1", 5353), ("::1", 53)))
    assert query(srv_domain="example.com", protocol="https").python_etcd_secure
    cases: list[tuple[dict[str, object], type[Exception]]] = [
        (dict(discovery_srv="example.com", srv_domain="example.com"), etcd.EtcdValueError),
        (dict(discovery_srv="example.com", endpoints_given=True), etcd.EtcdValueError),
        (dict(discovery_srv_name="blue"), etcd.EtcdValueError),
        (dict(discovery_srv=""), etcd.EtcdValueError),
        (dict(discovery_srv="no spaces.example"), etcd.EtcdValueError),
        (dict(discovery_srv="a..b"), etcd.EtcdValueError),
        (dict(discovery_srv=b"example.com"), etcd.EtcdTypeError),
        (dict(discovery_srv="example.com", discovery_srv_name="a.b"), etcd.EtcdValueError),
        (dict(discovery_srv="example.com", discovery_srv_name="-a"), etcd.EtcdValueError),
        (dict(discovery_srv="example.com", discovery_nameservers=[]), etcd.EtcdValueError),
        (
            dict(discovery_srv="example.com", discovery_nameservers=["dns.host"]),
            etcd.EtcdValueError,
        ),
        (
            dict(discovery_srv="example.com", discovery_nameservers=["1.2.3.4:0"]),
            etcd.EtcdValueError,
        ),
        (dict(discovery_srv="example.com", discovery_nameservers=[53]), etcd.EtcdTypeError),
    ]
    for options, error in cases:
        with pytest.raises(error):
            query(**options)


def test_bracketed_ipv6_name_servers_take_a_port():
    assert srv.nameserver("[2001:db8::53]:5353") == ("2001:db8::53", 5353)
    assert srv.nameserver("2001:db8::53") == ("2001:db8::53", 53)


def test_the_client_refuses_bad_discovery_options_without_looking_up():
    with pytest.raises(etcd.EtcdValueError, match="not both"):
        etcd.Client(discovery_srv="example.com", endpoints=["127.0.0.1:2379"])
    with pytest.raises(etcd.EtcdValueError, match="need discovery_srv"):
        etcd.AsyncClient(discovery_srv_name="blue")


def r(priority, weight, target, port=2379):
    return srv.SRVRecord(priority, weight, port, target)


def test_lower_priorities_come_first():
    records = [r(20, 0, "c"), r(10, 5, "a"), r(30, 1, "d"), r(10, 5, "b")]
    ordered = srv.order_records(records, random.Random(1))
    assert [x.target for x in ordered[2:]] == ["c", "d"]
    assert {x.target for x in ordered[:2]} == {"a", "b"}


def test_weights_share_out_the_first_place():
    records = [r(0, 90, "heavy"), r(0, 10, "light"), r(0, 0, "none")]
    draw = random.Random(7)
    firsts = Counter(srv.order_records(records, draw)[0].target for _ in range(2000))
    assert firsts["heavy"] > firsts["light"] > 0
    assert firsts["none"] == 0  # weight 0 goes after every weighted record
    every = srv.order_records(records, draw)
    assert sorted(x.target for x in every) == ["heavy", "light", "none"]


def test_a_dot_target_offers_nothing_and_repeats_are_dropped():
    records = [r(0, 0, "."), r(0, 0, "a"), r(1, 0, "a")]
    assert srv.endpoints_of(records, secure=True) == (Endpoint("a", 2379, True),)


def test_tls_members_win_over_plain_ones():
    found = srv.DiscoveredEndpoints(
        "example.com", (Endpoint("s", 1, True),), (Endpoint("p", 2, False),)
    )
    assert found.chosen == (Endpoint("s", 1, True),)
    assert srv.DiscoveredEndpoints("example.com", (), found.plain).chosen == found.plain


def test_not_found_names_the_domain_and_the_names():
    query = srv.SRVQuery("example.com")
    error = srv.not_found(query, query.names())
    assert isinstance(error, etcd.EtcdDiscoveryNotFound)
    assert isinstance(error, etcd.EtcdDiscoveryFailed)
    assert "'example.com'" in str(error)
    assert "_etcd-client._tcp.example.com" in str(error)


def test_timed_out_is_a_timeout_too():
    assert issubclass(etcd.EtcdDiscoveryTimedOut, etcd.EtcdTimeout)
    assert issubclass(etcd.EtcdDiscoveryTimedOut, etcd.EtcdDiscoveryFailed)
    assert issubclass(etcd.EtcdDiscoveryTimedOut, TimeoutError)


def test_etcdctls_discovery_variables_win_over_endpoints():
    options = env_options(
        {
            "ETCDCTL_ENDPOINTS": "https://a:2379",
            "ETCDCTL_DISCOVERY_SRV": "example.com",
            "ETCDCTL_DISCOVERY_SRV_NAME": "blue",
        }
    )
    assert options == {"discovery_srv": "example.com", "discovery_srv_name": "blue"}


def test_without_dnspython_the_error_names_the_extra(monkeypatch):
    from etcd import _dns

    # None in sys.modules makes the import fail, as if dnspython were not installed.
    for name in ("dns", "dns.exception", "dns.nameserver", "dns.resolver"):
        monkeypatch.setitem(sys.modules, name, None)
    with pytest.raises(etcd.EtcdNotSupported, match=r"etcd-client\[dns\]"):
        _dns.look_up(srv.SRVQuery("example.com"), 1.0)
    with pytest.raises(etcd.EtcdNotSupported, match="dnspython"):
        etcd.Client(discovery_srv="example.com")
