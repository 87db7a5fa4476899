"""Command-line parsing as etcdctl (cobra) does it, on top of argparse.

- Commands are one or two words (``get``, ``lease grant``), found anywhere among the
  arguments; global flags may come before or after them, options and positional
  arguments may be mixed (``get --prefix foo -w json``).
- Boolean flags also take an explicit value: ``--prefix=false``,
  ``--insecure-transport=false``.
- ``--`` ends the options: what follows is positional (``put -- key -value``) or, for
  ``watch`` and ``lock``, the command to run.
- Every global flag falls back to its ``ETCDCTL_*`` environment variable; the flag wins.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, NoReturn

from .._core.environment import parse_duration
from .._core.exceptions import EtcdValueError
from ._context import Context
from ._errors import CLIError, ExitCode
from ._global_options import GlobalOptions
from ._gofmt import parse_bool, quote

# --- global flags ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class GlobalFlag:
    """A flag every command accepts, with its ``ETCDCTL_*`` fallback."""

    name: str
    kind: str
    """``"str"``, ``"int"``, ``"list"`` (comma-separated), ``"bool"`` or ``"duration"``."""
    default: Any
    help: str
    short: str | None = None
    shown_default: str = ""

    @property
    def env(self) -> str:
        return "ETCDCTL_" + self.name.upper().replace("-", "_")

    @property
    def dest(self) -> str:
        return self.name.replace("-", "_")


GLOBAL_FLAGS: Final = (
    GlobalFlag(
        "endpoints",
        "list",
        ["127.0.0.1:2379"],
        "the members to talk to (host:port, comma-separated)",
        None,
        "127.0.0.1:2379",
    ),
    GlobalFlag("dial-timeout", "duration", 2.0, "how long to wait for a connection", None, "2s"),
    GlobalFlag(
        "command-timeout",
        "duration",
        5.0,
        "deadline of each request",
        None,
        "5s",
    ),
    GlobalFlag(
        "keepalive-time",
        "duration",
        2.0,
        "accepted for etcdctl's sake; the client's own connection keepalive applies",
        None,
        "2s",
    ),
    GlobalFlag(
        "keepalive-timeout",
        "duration",
        6.0,
        "accepted for etcdctl's sake; the client's own keepalive timeout applies",
        None,
        "6s",
    ),
    GlobalFlag(
        "cacert",
        "str",
        "",
        "the CA bundle that signed the servers' certificates",
    ),
    GlobalFlag("cert", "str", "", "identify secure client using this TLS certificate file"),
    GlobalFlag("key", "str", "", "identify secure client using this TLS key file"),
    GlobalFlag(
        "insecure-transport",
        "bool",
        True,
        "talk plain http (false: never send credentials unencrypted to another host)",
        None,
        "true",
    ),
    GlobalFlag(
        "insecure-skip-tls-verify",
        "bool",
        False,
        "do not verify the server's certificate (not supported: gRPC for Python always does)",
        None,
        "false",
    ),
    GlobalFlag(
        "user",
        "str",
        "",
        "user name, or user:password (the password is asked for when missing)",
    ),
    GlobalFlag(
        "password",
        "str",
        "",
        "the password of --user (then leave it out of --user)",
    ),
    GlobalFlag(
        "write-out",
        "str",
        "simple",
        "output format: fields, json, simple or table",
        "-w",
        "simple",
    ),
    GlobalFlag(
        "auth-jwt-token",
        "str",
        "",
        "an auth token issued elsewhere, used instead of --user and --password",
    ),
    GlobalFlag(
        "max-request-bytes",
        "int",
        0,
        "the largest request to send, checked before sending (0: the server's 1.5 MiB)",
        None,
        "0",
    ),
    GlobalFlag(
        "max-recv-bytes",
        "int",
        0,
        "the largest answer to accept (0: 2 GiB)",
        None,
        "0",
    ),
    GlobalFlag("hex", "bool", False, "print keys and values as hexadecimal", None, "false"),
    GlobalFlag("debug", "bool", False, "log the client's own debug messages", None, "false"),
    GlobalFlag(
        "discovery-srv",
        "str",
        "",
        "domain whose DNS SRV records list the members (instead of --endpoints)",
        "-d",
    ),
    GlobalFlag(
        "discovery-srv-name",
        "str",
        "",
        "service name of the SRV records (_etcd-client[-ssl]-NAME._tcp)",
    ),
    GlobalFlag(
        "insecure-discovery",
        "bool",
        True,
        "accept members published for http; false: https only, certificates naming the domain",
        None,
        "true",
    ),
)

_GLOBAL_VALUE_FLAGS: Final = frozenset(
    [f"--{flag.name}" for flag in GLOBAL_FLAGS if flag.kind != "bool"]
    + [flag.short for flag in GLOBAL_FLAGS if flag.short and flag.kind != "bool"]
)


def _convert(flag: GlobalFlag, text: str, source: str) -> Any:
    try:
        if flag.kind == "bool":
            return parse_bool(text.strip())
        if flag.kind == "duration":
            return parse_duration(text, source)
        if flag.kind == "list":
            return [item.strip() for item in text.split(",") if item.strip()]
        if flag.kind == "int":
            return int(text.strip(), 10)
    except (ValueError, EtcdValueError) as error:
        raise CLIError(f"invalid value {quote(text)} for {source}: {error}") from None
    return text


def resolve_globals(namespace: argparse.Namespace, environ: Mapping[str, str]) -> GlobalOptions:
    """The global options: a flag given wins over its environment variable, which wins
    over the default."""
    values: dict[str, Any] = {}
    for flag in GLOBAL_FLAGS:
        given = getattr(namespace, flag.dest, None)
        if given is not None:
            if flag.kind == "list":
                given = [item.strip() for part in given for item in part.split(",") if item.strip()]
            elif flag.kind in ("duration", "int"):
                given = _convert(flag, given, f"--{flag.name}")
            values[flag.dest] = given
        elif environ.get(flag.env):
            values[flag.dest] = _convert(flag, environ[flag.env], flag.env)
        else:
            values[flag.dest] = flag.default
    options = GlobalOptions(**values)
    options.endpoints_from_flag = getattr(namespace, "endpoints", None) is not None
    return options


# --- the parser -----------------------------------------------------------------------------


class CommandLine(argparse.ArgumentParser):
    """An argparse parser that reports errors as etcdctl does and takes cobra's booleans."""

    def __init__(self, prog: str, usage: str, description: str = "") -> None:
        super().__init__(
            prog=prog,
            usage=usage,
            description=description,
            add_help=False,
            allow_abbrev=False,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        self.bools: dict[str, str] = {}
        self.add_argument("-h", "--help", action="store_true", help="show this help")

    def add_bool(
        self, *names: str, help: str, default: bool | None = False, dest: str | None = None
    ) -> None:
        """A cobra boolean: ``--name``, ``--name=true``, ``--name=false``."""
        long = next(name for name in names if name.startswith("--"))
        target = dest or long[2:].replace("-", "_")
        shown = "true" if default else "false"
        self.add_argument(
            *names,
            dest=target,
            action="store_const",
            const=True,
            default=default,
            help=f"{help} (default {shown})" if default else help,
        )
        self.add_argument(
            f"--no-{long[2:]}",
            dest=target,
            action="store_const",
            const=False,
            help=argparse.SUPPRESS,
        )
        for name in names:
            self.bools[name] = target

    def error(self, message: str) -> NoReturn:
        raise CLIError(message.replace("unrecognized arguments", "unknown flag"), ExitCode.ERROR)

    def normalize(self, tokens: Sequence[str]) -> list[str]:
        """Turn ``--flag=true|false`` of boolean flags into argparse's form."""
        out = []
        for token in tokens:
            name, sep, value = token.partition("=")
            if sep and name in self.bools:
                try:
                    enabled = parse_bool(value)
                except ValueError as error:
                    raise CLIError(
                        f"invalid argument {quote(value)} for {quote(name)} flag: {error}"
                    ) from None
                long = next(
                    n for n, d in self.bools.items() if d == self.bools[name] and n.startswith("--")
                )
                token = long if enabled else f"--no-{long[2:]}"
            out.append(token)
        return out

    def parse(self, tokens: Sequence[str]) -> argparse.Namespace:
        return self.parse_intermixed_args(self.normalize(tokens))


def positionals(metavar: str) -> Callable[[CommandLine], None]:
    """A command's configure step for its positional ``args``, shown in help as
    ``metavar`` (left out of the help when the command takes none)."""

    def configure(parser: CommandLine) -> None:
        parser.add_argument(
            "args", nargs="*", metavar=metavar, help=None if metavar else argparse.SUPPRESS
        )

    return configure


def go_int(text: str) -> int:
    """An integer flag value as Go's flag package reads it (``0x`` prefixes too)."""
    try:
        return int(text, 0)
    except ValueError:
        try:
            return int(text, 10)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"strconv.ParseInt: parsing {quote(text)}: invalid syntax"
            ) from None


