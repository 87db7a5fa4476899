"""Locks and elections: ``lock`` and ``elect``, interoperable with etcdctl's."""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
from typing import TYPE_CHECKING, NoReturn

from .._core import exceptions as exc
from .._core.keys import prefix_end
from .._core.kv import SortOrder, SortTarget
from .._core.responses import KeyValue, ResponseHeader
from .._core.watch import EventType
from ._context import Context, Interrupted, interruptible
from ._errors import CLIError, from_etcd, usage
from ._parser import Command, CommandLine, file_encode, go_int
from .printers import Observed

if TYPE_CHECKING:
    from .._sync.concurrency import Session


def run_lock(context: Context, options: argparse.Namespace) -> int:
    args = list(options.args) + list(options.exec_args or [])
    if not args:
        raise usage("lock takes a lock name argument and an optional command to execute")
    name, command = args[0], args[1:]
    printer = context.require("get")
    client = context.client()
    lock = client.lock(file_encode(name), ttl=options.ttl)
    with interruptible():
        try:
            lock.acquire()
        except Interrupted:
            raise CLIError("context canceled") from None
        except exc.EtcdException as error:
            raise from_etcd(error) from None
        try:
            key = lock.key or b""
            if command:
                env = {
                    "ETCD_LOCK_KEY": key.decode("utf-8", "surrogateescape"),
                    "ETCD_LOCK_REV": str(lock.revision),
                }
                env.update(context.environ)
                status = context.run_child(command, env)
                if status != 0:
                    raise CLIError(f"exit status {status}")
                return 0
            held = client.range(key)
            if not held.kvs:
                raise CLIError("lock lost on init")
            context.write(printer.get(held))
            _hold_until_lost(lock.session, "session expired")
        except Interrupted:
            return 0
        except exc.EtcdException as error:
            raise from_etcd(error) from None
        finally:
            with contextlib.suppress(exc.EtcdException, Interrupted):
                lock.release()


def _hold_until_lost(session: Session | None, message: str) -> NoReturn:
    """Keep a lock or a leadership until its session's lease is lost, then fail with
    ``message`` (Ctrl+C raises Interrupted meanwhile: the short waits let it through)."""
    while session is None or not session.wait_lost(0.5):
        pass
    raise CLIError(message)


def run_elect(context: Context, options: argparse.Namespace) -> int:
    if len(options.args) not in (1, 2):
        raise usage("elect takes one election name argument and an optional proposal argument")
    printer = context.require("get")
    name = file_encode(options.args[0])
    if len(options.args) == 1:
        if not options.listen:
            raise usage("no proposal argument but -l not set")
        with interruptible():
            try:
                _observe(context, name)
            except Interrupted:
                return 0
            except exc.EtcdException as error:
                raise CLIError(f"elect: observer lost ({error})") from None
        return 0
    proposal = file_encode(options.args[1])
    election = context.client().election(name)
    with interruptible():
        try:
            election.campaign(proposal)
        except Interrupted:
            raise CLIError("context canceled") from None
        except exc.EtcdException as error:
            raise from_etcd(error) from None
        try:
            context.write(printer.get(context.client().range(election.key or b"")))
            _hold_until_lost(election.session, "elect: session expired")
        except Interrupted:
            return 0
        except exc.EtcdException as error:
            raise from_etcd(error) from None
        finally:
            with contextlib.suppress(exc.EtcdException, Interrupted):
                election.resign()


def _observe(context: Context, name: bytes) -> None:
    """Print the leader, then every new leader or proclaimed value, as etcdctl does (each
    as the answer to a get, with the header of the read or watch that saw it)."""
    client = context.client()
    printer = context.printer
    prefix = name + b"/"
    end = prefix_end(prefix)
    while True:
        first = client.range(
            prefix, end, sort_target=SortTarget.CREATE, sort_order=SortOrder.ASCEND, limit=1
        )
        header: ResponseHeader = first.header
        leader: KeyValue | None = first.kvs[0] if first.kvs else None
        if leader is None:
            with client.watch_stream(prefix, end, start_revision=first.header.revision) as watch:
                while leader is None:
                    response = watch.next_response()
                    for event in response.events:
                        if event.type == EventType.PUT:
                            leader = event.kv
                            header = dataclasses.replace(
                                response.header, revision=event.kv.mod_revision
                            )
                            break
        context.write(printer.observed(Observed(header, leader)))
        with client.watch_stream(leader.key, start_revision=header.revision + 1) as watch:
            gone = False
            while not gone:
                response = watch.next_response()
                for event in response.events:
                    if event.type == EventType.DELETE:
                        gone = True
                        break
                    seen = Observed(response.header, event.kv, first.more, first.count)
                    context.write(printer.observed(seen))


def _lock_options(parser: CommandLine) -> None:
    parser.add_argument(
        "--ttl", type=go_int, default=10, help="TTL of the session's lease, in seconds"
    )
    parser.add_argument("args", nargs="*", metavar="<lockname> [exec-command arg1 arg2 ...]")


def _elect_options(parser: CommandLine) -> None:
    parser.add_bool("-l", "--listen", help="only print the leader as it changes")
    parser.add_argument("args", nargs="*", metavar="<election-name> [proposal]")


_LOCK_HELP = """\
Prints the lock's key once it is held and keeps it until interrupted (Ctrl+C), then
releases it. With a command, runs it while holding the lock (with ETCD_LOCK_KEY and
ETCD_LOCK_REV set) and releases the lock when it exits."""

_ELECT_HELP = """\
With a proposal, campaigns, prints the leader key once elected and leads until
interrupted (Ctrl+C), then resigns. With -l, prints the leader and every change of it."""

COMMANDS = [
    Command(("lock",), "Hold a named lock", "lock <lockname> [exec-command arg1 arg2 ...]",
            run_lock, _lock_options, _LOCK_HELP, takes_command=True),
    Command(("elect",), "Campaign in an election, or watch its leader",
            "elect <election-name> [proposal]", run_elect, _elect_options, _ELECT_HELP),
]  # fmt: skip
