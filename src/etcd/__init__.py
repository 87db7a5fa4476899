"""etcd-client: a complete, reliable client for etcd's v3 API.

::

    import etcd

    client = etcd.Client()                      # 127.0.0.1:2379
    client.put("/config/color", "blue")
    client.range("/config/", prefix=True).kvs

The public names are all here; the modules behind them are private.
"""

import contextlib as _contextlib
import importlib as _importlib
import logging as _logging
from typing import TYPE_CHECKING as _TYPE_CHECKING
from typing import Any as _Any

from ._exceptions import (
    EtcdAlreadyExist,
    EtcdAuthError,
    EtcdAuthFailed,
    EtcdAuthNotEnabled,
    EtcdAuthRevisionOld,
    EtcdCancelled,
    EtcdClientClosed,
    EtcdClusterIdChanged,
    EtcdCompacted,
    EtcdCompareFailed,
    EtcdConnectionFailed,
    EtcdDirNotEmpty,
    EtcdDuplicateKey,
    EtcdElectionNoLeader,
    EtcdEventIndexCleared,
    EtcdException,
    EtcdForkedClient,
    EtcdFutureRevision,
    EtcdInsufficientPermissions,
    EtcdInvalidArgument,
    EtcdInvalidAuthToken,
    EtcdKeyError,
    EtcdKeyNotFound,
    EtcdLeaderChanged,
    EtcdLeaderElectionInProgress,
    EtcdLeaseExpired,
    EtcdLeaseNotFound,
    EtcdLockExpired,
    EtcdNoLeader,
    EtcdNoSpace,
    EtcdNotDir,
    EtcdNotElectionLeader,
    EtcdNotFile,
    EtcdNotFound,
    EtcdNotLeader,
    EtcdNotSupported,
    EtcdPermissionDenied,
    EtcdPreconditionFailed,
    EtcdRequestTimedOut,
    EtcdRequestTooLarge,
    EtcdResponseTooLarge,
    EtcdRevisionError,
    EtcdRootReadOnly,
    EtcdServerError,
    EtcdSnapshotCorrupted,
    EtcdTimeout,
    EtcdTooManyOps,
    EtcdTooManyRequests,
    EtcdTypeError,
    EtcdUnavailable,
    EtcdValueError,
    EtcdWatchCancelled,
    EtcdWatcherCleared,
    EtcdWatchTimedOut,
)
from ._version import __version__

if _TYPE_CHECKING:
    from ._async_client import AsyncClient
    from ._async_concurrency import (
        AsyncElection,
        AsyncElectionService,
        AsyncLock,
        AsyncLockService,
        AsyncSession,
    )
    from ._async_keepalive import AsyncLease
    from ._async_namespace import AsyncNamespace, AsyncNamespacedWatch
    from ._async_stm import AsyncSTM
    from ._async_watcher import AsyncWatch
    from ._auth_models import AuthStatus, Permission, PermissionType, Role, User
    from ._classic import EtcdResult, Member
    from ._client import Client
    from ._cluster_models import (
        MemberAddResponse,
        MemberListResponse,
        MemberPromoteResponse,
        MemberRemoveResponse,
        MemberUpdateResponse,
    )
    from ._concurrency import Election, ElectionService, Lock, LockService, Session
    from ._config import Endpoint
    from ._keepalive import Lease
    from ._kv import (
        ALL_KEYS,
        Compare,
        CompareResult,
        CompareTarget,
        CreateRevision,
        DeleteRangeOp,
        LeaseValue,
        ModRevision,
        Op,
        PutOp,
        RangeOp,
        SortOrder,
        SortTarget,
        Txn,
        Value,
        Version,
        prefix_end,
    )
    from ._lease import (
        LeaseGrantResponse,
        LeaseKeepAliveResponse,
        LeaseLeasesResponse,
        LeaseTimeToLiveResponse,
    )
    from ._maintenance_models import (
        Alarm,
        DowngradeResponse,
        EndpointStatus,
        HashKVResponse,
        HashResponse,
        SnapshotInfo,
        StatusResponse,
    )
    from ._models import (
        CompactResponse,
        DeleteRangeResponse,
        KeyValue,
        PutResponse,
        RangeResponse,
        ResponseHeader,
        TxnResponse,
    )
    from ._namespace import Namespace, NamespacedWatch
    from ._recipes import LeaderKey
    from ._retry import RetryPolicy
    from ._stm import STM, run_stm
    from ._stm_state import Isolation
    from ._watch import Event, EventType, WatchResponse
    from ._watcher import Watch

