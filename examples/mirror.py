"""Mirroring a prefix to a second cluster, end to end, against two throwaway etcd servers.

Starts two etcd servers of its own (on 127.0.0.1, with free ports, removed afterwards):
a "primary" and a "standby". The primary holds an application's settings under
``/app/config/``; a mirror copies them to the standby under ``/replica/config/``, then
follows every change: a new setting, a changed one, a removed one, and a transaction
that changes two at once (it reaches the standby as one transaction too).

Run it with ``python examples/mirror.py``; it needs an etcd binary (the ``server`` extra
installs one).
"""

from __future__ import annotations

import etcd
from etcd.testing import EtcdServer

SOURCE_PREFIX = "/app/config/"
STANDBY_PREFIX = "/replica/config/"


def show(client: etcd.Client, prefix: str) -> dict[str, str]:
    """The keys under ``prefix`` and their values, as text."""
    response = client.range(prefix, prefix=True)
    return {kv.key.decode(): kv.value.decode() for kv in response.kvs}


def main() -> None:
    with (
        EtcdServer() as primary_server,
        EtcdServer() as standby_server,
        etcd.Client(endpoints=[primary_server.endpoint]) as primary,
        etcd.Client(endpoints=[standby_server.endpoint]) as standby,
    ):
        primary.put(f"{SOURCE_PREFIX}color", "blue")
        primary.put(f"{SOURCE_PREFIX}size", "10")

        with primary.mirror(SOURCE_PREFIX, standby, dest_prefix=STANDBY_PREFIX) as mirror:
            mirror.wait_synced(timeout=30)
            print(f"copied {mirror.copied} keys:", show(standby, STANDBY_PREFIX))

            primary.put(f"{SOURCE_PREFIX}shape", "round")
            primary.put(f"{SOURCE_PREFIX}size", "12")
            primary.delete_range(f"{SOURCE_PREFIX}color")
            both = primary.txn(
                [],
                [
                    etcd.Op.put(f"{SOURCE_PREFIX}width", "3"),
                    etcd.Op.put(f"{SOURCE_PREFIX}height", "4"),
                ],
                [],
            )
            # Read your writes on the standby: wait until the mirror applied the last one.
            mirror.wait_for_revision(both.header.revision, timeout=30)
            print(f"after {mirror.applied} changes:", show(standby, STANDBY_PREFIX))

        expected = {
            key.replace(SOURCE_PREFIX, STANDBY_PREFIX, 1): value
            for key, value in show(primary, SOURCE_PREFIX).items()
        }
        assert show(standby, STANDBY_PREFIX) == expected
        # The transaction's two keys were written in one transaction on the standby too.
        height = standby.range(f"{STANDBY_PREFIX}height").kvs[0]
        width = standby.range(f"{STANDBY_PREFIX}width").kvs[0]
        assert height.mod_revision == width.mod_revision
        print("the standby matches the primary")


if __name__ == "__main__":
    main()
