"""``make-mirror``: copy a prefix to another cluster and keep it current, as etcdctl's.

Like etcdctl, it prints the running total of keys processed (keys copied, then puts and
deletes applied) every 30 seconds, one number per line, and runs until interrupted or
until a failure it cannot wait out.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .._core import exceptions as exc
from .._core.validation import DEFAULT_MAX_TXN_OPS
from .._sync.client import Client
from ._context import Context, Interrupted, interruptible
from ._debug import trace
from ._errors import CLIError, from_etcd, usage
from ._gofmt import parse_int, quote
from ._parser import Command, CommandLine, file_encode

if TYPE_CHECKING:
    from .._sync.mirror import Mirror

#: How often the running total is printed (etcdctl's period).
REPORT_INTERVAL = 30.0
# The longest stretch the main thread waits at once, so that Ctrl+C is handled promptly.
_WAKE_UP = 0.5
_CONFLICT = "`--dest-prefix` and `--no-dest-prefix` cannot be set at the same time, choose one"


def run_make_mirror(context: Context, options: argparse.Namespace) -> int:
    endpoints = _destination_endpoints(options)
    if options.no_dest_prefix and options.dest_prefix:
        raise usage(_CONFLICT)
    source = context.client()
    destination = _destination_client(context, options, endpoints)
    try:
        mirror = source.mirror(
            file_encode(options.prefix),
            destination,
            dest_prefix=file_encode(options.dest_prefix) or None,
            no_dest_prefix=options.no_dest_prefix,
            max_txn_ops=options.max_txn_ops,
            rev=options.rev,
        )
    except (exc.EtcdValueError, exc.EtcdTypeError) as error:
        destination.close()
        raise usage(str(error)) from None
    try:
        with interruptible():
            try:
                _run_until_stopped(context, mirror)
            except Interrupted:
                return 0
    finally:
        with contextlib.suppress(exc.EtcdException, Interrupted):
            mirror.close()
        with contextlib.suppress(exc.EtcdException, Interrupted):
            destination.close()
    return 0


def _run_until_stopped(context: Context, mirror: Mirror) -> None:
    """Mirror, printing the running total every :data:`REPORT_INTERVAL` seconds, until
    interrupted (:class:`Interrupted`) or until the mirror fails (its error, as etcdctl
    reports it)."""
    next_report = time.monotonic() + REPORT_INTERVAL
    mirror.start()
    try:
        while True:
            pause = min(_WAKE_UP, max(next_report - time.monotonic(), 0.01))
            if mirror.wait_stopped(pause):
                return
            if time.monotonic() >= next_report:
                context.write(f"{mirror.processed}\n".encode())
                next_report += REPORT_INTERVAL
    except exc.EtcdCompacted:
        # etcdctl's words for a watch whose history is gone.
        raise CLIError("etcdserver: mvcc: required revision has been compacted") from None
    except exc.EtcdException as error:
        raise from_etcd(error) from None


def _destination_endpoints(options: argparse.Namespace) -> list[str]:
    """The destination: etcdctl's one positional argument, or ``--dest-endpoints``."""
    listed = [item.strip() for part in options.dest_endpoints for item in part.split(",")]
    listed = [item for item in listed if item]
    if options.args and options.dest_endpoints:
        raise usage("give the destination either as an argument or with --dest-endpoints")
    if listed:
        return listed
    if len(options.args) != 1:
        raise usage("make-mirror takes one destination argument")
    return [options.args[0]]


def _destination_client(
    context: Context, options: argparse.Namespace, endpoints: list[str]
) -> Client:
    """A client of the destination, built from the ``--dest-*`` flags as the source's is
    from the global ones (timeouts and output settings are shared)."""
    if bool(options.dest_cert) != bool(options.dest_key):
        raise usage("--dest-cert and --dest-key must be given together")
    flags = dataclasses.replace(
        context.options,
        endpoints=endpoints,
        cacert=options.dest_cacert,
        cert=options.dest_cert,
        key=options.dest_key,
        insecure_transport=options.dest_insecure_transport,
        insecure_skip_tls_verify=False,
        discovery_srv="",
        user="",
        password="",
    )
    view = Context(
        flags,
        stdin=context.stdin,
        stdout=context.stdout,
        stderr=context.stderr,
        environ=context.environ,
        prog=context.prog,
    )
    settings: dict[str, Any] = view.client_options(endpoints)
    username, password = _destination_credentials(options, context.ask_password)
    if username:
        settings["username"] = username
        settings["password"] = password
    # The client refuses transactions larger than its own limit before sending them: let
    # the destination server judge --max-txn-ops instead.
    settings["max_txn_ops"] = max(options.max_txn_ops, DEFAULT_MAX_TXN_OPS)
    client = Client(**settings)
    if context.options.debug:
        client.add_event_listener(trace, inline=True)
    return client