def add_global_options(parser: CommandLine) -> None:
    group = parser.add_argument_group(
        "global options",
        "Each can also be set with the environment variable shown; the flag wins.",
    )
    for flag in GLOBAL_FLAGS:
        names = [f"--{flag.name}"] + ([flag.short] if flag.short else [])
        shown = f"default {flag.shown_default}; " if flag.shown_default else ""
        text = f"{flag.help} ({shown}env {flag.env})"
        if flag.kind == "bool":
            group.add_argument(
                *names, dest=flag.dest, action="store_const", const=True, default=None, help=text
            )
            group.add_argument(
                f"--no-{flag.name}",
                dest=flag.dest,
                action="store_const",
                const=False,
                help=argparse.SUPPRESS,
            )
            for name in names:
                parser.bools[name] = flag.dest
        elif flag.kind == "list":
            group.add_argument(
                *names, dest=flag.dest, action="append", default=None, metavar="LIST", help=text
            )
        else:
            group.add_argument(
                *names,
                dest=flag.dest,
                default=None,
                metavar=flag.name.split("-")[-1].upper(),
                help=text,
            )


# --- commands -------------------------------------------------------------------------------

Handler = Callable[[Context, argparse.Namespace], int]


@dataclass(frozen=True)
class Command:
    """One command: its words, help, options and the function that runs it."""

    path: tuple[str, ...]
    summary: str
    usage: str
    run: Handler
    configure: Callable[[CommandLine], None] = lambda parser: None
    description: str = ""
    takes_command: bool = False
    """Whether what follows ``--`` is a command to run (``watch``, ``lock``)."""
    needs_client: bool = True

    @property
    def name(self) -> str:
        return " ".join(self.path)


