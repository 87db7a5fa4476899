"""python-etcd's ``etcd.Lock`` on the Go-compatible lock: constructor, acquire, release."""

import pytest

import etcd
from etcd._async.io import join, sleep, spawn

pytestmark = pytest.mark.integration


async def test_python_etcds_constructor_and_context_manager(async_etcd_client):
    lock = etcd.AsyncLock(async_etcd_client, "job")
    assert not await lock.is_acquired
    async with lock:
        assert await lock.is_acquired
        assert lock.lock_key.startswith("job/")
        keys = (await async_etcd_client.range("job/", prefix=True)).kvs
        assert [kv.key.decode() for kv in keys] == [lock.lock_key]
    assert not await lock.is_acquired
    with pytest.raises(etcd.EtcdValueError, match="not held"):
        lock.lock_key  # noqa: B018


async def test_acquire_with_python_etcds_arguments(async_etcd_client):
    holder = etcd.AsyncLock(async_etcd_client, "job")
    assert await holder.acquire(blocking=True, lock_ttl=30, timeout=0)
    other = etcd.AsyncLock(async_etcd_client, "job")
    assert not await other.acquire(blocking=False)
    assert not await other.acquire(timeout=0.5)
    assert not await other.acquire(0.5)  # the timeout, positionally, as before

    async def release_later():
        await sleep(0.3)
        await holder.release()

    task = spawn(release_later, name="release_later")
    assert await other.acquire(lock_ttl=None)
    await join(task, 10)
    assert await other.is_acquired and not await holder.is_acquired
    await other.release()


async def test_a_lock_is_the_same_made_either_way(async_etcd_client):
    async with async_etcd_client.lock("shared"):
        assert not await etcd.AsyncLock(async_etcd_client, "shared").acquire(blocking=False)


async def test_lock_prefix_as_in_python_etcd(etcd_server):
    async with etcd.AsyncClient(endpoints=[etcd_server.endpoint], lock_prefix="/_locks") as client:
        assert client.lock_prefix == "/_locks"
        lock = etcd.AsyncLock(client, "job")
        async with lock:
            assert lock.lock_key.startswith("/_locks/job/")
        async with client.lock("job") as same:
            assert same.lock_key.startswith("/_locks/job/")
    with pytest.raises(etcd.EtcdTypeError):
        etcd.AsyncClient(endpoints=[etcd_server.endpoint], lock_prefix=1)  # type: ignore[arg-type]


async def test_lock_ttl_cannot_change_a_given_session(async_etcd_client):
    async with await async_etcd_client.session(ttl=10) as session:
        lock = async_etcd_client.lock("job", session=session)
        with pytest.raises(etcd.EtcdValueError, match="lock_ttl"):
            await lock.acquire(lock_ttl=5)
