"""Sessions, locks and elections against a real etcd, and against etcdctl's own."""

import time

import pytest

import etcd
from etcd._async.io import Flag, join, sleep, spawn

from ._etcdctl import Etcdctl

pytestmark = pytest.mark.integration


async def wait_for(condition, timeout=15, what="the condition"):
    """Poll ``condition()`` until it is true."""
    deadline = time.monotonic() + timeout
    while not await condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await sleep(0.05)


# --- sessions -------------------------------------------------------------------------------


async def test_a_session_is_a_kept_alive_lease(async_etcd_client):
    async with await async_etcd_client.session(ttl=2) as session:
        await sleep(4)
        assert (await async_etcd_client.lease_time_to_live(session.lease_id)).exists
    assert not (await async_etcd_client.lease_time_to_live(session.lease_id)).exists


async def test_a_default_session_is_granted_go_s_60_seconds(async_etcd_client):
    async with await async_etcd_client.session() as session:
        assert (await async_etcd_client.lease_time_to_live(session.lease_id)).granted_ttl == 60
    lock = async_etcd_client.lock("/locks/default-ttl")
    async with lock:
        assert lock.session is not None
        granted = await async_etcd_client.lease_time_to_live(lock.session.lease_id)
        assert granted.granted_ttl == 60


async def test_an_orphaned_session_expires(async_etcd_client):
    session = await async_etcd_client.session(ttl=2)
    session.orphan()

    async def expired():
        return not (await async_etcd_client.lease_time_to_live(session.lease_id)).exists

    await wait_for(expired, what="expiry")


# --- locks ----------------------------------------------------------------------------------


async def test_lock_key_and_context_manager(async_etcd_client):
    lock = async_etcd_client.lock("/locks/a", ttl=10)
    async with lock:
        key = lock.key
        assert key.startswith(b"/locks/a/")
        session_lease = int(key.rsplit(b"/", 1)[1], 16)
        assert (await async_etcd_client.range(key)).kvs[0].lease == session_lease
    assert not (await async_etcd_client.range(key)).kvs
    assert lock.key is None


async def test_try_acquire_and_timeouts(async_etcd_client):
    holder = async_etcd_client.lock("/locks/b", ttl=10)
    assert await holder.try_acquire()
    other = async_etcd_client.lock("/locks/b", ttl=10)
    assert not await other.try_acquire()
    assert not await other.acquire(timeout=0.5)
    assert (await async_etcd_client.range("/locks/b/", prefix=True, count_only=True)).count == 1
    await holder.release()
    assert await other.acquire(timeout=5)
    await other.release()


async def test_locks_exclude_each_other_across_threads_in_order(async_etcd_client, etcd_server):
    inside = []
    overlaps = []
    order = []

    async def worker(number):
        async with etcd.AsyncClient(endpoints=[etcd_server.endpoint], timeout=10) as client:
            for _ in range(3):
                async with client.lock("/locks/many", ttl=10):
                    inside.append(number)
                    if len(inside) > 1:
                        overlaps.append(list(inside))
                    order.append(number)
                    await sleep(0.01)
                    inside.remove(number)

    workers = [spawn(worker, i, name="locker") for i in range(8)]
    for each in workers:
        await join(each, 120)
    assert overlaps == [] and len(order) == 24


async def test_waiters_acquire_in_the_order_they_queued(async_etcd_client):
    holder = async_etcd_client.lock("/locks/fifo", ttl=10)
    await holder.acquire()
    order: list[int] = []

    async def waiter(number):
        lock = async_etcd_client.lock("/locks/fifo", ttl=10)
        assert await lock.acquire(timeout=60)
        order.append(number)
        await lock.release()

    async def queued():
        response = await async_etcd_client.range("/locks/fifo/", prefix=True, count_only=True)
        return response.count

    waiters = []
    for number in range(5):
        waiters.append(spawn(waiter, number, name=f"waiter-{number}"))

        async def joined(expected=number + 2):
            return await queued() == expected

        # The next waiter starts only once this one's key is in the queue.
        await wait_for(joined, what=f"waiter {number} to queue")
    assert order == []
    await holder.release()
    for each in waiters:
        await join(each, 60)
    assert order == [0, 1, 2, 3, 4]
    assert await queued() == 0


