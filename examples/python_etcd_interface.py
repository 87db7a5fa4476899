"""The python-etcd interface, end to end, against a throwaway etcd.

Starts an etcd server of its own (on 127.0.0.1, with free ports, removed afterwards), then
walks through the calls that python-etcd users know: ``set`` with and without a TTL,
``get``, listing a directory, ``test_and_set``, ``watch``, ``machines`` and ``leader``.

Run it with ``python examples/python_etcd_interface.py``; it needs an etcd binary (the
``server`` extra installs one).
"""

from __future__ import annotations

import threading

import etcd
from etcd.testing import EtcdServer


def show(title: str, result: etcd.EtcdResult) -> None:
    print(f"{title:<28} key={result.key} value={result.value!r} ttl={result.ttl}")


def main() -> int:
    with EtcdServer() as server:
        host, _, port = server.endpoint.rpartition(":")
        with etcd.Client(host=host, port=int(port)) as client:
            # Set a key; values are stored as text, so 1 reads back as "1".
            show("set", client.set("/nodes/n1", 1))
            # With a TTL: the key disappears by itself after 30 seconds.
            show("set with ttl", client.set("/nodes/n2", 2, ttl=30))
            show("get", client.get("/nodes/n2"))

            # A directory is every key below "/nodes/": list its direct children.
            client.set("/nodes/meta/owner", "ops")
            listing = client.get("/nodes")
            for child in listing.children:
                kind = "dir " if child.dir else "key "
                print(f"  {kind}{child.key} = {child.value!r}")

            # test_and_set writes only if the current value matches, atomically.
            try:
                client.test_and_set("/nodes/n2", 3, 4)  # the value is "2", not "4"
            except etcd.EtcdCompareFailed as error:
                print("test_and_set refused:", error)
            show("test_and_set", client.test_and_set("/nodes/n2", 3, 2))

            # watch blocks until the key changes. Starting from the revision after the
            # value already seen means the change is caught even if it lands first.
            seen = client.get("/nodes/n1").modifiedIndex
            assert seen is not None
            writer = threading.Timer(0.5, client.set, args=("/nodes/n1", "changed"))
            writer.start()
            change = client.watch("/nodes/n1", index=seen + 1, timeout=10)
            writer.join()
            print(f"watch saw: action={change.action} value={change.value!r}")

            # The cluster: every member's client URLs, and the leader.
            print("machines:", client.machines)
            leader = client.leader
            print("leader:", leader.name, leader["clientURLs"])

            client.delete("/nodes", recursive=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
