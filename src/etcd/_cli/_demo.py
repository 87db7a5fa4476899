"""``python -m etcd demo``: a walkthrough of the client against a throwaway etcd.

Each step prints the code it runs and what came back, so a newcomer sees the interface
working end to end in a few seconds.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import threading
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
        before = dict(self.namespace)
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
        for name, old in before.items():
            # A client replaced by the next constructor line is closed, as a user would.
            if isinstance(old, etcd.Client) and self.namespace.get(name) is not old:
                old.close()
        if result is not None:
            self.out.write(f"{result!r}\n")
        return result


def seed_walkthrough(
    port: int, tls_port: int, out: TextIO = sys.stdout, *, wait: float = 0.5
) -> int:
    """The Usage section of python-etcd's README, line by line, in order.

    ``port`` serves plain HTTP; ``tls_port`` serves HTTPS with client certificates, whose
    files (``cert.crt``, ``cert.key``, ``cert.pem`` and ``ca.crt``) are in the current
    directory. Returns the number of steps.
    """
    namespace: dict[str, Any] = {"etcd": etcd}
    demo = _Walkthrough(namespace, out)

    demo.section("Create a client object")
    demo.run("etcd.Client().endpoints  # no network I/O yet; etcd's registered port is 2379")
    demo.run(f"client = etcd.Client(port={port})")
    demo.run(f"client = etcd.Client(host='127.0.0.1', port={port})")
    demo.run(f"client = etcd.Client(host='127.0.0.1', port={port}, allow_redirect=False)")
    demo.run(f"client = etcd.Client(port={port}, allow_reconnect=True)")
    tls_options = f"port={tls_port}, ca_cert='ca.crt'"
    demo.run(f"tls = etcd.Client(protocol='https', cert=('cert.crt', 'cert.key'), {tls_options})")
    demo.run("tls.set('/secure', 'over https').value")
    demo.run(f"tls = etcd.Client(protocol='https', cert='cert.pem', {tls_options})")
    demo.run("tls.get('/secure').value")
    demo.run("tls.close()")

    demo.section("Set a key")
    demo.run("client.set('/nodes/n1', 1)")
    demo.run("client.set('/nodes/n2', 2, ttl=4)  # expires after 4 seconds")

    demo.section("Get a key")
    demo.run("client.get('/nodes/n2').value")
    demo.run("client.get('/nodes/n2').ttl")

    demo.section("Delete a key")
    demo.run("client.delete('/nodes/n1')")
    demo.run("client.get('/nodes/n1')", expect=etcd.EtcdKeyNotFound)

    demo.section("Test and set")
    demo.run(
        "client.test_and_set('/nodes/n2', 2, 4)  # only if it was 4", expect=etcd.EtcdCompareFailed
    )
    demo.run("client.set('/nodes/n2', 4).value")
    demo.run("client.test_and_set('/nodes/n2', 2, 4).value")

    demo.section("Watch a key")
    out.write(f"(in {wait} s, another thread runs client.set('/nodes/n1', 'changed'))\n")
    timer = threading.Timer(wait, namespace["client"].set, ("/nodes/n1", "changed"))
    timer.start()
    demo.run("client.watch('/nodes/n1')  # waits until the key changes")
    timer.join()

    demo.section("List sub keys")
    demo.run("client.set('/nodes/group/n3', 3).key")
    demo.run("client.get('/nodes')")
    demo.run("[(child.key, child.dir, child.value) for child in client.get('/nodes').children]")
    demo.run("[child.key for child in client.get('/nodes', recursive=True).children]")

    demo.section("Get machines in the cluster")
    demo.run("client.machines")

    demo.section("Get leader of the cluster")
    demo.run("client.leader")
    demo.run("client.leader['clientURLs']")
    demo.run("client.close()")
    return demo.steps


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
    """Start throwaway etcd servers, run the walkthroughs against them, stop them."""
    from etcd.testing import EtcdServer, make_tls

    out.write("Starting two throwaway etcd servers on 127.0.0.1 (http, and https) ...\n")
    with tempfile.TemporaryDirectory(prefix="etcd-demo-") as workdir:
        tls = make_tls(os.path.join(workdir, "pki"))
        for source, name in (
            (tls.client_cert, "cert.crt"),
            (tls.client_key, "cert.key"),
            (tls.client_combined, "cert.pem"),
            (tls.ca_cert, "ca.crt"),
        ):
            shutil.copyfile(source, os.path.join(workdir, name))
        with EtcdServer() as server, EtcdServer(tls=tls) as tls_server:
            out.write(f"etcd serves {server.client_url} and {tls_server.client_url}\n")
            out.write("\n# Part 1: the python-etcd interface, as in its README\n")
            previous = os.getcwd()
            os.chdir(workdir)
            try:
                steps = seed_walkthrough(_port(server.endpoint), _port(tls_server.endpoint), out)
            finally:
                os.chdir(previous)
            out.write("\n# Part 2: etcd's v3 API\n")
            out.write(f">>> client = etcd.Client(port={_port(server.endpoint)})\n")
            with etcd.Client(port=_port(server.endpoint)) as client:
                client.delete_range(b"\0", from_key=True)
                steps += walkthrough(client, out)
    out.write(f"\nDone: {steps} calls against real etcd servers, now stopped and removed.\n")
    return 0


def _port(endpoint: str) -> int:
    return int(endpoint.rpartition(":")[2])