async def test_fencing_with_is_owner(async_etcd_client):
    lock = async_etcd_client.lock("/locks/fence", ttl=10)
    await lock.acquire()
    fenced = await async_etcd_client.txn([lock.is_owner()], [etcd.Op.put("/guarded", "1")], [])
    assert fenced.succeeded
    # Someone else deletes the lock key (as an expired lease would): the fence holds.
    await async_etcd_client.delete_range(lock.key)
    fenced = await async_etcd_client.txn([lock.is_owner()], [etcd.Op.put("/guarded", "2")], [])
    assert not fenced.succeeded
    assert (await async_etcd_client.range("/guarded")).kvs[0].value == b"1"
    await lock.release()


async def test_a_lock_whose_session_is_lost_while_waiting_says_so(async_etcd_client):
    holder = async_etcd_client.lock("/locks/lost", ttl=10)
    await holder.acquire()
    session = await async_etcd_client.session(ttl=10)
    waiter = async_etcd_client.lock("/locks/lost", session=session)
    errors = []
    acquiring = spawn(_acquire_into, waiter, errors, name="waiter")
    await sleep(0.5)
    await async_etcd_client.lease_revoke(session.lease_id)
    await join(acquiring, 30)
    await holder.release()
    assert errors and isinstance(errors[0], etcd.EtcdLeaseExpired)


async def _acquire_into(lock, errors):
    try:
        await lock.acquire(timeout=20)
    except etcd.EtcdException as error:
        errors.append(error)


async def test_our_lock_excludes_etcdctl_lock(async_etcd_client, etcd_server, etcdctl):
    lock = async_etcd_client.lock("/locks/interop", ttl=10)
    await lock.acquire()
    etcdctl_run = Etcdctl(etcdctl, etcd_server, "lock", "/locks/interop", "echo", "etcdctl-held")
    try:
        await sleep(2)
        assert etcdctl_run.process.poll() is None, "etcdctl took a lock we hold"
        await lock.release()
        etcdctl_run.process.wait(15)
    finally:
        out = etcdctl_run.stop()
    assert "etcdctl-held" in out


async def test_etcdctl_lock_excludes_ours(async_etcd_client, etcd_server, etcdctl, tmp_path):
    started, done = tmp_path / "started", tmp_path / "done"
    etcdctl_run = Etcdctl(
        etcdctl,
        etcd_server,
        "lock",
        "/locks/interop2",
        "--",
        "sh",
        "-c",
        f"touch {started}; sleep 3; touch {done}",
    )
    try:

        async def held():
            return started.exists()

        await wait_for(held, what="etcdctl to take the lock")
        lock = async_etcd_client.lock("/locks/interop2", ttl=10)
        assert not await lock.try_acquire()
        assert await lock.acquire(timeout=20)
        # Ours only once etcdctl's command had finished (and etcdctl released the lock).
        assert done.exists()
        assert etcdctl_run.process.wait(5) == 0
        await lock.release()
    finally:
        etcdctl_run.stop()


async def test_the_server_lock_service(async_etcd_client):
    async with await async_etcd_client.lease(ttl=10) as lease:
        key = await async_etcd_client.lock_service.lock("/locks/service", lease)
        assert key.startswith(b"/locks/service/")
        other = (await async_etcd_client.lease_grant(10)).id
        assert not await async_etcd_client.lock("/locks/service", ttl=10).try_acquire()
        await async_etcd_client.lock_service.unlock(key)
        assert not (await async_etcd_client.range(key)).kvs
        await async_etcd_client.lease_revoke(other)


# --- elections ------------------------------------------------------------------------------


async def test_campaign_proclaim_leader_resign(async_etcd_client):
    election = async_etcd_client.election("/elect/a", ttl=10)
    assert await election.campaign("node-1", timeout=5)
    assert (await election.leader()).value == b"node-1"
    await election.proclaim("node-1b")
    assert (await election.leader()).value == b"node-1b"
    assert (await async_etcd_client.txn([election.is_leader()], [], [])).succeeded
    await election.resign()
    with pytest.raises(etcd.EtcdElectionNoLeader):
        await election.leader()
    with pytest.raises(etcd.EtcdNotElectionLeader):
        await election.proclaim("x")


async def _hand_over(client, name, end_first_session):
    """``first`` leads ``name``, ``second`` campaigns; ending the first session elects it."""
    first_session = await client.session(ttl=2)
    first = client.election(name, session=first_session)
    assert await first.campaign("one", timeout=5)
    second = client.election(name, ttl=10)
    won = []

    async def campaign():
        won.append(await second.campaign("two", timeout=30))

    campaigning = spawn(campaign, name="campaign")

    async def both_candidates():
        return (await client.range(f"{name}/", prefix=True, count_only=True)).count == 2

    await wait_for(both_candidates, what="the second candidate to queue")
    assert not won and (await first.leader()).value == b"one"
    await end_first_session(first_session)
    await join(campaigning, 30)
    assert won == [True]
    assert (await second.leader()).value == b"two"
    assert not (await client.lease_time_to_live(first_session.lease_id)).exists
    await second.resign()


