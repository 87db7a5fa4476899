"""STM bookkeeping and the retry loop, without a server (an in-memory store stands in)."""

from __future__ import annotations

from collections.abc import Iterable

import pytest

import etcd
from etcd import Compare, Op, Txn
from etcd._core.compare import CompareResult, CompareTarget
from etcd._core.keys import KeyArg
from etcd._core.kv import DeleteRangeOp, PutOp
from etcd._core.responses import KeyValue, RangeResponse, ResponseHeader, TxnResponse
from etcd._core.stm import Isolation, STMState
from etcd._sync.stm import STM, run_stm


def _header(revision: int) -> ResponseHeader:
    return ResponseHeader(1, 1, revision, 1)


def _kv(key: bytes, value: bytes, mod: int) -> KeyValue:
    return KeyValue(key, value, mod, mod, 1, 0)


def _range(revision: int, kv: KeyValue | None = None) -> RangeResponse:
    return RangeResponse(_header(revision), [kv] if kv else [], False, 1 if kv else 0)


class FakeStore:
    """A tiny multi-version store: enough of range/txn for the STM (single keys only)."""

    def __init__(self) -> None:
        self.revision = 1
        self.history: dict[int, dict[bytes, KeyValue]] = {1: {}}
        self.txns: list[Txn] = []
        self.ranges: list[tuple[bytes, int, bool]] = []

    @property
    def current(self) -> dict[bytes, KeyValue]:
        return self.history[self.revision]

    def write(self, key: str | bytes, value: str | bytes | None) -> None:
        ops = [Op.delete_range(key) if value is None else Op.put(key, value)]
        self._apply(ops)

    def _apply(self, ops) -> None:
        data = dict(self.current)
        revision = self.revision + 1
        for op in ops:
            if isinstance(op, PutOp):
                old = data.get(op.key)
                data[op.key] = KeyValue(
                    op.key,
                    op.value,
                    old.create_revision if old else revision,
                    revision,
                    old.version + 1 if old else 1,
                    op.lease,
                )
            elif isinstance(op, DeleteRangeOp):
                data.pop(op.key, None)
        self.revision = revision
        self.history[revision] = data

    def range(
        self,
        key: KeyArg,
        range_end: str | bytes | None = None,
        *,
        revision: int = 0,
        serializable: bool = False,
    ) -> RangeResponse:
        assert isinstance(key, (str, bytes))
        raw = key if isinstance(key, bytes) else key.encode()
        self.ranges.append((raw, revision, serializable))
        kv = self.history[revision or self.revision].get(raw)
        return _range(self.revision, kv)

    def _holds(self, compare: Compare) -> bool:
        assert compare.target is CompareTarget.MOD and not compare.range_end
        kv = self.current.get(compare.key)
        mod = kv.mod_revision if kv else 0
        if compare.result is CompareResult.EQUAL:
            return mod == compare.operand
        assert compare.result is CompareResult.LESS
        return mod < compare.operand

    def txn(
        self,
        compare: Txn | Iterable[Compare] = (),
        success: Iterable[Op] = (),
        failure: Iterable[Op] = (),
    ) -> TxnResponse:
        assert isinstance(compare, Txn)
        self.txns.append(compare)
        ok = all(self._holds(c) for c in compare.compare)
        branch = compare.success if ok else compare.failure
        reads = [op for op in branch if isinstance(op, etcd.RangeOp)]
        if reads:
            return TxnResponse(
                _header(self.revision),
                ok,
                [_range(self.revision, self.current.get(op.key)) for op in reads],
            )
        if branch:
            self._apply(branch)
        return TxnResponse(_header(self.revision), ok, [])

    def value(self, key: bytes) -> bytes | None:
        kv = self.current.get(key)
        return kv.value if kv else None


# --- STMState ---------------------------------------------------------------------------------


