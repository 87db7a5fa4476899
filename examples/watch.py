"""Watching a prefix, end to end, against a throwaway etcd.

Starts an etcd server of its own (on 127.0.0.1, with free ports, removed afterwards) and
watches every key under ``/jobs/`` while another thread writes: two single puts, one
transaction that writes two keys in one revision, a change and a delete. Each server
response is printed with its revision and its events; the transaction arrives as one
response holding both of its events.

Run it with ``python examples/watch.py``; it needs an etcd binary (the ``server`` extra
installs one).
"""

from __future__ import annotations

import threading

import etcd
from etcd.testing import EtcdServer

# What the writer below produces: one event per key written or deleted.
EXPECTED_EVENTS = 6


def write_jobs(client: etcd.Client) -> None:
    """The changes the watch will see, in this order."""
    client.put("/jobs/1", "queued")
    client.put("/jobs/2", "queued")
    # One transaction, one revision: both keys change together.
    client.txn(
        [],
        [etcd.Op.put("/jobs/3", "queued"), etcd.Op.put("/jobs/4", "queued")],
        [],
    )
    client.put("/jobs/1", "running")
    client.delete_range("/jobs/2")
    client.put("/elsewhere", "not under /jobs/, so not seen")


def describe(event: etcd.Event) -> str:
    key = event.key.decode()
    if event.type is etcd.EventType.DELETE:
        old = event.prev_kv.value.decode() if event.prev_kv is not None else "?"
        return f"DELETE {key} (was {old!r})"
    if event.is_create:
        return f"CREATE {key} = {event.value.decode()!r}"
    old = event.prev_kv.value.decode() if event.prev_kv is not None else "?"
    return f"UPDATE {key} = {event.value.decode()!r} (was {old!r})"


def main() -> int:
    with (
        EtcdServer() as server,
        etcd.Client(endpoints=[server.endpoint]) as client,
        # prev_kv=True: every event also carries the key as it was before the change.
        client.watch_prefix("/jobs/", prev_kv=True) as watch,
    ):
        # A watch without start_revision sees the changes made after the server created
        # it: wait for that before writing, or the first writes could be missed.
        if not watch.wait_created(10):
            print("the watch was not created in time")
            return 1
        writer = threading.Thread(target=write_jobs, args=(client,))
        writer.start()
        seen = 0
        while seen < EXPECTED_EVENTS:
            # One server response at a time (for event in watch: would give single events).
            # The timeout turns a writer that failed into an error instead of a hang.
            response = watch.next_response(timeout=10)
            # A response never splits a revision: the transaction's two events arrive
            # together, with the same revision.
            print(f"response at revision {response.revision}:")
            for event in response.events:
                print(f"  [{event.revision}] {describe(event)}")
            seen += len(response.events)
        writer.join()
        print(f"{seen} events; the watch would resume from revision {watch.next_revision}")
    # Leaving the with block cancelled the watch, closed the client and stopped etcd.
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
