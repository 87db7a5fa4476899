"""Leases, locks and an election, end to end, against a throwaway etcd.

Starts an etcd server of its own (on 127.0.0.1, with free ports, removed afterwards), then:

1. registers a service key under a lease of 5 seconds, kept alive in the background, and
   shows that the key outlives the lease's TTL, and is deleted when the lease is revoked;
2. runs 4 threads that each take the lock ``/locks/demo`` a few times and increment a
   shared counter while holding it, with a transaction fenced by ``lock.is_owner()``, so
   that no increment is lost;
3. runs an election with two candidates: the first leads, resigns, and the second, which
   was waiting, takes over.

Run it with ``python examples/lock_and_lease.py``; it needs an etcd binary (the ``server``
extra installs one).
"""

from __future__ import annotations

import threading
import time

import etcd
from etcd.testing import EtcdServer

WORKERS = 4
ROUNDS = 5
COUNTER = "/demo/counter"
LOCK = "/locks/demo"
ELECTION = "/elections/demo"


def register_service(client: etcd.Client) -> None:
    """A key that lives exactly as long as its lease, kept alive past its TTL."""
    key = "/services/demo/node-1"
    with client.lease(ttl=5) as lease:
        client.put(key, "127.0.0.1:8080", lease=lease)
        print(f"registered {key} under lease {lease.id:x} (TTL {lease.ttl} s)")
        # Wait longer than the TTL: the background keep-alive refreshes the lease every
        # TTL/3 seconds, so the key is still there.
        time.sleep(lease.ttl + 2)
        remaining = lease.time_to_live().ttl
        present = bool(client.range(key).kvs)
        print(f"after {lease.ttl + 2} s: key present={present}, lease TTL left={remaining} s")
        if not present or lease.lost:
            raise RuntimeError("the lease was not kept alive")
    # Leaving the block revoked the lease, and with it the key.
    print(f"after the block: key present={bool(client.range(key).kvs)}")


def increment(client: etcd.Client, lock: etcd.Lock) -> None:
    """Add one to the counter, but only while the lock is still ours."""
    kvs = client.range(COUNTER).kvs
    value = int(kvs[0].value) if kvs else 0
    # The fence: if the lock was lost (its session's lease expired), the comparison fails
    # and nothing is written, instead of overwriting a newer holder's work.
    response = client.txn([lock.is_owner()], [etcd.Op.put(COUNTER, str(value + 1))], [])
    if not response.succeeded:
        raise RuntimeError("lost the lock before writing")


def worker(client: etcd.Client, errors: list[BaseException]) -> None:
    try:
        # One session (one lease, kept alive) per worker, reused for every round: each
        # worker has its own key in the lock's queue.
        with client.session(ttl=10) as session:
            lock = client.lock(LOCK, session=session)
            for _ in range(ROUNDS):
                with lock:
                    increment(client, lock)
    except BaseException as error:
        errors.append(error)


def count_under_lock(client: etcd.Client) -> int:
    errors: list[BaseException] = []
    threads = [
        threading.Thread(target=worker, args=(client, errors), name=f"worker-{number}")
        for number in range(WORKERS)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return int(client.range(COUNTER).kvs[0].value)


def hand_over(client: etcd.Client) -> list[str]:
    """Two candidates: the first leads, then resigns; the second takes over."""
    leaders: list[str] = []
    first = client.election(ELECTION, ttl=10)
    second = client.election(ELECTION, ttl=10)
    if not first.campaign("node-a", timeout=10):
        raise RuntimeError("node-a was not elected")
    leaders.append(first.leader().value.decode())

    # The second candidate waits in line, on a thread of its own.
    elected: list[bool] = []
    waiting = threading.Thread(target=lambda: elected.append(second.campaign("node-b")))
    waiting.start()
    time.sleep(0.5)
    print(f"leader: {first.leader().value.decode()} (node-b is waiting: {not elected})")

    first.resign()  # step down: the next candidate in line leads
    waiting.join(timeout=30)
    if elected != [True]:
        raise RuntimeError("node-b did not take over")
    leaders.append(second.leader().value.decode())
    print(f"leader after node-a resigned: {leaders[-1]}")
    second.resign()
    return leaders


def main() -> int:
    with EtcdServer() as server, etcd.Client(endpoints=[server.endpoint]) as client:
        register_service(client)

        total = count_under_lock(client)
        print(f"counter after {WORKERS} workers x {ROUNDS} rounds under the lock: {total}")
        if total != WORKERS * ROUNDS:
            print("increments were lost")
            return 1

        leaders = hand_over(client)
        print(f"leaders, in order: {leaders}")
        if leaders != ["node-a", "node-b"]:
            return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
