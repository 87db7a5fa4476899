"""The register linearizability checker: hand-made histories, then random ones."""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

import pytest

from .history import CAS, FAIL, OK, READ, UNKNOWN, WRITE, Operation, Outcome
from .linearizability import check_history, check_key

_index = itertools.count()


def op(
    process: Any,
    kind: str,
    value: Any,
    start: float,
    end: float,
    output: Any = None,
    outcome: Outcome = "ok",
    key: Hashable = "k",
) -> Operation:
    if outcome == UNKNOWN:
        end = math.inf
    return Operation(
        next(_index),
        process,
        kind,
        key,
        value,
        start,
        end,
        outcome,
        output,
    )


def read(
    p: Any, start: float, end: float, output: Any, key: Hashable = "k", **kw: Any
) -> Operation:
    return op(p, READ, None, start, end, output, key=key, **kw)


def write(
    p: Any, value: Any, start: float, end: float, key: Hashable = "k", **kw: Any
) -> Operation:
    return op(p, WRITE, value, start, end, key=key, **kw)


def cas(
    p: Any, expected: Any, new: Any, start: float, end: float, output: Any = True, **kw: Any
) -> Operation:
    return op(p, CAS, (expected, new), start, end, output, **kw)


def assert_ok(ops: list[Operation]) -> None:
    result = check_history(ops)
    assert result.ok, result.summary()


def assert_illegal(ops: list[Operation]) -> str:
    result = check_history(ops)
    assert result.verdict == "illegal", result.summary()
    assert result.counterexample
    return result.counterexample


# --- known-good histories --------------------------------------------------------------


def test_empty_history_is_linearizable() -> None:
    result = check_history([])
    assert result.ok
    assert result.keys == {}


def test_sequential_history() -> None:
    assert_ok(
        [
            read(1, 0, 1, None),
            write(1, "a", 2, 3),
            read(2, 4, 5, "a"),
            write(2, "b", 6, 7),
            read(1, 8, 9, "b"),
        ]
    )


def test_concurrent_writes_reads_may_see_either() -> None:
    writes = [write(1, "a", 0, 10), write(2, "b", 1, 11)]
    for seen in ("a", "b"):
        assert_ok([*writes, read(3, 12, 13, seen)])
    # A read overlapping both may also see neither (the initial state).
    assert_ok([*writes, read(3, 0.5, 0.6, None)])
    # Two reads after both writes must agree.
    assert_illegal([*writes, read(3, 12, 13, "a"), read(4, 14, 15, "b")])


def test_reads_during_a_write_see_old_then_new_but_not_back() -> None:
    base = [write(1, "a", 0, 1), write(1, "b", 2, 10)]
    assert_ok([*base, read(2, 3, 4, "a"), read(2, 5, 6, "b")])
    assert_illegal([*base, read(2, 3, 4, "b"), read(2, 5, 6, "a")])


def test_cas_chain() -> None:
    assert_ok(
        [
            write(1, "0", 0, 1),
            cas(1, "0", "1", 2, 3, True),
            cas(2, "1", "2", 4, 5, True),
            cas(3, "1", "3", 6, 7, False),
            cas(3, None, "4", 6, 7, False),
            read(1, 8, 9, "2"),
        ]
    )


def test_concurrent_cas_only_one_wins() -> None:
    base = [write(1, "0", 0, 1)]
    assert_ok([*base, cas(2, "0", "x", 2, 5, True), cas(3, "0", "y", 2, 5, False)])
    assert_ok([*base, cas(2, "0", "x", 2, 5, False), cas(3, "0", "y", 2, 5, True)])


def test_cas_on_an_absent_key() -> None:
    assert_ok([cas(1, None, "a", 0, 1, True), read(1, 2, 3, "a")])


def test_unknown_write_that_happened() -> None:
    assert_ok([write(1, "a", 0, 1, outcome=UNKNOWN), read(2, 5, 6, "a"), read(2, 7, 8, "a")])


def test_unknown_write_that_did_not_happen() -> None:
    assert_ok([write(1, "a", 0, 1, outcome=UNKNOWN), read(2, 5, 6, None)])


