"""etcd-client: a complete, reliable client for etcd's v3 API.

::

    import etcd

    client = etcd.Client()                      # 127.0.0.1:2379
    client.put("/config/color", "blue")
    client.range("/config/", prefix=True).kvs

The public names are all here; the modules behind them are private.
"""

import contextlib as _contextlib
import logging as _logging

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
from ._version import __version__
from ._watch import Event, EventType, WatchResponse
from ._watcher import Watch

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

# Show the public path (etcd.Client, not etcd._client.Client) in reprs, tracebacks and docs.
for _name in __all__:
    _obj = globals()[_name]
    if isinstance(_obj, type) or callable(_obj):
        with _contextlib.suppress(AttributeError, TypeError):
            _obj.__module__ = "etcd"
del _name, _obj

_logging.getLogger(__name__).addHandler(_logging.NullHandler())
