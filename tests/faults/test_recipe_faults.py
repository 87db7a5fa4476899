"""An RWMutex under member kills: readers and writers of one name never overlap.

Four participants, each with its own client to all three members, take read and write
locks in turn and record who is inside; the leader is killed and restarted, then a
follower. A participant whose call fails (a member went away under it) gives up that
round and tries again; none may ever be inside with a writer.
"""

from __future__ import annotations

import threading
import time
import uuid

import pytest

import etcd
from etcd.testing import EtcdCluster

pytestmark = [pytest.mark.integration, pytest.mark.cluster, pytest.mark.faults]


class Inside:
    """Who holds the lock, by the participants' own account, and every overlap seen."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.readers = 0
        self.writers = 0
        self.overlaps: list[str] = []
        self.rounds = {"read": 0, "write": 0}

    def enter(self, writing: bool) -> None:
        with self.lock:
            if self.writers or (writing and self.readers):
                self.overlaps.append(
                    f"{'writer' if writing else 'reader'} entered beside "
                    f"{self.readers} readers and {self.writers} writers"
                )
            if writing:
                self.writers += 1
            else:
                self.readers += 1

    def leave(self, writing: bool) -> None:
        with self.lock:
            if writing:
                self.writers -= 1
            else:
                self.readers -= 1
            self.rounds["write" if writing else "read"] += 1


def participate(
    endpoints: list[str], name: str, number: int, inside: Inside, stop: threading.Event
) -> list[str]:
    failures: list[str] = []
    with etcd.Client(endpoints=endpoints, timeout=5) as client:
        rw = client.rw_mutex(name, ttl=10)
        turn = number
        while not stop.is_set():
            writing = turn % 3 == 0
            turn += 1
            try:
                acquired = rw.lock(timeout=10) if writing else rw.read_lock(timeout=10)
            except etcd.EtcdException as error:
                failures.append(type(error).__name__)
                continue
            if not acquired:
                continue
            inside.enter(writing)
            time.sleep(0.02)
            inside.leave(writing)
            try:
                rw.unlock() if writing else rw.read_unlock()
            except etcd.EtcdException as error:
                # Our key stays until the lease, no longer refreshed, expires.
                failures.append(type(error).__name__)
    return failures


def test_rw_mutex_excludes_while_members_are_killed(etcd_cluster: EtcdCluster) -> None:
    name = f"faults/rw/{uuid.uuid4().hex[:8]}"
    inside = Inside()
    stop = threading.Event()
    failures: list[list[str]] = [[] for _ in range(4)]

    def run(number: int) -> None:
        failures[number] = participate(etcd_cluster.endpoints, name, number, inside, stop)

    threads = [threading.Thread(target=run, args=(n,), daemon=True) for n in range(4)]
    for thread in threads:
        thread.start()
    try:
        time.sleep(2)
        leader = etcd_cluster.leader(timeout=10)
        leader.kill()
        time.sleep(2)
        leader.start(wait=False)
        time.sleep(2)
        follower = next(m for m in etcd_cluster.members if m is not etcd_cluster.leader(timeout=10))
        follower.kill()
        time.sleep(2)
        follower.start(wait=False)
        time.sleep(3)
    finally:
        stop.set()
        for thread in threads:
            thread.join(60)
    assert not any(thread.is_alive() for thread in threads)
    assert inside.overlaps == []
    assert inside.rounds["read"] > 10 and inside.rounds["write"] > 3, inside.rounds
    with etcd.Client(endpoints=etcd_cluster.endpoints, timeout=10) as client:
        left = client.range(name + "/", prefix=True).kvs
        assert left == [] or all(kv.lease for kv in left)  # only keys that expire
