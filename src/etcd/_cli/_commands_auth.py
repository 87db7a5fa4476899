"""Authentication: ``auth``, ``user`` and ``role``."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TypeVar

from .._core import exceptions as exc
from .._core.auth import PermissionType, Role
from .._core.keys import prefix_end
from .._core.responses import decode_header
from .._wire import messages as pb
from .._wire import methods
from ._context import Context
from ._errors import call_etcd, from_etcd, usage
from ._parser import Command, CommandLine, file_encode, positionals
from .printers import Names

_T = TypeVar("_T")


# --- auth -----------------------------------------------------------------------------------


def run_auth_enable(context: Context, options: argparse.Namespace) -> int:
    if options.args:
        raise usage("auth enable command does not accept any arguments")
    client = context.client()
    while True:
        try:
            client.auth_enable()
            break
        except exc.EtcdException as error:
            # As etcdctl: give the root user the root role it needs, then try again.
            if "root user does not have root role" not in (error.details or ""):
                raise from_etcd(error) from None
        call_etcd(lambda: client.role_add("root"))
        call_etcd(lambda: client.user_grant_role("root", "root"))
    context.write(b"Authentication Enabled\n")
    return 0


def run_auth_disable(context: Context, options: argparse.Namespace) -> int:
    if options.args:
        raise usage("auth disable command does not accept any arguments")
    call_etcd(lambda: context.client().auth_disable())
    context.write(b"Authentication Disabled\n")
    return 0


def run_auth_status(context: Context, options: argparse.Namespace) -> int:
    if options.args:
        raise usage("auth status command does not accept any arguments")
    printer = context.require("auth_status")
    context.write(printer.auth_status(call_etcd(lambda: context.client().auth_status())))
    return 0


# --- user -----------------------------------------------------------------------------------


def _ask_new_password(context: Context, name: str, interactive: bool) -> str:
    if not interactive:
        return context.read_word()
    first = context.ask_password(f"Password of {name}: ")
    if not first:
        raise usage("empty password")
    second = context.ask_password(f"Type password of {name} again for confirmation: ")
    if first != second:
        raise usage("given passwords are different")
    return first


def run_user_add(context: Context, options: argparse.Namespace) -> int:
    if len(options.args) != 1:
        raise usage("user add command requires user name as its argument")
    printer = context.require("user_add")
    argument = options.args[0]
    password: str | None
    if options.no_password:
        name, password = argument, None
    elif options.new_user_password:
        name, password = argument, options.new_user_password
    else:
        name, sep, password = argument.partition(":")
        if sep and not name:
            raise usage("empty user name is not allowed")
        if not sep:
            password = _ask_new_password(context, name, options.interactive)
    client = context.client()
    header = call_etcd(lambda: client.user_add(name, password, no_password=options.no_password))
    context.write(printer.user_add(name, header))
    return 0


def run_user_get(context: Context, options: argparse.Namespace) -> int:
    if len(options.args) != 1:
        raise usage("user get command requires user name as its argument")
    name = options.args[0]
    client = context.client()
    if options.detail:
        printer = context.require("role_get")
        user = call_etcd(lambda: client.user_get(name))
        context.write(f"User: {name}\n".encode())
        for role in user.roles:
            context.write(b"\n")
            context.write(printer.role_get(_role(context, role)))
        return 0
    printer = context.require("user_get")
    context.write(printer.user_get(call_etcd(lambda: client.user_get(name))))
    return 0


def _names(context: Context, method: object, request: object, field: str) -> Names:
    """A user or role list with its header (the client's own calls return only names)."""
    client = context.client()

    def call() -> Names:
        response = client._auth_call(
            method, request, context.options.command_timeout, mutation=False
        )
        return Names(decode_header(response.header), list(getattr(response, field)))

    return call_etcd(call)


def _role(context: Context, name: str) -> Role:
    return call_etcd(lambda: context.client().role_get(name))


def run_user_list(context: Context, options: argparse.Namespace) -> int:
    printer = context.require("user_list")
    users = _names(context, methods.AUTH_USER_LIST, pb.AuthUserListRequest(), "users")
    context.write(printer.user_list(users))
    return 0


def run_user_delete(context: Context, options: argparse.Namespace) -> int:
    if len(options.args) != 1:
        raise usage("user delete command requires user name as its argument")
    printer = context.require("user_delete")
    name = options.args[0]
    context.write(printer.user_delete(name, call_etcd(lambda: context.client().user_delete(name))))
    return 0


def run_user_passwd(context: Context, options: argparse.Namespace) -> int:
    if len(options.args) != 1:
        raise usage("user passwd command requires user name as its argument")
    printer = context.require("user_change_password")
    name = options.args[0]
    password = _ask_new_password(context, name, options.interactive)
    header = call_etcd(lambda: context.client().user_change_password(name, password))
    context.write(printer.user_change_password(header))
    return 0


def run_user_grant_role(context: Context, options: argparse.Namespace) -> int:
    if len(options.args) != 2:
        raise usage("user grant command requires user name and role name as its argument")
    printer = context.require("user_grant_role")
    user, role = options.args
    header = call_etcd(lambda: context.client().user_grant_role(user, role))
    context.write(printer.user_grant_role(user, role, header))
    return 0


def run_user_revoke_role(context: Context, options: argparse.Namespace) -> int:
    if len(options.args) != 2:
        raise usage("user revoke-role requires user name and role name as its argument")
    printer = context.require("user_revoke_role")
    user, role = options.args
    header = call_etcd(lambda: context.client().user_revoke_role(user, role))
    context.write(printer.user_revoke_role(user, role, header))
    return 0


# --- role -----------------------------------------------------------------------------------


def _one_role(options: argparse.Namespace, command: str) -> str:
    if len(options.args) != 1:
        raise usage(f"role {command} command requires role name as its argument")
    return str(options.args[0])


def run_role_add(context: Context, options: argparse.Namespace) -> int:
    role = _one_role(options, "add")
    printer = context.require("role_add")
    context.write(printer.role_add(role, call_etcd(lambda: context.client().role_add(role))))
    return 0


def run_role_get(context: Context, options: argparse.Namespace) -> int:
    role = _one_role(options, "get")
    printer = context.require("role_get")
    context.write(printer.role_get(call_etcd(lambda: context.client().role_get(role))))
    return 0


def run_role_delete(context: Context, options: argparse.Namespace) -> int:
    role = _one_role(options, "delete")
    printer = context.require("role_delete")
    context.write(printer.role_delete(role, call_etcd(lambda: context.client().role_delete(role))))
    return 0


def run_role_list(context: Context, options: argparse.Namespace) -> int:
    printer = context.require("role_list")
    roles = _names(context, methods.AUTH_ROLE_LIST, pb.AuthRoleListRequest(), "roles")
    context.write(printer.role_list(roles))
    return 0


def permission_range(args: list[str], prefix: bool, from_key: bool) -> tuple[bytes, bytes]:
    """The keys of a permission as etcdctl names them: an empty key means every key with
    ``--prefix``/``--from-key`` (``\\0`` to the end), the key ``\\0`` otherwise."""
    key = file_encode(args[0])
    if prefix and from_key:
        raise usage("--from-key and --prefix flags are mutually exclusive")
    if not key:
        return b"\0", b"\0" if (prefix or from_key) else b""
    if len(args) == 1:
        if prefix:
            return key, prefix_end(key)
        return key, b"\0" if from_key else b""
    if prefix:
        raise usage("unexpected endkey argument with --prefix flag")
    if from_key:
        raise usage("unexpected endkey argument with --from-key flag")
    return key, file_encode(args[1])


def run_role_grant_permission(context: Context, options: argparse.Namespace) -> int:
    if len(options.args) < 3:
        raise usage(
            "role grant command requires role name, permission type, and key [endkey] as its "
            "argument"
        )
    role, kind = options.args[0], options.args[1]
    try:
        permission = PermissionType[kind.upper()]
    except KeyError:
        raise usage(f"invalid permission type: {kind}") from None
    key, end = permission_range(options.args[2:], options.prefix, options.from_key)
    printer = context.require("role_grant_permission")
    header = call_etcd(
        lambda: context.client().role_grant_permission(
            role, key, end or None, permission=permission
        )
    )
    context.write(printer.role_grant_permission(role, header))
    return 0


def run_role_revoke_permission(context: Context, options: argparse.Namespace) -> int:
    if len(options.args) < 2:
        raise usage(
            "role revoke-permission command requires role name and key [endkey] as its argument"
        )
    role = options.args[0]
    key, end = permission_range(options.args[1:], options.prefix, options.from_key)
    printer = context.require("role_revoke_permission")
    header = call_etcd(lambda: context.client().role_revoke_permission(role, key, end or None))
    context.write(printer.role_revoke_permission(role, key, end, header))
    return 0


# --- options --------------------------------------------------------------------------------


def _user_add_options(parser: CommandLine) -> None:
    parser.add_bool(
        "--interactive",
        default=True,
        help="read the password from standard input, without a prompt",
    )
    parser.add_argument(
        "--new-user-password", default="", help="the new user's password (instead of a prompt)"
    )
    parser.add_bool(
        "--no-password", help="a user without a password (for client-certificate authentication)"
    )
    positionals("<user name or user:password>")(parser)


def _user_get_options(parser: CommandLine) -> None:
    parser.add_bool("--detail", help="also show the permissions of the user's roles")
    positionals("<user name>")(parser)


def _user_passwd_options(parser: CommandLine) -> None:
    parser.add_bool(
        "--interactive",
        default=True,
        help="read the password from standard input, without a prompt",
    )
    positionals("<user name>")(parser)


def _permission_options(what: str, metavar: str) -> Callable[[CommandLine], None]:
    def configure(parser: CommandLine) -> None:
        parser.add_bool(
            "--from-key",
            help=f"{what} a permission of keys that are greater than or equal to the given "
            "key using byte compare",
        )
        parser.add_bool("--prefix", help=f"{what} a prefix permission")
        positionals(metavar)(parser)

    return configure


COMMANDS = [
    Command(("auth", "disable"), "Turn authentication off", "auth disable", run_auth_disable,
            positionals("")),
    Command(("auth", "enable"), "Turn authentication on", "auth enable", run_auth_enable,
            positionals("")),
    Command(("auth", "status"), "Show whether authentication is on", "auth status",
            run_auth_status, positionals("")),
    Command(("role", "add"), "Create a role", "role add <role name>", run_role_add,
            positionals("<role name>")),
    Command(("role", "delete"), "Remove a role", "role delete <role name>", run_role_delete,
            positionals("<role name>")),
    Command(("role", "get"), "Show a role and its permissions", "role get <role name>",
            run_role_get, positionals("<role name>")),
    Command(("role", "grant-permission"), "Grant a role access to keys",
            "role grant-permission [options] <role name> <permission type> <key> [endkey]",
            run_role_grant_permission,
            _permission_options("grant", "<role name> <permission type> <key> [endkey]")),
    Command(("role", "list"), "List the roles", "role list", run_role_list, positionals("")),
    Command(("role", "revoke-permission"), "Take a key or range back from a role",
            "role revoke-permission <role name> <key> [endkey]", run_role_revoke_permission,
            _permission_options("revoke", "<role name> <key> [endkey]")),
    Command(("user", "add"), "Create a user", "user add <user name or user:password> [options]",
            run_user_add, _user_add_options),
    Command(("user", "delete"), "Remove a user", "user delete <user name>", run_user_delete,
            positionals("<user name>")),
    Command(("user", "get"), "Show a user and its roles",
            "user get <user name> [options]", run_user_get, _user_get_options),
    Command(("user", "grant-role"), "Give a user a role",
            "user grant-role <user name> <role name>", run_user_grant_role,
            positionals("<user name> <role name>")),
    Command(("user", "list"), "List the users", "user list", run_user_list, positionals("")),
    Command(("user", "passwd"), "Set a user's password", "user passwd <user name> [options]",
            run_user_passwd, _user_passwd_options),
    Command(("user", "revoke-role"), "Take a role back from a user",
            "user revoke-role <user name> <role name>", run_user_revoke_role,
            positionals("<user name> <role name>")),
]  # fmt: skip