# ``import etcd`` loads only the exceptions: each other public name is imported from its
# module on first use, so that a program (or a CLI) pays for gRPC, protobuf and asyncio
# only when it uses them, and a sync program never imports asyncio's client.
_LAZY: dict[str, str] = {
    "AsyncClient": "._async_client",
    "AsyncElection": "._async_concurrency",
    "AsyncElectionService": "._async_concurrency",
    "AsyncLock": "._async_concurrency",
    "AsyncLockService": "._async_concurrency",
    "AsyncSession": "._async_concurrency",
    "AsyncLease": "._async_keepalive",
    "AsyncNamespace": "._async_namespace",
    "AsyncNamespacedWatch": "._async_namespace",
    "AsyncSTM": "._async_stm",
    "AsyncWatch": "._async_watcher",
    "AuthStatus": "._auth_models",
    "Permission": "._auth_models",
    "PermissionType": "._auth_models",
    "Role": "._auth_models",
    "User": "._auth_models",
    "EtcdResult": "._classic",
    "Member": "._classic",
    "Client": "._client",
    "MemberAddResponse": "._cluster_models",
    "MemberListResponse": "._cluster_models",
    "MemberPromoteResponse": "._cluster_models",
    "MemberRemoveResponse": "._cluster_models",
    "MemberUpdateResponse": "._cluster_models",
    "Election": "._concurrency",
    "ElectionService": "._concurrency",
    "Lock": "._concurrency",
    "LockService": "._concurrency",
    "Session": "._concurrency",
    "Endpoint": "._config",
    "Lease": "._keepalive",
    "ALL_KEYS": "._kv",
    "Compare": "._kv",
    "CompareResult": "._kv",
    "CompareTarget": "._kv",
    "CreateRevision": "._kv",
    "DeleteRangeOp": "._kv",
    "LeaseValue": "._kv",
    "ModRevision": "._kv",
    "Op": "._kv",
    "PutOp": "._kv",
    "RangeOp": "._kv",
    "SortOrder": "._kv",
    "SortTarget": "._kv",
    "Txn": "._kv",
    "Value": "._kv",
    "Version": "._kv",
    "prefix_end": "._kv",
    "LeaseGrantResponse": "._lease",
    "LeaseKeepAliveResponse": "._lease",
    "LeaseLeasesResponse": "._lease",
    "LeaseTimeToLiveResponse": "._lease",
    "Alarm": "._maintenance_models",
    "DowngradeResponse": "._maintenance_models",
    "EndpointStatus": "._maintenance_models",
    "HashKVResponse": "._maintenance_models",
    "HashResponse": "._maintenance_models",
    "SnapshotInfo": "._maintenance_models",
    "StatusResponse": "._maintenance_models",
    "CompactResponse": "._models",
    "DeleteRangeResponse": "._models",
    "KeyValue": "._models",
    "PutResponse": "._models",
    "RangeResponse": "._models",
    "ResponseHeader": "._models",
    "TxnResponse": "._models",
    "Namespace": "._namespace",
    "NamespacedWatch": "._namespace",
    "LeaderKey": "._recipes",
    "RetryPolicy": "._retry",
    "STM": "._stm",
    "run_stm": "._stm",
    "Isolation": "._stm_state",
    "Event": "._watch",
    "EventType": "._watch",
    "WatchResponse": "._watch",
    "Watch": "._watcher",
}

__all__ = [
    "ALL_KEYS",
    "STM",
    "Alarm",
    "AsyncClient",
    "AsyncElection",
    "AsyncElectionService",
    "AsyncLease",
    "AsyncLock",
    "AsyncLockService",
    "AsyncNamespace",
    "AsyncNamespacedWatch",
    "AsyncSTM",
    "AsyncSession",
    "AsyncWatch",
    "AuthStatus",
    "Client",
    "CompactResponse",
    "Compare",
    "CompareResult",
    "CompareTarget",
    "CreateRevision",
    "DeleteRangeOp",
    "DeleteRangeResponse",
    "DowngradeResponse",
    "Election",
    "ElectionService",
    "Endpoint",
    "EndpointStatus",
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
    "EtcdResult",
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
    "Event",
    "EventType",
    "HashKVResponse",
    "HashResponse",
    "Isolation",
    "KeyValue",
    "LeaderKey",
    "Lease",
    "LeaseGrantResponse",
    "LeaseKeepAliveResponse",
    "LeaseLeasesResponse",
    "LeaseTimeToLiveResponse",
    "LeaseValue",
    "Lock",
    "LockService",
    "Member",
    "MemberAddResponse",
    "MemberListResponse",
    "MemberPromoteResponse",
    "MemberRemoveResponse",
    "MemberUpdateResponse",
    "ModRevision",
    "Namespace",
    "NamespacedWatch",
    "Op",
    "Permission",
    "PermissionType",
    "PutOp",
    "PutResponse",
    "RangeOp",
    "RangeResponse",
    "ResponseHeader",
    "RetryPolicy",
    "Role",
    "Session",
    "SnapshotInfo",
    "SortOrder",
    "SortTarget",
    "StatusResponse",
    "Txn",
    "TxnResponse",
    "User",
    "Value",
    "Version",
    "Watch",
    "WatchResponse",
    "__version__",
    "prefix_end",
    "run_stm",
]


def _publish(value: _Any) -> None:
    # Show the public path (etcd.Client, not etcd._client.Client) in reprs, tracebacks
    # and docs.
    if isinstance(value, type) or callable(value):
        with _contextlib.suppress(AttributeError, TypeError):
            value.__module__ = __name__


def __getattr__(name: str) -> _Any:
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module = _importlib.import_module(module_name, __name__)
    # Publish every public name of that module at once, so each is renamed only once.
    for public, source in _LAZY.items():
        if source == module_name:
            value = getattr(module, public)
            _publish(value)
            globals()[public] = value
    return globals()[name]


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


for _name in __all__:
    if _name not in _LAZY:
        _publish(globals()[_name])
del _name

_logging.getLogger(__name__).addHandler(_logging.NullHandler())
