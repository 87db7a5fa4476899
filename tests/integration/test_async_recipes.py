"""Barriers, queues, read-write locks and ``Lock.is_held`` against a real etcd.

The key layouts are checked here too; tests/interop runs them against Go's own recipes.
"""

import re

import pytest

import etcd
from etcd._async.io import join, sleep, spawn

pytestmark = pytest.mark.integration


async def keys_under(client, prefix):
    return [kv.key for kv in (await client.range(prefix, prefix=True)).kvs]


async def run_all(*targets, timeout=30):
    """Run coroutine functions side by side; their results, in order."""
    results = [None] * len(targets)

    async def run(index, target):
        results[index] = await target()

    workers = [spawn(run, i, t, name=f"recipe-test-{i}") for i, t in enumerate(targets)]
    for worker in workers:
        await join(worker, timeout)
    return results


# --- Barrier ---------------------------------------------------------------------------------


async def test_a_barrier_blocks_waiters_until_released(async_etcd_client):
    barrier = async_etcd_client.barrier("/recipes/gate")
    assert await barrier.wait(timeout=1)  # not held: no wait
    assert await barrier.hold()
    assert not await barrier.hold()  # held already
    assert await barrier.is_held()
    assert await keys_under(async_etcd_client, "/recipes/gate") == [b"/recipes/gate"]
    assert not await barrier.wait(timeout=0.3)

    released = []

    async def waiter():
        released.append(await async_etcd_client.barrier("/recipes/gate").wait(timeout=20))

    workers = [spawn(waiter, name=f"waiter-{i}") for i in range(3)]
    await sleep(0.3)
    assert released == []
    await barrier.release()
    for worker in workers:
        await join(worker, 20)
    assert released == [True, True, True]
    assert not await barrier.is_held()


# --- DoubleBarrier ---------------------------------------------------------------------------


async def test_a_double_barrier_lets_participants_in_and_out_together(async_etcd_client):
    log = []

    def participant(number):
        async def run():
            barrier = async_etcd_client.double_barrier("/recipes/batch", 3, ttl=10)
            assert await barrier.enter(timeout=20)
            log.append(("in", number))
            assert await barrier.leave(timeout=20)
            log.append(("out", number))
            return barrier

        return run

    await run_all(*(participant(n) for n in range(3)))
    assert len(log) == 6
    assert {kind for kind, _ in log[:3]} == {"in"}
    assert {kind for kind, _ in log[3:]} == {"out"}
    assert await keys_under(async_etcd_client, "/recipes/batch") == []


async def test_a_double_barrier_keys_follow_go_s_layout(async_etcd_client):
    barrier = async_etcd_client.double_barrier("/recipes/layout", 2, ttl=10)

    async def enter():
        return await barrier.enter(timeout=20)

    worker = spawn(enter, name="enter")
    await sleep(0.5)
    (key,) = await keys_under(async_etcd_client, "/recipes/layout")
    assert re.fullmatch(rb"/recipes/layout/waiters/\d{19}", key)
    kv = (await async_etcd_client.range(key)).kvs[0]
    assert kv.lease == barrier.session.lease_id
    other = async_etcd_client.double_barrier("/recipes/layout", 2, ttl=10)
    assert await other.enter(timeout=5)
    await join(worker, 10)
    assert b"/recipes/layout/ready" in await keys_under(async_etcd_client, "/recipes/layout")
    await run_all(lambda: barrier.leave(timeout=10), lambda: other.leave(timeout=10))
    assert await keys_under(async_etcd_client, "/recipes/layout") == []


async def test_a_full_double_barrier_refuses_one_more(async_etcd_client):
    first = async_etcd_client.double_barrier("/recipes/full", 1, ttl=10)
    assert await first.enter(timeout=5)
    extra = async_etcd_client.double_barrier("/recipes/full", 1, ttl=10)
    with pytest.raises(etcd.EtcdPreconditionFailed, match="1 participants already"):
        await extra.enter(timeout=5)
    waiters = await keys_under(async_etcd_client, "/recipes/full/waiters/")
    assert waiters == [first.key]  # the refused one left no key behind
    assert await first.leave(timeout=5)


async def test_entering_a_double_barrier_times_out_and_leaves(async_etcd_client):
    barrier = async_etcd_client.double_barrier("/recipes/alone", 2, ttl=10)
    assert not await barrier.enter(timeout=0.5)
    assert await keys_under(async_etcd_client, "/recipes/alone") == []


