"""The endpoint format of Go's naming/endpoints package, and gRPC targets (no server)."""

import json
from typing import Any

import pytest

import etcd
from etcd._core.discovery import (
    InvalidEndpoint,
    encode_endpoint,
    endpoint_events,
    endpoint_key,
    parse_endpoint,
    service_name,
    service_prefix,
)

# What Go's encoding/json makes of endpoints' internal.Update{Op, Addr, Metadata}.
GO_WRITTEN = [
    (("10.0.0.1:80", None), b'{"Op":0,"Addr":"10.0.0.1:80","Metadata":null}'),
    (
        ("10.0.0.1:80", {"zone": "b", "weight": 2, "tags": ["x", "y"]}),
        b'{"Op":0,"Addr":"10.0.0.1:80","Metadata":{"tags":["x","y"],"weight":2,"zone":"b"}}',
    ),
    (("h:1", "plain"), b'{"Op":0,"Addr":"h:1","Metadata":"plain"}'),
    (("h:1", {"": {}, "b": []}), b'{"Op":0,"Addr":"h:1","Metadata":{"":{},"b":[]}}'),
    (("a<b>&c", None), b'{"Op":0,"Addr":"a\\u003cb\\u003e\\u0026c","Metadata":null}'),
    (
        ("h:1", 'q"\\\n\t\x01\u2028é'),
        '{"Op":0,"Addr":"h:1","Metadata":"q\\"\\\\\\n\\t\\u0001\\u2028é"}'.encode(),
    ),
    (("h:1", [True, False, 0, -7]), b'{"Op":0,"Addr":"h:1","Metadata":[true,false,0,-7]}'),
]


@pytest.mark.parametrize(("endpoint", "written"), GO_WRITTEN)
def test_values_are_written_byte_for_byte_as_go_writes_them(endpoint, written):
    assert encode_endpoint(*endpoint) == written


@pytest.mark.parametrize(
    ("number", "go"),
    [
        (1.0, "1"),
        (2.5, "2.5"),
        (-0.0, "-0"),
        (0.1, "0.1"),
        (1e20, "100000000000000000000"),
        (1e21, "1e+21"),
        (1e-6, "0.000001"),
        (1.5e-7, "1.5e-7"),
        (1e-10, "1e-10"),
        (123456789.125, "123456789.125"),
        (2.5e300, "2.5e+300"),
    ],
)
def test_floats_are_written_in_gos_notation(number, go):
    assert encode_endpoint("a", number) == f'{{"Op":0,"Addr":"a","Metadata":{go}}}'.encode()


@pytest.mark.parametrize(
    ("metadata", "error", "named"),
    [
        (object(), etcd.EtcdTypeError, "metadata is a object"),
        ({"k": {1, 2}}, etcd.EtcdTypeError, "metadata['k'] is a set"),
        ({1: "x"}, etcd.EtcdTypeError, "key 1"),
        ([float("inf")], etcd.EtcdValueError, "metadata[0] is inf"),
        ("\ud800", etcd.EtcdValueError, "lone surrogate"),
    ],
)
def test_metadata_json_cannot_hold_is_refused_by_name(metadata, error, named):
    with pytest.raises(error, match=named.replace("[", "\\[").replace("]", "\\]")):
        encode_endpoint("a", metadata)


def test_metadata_holding_itself_is_refused():
    looped: list[object] = []
    looped.append(looped)
    with pytest.raises(etcd.EtcdValueError, match="contains itself"):
        encode_endpoint("a", looped)


@pytest.mark.parametrize(("endpoint", "written"), GO_WRITTEN)
def test_what_go_writes_reads_back(endpoint, written):
    assert parse_endpoint(written) == etcd.ServiceEndpoint(*endpoint)


