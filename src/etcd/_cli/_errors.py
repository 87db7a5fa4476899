"""Exit codes and error lines, as etcdctl's (pure).

Every failure ends as one line ``Error: <message>`` on stderr and one of etcdctl's exit
codes; no traceback is ever shown.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import TypeVar

from .._core.exceptions import (
    EtcdAuthFailed,
    EtcdException,
)

_T = TypeVar("_T")


class ExitCode(enum.IntEnum):
    """etcdctl's exit codes."""

    SUCCESS = 0
    ERROR = 1
    BAD_CONNECTION = 2
    INVALID_INPUT = 3
    BAD_FEATURE = 4
    INTERRUPTED = 5
    IO = 6
    BAD_ARGS = 128


class CLIError(Exception):
    """A failure to report as ``Error: <message>`` with an exit code."""

    def __init__(self, message: str, code: int = ExitCode.ERROR) -> None:
        super().__init__(message)
        self.message = message
        self.code = int(code)


def usage(message: str) -> CLIError:
    """Bad arguments (etcdctl's exit code 128)."""
    return CLIError(message, ExitCode.BAD_ARGS)


# The server's own words, as etcdctl shows them, start like this.
_SERVER_PREFIXES = ("etcdserver:", "mvcc:", "auth:", "election:", "lease:")


def error_message(error: EtcdException) -> str:
    """What to print after ``Error:`` for a client error.

    etcd's own messages (``etcdserver: key not found``) are shown as etcdctl shows them;
    everything else with the client's fuller explanation.
    """
    details = (error.details or "").strip()
    if details and details.startswith(_SERVER_PREFIXES):
        return details
    return " ".join(str(error).split()) or type(error).__name__


def exit_code(error: EtcdException) -> int:
    """etcdctl's exit code for a failed request."""
    if isinstance(error, EtcdAuthFailed) and "user name is empty" not in (error.details or ""):
        # etcdctl authenticates while connecting, and a refused password fails that; a
        # request sent without credentials is refused like any other request.
        return ExitCode.BAD_CONNECTION
    return ExitCode.ERROR


def from_etcd(error: EtcdException, code: int | None = None) -> CLIError:
    return CLIError(error_message(error), exit_code(error) if code is None else code)


def call_etcd(function: Callable[[], _T]) -> _T:
    """``function()``; an etcd error becomes the :class:`CLIError` etcdctl would print."""
    try:
        return function()
    except EtcdException as error:
        raise from_etcd(error) from None
