"""The history recorder."""

from __future__ import annotations

import itertools
import math
import threading

import pytest

from .history import CAS, FAIL, OK, READ, UNKNOWN, WRITE, History, classify_error


class FakeEtcdError(Exception):
    def __init__(self, outcome_unknown: bool) -> None:
        super().__init__("boom")
        self.outcome_unknown = outcome_unknown


class FakeTimeout(TimeoutError):
    outcome_unknown = False


def ticking_clock() -> History:
    ticks = itertools.count(1)
    return History(clock=lambda: float(next(ticks)))


def test_invoke_and_complete() -> None:
    history = ticking_clock()
    w = history.invoke("p1", WRITE, "k", "v")
    r = history.invoke("p2", READ, "k")
    history.ok(w)
    history.ok(r, "v")
    c = history.invoke("p1", CAS, "k", ("v", "w"))
    history.ok(c, True)
    ops = history.operations()
    assert [(o.process, o.kind, o.invoked, o.returned, o.outcome) for o in ops] == [
        ("p1", WRITE, 1.0, 3.0, OK),
        ("p2", READ, 2.0, 4.0, OK),
        ("p1", CAS, 5.0, 6.0, OK),
    ]
    assert ops[1].output == "v"
    assert ops[2].value == ("v", "w")
    assert ops[2].output is True
    assert len(history) == 3
    assert history.counts() == {OK: 3, FAIL: 0, UNKNOWN: 0, "pending": 0}


def test_completing_twice_or_bad_input_is_refused() -> None:
    history = History()
    w = history.invoke(1, WRITE, "k", "v")
    history.ok(w)
    with pytest.raises(RuntimeError):
        history.fail(w)
    with pytest.raises(ValueError):
        history.invoke(1, "delete", "k")
    with pytest.raises(ValueError):
        history.invoke(1, CAS, "k", "not a pair")
    c = history.invoke(1, CAS, "k", (None, "x"))
    with pytest.raises(TypeError):
        history.ok(c, "yes")


def test_unknown_returns_at_infinity() -> None:
    history = History()
    w = history.invoke(1, WRITE, "k", "v")
    history.unknown(w, "timed out")
    (op,) = history.operations()
    assert op.outcome == UNKNOWN
    assert math.isinf(op.returned)
    assert "unknown" in op.describe()


def test_pending_operations_read_back_as_unknown() -> None:
    history = History()
    history.invoke(1, WRITE, "k", "v")
    (op,) = history.operations()
    assert op.outcome == UNKNOWN
    assert math.isinf(op.returned)
    assert history.counts()["pending"] == 1


@pytest.mark.parametrize(
    ("kind", "error", "expected"),
    [
        (WRITE, FakeEtcdError(outcome_unknown=True), UNKNOWN),
        (WRITE, FakeEtcdError(outcome_unknown=False), FAIL),
        (CAS, FakeEtcdError(outcome_unknown=True), UNKNOWN),
        (CAS, FakeEtcdError(outcome_unknown=False), FAIL),
        (WRITE, FakeTimeout(), UNKNOWN),  # a timed-out write may have landed
        (WRITE, TimeoutError(), UNKNOWN),
        (WRITE, RuntimeError("no flag"), UNKNOWN),
        (READ, FakeEtcdError(outcome_unknown=True), FAIL),
        (READ, TimeoutError(), FAIL),
    ],
)
def test_classify_error(kind: str, error: BaseException, expected: str) -> None:
    assert classify_error(kind, error) == expected


def test_record_context_manager() -> None:
    history = History()
    with history.record(1, READ, "k") as op:
        op.output = "v"
    with history.record(1, CAS, "k", ("v", "w")) as op:
        op.output = False
    with history.record(1, WRITE, "k", "x", suppress=(FakeEtcdError,)):
        raise FakeEtcdError(outcome_unknown=True)
    with history.record(1, WRITE, "k", "y", suppress=(FakeEtcdError,)):
        raise FakeEtcdError(outcome_unknown=False)
    with pytest.raises(FakeEtcdError), history.record(1, READ, "k"):
        raise FakeEtcdError(outcome_unknown=True)
    with history.record(1, WRITE, "k", "z") as op:
        op.unknown("settled by hand")
    ops = history.operations()
    assert [(o.outcome, o.output) for o in ops] == [
        (OK, "v"),
        (OK, False),
        (UNKNOWN, None),
        (FAIL, None),
        (FAIL, None),
        (UNKNOWN, None),
    ]
    assert ops[2].error == "FakeEtcdError: boom"
    assert ops[5].error == "settled by hand"


def test_concurrent_recording_from_many_threads() -> None:
    history = History()
    barrier = threading.Barrier(8)

    def run(process: int) -> None:
        barrier.wait()
        for i in range(200):
            with history.record(process, WRITE, f"k{i % 3}", f"{process}-{i}"):
                pass

    threads = [threading.Thread(target=run, args=(p,)) for p in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    ops = history.operations()
    assert len(ops) == 1600
    assert sorted(o.index for o in ops) == list(range(1600))
    assert all(o.outcome == OK and o.invoked <= o.returned for o in ops)
    for process in range(8):
        mine = [o for o in ops if o.process == process]
        # One process's operations are sequential.
        assert all(a.returned <= b.invoked for a, b in itertools.pairwise(mine))
