"""``version`` and ``demo``."""

from __future__ import annotations

import argparse

from .._version import __version__
from ._context import Context
from ._parser import Command, CommandLine

#: The etcd API this client speaks (its protocol definitions are etcd 3.5's).
API_VERSION = "3.5"


def run_version(context: Context, options: argparse.Namespace) -> int:
    context.write(f"etcd-client version: {__version__}\nAPI version: {API_VERSION}\n".encode())
    return 0


def run_demo(context: Context, options: argparse.Namespace) -> int:
    from ._demo import main as demo

    return demo()


def _no_args(parser: CommandLine) -> None:
    parser.add_argument("args", nargs="*", help=argparse.SUPPRESS)


COMMANDS = [
    Command(("version",), "Prints the version of etcd-client", "version", run_version,
            _no_args, needs_client=False),
    Command(("demo",), "Walks through the client against a throwaway etcd it starts itself",
            "demo", run_demo, _no_args,
            "Needs an etcd binary: pip install 'etcd-client[server]'.", needs_client=False),
]  # fmt: skip
