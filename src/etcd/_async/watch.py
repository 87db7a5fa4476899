"""Watch calls: :meth:`watch_stream` and the calls written over it.

The stream that every watch of a client shares, and the :class:`etcd.AsyncWatch` handles,
are in :mod:`.watch_stream`, loaded with the first watch; the resume bookkeeping is pure,
in :mod:`etcd._core.watch`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from .._core import exceptions as exc
from .._core import validation as check
from .part import AsyncClientPart

if TYPE_CHECKING:
    from .._core.keys import KeyArg
    from .._core.watch import Event, WatchResponse
    from .watch_stream import AsyncWatch, AsyncWatcher


class _AsyncEventSource(Protocol):
    async def next_event(self, timeout: float | None = None) -> Event: ...

    def cancel(self) -> None: ...


_Watch = TypeVar("_Watch", bound=_AsyncEventSource)


class AsyncWatchMethods(Generic[_Watch]):
    """``watch_prefix`` and ``watch_once``, written once over ``watch_stream`` for the
    client and for :class:`etcd.AsyncNamespace`."""

    __slots__ = ()

    if TYPE_CHECKING:
        watch_stream: Callable[..., _Watch]

    def watch_prefix(self, prefix: KeyArg, **options: Any) -> _Watch:
        """:meth:`watch_stream` of every key starting with ``prefix``."""
        return self.watch_stream(prefix, prefix=True, **options)

    async def watch_once(
        self,
        key: KeyArg,
        range_end: KeyArg | None = None,
        *,
        timeout: float | None = None,
        **options: Any,
    ) -> Event:
        """Wait for the next change (as :meth:`watch_stream` would see it) and return it.

        Raises :class:`etcd.EtcdWatchTimedOut` after ``timeout`` seconds.
        """
        timeout = check.timeout(timeout, "timeout")
        if "callback" in options or "on_error" in options:
            raise exc.EtcdTypeError("watch_once returns the event: it takes no callback")
        watch = self.watch_stream(key, range_end, **options)
        try:
            return await watch.next_event(timeout)
        finally:
            watch.cancel()


class AsyncWatchCalls(AsyncWatchMethods["AsyncWatch"], AsyncClientPart):
    """The client's watch part: every watch shares one stream, made on first use."""

    _watch_stream: AsyncWatcher | None = None

    @property
    def _watcher(self) -> AsyncWatcher:
        """The stream every watch of this client shares, made on first use (a program
        that never watches does not import the watch modules)."""
        with self._made_on_first_use:
            if self._watch_stream is None:
                self._transport.check_usable()
                from .watch_stream import AsyncWatcher

                self._watch_stream = AsyncWatcher(self._transport)
            return self._watch_stream

    async def _close_watches(self) -> None:
        if self._watch_stream is not None:
            await self._watch_stream.close()

    def watch_stream(
        self,
        key: KeyArg,
        range_end: KeyArg | None = None,
        *,
        prefix: bool = False,
        from_key: bool = False,
        start_revision: int | None = None,
        prev_kv: bool = False,
        no_put: bool = False,
        no_delete: bool = False,
        progress_notify: bool = False,
        fragment: bool = False,
        callback: Callable[[WatchResponse], object] | None = None,
        on_error: Callable[[exc.EtcdException], object] | None = None,
    ) -> AsyncWatch:
        """Watch a key, a prefix or a range: every change, in order, none lost or repeated.

        ::

            async with client.watch_stream("/config/", prefix=True) as watch:
                async for event in watch:    # etcd.Event: type, kv, prev_kv
                    apply(event)

        ``start_revision`` replays history from that revision. Without it the watch sees
        the changes made after the server creates it: :meth:`etcd.Watch.wait_created` waits
        for that; or pass the revision of a read plus one to leave no gap at all.
        ``prev_kv`` adds each key's previous value; ``no_put``/``no_delete`` filter events
        out on the server; ``progress_notify`` asks for periodic empty
        responses when idle; ``fragment`` lets the server split huge revisions (they are
        joined again before delivery). With ``callback``, each response with events is
        passed to it on a thread of the watch's own (exceptions it raises are logged and
        the watch goes on); ``on_error`` receives the error that ends the watch.

        All watches of a client share one gRPC stream. When it breaks, it is reopened on a
        healthy member from the revision after the last one delivered. A watch whose
        resume point was compacted fails with :class:`etcd.EtcdCompacted`.
        """
        from .._core.watch import WatchSpec

        spec = WatchSpec.build(
            key,
            range_end,
            prefix=prefix,
            from_key=from_key,
            start_revision=start_revision,
            prev_kv=prev_kv,
            no_put=no_put,
            no_delete=no_delete,
            progress_notify=progress_notify,
            fragment=fragment,
        )
        return self._watcher.watch(spec, callback, on_error)

    def request_progress(self) -> None:
        """Ask the server to tell every watch how far it is (a progress notification)."""
        self._watcher.request_progress()
