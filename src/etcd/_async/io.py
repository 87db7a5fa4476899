"""The primitives of the asyncio shell, under the names :mod:`etcd._sync.io` uses too.

Critical sections in the asyncio shell never await, so on one event loop they are atomic
already: ``Lock`` and the ``with`` side of ``Condition`` are no-ops kept so that the
generated sync code gets its real locks at the same places.
"""

from __future__ import annotations

import asyncio
import collections
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Sequence
from types import TracebackType
from typing import Any, Generic, TypeAlias, TypeVar

import grpc

from .._core.exceptions import EtcdTypeError

_T = TypeVar("_T")
_R = TypeVar("_R")


class Empty(Exception):
    """Nothing arrived in time (``queue.Empty`` of the sync shell)."""


class Lock:
    """A critical section without awaits: nothing to exclude on one event loop."""

    def __enter__(self) -> None:
        return None

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        return None


class Flag:
    """An event flag (``threading.Event``); ``wait`` returns whether it is set."""

    __slots__ = ("_set", "_waiters")

    def __init__(self) -> None:
        self._set = False
        self._waiters: list[asyncio.Future[bool]] = []

    def set(self) -> None:
        self._set = True
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_result(True)

    def is_set(self) -> bool:
        return self._set

    def clear(self) -> None:
        self._set = False

    async def wait(self, timeout: float | None = None) -> bool:
        """Whether the event is set, waiting at most ``timeout`` seconds for it."""
        if self._set:
            return True
        # A future and a timer, not asyncio.wait_for: that costs a task per wait, and
        # coalesced calls wait once each.
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[bool] = loop.create_future()
        timer = None if timeout is None else loop.call_later(max(timeout, 0), _expire, waiter)
        self._waiters.append(waiter)
        try:
            return await waiter
        finally:
            self._waiters.remove(waiter)
            if timer is not None:
                timer.cancel()


def _expire(waiter: asyncio.Future[bool]) -> None:
    if not waiter.done():
        waiter.set_result(False)


class Condition(Lock):
    """``wait`` returns when notified or after ``timeout``, whichever is first."""

    def __init__(self) -> None:
        self._waiters: collections.deque[asyncio.Future[None]] = collections.deque()

    def notify_all(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)

    async def wait(self, timeout: float | None = None) -> bool:
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await asyncio.wait_for(waiter, timeout)
        except asyncio.TimeoutError:
            return False
        finally:
            if waiter in self._waiters:
                self._waiters.remove(waiter)
        return True


class Queue(Generic[_T]):
    """A queue without a bound; ``get`` raises :class:`Empty` after ``timeout``."""

    def __init__(self) -> None:
        self._queue: asyncio.Queue[_T] = asyncio.Queue()

    def get_nowait(self) -> _T:
        try:
            return self._queue.get_nowait()
        except asyncio.QueueEmpty:
            raise Empty from None

    def put(self, item: _T) -> None:
        self._queue.put_nowait(item)

    async def get(self, timeout: float | None = None) -> _T:
        if timeout is None:
            return await self._queue.get()
        try:
            return await asyncio.wait_for(self._queue.get(), timeout)
        except asyncio.TimeoutError:
            raise Empty from None


Worker: TypeAlias = "asyncio.Task[Any]"
sleep = asyncio.sleep


def spawn(
    target: Callable[..., Coroutine[Any, Any, object]], *args: Any, name: str
) -> asyncio.Task[object]:
    """Run ``target(*args)`` in the background (a task on the running loop)."""
    return asyncio.get_running_loop().create_task(target(*args), name=name)


def is_current(worker: asyncio.Task[Any]) -> bool:
    return worker is asyncio.current_task()


async def join(worker: asyncio.Task[Any], timeout: float | None) -> None:
    """Wait for ``worker`` to end, at most ``timeout`` seconds (then cancel it)."""
    if worker.done():
        return
    try:
        await asyncio.wait_for(asyncio.shield(worker), timeout)
    except asyncio.TimeoutError:
        worker.cancel()
    except Exception:
        pass


def open_channel(
    target: str,
    options: Sequence[tuple[str, Any]],
    credentials: grpc.ChannelCredentials | None,
    interceptors: Sequence[Any] = (),
) -> grpc.aio.Channel:
    chain = list(interceptors) or None
    if credentials is None:
        return grpc.aio.insecure_channel(target, options=options, interceptors=chain)
    return grpc.aio.secure_channel(target, credentials, options=options, interceptors=chain)


def check_interceptors(interceptors: Sequence[object]) -> None:
    """Refuse, before any channel is made, what ``grpc.aio`` cannot use as an interceptor."""
    for interceptor in interceptors:
        if not isinstance(interceptor, grpc.aio.ClientInterceptor):
            hint = (
                ": it is an interceptor for grpcio's sync channels; give it to etcd.Client"
                if isinstance(interceptor, _SYNC_INTERCEPTORS)
                else ""
            )
            raise EtcdTypeError(
                f"etcd.AsyncClient's interceptors are grpc.aio client interceptors, not "
                f"{type(interceptor).__name__}{hint}"
            )


_SYNC_INTERCEPTORS = (
    grpc.UnaryUnaryClientInterceptor,
    grpc.UnaryStreamClientInterceptor,
    grpc.StreamUnaryClientInterceptor,
    grpc.StreamStreamClientInterceptor,
)


def is_active(call: Any) -> bool:
    """Whether a streaming call is still running."""
    return not call.done()


def is_running(worker: asyncio.Task[Any]) -> bool:
    return not worker.done()


async def map_concurrently(
    function: Callable[[_T], Awaitable[_R]], items: Sequence[_T], *, name: str
) -> list[_R]:
    """``function`` of every item, run concurrently; the results in the items' order."""
    return list(await asyncio.gather(*(function(item) for item in items)))


class CancelledCall(grpc.RpcError):  # type: ignore[misc]
    """A streaming call this client cancelled itself (what gRPC's blocking API raises)."""

    def code(self) -> grpc.StatusCode:
        return grpc.StatusCode.CANCELLED

    def details(self) -> str:
        return "cancelled by the client"


async def messages(call: Any) -> AsyncIterator[Any]:
    """The messages of a streaming call; ends with :class:`CancelledCall` when the call
    was cancelled by this client (gRPC's asyncio API cancels the reading task instead)."""
    try:
        async for message in call:
            yield message
    except asyncio.CancelledError:
        task = asyncio.current_task()
        cancelling = getattr(task, "cancelling", None)
        if call.cancelled() and not (cancelling is not None and cancelling()):
            raise CancelledCall() from None
        raise


def running_workers(name: str) -> int:
    """How many background tasks named ``name`` run (for tests and diagnostics)."""
    return sum(task.get_name() == name for task in asyncio.all_tasks() if not task.done())


async def run_shielded(target: Callable[..., Awaitable[object]], *args: Any) -> None:
    """Run ``target(*args)`` to its end even if the caller is cancelled meanwhile."""
    await asyncio.shield(target(*args))
