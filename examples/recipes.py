"""Go's recipes, end to end, against a throwaway etcd.

Starts an etcd server of its own (on 127.0.0.1, with free ports, removed afterwards), then:

1. a coordinator holds a barrier while 3 workers wait at it, and releases them;
2. 3 workers enter a double barrier together, work, and leave together;
3. 2 producers fill a queue and 3 consumers drain it, each item taken exactly once;
4. a priority queue hands out urgent items before the rest;
5. readers share a read-write lock while a writer waits its turn, and nobody is ever
   inside beside a writer.

Run it with ``python examples/recipes.py``; it needs an etcd binary (the ``server``
extra installs one).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import etcd
from etcd.testing import EtcdServer


def run_threads(target: Callable[[int], object], count: int) -> None:
    threads = [threading.Thread(target=target, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)


def barrier(client: etcd.Client) -> bool:
    gate = client.barrier("/demo/gate")
    gate.hold()
    released: list[int] = []

    def worker(number: int) -> None:
        client.barrier("/demo/gate").wait(timeout=30)
        released.append(number)

    waiting = threading.Thread(target=run_threads, args=(worker, 3))
    waiting.start()
    time.sleep(0.5)
    print(f"barrier: {len(released)} workers through while held")
    gate.release()
    waiting.join(60)
    print(f"barrier: {len(released)} workers through after the release")
    return len(released) == 3


def double_barrier(client: etcd.Client) -> bool:
    events: list[str] = []

    def worker(number: int) -> None:
        barrier = client.double_barrier("/demo/batch", count=3, ttl=10)
        barrier.enter(timeout=30)
        events.append(f"in {number}")
        barrier.leave(timeout=30)
        events.append(f"out {number}")

    run_threads(worker, 3)
    entered_first = all(event.startswith("in") for event in events[:3])
    print(f"double barrier: all 3 entered before any left: {entered_first}")
    return entered_first and len(events) == 6


def queue(client: etcd.Client) -> bool:
    jobs = client.queue("/demo/jobs")
    for number in range(10):
        jobs.enqueue(f"job-{number}")
    taken: list[list[bytes]] = [[], [], []]

    def consumer(number: int) -> None:
        while (job := jobs.dequeue(timeout=0.5)) is not None:
            taken[number].append(job)

    run_threads(consumer, 3)
    everything = sorted(job for jobs_taken in taken for job in jobs_taken)
    print(f"queue: {len(everything)} jobs taken, {len(set(everything))} distinct")
    return len(everything) == len(set(everything)) == 10


def priority_queue(client: etcd.Client) -> bool:
    alerts = client.priority_queue("/demo/alerts")
    alerts.enqueue("certificate expires in 20 days", priority=10)
    alerts.enqueue("disk full", priority=0)
    alerts.enqueue("backup late", priority=5)
    order = [alerts.dequeue(timeout=5) for _ in range(3)]
    print(f"priority queue: {[item.decode() for item in order if item]}")
    return order == [b"disk full", b"backup late", b"certificate expires in 20 days"]


def rw_mutex(client: etcd.Client) -> bool:
    guard = threading.Lock()
    inside = {"readers": 0, "writers": 0}
    overlaps = 0

    def enter(kind: str) -> None:
        nonlocal overlaps
        with guard:
            if inside["writers"] or (kind == "writers" and inside["readers"]):
                overlaps += 1
            inside[kind] += 1

    def leave(kind: str) -> None:
        with guard:
            inside[kind] -= 1

    def participant(number: int) -> None:
        rw = client.rw_mutex("/demo/config", ttl=10)
        for turn in range(4):
            kind = "writers" if (number + turn) % 3 == 0 else "readers"
            with rw.write(timeout=30) if kind == "writers" else rw.read(timeout=30):
                enter(kind)
                time.sleep(0.01)
                leave(kind)

    run_threads(participant, 4)
    print(f"read-write lock: 16 turns, {overlaps} overlaps")
    return overlaps == 0


def main() -> int:
    with EtcdServer() as server, etcd.Client(endpoints=[server.endpoint]) as client:
        recipes = (barrier, double_barrier, queue, priority_queue, rw_mutex)
        results = [recipe(client) for recipe in recipes]
    return 0 if all(results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
