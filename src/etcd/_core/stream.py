"""What a long-lived stream does after a failure (pure, no I/O).

Watches and lease keep-alives each keep one stream open per client and open it again
when it breaks. Whether to open it again, and whether to log in again first, depends only
on the error; how loudly to log it, only on how many failures came in a row.
"""

from __future__ import annotations

import enum
import logging

from . import exceptions as exc

# No stream cures these: the client can no longer be used.
ALWAYS_FINAL: tuple[type[exc.EtcdException], ...] = (exc.EtcdClientClosed, exc.EtcdForkedClient)

# A member restarting or a leader election breaks a stream a few times in a row; that is
# routine, and logged as such. More failures in a row are worth a warning.
ROUTINE_FAILURES = 3


class StreamFailure(enum.Enum):
    """What to do after a stream failed."""

    RESUME = "resume"
    """Open the stream again (on another member if this one cannot serve)."""
    REAUTHENTICATE = "reauthenticate"
    """Drop the token, then open the stream again: logging in again may cure it."""
    FINAL = "final"
    """Fail everything that waits on the stream: no new stream will serve it."""


def token_may_be_stale(error: BaseException) -> bool:
    """Whether the server refused our token as expired or outdated, so that logging in
    again may cure ``error``."""
    return isinstance(error, (exc.EtcdInvalidAuthToken, exc.EtcdAuthRevisionOld))


def classify_failure(
    error: exc.EtcdException, final: tuple[type[exc.EtcdException], ...] = ()
) -> StreamFailure:
    """What to do after ``error``; ``final`` adds the errors that no new stream cures for
    this kind of stream."""
    if isinstance(error, ALWAYS_FINAL + final):
        return StreamFailure.FINAL
    if token_may_be_stale(error):
        return StreamFailure.REAUTHENTICATE
    return StreamFailure.RESUME


def failure_log_level(failures: int) -> int:
    """The level to log the ``failures``-th failure in a row at."""
    return logging.INFO if failures <= ROUTINE_FAILURES else logging.WARNING
