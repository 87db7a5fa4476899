"""STM transactions against a real etcd: every isolation level, conflicts and retries."""

from __future__ import annotations

import random

import pytest

import etcd
from etcd._async.io import Lock, join, spawn
from etcd._async.namespace import AsyncNamespace
from etcd._async.stm import AsyncSTM, run_stm
from etcd._core.stm import Isolation

pytestmark = pytest.mark.integration

ALL_LEVELS = list(Isolation)


@pytest.fixture
async def other_client(etcd_server):
    """A second client: the 'someone else' that writes while an STM runs."""
    async with etcd.AsyncClient(endpoints=[etcd_server.endpoint]) as client:
        yield client


async def _int(stm: AsyncSTM, key: str) -> int:
    return int(await stm.get_str(key) or "0")


@pytest.mark.parametrize("level", ALL_LEVELS)
async def test_each_level_reads_writes_and_deletes(async_etcd_client, level):
    await async_etcd_client.put("/stm/a", "1")
    await async_etcd_client.put("/stm/gone", "x")

    async def body(stm: AsyncSTM) -> None:
        assert await stm.get("/stm/a") == b"1"
        assert await stm.get("/stm/missing") is None
        assert await stm.rev("/stm/missing") == 0
        assert await stm.rev("/stm/a") > 0
        stm.put("/stm/b", b"\x00bin")
        stm.put("/stm/a", "2")
        assert await stm.get_str("/stm/a") == "2"
        stm.delete("/stm/gone")
        assert await stm.get("/stm/gone") is None

    response = await run_stm(async_etcd_client, body, isolation=level)
    assert response.succeeded
    assert (await async_etcd_client.range("/stm/a")).kvs[0].value == b"2"
    assert (await async_etcd_client.range("/stm/b")).kvs[0].value == b"\x00bin"
    assert (await async_etcd_client.range("/stm/gone")).kvs == []
    # One transaction: every write landed at the same revision.
    assert (await async_etcd_client.range("/stm/b")).kvs[0].mod_revision == response.header.revision


@pytest.mark.parametrize(
    ("level", "runs"),
    [
        (Isolation.SERIALIZABLE_SNAPSHOT, 2),
        (Isolation.SERIALIZABLE, 2),
        (Isolation.REPEATABLE_READS, 2),
        (Isolation.READ_COMMITTED, 1),
    ],
)
async def test_a_read_changed_by_someone_else_is_retried(
    async_etcd_client, other_client, level, runs
):
    await async_etcd_client.put("/stm/n", "0")
    calls = []

    async def increment(stm: AsyncSTM) -> None:
        value = await _int(stm, "/stm/n")
        calls.append(value)
        if len(calls) == 1:
            await other_client.put("/stm/n", "100")  # a concurrent writer, on the first run only
        stm.put("/stm/n", str(value + 1))

    await run_stm(async_etcd_client, increment, isolation=level)
    assert len(calls) == runs
    final = (await async_etcd_client.range("/stm/n")).kvs[0].value
    if level is Isolation.READ_COMMITTED:
        # No conflict detection: the concurrent write of 100 is silently lost.
        assert calls == [0] and final == b"1"
    else:
        assert calls == [0, 100] and final == b"101"


async def test_read_committed_loses_an_interleaved_update(async_etcd_client, other_client):
    """Two increments interleaved: read committed keeps one, repeatable reads both."""
    for level, expected in [(Isolation.READ_COMMITTED, b"1"), (Isolation.REPEATABLE_READS, b"2")]:
        await async_etcd_client.put("/stm/c", "0")
        outer_runs: list[int] = []

        async def inner(stm: AsyncSTM) -> None:
            stm.put("/stm/c", str(await _int(stm, "/stm/c") + 1))

        async def outer(
            stm: AsyncSTM, level: Isolation = level, runs: list[int] = outer_runs
        ) -> None:
            value = await _int(stm, "/stm/c")
            runs.append(value)
            if len(runs) == 1:
                # The second STM runs, and commits, between our read and our commit.
                assert (await run_stm(other_client, inner, isolation=level)).succeeded
            stm.put("/stm/c", str(value + 1))

        await run_stm(async_etcd_client, outer, isolation=level)
        assert (await async_etcd_client.range("/stm/c")).kvs[0].value == expected, level
        assert len(outer_runs) == (1 if level is Isolation.READ_COMMITTED else 2)


