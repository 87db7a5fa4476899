"""Coalescing (``coalesce=True``, ``"auto"`` and the default ``"reads"``) against a real
etcd: concurrent calls leave as one transaction, and each still gets its own answer and its
own error."""

from __future__ import annotations

import re
import time
import urllib.request

import pytest

import etcd
from etcd import Op
from etcd._async.io import map_concurrently, sleep

pytestmark = pytest.mark.integration

CALLS = 48


def handled(server, method: str) -> int:
    """How many calls of ``KV/method`` the member has answered (its own metrics)."""
    with urllib.request.urlopen(f"{server.metrics_url}/metrics", timeout=10) as answer:
        text = answer.read().decode()
    pattern = rf'grpc_server_handled_total{{[^}}]*grpc_method="{method}"[^}}]*}} (\d+)'
    return sum(int(count) for count in re.findall(pattern, text))


async def overlapping(server, call):
    """``call(i)`` for ``i`` in ``range(CALLS)``, all at once, their answers in order. The
    member answers nothing until every call has reached the client, so that the calls
    overlap however slowly the machine starts them."""

    async def one(i):
        if i == 0:
            await sleep(0.5)
            server.resume()
        return await call(i)

    server.pause()
    try:
        return await map_concurrently(one, list(range(CALLS)), name="caller")
    finally:
        server.resume()


def coalescing_client(server):
    return etcd.AsyncClient(endpoints=[server.endpoint], coalesce=True, timeout=20)


async def test_concurrent_reads_leave_together_and_each_gets_its_own_key(
    etcd_server, async_etcd_client
):
    for i in range(CALLS):
        await async_etcd_client.put(f"/co/r/{i}", f"value {i}")
    ranges, txns = handled(etcd_server, "Range"), handled(etcd_server, "Txn")
    async with coalescing_client(etcd_server) as client:

        async def read(i):
            return await client.range(f"/co/r/{i}")

        answers = await map_concurrently(read, list(range(CALLS)), name="reader")
    for i, answer in enumerate(answers):
        assert [(kv.key, kv.value) for kv in answer.kvs] == [
            (f"/co/r/{i}".encode(), f"value {i}".encode())
        ]
        assert answer.count == 1 and answer.header.revision > 0
    sent = (handled(etcd_server, "Range") - ranges) + (handled(etcd_server, "Txn") - txns)
    assert handled(etcd_server, "Txn") > txns, "no read was coalesced"
    assert sent < CALLS


async def test_concurrent_writes_share_a_revision_per_batch_and_all_land(
    etcd_server, async_etcd_client
):
    txns = handled(etcd_server, "Txn")
    async with coalescing_client(etcd_server) as client:

        async def write(i):
            return await client.put(f"/co/w/{i}", f"v{i}", prev_kv=True)

        answers = await map_concurrently(write, list(range(CALLS)), name="writer")
    assert handled(etcd_server, "Txn") > txns, "no write was coalesced"
    stored = {kv.key: kv for kv in (await async_etcd_client.range("/co/w/", prefix=True)).kvs}
    assert len(stored) == CALLS
    for i, answer in enumerate(answers):
        kv = stored[f"/co/w/{i}".encode()]
        assert kv.value == f"v{i}".encode()
        assert kv.mod_revision == answer.header.revision
        assert answer.prev_kv is None
    assert len({a.header.revision for a in answers}) < CALLS


async def test_writes_to_one_key_never_share_a_batch(etcd_server, async_etcd_client):
    async with coalescing_client(etcd_server) as client:

        async def write(i):
            return await client.put("/co/same", f"v{i}")

        answers = await map_concurrently(write, list(range(CALLS)), name="writer")
    revisions = [a.header.revision for a in answers]
    assert len(set(revisions)) == CALLS
    last = max(range(CALLS), key=revisions.__getitem__)
    current = (await async_etcd_client.range("/co/same")).kvs[0]
    assert current.value == f"v{last}".encode() and current.version == CALLS


async def test_an_error_stays_with_its_own_call(etcd_server, async_etcd_client):
    await async_etcd_client.put("/co/e/x", "1")
    await async_etcd_client.put("/co/e/x", "2")
    compacted_at = (await async_etcd_client.put("/co/e/x", "3")).header.revision - 1
    await async_etcd_client.compact(compacted_at)
    async with coalescing_client(etcd_server) as client:

        async def write(i):
            if i == 7:
                return await client.put("/co/e/leased", "v", lease=0x7FFF_0000_1234)
            return await client.put(f"/co/e/{i}", "v")

        async def read(i):
            if i == 6:
                return await client.range("/co/e/x", revision=compacted_at - 1)
            return await client.range(f"/co/e/{i}")

        async def each(i):
            try:
                return await (write(i) if i % 2 else read(i))
            except etcd.EtcdException as error:
                return error

        answers = await map_concurrently(each, list(range(CALLS)), name="mixed")
    assert isinstance(answers[7], etcd.EtcdLeaseNotFound)
    assert isinstance(answers[6], etcd.EtcdCompacted)
    for i, answer in enumerate(answers):
        if i not in (6, 7):
            assert not isinstance(answer, Exception), (i, answer)
    assert (await async_etcd_client.range("/co/e/leased")).kvs == []
    assert (await async_etcd_client.range("/co/e/", prefix=True)).count == 1 + CALLS // 2 - 1


