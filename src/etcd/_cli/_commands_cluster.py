"""Cluster and maintenance: ``member``, ``endpoint``, ``alarm``, ``defrag``,
``move-leader``, ``snapshot``."""

from __future__ import annotations

import argparse
import importlib
import time
from collections.abc import Callable
from typing import Any, TypeVar

from .._core import exceptions as exc
from .._core.cluster import MemberAddResponse
from .._core.maintenance import decode_alarms
from .._core.responses import decode_header
from .._sync.io import map_concurrently
from .._wire import messages as pb
from .._wire import methods
from . import _snapshot
from ._context import Context
from ._errors import CLIError, ExitCode, call_etcd, error_message, from_etcd, usage
from ._gofmt import duration, parse_int, quote
from ._parser import Command, CommandLine, go_int, positionals
from .printers import Alarms, Health, NamedHash, NamedStatus

_T = TypeVar("_T")


def _member_id(options: argparse.Namespace) -> int:
    if len(options.args) != 1:
        raise usage("member ID is not provided")
    try:
        return parse_int(options.args[0], 16, signed=False)
    except ValueError as error:
        raise usage(f"bad member ID arg ({error}), expecting ID in Hex") from None


def _peer_urls(options: argparse.Namespace) -> list[str]:
    if not options.peer_urls:
        raise usage("member peer urls not provided")
    return [url.strip() for url in options.peer_urls.split(",")]


# --- member ---------------------------------------------------------------------------------


def run_member_list(context: Context, options: argparse.Namespace) -> int:
    printer = context.require("member_list")
    if options.consistency not in ("l", "s"):
        raise CLIError(f'unknown consistency flag "{options.consistency}"', ExitCode.BAD_FEATURE)
    # As etcdctl 3.6 asks: linearizable by default, which a member before etcd 3.5
    # answers with its own view (the client asks only where the member can).
    linearizable = None if options.consistency == "l" else False
    response = call_etcd(lambda: context.client().member_list(linearizable=linearizable))
    context.write(printer.member_list(response))
    return 0


def _member_list_options(parser: CommandLine) -> None:
    parser.add_argument(
        "--consistency", default="l", help='Linearizable(l) or Serializable(s) (default "l")'
    )
    positionals("")(parser)


# --- downgrade ------------------------------------------------------------------------------


def _downgrade(action: str) -> Callable[[Context, argparse.Namespace], int]:
    def run(context: Context, options: argparse.Namespace) -> int:
        version = ""
        if action != "CANCEL":
            if not options.args or not options.args[0]:
                raise usage("TARGET_VERSION not provided")
            if len(options.args) > 1:
                raise usage("too many arguments")
            version = options.args[0]
        response = call_etcd(lambda: context.client().downgrade(action, version))
        done = f"Downgrade {action.lower()} success, cluster version {response.version}\n"
        context.write(done.encode())
        return 0

    return run


def run_member_add(context: Context, options: argparse.Namespace) -> int:
    if not options.args:
        raise usage("member name not provided")
    if len(options.args) > 1:
        message = "too many arguments"
        for arg in options.args:
            if arg.lower().startswith("http"):
                message += f", did you mean --peer-urls={arg}"
        raise usage(message)
    name = options.args[0]
    urls = _peer_urls(options)
    printer = context.require("member_add")
    client = context.client()
    response = call_etcd(lambda: client.member_add(urls, learner=options.learner))
    context.write(printer.member_add(response))
    if printer.name == "simple":
        context.write(_new_member_environment(name, urls, response))
    return 0


def _new_member_environment(name: str, urls: list[str], response: MemberAddResponse) -> bytes:
    """The settings the new member starts with, as etcdctl prints them."""
    cluster = []
    for member in response.members:
        member_name = name if member.id == response.member.id else member.name
        cluster += [f"{member_name}={url}" for url in member.peer_urls]
    lines = [
        "",
        f"ETCD_NAME={quote(name)}",
        f"ETCD_INITIAL_CLUSTER={quote(','.join(cluster))}",
        f"ETCD_INITIAL_ADVERTISE_PEER_URLS={quote(','.join(urls))}",
        'ETCD_INITIAL_CLUSTER_STATE="existing"',
    ]
    return ("\n".join(lines) + "\n").encode()


def run_member_remove(context: Context, options: argparse.Namespace) -> int:
    member = _member_id(options)
    printer = context.require("member_remove")
    response = call_etcd(lambda: context.client().member_remove(member))
    context.write(printer.member_remove(member, response))
    return 0


