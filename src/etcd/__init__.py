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
import sys as _sys
import types as _types
from typing import TYPE_CHECKING as _TYPE_CHECKING
from typing import Any as _Any

from ._core import exceptions as _exceptions
from ._core.exceptions import *  # noqa: F403 (the module's __all__: every exception)
from ._version import __version__ as __version__

if _TYPE_CHECKING:
    # What each lazily loaded name is, for type checkers (``as``: re-exported).
    from ._async.cache import AsyncCache as AsyncCache
    from ._async.client import AsyncClient as AsyncClient
    from ._async.concurrency import (
        AsyncElection as AsyncElection,
        AsyncElectionService as AsyncElectionService,
        AsyncLock as AsyncLock,
        AsyncLockService as AsyncLockService,
        AsyncSession as AsyncSession,
    )
    from ._async.lease_keeper import AsyncLease as AsyncLease
    from ._async.mirror import AsyncMirror as AsyncMirror
    from ._async.namespace import (
        AsyncNamespace as AsyncNamespace,
        AsyncNamespacedWatch as AsyncNamespacedWatch,
    )
    from ._async.recipes import (
        AsyncBarrier as AsyncBarrier,
        AsyncDoubleBarrier as AsyncDoubleBarrier,
        AsyncPriorityQueue as AsyncPriorityQueue,
        AsyncQueue as AsyncQueue,
        AsyncRWMutex as AsyncRWMutex,
    )
    from ._async.stm import AsyncSTM as AsyncSTM
    from ._async.watch_stream import AsyncWatch as AsyncWatch
    from ._async.discovery import (
        AsyncDiscovery as AsyncDiscovery,
        AsyncRegistration as AsyncRegistration,
    )
    from ._sync.discovery import (
        Discovery as Discovery,
        Registration as Registration,
    )
    from ._core.discovery import (
        GRPC_ROUND_ROBIN as GRPC_ROUND_ROBIN,
        EndpointEvent as EndpointEvent,
        EndpointEventType as EndpointEventType,
        ServiceEndpoint as ServiceEndpoint,
        grpc_target as grpc_target,
    )
    from ._core.cache import (
        CacheEntry as CacheEntry,
        CacheEvent as CacheEvent,
        CacheSnapshot as CacheSnapshot,
        CacheUpdate as CacheUpdate,
    )
    from ._core.auth import (
        AuthStatus as AuthStatus,
        Permission as Permission,
        PermissionType as PermissionType,
        Role as Role,
        User as User,
    )
    from ._core.classic import (
        EtcdResult as EtcdResult,
        Member as Member,
    )
    from ._core.cluster import (
        MemberAddResponse as MemberAddResponse,
        MemberListResponse as MemberListResponse,
        MemberPromoteResponse as MemberPromoteResponse,
        MemberRemoveResponse as MemberRemoveResponse,
        MemberUpdateResponse as MemberUpdateResponse,
    )
    from ._core.concurrency import LeaderKey as LeaderKey
    from ._core.config import Endpoint as Endpoint
    from ._core.compare import (
        Compare as Compare,
        CompareResult as CompareResult,
        CompareTarget as CompareTarget,
        CreateRevision as CreateRevision,
        LeaseValue as LeaseValue,
        ModRevision as ModRevision,
        Value as Value,
        Version as Version,
    )
    from ._core.keys import (
        ALL_KEYS as ALL_KEYS,
        prefix_end as prefix_end,
    )
    from ._core.kv import (
        DeleteRangeOp as DeleteRangeOp,
        Op as Op,
        PutOp as PutOp,
        RangeOp as RangeOp,
        SortOrder as SortOrder,
        SortTarget as SortTarget,
        Txn as Txn,
    )
    from ._core.lease import (
        LeaseGrantResponse as LeaseGrantResponse,
        LeaseKeepAliveResponse as LeaseKeepAliveResponse,
        LeaseLeasesResponse as LeaseLeasesResponse,
        LeaseTimeToLiveResponse as LeaseTimeToLiveResponse,
    )
    from ._core.maintenance import (
        Alarm as Alarm,
        DowngradeResponse as DowngradeResponse,
        EndpointStatus as EndpointStatus,
        DowngradeInfo as DowngradeInfo,
        HashKVResponse as HashKVResponse,
        HashResponse as HashResponse,
        SnapshotInfo as SnapshotInfo,
        StatusResponse as StatusResponse,
    )
    from ._core.responses import (
        CompactResponse as CompactResponse,
        DeleteRangeResponse as DeleteRangeResponse,
        KeyValue as KeyValue,
        PutResponse as PutResponse,
        RangeResponse as RangeResponse,
        ResponseHeader as ResponseHeader,
        TxnResponse as TxnResponse,
    )
    from ._core.retry import RetryPolicy as RetryPolicy
    from ._core.stm import Isolation as Isolation
    from ._core.watch import (
        Event as Event,
        EventType as EventType,
        WatchResponse as WatchResponse,
    )
    from ._sync.cache import Cache as Cache
    from ._sync.client import Client as Client
    from ._sync.concurrency import (
        Election as Election,
        ElectionService as ElectionService,
        Lock as Lock,
        LockService as LockService,
        Session as Session,
    )
    from ._sync.lease_keeper import Lease as Lease
    from ._sync.mirror import Mirror as Mirror
    from ._sync.namespace import (
        Namespace as Namespace,
        NamespacedWatch as NamespacedWatch,
    )
    from ._sync.recipes import (
        Barrier as Barrier,
        DoubleBarrier as DoubleBarrier,
        PriorityQueue as PriorityQueue,
        Queue as Queue,
        RWMutex as RWMutex,
    )
    from ._sync.stm import (
        STM as STM,
        run_stm as run_stm,
    )
    from ._sync.watch_stream import Watch as Watch

