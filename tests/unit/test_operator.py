"""The pure parts of the cluster and maintenance calls: checks, decoders, endpoint choice,
snapshot verification."""

import hashlib

import pytest

import etcd
from etcd._core.classic import Member
from etcd._core.cluster import (
    check_member_id,
    check_peer_urls,
    decode_member_add,
    decode_member_list,
    endpoints_from_members,
    leader_endpoint,
)
from etcd._core.config import Endpoint
from etcd._core.maintenance import (
    Alarm,
    SnapshotVerifier,
    alarm_type,
    decode_alarms,
    decode_hash_kv,
    decode_status,
    downgrade_action,
)
from etcd._wire import messages as pb

# --- peer URLs and member IDs -----------------------------------------------------------------


@pytest.mark.parametrize(
    "urls",
    [
        ["http://127.0.0.1:2380"],
        ["https://node-1.example.com:2380", "http://10.0.0.1:12380"],
        ("http://[::1]:2380",),
        ["http://127.0.0.1:2380/"],
    ],
)
def test_good_peer_urls_pass(urls):
    assert check_peer_urls(urls) == list(urls)


@pytest.mark.parametrize(
    ("urls", "error"),
    [
        ("http://127.0.0.1:2380", etcd.EtcdTypeError),
        (b"http://127.0.0.1:2380", etcd.EtcdTypeError),
        (None, etcd.EtcdTypeError),
        ([], etcd.EtcdValueError),
        ([2380], etcd.EtcdTypeError),
        (["127.0.0.1:2380"], etcd.EtcdValueError),
        (["unix://socket:1"], etcd.EtcdValueError),
        (["http://127.0.0.1"], etcd.EtcdValueError),
        (["http://:2380"], etcd.EtcdValueError),
        (["http://127.0.0.1:99999"], etcd.EtcdValueError),
        (["http://127.0.0.1:2380/path"], etcd.EtcdValueError),
        (["http://user@127.0.0.1:2380"], etcd.EtcdValueError),
        (["http://a:1", "http://a:1"], etcd.EtcdValueError),
    ],
)
def test_bad_peer_urls_are_refused(urls, error):
    with pytest.raises(error):
        check_peer_urls(urls)


def test_a_single_url_string_gets_a_hint():
    with pytest.raises(etcd.EtcdTypeError, match="wrap a single URL in a list"):
        check_peer_urls("http://127.0.0.1:2380")


def test_member_ids():
    assert check_member_id(1) == 1
    assert check_member_id(2**64 - 1) == 2**64 - 1
    for negative_or_zero in (0, -1):
        with pytest.raises(etcd.EtcdValueError):
            check_member_id(negative_or_zero)
    for wrong_type in ("1", 1.0, True, None):
        with pytest.raises(etcd.EtcdTypeError):
            check_member_id(wrong_type)
    with pytest.raises(etcd.EtcdValueError):
        check_member_id(2**64)


# --- decoders ---------------------------------------------------------------------------------


def _header():
    return pb.ResponseHeader(cluster_id=7, member_id=1, revision=42, raft_term=3)


def _pb_member(member_id, name, client_urls, learner=False):
    return pb.Member(
        ID=member_id,
        name=name,
        peerURLs=[f"http://10.0.0.{member_id}:2380"],
        clientURLs=client_urls,
        isLearner=learner,
    )


def test_decode_member_list():
    response = pb.MemberListResponse(
        header=_header(),
        members=[_pb_member(1, "a", ["http://10.0.0.1:2379"]), _pb_member(2, "", [], True)],
    )
    decoded = decode_member_list(response)
    assert decoded.header.revision == 42
    assert decoded.members[0] == Member(
        1, "a", ("http://10.0.0.1:2380",), ("http://10.0.0.1:2379",)
    )
    assert decoded.members[1].is_learner
    assert decoded.members[1].name == ""


def test_decode_member_add():
    new = _pb_member(9, "", [], True)
    response = pb.MemberAddResponse(header=_header(), member=new, members=[new])
    decoded = decode_member_add(response)
    assert decoded.member.id == 9
    assert decoded.member.is_learner
    assert [m.id for m in decoded.members] == [9]


def test_decode_status():
    response = pb.StatusResponse(
        header=_header(),
        version="3.5.1",
        dbSize=100,
        dbSizeInUse=60,
        leader=1,
        raftIndex=10,
        raftTerm=3,
        raftAppliedIndex=9,
        errors=["memberID:1 alarm:NOSPACE "],
        isLearner=False,
    )
    status = decode_status(response, "10.0.0.1:2379")
    assert status.endpoint == "10.0.0.1:2379"
    assert (status.db_size, status.db_size_in_use) == (100, 60)
    assert (status.raft_index, status.raft_term, status.raft_applied_index) == (10, 3, 9)
    assert status.errors == ["memberID:1 alarm:NOSPACE "]
    assert status.is_leader
    assert status.member_id == 1


def test_a_member_without_a_leader_is_not_the_leader():
    response = pb.StatusResponse(header=pb.ResponseHeader(member_id=0), leader=0)
    assert not decode_status(response, "x:1").is_leader


