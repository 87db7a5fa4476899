"""A thread-safe recorder of operation histories, for the linearizability checker.

Each operation is one call by one process (a client thread): what it was (``read``,
``write`` or ``cas``), on which key, with which input, when it was invoked and when it
returned, and how it ended:

``ok``
    It returned: its output is known (a read's value, a cas's success flag).
``fail``
    It definitely did not take effect (an error with ``outcome_unknown`` False, or any
    error of a read). The checker ignores it.
``unknown``
    It may or may not have taken effect (an error with ``outcome_unknown`` True, a
    timeout of a write). The checker treats it as returning at +infinity: it may be
    linearized at any point after its invocation, or never.

::

    history = History()
    with history.record(proc, "write", key, value, suppress=(etcd.EtcdException,)):
        client.put(key, value)
    with history.record(proc, "read", key, suppress=(etcd.EtcdException,)) as op:
        kvs = client.range(key).kvs
        op.output = kvs[0].value.decode() if kvs else None
"""

from __future__ import annotations

import contextlib
import itertools
import math
import threading
import time
from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass
from typing import Any, Final, Literal

__all__ = [
    "CAS",
    "FAIL",
    "OK",
    "READ",
    "UNKNOWN",
    "WRITE",
    "History",
    "Operation",
    "classify_error",
]

READ: Final = "read"
WRITE: Final = "write"
CAS: Final = "cas"
KINDS: Final = frozenset({READ, WRITE, CAS})

OK: Final = "ok"
FAIL: Final = "fail"
UNKNOWN: Final = "unknown"
PENDING: Final = "pending"

Outcome = Literal["ok", "fail", "unknown", "pending"]


@dataclass
class Operation:
    """One recorded call.

    ``value`` is the input: the value written (``write``), ``(expected, new)`` (``cas``),
    ``None`` (``read``). ``output`` is a read's value (``None``: the key was absent) or a
    cas's success flag; it is meaningful only when ``outcome`` is ``ok``. ``returned`` is
    ``math.inf`` for an unknown outcome.
    """

    index: int
    process: Hashable
    kind: str
    key: Hashable
    value: Any
    invoked: float
    returned: float = math.inf
    outcome: Outcome = "pending"
    output: Any = None
    error: str | None = None

    @property
    def is_mutation(self) -> bool:
        return self.kind != READ

    @property
    def duration(self) -> float:
        return self.returned - self.invoked

    def describe(self) -> str:
        if self.kind == READ:
            call = f"read({self.key!r})"
        elif self.kind == WRITE:
            call = f"write({self.key!r}, {self.value!r})"
        else:
            expected, new = self.value
            call = f"cas({self.key!r}, {expected!r} -> {new!r})"
        if self.outcome == OK:
            result = "" if self.kind == WRITE else f" -> {self.output!r}"
        else:
            result = f" -> {self.outcome}" + (f" ({self.error})" if self.error else "")
        ended = "inf" if math.isinf(self.returned) else f"{self.returned:.6f}"
        return f"#{self.index} p{self.process} {call}{result} [{self.invoked:.6f}, {ended}]"


def classify_error(kind: str, error: BaseException) -> Outcome:
    """The outcome an operation of ``kind`` that raised ``error`` gets.

    A read that failed never has an effect: ``fail``. A mutation is ``unknown`` when the
    error says so (``outcome_unknown``), when it is a timeout (``TimeoutError``), and
    whenever the error does not say otherwise: only a non-timeout error carrying
    ``outcome_unknown = False`` is a definite failure.
    """
    if kind == READ:
        return FAIL
    if isinstance(error, TimeoutError):
        # Whatever the library says, a write that timed out is treated as maybe applied:
        # unknown is the weaker claim, so the check stays sound.
        return UNKNOWN
    flag = getattr(error, "outcome_unknown", None)
    if flag is None:
        return UNKNOWN
    return UNKNOWN if flag else FAIL


