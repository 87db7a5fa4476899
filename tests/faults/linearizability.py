"""A linearizability checker for histories of per-key registers (read, write, cas).

The model: each key holds one value (``None``: absent). ``read`` returns it, ``write(v)``
sets it, ``cas(expected, new)`` sets it to ``new`` and returns ``True`` iff it equals
``expected``, else returns ``False`` and changes nothing. Keys are independent, so the
history is split by key and every key is checked on its own (a history of independent
objects is linearizable iff each object's is).

The search is Wing & Gong's, with Lowe's improvements as porcupine implements them:
operations are call and return events in a doubly linked list in time order; the search
repeatedly picks a *minimal* operation (one whose call comes before every pending
return), applies it to the model, and removes ("lifts") it from the list; when it meets a
return event whose operation was not linearized yet, it backtracks. Every (set of
linearized operations, model state) configuration reached is cached, so none is explored
twice.

Operations with an unknown outcome (they may or may not have taken effect) have no
return event: they may be linearized at any point after their call, or never. The search
succeeds once every operation with a known outcome is linearized. Known operations are
tried before unknown ones at each point, and an unknown operation is only placed right
before an operation that needs its change (one illegal in the state before it and legal
after it): any linearization can be brought to that form by moving unknown operations
later past operations that do not need them, or by dropping them (they never happened),
so the search loses nothing and does not wander through where unknown writes might go.
The cache key includes the state before a trailing unknown operation, which keeps the
memoization exact under that rule. Unknown writes of values nobody ever looks for are
interchangeable: they form one pool (see ``_split_opaque``); those that could not even
explain a failed cas are removed up front (see ``_prune``). Failed operations (a definite
failure: no effect) and reads without a result are dropped.

A step budget bounds the search: when it runs out the answer is ``undecided`` rather
than a hang.
"""

from __future__ import annotations

import bisect
import math
import time
from collections import defaultdict
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from .history import CAS, OK, READ, UNKNOWN, WRITE, Operation

__all__ = ["CheckResult", "KeyResult", "check_history", "check_key"]

Verdict = Literal["ok", "illegal", "undecided"]

DEFAULT_MAX_STEPS: Final = 5_000_000

# Encoded operations: (code, a, b).
_READ: Final = 0  # a: the value read
_WRITE: Final = 1  # a: the value written
_CAS_OK: Final = 2  # a: expected, b: new (also an unknown cas: if it happened, it succeeded)
_CAS_FAIL: Final = 3  # a: expected (the value differed)


@dataclass
class KeyResult:
    """The verdict for one key."""

    key: Hashable
    verdict: Verdict
    operations: int
    """Operations checked (after dropping failures and pruning)."""
    dropped: int
    """Operations dropped: failed ones, reads without a result, unobservable unknowns."""
    steps: int
    seconds: float
    counterexample: str | None = None
    linearization: list[Operation] | None = None
    """For ``ok``: the operations in a valid order (unknown ones left out are absent)."""

    @property
    def ok(self) -> bool:
        return self.verdict == "ok"


@dataclass
class CheckResult:
    """The verdict for a whole history: ``ok`` iff every key's is."""

    verdict: Verdict
    keys: dict[Hashable, KeyResult] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.verdict == "ok"

    @property
    def undecided(self) -> bool:
        return self.verdict == "undecided"

    @property
    def failed_key(self) -> Hashable | None:
        for key, result in self.keys.items():
            if result.verdict == "illegal":
                return key
        return None

    @property
    def counterexample(self) -> str | None:
        key = self.failed_key
        return None if key is None else self.keys[key].counterexample

    @property
    def steps(self) -> int:
        return sum(result.steps for result in self.keys.values())

    def summary(self) -> str:
        lines = [f"linearizability: {self.verdict} ({len(self.keys)} keys, {self.steps} steps)"]
        for key, result in self.keys.items():
            lines.append(
                f"  {key!r}: {result.verdict}, {result.operations} ops "
                f"({result.dropped} dropped), {result.steps} steps, {result.seconds:.3f}s"
            )
            if result.counterexample:
                lines.extend("    " + line for line in result.counterexample.splitlines())
        return "\n".join(lines)