def test_lookup_prefers_own_writes_then_reads():
    state = STMState()
    assert state.lookup(b"a") == (False, None)
    op = state.read_op(b"a")
    state.record_read(b"a", _range(7, _kv(b"a", b"1", 5)), op)
    assert state.lookup(b"a") == (True, b"1")
    state.put(b"a", b"2")
    assert state.lookup(b"a") == (True, b"2")
    state.delete(b"a")
    assert state.lookup(b"a") == (True, None)
    # A missing key read is known to be missing.
    state.record_read(b"m", _range(7), state.read_op(b"m"))
    assert state.lookup(b"m") == (True, None)
    assert state.reads[b"m"].mod_revision == 0


@pytest.mark.parametrize("level", [Isolation.SERIALIZABLE_SNAPSHOT, Isolation.SERIALIZABLE])
def test_serializable_levels_pin_the_first_read(level):
    state = STMState(level)
    first = state.read_op(b"a")
    assert (first.revision, first.serializable) == (0, False)
    state.record_read(b"a", _range(10, _kv(b"a", b"1", 3)), first)
    assert state.snapshot_revision == 10
    second = state.read_op(b"b")
    assert (second.revision, second.serializable) == (10, True)
    # A pinned read is recorded at the pinned revision, whatever the header says.
    state.record_read(b"b", _range(12), second)
    assert state.reads[b"b"].revision == 10


@pytest.mark.parametrize("level", [Isolation.REPEATABLE_READS, Isolation.READ_COMMITTED])
def test_other_levels_read_the_latest(level):
    state = STMState(level)
    state.record_read(b"a", _range(10), state.read_op(b"a"))
    assert state.snapshot_revision == 0
    op = state.read_op(b"b")
    assert (op.revision, op.serializable) == (0, False)


def _filled(level: Isolation) -> STMState:
    state = STMState(level)
    state.record_read(b"a", _range(10, _kv(b"a", b"1", 4)), state.read_op(b"a"))
    state.record_read(b"gone", _range(10), state.read_op(b"gone"))
    state.put(b"w", b"x", lease=7)
    state.delete(b"d")
    return state


def test_snapshot_compares_reads_and_writes():
    txn = _filled(Isolation.SERIALIZABLE_SNAPSHOT).commit_txn()
    assert txn.compare == (
        Compare.mod_revision(b"a", "==", 4),
        Compare.mod_revision(b"gone", "==", 0),
        Compare.mod_revision(b"w", "<", 11),
        Compare.mod_revision(b"d", "<", 11),
    )
    assert txn.success == (Op.put(b"w", b"x", lease=7), Op.delete_range(b"d"))
    assert txn.failure == ()


@pytest.mark.parametrize("level", [Isolation.SERIALIZABLE, Isolation.REPEATABLE_READS])
def test_serializable_and_repeatable_compare_reads_only(level):
    txn = _filled(level).commit_txn()
    assert txn.compare == (
        Compare.mod_revision(b"a", "==", 4),
        Compare.mod_revision(b"gone", "==", 0),
    )
    assert len(txn.success) == 2


def test_read_committed_compares_nothing():
    txn = _filled(Isolation.READ_COMMITTED).commit_txn()
    assert txn.compare == ()
    assert len(txn.success) == 2


def test_snapshot_without_reads_checks_no_writes():
    state = STMState()
    state.put(b"w", b"1")
    assert state.commit_txn().compare == ()


def test_last_write_of_a_key_wins():
    state = STMState()
    state.put(b"k", b"1")
    state.delete(b"k")
    state.put(b"j", b"2")
    state.put(b"k", b"3")
    assert state.commit_txn().success == (Op.put(b"j", b"2"), Op.put(b"k", b"3"))


def test_too_many_writes_is_refused_before_sending():
    state = STMState()
    for i in range(5):
        state.put(f"k{i}".encode(), b"v")
    with pytest.raises(etcd.EtcdTooManyOps, match="writes 5 keys"):
        state.commit_txn(4)
    assert len(state.commit_txn(5).success) == 5
    assert len(state.commit_txn(None).success) == 5


