"""``python -m etcd demo``: a walkthrough of the client against a throwaway etcd.

Each step prints the code it runs and what came back, so a newcomer sees the interface
working end to end in a few seconds.
"""

from __future__ import annotations

import sys
from typing import Any, TextIO

import etcd


class _Walkthrough:
    def __init__(self, namespace: dict[str, Any], out: TextIO) -> None:
        self.namespace = namespace
        self.out = out
        self.steps = 0

    def section(self, title: str) -> None:
        self.out.write(f"\n## {title}\n")

    def run(self, code: str, *, expect: type[BaseException] | None = None) -> Any:
        """Run one line (or statement) of code and print it with its result."""
        self.steps += 1
        self.out.write(f">>> {code}\n")
        try:
            try:
                result = eval(code, self.namespace)
            except SyntaxError:
                exec(code, self.namespace)
                result = None
        except BaseException as error:
            if expect is None or not isinstance(error, expect):
                raise
            self.out.write(f"{type(error).__module__}.{type(error).__name__}: {error}\n")
            return error
        if expect is not None:
            raise AssertionError(f"{code!r} should have raised {expect.__name__}")
        if result is not None:
            self.out.write(f"{result!r}\n")
        return result


def walkthrough(client: etcd.Client, out: TextIO = sys.stdout) -> int:
    """Run every step against ``client``; returns the number of steps."""
    demo = _Walkthrough({"etcd": etcd, "client": client, "Op": etcd.Op}, out)

    demo.section("Write and read keys (etcd's Put and Range)")
    demo.run("client.put('/nodes/n1', '1')")
    demo.run("client.put('/nodes/n2', '2', prev_kv=True)")
    demo.run("client.put('/nodes/n2', '22', prev_kv=True).prev_kv")
    demo.run("client.range('/nodes/n1').kvs[0]")
    demo.run("client.range('/nodes/', prefix=True, keys_only=True).count")
    demo.run("[kv.key for kv in client.range('/nodes/', prefix=True, sort_order='descend').kvs]")
    demo.run("client.range('/nodes/missing').kvs")

    demo.section("Read the past: every write has a revision")
    demo.run("first = client.put('/config/color', 'blue').header.revision")
    demo.run("client.put('/config/color', 'green').header.revision - first")
    demo.run("client.range('/config/color', revision=first).kvs[0].value")

    demo.section("Transactions: If / Then / Else, atomically")
    demo.run(
        "client.transaction()"
        ".If(etcd.Value('/config/color') == 'green')"
        ".Then(Op.put('/config/color', 'red'), Op.range('/config/color'))"
        ".Else(Op.range('/config/color'))"
        ".commit().succeeded"
    )
    demo.run(
        "client.txn([etcd.Version('/config/size') == 0], [Op.put('/config/size', 'L')], [])"
        ".succeeded"
    )
    demo.run(
        "client.txn([etcd.Version('/config/size') == 0], [Op.put('/config/size', 'XL')], [])"
        ".succeeded"
    )

    demo.section("Walk a large prefix page by page, pinned to one revision")
    demo.run("for i in range(10): client.put(f'/items/{i:02}', str(i))")
    demo.run("[kv.value for kv in client.range_iter('/items/', prefix=True, page_size=3)]")

    demo.section("Delete, and compact the history")
    demo.run("client.delete_range('/items/', prefix=True).deleted")
    demo.run("now = client.range('/config/color').header.revision")
    demo.run("client.compact(now)")
    demo.run("client.range('/config/color', revision=first)", expect=etcd.EtcdCompacted)

    demo.section("Bad input never leaves the client")
    demo.run("client.put('', 'value')", expect=etcd.EtcdValueError)
    demo.run("client.range('/a', limit=-1)", expect=etcd.EtcdValueError)
    demo.run("client.put('/big', b'x' * 2_000_000)", expect=etcd.EtcdRequestTooLarge)
    return demo.steps


def main(out: TextIO = sys.stdout) -> int:
    """Start a throwaway etcd, run the walkthrough against it, stop it."""
    from etcd.testing import EtcdServer

    out.write("Starting a throwaway etcd on 127.0.0.1 ...\n")
    with EtcdServer() as server:
        out.write(f"etcd is serving on {server.client_url}\n")
        out.write(f">>> client = etcd.Client(port={server.endpoint.rpartition(':')[2]})\n")
        with etcd.Client(port=int(server.endpoint.rpartition(":")[2])) as client:
            steps = walkthrough(client, out)
    out.write(f"\nDone: {steps} calls against a real etcd; the server is stopped and removed.\n")
    return 0
