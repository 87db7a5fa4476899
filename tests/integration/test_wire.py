"""Every service of the hand-written .proto files, called raw against a real etcd.

The server is the judge of the wire contract: each call here would fail to decode, or be
answered with an error, if a field number, type or method path were wrong.
"""

from typing import Any

import grpc
import pytest

from etcd._wire import messages as pb
from etcd._wire import methods

pytestmark = pytest.mark.integration


@pytest.fixture
def call(etcd_server):
    channel = grpc.insecure_channel(etcd_server.endpoint)

    def invoke(method, request, metadata=None, timeout=10):
        factory = getattr(channel, method.kind)
        bound = factory(
            method.path,
            request_serializer=method.request.SerializeToString,
            response_deserializer=method.response.FromString,
        )
        return bound(request, timeout=timeout, metadata=metadata)

    yield invoke
    channel.close()


def test_kv_round_trip(call):
    put = call(methods.KV_PUT, pb.PutRequest(key=b"/wire/k", value=b"v"))
    got = call(methods.KV_RANGE, pb.RangeRequest(key=b"/wire/k"))
    assert got.kvs[0].value == b"v"
    assert got.kvs[0].mod_revision == put.header.revision
    txn = call(
        methods.KV_TXN,
        pb.TxnRequest(
            compare=[
                pb.Compare(
                    key=b"/wire/k",
                    range_end=b"/wire/l",
                    target=pb.Compare.VALUE,
                    result=pb.Compare.EQUAL,
                    value=b"v",
                )
            ],
            success=[pb.RequestOp(request_delete_range=pb.DeleteRangeRequest(key=b"/wire/k"))],
        ),
    )
    assert txn.succeeded
    assert txn.responses[0].response_delete_range.deleted == 1


def test_watch_stream(call):
    requests = iter(
        [pb.WatchRequest(create_request=pb.WatchCreateRequest(key=b"/wire/w", prev_kv=True))]
    )
    stream = call(methods.WATCH_WATCH, requests)
    created = next(stream)
    assert created.created
    call(methods.KV_PUT, pb.PutRequest(key=b"/wire/w", value=b"1"))
    call(methods.KV_PUT, pb.PutRequest(key=b"/wire/w", value=b"2"))
    events: list[Any] = []
    while len(events) < 2:
        response = next(stream)
        assert response.watch_id == created.watch_id
        events.extend(response.events)
    assert [e.kv.value for e in events] == [b"1", b"2"]
    assert events[0].type == pb.Event.PUT
    assert events[1].prev_kv.value == b"1"
    stream.cancel()


def test_lease_service(call):
    grant = call(methods.LEASE_GRANT, pb.LeaseGrantRequest(TTL=30))
    assert grant.ID > 0 and grant.TTL == 30
    call(methods.KV_PUT, pb.PutRequest(key=b"/wire/leased", value=b"x", lease=grant.ID))
    ttl = call(methods.LEASE_TIME_TO_LIVE, pb.LeaseTimeToLiveRequest(ID=grant.ID, keys=True))
    assert ttl.grantedTTL == 30 and 0 < ttl.TTL <= 30 and list(ttl.keys) == [b"/wire/leased"]
    keepalive = call(methods.LEASE_KEEP_ALIVE, iter([pb.LeaseKeepAliveRequest(ID=grant.ID)]))
    renewed = next(keepalive)
    assert renewed.ID == grant.ID and renewed.TTL == 30
    leases = call(methods.LEASE_LEASES, pb.LeaseLeasesRequest())
    assert grant.ID in [status.ID for status in leases.leases]
    call(methods.LEASE_REVOKE, pb.LeaseRevokeRequest(ID=grant.ID))
    assert not call(methods.KV_RANGE, pb.RangeRequest(key=b"/wire/leased")).kvs


