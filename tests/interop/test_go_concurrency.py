"""Locks and elections shared with Go's ``concurrency.Mutex`` and ``concurrency.Election``."""

from __future__ import annotations

import asyncio
import contextlib
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

import etcd

from ._go import wait_for

pytestmark = pytest.mark.integration

GO_PROCESSES = 2
PYTHON_PARTICIPANTS = 2
ITERATIONS = 15
PAUSE = 0.005  # between reading the counter and writing it back, as the Go side does


def _count(response) -> int:
    return int(response.kvs[0].value) if response.kvs else 0


def _start_go_counters(go, name, counter):
    return [
        go.start("lock-count", name=name, counter=counter, iterations=ITERATIONS)
        for _ in range(GO_PROCESSES)
    ]


def _check_go_counters(runs) -> None:
    for run in runs:
        events = run.finish()
        assert events[-1] == {"event": "done", "increments": ITERATIONS}
        assert len([event for event in events if event["event"] == "incremented"]) == ITERATIONS


# --- locks ----------------------------------------------------------------------------------


def test_go_processes_and_python_threads_lose_no_update_under_one_lock(etcd_client, go):
    name, counter = "/interop/lock/sync", "/interop/counter/sync"

    def increments() -> None:
        for _ in range(ITERATIONS):
            with etcd_client.lock(name, ttl=10):
                value = _count(etcd_client.range(counter))
                time.sleep(PAUSE)
                etcd_client.put(counter, str(value + 1))

    runs = _start_go_counters(go, name, counter)
    with ThreadPoolExecutor(PYTHON_PARTICIPANTS) as pool:
        threads = [pool.submit(increments) for _ in range(PYTHON_PARTICIPANTS)]
        for thread in threads:
            thread.result(timeout=100)
    _check_go_counters(runs)
    total = ITERATIONS * (GO_PROCESSES + PYTHON_PARTICIPANTS)
    assert _count(etcd_client.range(counter)) == total
    assert etcd_client.range(f"{name}/", prefix=True, count_only=True).count == 0


async def test_go_processes_and_asyncio_tasks_lose_no_update_under_one_lock(async_etcd_client, go):
    client = async_etcd_client
    name, counter = "/interop/lock/async", "/interop/counter/async"

    async def increments() -> None:
        for _ in range(ITERATIONS):
            async with client.lock(name, ttl=10):
                value = _count(await client.range(counter))
                await asyncio.sleep(PAUSE)
                await client.put(counter, str(value + 1))

    runs = _start_go_counters(go, name, counter)
    tasks = [increments() for _ in range(PYTHON_PARTICIPANTS)]
    await asyncio.wait_for(asyncio.gather(*tasks), 100)
    await asyncio.to_thread(_check_go_counters, runs)
    total = ITERATIONS * (GO_PROCESSES + PYTHON_PARTICIPANTS)
    assert _count(await client.range(counter)) == total


def test_try_acquire_fails_while_go_holds_the_lock(etcd_client, go):
    name = "/interop/lock/held-by-go"
    holder = go.start("lock-hold", name=name)
    go_key = holder.expect("locked")["key"]
    lock = etcd_client.lock(name, ttl=10)
    assert not lock.try_acquire()
    assert lock.key is None  # it left the queue again
    assert not lock.acquire(timeout=0.5)
    assert not lock.is_held()
    holder.send("unlock")
    holder.expect("unlocked")
    assert lock.try_acquire()
    assert lock.is_held()
    held = [kv.key for kv in etcd_client.range(f"{name}/", prefix=True).kvs]
    assert len(held) == 1 and held[0] != go_key.encode()
    lock.release()
    assert not lock.is_held()
    holder.finish()


def test_go_waits_for_a_lock_python_holds(etcd_client, go):
    name = "/interop/lock/held-by-python"
    with etcd_client.lock(name, ttl=10) as lock:
        assert go.run("lock-hold", name=name, wait_for="500ms") == [{"event": "timed-out"}]
        waiter = go.start("lock-hold", name=name)

        def queued():
            return etcd_client.range(f"{name}/", prefix=True, count_only=True).count == 2

        wait_for(queued, "Go's key to queue behind ours")
        assert waiter.printed("locked") == []
        assert lock.is_held()
        python_key = lock.key
    go_key = waiter.expect("locked")["key"]
    assert go_key.encode() != python_key
    assert [kv.key for kv in etcd_client.range(f"{name}/", prefix=True).kvs] == [go_key.encode()]
    waiter.finish()


# --- elections ------------------------------------------------------------------------------


