# Generated from test_async_concurrency.py by scripts/generate_sync.py: edit that file,
# then run the script. CI fails when the two differ.
"""Sessions, locks and elections against a real etcd, and against etcdctl's own."""

import time

import pytest

import etcd
from etcd._sync_io import Flag, join, sleep, spawn
from etcd.testing import find_etcd_binary

from ._etcdctl import Etcdctl

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def etcdctl():
    return find_etcd_binary(name="etcdctl")


def wait_for(condition, timeout=15, what="the condition"):
    """Poll ``condition()`` until it is true."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        sleep(0.05)


# --- sessions -------------------------------------------------------------------------------


def test_a_session_is_a_kept_alive_lease(etcd_client):
    with etcd_client.session(ttl=2) as session:
        sleep(4)
        assert etcd_client.lease_time_to_live(session.lease_id).ttl > 0
    assert not etcd_client.lease_time_to_live(session.lease_id).exists


def test_a_default_session_is_granted_go_s_60_seconds(etcd_client):
    with etcd_client.session() as session:
        assert etcd_client.lease_time_to_live(session.lease_id).granted_ttl == 60
    lock = etcd_client.lock("/locks/default-ttl")
    with lock:
        assert lock.session is not None
        granted = etcd_client.lease_time_to_live(lock.session.lease_id)
        assert granted.granted_ttl == 60


def test_an_orphaned_session_expires(etcd_client):
    session = etcd_client.session(ttl=2)
    session.orphan()

    def expired():
        return not etcd_client.lease_time_to_live(session.lease_id).exists

    wait_for(expired, what="expiry")


# --- locks ----------------------------------------------------------------------------------


def test_lock_key_and_context_manager(etcd_client):
    lock = etcd_client.lock("/locks/a", ttl=10)
    with lock:
        key = lock.key
        assert key.startswith(b"/locks/a/")
        session_lease = int(key.rsplit(b"/", 1)[1], 16)
        assert etcd_client.range(key).kvs[0].lease == session_lease
    assert not etcd_client.range(key).kvs
    assert lock.key is None


def test_try_acquire_and_timeouts(etcd_client):
    holder = etcd_client.lock("/locks/b", ttl=10)
    assert holder.try_acquire()
    other = etcd_client.lock("/locks/b", ttl=10)
    assert not other.try_acquire()
    assert not other.acquire(timeout=0.5)
    assert etcd_client.range("/locks/b/", prefix=True, count_only=True).count == 1
    holder.release()
    assert other.acquire(timeout=5)
    other.release()


def test_locks_exclude_each_other_across_threads_in_order(etcd_client, etcd_server):
    inside = []
    overlaps = []
    order = []

    def worker(number):
        with etcd.Client(endpoints=[etcd_server.endpoint], timeout=10) as client:
            for _ in range(3):
                with client.lock("/locks/many", ttl=10):
                    inside.append(number)
                    if len(inside) > 1:
                        overlaps.append(list(inside))
                    order.append(number)
                    sleep(0.01)
                    inside.remove(number)

    workers = [spawn(worker, i, name="locker") for i in range(8)]
    for each in workers:
        join(each, 120)
    assert overlaps == [] and len(order) == 24


def test_waiters_acquire_in_the_order_they_queued(etcd_client):
    holder = etcd_client.lock("/locks/fifo", ttl=10)
    holder.acquire()
    order: list[int] = []

    def waiter(number):
        lock = etcd_client.lock("/locks/fifo", ttl=10)
        assert lock.acquire(timeout=60)
        order.append(number)
        lock.release()

    def queued():
        response = etcd_client.range("/locks/fifo/", prefix=True, count_only=True)
        return response.count

    waiters = []
    for number in range(5):
        waiters.append(spawn(waiter, number, name=f"waiter-{number}"))

        def joined(expected=number + 2):
            return queued() == expected

        # The next waiter starts only once this one's key is in the queue.
        wait_for(joined, what=f"waiter {number} to queue")
    assert order == []
    holder.release()
    for each in waiters:
        join(each, 60)
    assert order == [0, 1, 2, 3, 4]
    assert queued() == 0


def test_fencing_with_is_owner(etcd_client):
    lock = etcd_client.lock("/locks/fence", ttl=10)
    lock.acquire()
    fenced = etcd_client.txn([lock.is_owner()], [etcd.Op.put("/guarded", "1")], [])
    assert fenced.succeeded
    # Someone else deletes the lock key (as an expired lease would): the fence holds.
    etcd_client.delete_range(lock.key)
    fenced = etcd_client.txn([lock.is_owner()], [etcd.Op.put("/guarded", "2")], [])
    assert not fenced.succeeded
    assert etcd_client.range("/guarded").kvs[0].value == b"1"
    lock.release()


def test_a_lock_whose_session_is_lost_while_waiting_says_so(etcd_client):
    holder = etcd_client.lock("/locks/lost", ttl=10)
    holder.acquire()
    session = etcd_client.session(ttl=10)
    waiter = etcd_client.lock("/locks/lost", session=session)
    errors = []
    acquiring = spawn(_acquire_into, waiter, errors, name="waiter")
    sleep(0.5)
    etcd_client.lease_revoke(session.lease_id)
    join(acquiring, 30)
    holder.release()
    assert errors and isinstance(errors[0], etcd.EtcdLeaseExpired)


def _acquire_into(lock, errors):
    try:
        lock.acquire(timeout=20)
    except etcd.EtcdException as error:
        errors.append(error)


def test_our_lock_excludes_etcdctl_lock(etcd_client, etcd_server, etcdctl):
    lock = etcd_client.lock("/locks/interop", ttl=10)
    lock.acquire()
    etcdctl_run = Etcdctl(etcdctl, etcd_server, "lock", "/locks/interop", "echo", "etcdctl-held")
    try:
        sleep(2)
        assert etcdctl_run.process.poll() is None, "etcdctl took a lock we hold"
        lock.release()
        etcdctl_run.process.wait(15)
    finally:
        out = etcdctl_run.stop()
    assert "etcdctl-held" in out


def test_etcdctl_lock_excludes_ours(etcd_client, etcd_server, etcdctl, tmp_path):
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

        def held():
            return started.exists()

        wait_for(held, what="etcdctl to take the lock")
        lock = etcd_client.lock("/locks/interop2", ttl=10)
        assert not lock.try_acquire()
        assert lock.acquire(timeout=20)
        # Ours only once etcdctl's command had finished (and etcdctl released the lock).
        assert done.exists()
        assert etcdctl_run.process.wait(5) == 0
        lock.release()
    finally:
        etcdctl_run.stop()


def test_the_server_lock_service(etcd_client):
    with etcd_client.lease(ttl=10) as lease:
        key = etcd_client.lock_service.lock("/locks/service", lease)
        assert key.startswith(b"/locks/service/")
        other = etcd_client.lease_grant(10).id
        assert not etcd_client.lock("/locks/service", ttl=10).try_acquire()
        etcd_client.lock_service.unlock(key)
        assert not etcd_client.range(key).kvs
        etcd_client.lease_revoke(other)


# --- elections ------------------------------------------------------------------------------


def test_campaign_proclaim_leader_resign(etcd_client):
    election = etcd_client.election("/elect/a", ttl=10)
    assert election.campaign("node-1", timeout=5)
    assert election.leader().value == b"node-1"
    election.proclaim("node-1b")
    assert election.leader().value == b"node-1b"
    assert etcd_client.txn([election.is_leader()], [], []).succeeded
    election.resign()
    with pytest.raises(etcd.EtcdElectionNoLeader):
        election.leader()
    with pytest.raises(etcd.EtcdNotElectionLeader):
        election.proclaim("x")


def _hand_over(client, name, end_first_session):
    """``first`` leads ``name``, ``second`` campaigns; ending the first session elects it."""
    first_session = client.session(ttl=2)
    first = client.election(name, session=first_session)
    assert first.campaign("one", timeout=5)
    second = client.election(name, ttl=10)
    won = []

    def campaign():
        won.append(second.campaign("two", timeout=30))

    campaigning = spawn(campaign, name="campaign")

    def both_candidates():
        return client.range(f"{name}/", prefix=True, count_only=True).count == 2

    wait_for(both_candidates, what="the second candidate to queue")
    assert not won and first.leader().value == b"one"
    end_first_session(first_session)
    join(campaigning, 30)
    assert won == [True]
    assert second.leader().value == b"two"
    assert not client.lease_time_to_live(first_session.lease_id).exists
    second.resign()


def test_election_hand_over_when_the_leaders_session_dies(etcd_client):
    def die(session):
        # No revoke: the keep-alive stops and the lease expires, as when a process dies.
        session.orphan()

    _hand_over(etcd_client, "/elect/b", die)


def test_election_hand_over_when_the_leaders_session_is_closed(etcd_client):
    def close(session):
        session.close()

    _hand_over(etcd_client, "/elect/b2", close)


def test_observe_follows_the_leader(etcd_client):
    watcher = etcd_client.election("/elect/c")
    seen = []
    done = Flag()

    def observe():
        for leader in watcher.observe(timeout=20):
            seen.append(leader.value)
            if len(seen) == 3:
                done.set()
                return

    observing = spawn(observe, name="observer")
    first = etcd_client.election("/elect/c", ttl=10)
    first.campaign("a")
    first.proclaim("b")
    second = etcd_client.election("/elect/c", ttl=10)
    waiting = spawn(second.campaign, "c", name="campaign")
    sleep(0.3)
    first.resign()
    join(waiting, 20)
    assert done.wait(20)
    join(observing, 5)
    assert seen == [b"a", b"b", b"c"]
    second.resign()


def test_elections_interoperate_with_etcdctl_elect(etcd_client, etcd_server, etcdctl):
    ours = etcd_client.election("/elect/interop", ttl=10)
    assert ours.campaign("python")
    etcdctl_run = Etcdctl(etcdctl, etcd_server, "elect", "/elect/interop", "etcdctl")
    try:
        sleep(1.5)
        assert ours.leader().value == b"python"
        ours.resign()

        def etcdctl_leads():
            return _etcdctl_knows_it_leads(ours, etcdctl_run)

        wait_for(etcdctl_leads, what="etcdctl to lead")
    finally:
        etcdctl_run.stop()

    def nobody_leads():
        return _leader_value(ours) is None

    wait_for(nobody_leads, what="etcdctl to resign")


def test_our_campaign_waits_for_etcdctl_to_step_down(etcd_client, etcd_server, etcdctl):
    ours = etcd_client.election("/elect/interop2", ttl=10)
    etcdctl_run = Etcdctl(etcdctl, etcd_server, "elect", "/elect/interop2", "etcdctl")
    won = []
    try:

        def etcdctl_leads():
            return _etcdctl_knows_it_leads(ours, etcdctl_run)

        wait_for(etcdctl_leads, what="etcdctl to lead")

        def campaign():
            won.append(ours.campaign("python", timeout=60))

        campaigning = spawn(campaign, name="campaign")

        def both_candidates():
            count = etcd_client.range("/elect/interop2/", prefix=True, count_only=True)
            return count.count == 2

        wait_for(both_candidates, what="our candidacy to queue")
        assert not won and _leader_value(ours) == b"etcdctl"
        assert etcdctl_run.process.poll() is None
    finally:
        out = etcdctl_run.stop()
    join(campaigning, 60)
    assert won == [True], out
    assert _leader_value(ours) == b"python"
    ours.resign()
    assert _leader_value(ours) is None


def _etcdctl_knows_it_leads(election, etcdctl_run):
    # etcdctl prints its value once it has seen that it won. A SIGTERM before that makes it
    # exit without resigning, and its key would stay until its 60 s lease expired.
    return "etcdctl" in etcdctl_run.printed() and _leader_value(election) == b"etcdctl"


def _leader_value(election):
    try:
        return election.leader().value
    except etcd.EtcdElectionNoLeader:
        return None


def test_the_server_election_service(etcd_client):
    service = etcd_client.election_service
    with etcd_client.lease(ttl=10) as lease:
        leader = service.campaign("/elect/service", lease, "v1", timeout=5)
        assert service.leader("/elect/service").value == b"v1"
        service.proclaim(leader, "v2")
        assert etcd_client.election("/elect/service").leader().value == b"v2"
        service.resign(leader)
        with pytest.raises(etcd.EtcdElectionNoLeader):
            service.leader("/elect/service")
