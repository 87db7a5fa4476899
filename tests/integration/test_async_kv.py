"""KV, transactions and compaction against a real etcd."""

from __future__ import annotations

import grpc
import pytest

import etcd
from etcd import Op

pytestmark = pytest.mark.integration


async def test_put_and_range_a_single_key(async_etcd_client):
    put = await async_etcd_client.put("/kv/a", "1")
    assert put.header.revision > 0
    assert put.prev_kv is None
    got = await async_etcd_client.range("/kv/a")
    assert got.count == 1 and not got.more
    kv = got.kvs[0]
    assert (kv.key, kv.value, kv.version, kv.lease) == (b"/kv/a", b"1", 1, 0)
    assert kv.create_revision == kv.mod_revision == put.header.revision
    assert got.header.revision == put.header.revision
    assert got.header.cluster_id and got.header.member_id and got.header.raft_term


async def test_str_and_bytes_keys_and_values(async_etcd_client):
    await async_etcd_client.put(b"/kv/bin\xff", b"\x00\x01")
    await async_etcd_client.put("/kv/ünï", "välue")
    assert (await async_etcd_client.range(b"/kv/bin\xff")).kvs[0].value == b"\x00\x01"
    assert (await async_etcd_client.range("/kv/ünï")).kvs[0].value.decode() == "välue"


async def test_missing_key_is_an_empty_answer(async_etcd_client):
    got = await async_etcd_client.range("/kv/none")
    assert got.kvs == [] and got.count == 0


async def _fill(client, n=5, prefix="/p/"):
    return [(await client.put(f"{prefix}{i}", f"v{i}")).header.revision for i in range(n)]


async def test_prefix_from_key_and_explicit_range(async_etcd_client):
    await _fill(async_etcd_client)
    await async_etcd_client.put("/p0", "outside")
    assert [kv.key for kv in (await async_etcd_client.range("/p/", prefix=True)).kvs] == [
        b"/p/0",
        b"/p/1",
        b"/p/2",
        b"/p/3",
        b"/p/4",
    ]
    assert [kv.key for kv in (await async_etcd_client.range("/p/3", from_key=True)).kvs] == [
        b"/p/3",
        b"/p/4",
        b"/p0",
    ]
    assert [kv.key for kv in (await async_etcd_client.range("/p/1", "/p/3")).kvs] == [
        b"/p/1",
        b"/p/2",
    ]
    assert (await async_etcd_client.range(etcd.ALL_KEYS, count_only=True)).count == 6


async def test_limit_and_more(async_etcd_client):
    await _fill(async_etcd_client)
    got = await async_etcd_client.range("/p/", prefix=True, limit=2)
    assert len(got.kvs) == 2 and got.more and got.count == 5


async def test_revision_reads_the_past(async_etcd_client):
    first = (await async_etcd_client.put("/kv/r", "old")).header.revision
    await async_etcd_client.put("/kv/r", "new")
    assert (await async_etcd_client.range("/kv/r", revision=first)).kvs[0].value == b"old"
    assert (await async_etcd_client.range("/kv/r")).kvs[0].value == b"new"


async def test_future_revision_is_a_typed_error(async_etcd_client):
    now = (await async_etcd_client.put("/kv/f", "x")).header.revision
    with pytest.raises(etcd.EtcdFutureRevision) as info:
        await async_etcd_client.range("/kv/f", revision=now + 1000)
    assert "KV.Range on 127.0.0.1:" in str(info.value)
    assert "future revision" in str(info.value)


@pytest.mark.parametrize(
    ("order", "target", "expected"),
    [
        ("ascend", "key", [b"/s/a", b"/s/b", b"/s/c"]),
        ("descend", "key", [b"/s/c", b"/s/b", b"/s/a"]),
        ("ascend", "value", [b"/s/c", b"/s/b", b"/s/a"]),
        ("descend", "create", [b"/s/c", b"/s/a", b"/s/b"]),
        ("ascend", "mod", [b"/s/a", b"/s/c", b"/s/b"]),
        ("descend", "version", [b"/s/b", b"/s/c", b"/s/a"]),
    ],
)
async def test_sort(async_etcd_client, order, target, expected):
    await async_etcd_client.put("/s/b", "2")
    await async_etcd_client.put("/s/a", "3")
    await async_etcd_client.put("/s/c", "1")
    await async_etcd_client.put("/s/b", "2")  # b: version 2, newest mod
    got = await async_etcd_client.range("/s/", prefix=True, sort_order=order, sort_target=target)
    if target == "version":
        assert got.kvs[0].key == b"/s/b"
    else:
        assert [kv.key for kv in got.kvs] == expected


