"""Calls and options a server may be too old for: run against every etcd the suite runs
(CI runs it against 3.5 and against 3.4), each asserting what that release must do."""

import pytest

import etcd
from etcd._core.versions import release

pytestmark = pytest.mark.integration


async def server_release(client):
    return release((await client.status()).version)


async def test_downgrade_validation_or_a_clear_refusal(async_etcd_client):
    found = await server_release(async_etcd_client)
    if found >= (3, 5):
        validated = await async_etcd_client.downgrade("VALIDATE", f"{found[0]}.{found[1] - 1}")
        assert release(validated.version) == found  # the cluster version, unchanged
    else:
        with pytest.raises(etcd.EtcdNotSupported, match=r"needs etcd 3\.5 or later") as raised:
            await async_etcd_client.downgrade("VALIDATE", "3.3")
        assert "runs etcd 3.4" in str(raised.value)


async def test_auth_status_answers_on_every_release(async_etcd_client):
    status = await async_etcd_client.auth_status()
    assert not status.enabled
    if await server_release(async_etcd_client) < (3, 5):
        assert status.auth_revision == 0  # told by a refused login: the revision is unknown


async def test_a_linearizable_member_list_where_the_server_can_give_one(async_etcd_client):
    assert len((await async_etcd_client.member_list()).members) == 1
    assert len((await async_etcd_client.member_list(linearizable=False)).members) == 1
    if await server_release(async_etcd_client) >= (3, 5):
        assert (await async_etcd_client.member_list(linearizable=True)).members
    else:
        with pytest.raises(etcd.EtcdNotSupported, match="linearizable member list"):
            await async_etcd_client.member_list(linearizable=True)


async def test_status_reports_what_the_release_has(async_etcd_client):
    status = await async_etcd_client.status()
    if release(status.version) >= (3, 6):
        assert status.storage_version and status.downgrade is not None
    else:
        assert status.storage_version == "" and status.downgrade is None


async def test_range_stream_or_a_clear_refusal(async_etcd_client):
    await async_etcd_client.put("/versions/stream/a", "1")
    await async_etcd_client.put("/versions/stream/b", "2")
    version = (await async_etcd_client.status()).version
    streamed = async_etcd_client.range_stream("/versions/stream/", prefix=True)
    if release(version) >= (3, 7):
        keys = [kv.key async for kv in streamed]
        assert keys == [b"/versions/stream/a", b"/versions/stream/b"]
    else:
        with pytest.raises(etcd.EtcdNotSupported) as raised:
            async for _ in streamed:
                pass
        assert str(raised.value).startswith("KV.RangeStream needs etcd 3.7 or later; ")
        assert str(raised.value).endswith(f"runs etcd {version}")
