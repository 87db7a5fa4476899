"""The primitives of the sync shell: threads, blocking queues, gRPC's blocking channels.

:mod:`etcd._async.io` gives the asyncio shell the same names, so that the sync modules
can be generated from the asyncio ones (``scripts/generate_sync.py``).
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Generic, TypeVar

import grpc

from .._core.exceptions import EtcdTypeError

_T = TypeVar("_T")
_R = TypeVar("_R")

Empty = queue.Empty
Lock = threading.Lock
Flag = threading.Event
Condition = threading.Condition
Worker = threading.Thread
sleep = time.sleep


class Queue(Generic[_T]):
    """A queue without a bound; ``get`` raises :class:`Empty` after ``timeout``."""

    def __init__(self) -> None:
        self._queue: queue.SimpleQueue[_T] = queue.SimpleQueue()

    def get_nowait(self) -> _T:
        return self._queue.get_nowait()

    def put(self, item: _T) -> None:
        self._queue.put(item)

    def get(self, timeout: float | None = None) -> _T:
        return self._queue.get(timeout=timeout)


def spawn(target: Callable[..., object], *args: Any, name: str) -> threading.Thread:
    """Run ``target(*args)`` in the background (a daemon thread)."""
    thread = threading.Thread(target=target, args=args, name=name, daemon=True)
    thread.start()
    return thread


def run_shielded(target: Callable[..., object], *args: Any) -> None:
    """Run ``target(*args)`` (the asyncio twin also shields it from cancellation)."""
    target(*args)


def is_current(worker: threading.Thread) -> bool:
    return worker is threading.current_thread()


def join(worker: threading.Thread, timeout: float | None) -> None:
    worker.join(timeout)


def open_channel(
    target: str,
    options: Sequence[tuple[str, Any]],
    credentials: grpc.ChannelCredentials | None,
    interceptors: Sequence[Any] = (),
) -> grpc.Channel:
    if credentials is None:
        channel = grpc.insecure_channel(target, options=options)
    else:
        channel = grpc.secure_channel(target, credentials, options=options)
    if interceptors:
        return grpc.intercept_channel(channel, *interceptors)
    return channel


_INTERCEPTORS = (
    grpc.UnaryUnaryClientInterceptor,
    grpc.UnaryStreamClientInterceptor,
    grpc.StreamUnaryClientInterceptor,
    grpc.StreamStreamClientInterceptor,
)


def check_interceptors(interceptors: Sequence[object]) -> None:
    """Refuse, before any channel is made, what grpcio cannot use as an interceptor."""
    for interceptor in interceptors:
        if not isinstance(interceptor, _INTERCEPTORS):
            import grpc.aio  # only to tell the two kinds apart in the message

            hint = (
                ": it is a grpc.aio interceptor; give it to etcd.AsyncClient"
                if isinstance(interceptor, grpc.aio.ClientInterceptor)
                else ""
            )
            raise EtcdTypeError(
                f"etcd.Client's interceptors are grpcio client interceptors, not "
                f"{type(interceptor).__name__}{hint}"
            )


def is_active(call: Any) -> bool:
    """Whether a streaming call is still running."""
    return bool(call.is_active())


def is_running(worker: threading.Thread) -> bool:
    return worker.is_alive()


def map_concurrently(function: Callable[[_T], _R], items: Sequence[_T], *, name: str) -> list[_R]:
    """``function`` of every item, run concurrently; the results in the items' order."""
    if not items:
        return []
    with ThreadPoolExecutor(max_workers=len(items), thread_name_prefix=name) as pool:
        return list(pool.map(function, items))


def messages(call: Any) -> Iterator[Any]:
    """The messages of a streaming call."""
    return iter(call)


def running_workers(name: str) -> int:
    """How many background threads named ``name`` run (for tests and diagnostics)."""
    return sum(thread.name == name for thread in threading.enumerate())