async def test_serializable_keys_only_count_only(async_etcd_client):
    await _fill(async_etcd_client, 3)
    assert (await async_etcd_client.range("/p/0", serializable=True)).kvs[0].value == b"v0"
    keys = (await async_etcd_client.range("/p/", prefix=True, keys_only=True)).kvs
    assert [kv.value for kv in keys] == [b"", b"", b""] and keys[0].key == b"/p/0"
    counted = await async_etcd_client.range("/p/", prefix=True, count_only=True)
    assert counted.count == 3 and counted.kvs == []


async def test_min_max_mod_and_create_revisions(async_etcd_client):
    revs = await _fill(async_etcd_client, 4)
    await async_etcd_client.put("/p/0", "again")
    by_mod = await async_etcd_client.range("/p/", prefix=True, min_mod_revision=revs[2])
    assert [kv.key for kv in by_mod.kvs] == [b"/p/0", b"/p/2", b"/p/3"]
    by_mod_max = await async_etcd_client.range("/p/", prefix=True, max_mod_revision=revs[1])
    assert [kv.key for kv in by_mod_max.kvs] == [b"/p/1"]
    by_create = await async_etcd_client.range(
        "/p/", prefix=True, min_create_revision=revs[1], max_create_revision=revs[2]
    )
    assert [kv.key for kv in by_create.kvs] == [b"/p/1", b"/p/2"]


async def test_put_prev_kv_ignore_value_ignore_lease(async_etcd_client):
    await async_etcd_client.put("/kv/p", "one")
    second = await async_etcd_client.put("/kv/p", "two", prev_kv=True)
    assert second.prev_kv is not None and second.prev_kv.value == b"one"
    await async_etcd_client.put("/kv/p", ignore_value=True)
    kv = (await async_etcd_client.range("/kv/p")).kvs[0]
    assert kv.value == b"two" and kv.version == 3
    await async_etcd_client.put("/kv/p", "three", ignore_lease=True)
    assert (await async_etcd_client.range("/kv/p")).kvs[0].value == b"three"


async def test_put_with_lease_and_ignore_value_on_a_missing_key(async_etcd_client):
    with pytest.raises(etcd.EtcdLeaseNotFound) as info:
        await async_etcd_client.put("/kv/l", "v", lease=0x1234)
    assert "KV.Put" in str(info.value) and "requested lease not found" in str(info.value)
    with pytest.raises(etcd.EtcdKeyNotFound):
        await async_etcd_client.put("/kv/missing", ignore_value=True)


async def test_delete_range_forms(async_etcd_client):
    await _fill(async_etcd_client, 5)
    assert (await async_etcd_client.delete_range("/p/0")).deleted == 1
    one = await async_etcd_client.delete_range("/p/1", prev_kv=True)
    assert one.deleted == 1 and one.prev_kvs[0].value == b"v1"
    assert (await async_etcd_client.delete_range("/p/2", "/p/4")).deleted == 2
    assert (await async_etcd_client.delete_range("/p/", prefix=True)).deleted == 1
    assert (await async_etcd_client.delete_range("/p/none")).deleted == 0
    await _fill(async_etcd_client, 3, prefix="/q/")
    assert (await async_etcd_client.delete_range("/q/1", from_key=True)).deleted == 2


async def test_txn_with_every_compare_target(async_etcd_client):
    put = await async_etcd_client.put("/t/k", "v")
    rev = put.header.revision
    conditions = [
        etcd.Value("/t/k") == "v",
        etcd.Value("/t/k") != "w",
        etcd.Value("/t/k") < "w",
        etcd.Value("/t/k") > "u",
        etcd.Version("/t/k") == 1,
        etcd.CreateRevision("/t/k") == rev,
        etcd.ModRevision("/t/k") == rev,
        etcd.LeaseValue("/t/k") == 0,
        etcd.Compare.version("/t/", ">", 0, prefix=True),
        etcd.Compare.mod_revision("/t/a", "<", rev + 1).with_range("/t/z"),
    ]
    result = await async_etcd_client.txn(
        conditions, [Op.put("/t/k", "w"), Op.range("/t/k")], [Op.range("/t/k")]
    )
    assert result.succeeded
    assert isinstance(result.responses[0], etcd.PutResponse)
    assert isinstance(result.responses[1], etcd.RangeResponse)
    assert result.responses[1].kvs[0].value == b"w"


