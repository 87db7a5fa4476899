"""Configuration: endpoints, TLS files, environment, channel options (pure)."""

from __future__ import annotations

import pytest

import etcd
from etcd._core.config import Endpoint, build_config, parse_endpoint, resolve_endpoints
from etcd._core.environment import env_options, parse_duration
from etcd._core.tls import load_tls, split_combined_pem, system_roots

CERT = b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
KEY = b"-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("127.0.0.1:2379", Endpoint("127.0.0.1", 2379, False)),
        ("http://127.0.0.1:2381", Endpoint("127.0.0.1", 2381, False)),
        ("https://etcd.example:2379", Endpoint("etcd.example", 2379, True)),
        ("localhost", Endpoint("localhost", 2379, False)),
        ("[::1]:2379", Endpoint("::1", 2379, False)),
        ("https://[::1]", Endpoint("::1", 2379, True)),
        ("http://10.0.0.1:2379/", Endpoint("10.0.0.1", 2379, False)),
    ],
)
def test_parse_endpoint(text, expected):
    assert parse_endpoint(text) == expected


@pytest.mark.parametrize(
    "text", ["", "ftp://a:1", "a:0", "a:99999", "a:x", "[::1", "::1:2379", "unix:///tmp/sock"]
)
def test_parse_endpoint_refuses_nonsense(text):
    with pytest.raises(etcd.EtcdValueError):
        parse_endpoint(text)


def test_endpoint_target_and_url():
    assert Endpoint("::1", 2379, True).target == "[::1]:2379"
    assert Endpoint("::1", 2379, True).url == "https://[::1]:2379"


def test_python_etcd_host_tuple():
    endpoints = resolve_endpoints((("127.0.0.1", 4001), ("127.0.0.1", 4002)), 2379, "http", None)
    assert [e.target for e in endpoints] == ["127.0.0.1:4001", "127.0.0.1:4002"]


def test_endpoints_win_and_are_deduplicated():
    endpoints = resolve_endpoints("ignored", 1, "https", ["a:1", "a:1", "b:2"])
    assert [e.url for e in endpoints] == ["https://a:1", "https://b:2"]


def test_mixed_schemes_are_refused():
    with pytest.raises(etcd.EtcdValueError, match="mix"):
        resolve_endpoints("x", 1, "http", ["http://a:1", "https://b:2"])


def test_default_is_etcds_registered_port():
    client_config = build_config(
        host="127.0.0.1",
        port=2379,
        protocol="http",
        endpoints=None,
        cert=None,
        ca_cert=None,
        username=None,
        password=None,
        timeout=5.0,
        connect_timeout=2.0,
        allow_redirect=True,
        allow_reconnect=False,
        max_request_bytes=1572864,
        max_receive_bytes=2**31 - 1,
        max_txn_ops=128,
    )
    assert client_config.endpoints == (Endpoint("127.0.0.1", 2379, False),)
    assert client_config.require_leader is False


def test_channel_options_raise_the_receive_limit_and_keep_pings_polite():
    options = dict(etcd.Client().config.channel_options())
    assert options["grpc.max_receive_message_length"] == 2**31 - 1
    assert options["grpc.max_send_message_length"] > 1572864
    assert options["grpc.keepalive_time_ms"] >= 5000
    assert options["grpc.keepalive_permit_without_calls"] == 0


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("5s", 5.0), ("500ms", 0.5), ("1m30s", 90.0), ("1.5s", 1.5), ("2", 2.0), ("1h", 3600.0)],
)
def test_parse_duration(text, seconds):
    assert parse_duration(text, "x") == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "5", "abc", "5x", "-1s", "0s", "s5"])
def test_parse_duration_refuses(text):
    if text == "5":
        assert parse_duration(text, "x") == 5.0
        return
    with pytest.raises(etcd.EtcdValueError):
        parse_duration(text, "x")


def test_env_options_read_etcdctl_variables():
    options = env_options(
        {
            "ETCDCTL_ENDPOINTS": "https://a:2379,https://b:2379",
            "ETCDCTL_CACERT": "/ca.pem",
            "ETCDCTL_CERT": "/c.pem",
            "ETCDCTL_KEY": "/k.pem",
            "ETCDCTL_USER": "root:secret",
            "ETCDCTL_DIAL_TIMEOUT": "3s",
            "ETCDCTL_COMMAND_TIMEOUT": "750ms",
        }
    )
    assert options == {
        "endpoints": ["https://a:2379", "https://b:2379"],
        "ca_cert": "/ca.pem",
        "cert": ("/c.pem", "/k.pem"),
        "username": "root",
        "password": "secret",
        "connect_timeout": 3.0,
        "timeout": 0.75,
        "protocol": "https",
    }