def test_cluster_service(call, etcd_server):
    listed = call(methods.CLUSTER_MEMBER_LIST, pb.MemberListRequest(linearizable=True))
    (member,) = listed.members
    assert member.clientURLs == [etcd_server.client_url]
    added = call(
        methods.CLUSTER_MEMBER_ADD,
        pb.MemberAddRequest(peerURLs=["http://127.0.0.1:1"], isLearner=True),
    )
    assert added.member.isLearner and added.member.name == ""
    with pytest.raises(grpc.RpcError) as raised:
        call(methods.CLUSTER_MEMBER_PROMOTE, pb.MemberPromoteRequest(ID=added.member.ID))
    assert "learner" in raised.value.details()
    removal = pb.MemberRemoveRequest(ID=added.member.ID)
    try:
        removed = _membership_change_when_settled(call, methods.CLUSTER_MEMBER_REMOVE, removal)
    except grpc.RpcError as error:
        # A removal that timed out may still have been applied after its deadline: sent
        # again, it finds the learner gone.
        assert error.code() == grpc.StatusCode.NOT_FOUND, error
        removed = call(methods.CLUSTER_MEMBER_LIST, pb.MemberListRequest(linearizable=True))
    assert [m.ID for m in removed.members] == [member.ID]
    update = pb.MemberUpdateRequest(ID=member.ID, peerURLs=list(member.peerURLs))
    updated = _membership_change_when_settled(call, methods.CLUSTER_MEMBER_UPDATE, update)
    assert updated.members[0].peerURLs == member.peerURLs


def _membership_change_when_settled(call, method, request):
    # Raft takes one membership change at a time: a change proposed before the previous
    # one is applied by raft (not only by etcd) is dropped, and the server waits for it
    # until the deadline. Both changes sent here are safe to send again.
    for _ in range(4):
        try:
            return call(method, request, timeout=3)
        except grpc.RpcError as error:
            if error.code() != grpc.StatusCode.DEADLINE_EXCEEDED:
                raise
    return call(method, request)


def test_maintenance_service(call):
    status = call(methods.MAINTENANCE_STATUS, pb.StatusRequest())
    assert status.version.startswith("3.")
    assert status.leader == status.header.member_id and status.dbSize > 0
    assert call(methods.MAINTENANCE_HASH, pb.HashRequest()).hash > 0
    hash_kv = call(methods.MAINTENANCE_HASH_KV, pb.HashKVRequest(revision=0))
    assert hash_kv.hash > 0
    assert hash_kv.compact_revision >= -1  # -1: never compacted
    # hash_revision is only filled in by servers from 3.5.5 on.
    assert hash_kv.hash_revision in (0, hash_kv.header.revision)
    alarms = call(methods.MAINTENANCE_ALARM, pb.AlarmRequest(action=pb.AlarmRequest.GET))
    assert list(alarms.alarms) == []
    call(methods.MAINTENANCE_DEFRAGMENT, pb.DefragmentRequest())
    chunks = list(call(methods.MAINTENANCE_SNAPSHOT, pb.SnapshotRequest()))
    assert chunks[-1].remaining_bytes == 0
    # The snapshot is taken after the defragmentation, so it may be smaller than dbSize was.
    assert sum(len(chunk.blob) for chunk in chunks) > 0
    with pytest.raises(grpc.RpcError):
        call(methods.MAINTENANCE_MOVE_LEADER, pb.MoveLeaderRequest(targetID=1))


