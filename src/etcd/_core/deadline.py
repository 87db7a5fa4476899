"""Deadlines as ``time.monotonic()`` instants; ``None`` is no deadline at all.

A timeout is turned into a deadline once, when a call starts, so that retries, reconnects
and waits in a loop all share the time the caller gave rather than each getting it anew.
"""

from __future__ import annotations

import time


def deadline_after(timeout: float | None) -> float | None:
    """The instant ``timeout`` seconds from now (``None``: never)."""
    return None if timeout is None else time.monotonic() + timeout


def time_left(deadline: float | None) -> float | None:
    """Seconds until ``deadline``; ``None`` without one, and ``0.0`` once it has passed.

    Floored at zero, not at some small positive value: a passed deadline then shows as
    passed (``time_left(d) == 0`` exactly when :func:`deadline_passed`), and the result is
    always a valid timeout, also for the waits that refuse a negative one (``queue.get``).
    """
    return None if deadline is None else max(0.0, deadline - time.monotonic())


def deadline_passed(deadline: float | None) -> bool:
    """Whether ``deadline`` has come (never, without one)."""
    return deadline is not None and time.monotonic() >= deadline
