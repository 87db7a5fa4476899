"""Checks applied to user input before anything is sent (pure, no I/O).

Each helper either returns the value in the form the wire needs or raises an
:class:`~etcd.EtcdTypeError` / :class:`~etcd.EtcdValueError` naming the argument.
"""

from __future__ import annotations

import math
from typing import Final

from .exceptions import EtcdRequestTooLarge, EtcdTypeError, EtcdValueError

INT64_MIN: Final = -(2**63)
INT64_MAX: Final = 2**63 - 1
UINT64_MAX: Final = 2**64 - 1

#: The server's default ``--max-request-bytes``.
DEFAULT_MAX_REQUEST_BYTES: Final = 1_572_864
#: The server's default ``--max-txn-ops``.
DEFAULT_MAX_TXN_OPS: Final = 128
#: The largest lease TTL the server grants, in seconds.
MAX_LEASE_TTL: Final = 9_000_000_000
# The TTL of a session a lock, election or recipe takes for itself: how long what it holds
# outlives a process that dies holding it. Go's default for concurrency.NewSession, so that
# sessions made by either side agree.
DEFAULT_SESSION_TTL = 60


def _type_name(value: object) -> str:
    return type(value).__name__


def to_bytes(value: object, what: str) -> bytes:
    """``str`` (encoded as UTF-8) or a bytes-like object, as ``bytes``."""
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, (bytearray, memoryview)):
        return bytes(value)
    raise EtcdTypeError(f"{what} must be str or bytes, not {_type_name(value)}")


def key_bytes(value: object, what: str = "key") -> bytes:
    """A non-empty key as ``bytes``."""
    key = to_bytes(value, what)
    if not key:
        raise EtcdValueError(f"{what} must not be empty (to address every key, use etcd.ALL_KEYS)")
    return key


def integer(
    value: object,
    what: str,
    *,
    minimum: int = INT64_MIN,
    maximum: int = INT64_MAX,
) -> int:
    """An ``int`` (not a ``bool``) within ``[minimum, maximum]``."""
    # The common, valid case first: one type test and one comparison.
    if value.__class__ is int and minimum <= value <= maximum:
        return value
    if isinstance(value, bool) or not isinstance(value, int):
        raise EtcdTypeError(f"{what} must be an int, not {_type_name(value)}")
    if value < minimum or value > maximum:
        if minimum == 0 and value < 0:
            raise EtcdValueError(f"{what} must not be negative, got {value}")
        raise EtcdValueError(f"{what} must be between {minimum} and {maximum}, got {value}")
    return value


def revision(value: object, what: str = "revision") -> int:
    """A revision: 0 means "latest", negatives are refused."""
    if value.__class__ is int and 0 <= value <= INT64_MAX:
        return value
    return integer(value, what, minimum=0)


def boolean(value: object, what: str) -> bool:
    if not isinstance(value, bool):
        raise EtcdTypeError(f"{what} must be a bool, not {_type_name(value)}")
    return value


def timeout(value: object, what: str = "timeout") -> float | None:
    """A positive, finite number of seconds, or ``None`` for "no deadline"."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise EtcdTypeError(f"{what} must be a number of seconds or None, not {_type_name(value)}")
    seconds = float(value)
    if math.isnan(seconds) or math.isinf(seconds) or seconds <= 0:
        raise EtcdValueError(f"{what} must be a positive, finite number of seconds, got {value!r}")
    return seconds


def lease_ttl(value: object, what: str = "ttl") -> int:
    """A lease TTL in whole seconds, 1 to 9,000,000,000."""
    return integer(value, what, minimum=1, maximum=MAX_LEASE_TTL)


def lease_id(value: object, what: str = "lease") -> int:
    """A lease ID (``int`` or an object with an ``id``); 0 means "no lease".

    A lease object that knows it is lost raises here, before anything is sent.
    """
    if value.__class__ is int and 0 <= value <= INT64_MAX:
        return value
    raise_if_lost = getattr(value, "_raise_if_lost", None)
    if callable(raise_if_lost):
        raise_if_lost()
    if not isinstance(value, int) or isinstance(value, bool):
        inner = getattr(value, "id", None)
        if isinstance(inner, int) and not isinstance(inner, bool):
            value = inner
    return integer(value, what, minimum=0)


def check_request_size(size: int, limit: int, what: str) -> None:
    """Refuse a request the server would refuse for its size."""
    if size > limit:
        raise EtcdRequestTooLarge(
            f"{what} is {size} bytes, more than the server's request limit of {limit} bytes "
            "(etcd's --max-request-bytes, 1.5 MiB by default; raise max_request_bytes on the "
            "client if the server allows more)"
        )


class _Unset:
    """Marks an argument the caller did not pass (``None`` can be a real value)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "UNSET"


UNSET: Final = _Unset()

#: A per-call timeout: seconds, ``None`` for no deadline, or UNSET for the client's default.
Timeout = float | None | _Unset
