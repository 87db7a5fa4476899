"""Turning authentication on in a test server, as an administrator would."""

from __future__ import annotations

from collections.abc import Sequence


def enable_auth(endpoints: Sequence[str], password: str, *, user: str = "root") -> None:
    """Add ``user`` (``root`` by default) with ``password`` and the ``root`` role, then
    turn authentication on: from then on, clients need that user's name and password.

    ``endpoints`` are the client addresses of a server or cluster (``server.endpoint``,
    ``cluster.endpoints``), reached without TLS client credentials.
    """
    import etcd  # the client is imported only by the tests that use it

    with etcd.Client(endpoints=list(endpoints), timeout=10) as admin:
        admin.user_add(user, password)
        admin.role_add("root")
        admin.user_grant_role(user, "root")
        admin.auth_enable()