def test_too_many_compares_is_refused_before_sending():
    state = STMState(Isolation.REPEATABLE_READS)
    for i in range(3):
        key = f"k{i}".encode()
        state.record_read(key, _range(3), state.read_op(key))
    with pytest.raises(etcd.EtcdTooManyOps, match="3 compares"):
        state.commit_txn(2)


def test_prefetch_reads_at_one_revision_and_pins():
    state = STMState()
    keys = (b"a", b"b")
    txn = state.prefetch_txn(keys)
    assert txn.success == (Op.range(b"a"), Op.range(b"b"))
    response = TxnResponse(_header(20), True, [_range(20, _kv(b"a", b"1", 2)), _range(20)])
    state.record_prefetch(keys, response)
    assert state.snapshot_revision == 20
    assert state.lookup(b"a") == (True, b"1")
    assert state.lookup(b"b") == (True, None)


def test_reset_forgets_everything():
    state = _filled(Isolation.SERIALIZABLE)
    state.reset()
    assert (state.reads, state.writes, state.snapshot_revision) == ({}, {}, 0)


# --- the runner, on the in-memory store -------------------------------------------------------


def test_run_commits_and_returns_the_txn_response():
    store = FakeStore()
    store.write("n", "1")

    def increment(stm: STM) -> None:
        stm.put("n", str(int(stm.get_str("n") or "0") + 1))

    response = run_stm(store, increment)
    assert response.succeeded
    assert store.value(b"n") == b"2"


def test_get_is_buffered_and_sees_own_writes():
    store = FakeStore()
    store.write("a", "1")
    seen: list[object] = []

    def body(stm: STM) -> None:
        seen.append(stm.get("a"))
        seen.append(stm.get("a"))
        stm.put("a", b"2")
        seen.append(stm.get("a"))
        stm.delete("a")
        seen.append(stm.get("a"))
        seen.append(stm.get("missing"))
        seen.append(stm.rev("a"))
        seen.append(stm.rev("missing"))

    run_stm(store, body, isolation="repeatable_reads")
    assert seen == [b"1", b"1", b"2", None, None, 2, 0]
    assert [key for key, _, _ in store.ranges] == [b"a", b"missing"]
    assert store.value(b"a") is None


@pytest.mark.parametrize(
    ("level", "calls"),
    [
        (Isolation.SERIALIZABLE_SNAPSHOT, 2),
        (Isolation.SERIALIZABLE, 2),
        (Isolation.REPEATABLE_READS, 2),
        (Isolation.READ_COMMITTED, 1),
    ],
)
def test_a_conflicting_read_is_retried(level, calls):
    store = FakeStore()
    store.write("n", "0")
    runs = []

    def increment(stm: STM) -> None:
        value = int(stm.get_str("n") or "0")
        runs.append(value)
        if len(runs) == 1:
            store.write("n", "10")  # someone else, meanwhile
        stm.put("n", str(value + 1))

    run_stm(store, increment, isolation=level)
    assert len(runs) == calls
    assert store.value(b"n") == (b"11" if calls == 2 else b"1")


@pytest.mark.parametrize(
    ("level", "calls"),
    [
        (Isolation.SERIALIZABLE_SNAPSHOT, 2),
        (Isolation.SERIALIZABLE, 1),
        (Isolation.REPEATABLE_READS, 1),
    ],
)
def test_only_snapshot_detects_write_conflicts(level, calls):
    store = FakeStore()
    store.write("src", "x")
    runs = []

    def copy(stm: STM) -> None:
        runs.append(stm.get("src"))
        if len(runs) == 1:
            store.write("dst", "theirs")
        stm.put("dst", stm.get("src") or b"")

    run_stm(store, copy, isolation=level)
    assert len(runs) == calls


def test_a_deleted_read_key_is_a_conflict():
    store = FakeStore()
    store.write("n", "5")
    runs = []

    def body(stm: STM) -> None:
        runs.append(stm.get("n"))
        if len(runs) == 1:
            store.write("n", None)
        stm.put("out", "x")

    run_stm(store, body, isolation=Isolation.REPEATABLE_READS)
    assert runs == [b"5", None]