@pytest.mark.etcd_version("3.5", reason="calls AuthStatus, which etcd 3.5 added")
def test_auth_service(etcd_server_factory):
    server = etcd_server_factory()
    channel = grpc.insecure_channel(server.endpoint)

    def call(method, request, metadata=None):
        bound = channel.unary_unary(
            method.path,
            request_serializer=method.request.SerializeToString,
            response_deserializer=method.response.FromString,
        )
        return bound(request, timeout=10, metadata=metadata)

    try:
        assert not call(methods.AUTH_STATUS, pb.AuthStatusRequest()).enabled
        call(methods.AUTH_USER_ADD, pb.AuthUserAddRequest(name="root", password="secret"))
        call(methods.AUTH_ROLE_ADD, pb.AuthRoleAddRequest(name="root"))
        call(methods.AUTH_USER_GRANT_ROLE, pb.AuthUserGrantRoleRequest(user="root", role="root"))
        call(methods.AUTH_ROLE_ADD, pb.AuthRoleAddRequest(name="reader"))
        permission = pb.Permission(permType=pb.Permission.READ, key=b"/a", range_end=b"/b")
        call(
            methods.AUTH_ROLE_GRANT_PERMISSION,
            pb.AuthRoleGrantPermissionRequest(name="reader", perm=permission),
        )
        assert list(call(methods.AUTH_ROLE_GET, pb.AuthRoleGetRequest(role="reader")).perm) == [
            permission
        ]
        call(
            methods.AUTH_USER_ADD,
            pb.AuthUserAddRequest(name="bob", options=pb.UserAddOptions(no_password=True)),
        )
        call(methods.AUTH_USER_GRANT_ROLE, pb.AuthUserGrantRoleRequest(user="bob", role="reader"))
        assert list(call(methods.AUTH_USER_GET, pb.AuthUserGetRequest(name="bob")).roles) == [
            "reader"
        ]
        assert set(call(methods.AUTH_USER_LIST, pb.AuthUserListRequest()).users) == {"bob", "root"}
        call(methods.AUTH_USER_REVOKE_ROLE, pb.AuthUserRevokeRoleRequest(name="bob", role="reader"))
        call(
            methods.AUTH_ROLE_REVOKE_PERMISSION,
            pb.AuthRoleRevokePermissionRequest(role="reader", key=b"/a", range_end=b"/b"),
        )
        call(methods.AUTH_ROLE_DELETE, pb.AuthRoleDeleteRequest(role="reader"))
        assert list(call(methods.AUTH_ROLE_LIST, pb.AuthRoleListRequest()).roles) == ["root"]
        call(methods.AUTH_USER_DELETE, pb.AuthUserDeleteRequest(name="bob"))
        call(
            methods.AUTH_USER_CHANGE_PASSWORD,
            pb.AuthUserChangePasswordRequest(name="root", password="secret2"),
        )
        call(methods.AUTH_ENABLE, pb.AuthEnableRequest())
        token = call(
            methods.AUTH_AUTHENTICATE, pb.AuthenticateRequest(name="root", password="secret2")
        ).token
        assert token
        metadata = (("token", token),)
        status = call(methods.AUTH_STATUS, pb.AuthStatusRequest(), metadata)
        assert status.enabled and status.authRevision > 0
        with pytest.raises(grpc.RpcError) as raised:
            call(methods.KV_RANGE, pb.RangeRequest(key=b"/a"))
        assert "user name is empty" in raised.value.details()
        call(methods.AUTH_DISABLE, pb.AuthDisableRequest(), metadata)
    finally:
        channel.close()


def test_lock_service(call):
    lease = call(methods.LEASE_GRANT, pb.LeaseGrantRequest(TTL=30)).ID
    locked = call(methods.LOCK_LOCK, pb.LockRequest(name=b"/wire/lock", lease=lease))
    assert locked.key.startswith(b"/wire/lock/")
    assert call(methods.KV_RANGE, pb.RangeRequest(key=locked.key)).kvs[0].lease == lease
    call(methods.LOCK_UNLOCK, pb.UnlockRequest(key=locked.key))
    assert not call(methods.KV_RANGE, pb.RangeRequest(key=locked.key)).kvs
    call(methods.LEASE_REVOKE, pb.LeaseRevokeRequest(ID=lease))


def test_election_service(call):
    lease = call(methods.LEASE_GRANT, pb.LeaseGrantRequest(TTL=30)).ID
    campaign = call(
        methods.ELECTION_CAMPAIGN, pb.CampaignRequest(name=b"/wire/elect", lease=lease, value=b"a")
    )
    leader_key = campaign.leader
    assert leader_key.name == b"/wire/elect" and leader_key.lease == lease
    observe = call(methods.ELECTION_OBSERVE, pb.LeaderRequest(name=b"/wire/elect"))
    assert next(observe).kv.value == b"a"
    call(methods.ELECTION_PROCLAIM, pb.ProclaimRequest(leader=leader_key, value=b"b"))
    assert next(observe).kv.value == b"b"
    observe.cancel()
    leader = call(methods.ELECTION_LEADER, pb.LeaderRequest(name=b"/wire/elect"))
    assert leader.kv.key == leader_key.key and leader.kv.value == b"b"
    call(methods.ELECTION_RESIGN, pb.ResignRequest(leader=leader_key))
    with pytest.raises(grpc.RpcError) as raised:
        call(methods.ELECTION_LEADER, pb.LeaderRequest(name=b"/wire/elect"))
    assert "no leader" in raised.value.details()
    call(methods.LEASE_REVOKE, pb.LeaseRevokeRequest(ID=lease))
