"""Comparisons, the conditions of a transaction: Go's clientv3 ``Cmp`` (pure, no I/O).

A process that never compares does not build these classes.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from typing import Any, Final

from .._wire import messages as pb
from . import validation as check
from .exceptions import EtcdValueError
from .keys import KeyArg, KeyRange, prefix_end

__all__ = [
    "Compare",
    "CompareResult",
    "CompareTarget",
    "CreateRevision",
    "LeaseValue",
    "ModRevision",
    "Value",
    "Version",
]


class CompareResult(enum.IntEnum):
    """The relation a :class:`Compare` asks for."""

    EQUAL = 0
    GREATER = 1
    LESS = 2
    NOT_EQUAL = 3


class CompareTarget(enum.IntEnum):
    """The part of a key a :class:`Compare` looks at."""

    VERSION = 0
    CREATE = 1
    MOD = 2
    VALUE = 3
    LEASE = 4


_RESULT_BY_SYMBOL: Final = {
    "=": CompareResult.EQUAL,
    "==": CompareResult.EQUAL,
    "!=": CompareResult.NOT_EQUAL,
    "<": CompareResult.LESS,
    ">": CompareResult.GREATER,
}
_SYMBOL_BY_RESULT: Final = {
    CompareResult.EQUAL: "==",
    CompareResult.NOT_EQUAL: "!=",
    CompareResult.LESS: "<",
    CompareResult.GREATER: ">",
}


# --- comparisons ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Compare:
    """A condition of a transaction: ``target`` of ``key`` (or of every key in a range)
    ``result`` ``operand``.

    Build one with the class methods (``Compare.value(key, "==", b"v")``,
    ``Compare.version(key, ">", 0)``, ...) or with the operator helpers
    (``Value(key) == b"v"``, ``Version(key) > 0``). A Compare never changes: ``with_prefix``
    and ``with_range`` return new ones.
    """

    target: CompareTarget
    result: CompareResult
    key: bytes
    operand: int | bytes
    range_end: bytes = b""

    @classmethod
    def _build(
        cls,
        target: CompareTarget,
        key: KeyArg,
        relation: str | CompareResult,
        operand: object,
        *,
        range_end: str | bytes | None = None,
        prefix: bool = False,
    ) -> Compare:
        if isinstance(relation, CompareResult):
            result = relation
        else:
            try:
                result = _RESULT_BY_SYMBOL[relation]
            except (KeyError, TypeError):
                raise EtcdValueError(
                    f"comparison must be one of '==', '!=', '<', '>', got {relation!r}"
                ) from None
        where = KeyRange.resolve(key, range_end, prefix=prefix, what="compare key")
        value: int | bytes
        if target is CompareTarget.VALUE:
            value = check.to_bytes(operand, "compared value")
        else:
            value = check.integer(operand, f"compared {target.name.lower()}", minimum=0)
        return cls(target, result, where.key, value, where.range_end)

    @classmethod
    def value(cls, key: KeyArg, relation: str, value: str | bytes, **where: Any) -> Compare:
        """Compare the key's value (bytes order)."""
        return cls._build(CompareTarget.VALUE, key, relation, value, **where)

    @classmethod
    def version(cls, key: KeyArg, relation: str, version: int, **where: Any) -> Compare:
        """Compare the key's version (0: the key does not exist)."""
        return cls._build(CompareTarget.VERSION, key, relation, version, **where)

    @classmethod
    def create_revision(cls, key: KeyArg, relation: str, revision: int, **where: Any) -> Compare:
        """Compare the revision at which the key was created (0: it does not exist)."""
        return cls._build(CompareTarget.CREATE, key, relation, revision, **where)

    @classmethod
    def mod_revision(cls, key: KeyArg, relation: str, revision: int, **where: Any) -> Compare:
        """Compare the revision at which the key was last modified."""
        return cls._build(CompareTarget.MOD, key, relation, revision, **where)

    @classmethod
    def lease(cls, key: KeyArg, relation: str, lease: int, **where: Any) -> Compare:
        """Compare the ID of the lease the key is attached to (0: none)."""
        return cls._build(CompareTarget.LEASE, key, relation, lease, **where)

    def with_range(self, range_end: str | bytes) -> Compare:
        """The same comparison over every key in ``[key, range_end)``."""
        where = KeyRange.resolve(self.key, range_end, what="compare key")
        return replace(self, range_end=where.range_end)

    def with_prefix(self) -> Compare:
        """The same comparison over every key starting with ``key``."""
        return replace(self, range_end=prefix_end(self.key))

    def to_pb(self) -> Any:
        message = pb.Compare(
            result=int(self.result),
            target=int(self.target),
            key=self.key,
            range_end=self.range_end,
        )
        if self.target is CompareTarget.VALUE:
            message.value = self.operand
        elif self.target is CompareTarget.VERSION:
            message.version = self.operand
        elif self.target is CompareTarget.CREATE:
            message.create_revision = self.operand
        elif self.target is CompareTarget.MOD:
            message.mod_revision = self.operand
        else:
            message.lease = self.operand
        return message

    def __str__(self) -> str:
        where = repr(self.key) if not self.range_end else f"[{self.key!r}, {self.range_end!r})"
        symbol = _SYMBOL_BY_RESULT[self.result]
        return f"{self.target.name.lower()}({where}) {symbol} {self.operand!r}"