async def test_txn_failure_branch_and_builder(async_etcd_client):
    await async_etcd_client.put("/t/k", "v")
    result = await (
        async_etcd_client.transaction()
        .If(etcd.Value("/t/k") == "nope")
        .Then(Op.put("/t/k", "changed"))
        .Else(Op.range("/t/k"), Op.delete_range("/t/none"))
        .commit()
    )
    assert not result.succeeded
    assert result.responses[0].kvs[0].value == b"v"
    assert isinstance(result.responses[1], etcd.DeleteRangeResponse)
    assert (await async_etcd_client.range("/t/k")).kvs[0].value == b"v"
    unbound = etcd.Txn().If(etcd.Version("/t/new") == 0).Then(Op.put("/t/new", "1"))
    assert (await async_etcd_client.txn(unbound)).succeeded
    assert not (await async_etcd_client.txn(unbound)).succeeded


async def test_nested_txn(async_etcd_client):
    inner = Op.txn([etcd.Version("/t/x") == 0], [Op.put("/t/x", "1")], [Op.range("/t/x")])
    result = await async_etcd_client.txn([], [inner], [])
    assert result.succeeded
    nested = result.responses[0]
    assert isinstance(nested, etcd.TxnResponse) and nested.succeeded
    again = await async_etcd_client.txn([], [inner], [])
    assert not again.responses[0].succeeded
    assert again.responses[0].responses[0].kvs[0].value == b"1"


async def test_txn_limits_are_checked_before_sending_and_by_the_server(async_etcd_client):
    with pytest.raises(etcd.EtcdTooManyOps):
        await async_etcd_client.txn([], [Op.put(f"/t/{i}", "v") for i in range(129)], [])
    with pytest.raises(etcd.EtcdDuplicateKey):
        await async_etcd_client.txn([], [Op.put("/t/d", "1"), Op.put("/t/d", "2")], [])
    # A nested duplicate the client cannot see is refused by the server, with the same type.
    nested = [Op.put("/t/n", "1"), Op.txn([], [Op.put("/t/n", "2")], [])]
    with pytest.raises(etcd.EtcdDuplicateKey):
        await async_etcd_client.txn([], nested, [])


async def test_compact(async_etcd_client):
    first = (await async_etcd_client.put("/c/k", "1")).header.revision
    last = (await async_etcd_client.put("/c/k", "2")).header.revision
    await async_etcd_client.compact(last)
    with pytest.raises(etcd.EtcdCompacted) as raised:
        await async_etcd_client.range("/c/k", revision=first)
    # The mapped error keeps the gRPC error it came from as its cause.
    cause = raised.value.__cause__
    assert isinstance(cause, grpc.RpcError)
    assert cause.code() == grpc.StatusCode.OUT_OF_RANGE
    assert raised.value.code == "OUT_OF_RANGE" and "compacted" in cause.details()
    assert (await async_etcd_client.range("/c/k", revision=last)).kvs[0].value == b"2"
    last = (await async_etcd_client.put("/c/k", "3")).header.revision
    await async_etcd_client.compact(last, physical=True)
    with pytest.raises(etcd.EtcdCompacted):
        await async_etcd_client.compact(last)


async def test_range_iter_walks_a_snapshot_page_by_page(async_etcd_client):
    for i in range(25):
        await async_etcd_client.put(f"/it/{i:03}", str(i))
    walk = async_etcd_client.range_iter("/it/", prefix=True, page_size=7)
    first = [await anext(walk) for _ in range(10)]
    await async_etcd_client.put("/it/0005x", "written during the walk")
    rest = [kv async for kv in walk]
    keys = [kv.key for kv in first + rest]
    assert keys == [f"/it/{i:03}".encode() for i in range(25)]


async def test_large_values_and_large_prefix_reads(async_etcd_client):
    value = b"x" * (1024 * 1024)
    for i in range(6):
        await async_etcd_client.put(f"/big/{i}", value)
    got = await async_etcd_client.range("/big/", prefix=True)
    assert len(got.kvs) == 6 and sum(len(kv.value) for kv in got.kvs) == 6 * len(value)


async def test_oversized_value_is_refused_before_sending(async_etcd_client):
    with pytest.raises(etcd.EtcdRequestTooLarge, match="1572864"):
        await async_etcd_client.put("/big/too", b"x" * (2 * 1024 * 1024))
    with pytest.raises(etcd.EtcdRequestTooLarge):
        await async_etcd_client.txn(
            [], [Op.put(f"/big/t{i}", b"x" * 400_000) for i in range(5)], []
        )