async def test_election_hand_over_when_the_leaders_session_dies(async_etcd_client):
    async def die(session):
        # No revoke: the keep-alive stops and the lease expires, as when a process dies.
        session.orphan()

    await _hand_over(async_etcd_client, "/elect/b", die)


async def test_election_hand_over_when_the_leaders_session_is_closed(async_etcd_client):
    async def close(session):
        await session.close()

    await _hand_over(async_etcd_client, "/elect/b2", close)


async def test_observe_follows_the_leader(async_etcd_client):
    watcher = async_etcd_client.election("/elect/c")
    seen = []
    done = Flag()

    async def observe():
        async for leader in watcher.observe(timeout=20):
            seen.append(leader.value)
            if len(seen) == 3:
                done.set()
                return

    observing = spawn(observe, name="observer")
    first = async_etcd_client.election("/elect/c", ttl=10)
    await first.campaign("a")
    await first.proclaim("b")
    second = async_etcd_client.election("/elect/c", ttl=10)
    waiting = spawn(second.campaign, "c", name="campaign")
    await sleep(0.3)
    await first.resign()
    await join(waiting, 20)
    assert await done.wait(20)
    await join(observing, 5)
    assert seen == [b"a", b"b", b"c"]
    await second.resign()


async def test_elections_interoperate_with_etcdctl_elect(async_etcd_client, etcd_server, etcdctl):
    ours = async_etcd_client.election("/elect/interop", ttl=10)
    assert await ours.campaign("python")
    etcdctl_run = Etcdctl(etcdctl, etcd_server, "elect", "/elect/interop", "etcdctl")
    try:
        await sleep(1.5)
        assert (await ours.leader()).value == b"python"
        await ours.resign()

        async def etcdctl_leads():
            return await _etcdctl_knows_it_leads(ours, etcdctl_run)

        await wait_for(etcdctl_leads, what="etcdctl to lead")
    finally:
        etcdctl_run.stop()

    async def nobody_leads():
        return await _leader_value(ours) is None

    await wait_for(nobody_leads, what="etcdctl to resign")


async def test_our_campaign_waits_for_etcdctl_to_step_down(async_etcd_client, etcd_server, etcdctl):
    ours = async_etcd_client.election("/elect/interop2", ttl=10)
    etcdctl_run = Etcdctl(etcdctl, etcd_server, "elect", "/elect/interop2", "etcdctl")
    won = []
    try:

        async def etcdctl_leads():
            return await _etcdctl_knows_it_leads(ours, etcdctl_run)

        await wait_for(etcdctl_leads, what="etcdctl to lead")

        async def campaign():
            won.append(await ours.campaign("python", timeout=60))

        campaigning = spawn(campaign, name="campaign")

        async def both_candidates():
            count = await async_etcd_client.range("/elect/interop2/", prefix=True, count_only=True)
            return count.count == 2

        await wait_for(both_candidates, what="our candidacy to queue")
        assert not won and await _leader_value(ours) == b"etcdctl"
        assert etcdctl_run.process.poll() is None
    finally:
        out = etcdctl_run.stop()
    await join(campaigning, 60)
    assert won == [True], out
    assert await _leader_value(ours) == b"python"
    await ours.resign()
    assert await _leader_value(ours) is None


async def _etcdctl_knows_it_leads(election, etcdctl_run):
    # etcdctl prints its value once it has seen that it won. A SIGTERM before that makes it
    # exit without resigning, and its key would stay until its 60 s lease expired.
    return "etcdctl" in etcdctl_run.printed() and await _leader_value(election) == b"etcdctl"


async def _leader_value(election):
    try:
        return (await election.leader()).value
    except etcd.EtcdElectionNoLeader:
        return None


async def test_the_server_election_service(async_etcd_client):
    service = async_etcd_client.election_service
    async with await async_etcd_client.lease(ttl=10) as lease:
        leader = await service.campaign("/elect/service", lease, "v1", timeout=5)
        assert (await service.leader("/elect/service")).value == b"v1"
        await service.proclaim(leader, "v2")
        assert (await async_etcd_client.election("/elect/service").leader()).value == b"v2"
        await service.resign(leader)
        with pytest.raises(etcd.EtcdElectionNoLeader):
            await service.leader("/elect/service")