@dataclass(slots=True)
class Invocation:
    """The command found in the arguments, and the arguments left for its parser."""

    command: Command | None
    tokens: list[str]
    after_dashes: list[str] | None = None
    group: str | None = None
    unknown: str | None = None
    help_for: list[str] = field(default_factory=list)


def find_command(argv: Sequence[str], commands: Iterable[Command]) -> Invocation:
    """Find the command words (skipping global flags and their values)."""
    table = {command.path: command for command in commands}
    groups = {path[0] for path in table if len(path) > 1}
    tokens = list(argv)
    after: list[str] | None = None
    if "--" in tokens:
        cut = tokens.index("--")
        tokens, after = tokens[:cut], tokens[cut + 1 :]
    words: list[int] = []
    index = 0
    while index < len(tokens):
        token = tokens[index]
        if token.startswith("-") and token != "-":
            if token in _GLOBAL_VALUE_FLAGS:
                index += 1
            index += 1
            continue
        words.append(index)
        first = tokens[words[0]]
        if len(words) == 1 and first in groups:
            index += 1
            continue
        break
    path = tuple(tokens[i] for i in words)
    rest = [token for i, token in enumerate(tokens) if i not in words]
    if not path:
        return Invocation(None, rest, after)
    if path[0] == "help":
        help_for = [t for t in rest if not t.startswith("-")]
        return Invocation(None, [], None, help_for=help_for or [""])
    if path in table:
        return Invocation(table[path], rest, after)
    if len(path) == 1 and path[0] in groups:
        return Invocation(None, rest, after, group=path[0])
    if path[0] in groups:
        return Invocation(None, rest, after, group=path[0], unknown=path[1])
    return Invocation(None, rest, after, unknown=path[0])


def build_parser(prog: str, command: Command) -> CommandLine:
    parser = CommandLine(
        prog=f"{prog} {command.name}",
        usage=f"{prog} {command.usage} [flags]",
        description=command.summary + ("\n\n" + command.description if command.description else ""),
    )
    command.configure(parser)
    add_global_options(parser)
    return parser


def top_help(prog: str, commands: Sequence[Command]) -> str:
    width = max(len(command.name) for command in commands) + 2
    lines = [
        f"{prog} - a command line client for etcd3, with etcdctl's commands, flags,",
        "environment variables and output formats.",
        "",
        "USAGE:",
        f"  {prog} [global options] <command> [options] [arguments]",
        "",
        "COMMANDS:",
    ]
    lines += [f"  {command.name.ljust(width)}{command.summary}" for command in commands]
    lines += [
        "",
        "GLOBAL OPTIONS (each also read from the environment variable shown; the flag wins):",
    ]
    for flag in GLOBAL_FLAGS:
        names = f"{flag.short}, --{flag.name}" if flag.short else f"    --{flag.name}"
        shown = f" (default {flag.shown_default})" if flag.shown_default else ""
        lines.append(f"  {names}")
        lines.append(f"        {flag.help}{shown} [{flag.env}]")
    lines += [
        "",
        f"Run '{prog} <command> --help' for a command's options.",
        "",
    ]
    return "\n".join(lines)


def group_help(prog: str, group: str, commands: Sequence[Command]) -> str:
    members = [command for command in commands if command.path[0] == group]
    width = max(len(command.name) for command in members) + 2
    lines = [f"USAGE:\n  {prog} {group} <command> [options]\n", "COMMANDS:"]
    lines += [f"  {command.name.ljust(width)}{command.summary}" for command in members]
    lines += ["", f"Run '{prog} {group} <command> --help' for a command's options.", ""]
    return "\n".join(lines)


def file_encode(text: str) -> bytes:
    """An argument as the bytes the user typed (arguments that are not UTF-8 survive)."""
    return os.fsencode(text)
