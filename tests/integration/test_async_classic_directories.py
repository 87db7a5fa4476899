"""v2 directories emulated on etcd v3: made, listed, refused, expired and watched."""

import pytest

import etcd
from etcd._async.io import join, sleep, spawn

pytestmark = pytest.mark.integration


async def gone(client, key, within=15.0):
    """Wait until ``key`` is gone (a lease ran out); ``False`` if still there."""
    waited = 0.0
    while waited < within:
        if not await client.contains(key):
            return True
        await sleep(0.2)
        waited += 0.2
    return False


async def test_an_empty_directory_exists_and_is_listed_empty(async_etcd_client):
    made = await async_etcd_client.write("/d", None, dir=True)
    assert (made.action, made.key, made.dir, made.value, made.newKey) == (
        "set",
        "/d",
        True,
        None,
        True,
    )
    listing = await async_etcd_client.get("/d")
    assert listing.dir and listing.value is None
    assert listing.createdIndex == listing.modifiedIndex == made.modifiedIndex
    # An empty directory is its own only leaf, as python-etcd showed it.
    assert [child.key for child in listing.children] == ["/d"]
    assert await async_etcd_client.contains("/d")
    top = await async_etcd_client.get("/")
    assert [(c.key, c.dir) for c in top.children] == [("/d", True)]
    # What a plain v3 reader sees: the marker, "/d/" with an empty value.
    raw = await async_etcd_client.range("/d", prefix=True)
    assert [(kv.key, kv.value) for kv in raw.kvs] == [(b"/d/", b"")]


async def test_a_directory_stays_when_its_last_key_is_deleted(async_etcd_client):
    await async_etcd_client.write("/d", None, dir=True)
    await async_etcd_client.set("/d/a", "1")
    await async_etcd_client.set("/d/sub/b", "2")
    listing = await async_etcd_client.get("/d")
    assert [(c.key, c.dir) for c in listing.children] == [("/d/a", False), ("/d/sub", True)]
    recursive = await async_etcd_client.get("/d", recursive=True)
    assert [c.key for c in recursive.leaves] == ["/d/a", "/d/sub/b"]
    await async_etcd_client.delete("/d/a")
    await async_etcd_client.delete("/d/sub/b")
    assert [c.key for c in (await async_etcd_client.get("/d")).children] == ["/d"]


async def test_directories_refuse_what_v2_refused(async_etcd_client):
    await async_etcd_client.write("/d", None, dir=True)
    with pytest.raises(etcd.EtcdNotFile):
        await async_etcd_client.write("/d", None, dir=True)
    with pytest.raises(etcd.EtcdAlreadyExist):
        await async_etcd_client.write("/d", None, dir=True, prevExist=False)
    with pytest.raises(etcd.EtcdNotFile):
        await async_etcd_client.set("/d", "value")
    with pytest.raises(etcd.EtcdNotFile):
        await async_etcd_client.write("/d", "value", prevValue="x")
    await async_etcd_client.set("/file", "v")
    with pytest.raises(etcd.EtcdNotDir):
        await async_etcd_client.write("/file/d", None, dir=True)
    with pytest.raises(etcd.EtcdNotDir):
        await async_etcd_client.set("/file/deeper/key", "v")
    with pytest.raises(etcd.EtcdNotDir):
        await async_etcd_client.write("/file", "job", append=True)
    with pytest.raises(etcd.EtcdValueError):
        await async_etcd_client.write("/d2", "value", dir=True)
    # A key made implicitly a directory by a key below it is one too.
    await async_etcd_client.set("/implicit/k", "v")
    with pytest.raises(etcd.EtcdNotFile):
        await async_etcd_client.set("/implicit", "v")
    # Setting a directory over a key replaces the key, as v2's set did.
    replaced = await async_etcd_client.write("/file", None, dir=True)
    assert replaced.dir and replaced._prev_node.value == "v"


