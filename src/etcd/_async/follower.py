"""What a cache and a mirror share: a task of their own that follows a prefix until it is
closed or fails, and never fails silently.

A subclass says what the work is (:meth:`AsyncFollower._follow`) and what to wake when it
ends (:meth:`AsyncFollower._on_end`); this class starts it once, closes it, keeps the error
that stopped it, logs it, and raises it from the waits.
"""

from __future__ import annotations

import logging
from types import TracebackType
from typing import ClassVar, TypeVar

from .._core import exceptions as exc
from .io import Flag, Worker, is_current, join, spawn
from .watch_stream import AsyncWatch

_Self = TypeVar("_Self", bound="AsyncFollower")


class AsyncFollower:
    """A background follower of a prefix: started once, closed once, failed loudly."""

    #: What it is, in messages ("cache", "mirror"), and the name of its task.
    _kind: ClassVar[str]
    _log: ClassVar[logging.Logger]

    def __init__(self, prefix: bytes) -> None:
        self._followed = prefix
        self._ended = Flag()
        self._watch: AsyncWatch | None = None
        self._worker: Worker | None = None
        self._closed = False
        self.error: exc.EtcdException | None = None
        """Why it stopped following etcd for good (``None`` while it follows, and after
        a close)."""

    async def start(self: _Self) -> _Self:
        """Start in the background (once); returns itself."""
        if self._closed:
            raise exc.EtcdClientClosed(f"the {self._kind} is closed")
        if self._worker is None:
            self._worker = spawn(self._run, name=f"etcd-{self._kind}")
        return self

    async def close(self) -> None:
        """Stop the watch and the background work."""
        self._closed = True
        watch = self._watch
        if watch is not None:
            watch.cancel()
        self._end()
        worker = self._worker
        if worker is not None and not is_current(worker):
            await join(worker, 5)

    async def __aenter__(self: _Self) -> _Self:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    async def _follow(self) -> None:
        """The work, until closed; an :class:`etcd.EtcdException` it raises stops it."""
        raise NotImplementedError

    def _on_end(self) -> None:
        """Wake whoever waits, once the work has ended (closed or failed)."""

    async def _run(self) -> None:
        try:
            await self._follow()
        except exc.EtcdException as error:
            if not self._closed:
                self._fail(error)
        except Exception as error:  # pragma: no cover - a bug must still be heard
            self._log.exception("the %s of %r failed", self._kind, self._followed)
            self._fail(exc.EtcdException(f"the {self._kind} failed unexpectedly: {error!r}"))
        finally:
            self._end()

    def _fail(self, error: exc.EtcdException) -> None:
        if self.error is None:
            self.error = error
            self._log.error("the %s of %r stopped: %s", self._kind, self._followed, error)
        self._end()

    def _end(self) -> None:
        if self._ended.is_set():
            return
        self._ended.set()
        self._on_end()

    def _raise_error(self) -> None:
        if self.error is not None:
            raise self.error
