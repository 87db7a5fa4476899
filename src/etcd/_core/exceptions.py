"""The exception hierarchy: every failure the library reports is an :class:`EtcdException`.

The classes mix in the matching built-in exception (``KeyError``, ``ValueError``,
``TypeError``, ``ConnectionError``, ``TimeoutError``, ``PermissionError``) so that code
written against python-etcd, or against plain Python conventions, keeps catching them.

Which server answer becomes which class is decided in :mod:`etcd._core.error_mapping`.
"""

from __future__ import annotations

__all__ = [
    "EtcdAlreadyExist",
    "EtcdAuthError",
    "EtcdAuthFailed",
    "EtcdAuthNotEnabled",
    "EtcdAuthRevisionOld",
    "EtcdCancelled",
    "EtcdClientClosed",
    "EtcdClusterIdChanged",
    "EtcdCompacted",
    "EtcdCompareFailed",
    "EtcdConnectionFailed",
    "EtcdDirNotEmpty",
    "EtcdDiscoveryFailed",
    "EtcdDiscoveryNotFound",
    "EtcdDiscoveryTimedOut",
    "EtcdDuplicateKey",
    "EtcdElectionNoLeader",
    "EtcdEventIndexCleared",
    "EtcdException",
    "EtcdForkedClient",
    "EtcdFutureRevision",
    "EtcdInsufficientPermissions",
    "EtcdInvalidArgument",
    "EtcdInvalidAuthToken",
    "EtcdKeyError",
    "EtcdKeyNotFound",
    "EtcdLeaderChanged",
    "EtcdLeaderElectionInProgress",
    "EtcdLeaseExpired",
    "EtcdLeaseNotFound",
    "EtcdLockExpired",
    "EtcdNoLeader",
    "EtcdNoSpace",
    "EtcdNotDir",
    "EtcdNotElectionLeader",
    "EtcdNotFile",
    "EtcdNotFound",
    "EtcdNotLeader",
    "EtcdNotSupported",
    "EtcdPermissionDenied",
    "EtcdPreconditionFailed",
    "EtcdRequestTimedOut",
    "EtcdRequestTooLarge",
    "EtcdResponseTooLarge",
    "EtcdRevisionError",
    "EtcdRootReadOnly",
    "EtcdServerError",
    "EtcdSnapshotCorrupted",
    "EtcdTimeout",
    "EtcdTooManyOps",
    "EtcdTooManyRequests",
    "EtcdTypeError",
    "EtcdUnavailable",
    "EtcdValueError",
    "EtcdWatchCancelled",
    "EtcdWatchTimedOut",
    "EtcdWatcherCleared",
]


class EtcdException(Exception):
    """Base class of every error raised by this library.

    Attributes:
        operation: what was being done, e.g. ``"KV.Put"``, or ``None`` for client-side checks.
        endpoint: the member the request went to (``"127.0.0.1:2379"``), when there was one.
        code: the gRPC status name (``"UNAVAILABLE"``) when the error came from the wire.
        details: the server's own message, e.g. ``"etcdserver: no leader"``.
        outcome_unknown: ``True`` when a mutation may or may not have been applied: the
            request was sent, but its answer never arrived (timeout, connection lost, leader
            change). A definite failure has ``False``.
    """

    operation: str | None
    endpoint: str | None
    code: str | None
    details: str | None
    outcome_unknown: bool

    def __init__(
        self,
        message: str = "",
        *,
        operation: str | None = None,
        endpoint: str | None = None,
        code: str | None = None,
        details: str | None = None,
        outcome_unknown: bool = False,
    ) -> None:
        # Exactly one positional argument: several of our classes derive from OSError,
        # which would read two arguments as (errno, strerror).
        super().__init__(message)
        self.message = message
        self.operation = operation
        self.endpoint = endpoint
        self.code = code
        self.details = details
        self.outcome_unknown = outcome_unknown

    def __str__(self) -> str:
        # KeyError (a base of some subclasses) would otherwise quote the message.
        return self.message

    def __reduce__(self) -> tuple[object, ...]:
        return (
            _rebuild,
            (
                type(self),
                self.message,
                self.operation,
                self.endpoint,
                self.code,
                self.details,
                self.outcome_unknown,
            ),
        )