def run_member_update(context: Context, options: argparse.Namespace) -> int:
    member = _member_id(options)
    urls = _peer_urls(options)
    printer = context.require("member_update")
    response = call_etcd(lambda: context.client().member_update(member, urls))
    context.write(printer.member_update(member, response))
    return 0


def run_member_promote(context: Context, options: argparse.Namespace) -> int:
    member = _member_id(options)
    printer = context.require("member_promote")
    response = call_etcd(lambda: context.client().member_promote(member))
    context.write(printer.member_promote(member, response))
    return 0


# --- endpoint -------------------------------------------------------------------------------


def _targets(context: Context, options: argparse.Namespace) -> list[str]:
    """The endpoints given, or with ``--cluster`` every client URL of every member."""
    if not getattr(options, "cluster", False):
        return context.endpoints
    members = call_etcd(lambda: context.client().member_list()).members
    return [url for member in members for url in member.client_urls]


def _ask_each(
    context: Context, targets: list[str], ask: Callable[[str], _T], what: str
) -> tuple[list[_T], bool]:
    """``ask`` of every endpoint, one after the other; a failure is warned about (naming
    ``what`` was asked) and skipped. Returns the answers and whether any call failed."""
    answers: list[_T] = []
    failed = False
    for endpoint in targets:
        try:
            answers.append(ask(endpoint))
        except exc.EtcdException as error:
            failed = True
            context.warn(
                f"Failed to get the {what} of endpoint {endpoint} ({error_message(error)})"
            )
    return answers, failed


def run_endpoint_health(context: Context, options: argparse.Namespace) -> int:
    printer = context.require("endpoint_health")
    targets = _targets(context, options)
    context.client_options()  # refuse bad flags (or ask for a password) once, up front

    def check(endpoint: str) -> Health:
        try:
            client = context.new_client([endpoint])
        except exc.EtcdException as error:
            return Health(endpoint, False, "", error_message(error))
        started = time.perf_counter_ns()
        error_text = ""
        try:
            client.range("health")
        except exc.EtcdPermissionDenied:
            pass  # the request went through consensus: the member is healthy
        except exc.EtcdException as error:
            error_text = error_message(error)
        took = duration(time.perf_counter_ns() - started)
        if not error_text:
            try:
                alarms = client.alarms()
            except exc.EtcdException:
                error_text = "Unable to fetch the alarm list"
            else:
                if alarms:
                    error_text = "Active Alarm(s): " + "".join(
                        (alarm.alarm if alarm.alarm in ("NOSPACE", "CORRUPT") else "UNKNOWN") + " "
                        for alarm in alarms
                    )
        return Health(endpoint, not error_text, took, error_text)

    healths = map_concurrently(check, targets, name="etcd-cli-endpoint")
    if printer.name == "simple":
        for health in healths:
            if health.error:
                context.warn(
                    f"{health.endpoint} is unhealthy: failed to commit proposal: {health.error}"
                )
    context.write(printer.endpoint_health(healths))
    if any(health.error for health in healths):
        raise CLIError("unhealthy cluster")
    return 0


def run_endpoint_status(context: Context, options: argparse.Namespace) -> int:
    printer = context.require("endpoint_status")
    statuses, failed = _ask_each(
        context,
        _targets(context, options),
        lambda endpoint: NamedStatus(endpoint, context.new_client([endpoint]).status()),
        "status",
    )
    context.write(printer.endpoint_status(statuses))
    return ExitCode.ERROR if failed else 0


def run_endpoint_hashkv(context: Context, options: argparse.Namespace) -> int:
    printer = context.require("endpoint_hashkv")
    hashes, failed = _ask_each(
        context,
        _targets(context, options),
        lambda endpoint: NamedHash(endpoint, context.new_client([endpoint]).hash_kv(options.rev)),
        "hash",
    )
    context.write(printer.endpoint_hashkv(hashes))
    return ExitCode.ERROR if failed else 0


# --- alarm, defrag, move-leader -----------------------------------------------------------------


