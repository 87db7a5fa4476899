"""Queues, barriers and read-write locks shared with Go's ``contrib/recipes``."""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import Future, ThreadPoolExecutor

import pytest

import etcd

from ._go import GoProcess, wait_for, watchers

pytestmark = pytest.mark.integration


# --- queues ---------------------------------------------------------------------------------


def test_a_queue_fed_by_go_and_python_is_drained_by_python_in_order(etcd_client, go):
    name = "/interop/queue/to-python"
    queue = etcd_client.queue(name)
    go.run("queue-enqueue", "go-1", "go-2", name=name)
    queue.enqueue("py-3")
    queue.enqueue("py-4")
    go.run("queue-enqueue", "go-5", name=name)
    drained = [queue.dequeue(timeout=10) for _ in range(5)]
    assert drained == [b"go-1", b"go-2", b"py-3", b"py-4", b"go-5"]
    assert queue.dequeue(timeout=0.2) is None


def test_a_queue_fed_by_python_and_go_is_drained_by_go_in_order(etcd_client, go):
    name = "/interop/queue/to-go"
    queue = etcd_client.queue(name)
    queue.enqueue("py-1")
    go.run("queue-enqueue", "go-2", name=name)
    queue.enqueue("py-3")
    drained = go.run("queue-dequeue", name=name, count=3)
    assert [event["value"] for event in drained] == ["py-1", "go-2", "py-3"]
    assert etcd_client.range(f"{name}/", prefix=True, count_only=True).count == 0


def test_go_waits_for_what_python_enqueues(etcd_client, go):
    name = "/interop/queue/go-waits"
    consumer = go.start("queue-dequeue", name=name, count=3)
    queue = etcd_client.queue(name)
    for value in ("a", "b", "c"):
        queue.enqueue(value)
    assert [event["value"] for event in consumer.finish()] == ["a", "b", "c"]


async def test_asyncio_waits_for_what_go_enqueues(async_etcd_client, go):
    name = "/interop/queue/asyncio-waits"
    queue = async_etcd_client.queue(name)
    waiting = asyncio.ensure_future(queue.dequeue(timeout=60))
    await asyncio.sleep(0)
    await asyncio.to_thread(go.run, "queue-enqueue", "go-1", "go-2", name=name)
    assert await waiting == b"go-1"
    assert await queue.dequeue(timeout=10) == b"go-2"
    assert await queue.dequeue(timeout=0.2) is None


def test_a_priority_queue_fed_by_both_is_drained_by_python_by_priority(etcd_client, go):
    name = "/interop/priority/to-python"
    queue = etcd_client.priority_queue(name)
    go.run("priority-enqueue", "5:go-5", "1:go-1a", "300:go-300", name=name)
    queue.enqueue("py-1b", 1)
    queue.enqueue("py-2", 2)
    queue.enqueue("py-0", 0)
    # Go numbers its items within a priority after the last one, Python's too.
    go.run("priority-enqueue", "1:go-1c", "65535:go-last", name=name)
    drained = [queue.dequeue(timeout=10) for _ in range(8)]
    assert drained == [
        b"py-0",
        b"go-1a",
        b"py-1b",
        b"go-1c",
        b"py-2",
        b"go-5",
        b"go-300",
        b"go-last",
    ]
    assert queue.dequeue(timeout=0.2) is None


def test_a_priority_queue_fed_by_both_is_drained_by_go_by_priority(etcd_client, go):
    name = "/interop/priority/to-go"
    queue = etcd_client.priority_queue(name)
    queue.enqueue("py-9", 9)
    queue.enqueue("py-3a", 3)
    go.run("priority-enqueue", "3:go-3b", "0:go-0", name=name)
    queue.enqueue("py-3c", 3)
    queue.enqueue("py-65535", 65535)
    drained = go.run("priority-dequeue", name=name, count=6)
    assert [event["value"] for event in drained] == [
        "go-0",
        "py-3a",
        "go-3b",
        "py-3c",
        "py-9",
        "py-65535",
    ]
    assert queue.dequeue(timeout=0.2) is None


# --- barriers -------------------------------------------------------------------------------
# On a member of their own, so that its count of watches tells when a waiter waits. Go's
# Barrier.Wait expects the barrier's key to be the last write before it reads it (it waits
# for a put and then a delete from that read's revision): nothing else is written between
# holding the barrier and Go waiting at it.