@pytest.mark.parametrize(
    ("value", "endpoint"),
    [
        # Go's decoder: field names in any case, unknown fields ignored, the last wins.
        (b'{"addr":"a:1","METADATA":{"x":1},"Extra":true}', etcd.ServiceEndpoint("a:1", {"x": 1})),
        (b' {"Addr":"a:1","Addr":"b:2"} ', etcd.ServiceEndpoint("b:2")),
        # Go's package treats every value as an addition, whatever its Op.
        (b'{"Op":1,"Addr":"a:1"}', etcd.ServiceEndpoint("a:1")),
        (
            b'{"Op":null,"Addr":"a:1","Metadata":[{"k":[]}]}',
            etcd.ServiceEndpoint("a:1", [{"k": []}]),
        ),
    ],
)
def test_values_are_read_as_gos_decoder_reads_them(value, endpoint):
    assert parse_endpoint(value) == endpoint


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (b"", "not JSON"),
        (b"up", "not JSON"),
        (b'{"Addr":"a:1"', "not JSON"),
        (b'{"Addr":"a:1","Metadata":NaN}', "not JSON"),
        (b"null", "null"),
        (b"[]", "array"),
        (b'"a:1"', "string"),
        (b'{"Addr":5}', "Addr is a JSON number"),
        (b'{"Addr":{}}', "Addr is a JSON object"),
        (b'{"Op":256,"Addr":"a:1"}', "Op is 256"),
        (b'{"Op":-1,"Addr":"a:1"}', "Op is -1"),
        (b'{"Op":0.5,"Addr":"a:1"}', "Op is 0.5"),
        (b'{"Op":"0","Addr":"a:1"}', 'Op is "0"'),
        (b'{"Metadata":{}}', "no address"),
        (b'{"Addr":""}', "no address"),
    ],
)
def test_values_go_cannot_read_are_not_endpoints(value, reason):
    parsed = parse_endpoint(value)
    assert isinstance(parsed, InvalidEndpoint) and reason in parsed.reason


def test_keys_follow_gos_convention():
    assert endpoint_key("billing", "10.0.0.1:80") == "billing/10.0.0.1:80"
    assert service_prefix("billing") == "billing/"
    with pytest.raises(etcd.EtcdValueError):
        service_name("")
    with pytest.raises(etcd.EtcdTypeError):
        service_name(b"billing")


def test_a_change_of_a_key_is_told_as_endpoints_removed_and_added():
    a, b = etcd.ServiceEndpoint("a:1"), etcd.ServiceEndpoint("a:1", {"v": 2})
    bad = InvalidEndpoint("not JSON")
    added, removed = etcd.EndpointEventType.ADDED, etcd.EndpointEventType.REMOVED
    assert endpoint_events("s/a", None, a, 5) == [etcd.EndpointEvent(added, "s/a", a, 5)]
    assert endpoint_events("s/a", a, None, 6) == [etcd.EndpointEvent(removed, "s/a", a, 6)]
    assert endpoint_events("s/a", a, b, 7) == [
        etcd.EndpointEvent(removed, "s/a", a, 7),
        etcd.EndpointEvent(added, "s/a", b, 7),
    ]
    assert endpoint_events("s/a", a, etcd.ServiceEndpoint("a:1"), 8) == []
    assert endpoint_events("s/a", bad, None, 9) == []
    assert endpoint_events("s/a", a, bad, 9) == [etcd.EndpointEvent(removed, "s/a", a, 9)]


def test_grpc_targets_list_every_address_of_one_family():
    assert (
        etcd.grpc_target(["10.0.0.1:80", etcd.ServiceEndpoint("10.0.0.2:81"), "10.0.0.1:80"])
        == "ipv4:10.0.0.1:80,10.0.0.2:81"
    )
    assert etcd.grpc_target(["[::1]:80", "[FD00:0::2]:81"]) == "ipv6:[::1]:80,[fd00::2]:81"
    assert etcd.GRPC_ROUND_ROBIN == (("grpc.lb_policy_name", "round_robin"),)


@pytest.mark.parametrize(
    ("addresses", "reason"),
    [
        ([], "no endpoints"),
        (["billing.internal:80"], "not an IP address"),
        (["10.0.0.1"], "has no port"),
        (["10.0.0.1:http"], "has no port"),
        (["10.0.0.1:70000"], "has no port"),
        (["::1:80"], "written \\[address\\]:port"),
        (["[10.0.0.1]:80"], "brackets are for IPv6"),
        (["[fe80::1%eth0]:80"], "zone"),
        (["10.0.0.1:80", "[::1]:80"], "mix IPv4 and IPv6"),
    ],
)
def test_grpc_targets_refuse_what_grpcio_cannot_balance(addresses, reason):
    with pytest.raises(etcd.EtcdValueError, match=reason):
        etcd.grpc_target(addresses)


def test_grpc_targets_take_endpoints_or_strings_only():
    pair: Any = ("10.0.0.1", 80)
    with pytest.raises(etcd.EtcdTypeError):
        etcd.grpc_target([pair])


def test_the_format_is_json_any_reader_accepts():
    written = encode_endpoint("a:1", {"k": [1.5, None]})
    assert json.loads(written) == {"Op": 0, "Addr": "a:1", "Metadata": {"k": [1.5, None]}}
