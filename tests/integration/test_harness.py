"""etcd.testing against the real etcd binary: members, clusters, TLS and the fixtures.

The checks talk to etcd through etcdctl, so they hold whatever state the client is in.
"""

from __future__ import annotations

import gc
import json
import os
import socket
import subprocess
import sys
import textwrap
import urllib.request

import pytest

from etcd.testing import (
    EtcdCluster,
    EtcdServer,
    EtcdStartError,
    find_etcd_binary,
    make_tls,
)

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def etcdctl_binary(etcd_binary):
    return find_etcd_binary(name="etcdctl")


def etcdctl(binary, urls, *args, tls=None, cert=True, ca=None, check=True, patience=10):
    """Run etcdctl against ``urls``; TLS options come from ``tls`` unless overridden."""
    command = [
        binary,
        f"--endpoints={','.join(urls)}",
        f"--dial-timeout={min(patience, 5)}s",
        f"--command-timeout={patience}s",
    ]
    if tls is not None:
        command.append(f"--cacert={ca or tls.ca_cert}")
        if cert:
            command += [f"--cert={tls.client_cert}", f"--key={tls.client_key}"]
    env = {key: value for key, value in os.environ.items() if not key.startswith("ETCDCTL")}
    env["ETCDCTL_API"] = "3"
    result = subprocess.run([*command, *args], capture_output=True, text=True, env=env, timeout=60)
    if check and result.returncode != 0:
        raise AssertionError(f"etcdctl {args} failed: {result.stdout}{result.stderr}")
    return result


def get_value(etcdctl_binary, server, key):
    return etcdctl(etcdctl_binary, [server.client_url], "get", key, "--print-value-only").stdout


def health(server):
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(f"{server.metrics_url}/health", timeout=5) as response:
        return json.loads(response.read())


# --- one member ------------------------------------------------------------------------


def test_a_started_member_is_healthy_and_logs(etcd_server_factory, etcdctl_binary):
    server = etcd_server_factory()
    assert server.running and not server.paused and server.pid == server.process.pid
    assert health(server)["health"] == "true"
    assert server.endpoint == f"127.0.0.1:{server.client_port}"
    assert server.client_url == f"http://127.0.0.1:{server.client_port}"
    assert server.is_leader()
    assert os.path.getsize(server.log_path) > 0
    # etcd 3.5 says it is ready to serve; 3.4 says that it serves, and how.
    log = server.log_tail(400)
    assert "ready to serve client requests" in log or "serving client traffic" in log
    assert os.path.isdir(os.path.join(server.data_dir, "member"))
    etcdctl(etcdctl_binary, [server.client_url], "put", "/harness/a", "1")
    assert get_value(etcdctl_binary, server, "/harness/a") == "1\n"


def test_stop_and_restart_keep_the_data(etcd_server_factory, etcdctl_binary):
    server = etcd_server_factory()
    etcdctl(etcdctl_binary, [server.client_url], "put", "/harness/kept", "yes")
    server.stop()
    assert not server.running and server.process.returncode is not None
    server.stop()
    assert "stopped" in repr(server)
    server.restart()
    assert server.running
    assert get_value(etcdctl_binary, server, "/harness/kept") == "yes\n"


def test_kill_is_a_crash_and_restart_recovers(etcd_server_factory, etcdctl_binary):
    server = etcd_server_factory()
    etcdctl(etcdctl_binary, [server.client_url], "put", "/harness/crash", "survives")
    ports = (server.client_port, server.peer_port, server.metrics_port)
    server.kill()
    assert server.process.returncode == -9 and not server.alive
    server.restart()
    assert (server.client_port, server.peer_port, server.metrics_port) == ports
    assert get_value(etcdctl_binary, server, "/harness/crash") == "survives\n"


def test_restart_of_a_running_member(etcd_server_factory):
    server = etcd_server_factory()
    first_pid = server.pid
    server.restart()
    assert server.running and server.pid != first_pid


def test_pause_and_resume(etcd_server_factory):
    server = etcd_server_factory()
    server.pause()
    assert server.paused and server.alive and not server.running
    assert "paused" in repr(server)
    assert not server.is_healthy(timeout=0.3)
    server.resume()
    assert server.running
    server.wait_healthy(10)


def test_stopping_a_paused_member(etcd_server_factory):
    server = etcd_server_factory()
    server.pause()
    server.stop(timeout=10)
    assert not server.alive and server.process.returncode is not None