class _Recording:
    """What ``History.record`` yields: set ``output`` (or call a method) in the block."""

    def __init__(self, history: History, op: Operation) -> None:
        self._history = history
        self.op = op
        self.output: Any = None
        self.settled = False

    def ok(self, output: Any = None) -> None:
        self._history.ok(self.op, output)
        self.settled = True

    def fail(self, error: str | None = None) -> None:
        self._history.fail(self.op, error)
        self.settled = True

    def unknown(self, error: str | None = None) -> None:
        self._history.unknown(self.op, error)
        self.settled = True


class History:
    """Records operations from any number of threads. Times come from ``clock``
    (``time.monotonic`` by default)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._ops: list[Operation] = []
        self._counter = itertools.count()

    # --- the invoke/complete API ---------------------------------------------------------

    def invoke(self, process: Hashable, kind: str, key: Hashable, value: Any = None) -> Operation:
        """Record the start of an operation; complete it with ``ok``/``fail``/``unknown``."""
        if kind not in KINDS:
            raise ValueError(f"unknown operation kind {kind!r}")
        if kind == CAS:
            expected, new = value  # checks the shape
            value = (expected, new)
        with self._lock:
            op = Operation(next(self._counter), process, kind, key, value, self._clock())
            self._ops.append(op)
        return op

    def ok(self, op: Operation, output: Any = None) -> None:
        if op.kind == CAS and not isinstance(output, bool):
            raise TypeError("a cas's output is its success flag (a bool)")
        self._complete(op, OK, output=output)

    def fail(self, op: Operation, error: str | None = None) -> None:
        self._complete(op, FAIL, error=error)

    def unknown(self, op: Operation, error: str | None = None) -> None:
        """The operation may or may not have taken effect: it never returns."""
        self._complete(op, UNKNOWN, error=error, returned=math.inf)

    def error(self, op: Operation, error: BaseException) -> Outcome:
        """Complete ``op`` as ``error`` says (see :func:`classify_error`)."""
        outcome = classify_error(op.kind, error)
        text = f"{type(error).__name__}: {error}"
        if outcome == UNKNOWN:
            self.unknown(op, text)
        else:
            self.fail(op, text)
        return outcome

    def _complete(
        self,
        op: Operation,
        outcome: Outcome,
        *,
        output: Any = None,
        error: str | None = None,
        returned: float | None = None,
    ) -> None:
        now = self._clock() if returned is None else returned
        with self._lock:
            if op.outcome != PENDING:
                raise RuntimeError(f"operation #{op.index} already completed")
            op.returned = now
            op.outcome = outcome
            op.output = output
            op.error = error

    # --- the context-manager API ---------------------------------------------------------

    @contextlib.contextmanager
    def record(
        self,
        process: Hashable,
        kind: str,
        key: Hashable,
        value: Any = None,
        *,
        suppress: tuple[type[BaseException], ...] = (),
    ) -> Iterator[_Recording]:
        """Record the block as one operation.

        Leaving the block normally completes it as ``ok`` with the ``output`` set on the
        yielded object (unless the block settled it itself); an exception completes it as
        :func:`classify_error` says, and is re-raised unless it is one of ``suppress``.
        """
        op = self.invoke(process, kind, key, value)
        recording = _Recording(self, op)
        try:
            yield recording
        except BaseException as error:
            if not recording.settled:
                self.error(op, error)
            if isinstance(error, suppress):
                return
            raise
        if not recording.settled:
            self.ok(op, recording.output)

    # --- reading -------------------------------------------------------------------------

    def operations(self) -> list[Operation]:
        """A snapshot of every operation so far; ones still pending count as unknown."""
        with self._lock:
            ops = list(self._ops)
        result = []
        for op in ops:
            if op.outcome == PENDING:
                op = Operation(
                    op.index, op.process, op.kind, op.key, op.value, op.invoked,
                    math.inf, UNKNOWN, None, "still pending",
                )  # fmt: skip
            result.append(op)
        return result

    def __len__(self) -> int:
        with self._lock:
            return len(self._ops)

    def counts(self) -> dict[str, int]:
        """How many operations ended each way (``ok``, ``fail``, ``unknown``, ``pending``)."""
        counts = {OK: 0, FAIL: 0, UNKNOWN: 0, PENDING: 0}
        with self._lock:
            for op in self._ops:
                counts[op.outcome] += 1
        return counts
