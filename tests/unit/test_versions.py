"""What each etcd release added, and the errors an older server gets."""

import pytest

import etcd
from etcd._core import versions
from etcd._core.error_mapping import map_rpc_error


def test_releases_are_read_from_version_strings():
    assert versions.release("3.4.23") == (3, 4)
    assert versions.release("v3.6.0-rc.1") == (3, 6)
    assert versions.release("") is None
    assert versions.release("unknown") is None


def test_only_a_known_older_server_is_older():
    assert versions.is_older("3.4.23", "3.5")
    assert not versions.is_older("3.5.1", "3.5")
    assert not versions.is_older(None, "3.5")


def test_an_unimplemented_call_names_the_release_that_added_it():
    error = map_rpc_error(
        "UNIMPLEMENTED",
        "unknown method Downgrade for service etcdserverpb.Maintenance",
        operation="Maintenance.Downgrade",
        endpoint="127.0.0.1:2379",
        mutation=True,
        server_version="3.4.23",
    )
    assert isinstance(error, etcd.EtcdNotSupported)
    assert str(error) == (
        "Maintenance.Downgrade needs etcd 3.5 or later; 127.0.0.1:2379 runs etcd 3.4.23"
    )
    assert error.operation == "Maintenance.Downgrade" and error.endpoint == "127.0.0.1:2379"


def test_an_option_is_refused_to_an_older_server_before_sending():
    feature = "a linearizable member list (MemberList linearizable)"
    versions.check_option(feature, True, "127.0.0.1:2379", "3.5.1")
    versions.check_option(feature, False, "127.0.0.1:2379", "3.4.23")
    with pytest.raises(etcd.EtcdNotSupported, match=r"needs etcd 3\.5 or later"):
        versions.check_option(feature, True, "127.0.0.1:2379", "3.4.23")


def test_a_tls_session_closed_after_the_handshake_gets_a_hint():
    error = map_rpc_error(
        "UNAVAILABLE",
        "failed to connect to all addresses; last error: UNAVAILABLE: ipv4:127.0.0.1:2379: "
        "Unwrap failed (TSI_DATA_CORRUPTED)",
        operation="KV.Range",
        endpoint="127.0.0.1:2379",
        mutation=False,
    )
    assert "refused this client's certificate (or its absence)" in str(error)