async def test_serializable_reads_and_other_operations_go_through(etcd_server, async_etcd_client):
    await async_etcd_client.put("/co/s/a", "1")
    async with coalescing_client(etcd_server) as client:

        async def call(i):
            if i % 3 == 0:
                return (await client.range("/co/s/a", serializable=True)).kvs[0].value
            if i % 3 == 1:
                return (await client.do(Op.range("/co/s/", prefix=True))).kvs[0].value
            return (await client.range("/co/s/a", count_only=True)).count

        answers = await map_concurrently(call, list(range(30)), name="mixed")
        assert answers == [b"1", b"1", 1] * 10
        deleted = await client.delete_range("/co/s/a")
        assert deleted.deleted == 1


async def test_a_namespace_over_a_coalescing_client(etcd_server, async_etcd_client):
    async with coalescing_client(etcd_server) as client:
        space = client.namespace("/co/ns/")

        async def write(i):
            return await space.put(f"k{i}", "v")

        await map_concurrently(write, list(range(20)), name="writer")
        assert (await space.range("k", prefix=True)).count == 20
    assert (await async_etcd_client.range("/co/ns/", prefix=True)).count == 20


async def test_a_large_value_is_sent_alone(etcd_server, async_etcd_client):
    big = b"x" * 200_000
    async with coalescing_client(etcd_server) as client:

        async def write(i):
            return await client.put(f"/co/big/{i}", big)

        await map_concurrently(write, list(range(8)), name="writer")
    values = (await async_etcd_client.range("/co/big/", prefix=True)).kvs
    assert len(values) == 8 and all(kv.value == big for kv in values)


async def test_every_call_keeps_its_own_deadline(etcd_server_factory):
    server = etcd_server_factory()
    async with etcd.AsyncClient(endpoints=[server.endpoint], coalesce=True) as client:
        await client.put("/co/t", "v")
        server.pause()
        try:

            async def read(i):
                began = time.monotonic()
                # A timeout, or no connection in time (the member stopped answering).
                with pytest.raises(etcd.EtcdConnectionFailed):
                    await client.range("/co/t", timeout=0.5 + 0.1 * i)
                return time.monotonic() - began

            waited = await map_concurrently(read, list(range(8)), name="reader")
        finally:
            server.resume()
        assert max(waited) < 10, waited
        assert (await client.range("/co/t")).kvs[0].value == b"v"


async def test_a_read_queued_behind_slower_calls_keeps_its_own_shorter_deadline(
    etcd_server_factory,
):
    server = etcd_server_factory()
    async with etcd.AsyncClient(endpoints=[server.endpoint], coalesce=True) as client:
        await client.put("/co/d", "v")
        server.pause()
        try:

            async def read(i):
                patient = i < 4
                if not patient:
                    await sleep(0.2)  # behind the patient calls, on the wire or queued
                began = time.monotonic()
                with pytest.raises(etcd.EtcdConnectionFailed):
                    await client.range("/co/d", timeout=6 if patient else 0.3)
                return patient, time.monotonic() - began

            waited = await map_concurrently(read, list(range(8)), name="reader")
        finally:
            server.resume()
        assert all(seconds < 3 for patient, seconds in waited if not patient), waited
        assert all(seconds > 5 for patient, seconds in waited if patient), waited


async def test_the_option_is_checked(etcd_server):
    with pytest.raises(etcd.EtcdTypeError, match="coalesce"):
        etcd.AsyncClient(endpoints=[etcd_server.endpoint], coalesce="yes")  # type: ignore[arg-type]
    with pytest.raises(etcd.EtcdTypeError, match="coalesce"):
        etcd.AsyncClient(endpoints=[etcd_server.endpoint], coalesce=1)  # type: ignore[arg-type]


async def test_the_adaptive_mode_coalesces_under_load_and_keeps_every_answer(
    etcd_server, async_etcd_client
):
    for i in range(CALLS):
        await async_etcd_client.put(f"/co/auto/{i}", f"value {i}")
    txns = handled(etcd_server, "Txn")
    async with etcd.AsyncClient(
        endpoints=[etcd_server.endpoint], coalesce="auto", timeout=20
    ) as client:
        answers = await overlapping(etcd_server, lambda i: client.range(f"/co/auto/{i}"))
        # One call at a time is never held back: the adaptive lane sends it as itself.
        before = handled(etcd_server, "Txn")
        for i in range(5):
            assert (await client.range(f"/co/auto/{i}")).kvs[0].value == f"value {i}".encode()
        assert handled(etcd_server, "Txn") == before
    assert [answer.kvs[0].value for answer in answers] == [
        f"value {i}".encode() for i in range(CALLS)
    ]
    assert handled(etcd_server, "Txn") > txns, "no read was coalesced"


async def test_by_default_reads_coalesce_under_load_and_writes_never_share_a_revision(
    etcd_server, async_etcd_client
):
    txns = handled(etcd_server, "Txn")
    async with etcd.AsyncClient(endpoints=[etcd_server.endpoint], timeout=20) as client:
        written = await overlapping(
            etcd_server, lambda i: client.put(f"/co/default/{i}", f"value {i}")
        )
        assert handled(etcd_server, "Txn") == txns, "a write was coalesced"
        assert len({answer.header.revision for answer in written}) == CALLS
        answers = await overlapping(etcd_server, lambda i: client.range(f"/co/default/{i}"))
    assert [answer.kvs[0].value for answer in answers] == [
        f"value {i}".encode() for i in range(CALLS)
    ]
    assert handled(etcd_server, "Txn") > txns, "no read was coalesced"