def test_serializable_reads_stay_at_the_snapshot():
    store = FakeStore()
    store.write("a", "1")
    store.write("b", "1")
    seen: list[tuple[bytes | None, bytes | None]] = []

    def body(stm: STM) -> None:
        a = stm.get("a")
        if not seen:
            store.write("b", "2")
        seen.append((a, stm.get("b")))

    run_stm(store, body, isolation=Isolation.SERIALIZABLE)
    # The first run saw b as of its snapshot; b changed, so it ran again.
    assert seen == [(b"1", b"1"), (b"1", b"2")]
    assert store.ranges[1] == (b"b", 3, True)


def test_apply_errors_propagate_and_nothing_is_written():
    store = FakeStore()

    def body(stm: STM) -> None:
        stm.put("k", "v")
        raise KeyError("mine")

    with pytest.raises(KeyError, match="mine"):
        run_stm(store, body)
    assert store.txns == []


def test_max_retries_gives_up():
    store = FakeStore()
    store.write("n", "0")
    runs = []

    def always_conflicts(stm: STM) -> None:
        runs.append(stm.get("n"))
        store.write("n", str(len(runs)))
        stm.put("n", "mine")

    with pytest.raises(etcd.EtcdCompareFailed, match="after 2 retries"):
        run_stm(store, always_conflicts, max_retries=2)
    assert len(runs) == 3
    assert store.value(b"n") == b"3"


def test_deadline_gives_up_with_a_timeout():
    store = FakeStore()
    store.write("n", "0")

    def always_conflicts(stm: STM) -> None:
        stm.get("n")
        store.write("n", "x")

    with pytest.raises(etcd.EtcdTimeout, match=r"did not commit within 0\.05 s"):
        run_stm(store, always_conflicts, timeout=0.05)


def test_prefetch_is_one_request_before_apply():
    store = FakeStore()
    store.write("a", "1")
    seen = []

    def body(stm: STM) -> None:
        seen.append((stm.get("a"), stm.get("b")))

    run_stm(store, body, prefetch=["a", b"b", "a"])
    assert seen == [(b"1", None)]
    assert store.ranges == []
    assert len(store.txns[0].success) == 2


def test_the_handle_dies_with_its_attempt():
    store = FakeStore()
    kept: list[STM] = []
    run_stm(store, kept.append)
    with pytest.raises(etcd.EtcdValueError, match="finished attempt"):
        kept[0].get("a")
    assert "finished" in repr(kept[0])


def test_write_set_over_the_client_limit_is_refused():
    class Limited(FakeStore):
        class config:  # stands for ClientConfig
            max_txn_ops = 3

    store = Limited()

    def body(stm: STM) -> None:
        for i in range(4):
            stm.put(f"k{i}", "v")

    with pytest.raises(etcd.EtcdTooManyOps, match="at most 3"):
        run_stm(store, body)
    assert store.txns == []


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"isolation": "linearizable"}, etcd.EtcdValueError),
        ({"timeout": 0}, etcd.EtcdValueError),
        ({"max_retries": -1}, etcd.EtcdValueError),
        ({"max_retries": 1.5}, etcd.EtcdTypeError),
        ({"prefetch": "a"}, etcd.EtcdTypeError),
        ({"prefetch": [""]}, etcd.EtcdValueError),
    ],
)
def test_bad_arguments(kwargs, error):
    with pytest.raises(error):
        run_stm(FakeStore(), lambda stm: None, **kwargs)


def test_bad_keys_and_values_in_the_body():
    def body(stm: STM) -> None:
        stm.put("k", 3)  # type: ignore[arg-type]

    with pytest.raises(etcd.EtcdTypeError, match="value must be str or bytes"):
        run_stm(FakeStore(), body)
    with pytest.raises(etcd.EtcdTypeError):
        run_stm(FakeStore(), 42)  # type: ignore[arg-type]