def run_alarm_list(context: Context, options: argparse.Namespace) -> int:
    printer = context.require("alarm")
    client = context.client()

    def alarm_list() -> Alarms:
        # The client's alarms() drops the header, which etcdctl prints.
        response = client._transport.unary(
            methods.MAINTENANCE_ALARM,
            pb.AlarmRequest(action=pb.AlarmRequest.GET),
            timeout=context.options.command_timeout,
            mutation=False,
        )
        return Alarms(decode_header(response.header), decode_alarms(response))

    context.write(printer.alarm(call_etcd(alarm_list)))
    return 0


def run_alarm_disarm(context: Context, options: argparse.Namespace) -> int:
    printer = context.require("alarm")
    cleared = call_etcd(lambda: context.client().disarm_all())
    context.write(printer.alarm(Alarms(None, cleared)))
    return 0


def run_defrag(context: Context, options: argparse.Namespace) -> int:
    if options.data_dir:
        raise CLIError(
            "--data-dir is not supported: defragment a data directory with etcdutl",
            ExitCode.BAD_FEATURE,
        )
    failed = False
    for endpoint in _targets(context, options):
        try:
            context.new_client([endpoint]).defragment()
        except exc.EtcdException as error:
            failed = True
            context.warn(f"Failed to defragment etcd member[{endpoint}] ({error_message(error)})")
            continue
        context.write(f"Finished defragmenting etcd member[{endpoint}]\n".encode())
    return ExitCode.ERROR if failed else 0


def run_move_leader(context: Context, options: argparse.Namespace) -> int:
    if len(options.args) != 1:
        raise usage("move-leader command needs 1 argument")
    try:
        target = parse_int(options.args[0], 16, signed=False)
    except ValueError as error:
        raise usage(str(error)) from None
    printer = context.require("move_leader")
    client = context.client()
    leader = call_etcd(lambda: client.status()).leader
    header = call_etcd(lambda: client.move_leader(target))
    context.write(printer.move_leader(leader, target, header))
    return 0


# --- snapshot -------------------------------------------------------------------------------


def _progress_bar(context: Context) -> Callable[[int, int | None], object] | None:
    """A progress bar on stderr when it is a terminal, drawn with tqdm if installed."""
    try:
        interactive = context.stderr.isatty()
    except (AttributeError, ValueError):
        interactive = False
    if not interactive:
        return None
    return make_progress(context.stderr)


def make_progress(stream: Any) -> Callable[[int, int | None], object] | None:
    """A ``progress(received, total)`` callback drawing a tqdm bar on ``stream``; ``None``
    (after a one-line note) when tqdm is not installed."""
    try:
        tqdm = importlib.import_module("tqdm").tqdm
    except ImportError:
        stream.write("(no progress bar: install tqdm, or etcd-client[cli], to see one)\n")
        return None
    bar = tqdm(total=None, unit="B", unit_scale=True, unit_divisor=1024, file=stream,
               desc="snapshot", leave=False)  # fmt: skip
    state = {"done": 0}

    def progress(received: int, total: int | None) -> None:
        if total is not None and bar.total != total:
            bar.total = total
        bar.update(received - state["done"])
        state["done"] = received
        if total is not None and received >= total:
            bar.close()

    return progress


def run_snapshot_save(context: Context, options: argparse.Namespace) -> int:
    if len(options.args) != 1:
        raise usage("snapshot save expects one argument")
    if len(context.endpoints) != 1:
        raise usage(
            "snapshot must be requested to one selected node, not multiple "
            f"[{' '.join(context.endpoints)}]"
        )
    path = options.args[0]
    progress = _progress_bar(context)
    try:
        context.client().snapshot(path, progress=progress)
    except exc.EtcdException as error:
        raise from_etcd(error, ExitCode.INTERRUPTED) from None
    except OSError as error:
        raise CLIError(f"could not write {path}: {error.strerror}", ExitCode.IO) from None
    context.write(f"Snapshot saved at {path}\n".encode())
    return 0


def run_snapshot_status(context: Context, options: argparse.Namespace) -> int:
    if len(options.args) != 1:
        raise usage("snapshot status requires exactly one argument")
    printer = context.require("snapshot_status")
    try:
        with open(options.args[0], "rb") as handle:
            data = handle.read()
    except OSError as error:
        raise CLIError(f"stat {options.args[0]}: {error.strerror}") from None
    try:
        result = _snapshot.status(data)
    except _snapshot.SnapshotError as error:
        raise CLIError(str(error)) from None
    context.write(printer.snapshot_status(result))
    return 0


# --- options --------------------------------------------------------------------------------