@pytest.mark.parametrize(
    ("level", "runs"),
    [
        (Isolation.SERIALIZABLE_SNAPSHOT, 2),
        (Isolation.SERIALIZABLE, 1),
        (Isolation.REPEATABLE_READS, 1),
        (Isolation.READ_COMMITTED, 1),
    ],
)
async def test_only_snapshot_detects_a_write_write_conflict(
    async_etcd_client, other_client, level, runs
):
    await async_etcd_client.put("/stm/src", "s")
    calls = []

    async def copy(stm: AsyncSTM) -> None:
        calls.append(await stm.get("/stm/src"))
        if len(calls) == 1:
            await other_client.put("/stm/dst", "theirs")
        stm.put("/stm/dst", "mine")

    await run_stm(async_etcd_client, copy, isolation=level)
    assert len(calls) == runs
    assert (await async_etcd_client.range("/stm/dst")).kvs[0].value == b"mine"


@pytest.mark.parametrize(
    ("level", "first_seen"),
    [
        (Isolation.SERIALIZABLE_SNAPSHOT, b"old"),
        (Isolation.SERIALIZABLE, b"old"),
        (Isolation.REPEATABLE_READS, b"new"),
        (Isolation.READ_COMMITTED, b"new"),
    ],
)
async def test_serializable_levels_read_one_snapshot(
    async_etcd_client, other_client, level, first_seen
):
    await async_etcd_client.put("/stm/x", "1")
    await async_etcd_client.put("/stm/y", "old")
    seen: list[bytes | None] = []

    async def body(stm: AsyncSTM) -> None:
        await stm.get("/stm/x")
        if not seen:
            await other_client.put("/stm/y", "new")
        seen.append(await stm.get("/stm/y"))

    await run_stm(async_etcd_client, body, isolation=level)
    assert seen[0] == first_seen
    # The serializable levels saw a stale y: their commit failed, the second run saw "new".
    assert seen[-1] == b"new"
    assert len(seen) == (2 if first_seen == b"old" else 1)


async def test_a_deleted_read_key_is_a_conflict(async_etcd_client, other_client):
    await async_etcd_client.put("/stm/d", "5")
    seen = []

    async def body(stm: AsyncSTM) -> None:
        seen.append(await stm.get("/stm/d"))
        if len(seen) == 1:
            await other_client.delete_range("/stm/d")
        stm.put("/stm/out", "x")

    await run_stm(async_etcd_client, body, isolation=Isolation.REPEATABLE_READS)
    assert seen == [b"5", None]


async def test_apply_raising_propagates_and_writes_nothing(async_etcd_client):
    await async_etcd_client.put("/stm/keep", "1")
    before = (await async_etcd_client.range("/stm/keep")).header.revision

    class Refused(Exception):
        pass

    async def body(stm: AsyncSTM) -> None:
        stm.put("/stm/keep", "2")
        stm.put("/stm/new", "x")
        raise Refused("no")

    with pytest.raises(Refused, match="no"):
        await run_stm(async_etcd_client, body)
    got = await async_etcd_client.range("/stm/keep")
    assert got.kvs[0].value == b"1"
    assert got.header.revision == before
    assert (await async_etcd_client.range("/stm/new")).kvs == []


async def test_max_retries_and_timeout_under_endless_conflicts(async_etcd_client, other_client):
    await async_etcd_client.put("/stm/hot", "0")
    calls = []

    async def contended(stm: AsyncSTM) -> None:
        calls.append(await stm.get("/stm/hot"))
        await other_client.put("/stm/hot", str(len(calls)))
        stm.put("/stm/hot", "mine")

    with pytest.raises(etcd.EtcdCompareFailed, match="after 3 retries"):
        await run_stm(async_etcd_client, contended, max_retries=3)
    assert len(calls) == 4
    with pytest.raises(etcd.EtcdTimeout, match="did not commit within"):
        await run_stm(async_etcd_client, contended, timeout=0.2)
    assert (await async_etcd_client.range("/stm/hot")).kvs[0].value != b"mine"


