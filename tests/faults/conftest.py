"""Registers the ``faults`` marker (pyproject.toml lists only the project-wide ones), and
the ``peer_proxied_cluster`` fixture."""

from collections.abc import Iterator

import pytest

from .peers import PeerProxiedCluster, can_partition


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "faults: fault-injection scenarios")


@pytest.fixture
def peer_proxied_cluster(etcd_binary: str) -> Iterator[PeerProxiedCluster]:
    """A fresh three-member cluster whose members talk through fault proxies (see
    ``peers.py``); skipped where a partition cannot be made (no ``/proc``)."""
    if not can_partition():
        pytest.skip("partitions need Linux's /proc to tell who opened a connection")
    with PeerProxiedCluster(etcd_binary) as peers:
        yield peers
