"""The command-line tool: etcdctl's commands, flags, environment and output, in Python.

``python -m etcd`` and the ``etcd-client`` console script both call :func:`main`.
:func:`run` is the same with the streams and the environment passed in, for tests and
embedding. Nothing here is imported by ``import etcd``.
"""

from __future__ import annotations

import logging
import os
import sys
import traceback
from collections.abc import Mapping, Sequence
from typing import IO, Final

from .._core.exceptions import EtcdException
from . import (
    _commands_auth,
    _commands_cluster,
    _commands_concurrency,
    _commands_kv,
    _commands_lease,
    _commands_mirror,
    _commands_misc,
)
from ._context import Context, Interrupted
from ._debug import wants_debug
from ._errors import CLIError, ExitCode, from_etcd
from ._parser import (
    Command,
    build_parser,
    find_command,
    group_help,
    resolve_globals,
    top_help,
)

__all__ = ["COMMANDS", "main", "run"]

COMMANDS: Final[list[Command]] = sorted(
    [
        *_commands_auth.COMMANDS,
        *_commands_cluster.COMMANDS,
        *_commands_concurrency.COMMANDS,
        *_commands_kv.COMMANDS,
        *_commands_lease.COMMANDS,
        *_commands_mirror.COMMANDS,
        *_commands_misc.COMMANDS,
    ],
    key=lambda command: command.name,
)


def run(
    argv: Sequence[str],
    *,
    stdin: IO[bytes] | None = None,
    stdout: IO[bytes] | None = None,
    stderr: IO[str] | None = None,
    environ: Mapping[str, str] | None = None,
    prog: str = "etcd-client",
) -> int:
    """Run one command line and return its exit code (errors are reported on ``stderr``)."""
    err = stderr if stderr is not None else sys.stderr
    env = environ if environ is not None else os.environ
    try:
        return _run(
            list(argv),
            stdin=stdin if stdin is not None else sys.stdin.buffer,
            stdout=stdout if stdout is not None else sys.stdout.buffer,
            stderr=err,
            environ=env,
            prog=prog,
        )
    except CLIError as error:
        err.write(f"Error: {error.message}\n")
        return error.code
    except EtcdException as error:
        failure = from_etcd(error)
        err.write(f"Error: {failure.message}\n")
        return failure.code
    except (KeyboardInterrupt, Interrupted):
        return 130
    except BrokenPipeError:
        raise
    except Exception as error:  # a bug: still one line, unless debugging
        if wants_debug(argv, env):
            traceback.print_exc(file=err)
        err.write(f"Error: {type(error).__name__}: {error}\n")
        return ExitCode.ERROR
    finally:
        err.flush()


def _run(
    argv: list[str],
    *,
    stdin: IO[bytes],
    stdout: IO[bytes],
    stderr: IO[str],
    environ: Mapping[str, str],
    prog: str,
) -> int:
    invocation = find_command(argv, COMMANDS)
    if invocation.help_for:
        stdout.write(_help(prog, invocation.help_for).encode())
        return 0
    if invocation.unknown is not None:
        where = f"{prog} {invocation.group}" if invocation.group else prog
        raise CLIError(
            f'unknown command "{invocation.unknown}" for "{where}" '
            f"(run '{where} --help' for usage)"
        )
    command = invocation.command
    if command is None:
        if invocation.group:
            stdout.write(group_help(prog, invocation.group, COMMANDS).encode())
        else:
            stdout.write(top_help(prog, COMMANDS).encode())
        return 0
    parser = build_parser(prog, command)
    if "-h" in invocation.tokens or "--help" in invocation.tokens:
        stdout.write(parser.format_help().encode())
        return 0
    options = parser.parse(invocation.tokens)
    options.exec_args = None
    if invocation.after_dashes is not None:
        if command.takes_command:
            options.exec_args = invocation.after_dashes
        else:
            options.args = [*getattr(options, "args", []), *invocation.after_dashes]
    global_options = resolve_globals(options, environ)
    logger = logging.getLogger("etcd")
    handler: logging.Handler | None = None
    level = logger.level
    if global_options.debug:
        handler = logging.StreamHandler(stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)
    context = Context(
        global_options, stdin=stdin, stdout=stdout, stderr=stderr, environ=environ, prog=prog
    )
    try:
        return command.run(context, options)
    finally:
        context.close()
        stdout.flush()
        if handler is not None:
            logger.removeHandler(handler)
            logger.setLevel(level)


def _help(prog: str, words: list[str]) -> str:
    path = tuple(word for word in words if word)
    for command in COMMANDS:
        if command.path == path:
            return build_parser(prog, command).format_help()
    if len(path) == 1 and any(command.path[0] == path[0] for command in COMMANDS):
        return group_help(prog, path[0], COMMANDS)
    return top_help(prog, COMMANDS)


def main(argv: Sequence[str] | None = None, *, prog: str | None = None) -> int:
    """The ``etcd-client`` console script and ``python -m etcd``."""
    name = prog or os.path.basename(sys.argv[0] or "etcd-client")
    if name in ("__main__.py", "-c", ""):
        name = "python -m etcd"
    try:
        return run(sys.argv[1:] if argv is None else argv, prog=name)
    except BrokenPipeError:
        # The reader went away (| head): stop quietly, like any Unix tool.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return ExitCode.IO
