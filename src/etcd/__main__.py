"""``python -m etcd``: the command-line entry point."""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m etcd", description="etcd-client tools")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("demo", help="walk through the client against a throwaway etcd")
    commands.add_parser("version", help="print the client's version")
    args = parser.parse_args(argv)
    if args.command == "version":
        from etcd import __version__

        print(f"etcd-client {__version__}")
        return 0
    from etcd._demo import main as demo

    return demo()


if __name__ == "__main__":
    sys.exit(main())