def check_history(
    operations: Iterable[Operation],
    *,
    initial: Any = None,
    max_steps: int = DEFAULT_MAX_STEPS,
) -> CheckResult:
    """Check a whole history, key by key. ``max_steps`` is the budget of each key."""
    by_key: dict[Hashable, list[Operation]] = defaultdict(list)
    for op in operations:
        by_key[op.key].append(op)
    result = CheckResult("ok")
    for key in sorted(by_key, key=repr):
        key_result = check_key(key, by_key[key], initial=initial, max_steps=max_steps)
        result.keys[key] = key_result
        if key_result.verdict == "illegal":
            result.verdict = "illegal"
        elif key_result.verdict == "undecided" and result.verdict == "ok":
            result.verdict = "undecided"
    return result


def _relevant(op: Operation) -> bool:
    if op.outcome == OK:
        return True
    # Unknown (or still pending) mutations may have taken effect; nothing else matters.
    return op.outcome in (UNKNOWN, "pending") and op.kind != READ


def _is_unknown(op: Operation) -> bool:
    return op.outcome != OK


def _prune(ops: list[Operation]) -> list[Operation]:
    """Drop the unknown mutations whose effect nobody could have observed.

    An unknown write (or cas) of ``v`` may be left out when no read returned ``v``, no
    successful or unknown cas expected ``v``, and no failed cas could be linearized after
    it was invoked. Proof sketch: take a linearization that includes it; between it and
    the next state change the register holds ``v`` and only operations that do not look
    at the value can sit there (a read would return ``v``, a cas would compare against
    ``v``), so removing it leaves every other operation's result unchanged.
    """
    observed: set[Any] = set()
    failed_cas_returns: list[float] = []
    for op in ops:
        if op.kind == READ:
            observed.add(op.output)
        elif op.kind == CAS:
            if _is_unknown(op) or op.output:
                observed.add(op.value[0])
            else:
                failed_cas_returns.append(op.returned)
    latest_failed_cas = max(failed_cas_returns, default=-math.inf)
    kept = []
    for op in ops:
        if _is_unknown(op) and op.kind != READ:
            written = op.value if op.kind == WRITE else op.value[1]
            if written not in observed and latest_failed_cas < op.invoked:
                continue
        kept.append(op)
    return kept


def _encode(op: Operation) -> tuple[int, Any, Any]:
    if op.kind == READ:
        return (_READ, op.output, None)
    if op.kind == WRITE:
        return (_WRITE, op.value, None)
    expected, new = op.value
    if _is_unknown(op) or op.output:
        return (_CAS_OK, expected, new)
    return (_CAS_FAIL, expected, None)


def check_key(
    key: Hashable,
    operations: Sequence[Operation],
    *,
    initial: Any = None,
    max_steps: int = DEFAULT_MAX_STEPS,
) -> KeyResult:
    """Check the operations on one key against a register starting at ``initial``."""
    started = time.perf_counter()
    relevant = [op for op in operations if _relevant(op)]
    ops = _prune(relevant)
    dropped = len(operations) - len(ops)
    verdict, steps, detail = _search(ops, initial, max_steps)
    seconds = time.perf_counter() - started
    result = KeyResult(key, verdict, len(ops), dropped, steps, seconds)
    if verdict == "ok":
        assert isinstance(detail, list)
        result.linearization = detail
    elif verdict == "illegal":
        assert isinstance(detail, str)
        result.counterexample = f"key {key!r} is not linearizable:\n{detail}"
    else:
        result.counterexample = None
    return result


