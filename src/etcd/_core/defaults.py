"""The values that the clients' signatures show as defaults.

They are apart from the modules they belong to (configuration, operations, STM) so that
defining a client's methods does not build those modules' classes: each is imported by
the first call that needs it. Each is re-exported where it belongs.
"""

from __future__ import annotations

import enum
from typing import Final

#: etcd's registered client port (the seed's 4001 was the legacy, pre-2015 port).
DEFAULT_PORT: Final = 2379
DEFAULT_HOST: Final = "127.0.0.1"
#: Per-call deadline when none is given, in seconds (as etcdctl's --command-timeout).
DEFAULT_TIMEOUT: Final = 5.0
#: How long to wait for a connection before trying another endpoint.
DEFAULT_CONNECT_TIMEOUT: Final = 2.0
#: Receive limit: as Go's client, effectively unbounded (gRPC's own default is 4 MiB).
DEFAULT_MAX_RECEIVE_BYTES: Final = 2**31 - 1


class SortOrder(enum.IntEnum):
    """Order of a range's results."""

    NONE = 0
    ASCEND = 1
    DESCEND = 2


class SortTarget(enum.IntEnum):
    """What a range's results are sorted by."""

    KEY = 0
    VERSION = 1
    CREATE = 2
    MOD = 3
    VALUE = 4


#: How long :func:`run_stm` keeps retrying a conflicting transaction by default, in seconds.
DEFAULT_STM_TIMEOUT = 30.0


class Isolation(enum.IntEnum):
    """How much of a concurrent change an STM transaction detects (Go's isolation levels).

    From the strongest to the weakest:
    """

    SERIALIZABLE_SNAPSHOT = 0
    """Every read is served at the revision of the first read (one consistent snapshot);
    the commit fails if any key read, or any key written, changed since that snapshot."""
    SERIALIZABLE = 1
    """Every read is served at the revision of the first read; the commit fails if any key
    read changed since it was read. Keys only written are not checked."""
    REPEATABLE_READS = 2
    """Every read sees the latest revision (a key read twice gives the same answer: the
    first one is kept); the commit fails if any key read changed since it was read."""
    READ_COMMITTED = 3
    """Every read sees the latest revision; the commit checks nothing: concurrent changes
    are silently overwritten."""