def test_a_bad_argument_fails_with_the_log(etcd_binary):
    server = EtcdServer(binary=etcd_binary, extra_args=["--no-such-flag"], start_timeout=10)
    try:
        with pytest.raises(EtcdStartError) as info:
            server.start()
        message = str(info.value)
        assert "--no-such-flag" in message
        assert "flag provided but not defined" in message
        assert "etcd exited with code" in message
        assert not server.alive
    finally:
        server.close()


def test_the_context_manager_cleans_up(etcd_binary):
    with EtcdServer(binary=etcd_binary, name="scoped") as server:
        assert server.running and server.name == "scoped"
        process = server.process
        data_dir = server.data_dir
    assert process is not None and process.returncode is not None
    assert not os.path.exists(data_dir) and not os.path.exists(server.log_path)
    assert "closed" in repr(server)
    server.close()
    with pytest.raises(RuntimeError, match="closed"):
        server.start()


def test_a_forgotten_member_is_killed_when_collected(etcd_binary):
    server = EtcdServer(binary=etcd_binary)
    server.start(wait=False)
    process = server.process
    log_dir = os.path.dirname(server.log_path)
    del server
    gc.collect()
    assert process is not None and process.returncode is not None
    assert not os.path.exists(log_dir)


def test_a_caller_data_dir_is_kept(etcd_binary, tmp_path):
    data_dir = tmp_path / "data"
    with EtcdServer(binary=etcd_binary, data_dir=data_dir) as server:
        assert server.data_dir == str(data_dir)
    assert (data_dir / "member").is_dir()


def test_a_port_taken_meanwhile_is_picked_anew(etcd_binary):
    server = EtcdServer(binary=etcd_binary, start_timeout=10)
    taken = server.client_port
    try:
        with socket.socket() as squatter:
            squatter.bind(("127.0.0.1", taken))
            squatter.listen()
            server.start()
        assert server.running and server.client_port != taken
        assert "address already in use" in server.log_tail(400)
    finally:
        server.close()


def test_a_chosen_port_that_is_taken_fails(etcd_binary):
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        taken = squatter.getsockname()[1]
        server = EtcdServer(binary=etcd_binary, client_port=taken, start_timeout=10)
        try:
            with pytest.raises(EtcdStartError, match="address already in use"):
                server.start()
        finally:
            server.close()


def test_starting_twice_is_refused(etcd_server_factory):
    server = etcd_server_factory()
    with pytest.raises(RuntimeError, match="running already"):
        server.start()


def test_server_options_reach_etcd(etcd_server_factory, etcdctl_binary):
    server = etcd_server_factory(
        name="tuned",
        auth_token="simple",
        auth_token_ttl=5,
        quota_backend_bytes=64 * 1024 * 1024,
        max_request_bytes=4096,
        extra_args=["--heartbeat-interval=50", "--election-timeout=500"],
    )
    command = " ".join(server.command)
    for flag in (
        "--auth-token=simple",
        "--auth-token-ttl=5",
        "--quota-backend-bytes=67108864",
        "--max-request-bytes=4096",
        "--heartbeat-interval=50",
    ):
        assert flag in command
    too_big = etcdctl(
        etcdctl_binary, [server.client_url], "put", "/harness/big", "x" * 8192, check=False
    )
    assert too_big.returncode != 0 and "too large" in too_big.stderr


# --- the session member ----------------------------------------------------------------


def test_the_session_member_may_be_killed(etcd_server):
    etcd_server.kill()
    assert not etcd_server.alive


def test_the_session_member_is_back_after_a_kill(etcd_server):
    assert etcd_server.running
    assert health(etcd_server)["health"] == "true"


def test_the_session_member_may_be_left_paused(etcd_server):
    etcd_server.pause()


def test_the_session_member_is_back_after_a_pause(etcd_server):
    assert etcd_server.running
    etcd_server.wait_healthy(5)