def _split_opaque(ops: list[Operation]) -> tuple[list[Operation], list[float]]:
    """Set aside the unknown writes of values no operation ever looks for.

    A value nobody reads and no cas compares against is indistinguishable from any other
    such value, so all these writes have the same effect (the register holds "something
    unobserved"); and since an unknown write stays available forever once invoked, which
    of them is used does not matter, only how many were invoked before a point. They
    become a pool of interchangeable "opaque" writes, known by their invocation times.
    """
    looked_for: set[Any] = set()
    for op in ops:
        if op.kind == READ:
            looked_for.add(op.output)
        elif op.kind == CAS:
            looked_for.add(op.value[0])
    kept: list[Operation] = []
    opaque: list[float] = []
    for op in ops:
        if op.kind == WRITE and _is_unknown(op) and op.value not in looked_for:
            opaque.append(op.invoked)
        else:
            kept.append(op)
    opaque.sort()
    return kept, opaque


class _Opaque:
    def __repr__(self) -> str:
        return "<a value written by an unknown write nobody observed>"


_OPAQUE: Final = _Opaque()
_NO_GUARD: Final = object()


def _search(
    all_ops: list[Operation], initial: Any, max_steps: int
) -> tuple[Verdict, int, list[Operation] | str | None]:
    ops, opaque_times = _split_opaque(all_ops)
    n = len(ops)
    encoded = [_encode(op) for op in ops]
    known = [not _is_unknown(op) for op in ops]
    remaining = sum(known)
    if remaining == 0:
        return "ok", 0, []

    # Events in time order; at equal times calls come first (the ops are concurrent).
    events: list[tuple[float, int, int]] = []
    for i, op in enumerate(ops):
        events.append((op.invoked, 0, i))
        if known[i]:
            events.append((op.returned, 1, i))
    events.sort()
    m = len(events)
    end = m + 1  # node 0 is the head, nodes 1..m the events, m + 1 the tail
    op_of = [0] * (m + 2)
    time_of = [0.0] * (m + 2)
    is_call = [False] * (m + 2)
    match = [0] * (m + 2)  # a call's return node (0: it has none)
    call_node = [0] * n
    for node, (at, kind, i) in enumerate(events, start=1):
        op_of[node] = i
        time_of[node] = at
        if kind == 0:
            is_call[node] = True
            call_node[i] = node
        else:
            match[call_node[i]] = node
    nxt = [*range(1, m + 2), end]
    prv = [0, *range(m + 1)]
    bits = [1 << i for i in range(n)]

    state = initial
    linearized = 0
    used = 0  # opaque writes used so far
    # (linearized set, state, last op unknown) -> the fewest opaque writes used there: a
    # configuration reached again with as many or more used has nothing new to offer.
    cache: dict[tuple[int, Any, Any], int] = {}
    # After an unknown op, the state before it: the next op must need the change (see
    # the module's docstring); _NO_GUARD otherwise.
    guard: Any = _NO_GUARD
    # (call node or 0 for an opaque write, state before it, pass it was tried in)
    stack: list[tuple[int, Any, int]] = []
    node = nxt[0]
    stage = 0  # 0: trying known ops; 1: unknown ones; 2: an opaque write; then backtrack
    steps = 0
    deepest = -1
    report = ""

    while remaining > 0:
        if node != end and is_call[node]:
            i = op_of[node]
            if known[i] == (stage == 0):
                steps += 1
                if steps > max_steps:
                    return "undecided", steps, None
                code, a, b = encoded[i]
                if code == _READ:
                    legal, new = state == a, state
                elif code == _WRITE:
                    legal, new = True, a
                elif code == _CAS_OK:
                    legal, new = state == a, b
                else:
                    legal, new = state != a, state
                if legal and guard is not _NO_GUARD:
                    # Only an op the unknown one's change was needed for may follow it.
                    if code == _READ:
                        legal = guard != a
                    elif code == _WRITE:
                        legal = False
                    elif code == _CAS_OK:
                        legal = guard != a
                    else:
                        legal = guard == a
                if legal and not known[i] and new == state:
                    legal = False  # an unknown op that changes nothing is never needed
                if legal:
                    candidate = linearized | bits[i]
                    next_guard = _NO_GUARD if known[i] else state
                    config = (candidate, new, next_guard)
                    if cache.get(config, used + 1) > used:
                        cache[config] = used
                        guard = next_guard
                        stack.append((node, state, stage))
                        state = new
                        linearized = candidate
                        if known[i]:
                            remaining -= 1
                        # Lift the call and its return out of the list.
                        nxt[prv[node]] = nxt[node]
                        prv[nxt[node]] = prv[node]
                        ret = match[node]
                        if ret:
                            nxt[prv[ret]] = nxt[ret]
                            prv[nxt[ret]] = prv[ret]
                        node = nxt[0]
                        stage = 0
                        continue
            node = nxt[node]
            continue
        # A pending return: every minimal op of this stage has been tried.
        if stage == 0:
            stage = 1
            node = nxt[0]
            continue
        if stage == 1:
            stage = 2
            if opaque_times and state is not _OPAQUE and guard is _NO_GUARD and node != end:
                invoked_by_now = bisect.bisect_right(opaque_times, time_of[node])
                config = (linearized, _OPAQUE, state)
                if invoked_by_now > used and cache.get(config, used + 2) > used + 1:
                    steps += 1
                    cache[config] = used + 1
                    stack.append((0, state, stage))
                    used += 1
                    guard = state
                    state = _OPAQUE
                    node = nxt[0]
                    stage = 0
                    continue
        # Stage 2 done: backtrack.
        if len(stack) > deepest:
            deepest = len(stack)
            report = _describe_dead_end(ops, stack, op_of, node, end, nxt, state, known)
        if not stack:
            return "illegal", steps, report
        node, state, stage = stack.pop()
        guard = _NO_GUARD
        if stack and (stack[-1][0] == 0 or not known[op_of[stack[-1][0]]]):
            guard = stack[-1][1]
        if node == 0:
            used -= 1
            node = end  # nothing left to try here: backtrack again
            continue
        i = op_of[node]
        linearized ^= bits[i]
        if known[i]:
            remaining += 1
        ret = match[node]
        if ret:
            nxt[prv[ret]] = ret
            prv[nxt[ret]] = ret
        nxt[prv[node]] = node
        prv[nxt[node]] = node
        node = nxt[node]

    return "ok", steps, [ops[op_of[entry[0]]] for entry in stack if entry[0]]


