"""python-etcd's ``etcd.auth`` on etcd v3: v2 permission patterns as v3 key ranges, no I/O.

A v2 role granted read or write on *paths*: a key (``/config``), or every key starting
with a text (``/config/*``, and ``*`` for all). v3 grants a permission type on a key or a
range of keys. The two map onto each other where the pattern's only ``*`` ends it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from . import exceptions as exc
from .auth import Permission, PermissionType
from .keys import prefix_end

__all__ = ["PathGrant", "grants_of", "pattern_of", "permission_type", "range_of"]


def range_of(pattern: str) -> tuple[bytes, bytes]:
    """The v3 key range of a v2 path pattern: ``(key, range_end)``, ``b""`` for one key.

    Raises :class:`etcd.EtcdNotSupported` for a pattern with a ``*`` before its end
    (``/a/*/b``): v3 permissions are contiguous ranges, and such a pattern is not one.
    """
    if not isinstance(pattern, str) or not pattern:
        raise exc.EtcdValueError(f"a permission path must be a non-empty str, not {pattern!r}")
    star = pattern.find("*")
    if star == -1:
        return pattern.encode("utf-8"), b""
    if star != len(pattern) - 1:
        raise exc.EtcdNotSupported(
            f"the permission path {pattern!r} has a '*' before its end: etcd v3 grants "
            "permissions on a key or a contiguous range of keys, so only a trailing '*' "
            "(every key starting with the text before it) can be kept"
        )
    if pattern == "*":
        return b"\0", b"\0"
    start = pattern[:-1].encode("utf-8")
    return start, prefix_end(start)


def pattern_of(permission: Permission) -> str:
    """The v2 path pattern of a v3 permission, the reverse of :func:`range_of`.

    Raises :class:`etcd.EtcdNotSupported` for a range no pattern names (granted by v3
    tools, such as ``[a, b)``).
    """
    key, end = permission.key, permission.range_end
    if not end:
        return key.decode("utf-8", errors="surrogateescape")
    if end == b"\0" and key in (b"\0", b""):
        return "*"
    if end == prefix_end(key):
        return key.decode("utf-8", errors="surrogateescape") + "*"
    raise exc.EtcdNotSupported(
        f"the permission on the keys [{key!r}, {end!r}) has no v2 path pattern: only one "
        "key, every key with a prefix, or every key can be shown as a path"
    )


def permission_type(read: bool, write: bool) -> PermissionType:
    if read and write:
        return PermissionType.READWRITE
    return PermissionType.READ if read else PermissionType.WRITE


@dataclass(frozen=True, slots=True)
class PathGrant:
    """A change to make to a role: grant ``type`` on ``path`` (``None``: revoke it)."""

    path: str
    type: PermissionType | None


def grants_of(
    before: Mapping[str, PermissionType], read: Iterable[str], write: Iterable[str]
) -> list[PathGrant]:
    """What turns a role's permissions ``before`` into the ``read``/``write`` paths wanted.

    Every path is checked (:func:`range_of`) before any change is returned, so that a
    pattern v3 cannot keep refuses the whole write.
    """
    read, write = set(read), set(write)
    wanted = {path: permission_type(path in read, path in write) for path in read | write}
    for path in wanted:
        range_of(path)
    changes = [PathGrant(path, None) for path in sorted(set(before) - set(wanted))]
    changes += [
        PathGrant(path, kind) for path, kind in sorted(wanted.items()) if before.get(path) != kind
    ]
    return changes