@pytest.fixture
def own_member(go, etcd_server_factory):
    """A member of the test's own, a client of it, and the Go program pointed at it."""
    server = etcd_server_factory()
    with etcd.Client(endpoints=[server.endpoint], timeout=10) as client:
        yield server, client, go.at(server.client_url)


def test_go_waits_at_a_barrier_python_holds_until_python_releases_it(own_member):
    server, client, go = own_member
    name = "/interop/barrier/held-by-python"
    barrier = client.barrier(name)
    assert barrier.hold()
    assert go.run("barrier-hold", name=name) == [{"event": "held", "held": False}]
    waiter = go.start("barrier-wait", name=name)
    waiter.expect("waiting")
    wait_for(lambda: watchers(server.metrics_url) == 1, "Go to watch the barrier")
    assert not barrier.hold()
    assert not barrier.wait(timeout=0.2)
    assert waiter.printed("passed") == []
    barrier.release()
    waiter.expect("passed")
    waiter.finish()
    assert barrier.wait(timeout=10)


def test_python_and_go_wait_at_a_barrier_go_holds_until_go_releases_it(own_member):
    server, client, go = own_member
    name = "/interop/barrier/held-by-go"
    barrier = client.barrier(name)
    assert go.run("barrier-hold", name=name) == [{"event": "held", "held": True}]
    assert not barrier.hold()
    go_waiter = go.start("barrier-wait", name=name)
    wait_for(lambda: watchers(server.metrics_url) == 1, "Go to watch the barrier")
    with ThreadPoolExecutor(1) as pool:
        waiting = pool.submit(barrier.wait, 60)
        wait_for(lambda: watchers(server.metrics_url) == 2, "us to watch the barrier")
        assert not waiting.done()
        assert go_waiter.printed("passed") == []
        assert go.run("barrier-release", name=name) == [{"event": "released"}]
        assert waiting.result(timeout=60) is True
    go_waiter.expect("passed")
    go_waiter.finish()
    assert barrier.hold()
    barrier.release()


# A participant starts a step ("enter" or "leave"), which ends when all have started it.
_STARTED = {"enter": "entering", "leave": "leaving"}
_DONE = {"enter": "entered", "leave": "left"}


class _GoParticipant:
    def __init__(self, go, name: str, count: int) -> None:
        self.process: GoProcess = go.start("double-barrier", name=name, count=count)

    def start(self, step: str) -> None:
        if step == "leave":
            self.process.send("leave")
        self.process.expect(_STARTED[step])

    def done(self, step: str) -> bool:
        return bool(self.process.printed(_DONE[step]))

    def wait(self, step: str) -> None:
        self.process.expect(_DONE[step])
        if step == "leave":
            self.process.finish()


class _PythonParticipant:
    def __init__(self, client, name: str, count: int, pool: ThreadPoolExecutor) -> None:
        self.barrier = client.double_barrier(name, count, ttl=10)
        self.pool = pool
        self.steps: dict[str, Future[bool]] = {}

    def start(self, step: str) -> None:
        self.steps[step] = self.pool.submit(getattr(self.barrier, step), 60)

    def done(self, step: str) -> bool:
        return step in self.steps and self.steps[step].done()

    def wait(self, step: str) -> None:
        assert self.steps[step].result(timeout=60) is True


@pytest.mark.parametrize(
    "arrivals",
    [("go", "python", "go"), ("python", "go", "python"), ("go", "go", "python")],
    ids="-".join,
)
def test_a_double_barrier_with_go_and_python_participants(etcd_client, go, arrivals):
    name = "/interop/double-barrier/" + "-".join(arrivals)
    count = len(arrivals)

    def waiters():
        return etcd_client.range(f"{name}/waiters/", prefix=True, count_only=True).count

    with ThreadPoolExecutor(count) as pool:
        participants: list[_GoParticipant | _PythonParticipant] = []
        for side in arrivals:
            if side == "go":
                participants.append(_GoParticipant(go, name, count))
            else:
                participants.append(_PythonParticipant(etcd_client, name, count, pool))
            participants[-1].start("enter")
            if len(participants) < count:
                queued = len(participants)

                def arrived(expected=queued):
                    return waiters() == expected

                wait_for(arrived, f"participant {queued} to arrive")
                assert not any(each.done("enter") for each in participants)
        for each in participants:
            each.wait("enter")
        for each in participants[:-1]:
            each.start("leave")
        assert not any(each.done("leave") for each in participants)
        participants[-1].start("leave")
        for each in participants:
            each.wait("leave")
    assert etcd_client.range(f"{name}/", prefix=True, count_only=True).count == 0


