# Generated from test_async_stm.py by scripts/generate_sync.py: edit that file,
# then run the script. CI fails when the two differ.
"""STM transactions against a real etcd: every isolation level, conflicts and retries."""

from __future__ import annotations

import random

import pytest

import etcd
from etcd._namespace import Namespace
from etcd._stm import STM, run_stm
from etcd._stm_state import Isolation
from etcd._sync_io import Lock, join, spawn

pytestmark = pytest.mark.integration

ALL_LEVELS = list(Isolation)


@pytest.fixture
def other_client(etcd_server):
    """A second client: the 'someone else' that writes while an STM runs."""
    with etcd.Client(endpoints=[etcd_server.endpoint]) as client:
        yield client


def _int(stm: STM, key: str) -> int:
    return int(stm.get_str(key) or "0")


@pytest.mark.parametrize("level", ALL_LEVELS)
def test_each_level_reads_writes_and_deletes(etcd_client, level):
    etcd_client.put("/stm/a", "1")
    etcd_client.put("/stm/gone", "x")

    def body(stm: STM) -> None:
        assert stm.get("/stm/a") == b"1"
        assert stm.get("/stm/missing") is None
        assert stm.rev("/stm/missing") == 0
        assert stm.rev("/stm/a") > 0
        stm.put("/stm/b", b"\x00bin")
        stm.put("/stm/a", "2")
        assert stm.get_str("/stm/a") == "2"
        stm.delete("/stm/gone")
        assert stm.get("/stm/gone") is None

    response = run_stm(etcd_client, body, isolation=level)
    assert response.succeeded
    assert etcd_client.range("/stm/a").kvs[0].value == b"2"
    assert etcd_client.range("/stm/b").kvs[0].value == b"\x00bin"
    assert etcd_client.range("/stm/gone").kvs == []
    # One transaction: every write landed at the same revision.
    assert etcd_client.range("/stm/b").kvs[0].mod_revision == response.header.revision


@pytest.mark.parametrize(
    ("level", "runs"),
    [
        (Isolation.SERIALIZABLE_SNAPSHOT, 2),
        (Isolation.SERIALIZABLE, 2),
        (Isolation.REPEATABLE_READS, 2),
        (Isolation.READ_COMMITTED, 1),
    ],
)
def test_a_read_changed_by_someone_else_is_retried(etcd_client, other_client, level, runs):
    etcd_client.put("/stm/n", "0")
    calls = []

    def increment(stm: STM) -> None:
        value = _int(stm, "/stm/n")
        calls.append(value)
        if len(calls) == 1:
            other_client.put("/stm/n", "100")  # a concurrent writer, on the first run only
        stm.put("/stm/n", str(value + 1))

    run_stm(etcd_client, increment, isolation=level)
    assert len(calls) == runs
    final = etcd_client.range("/stm/n").kvs[0].value
    if level is Isolation.READ_COMMITTED:
        # No conflict detection: the concurrent write of 100 is silently lost.
        assert calls == [0] and final == b"1"
    else:
        assert calls == [0, 100] and final == b"101"


def test_read_committed_loses_an_interleaved_update(etcd_client, other_client):
    """Two increments interleaved: read committed keeps one, repeatable reads both."""
    for level, expected in [(Isolation.READ_COMMITTED, b"1"), (Isolation.REPEATABLE_READS, b"2")]:
        etcd_client.put("/stm/c", "0")
        outer_runs: list[int] = []

        def inner(stm: STM) -> None:
            stm.put("/stm/c", str(_int(stm, "/stm/c") + 1))

        def outer(stm: STM, level: Isolation = level, runs: list[int] = outer_runs) -> None:
            value = _int(stm, "/stm/c")
            runs.append(value)
            if len(runs) == 1:
                # The second STM runs, and commits, between our read and our commit.
                assert run_stm(other_client, inner, isolation=level).succeeded
            stm.put("/stm/c", str(value + 1))

        run_stm(etcd_client, outer, isolation=level)
        assert etcd_client.range("/stm/c").kvs[0].value == expected, level
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
def test_only_snapshot_detects_a_write_write_conflict(etcd_client, other_client, level, runs):
    etcd_client.put("/stm/src", "s")
    calls = []

    def copy(stm: STM) -> None:
        calls.append(stm.get("/stm/src"))
        if len(calls) == 1:
            other_client.put("/stm/dst", "theirs")
        stm.put("/stm/dst", "mine")

    run_stm(etcd_client, copy, isolation=level)
    assert len(calls) == runs
    assert etcd_client.range("/stm/dst").kvs[0].value == b"mine"


@pytest.mark.parametrize(
    ("level", "first_seen"),
    [
        (Isolation.SERIALIZABLE_SNAPSHOT, b"old"),
        (Isolation.SERIALIZABLE, b"old"),
        (Isolation.REPEATABLE_READS, b"new"),
        (Isolation.READ_COMMITTED, b"new"),
    ],
)
def test_serializable_levels_read_one_snapshot(etcd_client, other_client, level, first_seen):
    etcd_client.put("/stm/x", "1")
    etcd_client.put("/stm/y", "old")
    seen: list[bytes | None] = []

    def body(stm: STM) -> None:
        stm.get("/stm/x")
        if not seen:
            other_client.put("/stm/y", "new")
        seen.append(stm.get("/stm/y"))

    run_stm(etcd_client, body, isolation=level)
    assert seen[0] == first_seen
    # The serializable levels saw a stale y: their commit failed, the second run saw "new".
    assert seen[-1] == b"new"
    assert len(seen) == (2 if first_seen == b"old" else 1)


