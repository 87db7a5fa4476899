"""Leases: ``lease grant``, ``revoke``, ``timetolive``, ``list``, ``keep-alive``."""

from __future__ import annotations

import argparse
import time

from .._core import exceptions as exc
from ._context import Context, Interrupted, interruptible, wait
from ._errors import CLIError, ExitCode, error_message, from_etcd, usage
from ._gofmt import parse_int
from ._kvargs import lease_id
from ._parser import Command, CommandLine, positionals


def _one_lease(options: argparse.Namespace, message: str) -> int:
    if len(options.args) != 1:
        raise usage(message)
    return lease_id(options.args[0], "bad lease ID arg")


def run_grant(context: Context, options: argparse.Namespace) -> int:
    if len(options.args) != 1:
        raise usage("lease grant command needs TTL argument")
    try:
        ttl = parse_int(options.args[0], 10)
    except ValueError as error:
        raise usage(f"bad TTL ({error})") from None
    printer = context.require("lease_grant")
    try:
        response = context.client().lease_grant(ttl)
    except exc.EtcdException as error:
        raise CLIError(f"failed to grant lease ({error_message(error)})") from None
    context.write(printer.lease_grant(response))
    return 0


def run_revoke(context: Context, options: argparse.Namespace) -> int:
    lease = _one_lease(options, "lease revoke command needs 1 argument")
    printer = context.require("lease_revoke")
    try:
        header = context.client().lease_revoke(lease)
    except exc.EtcdException as error:
        raise CLIError(f"failed to revoke lease ({error_message(error)})") from None
    context.write(printer.lease_revoke(lease, header))
    return 0


def run_timetolive(context: Context, options: argparse.Namespace) -> int:
    lease = _one_lease(options, "lease timetolive command needs lease ID as argument")
    printer = context.require("lease_time_to_live")
    try:
        response = context.client().lease_time_to_live(lease, keys=options.keys)
    except exc.EtcdException as error:
        raise from_etcd(error, ExitCode.BAD_CONNECTION) from None
    context.write(printer.lease_time_to_live(response, options.keys))
    return 0


def run_list(context: Context, options: argparse.Namespace) -> int:
    printer = context.require("lease_list")
    try:
        response = context.client().lease_leases()
    except exc.EtcdException as error:
        raise CLIError(
            f"failed to list leases ({error_message(error)})", ExitCode.BAD_CONNECTION
        ) from None
    context.write(printer.lease_list(response))
    return 0


def run_keep_alive(context: Context, options: argparse.Namespace) -> int:
    lease = _one_lease(options, "lease keep-alive command needs lease ID as argument")
    printer = context.require("lease_keep_alive")
    client = context.client()
    if options.once:
        try:
            response = client.lease_keep_alive_once(lease)
        except exc.EtcdException as error:
            raise from_etcd(error, ExitCode.BAD_CONNECTION) from None
        context.write(printer.lease_keep_alive(response))
        return 0
    # Refresh at a third of the TTL, as Go's client does, printing every answer, until the
    # lease is gone or we are interrupted. A failed refresh is retried until the lease
    # would have run out.
    with interruptible():
        try:
            confirmed = time.monotonic()
            ttl = 0.0
            while True:
                try:
                    response = client.lease_keep_alive_once(lease)
                except exc.EtcdLeaseNotFound:
                    break
                except (exc.EtcdConnectionFailed, exc.EtcdUnavailable) as error:
                    if ttl and time.monotonic() - confirmed > ttl:
                        break
                    if not ttl:
                        raise from_etcd(error, ExitCode.BAD_CONNECTION) from None
                    wait(0.5)
                    continue
                except exc.EtcdException as error:
                    raise from_etcd(error, ExitCode.BAD_CONNECTION) from None
                confirmed, ttl = time.monotonic(), float(response.ttl)
                context.write(printer.lease_keep_alive(response))
                wait(max(ttl / 3, 0.5))
        except Interrupted:
            return 0
    if printer.name == "simple":
        context.write(f"lease {lease:016x} expired or revoked.\n".encode())
    return 0


def _ttl_options(parser: CommandLine) -> None:
    parser.add_bool("--keys", help="also list the keys attached to the lease")
    positionals("<leaseID>")(parser)


def _keep_alive_options(parser: CommandLine) -> None:
    parser.add_bool("--once", help="refresh the lease once, then exit")
    positionals("<leaseID>")(parser)


COMMANDS = [
    Command(("lease", "grant"), "Grant a lease with a TTL", "lease grant <ttl>", run_grant,
            positionals("<ttl>")),
    Command(("lease", "revoke"), "Revoke a lease", "lease revoke <leaseID>", run_revoke,
            positionals("<leaseID>")),
    Command(("lease", "timetolive"), "Show a lease's remaining TTL (and its keys)",
            "lease timetolive <leaseID> [options]", run_timetolive, _ttl_options),
    Command(("lease", "list"), "List the live leases", "lease list", run_list,
            positionals("")),
    Command(("lease", "keep-alive"), "Refresh a lease until interrupted (or once)",
            "lease keep-alive [options] <leaseID>", run_keep_alive, _keep_alive_options,
            "Runs until the lease is gone or until interrupted (Ctrl+C)."),
]  # fmt: skip