def test_unknown_write_may_take_effect_late() -> None:
    assert_ok(
        [
            write(1, "a", 0, 1, outcome=UNKNOWN),
            read(2, 5, 6, None),
            write(2, "b", 7, 8),
            read(2, 9, 10, "a"),  # it landed after b
        ]
    )


def test_unknown_cas_that_happened_or_not() -> None:
    base = [write(1, "a", 0, 1), cas(1, "a", "b", 2, 3, outcome=UNKNOWN)]
    assert_ok([*base, read(2, 4, 5, "b")])
    assert_ok([*base, read(2, 4, 5, "a")])
    # An unknown cas that happened must have seen its expected value.
    assert_illegal(
        [write(1, "z", 0, 1), cas(1, "a", "b", 2, 3, outcome=UNKNOWN), read(2, 4, 5, "b")]
    )


def test_unknown_write_helps_explain_a_failed_cas() -> None:
    assert_ok(
        [
            write(1, "a", 0, 1),
            write(2, "x", 2, 3, outcome=UNKNOWN),
            cas(3, "a", "b", 4, 5, False),  # only possible if x landed
        ]
    )


def test_failed_operations_are_ignored() -> None:
    assert_ok(
        [
            write(1, "a", 0, 1),
            write(2, "zzz", 2, 3, outcome=FAIL),
            read(3, 1.5, 9, "nonsense", outcome=FAIL),
            read(1, 4, 5, "a"),
        ]
    )


def test_operations_touching_at_one_instant_count_as_concurrent() -> None:
    assert_ok([write(1, "a", 0, 1), read(2, 1, 2, None)])


def test_linearization_is_returned_in_a_valid_order() -> None:
    ops = [write(1, "a", 0, 3), read(2, 1, 2, "a"), write(3, "b", 4, 5)]
    result = check_key("k", ops)
    assert result.ok
    assert result.linearization is not None
    assert [o.index for o in result.linearization] == [o.index for o in ops]


# --- known-bad histories ---------------------------------------------------------------


def test_stale_read_after_a_completed_write() -> None:
    text = assert_illegal([write(1, "a", 0, 1), write(1, "b", 2, 3), read(2, 4, 5, "a")])
    assert "read('k') -> 'a'" in text


def test_read_of_a_value_never_written() -> None:
    assert_illegal([write(1, "a", 0, 1), read(2, 2, 3, "ghost")])


def test_read_of_a_definitely_failed_write() -> None:
    assert_illegal([write(1, "a", 0, 1, outcome=FAIL), read(2, 2, 3, "a")])


def test_two_successful_cas_from_the_same_value() -> None:
    assert_illegal(
        [write(1, "0", 0, 1), cas(2, "0", "x", 2, 5, True), cas(3, "0", "y", 2, 5, True)]
    )
    # ... unless a write of the expected value came between them.
    assert_ok(
        [
            write(1, "0", 0, 1),
            cas(2, "0", "x", 2, 3, True),
            write(1, "0", 4, 5),
            cas(3, "0", "y", 6, 7, True),
        ]
    )


def test_lost_acknowledged_write() -> None:
    assert_illegal([write(1, "a", 0, 1), read(2, 2, 3, None)])
    assert_illegal([write(1, "a", 0, 1), write(2, "b", 2, 3), read(3, 4, 5, "a")])


def test_failed_cas_that_must_have_succeeded() -> None:
    assert_illegal([write(1, "a", 0, 1), cas(2, "a", "b", 2, 3, False)])


def test_unknown_write_cannot_act_before_it_was_invoked() -> None:
    assert_illegal([read(1, 0, 1, "x"), write(2, "x", 2, 3, outcome=UNKNOWN)])


def test_only_the_bad_key_is_reported() -> None:
    ops = [
        write(1, "a", 0, 1, key="good"),
        read(2, 2, 3, "a", key="good"),
        write(1, "a", 0, 1, key="bad"),
        read(2, 2, 3, "b", key="bad"),
    ]
    result = check_history(ops)
    assert result.verdict == "illegal"
    assert result.failed_key == "bad"
    assert result.keys["good"].ok
    assert "'bad'" in (result.counterexample or "")


