"""Keys: ``get``, ``put``, ``del``, ``txn``, ``watch``, ``compaction``."""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import threading
from collections.abc import Iterator, Sequence

from .._core import exceptions as exc
from .._core.keys import ALL_KEYS, KeyArg
from .._core.watch import WatchResponse
from .._sync.watch_stream import Watch
from ._context import Context, Interrupted, interruptible
from ._errors import CLIError, ExitCode, error_message, from_etcd, usage
from ._gofmt import parse_int, quote
from ._kvargs import (
    add_del_options,
    add_get_options,
    add_put_options,
    delete_op,
    put_op,
    range_op,
)
from ._parser import Command, CommandLine, file_encode, go_int
from ._txn import argify, read_txn
from .printers import Printer, WatchBatch


def _positional(options: argparse.Namespace) -> list[bytes]:
    return [file_encode(arg) for arg in options.args]


# --- get / put / del ------------------------------------------------------------------------


def run_get(context: Context, options: argparse.Namespace) -> int:
    if options.count_only and context.options.write_out != "fields":
        raise usage("--count-only is only for `--write-out=fields`")
    if options.print_value_only:
        if context.options.write_out != "simple":
            raise usage("print-value-only is only for `--write-out=simple`")
        context.printer.value_only = True
    printer = context.require("get")
    try:
        op = range_op(_positional(options), options)
        response = context.client().do(op)
    except exc.EtcdException as error:
        raise from_etcd(error) from None
    context.write(printer.get(response))
    return 0


def run_put(context: Context, options: argparse.Namespace) -> int:
    printer = context.require("put")
    try:
        op = put_op(_positional(options), options, context.stdin.read)
        response = context.client().do(op)
    except exc.EtcdException as error:
        raise from_etcd(error) from None
    context.write(printer.put(response))
    return 0


def run_del(context: Context, options: argparse.Namespace) -> int:
    printer = context.require("delete")
    try:
        op = delete_op(_positional(options), options)
        response = context.client().do(op)
    except exc.EtcdException as error:
        raise from_etcd(error) from None
    context.write(printer.delete(response))
    return 0


# --- txn ------------------------------------------------------------------------------------


def run_txn(context: Context, options: argparse.Namespace) -> int:
    if options.args:
        raise usage("txn command does not accept argument")
    printer = context.require("txn")

    def lines() -> Iterator[str]:
        while True:
            raw = context.stdin.readline()
            if not raw:
                return
            yield raw.decode("utf-8", "surrogateescape")

    def prompt(heading: str) -> None:
        context.write(heading.encode() + b"\n")

    txn = read_txn(lines(), prompt if options.interactive else None)
    try:
        response = context.client().txn(txn)
    except exc.EtcdException as error:
        raise from_etcd(error) from None
    context.write(printer.txn(response))
    return 0


# --- compaction -----------------------------------------------------------------------------


def run_compaction(context: Context, options: argparse.Namespace) -> int:
    if len(options.args) != 1:
        raise usage("compaction command needs 1 argument")
    try:
        revision = parse_int(options.args[0], 10)
    except ValueError as error:
        raise CLIError(str(error)) from None
    try:
        context.client().compact(revision, physical=options.physical)
    except exc.EtcdException as error:
        raise from_etcd(error) from None
    context.write(f"compacted revision {revision}\n".encode())
    return 0


# --- watch ----------------------------------------------------------------------------------

_BAD_ARGS = "bad number of arguments"


def _watch_target(
    context: Context, args: Sequence[str], prefix: bool
) -> tuple[KeyArg, bytes | None, bool]:
    """The key and range end of a watch: from the arguments or ETCDCTL_WATCH_KEY and
    ETCDCTL_WATCH_RANGE_END."""
    env_key = context.environ.get("ETCDCTL_WATCH_KEY", "")
    env_end = context.environ.get("ETCDCTL_WATCH_RANGE_END", "")
    if env_key:
        if args:
            raise usage(f"{_BAD_ARGS} (found conflicting environment key)")
        args = [env_key] + ([env_end] if env_end else [])
    if not args or len(args) > 2:
        raise usage(_BAD_ARGS)
    key = file_encode(args[0])
    end = file_encode(args[1]) if len(args) > 1 else None
    if prefix and end is not None:
        raise usage(f"{_BAD_ARGS} (--prefix takes no range end)")
    if prefix and not key:
        return ALL_KEYS, None, False
    return key, end, prefix


