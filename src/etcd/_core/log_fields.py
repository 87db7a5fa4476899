"""The structured fields of the client's log records, named in one place.

Records carry them as attributes (``logging``'s ``extra=``), so that a JSON formatter or
a filter can read the endpoint or the lease of a record without parsing its message.
Every name starts with ``etcd_``: ``logging`` refuses an ``extra`` that would overwrite
an attribute of :class:`logging.LogRecord` (``name``, ``module``, ``process``...), and a
program's own fields must not be shadowed either. docs/logging.rst lists them.

Only what is safe to log goes in: names, endpoints, IDs, revisions, counts, codes, and
the class of an error. Never a value, a password or a token; there is no field for them.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["FIELD_NAMES", "log_fields"]

FIELD_NAMES = frozenset(
    {
        "etcd_operation",
        "etcd_endpoint",
        "etcd_next_endpoint",
        "etcd_endpoints",
        "etcd_attempt",
        "etcd_failures",
        "etcd_code",
        "etcd_error_type",
        "etcd_delay",
        "etcd_duration",
        "etcd_outcome",
        "etcd_user",
        "etcd_stream",
        "etcd_lease_id",
        "etcd_watch_id",
        "etcd_revision",
        "etcd_prefix",
        "etcd_key",
        "etcd_service",
        "etcd_count",
    }
)
"""Every field a record of the client may carry."""


def log_fields(
    *,
    operation: str | None = None,
    endpoint: object = None,
    next_endpoint: object = None,
    endpoints: Iterable[object] | None = None,
    attempt: int | None = None,
    failures: int | None = None,
    code: str | None = None,
    error: BaseException | None = None,
    delay: float | None = None,
    duration: float | None = None,
    outcome: str | None = None,
    user: str | None = None,
    stream: str | None = None,
    lease_id: int | None = None,
    watch_id: int | None = None,
    revision: int | None = None,
    prefix: bytes | str | None = None,
    key: bytes | str | None = None,
    service: str | None = None,
    count: int | None = None,
) -> dict[str, object]:
    """The ``extra=`` of a log record: the fields given, the others left out.

    Endpoints become ``host:port`` text, keys and prefixes text (bytes that are not
    UTF-8 as ``\\x..`` escapes), an error the name of its class.
    """
    given: dict[str, object | None] = {
        "etcd_operation": operation,
        "etcd_endpoint": None if endpoint is None else str(endpoint),
        "etcd_next_endpoint": None if next_endpoint is None else str(next_endpoint),
        "etcd_endpoints": None if endpoints is None else tuple(str(e) for e in endpoints),
        "etcd_attempt": attempt,
        "etcd_failures": failures,
        "etcd_code": code,
        "etcd_error_type": None if error is None else type(error).__name__,
        "etcd_delay": delay,
        "etcd_duration": duration,
        "etcd_outcome": outcome,
        "etcd_user": user,
        "etcd_stream": stream,
        "etcd_lease_id": lease_id,
        "etcd_watch_id": watch_id,
        "etcd_revision": revision,
        "etcd_prefix": _text(prefix),
        "etcd_key": _text(key),
        "etcd_service": service,
        "etcd_count": count,
    }
    return {name: value for name, value in given.items() if value is not None}


def _text(key: bytes | str | None) -> str | None:
    if isinstance(key, bytes):
        return key.decode("utf-8", "backslashreplace")
    return key