def test_a_tiny_budget_is_undecided_not_wrong() -> None:
    ops = [write(p, f"v{p}", 0, 10) for p in range(8)] + [read(9, 11, 12, "v3")]
    result = check_history(ops, max_steps=3)
    assert result.verdict == "undecided"
    assert result.undecided
    assert not result.ok
    assert check_history(ops).ok


# --- random histories --------------------------------------------------------------------


@dataclass
class _Planned:
    op: Operation
    point: float | None  # when it takes effect; None: never


def simulate(
    rng: random.Random,
    *,
    processes: int = 4,
    per_process: int = 40,
    keys: tuple[str, ...] = ("k",),
    p_unknown: float = 0.1,
    p_fail: float = 0.05,
) -> list[Operation]:
    """Concurrent processes on a real sequential register, with random timing: every
    operation takes effect at one random instant inside its interval (an unknown one at
    any instant after its call, or never), and results are computed by running the
    register in that order."""
    planned: list[_Planned] = []
    written: dict[str, list[Any]] = {key: [None] for key in keys}
    for p in range(processes):
        now = rng.uniform(0, 1)
        for j in range(per_process):
            key = rng.choice(keys)
            kind = rng.choice((READ, WRITE, CAS))
            invoked = now + rng.uniform(0, 0.5)
            point = invoked + rng.uniform(0, 2)
            returned = point + rng.uniform(0, 2)
            now = returned
            value: Any = None
            if kind == WRITE:
                value = f"p{p}-{j}"
            elif kind == CAS:
                history = written[key]
                expected = history[-1] if rng.random() < 0.5 else rng.choice(history)
                value = (expected, f"p{p}-{j}")
            if kind != READ:
                written[key].append(value if kind == WRITE else value[1])
            outcome: Outcome = "ok"
            effect: float | None = point
            if kind != READ and rng.random() < p_unknown:
                outcome = UNKNOWN
                returned = math.inf
                effect = invoked + rng.uniform(0, 6) if rng.random() < 0.5 else None
            elif rng.random() < p_fail:
                outcome = FAIL
                effect = None
            operation = Operation(
                next(_index),
                p,
                kind,
                key,
                value,
                invoked,
                returned,
                outcome,
            )
            planned.append(_Planned(operation, effect))
    state: dict[str, Any] = dict.fromkeys(keys)
    for item in sorted((x for x in planned if x.point is not None), key=lambda x: x.point or 0):
        o = item.op
        if o.kind == READ:
            o.output = state[o.key]
        elif o.kind == WRITE:
            state[o.key] = o.value
        else:
            expected, new = o.value
            o.output = state[o.key] == expected
            if o.output:
                state[o.key] = new
    for item in planned:
        if item.op.outcome == OK and item.op.kind == CAS:
            assert isinstance(item.op.output, bool)
    return [item.op for item in planned]


@pytest.mark.parametrize("seed", range(40))
def test_random_histories_of_a_real_register_are_linearizable(seed: int) -> None:
    rng = random.Random(seed)
    ops = simulate(rng, processes=rng.randint(2, 6), keys=("a", "b"))
    result = check_history(ops)
    assert result.ok, result.summary()


def _first_half_read_with_a_future_write(ops: list[Operation]) -> tuple[Operation, Any] | None:
    reads = [o for o in ops if o.kind == READ and o.outcome == OK]
    for r in sorted(reads, key=lambda o: o.returned):
        for w in ops:
            if (
                w.key == r.key
                and w.kind == WRITE
                and w.outcome == OK
                and w.invoked > r.returned
                and w.value != r.output
            ):
                return r, w.value
    return None