async def test_per_call_timeout_and_explicit_none(async_etcd_client):
    assert (await async_etcd_client.range("/kv/a", timeout=2.5)).count == 0
    assert (await async_etcd_client.range("/kv/a", timeout=None)).count == 0
    with pytest.raises(etcd.EtcdValueError):
        await async_etcd_client.range("/kv/a", timeout=0)


async def test_require_leader_client_works_with_a_leader(etcd_server):
    async with etcd.AsyncClient(endpoints=[etcd_server.endpoint], allow_redirect=False) as client:
        await client.put("/kv/leader", "yes")
        assert (await client.range("/kv/leader")).kvs[0].value == b"yes"
        await client.delete_range("/kv/leader")


async def test_closed_client_refuses_calls(etcd_server):
    client = etcd.AsyncClient(endpoints=[etcd_server.endpoint])
    await client.close()
    await client.close()
    with pytest.raises(etcd.EtcdClientClosed):
        await client.range("/kv/a")
    # The watch stream is made on first use: not after close().
    with pytest.raises(etcd.EtcdClientClosed):
        client.watch_stream("/kv/a")


@pytest.mark.timeout(15)
async def test_unreachable_endpoint_fails_within_the_deadline():
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    async with etcd.AsyncClient(port=port, timeout=1.0) as client:
        with pytest.raises(etcd.EtcdConnectionFailed) as info:
            await client.range("/x")
        assert f"127.0.0.1:{port}" in str(info.value)
        with pytest.raises(etcd.EtcdConnectionFailed) as info:
            await client.put("/x", "y")
        assert not info.value.outcome_unknown


async def test_failover_to_the_next_endpoint(etcd_server):
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        dead = f"127.0.0.1:{sock.getsockname()[1]}"
    async with etcd.AsyncClient(endpoints=[dead, etcd_server.endpoint], timeout=5.0) as client:
        await client.put("/kv/failover", "ok")
        assert (await client.range("/kv/failover")).kvs[0].value == b"ok"
        await client.delete_range("/kv/failover")


async def test_a_refusing_member_is_left_at_once_when_another_can_serve(etcd_server):
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        dead = f"127.0.0.1:{sock.getsockname()[1]}"
    # Waiting for the refusing member, even within the connect timeout, would use up the
    # whole call's deadline.
    async with etcd.AsyncClient(
        endpoints=[dead, etcd_server.endpoint], timeout=3.0, connect_timeout=30.0
    ) as client:
        await client.put("/kv/refused", "ok")
        assert (await client.range("/kv/refused")).kvs[0].value == b"ok"
        await client.delete_range("/kv/refused")


@pytest.mark.timeout(30)
async def test_a_paused_member_is_skipped_after_the_connect_timeout(
    etcd_server, etcd_server_factory
):
    stuck = etcd_server_factory()
    stuck.pause()
    try:
        endpoints = [stuck.endpoint, etcd_server.endpoint]
        async with etcd.AsyncClient(
            endpoints=endpoints, timeout=10.0, connect_timeout=0.5
        ) as client:
            await client.put("/kv/paused", "ok")
            assert (await client.range("/kv/paused")).kvs[0].value == b"ok"
            await client.delete_range("/kv/paused")
    finally:
        stuck.resume()


@pytest.mark.timeout(30)
async def test_a_lone_paused_member_fails_the_call_at_its_deadline(etcd_server_factory):
    stuck = etcd_server_factory()
    stuck.pause()
    try:
        async with etcd.AsyncClient(
            endpoints=[stuck.endpoint], timeout=1.5, connect_timeout=0.5
        ) as client:
            with pytest.raises((etcd.EtcdConnectionFailed, etcd.EtcdTimeout)) as info:
                await client.range("/kv/paused")
            assert stuck.endpoint in str(info.value)
    finally:
        stuck.resume()


async def test_an_answer_larger_than_the_receive_limit_is_a_typed_error(etcd_server):
    async with etcd.AsyncClient(endpoints=[etcd_server.endpoint], max_receive_bytes=4096) as client:
        for i in range(8):
            await client.put(f"/kv/wide/{i}", "x" * 1024)
        with pytest.raises(etcd.EtcdResponseTooLarge) as raised:
            await client.range("/kv/wide/", prefix=True)
        assert "KV.Range" in str(raised.value)
        assert (
            len([kv async for kv in client.range_iter("/kv/wide/", prefix=True, page_size=2)]) == 8
        )
        await client.delete_range("/kv/wide/", prefix=True)
