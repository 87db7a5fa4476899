"""Service discovery shared with Go's endpoints manager (``clientv3/naming/endpoints``)."""

from __future__ import annotations

import json

import pytest

from ._go import wait_for

pytestmark = pytest.mark.integration

# Addresses are only data here: nothing ever connects to them.
METADATA = {"zone": "a", "weight": 3, "tags": ["primary"], "nested": {"ok": True}}


def _listed(services):
    """What a discovery lists: the address and metadata of each endpoint, by key."""
    return {
        key: (endpoint.address, endpoint.metadata) for key, endpoint in services.endpoints().items()
    }


def _go_listed(go, service):
    """What Go's endpoints manager lists: the address and metadata of each, by key."""
    events = go.run("endpoint-list", target=service)
    assert events[-1] == {"event": "listed", "count": len(events) - 1}
    return {event["key"]: (event["addr"], event["metadata"]) for event in events[:-1]}


def test_python_discovers_what_go_registers(etcd_client, go):
    service = "interop/discovery/go-registers"
    first = go.start(
        "endpoint-add", target=service, addr="127.0.0.1:9001", metadata=json.dumps(METADATA)
    )
    assert first.expect("added")["key"] == f"{service}/127.0.0.1:9001"
    with etcd_client.discover(service) as services:
        services.wait_ready(timeout=10)
        assert _listed(services) == {f"{service}/127.0.0.1:9001": ("127.0.0.1:9001", METADATA)}
        assert services.addresses() == ["127.0.0.1:9001"]

        second = go.start("endpoint-add", target=service, addr="127.0.0.1:9002")
        second.expect("added")
        wait_for(lambda: len(services) == 2, "the second endpoint to be seen")
        assert _listed(services) == {
            f"{service}/127.0.0.1:9001": ("127.0.0.1:9001", METADATA),
            f"{service}/127.0.0.1:9002": ("127.0.0.1:9002", None),
        }

        first.send("delete")
        first.expect("deleted")
        wait_for(lambda: len(services) == 1, "the first endpoint to go")
        assert services.addresses() == ["127.0.0.1:9002"]
        second.finish()
        wait_for(lambda: len(services) == 0, "the second endpoint to go")
    first.finish()


def test_go_lists_what_python_registers(etcd_client, go):
    service = "interop/discovery/python-registers"
    with etcd_client.register(service, "127.0.0.1:9101", METADATA, ttl=10):
        with etcd_client.register(service, "127.0.0.1:9102", ttl=10):
            assert _go_listed(go, service) == {
                f"{service}/127.0.0.1:9101": ("127.0.0.1:9101", METADATA),
                f"{service}/127.0.0.1:9102": ("127.0.0.1:9102", None),
            }
        assert _go_listed(go, service) == {
            f"{service}/127.0.0.1:9101": ("127.0.0.1:9101", METADATA),
        }
    assert _go_listed(go, service) == {}


def test_one_service_registered_from_both_sides(etcd_client, go):
    service = "interop/discovery/both"
    go_side = go.start("endpoint-add", target=service, addr="127.0.0.1:9201")
    go_side.expect("added")
    with etcd_client.register(service, "127.0.0.1:9202", {"side": "python"}, ttl=10):
        both = {
            f"{service}/127.0.0.1:9201": ("127.0.0.1:9201", None),
            f"{service}/127.0.0.1:9202": ("127.0.0.1:9202", {"side": "python"}),
        }
        assert _go_listed(go, service) == both
        with etcd_client.discover(service) as services:
            services.wait_ready(timeout=10)
            assert _listed(services) == both
    go_side.finish()
    assert _go_listed(go, service) == {}