@pytest.mark.parametrize("seed", range(40))
def test_mutated_random_histories_are_rejected(seed: int) -> None:
    rng = random.Random(1000 + seed)
    ops = simulate(rng, processes=rng.randint(2, 5), keys=("a", "b"))
    assert check_history(ops).ok
    mutation = seed % 3
    if mutation == 0:
        # A read of a value that was written only after the read returned.
        found = _first_half_read_with_a_future_write(ops)
        assert found is not None
        target, value = found
        target.output = value
    elif mutation == 1:
        # A read of a value nobody wrote.
        target = rng.choice([o for o in ops if o.kind == READ and o.outcome == OK])
        target.output = "never-written"
    else:
        # A lost acknowledged write: a read after everything returns a value that a later
        # acknowledged write (started after it returned) overwrote for good.
        end = max(o.returned for o in ops if o.outcome != UNKNOWN) + 1
        writes = [o for o in ops if o.kind == WRITE and o.outcome == OK]
        lost = next(
            w
            for w in writes
            if any(x.key == w.key and x.invoked > w.returned and x.value != w.value for x in writes)
        )
        target = read("final", end, end + 1, lost.value, key=lost.key)
        ops.append(target)
    result = check_history(ops)
    assert result.verdict == "illegal", f"mutation {mutation} of {target.describe()} accepted"
    assert result.failed_key == target.key


def test_thousands_of_operations_per_key_are_checked_quickly() -> None:
    rng = random.Random(7)
    ops = simulate(rng, processes=6, per_process=500, keys=("k",), p_unknown=0.05)
    result = check_history(ops)
    assert result.ok, result.summary()
    assert result.keys["k"].operations > 2500
    # And a mutation deep inside is still found.
    reads = [o for o in ops if o.kind == READ and o.outcome == OK]
    reads[len(reads) // 2].output = "never-written"
    assert check_history(ops).verdict == "illegal"


# --- cross-check against brute force -----------------------------------------------------


def brute_force(ops: list[Operation], initial: Any = None) -> bool:
    """Whether some subset of the unknown ops plus all known ok ops has an order that
    respects real time and the register's rules (tiny histories only)."""
    known = [o for o in ops if o.outcome == OK]
    unknown = [o for o in ops if o.outcome == UNKNOWN and o.kind != READ]
    for size in range(len(unknown) + 1):
        for chosen in itertools.combinations(unknown, size):
            for order in itertools.permutations(known + list(chosen)):
                if _valid(order, initial):
                    return True
    return False


def _valid(order: tuple[Operation, ...], initial: Any) -> bool:
    for i, a in enumerate(order):
        # Real time: nothing placed after ``a`` may have returned before ``a`` started.
        if any(b.returned < a.invoked for b in order[i + 1 :]):
            return False
    state = initial
    for o in order:
        if o.kind == READ:
            if o.output != state:
                return False
        elif o.kind == WRITE:
            state = o.value
        else:
            expected, new = o.value
            succeeded = state == expected
            if o.outcome == UNKNOWN:
                if not succeeded:
                    return False
            elif o.output != succeeded:
                return False
            if succeeded:
                state = new
    return True


def random_small_history(rng: random.Random, size: int) -> list[Operation]:
    values = ["a", "b", None]
    ops = []
    for p in range(size):
        kind = rng.choice((READ, WRITE, CAS))
        start = rng.randint(0, 6)
        end = start + rng.randint(0, 4)
        outcome: Outcome = "ok"
        if kind != READ and rng.random() < 0.3:
            outcome = "unknown"
        if kind == READ:
            ops.append(read(p, start, end, rng.choice(values)))
        elif kind == WRITE:
            ops.append(write(p, rng.choice(["a", "b", "c"]), start, end, outcome=outcome))
        else:
            ops.append(
                cas(
                    p,
                    rng.choice(values),
                    rng.choice(["a", "b", "c"]),
                    start,
                    end,
                    rng.random() < 0.5,
                    outcome=outcome,
                )
            )
    return ops


def test_agrees_with_brute_force_on_small_random_histories() -> None:
    rng = random.Random(12345)
    verdicts = {True: 0, False: 0}
    for _ in range(1500):
        ops = random_small_history(rng, rng.randint(1, 6))
        expected = brute_force(ops)
        verdicts[expected] += 1
        result = check_history(ops)
        assert result.ok == expected, "\n".join(o.describe() for o in ops) + "\n" + result.summary()
    # Both kinds of history were exercised.
    assert verdicts[True] > 100
    assert verdicts[False] > 100