async def test_deleting_directories(async_etcd_client):
    await async_etcd_client.write("/d", None, dir=True)
    with pytest.raises(etcd.EtcdNotFile):
        await async_etcd_client.delete("/d")
    await async_etcd_client.set("/d/k", "v")
    with pytest.raises(etcd.EtcdDirNotEmpty):
        await async_etcd_client.delete("/d", dir=True)
    await async_etcd_client.delete("/d/k")
    deleted = await async_etcd_client.delete("/d", dir=True)
    assert deleted.dir and deleted._prev_node.dir
    with pytest.raises(etcd.EtcdKeyNotFound):
        await async_etcd_client.get("/d")
    await async_etcd_client.write("/d", None, dir=True)
    await async_etcd_client.set("/d/sub/k", "v")
    await async_etcd_client.delete("/d", recursive=True)
    assert not (await async_etcd_client.range("/d", prefix=True)).kvs


async def test_a_directory_with_a_ttl_expires_with_everything_in_it(async_etcd_client):
    made = await async_etcd_client.write("/t", None, ttl=2, dir=True)
    assert made.ttl == 2
    await async_etcd_client.set("/t/plain", "v")
    await async_etcd_client.set("/t/own", "v", ttl=600)
    await async_etcd_client.write("/t/sub", None, dir=True)
    await async_etcd_client.set("/t/sub/deep", "v")
    await async_etcd_client.write("/t", "queued", append=True)
    listing = await async_etcd_client.get("/t", recursive=True)
    assert listing.ttl is not None and listing.ttl <= 2
    assert await gone(async_etcd_client, "/t")
    assert not (await async_etcd_client.range("/t", prefix=True)).kvs


async def test_a_directorys_ttl_is_changed_by_an_update(async_etcd_client):
    await async_etcd_client.write("/t", None, ttl=2, dir=True)
    await async_etcd_client.set("/t/k", "v")
    updated = await async_etcd_client.write("/t", None, ttl=600, dir=True, prevExist=True)
    assert (updated.action, updated.dir, updated.ttl) == ("update", True, 600)
    await sleep(3)
    assert (await async_etcd_client.get("/t/k")).value == "v"
    refreshed = await async_etcd_client.refresh("/t", ttl=1)
    assert refreshed.dir and refreshed.ttl == 1
    assert await gone(async_etcd_client, "/t")
    with pytest.raises(etcd.EtcdKeyNotFound):
        await async_etcd_client.write("/t", None, ttl=5, dir=True, prevExist=True)


async def test_update_of_a_directory_result_keeps_its_ttl(async_etcd_client):
    await async_etcd_client.write("/t", None, ttl=600, dir=True)
    listing = await async_etcd_client.get("/t")
    listing.ttl = None
    updated = await async_etcd_client.update(listing)
    assert updated.dir and updated.ttl is None
    assert (await async_etcd_client.get("/t")).ttl is None


async def test_watching_a_directory(async_etcd_client):
    start = (await async_etcd_client.write("/w", None, dir=True)).modifiedIndex
    made = await async_etcd_client.watch("/w", index=start, timeout=10)
    assert (made.action, made.key, made.dir) == ("set", "/w", True)

    async def write_later():
        await sleep(0.3)
        await async_etcd_client.set("/w/k", "v")

    task = spawn(write_later, name="write_later")
    below = await async_etcd_client.watch("/w", recursive=True, timeout=10)
    await join(task, 10)
    assert (below.key, below.value) == ("/w/k", "v")
    index = (await async_etcd_client.delete("/w", recursive=True)).modifiedIndex
    removed = await async_etcd_client.watch("/w", index=index, timeout=10)
    assert (removed.action, removed.key, removed.dir) == ("delete", "/w", True)


async def test_keys_written_by_v3_writers_appear_in_directories(async_etcd_client):
    await async_etcd_client.write("/d", None, dir=True)
    await async_etcd_client.put("/d/from-v3", "x")
    listing = await async_etcd_client.get("/d")
    assert [(c.key, c.value) for c in listing.children] == [("/d/from-v3", "x")]