# ``import etcd`` loads only the exceptions: each other public name is imported from its
# module on first use, so that a program (or a CLI) pays for gRPC, protobuf and asyncio
# only when it uses them, and a sync program never imports asyncio's client.
_LAZY: dict[str, str] = {
    "AsyncCache": "._async.cache",
    "Cache": "._sync.cache",
    "CacheEntry": "._core.cache",
    "CacheEvent": "._core.cache",
    "CacheSnapshot": "._core.cache",
    "CacheUpdate": "._core.cache",
    "AsyncClient": "._async.client",
    "AsyncElection": "._async.concurrency",
    "AsyncElectionService": "._async.concurrency",
    "AsyncLock": "._async.concurrency",
    "AsyncLockService": "._async.concurrency",
    "AsyncSession": "._async.concurrency",
    "AsyncLease": "._async.lease_keeper",
    "AsyncMirror": "._async.mirror",
    "AsyncNamespace": "._async.namespace",
    "AsyncNamespacedWatch": "._async.namespace",
    "AsyncBarrier": "._async.recipes",
    "AsyncDoubleBarrier": "._async.recipes",
    "AsyncPriorityQueue": "._async.recipes",
    "AsyncQueue": "._async.recipes",
    "AsyncRWMutex": "._async.recipes",
    "AsyncSTM": "._async.stm",
    "AsyncWatch": "._async.watch_stream",
    "AuthStatus": "._core.auth",
    "Permission": "._core.auth",
    "PermissionType": "._core.auth",
    "Role": "._core.auth",
    "User": "._core.auth",
    "EtcdResult": "._core.classic",
    "Member": "._core.classic",
    "Client": "._sync.client",
    "MemberAddResponse": "._core.cluster",
    "MemberListResponse": "._core.cluster",
    "MemberPromoteResponse": "._core.cluster",
    "MemberRemoveResponse": "._core.cluster",
    "MemberUpdateResponse": "._core.cluster",
    "Election": "._sync.concurrency",
    "ElectionService": "._sync.concurrency",
    "Lock": "._sync.concurrency",
    "LockService": "._sync.concurrency",
    "Session": "._sync.concurrency",
    "Endpoint": "._core.config",
    "Lease": "._sync.lease_keeper",
    "Barrier": "._sync.recipes",
    "DoubleBarrier": "._sync.recipes",
    "PriorityQueue": "._sync.recipes",
    "Queue": "._sync.recipes",
    "RWMutex": "._sync.recipes",
    "Mirror": "._sync.mirror",
    "ALL_KEYS": "._core.keys",
    "Compare": "._core.compare",
    "CompareResult": "._core.compare",
    "CompareTarget": "._core.compare",
    "CreateRevision": "._core.compare",
    "DeleteRangeOp": "._core.kv",
    "LeaseValue": "._core.compare",
    "ModRevision": "._core.compare",
    "Op": "._core.kv",
    "PutOp": "._core.kv",
    "RangeOp": "._core.kv",
    "SortOrder": "._core.kv",
    "SortTarget": "._core.kv",
    "Txn": "._core.kv",
    "Value": "._core.compare",
    "Version": "._core.compare",
    "prefix_end": "._core.keys",
    "LeaseGrantResponse": "._core.lease",
    "LeaseKeepAliveResponse": "._core.lease",
    "LeaseLeasesResponse": "._core.lease",
    "LeaseTimeToLiveResponse": "._core.lease",
    "Alarm": "._core.maintenance",
    "DowngradeResponse": "._core.maintenance",
    "EndpointStatus": "._core.maintenance",
    "DowngradeInfo": "._core.maintenance",
    "HashKVResponse": "._core.maintenance",
    "HashResponse": "._core.maintenance",
    "SnapshotInfo": "._core.maintenance",
    "StatusResponse": "._core.maintenance",
    "CompactResponse": "._core.responses",
    "DeleteRangeResponse": "._core.responses",
    "KeyValue": "._core.responses",
    "PutResponse": "._core.responses",
    "RangeResponse": "._core.responses",
    "ResponseHeader": "._core.responses",
    "TxnResponse": "._core.responses",
    "Namespace": "._sync.namespace",
    "NamespacedWatch": "._sync.namespace",
    "LeaderKey": "._core.concurrency",
    "RetryPolicy": "._core.retry",
    "STM": "._sync.stm",
    "run_stm": "._sync.stm",
    "Isolation": "._core.stm",
    "Event": "._core.watch",
    "EventType": "._core.watch",
    "WatchResponse": "._core.watch",
    "Watch": "._sync.watch_stream",
    # Service discovery.
    "AsyncDiscovery": "._async.discovery",
    "AsyncRegistration": "._async.discovery",
    "Discovery": "._sync.discovery",
    "Registration": "._sync.discovery",
    "EndpointEvent": "._core.discovery",
    "EndpointEventType": "._core.discovery",
    "GRPC_ROUND_ROBIN": "._core.discovery",
    "ServiceEndpoint": "._core.discovery",
    "grpc_target": "._core.discovery",
}

__all__ = sorted(["__version__", *_exceptions.__all__, *_LAZY])


def _publish(value: _Any) -> None:
    # Show the public path (etcd.Client, not etcd._sync.client.Client) in reprs, tracebacks
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


for _name in _exceptions.__all__:
    _publish(globals()[_name])
del _name


class _MovedModule(_types.ModuleType):
    """A module path of an earlier version that pickles still name; its attributes come
    from the module that holds them now, loaded on first use."""

    def __init__(self, name: str, target: str) -> None:
        super().__init__(name)
        self.__target = target

    def __getattr__(self, attribute: str) -> _Any:
        return getattr(_importlib.import_module(self.__target, __name__), attribute)


# Exceptions pickled under the earlier layout name etcd._exceptions._rebuild, and ALL_KEYS
# etcd._kv.ALL_KEYS.
for _old, _new in (("_exceptions", "._core.exceptions"), ("_kv", "._core.keys")):
    _sys.modules.setdefault(f"{__name__}.{_old}", _MovedModule(f"{__name__}.{_old}", _new))
del _old, _new

_logging.getLogger(__name__).addHandler(_logging.NullHandler())