@dataclass(frozen=True, slots=True, eq=False)
class _CompareSubject:
    """The left-hand side of an operator-built comparison (``Value(key) == b"v"``)."""

    target: CompareTarget
    key: KeyArg
    range_end: str | bytes | None = None
    prefix: bool = False

    def _compare(self, relation: CompareResult, operand: object) -> Compare:
        return Compare._build(
            self.target,
            self.key,
            relation,
            operand,
            range_end=self.range_end,
            prefix=self.prefix,
        )

    def __eq__(self, operand: object) -> Compare:  # type: ignore[override]
        return self._compare(CompareResult.EQUAL, operand)

    def __ne__(self, operand: object) -> Compare:  # type: ignore[override]
        return self._compare(CompareResult.NOT_EQUAL, operand)

    def __lt__(self, operand: object) -> Compare:
        return self._compare(CompareResult.LESS, operand)

    def __gt__(self, operand: object) -> Compare:
        return self._compare(CompareResult.GREATER, operand)

    __hash__ = None  # type: ignore[assignment]


def Value(
    key: KeyArg, range_end: str | bytes | None = None, *, prefix: bool = False
) -> _CompareSubject:
    """The value of ``key``, for ``Value(key) == b"v"`` style comparisons."""
    return _CompareSubject(CompareTarget.VALUE, key, range_end, prefix)


def Version(
    key: KeyArg, range_end: str | bytes | None = None, *, prefix: bool = False
) -> _CompareSubject:
    """The version of ``key`` (0 when it does not exist)."""
    return _CompareSubject(CompareTarget.VERSION, key, range_end, prefix)


def CreateRevision(
    key: KeyArg, range_end: str | bytes | None = None, *, prefix: bool = False
) -> _CompareSubject:
    """The revision at which ``key`` was created (0 when it does not exist)."""
    return _CompareSubject(CompareTarget.CREATE, key, range_end, prefix)


def ModRevision(
    key: KeyArg, range_end: str | bytes | None = None, *, prefix: bool = False
) -> _CompareSubject:
    """The revision at which ``key`` was last modified."""
    return _CompareSubject(CompareTarget.MOD, key, range_end, prefix)


def LeaseValue(
    key: KeyArg, range_end: str | bytes | None = None, *, prefix: bool = False
) -> _CompareSubject:
    """The ID of the lease ``key`` is attached to (0 for none)."""
    return _CompareSubject(CompareTarget.LEASE, key, range_end, prefix)