async def test_a_double_barrier_checks_its_count_before_sending(async_etcd_client):
    with pytest.raises(etcd.EtcdValueError, match="at least 1"):
        async_etcd_client.double_barrier("/recipes/none", 0)
    with pytest.raises(etcd.EtcdTypeError):
        async_etcd_client.double_barrier("/recipes/none", "3")


# --- Queue -----------------------------------------------------------------------------------


async def test_a_queue_is_first_in_first_out(async_etcd_client):
    queue = async_etcd_client.queue("/recipes/jobs")
    for item in ("a", "b", b"c"):
        await queue.enqueue(item)
    keys = await keys_under(async_etcd_client, "/recipes/jobs/")
    assert all(re.fullmatch(rb"/recipes/jobs/\d{19}", key) for key in keys)
    assert [await queue.dequeue(timeout=5) for _ in range(3)] == [b"a", b"b", b"c"]
    assert await queue.dequeue(timeout=0.3) is None
    assert await keys_under(async_etcd_client, "/recipes/jobs/") == []


async def test_dequeue_waits_for_an_item(async_etcd_client):
    queue = async_etcd_client.queue("/recipes/later")

    async def take():
        return await queue.dequeue(timeout=20)

    async def give():
        await sleep(0.5)
        await async_etcd_client.queue("/recipes/later").enqueue("late")

    taken, _ = await run_all(take, give)
    assert taken == b"late"


async def test_each_item_goes_to_exactly_one_consumer(async_etcd_client):
    queue = async_etcd_client.queue("/recipes/shared")
    items = [f"item-{i}".encode() for i in range(30)]
    for item in items:
        await queue.enqueue(item)

    async def drain():
        taken = []
        while (item := await queue.dequeue(timeout=0.5)) is not None:
            taken.append(item)
        return taken

    first, second, third = await run_all(drain, drain, drain)
    assert sorted(first + second + third) == sorted(items)
    for taken in (first, second, third):
        assert taken == sorted(taken, key=items.index)  # each in enqueue order


# --- PriorityQueue ---------------------------------------------------------------------------


async def test_a_priority_queue_takes_the_lowest_priority_first(async_etcd_client):
    queue = async_etcd_client.priority_queue("/recipes/alerts")
    await queue.enqueue("low-1", priority=10)
    await queue.enqueue("urgent-1", priority=0)
    await queue.enqueue("low-2", priority=10)
    await queue.enqueue("urgent-2", priority=0)
    await queue.enqueue("last", priority=65535)
    assert await keys_under(async_etcd_client, "/recipes/alerts/") == [
        b"/recipes/alerts/00000/0000000000000000",
        b"/recipes/alerts/00000/0000000000000001",
        b"/recipes/alerts/00010/0000000000000000",
        b"/recipes/alerts/00010/0000000000000001",
        b"/recipes/alerts/65535/0000000000000000",
    ]
    taken = [await queue.dequeue(timeout=5) for _ in range(5)]
    assert taken == [b"urgent-1", b"urgent-2", b"low-1", b"low-2", b"last"]
    assert await queue.dequeue(timeout=0.2) is None


async def test_concurrent_enqueues_at_one_priority_take_distinct_numbers(async_etcd_client):
    queue = async_etcd_client.priority_queue("/recipes/busy")

    def producer(name):
        async def run():
            for i in range(10):
                await queue.enqueue(f"{name}-{i}", priority=1)

        return run

    await run_all(producer("a"), producer("b"), producer("c"))
    keys = await keys_under(async_etcd_client, "/recipes/busy/")
    assert len(keys) == 30
    values = [await queue.dequeue(timeout=5) for _ in range(30)]
    for name in (b"a", b"b", b"c"):
        own = [value for value in values if value.startswith(name)]
        assert own == [b"%s-%d" % (name, i) for i in range(10)]


async def test_a_priority_is_checked_before_sending(async_etcd_client):
    queue = async_etcd_client.priority_queue("/recipes/bad")
    with pytest.raises(etcd.EtcdValueError, match="between 0"):
        await queue.enqueue("x", priority=65536)
    with pytest.raises(etcd.EtcdTypeError):
        await queue.enqueue("x", priority="1")
    assert await keys_under(async_etcd_client, "/recipes/bad") == []


# --- RWMutex ---------------------------------------------------------------------------------