def test_decode_alarms():
    response = pb.AlarmResponse(
        header=_header(),
        alarms=[pb.AlarmMember(memberID=5, alarm=1), pb.AlarmMember(memberID=6, alarm=2)],
    )
    alarms = decode_alarms(response)
    assert alarms == [Alarm(5, "NOSPACE"), Alarm(6, "CORRUPT")]
    member_id, kind = alarms[0]
    assert (member_id, kind) == (5, "NOSPACE")


def test_decode_hash_kv():
    response = pb.HashKVResponse(header=_header(), hash=99, compact_revision=4, hash_revision=8)
    decoded = decode_hash_kv(response)
    assert (decoded.hash, decoded.compact_revision, decoded.hash_revision) == (99, 4, 8)


def test_alarm_types_and_downgrade_actions():
    assert alarm_type("nospace") == 1
    assert alarm_type("CORRUPT") == 2
    assert alarm_type(0) == 0
    assert downgrade_action("validate") == 0
    assert downgrade_action("CANCEL") == 2
    with pytest.raises(etcd.EtcdValueError):
        alarm_type("FULL")
    with pytest.raises(etcd.EtcdValueError):
        downgrade_action(3)
    with pytest.raises(etcd.EtcdTypeError):
        alarm_type(True)


# --- choosing endpoints -----------------------------------------------------------------------


def _member(member_id, name, urls, learner=False):
    return Member(member_id, name, (f"http://10.0.0.{member_id}:2380",), tuple(urls), learner)


def test_endpoints_come_from_started_voting_members():
    members = [
        _member(1, "a", ["http://10.0.0.1:2379"]),
        _member(2, "", []),  # added, never started
        _member(3, "c", ["http://10.0.0.3:2379"], learner=True),
        _member(4, "d", ["http://10.0.0.4:2379", "http://10.0.0.4:2379"]),
    ]
    assert endpoints_from_members(members, secure=False) == (
        Endpoint("10.0.0.1", 2379),
        Endpoint("10.0.0.4", 2379),
    )


def test_endpoints_keep_the_clients_scheme():
    members = [
        _member(1, "a", ["http://10.0.0.1:2379", "https://10.0.0.1:2378"]),
        _member(2, "b", ["http://10.0.0.2:2379"]),
        _member(3, "c", ["unix://sock:0", "garbage", "https://10.0.0.3:2378"]),
    ]
    assert endpoints_from_members(members, secure=True) == (
        Endpoint("10.0.0.1", 2378, True),
        Endpoint("10.0.0.3", 2378, True),
    )
    assert endpoints_from_members(members, secure=False) == (
        Endpoint("10.0.0.1", 2379),
        Endpoint("10.0.0.2", 2379),
    )


def test_no_usable_member_gives_no_endpoints():
    assert endpoints_from_members([_member(1, "", [])], secure=False) == ()


def test_leader_endpoint():
    members = [
        _member(1, "a", ["http://10.0.0.1:2379"]),
        _member(2, "b", ["https://10.0.0.2:2378", "http://10.0.0.2:2379"]),
    ]
    assert leader_endpoint(members, 2, secure=False) == Endpoint("10.0.0.2", 2379)
    assert leader_endpoint(members, 2, secure=True) == Endpoint("10.0.0.2", 2378, True)
    assert leader_endpoint(members, 1, secure=True) is None
    assert leader_endpoint(members, 3, secure=False) is None


# --- snapshot verification --------------------------------------------------------------------


def _snapshot(data):
    return data + hashlib.sha256(data).digest()


@pytest.mark.parametrize("chunk", [1, 7, 31, 32, 33, 1000, 10**6])
def test_a_snapshot_verifies_whatever_the_chunking(chunk):
    blob = _snapshot(bytes(range(256)) * 20)
    verifier = SnapshotVerifier()
    for start in range(0, len(blob), chunk):
        verifier.update(blob[start : start + chunk])
    verifier.verify()
    assert verifier.size == len(blob)
    assert verifier.sha256 == hashlib.sha256(blob).hexdigest()


def test_empty_chunks_are_harmless():
    blob = _snapshot(b"x" * 100)
    verifier = SnapshotVerifier()
    for piece in (b"", blob[:50], b"", blob[50:], b""):
        verifier.update(piece)
    verifier.verify()


@pytest.mark.parametrize("position", [0, 50, 99, 100, 131])
def test_a_flipped_byte_is_caught(position):
    blob = bytearray(_snapshot(b"y" * 100))
    blob[position] ^= 0x01
    verifier = SnapshotVerifier()
    verifier.update(bytes(blob))
    with pytest.raises(etcd.EtcdSnapshotCorrupted):
        verifier.verify()


def test_a_truncated_snapshot_is_caught():
    blob = _snapshot(b"z" * 100)
    verifier = SnapshotVerifier()
    verifier.update(blob[:-1])
    with pytest.raises(etcd.EtcdSnapshotCorrupted):
        verifier.verify()
    short = SnapshotVerifier()
    short.update(b"a" * 32)
    with pytest.raises(etcd.EtcdSnapshotCorrupted, match="too short"):
        short.verify()


def test_snapshot_corruption_is_an_etcd_exception():
    assert issubclass(etcd.EtcdSnapshotCorrupted, etcd.EtcdException)