def _open_watch(context: Context, options: argparse.Namespace, args: Sequence[str]) -> Watch:
    key, end, prefix = _watch_target(context, args, options.prefix)
    try:
        return context.client().watch_stream(
            key,
            end,
            prefix=prefix,
            start_revision=options.rev if options.rev > 0 else None,
            prev_kv=options.prev_kv,
            progress_notify=options.progress_notify,
        )
    except exc.EtcdException as error:
        raise from_etcd(error) from None


def _run_for_events(context: Context, response: WatchResponse, command: Sequence[str]) -> None:
    for event in response.events:
        env = dict(context.environ)
        env["ETCD_WATCH_REVISION"] = str(response.header.revision)
        env["ETCD_WATCH_EVENT_TYPE"] = quote(event.type.name)
        env["ETCD_WATCH_KEY"] = quote(event.key)
        env["ETCD_WATCH_VALUE"] = quote(event.value)
        status = context.run_child(command, env)
        if status != 0:
            listed = "[" + " ".join(quote(arg) for arg in command) + "]"
            reason = f"exit status {status}" if status > 0 else f"signal {-status}"
            raise CLIError(f"command {listed} error ({reason})")


def _canceled_batch(context: Context, key: KeyArg, error: exc.EtcdCompacted) -> WatchBatch:
    """The response etcdctl prints for a watch the server cancelled as compacted: the
    header of the member (without a revision) and the compact revision."""
    header = dataclasses.replace(context.client().range(key, count_only=True).header, revision=0)
    return WatchBatch(
        header, [], compact_revision=getattr(error, "compact_revision", 0), canceled=True
    )


def _follow(
    context: Context,
    watch: Watch,
    printer: Printer,
    command: Sequence[str] | None,
    key: KeyArg,
) -> None:
    """Print every response of ``watch`` (running ``command`` per event) until it ends."""
    try:
        for response in watch.responses(progress=True):
            if response.progress:
                context.write(f"progress notify: {response.header.revision}\n".encode())
            context.write(
                printer.watch(
                    WatchBatch(response.header, response.events, events_null=response.progress)
                )
            )
            if command:
                _run_for_events(context, response, command)
    except exc.EtcdException as error:
        if isinstance(error, exc.EtcdCompacted) and printer.name in ("json", "fields"):
            with contextlib.suppress(exc.EtcdException):
                context.write(printer.watch(_canceled_batch(context, key, error)))
        context.warn(f"watch was canceled ({_reason(error)})")
        raise CLIError("watch is canceled by the server", ExitCode.INTERRUPTED) from None


def _reason(error: exc.EtcdException) -> str:
    if isinstance(error, exc.EtcdCompacted):
        return "etcdserver: mvcc: required revision has been compacted"
    return error_message(error)


def run_watch(context: Context, options: argparse.Namespace) -> int:
    printer = context.require("watch")
    if options.interactive:
        return _watch_interactive(context, options, printer)
    command = options.exec_args
    if command is not None and not command:
        raise usage(f"{_BAD_ARGS} (found separator --, but no commands)")
    with interruptible():
        try:
            watch = _open_watch(context, options, options.args)
            with watch:
                _follow(context, watch, printer, command, watch.spec.key)
        except Interrupted:
            return 0
    return 0


