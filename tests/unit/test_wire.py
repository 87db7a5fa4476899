"""The generated wire layer: complete, self-consistent, and independent of protobuf's version."""

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from etcd._wire import messages as pb
from etcd._wire import methods

ROOT = Path(__file__).resolve().parents[2]

SERVICES = {
    "etcdserverpb.KV": {"Range", "Put", "DeleteRange", "Txn", "Compact", "RangeStream"},
    "etcdserverpb.Watch": {"Watch"},
    "etcdserverpb.Lease": {
        "LeaseGrant",
        "LeaseRevoke",
        "LeaseKeepAlive",
        "LeaseTimeToLive",
        "LeaseLeases",
    },
    "etcdserverpb.Cluster": {
        "MemberAdd",
        "MemberRemove",
        "MemberUpdate",
        "MemberList",
        "MemberPromote",
    },
    "etcdserverpb.Maintenance": {
        "Alarm",
        "Status",
        "Defragment",
        "Hash",
        "HashKV",
        "Snapshot",
        "MoveLeader",
        "Downgrade",
    },
    "etcdserverpb.Auth": {
        "AuthEnable",
        "AuthDisable",
        "AuthStatus",
        "Authenticate",
        "UserAdd",
        "UserGet",
        "UserList",
        "UserDelete",
        "UserChangePassword",
        "UserGrantRole",
        "UserRevokeRole",
        "RoleAdd",
        "RoleGet",
        "RoleList",
        "RoleDelete",
        "RoleGrantPermission",
        "RoleRevokePermission",
    },
    "v3lockpb.Lock": {"Lock", "Unlock"},
    "v3electionpb.Election": {"Campaign", "Proclaim", "Leader", "Observe", "Resign"},
}


def test_every_service_and_method_is_described():
    found: dict[str, set[str]] = {}
    for method in methods.ALL_METHODS:
        found.setdefault(method.service, set()).add(method.name)
        assert method.path == f"/{method.service}/{method.name}"
    assert found == SERVICES


def test_streaming_shapes():
    assert methods.WATCH_WATCH.kind == "stream_stream"
    assert methods.LEASE_KEEP_ALIVE.kind == "stream_stream"
    assert methods.MAINTENANCE_SNAPSHOT.kind == "unary_stream"
    assert methods.ELECTION_OBSERVE.kind == "unary_stream"
    assert methods.KV_RANGE.kind == "unary_unary"
    assert methods.WATCH_WATCH.streams_requests and methods.WATCH_WATCH.streams_responses


@pytest.mark.parametrize(
    ("message", "field", "number"),
    [
        (pb.RangeRequest, "max_create_revision", 13),
        (pb.PutRequest, "ignore_lease", 6),
        (pb.Compare, "range_end", 64),
        (pb.Compare, "lease", 8),
        (pb.WatchResponse, "events", 11),
        (pb.WatchCreateRequest, "fragment", 8),
        (pb.LeaseTimeToLiveResponse, "keys", 5),
        (pb.StatusResponse, "isLearner", 10),
        (pb.SnapshotResponse, "blob", 3),
        (pb.KeyValue, "lease", 6),
        (pb.LeaderKey, "lease", 4),
    ],
)
def test_field_numbers_of_the_wire_contract(message, field, number):
    assert message.DESCRIPTOR.fields_by_name[field].number == number


def test_messages_round_trip():
    request = pb.TxnRequest(
        compare=[pb.Compare(key=b"k", target=pb.Compare.VALUE, value=b"v")],
        success=[pb.RequestOp(request_put=pb.PutRequest(key=b"k", value=b"w"))],
        failure=[pb.RequestOp(request_txn=pb.TxnRequest())],
    )
    decoded = pb.TxnRequest.FromString(request.SerializeToString())
    assert decoded == request
    assert decoded.failure[0].WhichOneof("request") == "request_txn"


def test_the_pool_is_private():
    from google.protobuf import descriptor_pool

    with pytest.raises(KeyError):
        descriptor_pool.Default().FindMessageTypeByName("etcdserverpb.RangeRequest")


@pytest.mark.skipif(
    importlib.util.find_spec("grpc_tools") is None, reason="needs grpcio-tools (dev extra)"
)
def test_generated_modules_match_the_proto_files():
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "generate_protos.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
