"""Keys as the client names them: one key, a range, a prefix, or every key (pure, no I/O)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Final

from . import validation as check
from .exceptions import EtcdValueError

__all__ = ["ALL_KEYS", "KeyArg", "KeyRange", "prefix_end"]


class _AllKeys:
    """Stands for every key (``key`` ``\\0`` with ``range_end`` ``\\0``)."""

    _instance: ClassVar[_AllKeys | None] = None

    def __new__(cls) -> _AllKeys:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "etcd.ALL_KEYS"

    def __reduce__(self) -> str:
        return "ALL_KEYS"


# Pickles name the public path, etcd.ALL_KEYS, which no later move of this module changes.
_AllKeys.__module__ = "etcd"


ALL_KEYS: Final = _AllKeys()
"""Use as the key of a range, delete or watch to address every key in the store."""


KeyArg = str | bytes | bytearray | memoryview | _AllKeys


def prefix_end(prefix: bytes) -> bytes:
    """The ``range_end`` that covers every key starting with ``prefix``.

    The last byte below 0xff is incremented and what follows it dropped; a prefix made only
    of 0xff bytes has no upper bound, so the range runs to the end of the key space (``\\0``).
    """
    end = bytearray(prefix)
    while end:
        if end[-1] < 0xFF:
            end[-1] += 1
            return bytes(end)
        end.pop()
    return b"\0"


@dataclass(frozen=True, slots=True)
class KeyRange:
    """A single key (``range_end`` empty) or the keys in ``[key, range_end)``."""

    key: bytes
    range_end: bytes = b""

    @classmethod
    def resolve(
        cls,
        key: object,
        range_end: object = None,
        *,
        prefix: bool = False,
        from_key: bool = False,
        what: str = "key",
    ) -> KeyRange:
        """Check and combine the ways a caller can name keys."""
        if range_end is None and prefix is False and from_key is False and key is not ALL_KEYS:
            return cls(check.key_bytes(key, what))  # one key: the common case, kept short
        check.boolean(prefix, "prefix")
        check.boolean(from_key, "from_key")
        chosen = [
            name
            for name, on in (
                ("range_end", range_end is not None),
                ("prefix", prefix),
                ("from_key", from_key),
            )
            if on
        ]
        if key is ALL_KEYS:
            if chosen:
                raise EtcdValueError(f"ALL_KEYS already covers every key; drop {chosen[0]}")
            return cls(b"\0", b"\0")
        start = check.key_bytes(key, what)
        if len(chosen) > 1:
            raise EtcdValueError(f"give only one of range_end, prefix and from_key, not {chosen}")
        if prefix:
            return cls(start, prefix_end(start))
        if from_key:
            return cls(start, b"\0")
        if range_end is None:
            return cls(start)
        end = check.to_bytes(range_end, "range_end")
        if end and end != b"\0" and end <= start:
            raise EtcdValueError(
                f"range_end {end!r} must sort after key {start!r}: the range would be empty"
            )
        return cls(start, end)

    @property
    def is_single_key(self) -> bool:
        return not self.range_end

    def contains(self, key: bytes) -> bool:
        if not self.range_end:
            return key == self.key
        if self.range_end == b"\0":
            return key >= self.key
        return self.key <= key < self.range_end