def _watch_interactive(context: Context, options: argparse.Namespace, printer: Printer) -> int:
    """``watch -i``: read ``watch [options] key [range_end] [-- command]`` and ``progress``
    lines from stdin; every watch runs until interrupted."""
    threads: list[threading.Thread] = []
    watches: list[Watch] = []

    def start(args: list[str]) -> None:
        parser = CommandLine(prog="watch", usage="watch")
        _watch_options(parser)
        command: list[str] | None = None
        if "--" in args:
            cut = args.index("--")
            args, command = args[:cut], args[cut + 1 :]
        line_options = parser.parse(args)
        watch = _open_watch(context, line_options, line_options.args)
        watches.append(watch)

        def follow() -> None:
            try:
                _follow(context, watch, printer, command, watch.spec.key)
            except CLIError as error:
                context.warn(f"Error: {error.message}")

        thread = threading.Thread(target=follow, name="etcd-cli-watch", daemon=True)
        thread.start()
        threads.append(thread)

    with interruptible():
        try:
            while True:
                raw = context.stdin.readline()
                if not raw:
                    break
                line = raw.decode("utf-8", "surrogateescape").rstrip("\n")
                args = argify(line)
                if not args:
                    context.warn(f"Invalid command: {line} (watch and progress supported)")
                elif args[0] == "watch":
                    try:
                        start(args[1:])
                    except CLIError as error:
                        context.warn(f"Invalid command {line} ({error.message})")
                elif args[0] == "progress":
                    context.client().request_progress()
                else:
                    context.warn(f"Invalid command {line} (only support watch)")
            while watches and any(thread.is_alive() for thread in threads):
                for thread in threads:
                    thread.join(0.25)
        except Interrupted:
            pass
        finally:
            for watch in watches:
                watch.cancel()
    return 0


def _watch_options(parser: CommandLine) -> None:
    parser.add_bool("-i", "--interactive", help="read commands from standard input")
    parser.add_bool("--prefix", help="watch every key that starts with the given one")
    parser.add_bool("--prev-kv", help="also print each key-value as it was before the change")
    parser.add_bool("--progress-notify", help="ask the server for periodic progress notifications")
    parser.add_argument(
        "--rev", type=go_int, default=0, help="start from this revision (history included)"
    )
    parser.add_argument("args", nargs="*", metavar="[key or prefix] [range_end]")


def _txn_options(parser: CommandLine) -> None:
    parser.add_bool("-i", "--interactive", help="prompt for the compares and requests")
    parser.add_argument("args", nargs="*", help=argparse.SUPPRESS)


def _compaction_options(parser: CommandLine) -> None:
    parser.add_bool("--physical", help="wait until the old revisions are removed from disk")
    parser.add_argument("args", nargs="*", metavar="<revision>")


_TXN_HELP = """\
The transaction is read from stdin in three parts, each ended by an empty line:
comparisons, the requests run when they all hold, and those run otherwise.

  mod("key1") > "0"
  value("key2") = "expected"

  put key1 "new value"
  del key2 --prev-kv

  get key1

Comparison targets: value (val), version (ver), create (c), mod (m), lease (hex ID);
operators: =, !=, <, >. Requests: get, put and del with their options."""

_WATCH_HELP = """\
Runs until interrupted (Ctrl+C). After --, a command is run for every event, with
ETCD_WATCH_REVISION, ETCD_WATCH_EVENT_TYPE, ETCD_WATCH_KEY and ETCD_WATCH_VALUE set
(quoted as etcdctl quotes them). The key and range end can also come from
ETCDCTL_WATCH_KEY and ETCDCTL_WATCH_RANGE_END."""

_PUT_HELP = """\
When <value> begins with '-', it is read as a flag: put -- <key> <value>.
Without a <value> (and without --ignore-value), the value is read from stdin:
  cat file | put <key>"""


COMMANDS = [
    Command(("get",), "Read a key, a prefix or a range", "get [options] <key> [range_end]",
            run_get, add_get_options),
    Command(("put",), "Write a key", "put [options] <key> <value>",
            run_put, add_put_options, _PUT_HELP),
    Command(("del",), "Delete a key, a prefix or a range",
            "del [options] <key> [range_end]", run_del, add_del_options),
    Command(("txn",), "Run compares, then success or failure requests, atomically", "txn [options]",
            run_txn, _txn_options, _TXN_HELP),
    Command(("watch",), "Print the changes of a key, a prefix or a range as they happen",
            "watch [options] [key or prefix] [range_end] [--] [exec-command arg1 arg2 ...]",
            run_watch, _watch_options, _WATCH_HELP, takes_command=True),
    Command(("compaction",), "Discard the history before a revision",
            "compaction [options] <revision>", run_compaction, _compaction_options),
]  # fmt: skip