# --- read-write locks -----------------------------------------------------------------------
# Under the lock, each participant puts a marker under STATE/inside/ and checks who else is
# inside (a writer must be alone, a reader must see no writer), and each writer adds 1 to
# STATE/counter: go/interop.go does the same.

ITERATIONS = 5
PAUSE = 0.01


def test_readers_and_writers_of_go_and_python_never_overlap(etcd_client, go):
    name, state = "/interop/rwmutex/lock", "/interop/rwmutex/state"
    inside, counter = f"{state}/inside/", f"{state}/counter"

    def alone(role: str):
        if role == "writer":
            return etcd_client.range(inside, prefix=True, count_only=True).count == 1
        return etcd_client.range(f"{inside}writer/", prefix=True, count_only=True).count == 0

    def participant(role: str, name_in_markers: str) -> dict[str, object]:
        mutex = etcd_client.rw_mutex(name, ttl=10)
        overlaps = 0
        for iteration in range(ITERATIONS):
            marker = f"{inside}{role}/{name_in_markers}-{iteration}"
            with mutex.write() if role == "writer" else mutex.read():
                etcd_client.put(marker, "")
                overlaps += not alone(role)
                if role == "writer":
                    response = etcd_client.range(counter)
                    value = int(response.kvs[0].value) if response.kvs else 0
                    time.sleep(PAUSE)
                    etcd_client.put(counter, str(value + 1))
                else:
                    time.sleep(PAUSE)
                overlaps += not alone(role)
                etcd_client.delete_range(marker)
        return {"event": "done", "role": role, "iterations": ITERATIONS, "overlaps": overlaps}

    roles = ["reader", "writer", "reader"]
    go_runs = [
        go.start("rwmutex", name=name, state=state, role=role, id=f"go{number}")
        for number, role in enumerate(roles)
    ]
    with ThreadPoolExecutor(len(roles)) as pool:
        ours = [pool.submit(participant, role, f"py{n}") for n, role in enumerate(roles)]
        results = [each.result(timeout=100) for each in ours]
    results += [run.finish()[-1] for run in go_runs]
    expected = [
        {"event": "done", "role": role, "iterations": ITERATIONS, "overlaps": 0}
        for role in roles * 2
    ]
    assert results == expected
    writers = 2 * roles.count("writer")
    assert int(etcd_client.range(counter).kvs[0].value) == writers * ITERATIONS
    assert etcd_client.range(inside, prefix=True, count_only=True).count == 0
    assert etcd_client.range(f"{name}/", prefix=True, count_only=True).count == 0


def test_a_python_reader_waits_for_a_go_writer_and_the_reverse(etcd_client, go):
    name, state = "/interop/rwmutex/hand-over", "/interop/rwmutex/hand-over-state"
    mutex = etcd_client.rw_mutex(name, ttl=10)
    assert mutex.lock(timeout=10)
    go_reader = go.start("rwmutex", name=name, state=state, role="reader", iterations=1)

    def queued():
        return etcd_client.range(f"{name}/", prefix=True, count_only=True).count

    wait_for(lambda: queued() == 2, "Go's reader to queue behind our writer")
    assert go_reader.printed("done") == []
    mutex.unlock()
    assert go_reader.finish()[-1]["overlaps"] == 0

    other = etcd_client.rw_mutex(name, ttl=10)
    assert other.read_lock(timeout=10)
    assert mutex.read_lock(timeout=10)  # readers share
    go_writer = go.start("rwmutex", name=name, state=state, role="writer", iterations=1)
    wait_for(lambda: queued() == 3, "Go's writer to queue behind our readers")
    reader = etcd_client.rw_mutex(name, ttl=10)
    assert not reader.read_lock(timeout=0.5)  # a reader queued behind a writer waits
    mutex.read_unlock()
    assert go_writer.printed("done") == []
    other.read_unlock()
    assert go_writer.finish()[-1]["overlaps"] == 0
    assert queued() == 0