# --- TLS -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("use_cert", "ca", "ok"),
    [(True, "ca", True), (False, "ca", False), (True, "other", False)],
    ids=["client-cert", "no-client-cert", "wrong-ca"],
)
def test_a_tls_member_checks_both_sides(
    etcd_server_factory, etcd_tls, etcdctl_binary, use_cert, ca, ok
):
    server = etcd_server_factory(tls=etcd_tls)
    assert server.client_url.startswith("https://127.0.0.1:")
    assert server.tls is etcd_tls
    assert health(server)["health"] == "true"
    result = etcdctl(
        etcdctl_binary,
        [server.client_url],
        "endpoint",
        "health",
        tls=etcd_tls,
        cert=use_cert,
        ca=etcd_tls.other_ca_cert if ca == "other" else None,
        check=False,
        patience=10 if ok else 2,
    )
    assert (result.returncode == 0) is ok, result.stdout + result.stderr


def test_tls_without_client_certificates(etcd_server_factory, etcdctl_binary, tmp_path):
    tls = make_tls(tmp_path, client_cert_auth=False)
    server = etcd_server_factory(tls=tls)
    assert "--client-cert-auth" not in server.command
    etcdctl(etcdctl_binary, [server.client_url], "put", "/harness/tls", "ok", tls=tls, cert=False)


# --- clusters --------------------------------------------------------------------------


@pytest.mark.cluster
def test_a_cluster_has_exactly_one_leader(etcd_cluster, etcdctl_binary):
    assert [member.name for member in etcd_cluster.members] == ["member0", "member1", "member2"]
    assert etcd_cluster.endpoints == [member.endpoint for member in etcd_cluster.members]
    leader = etcd_cluster.leader()
    assert sum(member.is_leader() for member in etcd_cluster.members) == 1
    assert set(etcd_cluster.followers()) == set(etcd_cluster.members) - {leader}
    listed = etcdctl(etcdctl_binary, etcd_cluster.client_urls, "member", "list", "-w", "json")
    assert len(json.loads(listed.stdout)["members"]) == 3


@pytest.mark.cluster
def test_killing_the_leader_elects_another_and_it_rejoins(etcd_cluster, etcdctl_binary):
    old_leader = etcd_cluster.leader()
    old_leader.kill()
    new_leader = etcd_cluster.leader(timeout=15)
    assert new_leader is not old_leader and new_leader.running
    etcdctl(etcdctl_binary, [new_leader.client_url], "put", "/harness/failover", "written")
    old_leader.restart()
    etcd_cluster.wait_healthy(30)
    assert get_value(etcdctl_binary, old_leader, "/harness/failover") == "written\n"


@pytest.mark.cluster
def test_the_cluster_may_be_left_broken(etcd_cluster):
    followers = etcd_cluster.followers()
    followers[0].stop()
    followers[1].pause()
    assert "down" in repr(etcd_cluster) and "paused" in repr(etcd_cluster)


@pytest.mark.cluster
def test_the_cluster_is_whole_again_and_empty(etcd_cluster, etcdctl_binary):
    assert all(member.running for member in etcd_cluster.members)
    etcd_cluster.wait_healthy(5)
    count = etcdctl(etcdctl_binary, etcd_cluster.client_urls, "get", "", "--from-key", "-w", "json")
    assert "kvs" not in json.loads(count.stdout)


@pytest.mark.cluster
def test_a_cluster_of_its_own_with_tls(etcd_binary, etcd_tls, etcdctl_binary):
    with EtcdCluster(size=3, binary=etcd_binary, tls=etcd_tls) as cluster:
        assert all(url.startswith("https://") for url in cluster.client_urls)
        etcdctl(etcdctl_binary, cluster.client_urls, "endpoint", "health", tls=etcd_tls)
        members = cluster.members
    assert all(not member.alive for member in members)
    assert "closed" in repr(members[0])


def test_a_cluster_that_cannot_start_is_closed(etcd_binary):
    cluster = EtcdCluster(
        size=2, binary=etcd_binary, extra_args=["--no-such-flag"], start_timeout=10
    )
    with pytest.raises(EtcdStartError, match="no-such-flag"):
        cluster.start()
    assert all(not member.alive for member in cluster.members)


# --- the pytest plugin -----------------------------------------------------------------


def test_a_missing_binary_fails_the_fixtures_clearly(tmp_path):
    (tmp_path / "test_uses_etcd.py").write_text(
        textwrap.dedent(
            """
            def test_needs_etcd(etcd_server):
                pass
            """
        )
    )
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "--rootdir",
            str(tmp_path),
            "--etcd-binary",
            str(tmp_path / "no-etcd"),
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "1 error" in output
    assert "no-etcd" in output and "pip install 'etcd-client[testing]'" in output