def _member_add_options(parser: CommandLine) -> None:
    parser.add_bool("--learner", help="add the member as a non-voting learner")
    parser.add_argument(
        "--peer-urls", default="", help="the new member's peer URLs, comma-separated"
    )
    positionals("<memberName>")(parser)


def _member_update_options(parser: CommandLine) -> None:
    parser.add_argument(
        "--peer-urls", default="", help="the member's new peer URLs, comma-separated"
    )
    positionals("<memberID>")(parser)


def _cluster_option(parser: CommandLine) -> None:
    parser.add_bool(
        "--cluster", help="ask every member listed by the cluster, not only --endpoints"
    )


def _endpoint_options(parser: CommandLine) -> None:
    _cluster_option(parser)
    positionals("")(parser)


def _hashkv_options(parser: CommandLine) -> None:
    _endpoint_options(parser)
    parser.add_argument(
        "--rev", type=go_int, default=0, help="hash the history up to this revision (0: all of it)"
    )


def _defrag_options(parser: CommandLine) -> None:
    _cluster_option(parser)
    parser.add_argument(
        "--data-dir", default="", help="defragment a data directory directly (not supported)"
    )
    positionals("")(parser)


_MEMBER_LIST_HELP = """\
With --write-out=simple, prints one comma-separated line per member: ID, Status, Name,
Peer Addrs, Client Addrs, Is Learner."""

_STATUS_HELP = """\
With --write-out=simple, prints one comma-separated line per endpoint: endpoint, ID,
version, db size, is leader, is learner, raft term, raft index, raft applied index,
errors."""


COMMANDS = [
    Command(("member", "add"), "Add a member (or a learner) to the cluster",
            "member add <memberName> [options]", run_member_add, _member_add_options),
    Command(("member", "list"), "List the cluster's members", "member list [options]",
            run_member_list, _member_list_options, _MEMBER_LIST_HELP),
    Command(("member", "promote"), "Make a learner a voting member",
            "member promote <memberID>", run_member_promote, positionals("<memberID>")),
    Command(("member", "remove"), "Remove a member from the cluster",
            "member remove <memberID>", run_member_remove, positionals("<memberID>")),
    Command(("member", "update"), "Change a member's peer URLs",
            "member update <memberID> [options]", run_member_update, _member_update_options),
    Command(("endpoint", "hashkv"), "Show each endpoint's hash of its key-value history",
            "endpoint hashkv [options]", run_endpoint_hashkv, _hashkv_options),
    Command(("endpoint", "health"),
            "Check that each endpoint answers a linearizable read",
            "endpoint health [options]", run_endpoint_health, _endpoint_options),
    Command(("endpoint", "status"),
            "Show each endpoint's version, database size, leader and raft state",
            "endpoint status [options]", run_endpoint_status, _endpoint_options, _STATUS_HELP),
    Command(("alarm", "disarm"), "Clear every alarm", "alarm disarm", run_alarm_disarm,
            positionals("")),
    Command(("alarm", "list"), "List the raised alarms", "alarm list", run_alarm_list,
            positionals("")),
    Command(("downgrade", "validate"), "Check that the cluster can go down to a version",
            "downgrade validate <TARGET_VERSION>", _downgrade("VALIDATE"),
            positionals("<TARGET_VERSION>")),
    Command(("downgrade", "enable"), "Start downgrading the cluster to a version",
            "downgrade enable <TARGET_VERSION>", _downgrade("ENABLE"),
            positionals("<TARGET_VERSION>")),
    Command(("downgrade", "cancel"), "Cancel the downgrade under way", "downgrade cancel",
            _downgrade("CANCEL"), positionals("")),
    Command(("defrag",), "Reclaim free space in each endpoint's database",
            "defrag [options]", run_defrag, _defrag_options),
    Command(("move-leader",), "Hand the leadership to another member",
            "move-leader <transferee-member-id>", run_move_leader,
            positionals("<transferee-member-id>")),
    Command(("snapshot", "save"), "Save a member's database snapshot to a file",
            "snapshot save <filename>", run_snapshot_save, positionals("<filename>"),
            "Shows a progress bar on a terminal (with tqdm installed: etcd-client[cli])."),
    Command(("snapshot", "status"), "Show a snapshot file's hash, revision, keys and size",
            "snapshot status <filename>", run_snapshot_status, positionals("<filename>"),
            "With --write-out=simple, prints hash, revision, total keys, total size.",
            needs_client=False),
]  # fmt: skip