def _destination_credentials(
    options: argparse.Namespace, ask_password: Callable[[str], str]
) -> tuple[str, str]:
    """``--dest-user``/``--dest-password`` as etcdctl reads them: ``user:password`` in one,
    or the password asked for when neither carries it."""
    user = options.dest_user
    if not user:
        return "", ""
    if options.dest_password:
        return user, options.dest_password
    name, separator, password = user.partition(":")
    if separator:
        return name, password
    return user, ask_password("Destination Password: ")


def _uint(flag: str) -> Any:
    def parse(text: str) -> int:
        try:
            return parse_int(text, 10, signed=False)
        except ValueError as error:
            raise argparse.ArgumentTypeError(
                f"invalid argument {quote(text)} for {quote(flag)} flag: {error}"
            ) from None

    return parse


def _int64(flag: str) -> Any:
    def parse(text: str) -> int:
        try:
            return parse_int(text, 10)
        except ValueError as error:
            raise argparse.ArgumentTypeError(
                f"invalid argument {quote(text)} for {quote(flag)} flag: {error}"
            ) from None

    return parse


def _make_mirror_options(parser: CommandLine) -> None:
    parser.add_argument("--prefix", default="", help="key-value prefix to mirror")
    parser.add_argument(
        "--dest-prefix",
        default="",
        help="destination prefix to mirror a prefix to a different prefix in the "
        "destination cluster",
    )
    parser.add_bool("--no-dest-prefix", help="mirror key-values to the root of the destination")
    parser.add_argument(
        "--max-txn-ops",
        type=_uint("--max-txn-ops"),
        default=DEFAULT_MAX_TXN_OPS,
        help="the most operations in one transaction while applying changes (default 128)",
    )
    parser.add_argument(
        "--rev",
        type=_int64("--rev"),
        default=0,
        help="replay the changes from this revision on, instead of copying every key first",
    )
    parser.add_argument(
        "--dest-endpoints",
        action="append",
        default=[],
        metavar="LIST",
        help="the destination's members (comma-separated), instead of the <destination> argument",
    )
    parser.add_argument(
        "--dest-cacert", default="", help="the CA bundle that signed the destination's certificates"
    )
    parser.add_argument(
        "--dest-cert", default="", help="identify to the destination with this TLS certificate"
    )
    parser.add_argument("--dest-key", default="", help="the key of --dest-cert")
    parser.add_bool(
        "--dest-insecure-transport",
        default=True,
        help="talk plain http to the destination unless a scheme or TLS file says otherwise",
    )
    parser.add_argument(
        "--dest-user",
        default="",
        help="destination user name, or user:password (the password is asked for when missing)",
    )
    parser.add_argument(
        "--dest-password",
        default="",
        help="the password of --dest-user (then leave it out of --dest-user)",
    )
    parser.add_argument("args", nargs="*", metavar="<destination>")


_MAKE_MIRROR_HELP = """\
Copies every key under --prefix to the destination cluster as of one revision, then
applies every later put and delete there, the changes of one source revision in one
transaction. Keys keep their names, unless --dest-prefix replaces the prefix or
--no-dest-prefix removes it. With --rev, nothing is copied first: the changes are replayed
from that revision on.

Prints the running total of keys processed every 30 seconds, and runs until interrupted
(Ctrl+C) or until a failure it cannot wait out."""


COMMANDS = [
    Command(("make-mirror",), "Makes a mirror at the destination etcd cluster",
            "make-mirror [options] <destination>", run_make_mirror, _make_mirror_options,
            _MAKE_MIRROR_HELP),
]  # fmt: skip
