"""Run one python-etcd program and write what it saw as JSON.

Usage: ``python runner.py PROGRAM SETTINGS_JSON OUTPUT_JSON``.

The same file runs on both sides of the differential test: with python-etcd 0.4.5 first
on ``PYTHONPATH`` (``import etcd`` is then python-etcd, talking v2), and without (it is
this project, talking v3). It imports nothing of either beyond ``etcd``, so that it
means the same on both. The program gets a ``harness`` global: the server to use, and
the calls that record results in a form the two sides can be compared in.
"""

from __future__ import annotations

import json
import runpy
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any

import etcd

# An error is recorded under the most specific python-etcd exception it is an instance of,
# so that this project's more precise classes (and aliases, such as
# EtcdEventIndexCleared) compare with python-etcd's. (The driver puts the repository's
# root on PYTHONPATH, after python-etcd.)
from tests.differential.python_etcd_names import PYTHON_ETCD_EXCEPTIONS


def python_etcd_name(error: BaseException) -> str:
    matching = [
        getattr(etcd, name)
        for name in PYTHON_ETCD_EXCEPTIONS
        if isinstance(getattr(etcd, name, None), type) and isinstance(error, getattr(etcd, name))
    ]
    if not matching:
        return f"not an etcd exception: {type(error).__name__}"
    most_specific = max(matching, key=lambda cls: len(cls.__mro__))
    return next(n for n in PYTHON_ETCD_EXCEPTIONS if getattr(etcd, n) is most_specific)


def index(value: Any, kind: str = "index") -> dict[str, Any]:
    """An index, compared by its order among the program's indexes of its kind, not by its
    number: ``"index"`` for the indexes of changes, ``"created"`` for creations."""
    return {kind: None if value is None else int(value)}


def ttl_state(ttl: Any, limit: int | None = None) -> str:
    """A TTL as ``none`` or ``set``: the seconds left differ from one run to the next."""
    if ttl is None:
        return "none"
    if limit is not None and not 0 < int(ttl) <= limit:
        return f"out of range: {ttl}"
    return "set"


def node(result: Any) -> dict[str, Any]:
    """What a python-etcd result says, with indexes as indexes."""
    return {
        "key": result.key,
        "value": result.value,
        "dir": bool(result.dir),
        "ttl": ttl_state(result.ttl),
        "action": result.action,
        "modifiedIndex": index(result.modifiedIndex),
        "createdIndex": index(result.createdIndex, "created"),
        "leaves": [[leaf.key, leaf.value, bool(leaf.dir)] for leaf in result.leaves],
    }


class Harness:
    def __init__(self, settings: dict[str, Any]) -> None:
        self.settings = settings
        self.host: str = settings["host"]
        self.port: int = settings["port"]
        self.prefix: str = settings["prefix"]
        self.srv_domain: str = settings.get("srv_domain", "")
        self.missing_domain: str = settings.get("missing_domain", "")
        self.records: list[list[Any]] = []

    ttl_state = staticmethod(ttl_state)

    def record(self, label: str, value: Any) -> None:
        self.records.append([label, value])

    def node(self, label: str, result: Any) -> None:
        self.record(label, node(result))

    def index(self, label: str, value: Any) -> None:
        self.record(label, index(value))

    def attempt(self, label: str, action: Callable[[], Any]) -> Any:
        """Run ``action``; record its result (a node when it is one) or its error."""
        try:
            value = action()
        except Exception as error:
            self.record(label, {"raised": python_etcd_name(error)})
            return None
        if hasattr(value, "modifiedIndex"):
            self.record(label, {"returned": node(value)})
        else:
            self.record(label, {"returned": value})
        return value

    def eventually(self, check: Callable[[], bool], limit: float = 20.0) -> bool:
        """Whether ``check()`` comes true within ``limit`` seconds (for TTLs to run out)."""
        give_up = time.monotonic() + limit
        while time.monotonic() < give_up:
            if check():
                return True
            time.sleep(0.2)
        return False


def configure_dns(settings: dict[str, Any]) -> None:
    """Make dnspython's default resolver ask the test's DNS server, on both sides (python-etcd
    asks that resolver; this project does too, unless given name servers)."""
    if "dns_port" not in settings:
        return
    import dns.resolver

    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers = ["127.0.0.1"]
    resolver.port = settings["dns_port"]
    dns.resolver.default_resolver = resolver


def main(program: str, settings_path: str, output_path: str) -> int:
    with open(settings_path) as handle:
        settings = json.load(handle)
    configure_dns(settings)
    harness = Harness(settings)
    outcome: dict[str, Any] = {"library": etcd.__file__, "records": harness.records}
    try:
        runpy.run_path(program, init_globals={"harness": harness}, run_name="__main__")
    except BaseException:
        outcome["crashed"] = traceback.format_exc()
    with open(output_path, "w") as handle:
        json.dump(outcome, handle, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