async def test_readers_share_and_writers_exclude(async_etcd_client):
    reader_one = async_etcd_client.rw_mutex("/recipes/rw", ttl=10)
    reader_two = async_etcd_client.rw_mutex("/recipes/rw", ttl=10)
    writer = async_etcd_client.rw_mutex("/recipes/rw", ttl=10)
    assert await reader_one.read_lock(timeout=5)
    assert await reader_two.read_lock(timeout=5)
    assert re.fullmatch(rb"/recipes/rw/read/\d{19}", reader_one.key)
    assert not await writer.lock(timeout=0.5)  # readers hold it
    assert await keys_under(async_etcd_client, "/recipes/rw/write") == []  # gave up its place
    await reader_one.read_unlock()
    await reader_two.read_unlock()
    assert await writer.lock(timeout=5)
    assert re.fullmatch(rb"/recipes/rw/write/\d{19}", writer.key)
    late_reader = async_etcd_client.rw_mutex("/recipes/rw", ttl=10)
    assert not await late_reader.read_lock(timeout=0.5)  # a writer holds it
    await writer.unlock()
    assert await late_reader.read_lock(timeout=5)
    await late_reader.read_unlock()
    assert await keys_under(async_etcd_client, "/recipes/rw/") == []


async def test_a_waiting_writer_goes_before_later_readers(async_etcd_client):
    order = []
    first_reader = async_etcd_client.rw_mutex("/recipes/fair", ttl=10)
    assert await first_reader.read_lock(timeout=5)

    async def write():
        async with async_etcd_client.rw_mutex("/recipes/fair", ttl=10).write(timeout=20):
            order.append("writer")
            await sleep(0.3)

    async def read_later():
        await sleep(0.5)  # after the writer queued
        async with async_etcd_client.rw_mutex("/recipes/fair", ttl=10).read(timeout=20):
            order.append("late reader")

    async def release_first():
        await sleep(1.0)
        order.append("first reader leaves")
        await first_reader.read_unlock()

    await run_all(write, read_later, release_first)
    assert order == ["first reader leaves", "writer", "late reader"]


async def test_an_rw_mutex_reports_what_it_holds(async_etcd_client):
    rw = async_etcd_client.rw_mutex("/recipes/state", ttl=10)
    assert not await rw.is_held()
    with pytest.raises(etcd.EtcdPreconditionFailed, match="holds nothing"):
        await rw.unlock()
    async with rw.write():
        assert await rw.is_held()
        assert "writing" in repr(rw)
        with pytest.raises(etcd.EtcdPreconditionFailed, match="write lock already"):
            await rw.read_lock()
        with pytest.raises(etcd.EtcdPreconditionFailed, match="holds the write lock"):
            await rw.read_unlock()
    assert not await rw.is_held()


async def test_a_lost_session_ends_an_rw_mutex_hold(async_etcd_client):
    session = await async_etcd_client.session(ttl=10)
    rw = async_etcd_client.rw_mutex("/recipes/lost", session=session)
    assert await rw.read_lock(timeout=5)
    await async_etcd_client.lease_revoke(session.lease_id)
    assert not await rw.is_held()
    writer = async_etcd_client.rw_mutex("/recipes/lost", ttl=10)
    assert await writer.lock(timeout=5)  # the lost reader no longer blocks anyone
    await writer.unlock()


# --- Lock.is_held ----------------------------------------------------------------------------


async def test_lock_is_held_checks_with_etcd(async_etcd_client):
    lock = async_etcd_client.lock("/recipes/lock", ttl=10)
    assert not await lock.is_held()
    assert await lock.acquire(timeout=5)
    assert await lock.is_held()
    await async_etcd_client.lease_revoke(lock.session.lease_id)  # the lease is lost
    assert not await lock.is_held()
    await lock.release()
    assert not await lock.is_held()


async def test_a_waiter_whose_session_is_lost_stops_waiting(async_etcd_client):
    reader = async_etcd_client.rw_mutex("/recipes/stuck", ttl=10)
    assert await reader.read_lock(timeout=5)
    session = await async_etcd_client.session(ttl=3)
    writer = async_etcd_client.rw_mutex("/recipes/stuck", session=session)
    outcome = []

    async def wait_to_write():
        try:
            await writer.lock(timeout=30)
        except etcd.EtcdLeaseExpired as error:
            outcome.append(error)

    worker = spawn(wait_to_write, name="stuck-writer")
    await sleep(0.5)
    await async_etcd_client.lease_revoke(session.lease_id)
    await join(worker, 20)
    assert len(outcome) == 1
    assert writer.key is None
    await reader.read_unlock()