def _rebuild(
    cls: type[EtcdException],
    message: str,
    operation: str | None,
    endpoint: str | None,
    code: str | None,
    details: str | None,
    outcome_unknown: bool,
) -> EtcdException:
    return cls(
        message,
        operation=operation,
        endpoint=endpoint,
        code=code,
        details=details,
        outcome_unknown=outcome_unknown,
    )


# --- bad input ------------------------------------------------------------------------------


class EtcdValueError(EtcdException, ValueError):
    """A value was refused, by this client before sending or by the server."""


class EtcdTypeError(EtcdException, TypeError):
    """An argument has the wrong type; nothing was sent."""


class EtcdInvalidArgument(EtcdValueError):
    """The server refused the request as invalid (gRPC ``INVALID_ARGUMENT``)."""


class EtcdRequestTooLarge(EtcdValueError):
    """The request is larger than the server accepts (``--max-request-bytes``, 1.5 MiB by
    default)."""


class EtcdTooManyOps(EtcdValueError):
    """A transaction has more operations than the server accepts (``--max-txn-ops``, 128 by
    default)."""


class EtcdDuplicateKey(EtcdValueError):
    """A transaction branch writes the same key twice."""


class EtcdCompareFailed(EtcdValueError):
    """A compare-and-swap did not match (python-etcd's name); nothing was written."""


class EtcdDirNotEmpty(EtcdValueError):
    """A directory still has keys below it (python-etcd's name)."""


# --- keys -------------------------------------------------------------------------------------


class EtcdKeyError(EtcdException, KeyError):
    """Something is wrong with a key (python-etcd's base class for key errors)."""


class EtcdKeyNotFound(EtcdKeyError):
    """The key does not exist."""


class EtcdAlreadyExist(EtcdKeyError):
    """The key exists already."""


class EtcdNotFile(EtcdKeyError):
    """The key is a directory where a plain key was expected."""


class EtcdNotDir(EtcdKeyError):
    """The key is a plain key where a directory was expected."""


class EtcdRootReadOnly(EtcdKeyError):
    """The python-etcd interface refuses to write or delete the root ``/``, as etcd v2 did.

    On v3 the root of python-etcd's tree is every key starting with ``/``: deleting it
    would delete them all, and a value written at ``/`` would never be read back.
    """


# --- revisions --------------------------------------------------------------------------------


class EtcdRevisionError(EtcdException):
    """A revision outside what the server keeps."""


class EtcdCompacted(EtcdRevisionError):
    """The revision asked for has been compacted away.

    ``compact_revision`` is the oldest revision still available, when the server said it.
    """

    compact_revision: int | None = None


class EtcdFutureRevision(EtcdRevisionError):
    """The revision asked for is newer than the store."""


# --- leases, quotas, lookups ------------------------------------------------------------------


class EtcdNotFound(EtcdException):
    """The server has no such object (lease, member, user, role...)."""


class EtcdLeaseNotFound(EtcdNotFound):
    """The lease does not exist, or has expired."""


class EtcdLeaseExpired(EtcdLeaseNotFound):
    """A lease this client kept alive is gone: it expired, or someone revoked it.

    Raised when the lost lease is used next; its owner can also learn it from
    :meth:`etcd.Lease.wait_lost` or an ``on_lost`` callback.
    """


class EtcdElectionNoLeader(EtcdNotFound):
    """The election has no leader right now."""


class EtcdNoSpace(EtcdException):
    """The server's storage quota is full (``mvcc: database space exceeded``).

    Reads still work. Writes resume after compacting, defragmenting and disarming the
    ``NOSPACE`` alarm.
    """


class EtcdTooManyRequests(EtcdException):
    """The server is overloaded and refused the request."""


class EtcdResponseTooLarge(EtcdException):
    """The answer is larger than this client's receive limit (``max_receive_bytes``)."""


class EtcdPreconditionFailed(EtcdException):
    """The server refused the request in its current state (gRPC ``FAILED_PRECONDITION``)."""