def test_a_deleted_read_key_is_a_conflict(etcd_client, other_client):
    etcd_client.put("/stm/d", "5")
    seen = []

    def body(stm: STM) -> None:
        seen.append(stm.get("/stm/d"))
        if len(seen) == 1:
            other_client.delete_range("/stm/d")
        stm.put("/stm/out", "x")

    run_stm(etcd_client, body, isolation=Isolation.REPEATABLE_READS)
    assert seen == [b"5", None]


def test_apply_raising_propagates_and_writes_nothing(etcd_client):
    etcd_client.put("/stm/keep", "1")
    before = etcd_client.range("/stm/keep").header.revision

    class Refused(Exception):
        pass

    def body(stm: STM) -> None:
        stm.put("/stm/keep", "2")
        stm.put("/stm/new", "x")
        raise Refused("no")

    with pytest.raises(Refused, match="no"):
        run_stm(etcd_client, body)
    got = etcd_client.range("/stm/keep")
    assert got.kvs[0].value == b"1"
    assert got.header.revision == before
    assert etcd_client.range("/stm/new").kvs == []


def test_max_retries_and_timeout_under_endless_conflicts(etcd_client, other_client):
    etcd_client.put("/stm/hot", "0")
    calls = []

    def contended(stm: STM) -> None:
        calls.append(stm.get("/stm/hot"))
        other_client.put("/stm/hot", str(len(calls)))
        stm.put("/stm/hot", "mine")

    with pytest.raises(etcd.EtcdCompareFailed, match="after 3 retries"):
        run_stm(etcd_client, contended, max_retries=3)
    assert len(calls) == 4
    with pytest.raises(etcd.EtcdTimeout, match="did not commit within"):
        run_stm(etcd_client, contended, timeout=0.2)
    assert etcd_client.range("/stm/hot").kvs[0].value != b"mine"


def test_prefetch(etcd_client):
    etcd_client.put("/stm/p1", "a")
    etcd_client.put("/stm/p2", "b")

    def body(stm: STM) -> None:
        stm.put("/stm/joined", (stm.get("/stm/p1") or b"") + (stm.get("/stm/p2") or b""))

    run_stm(etcd_client, body, prefetch=["/stm/p1", "/stm/p2", "/stm/p3"])
    assert etcd_client.range("/stm/joined").kvs[0].value == b"ab"


def test_too_many_writes_fail_before_sending(etcd_server):
    with etcd.Client(endpoints=[etcd_server.endpoint], max_txn_ops=4) as client:
        revision = client.put("/stm/start", "x").header.revision

        def body(stm: STM) -> None:
            for i in range(5):
                stm.put(f"/stm/many/{i}", "v")

        with pytest.raises(etcd.EtcdTooManyOps, match="writes 5 keys"):
            run_stm(client, body)
        assert client.range("/stm/many/", prefix=True).count == 0
        assert client.range("/stm/start").header.revision == revision
        client.delete_range(etcd.ALL_KEYS)


def test_the_server_limit_is_reported_through_a_namespace(etcd_server):
    # A Namespace has no config: the client's own check raises, with the STM's context.
    with etcd.Client(endpoints=[etcd_server.endpoint], max_txn_ops=4) as client:

        def body(stm: STM) -> None:
            for i in range(5):
                stm.put(f"k{i}", "v")

        with pytest.raises(etcd.EtcdTooManyOps, match="STM transaction cannot commit"):
            run_stm(Namespace(client, "/stm/ns/"), body)
        assert client.range("/stm/", prefix=True).count == 0


def test_stm_inside_a_namespace(etcd_client):
    ns = Namespace(etcd_client, "/stm/tenant/")
    ns.put("n", "1")

    def body(stm: STM) -> None:
        stm.put("n", str(_int(stm, "n") + 1))

    run_stm(ns, body)
    assert etcd_client.range("/stm/tenant/n").kvs[0].value == b"2"


def _bank(client: etcd.Client, level: Isolation) -> tuple[int, list[int], int]:
    accounts = [f"/bank/{i}" for i in range(5)]
    for key in accounts:
        client.put(key, "100")
    lowest: list[int] = []
    attempts = [0]
    lock = Lock()
    errors: list[BaseException] = []

    def worker(seed: int) -> None:
        rng = random.Random(seed)
        try:
            for _ in range(25):
                source, target = rng.sample(accounts, 2)
                amount = rng.randint(1, 60)

                def transfer(
                    stm: STM, source: str = source, target: str = target, amount: int = amount
                ) -> None:
                    with lock:
                        attempts[0] += 1
                    have = _int(stm, source)
                    if have < amount:
                        return  # not enough funds: commit nothing
                    stm.put(source, str(have - amount))
                    stm.put(target, str(_int(stm, target) + amount))

                run_stm(client, transfer, isolation=level, timeout=60)
                snapshot = [int(kv.value) for kv in client.range("/bank/", prefix=True).kvs]
                with lock:
                    lowest.append(min(snapshot))
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    workers = [spawn(worker, seed, name="transfers") for seed in range(8)]
    for each in workers:
        join(each, 110)
    assert not errors, errors
    balances = [int(kv.value) for kv in client.range("/bank/", prefix=True).kvs]
    return sum(balances), balances + lowest, attempts[0]


@pytest.mark.timeout(120)
@pytest.mark.parametrize("level", [Isolation.SERIALIZABLE_SNAPSHOT, Isolation.REPEATABLE_READS])
def test_bank_transfers_keep_the_total(etcd_client, level):
    total, balances, attempts = _bank(etcd_client, level)
    assert total == 500
    assert min(balances) >= 0
    assert attempts >= 8 * 25
