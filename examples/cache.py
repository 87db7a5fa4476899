"""A live cache of a service list, end to end, against a throwaway etcd.

Starts an etcd server of its own (on 127.0.0.1, with free ports, removed afterwards).
Two service instances register under ``/services/billing/`` with leases kept alive; a
cache of that prefix lists them, then follows every change: a third instance joins, one
leaves, and an update arrives for each. The last part reads its own write: it waits for
the cache to reach the revision of a put before reading the key back.

Run it with ``python examples/cache.py``; it needs an etcd binary (the ``server`` extra
installs one).
"""

from __future__ import annotations

import json
from typing import Any

import etcd
from etcd.testing import EtcdServer

PREFIX = "/services/billing/"


def register(client: etcd.Client, lease: etcd.Lease, address: str) -> int:
    """Put an instance's address under the prefix; the revision of the write."""
    value = json.dumps({"address": address})
    return client.put(f"{PREFIX}{address}", value, lease=lease).header.revision


def main() -> None:
    with EtcdServer() as server, etcd.Client(endpoints=[server.endpoint]) as client:
        first = client.lease(ttl=10)
        second = client.lease(ttl=10)
        register(client, first, "10.0.0.1:8080")
        register(client, second, "10.0.0.2:8080")

        updates: list[etcd.CacheUpdate[Any]] = []
        with client.cache(PREFIX, decode=json.loads) as instances:
            instances.wait_ready(timeout=10)
            print(f"{len(instances)} instances at revision {instances.revision}:")
            for key, value in instances.items():
                print(f"  {key.decode()} -> {value['address']}")

            instances.add_callback(updates.append)
            third = client.lease(ttl=10)
            register(client, third, "10.0.0.3:8080")
            first.revoke()  # the instance leaves: its key goes with its lease
            revision = register(client, second, "10.0.0.2:8080")  # read your writes
            instances.wait_for_revision(revision, timeout=10)

            for update in updates:
                for event in update.events:
                    print(f"revision {update.revision}: {event.type.name} {event.key.decode()}")
            addresses = sorted(value["address"] for _, value in instances.items())
            print("now:", ", ".join(addresses))
            assert addresses == ["10.0.0.2:8080", "10.0.0.3:8080"]
            third.revoke()
        second.revoke()


if __name__ == "__main__":
    main()