async def test_prefetch(async_etcd_client):
    await async_etcd_client.put("/stm/p1", "a")
    await async_etcd_client.put("/stm/p2", "b")

    async def body(stm: AsyncSTM) -> None:
        stm.put(
            "/stm/joined", (await stm.get("/stm/p1") or b"") + (await stm.get("/stm/p2") or b"")
        )

    await run_stm(async_etcd_client, body, prefetch=["/stm/p1", "/stm/p2", "/stm/p3"])
    assert (await async_etcd_client.range("/stm/joined")).kvs[0].value == b"ab"


async def test_too_many_writes_fail_before_sending(etcd_server):
    async with etcd.AsyncClient(endpoints=[etcd_server.endpoint], max_txn_ops=4) as client:
        revision = (await client.put("/stm/start", "x")).header.revision

        async def body(stm: AsyncSTM) -> None:
            for i in range(5):
                stm.put(f"/stm/many/{i}", "v")

        with pytest.raises(etcd.EtcdTooManyOps, match="writes 5 keys"):
            await run_stm(client, body)
        assert (await client.range("/stm/many/", prefix=True)).count == 0
        assert (await client.range("/stm/start")).header.revision == revision
        await client.delete_range(etcd.ALL_KEYS)


async def test_the_server_limit_is_reported_through_a_namespace(etcd_server):
    # A Namespace has no config: the client's own check raises, with the STM's context.
    async with etcd.AsyncClient(endpoints=[etcd_server.endpoint], max_txn_ops=4) as client:

        async def body(stm: AsyncSTM) -> None:
            for i in range(5):
                stm.put(f"k{i}", "v")

        with pytest.raises(etcd.EtcdTooManyOps, match="STM transaction cannot commit"):
            await run_stm(AsyncNamespace(client, "/stm/ns/"), body)
        assert (await client.range("/stm/", prefix=True)).count == 0


async def test_stm_inside_a_namespace(async_etcd_client):
    ns = AsyncNamespace(async_etcd_client, "/stm/tenant/")
    await ns.put("n", "1")

    async def body(stm: AsyncSTM) -> None:
        stm.put("n", str(await _int(stm, "n") + 1))

    await run_stm(ns, body)
    assert (await async_etcd_client.range("/stm/tenant/n")).kvs[0].value == b"2"


async def _bank(client: etcd.AsyncClient, level: Isolation) -> tuple[int, list[int], int]:
    accounts = [f"/bank/{i}" for i in range(5)]
    for key in accounts:
        await client.put(key, "100")
    lowest: list[int] = []
    attempts = [0]
    lock = Lock()
    errors: list[BaseException] = []

    async def worker(seed: int) -> None:
        rng = random.Random(seed)
        try:
            for _ in range(25):
                source, target = rng.sample(accounts, 2)
                amount = rng.randint(1, 60)

                async def transfer(
                    stm: AsyncSTM, source: str = source, target: str = target, amount: int = amount
                ) -> None:
                    with lock:
                        attempts[0] += 1
                    have = await _int(stm, source)
                    if have < amount:
                        return  # not enough funds: commit nothing
                    stm.put(source, str(have - amount))
                    stm.put(target, str(await _int(stm, target) + amount))

                await run_stm(client, transfer, isolation=level, timeout=60)
                snapshot = [int(kv.value) for kv in (await client.range("/bank/", prefix=True)).kvs]
                with lock:
                    lowest.append(min(snapshot))
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    workers = [spawn(worker, seed, name="transfers") for seed in range(8)]
    for each in workers:
        await join(each, 110)
    assert not errors, errors
    balances = [int(kv.value) for kv in (await client.range("/bank/", prefix=True)).kvs]
    return sum(balances), balances + lowest, attempts[0]


@pytest.mark.timeout(120)
@pytest.mark.parametrize("level", [Isolation.SERIALIZABLE_SNAPSHOT, Isolation.REPEATABLE_READS])
async def test_bank_transfers_keep_the_total(async_etcd_client, level):
    total, balances, attempts = await _bank(async_etcd_client, level)
    assert total == 500
    assert min(balances) >= 0
    assert attempts >= 8 * 25
