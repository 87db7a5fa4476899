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
from .._core import validation as check
from .._core.deadline import deadline_after, deadline_passed, time_left
from .._core.log_fields import log_fields
from .io import Condition, Flag, Worker, is_current, join, spawn
from .watch_stream import AsyncWatch

_Self = TypeVar("_Self", bound="AsyncFollower")

# How long a wait for a revision sleeps between looks, when nothing wakes it.
_WAITING_PAUSE = 0.25


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
        # Notified whenever the revision followed moves on, and when the work ends.
        self._revision_changed = Condition()
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
        worker = self._worker
        if worker is not None and not is_current(worker):
            # Ended by the cancelled watch, the worker first hands out every update it
            # applied: a subscriber's iterator must not end ahead of them.
            await join(worker, 5)
        self._end()

    async def __aenter__(self: _Self) -> _Self:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    @property
    def revision(self) -> int:
        """The source revision the follower has caught up with."""
        raise NotImplementedError

    async def _wait_for_revision(self, revision: int, timeout: float | None) -> None:
        wanted = check.integer(revision, "revision", minimum=0)
        deadline = deadline_after(check.timeout(timeout, "timeout"))
        while self.revision < wanted:
            self._raise_error()
            if self._closed:
                raise exc.EtcdClientClosed(f"the {self._kind} is closed")
            if deadline_passed(deadline):
                raise exc.EtcdTimeout(
                    f"the {self._kind} of {self._followed!r} did not reach revision {wanted} "
                    f"within {timeout} s (it is at {self.revision})"
                )
            left = time_left(deadline)
            pause = _WAITING_PAUSE if left is None else min(left, _WAITING_PAUSE)
            with self._revision_changed:
                # Checked under the lock the worker notifies under: no wake-up is lost.
                if self.revision >= wanted:
                    return
                moved = await self._revision_changed.wait(pause)
            if not moved and await self._caught_up_quietly(wanted):
                return

    async def _caught_up_quietly(self, revision: int) -> bool:
        """Whether ``revision`` is reached though nothing said so (a wait's pause passed
        without news): a subclass may ask the server."""
        return False

    def _revision_moved(self) -> None:
        with self._revision_changed:
            self._revision_changed.notify_all()

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
            self._log.exception(
                "the %s of %r failed",
                self._kind,
                self._followed,
                extra=log_fields(prefix=self._followed, error=error),
            )
            self._fail(exc.EtcdException(f"the {self._kind} failed unexpectedly: {error!r}"))
        finally:
            self._end()

    def _fail(self, error: exc.EtcdException) -> None:
        if self.error is None:
            self.error = error
            self._log.error(
                "the %s of %r stopped: %s",
                self._kind,
                self._followed,
                error,
                extra=log_fields(prefix=self._followed, endpoint=error.endpoint, error=error),
            )
        self._end()

    def _end(self) -> None:
        if self._ended.is_set():
            return
        self._ended.set()
        self._on_end()
        self._revision_moved()  # waiters for a revision wake up and find why it ended

    def _raise_error(self) -> None:
        if self.error is not None:
            raise self.error