def test_python_observes_go_leaders(etcd_client, go):
    name = "/interop/election/go-leads"
    election = etcd_client.election(name)
    with pytest.raises(etcd.EtcdElectionNoLeader):
        election.leader()
    first = go.start("campaign", name=name, value="go-1")
    key = first.expect("elected")["key"]
    leader = election.leader()
    assert (leader.key, leader.value) == (key.encode(), b"go-1")

    seen: list[bytes] = []

    def observe() -> None:
        for each in election.observe(timeout=60):
            seen.append(each.value)
            if len(seen) == 3:
                return

    with ThreadPoolExecutor(1) as pool:
        observing = pool.submit(observe)
        wait_for(lambda: seen == [b"go-1"], "the observer to see the first Go leader")
        first.send("proclaim go-2")
        first.expect("proclaimed")
        wait_for(lambda: len(seen) == 2, "the observer to see the proclaimed value")
        first.send("resign")
        first.expect("resigned")
        second = go.start("campaign", name=name, value="go-3")
        second.expect("elected")
        observing.result(timeout=60)
    assert seen == [b"go-1", b"go-2", b"go-3"]
    assert election.leader().value == b"go-3"
    second.finish()
    first.finish()
    with pytest.raises(etcd.EtcdElectionNoLeader):
        election.leader()


async def test_asyncio_observes_a_go_leader(async_etcd_client, go):
    name = "/interop/election/go-leads-async"
    election = async_etcd_client.election(name)
    leader = go.start("campaign", name=name, value="go-1")
    await asyncio.to_thread(leader.expect, "elected")
    seen = []
    async with contextlib.aclosing(election.observe(timeout=60)) as leaders:
        async for each in leaders:
            seen.append(each.value)
            if len(seen) == 2:
                break
            leader.send("proclaim go-2")
    assert seen == [b"go-1", b"go-2"]
    assert (await election.leader()).value == b"go-2"
    await asyncio.to_thread(leader.finish)


def test_go_observes_python_leaders(etcd_client, go):
    name = "/interop/election/python-leads"
    assert go.run("leader", name=name) == [{"event": "no-leader"}]
    first = etcd_client.election(name, ttl=10)
    assert first.campaign("py-1", timeout=10)
    assert go.run("leader", name=name)[-1] == {
        "event": "leader",
        "key": first.key.decode(),
        "value": "py-1",
    }
    observer = go.start("observe", name=name, leaders=3)
    assert observer.expect("leader")["value"] == "py-1"
    first.proclaim("py-2")
    assert observer.expect("leader")["value"] == "py-2"
    first.resign()
    second = etcd_client.election(name, ttl=10)
    assert second.campaign("py-3", timeout=10)
    assert observer.expect("leader") == {
        "event": "leader",
        "key": second.key.decode(),
        "value": "py-3",
    }
    observer.finish()
    second.resign()
    assert go.run("leader", name=name) == [{"event": "no-leader"}]


def test_python_campaign_waits_for_the_go_leader_to_resign(etcd_client, go):
    name = "/interop/election/hand-over-to-python"
    go_leader = go.start("campaign", name=name, value="go")
    go_leader.expect("elected")
    election = etcd_client.election(name, ttl=10)

    def candidates():
        return etcd_client.range(f"{name}/", prefix=True, count_only=True).count

    with ThreadPoolExecutor(1) as pool:
        campaign = pool.submit(election.campaign, "python", 60)
        wait_for(lambda: candidates() == 2, "our candidacy to queue")
        assert not campaign.done()
        assert election.leader().value == b"go"
        go_leader.send("resign")
        go_leader.expect("resigned")
        assert campaign.result(timeout=60) is True
    assert election.leader().value == b"python"
    go_leader.finish()
    election.resign()


def test_go_campaign_waits_for_the_python_leader_to_resign(etcd_client, go):
    name = "/interop/election/hand-over-to-go"
    election = etcd_client.election(name, ttl=10)
    assert election.campaign("python", timeout=10)
    go_candidate = go.start("campaign", name=name, value="go")
    go_candidate.expect("campaigning")

    def candidates():
        return etcd_client.range(f"{name}/", prefix=True, count_only=True).count

    wait_for(lambda: candidates() == 2, "Go's candidacy to queue")
    assert go_candidate.printed("elected") == []
    election.resign()
    assert go_candidate.expect("elected")["value"] == "go"
    assert election.leader().value == b"go"
    go_candidate.finish()


def test_the_lock_of_a_killed_go_holder_passes_to_python_when_its_session_expires(etcd_client, go):
    name = "/interop/lock/killed-go-holder"
    holder = go.start("lock-hold", name=name, ttl=2)
    holder.expect("locked")
    lock = etcd_client.lock(name, ttl=10)
    assert not lock.try_acquire()
    holder.kill()  # no unlock: Go's session lease is left to expire
    assert lock.acquire(timeout=60)
    assert lock.is_held()
    lock.release()


def test_the_lock_of_a_dead_python_holder_passes_to_go_when_its_session_expires(etcd_client, go):
    name = "/interop/lock/dead-python-holder"
    lock = etcd_client.lock(name, ttl=2)
    assert lock.acquire(timeout=10)
    python_key = lock.key
    waiter = go.start("lock-hold", name=name)

    def queued():
        return etcd_client.range(f"{name}/", prefix=True, count_only=True).count == 2

    wait_for(queued, "Go's key to queue behind ours")
    lock.session.orphan()  # as if this process had died: the lease expires
    assert waiter.expect("locked")["key"].encode() != python_key
    assert not lock.is_held()
    waiter.finish()