def _describe_dead_end(
    ops: list[Operation],
    stack: list[tuple[int, Any, int]],
    op_of: list[int],
    blocking: int,
    end: int,
    nxt: list[int],
    state: Any,
    known: list[bool],
) -> str:
    """Explain the deepest point the search reached: what was linearized last, the state,
    the operation that had to be linearized next but could not, and its rivals."""
    lines = [
        f"the longest valid prefix linearizes {len(stack)} of {sum(known)} operations "
        f"with known outcomes, leaving the register at {state!r}"
    ]
    if stack:
        lines.append("last linearized:")
        lines.extend(
            "  " + (ops[op_of[entry[0]]].describe() if entry[0] else "(an unobserved write)")
            for entry in stack[-5:]
        )
    if blocking != end:
        lines.append("which must be followed by (it returned before any other could go):")
        lines.append("  " + ops[op_of[blocking]].describe())
    candidates = []
    node = nxt[0]
    while node != end and node != blocking:
        if op_of[node] != op_of[blocking]:
            candidates.append(ops[op_of[node]])
        node = nxt[node]
    if candidates:
        lines.append("but no order of the operations concurrent with it explains it:")
        lines.extend("  " + op.describe() for op in candidates[:10])
        if len(candidates) > 10:
            lines.append(f"  ... and {len(candidates) - 10} more")
    return "\n".join(lines)
