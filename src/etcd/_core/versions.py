"""What each etcd release added that a client can use, and what to say to a server that
is older.

An older server refuses an RPC it does not have with gRPC's ``UNIMPLEMENTED``, and
ignores a request field it does not know without a word: the first becomes
:class:`etcd.EtcdNotSupported` naming the release that added the call, the second is
checked before sending, against the version the member announced when the client
connected to it (its ``Status``). The releases come from the ``etcd_version`` annotations
of etcd's own API definitions.
"""

from __future__ import annotations

import re
from typing import Final

from . import exceptions as exc

#: The release that added each RPC (by operation name) or request option a client uses.
ADDED_IN: Final[dict[str, str]] = {
    "Maintenance.Snapshot": "3.3",
    "Maintenance.HashKV": "3.3",
    "Maintenance.MoveLeader": "3.3",
    "Lease.LeaseLeases": "3.3",
    "Cluster.MemberPromote": "3.4",
    "Maintenance.Downgrade": "3.5",
    "Auth.AuthStatus": "3.5",
    "KV.RangeStream": "3.7",
    # Options an older member would ignore.
    "a learner member (MemberAdd isLearner)": "3.4",
    "a linearizable member list (MemberList linearizable)": "3.5",
}

_VERSION = re.compile(r"^v?(\d+)\.(\d+)")


def release(version: str | None) -> tuple[int, int] | None:
    """``(major, minor)`` of a version string such as ``"3.4.23"``; ``None`` if unknown."""
    if not version:
        return None
    matched = _VERSION.match(version)
    return (int(matched.group(1)), int(matched.group(2))) if matched else None


def is_older(server_version: str | None, minimum: str) -> bool:
    """Whether the server is known to be older than ``minimum`` (unknown: ``False``)."""
    found, wanted = release(server_version), release(minimum)
    return found is not None and wanted is not None and found < wanted


def not_supported(
    feature: str, endpoint: str, server_version: str | None, *, code: str = ""
) -> exc.EtcdNotSupported:
    """The error for ``feature`` on a member that lacks it."""
    minimum = ADDED_IN[feature]
    runs = f"runs etcd {server_version}" if server_version else "runs an older etcd"
    return exc.EtcdNotSupported(
        f"{feature} needs etcd {minimum} or later; {endpoint} {runs}",
        operation=feature if "." in feature and " " not in feature else None,
        endpoint=endpoint,
        code=code or None,
    )


def check_option(feature: str, wanted: bool, endpoint: str, server_version: str | None) -> None:
    """Refuse to send ``feature`` (asked for with ``wanted``) to a member known to be
    older than the release that added it, which would ignore it silently."""
    if wanted and is_older(server_version, ADDED_IN[feature]):
        raise not_supported(feature, endpoint, server_version)