def test_env_options_refuse_half_a_certificate():
    with pytest.raises(etcd.EtcdValueError, match="together"):
        env_options({"ETCDCTL_CERT": "/c.pem"})


def test_from_env_builds_a_client_and_arguments_win():
    client = etcd.Client.from_env(
        {"ETCDCTL_ENDPOINTS": "127.0.0.1:1,127.0.0.1:2", "ETCDCTL_COMMAND_TIMEOUT": "9s"},
        timeout=1.5,
    )
    assert client.endpoints == ["http://127.0.0.1:1", "http://127.0.0.1:2"]
    assert client.config.timeout == 1.5
    client.close()


def test_split_combined_pem():
    chain, key = split_combined_pem(CERT + KEY + CERT, "x.pem")
    assert chain == CERT + CERT
    assert key == KEY


def test_combined_pem_without_key_is_refused(tmp_path):
    path = tmp_path / "cert.pem"
    path.write_bytes(CERT)
    with pytest.raises(etcd.EtcdValueError, match="exactly one private key"):
        load_tls(cert=str(path))


def test_tls_files_are_read_once_with_clear_errors(tmp_path):
    cert, key, ca = tmp_path / "c.pem", tmp_path / "k.pem", tmp_path / "ca.pem"
    cert.write_bytes(CERT)
    key.write_bytes(KEY)
    ca.write_bytes(CERT)
    material = load_tls(cert=(str(cert), str(key)), ca_cert=str(ca))
    assert material.certificate_chain == CERT
    assert material.private_key == KEY
    assert material.root_certificates == CERT
    assert "MIIE" not in repr(material)
    with pytest.raises(etcd.EtcdValueError, match="cannot read ca_cert file"):
        load_tls(ca_cert=str(tmp_path / "missing.pem"))


def test_without_a_ca_file_the_system_roots_are_used(tmp_path, monkeypatch):
    bundle = tmp_path / "system-bundle.pem"
    bundle.write_bytes(CERT)
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))
    monkeypatch.delenv("GRPC_DEFAULT_SSL_ROOTS_FILE_PATH", raising=False)
    system_roots.cache_clear()
    try:
        material = load_tls()
        assert material.root_certificates == CERT and not material.custom_ca
        # gRPC's own setting for its roots is left to gRPC.
        monkeypatch.setenv("GRPC_DEFAULT_SSL_ROOTS_FILE_PATH", str(bundle))
        system_roots.cache_clear()
        assert load_tls().root_certificates is None
    finally:
        system_roots.cache_clear()


def test_certificates_without_https_are_refused(tmp_path):
    with pytest.raises(etcd.EtcdValueError, match="https"):
        etcd.Client(cert="whatever.pem")


def test_password_never_shows_in_repr():
    client = etcd.Client(username="root", password="s3cret-sentinel")
    assert "s3cret-sentinel" not in repr(client)
    assert "s3cret-sentinel" not in repr(client.config)
    client.close()


@pytest.mark.parametrize(
    "kwargs",
    [
        {"timeout": -1},
        {"timeout": float("nan")},
        {"timeout": "5"},
        {"port": 0},
        {"port": True},
        {"host": ""},
        {"protocol": "ftp"},
        {"password": "x"},
        {"max_txn_ops": 0},
    ],
)
def test_constructor_refuses_bad_arguments(kwargs):
    with pytest.raises(etcd.EtcdException):
        etcd.Client(**kwargs)


def test_read_timeout_is_python_etcds_name_for_timeout():
    client = etcd.Client(read_timeout=7)
    assert client.config.timeout == 7.0
    client.close()


def test_credentials_are_not_sent_in_clear_to_another_host(caplog):
    with pytest.raises(etcd.EtcdValueError, match="insecure=True"):
        etcd.Client(host="10.1.2.3", username="u", password="secret")
    with pytest.raises(etcd.EtcdValueError, match="unencrypted"):
        etcd.Client(endpoints=["db.example:2379"], token="t")
    caplog.set_level("WARNING", logger="etcd")
    client = etcd.Client(host="10.1.2.3", username="u", password="secret", insecure=True)
    client.close()
    assert "unencrypted" in caplog.text and "secret" not in caplog.text
    for local in ("127.0.0.1", "localhost", "[::1]"):
        etcd.Client(endpoints=[f"{local}:2379"], username="u", password="p").close()
    etcd.Client(endpoints=["https://db.example:2379"], username="u", password="p").close()


def test_token_and_server_name_are_checked():
    with pytest.raises(etcd.EtcdValueError, match="either a token"):
        etcd.Client(token="t", username="u", password="p")
    with pytest.raises(etcd.EtcdTypeError):
        etcd.Client(token="")
    with pytest.raises(etcd.EtcdValueError, match="tls_server_name"):
        etcd.Client(tls_server_name="x")