class EtcdNotLeader(EtcdPreconditionFailed):
    """The request needs the leader and reached a follower."""


class EtcdNotElectionLeader(EtcdPreconditionFailed):
    """This campaigner is not (or no longer) the election's leader."""


class EtcdServerError(EtcdException):
    """Any other error the server reported."""


# --- authentication ---------------------------------------------------------------------------


class EtcdAuthError(EtcdException):
    """Base class of authentication and authorisation errors."""


class EtcdPermissionDenied(EtcdAuthError, PermissionError):
    """The user's roles do not allow this request."""


class EtcdAuthFailed(EtcdAuthError):
    """Wrong user name or password."""


class EtcdInvalidAuthToken(EtcdAuthError):
    """The authentication token was refused (expired, or issued by another member)."""


class EtcdAuthRevisionOld(EtcdAuthError):
    """The token predates a change of users or roles and must be renewed."""


class EtcdAuthNotEnabled(EtcdAuthError):
    """Authentication is not enabled on the cluster."""


# --- reaching the cluster ---------------------------------------------------------------------


class EtcdConnectionFailed(EtcdException, ConnectionError):
    """The cluster could not be reached or could not serve the request."""

    @property
    def cause(self) -> BaseException | None:
        """The underlying error (python-etcd's name for ``__cause__``), if any."""
        return self.__cause__


class EtcdUnavailable(EtcdConnectionFailed):
    """A member answered, but cannot serve the request now (gRPC ``UNAVAILABLE``)."""


class EtcdNoLeader(EtcdUnavailable):
    """The member has no leader (election in progress or partition)."""


class EtcdLeaderChanged(EtcdUnavailable):
    """The leader changed while the request was being processed; its outcome is unknown."""


class EtcdRequestTimedOut(EtcdUnavailable):
    """The server gave up on the request; for a mutation its outcome is unknown."""


class EtcdTimeout(EtcdConnectionFailed, TimeoutError):
    """The call's deadline passed before an answer came."""


class EtcdWatchTimedOut(EtcdTimeout):
    """A watch saw no change within its timeout (python-etcd's name)."""


class EtcdDiscoveryFailed(EtcdConnectionFailed):
    """The cluster's members could not be looked up in DNS (``discovery_srv=``,
    ``srv_domain=``): the message names the domain and what went wrong."""


class EtcdDiscoveryNotFound(EtcdDiscoveryFailed):
    """The domain publishes no SRV records of an etcd member under the names asked."""


class EtcdDiscoveryTimedOut(EtcdDiscoveryFailed, EtcdTimeout):
    """The DNS lookup did not end within its deadline."""


class EtcdCancelled(EtcdException):
    """The call was cancelled."""


class EtcdWatchCancelled(EtcdCancelled):
    """The server ended a watch; ``details`` holds its reason."""


class EtcdClientClosed(EtcdException):
    """The client was closed."""


class EtcdClusterIdChanged(EtcdException):
    """A python-etcd read or watch was answered by another cluster than before (python-etcd's
    name).

    The cluster was replaced, for instance restored from a backup: indexes (revisions) read
    from the old one mean nothing on it. Raised once; the new cluster's ID is expected from
    then on.
    """


class EtcdNotSupported(EtcdException, NotImplementedError):
    """What was asked has no equivalent on etcd v3 (such as creating an empty directory)."""


# python-etcd's names for errors that have a more precise name here.
EtcdEventIndexCleared = EtcdCompacted
EtcdInsufficientPermissions = EtcdPermissionDenied
EtcdLeaderElectionInProgress = EtcdNoLeader
# v2 dropped watchers when a member recovered; a v3 server ends a watch by cancelling it.
EtcdWatcherCleared = EtcdWatchCancelled
# A v3 lock lives as long as its session's lease: a lock lost while waiting is that lease
# lost.
EtcdLockExpired = EtcdLeaseExpired


class EtcdSnapshotCorrupted(EtcdException):
    """A snapshot's data did not match the SHA-256 checksum the server sent with it."""


class EtcdForkedClient(EtcdException):
    """The client was created in another process: create a new client after ``fork()``."""
