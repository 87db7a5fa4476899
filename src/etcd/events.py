"""The typed events a client gives its listeners (:meth:`etcd.Client.add_event_listener`).

::

    import etcd
    from etcd.events import Failover, Retry

    def on_event(event: etcd.events.ClientEvent) -> None:
        if isinstance(event, (Retry, Failover)):
            print(event)

    client = etcd.Client(endpoints=[...])
    client.add_event_listener(on_event)
"""

from ._core.events import (
    ClientEvent,
    CoalescedBatch,
    EndpointsChanged,
    Failover,
    KeepAliveAnswered,
    LeaseLost,
    OperationEnded,
    OperationStarted,
    Reauthenticated,
    Retry,
    StmRetry,
    WatchCompacted,
    WatchDelivered,
    WatchResumed,
)

__all__ = [
    "ClientEvent",
    "CoalescedBatch",
    "EndpointsChanged",
    "Failover",
    "KeepAliveAnswered",
    "LeaseLost",
    "OperationEnded",
    "OperationStarted",
    "Reauthenticated",
    "Retry",
    "StmRetry",
    "WatchCompacted",
    "WatchDelivered",
    "WatchResumed",
]
