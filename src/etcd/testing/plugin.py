"""The pytest plugin: fixtures that run real etcd servers.

Installing ``etcd-client`` registers this module with pytest (entry point ``etcd``), so
these fixtures are available to every test suite:

``etcd_binary`` (session)
    The path of the etcd executable: the ``--etcd-binary`` option, the ``etcd_binary`` ini
    setting, or :func:`etcd.testing.find_etcd_binary`'s search. The tests fail with a
    message saying how to install etcd when there is none.
``etcd_server`` (one member for the whole session)
    An :class:`etcd.testing.EtcdServer`. A test may stop, kill or pause it: it is brought
    back after the test.
``etcd_client``
    An :class:`etcd.Client` connected to ``etcd_server``; every key is deleted after the
    test.
``etcd_cluster`` (three members for the whole session, started on first use)
    An :class:`etcd.testing.EtcdCluster`. After each test, members that were stopped,
    killed or paused are brought back and every key is deleted.
``etcd_server_factory``
    A function taking :class:`etcd.testing.EtcdServer`'s arguments and returning a started
    member; the members are closed after the test.
``etcd_tls`` (session)
    :class:`etcd.testing.TLSFiles` made by :func:`etcd.testing.make_tls`.

It also registers the ``integration`` and ``cluster`` markers.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest

from ._binary import find_etcd_binary
from ._cluster import EtcdCluster
from ._errors import EtcdBinaryNotFound
from ._server import EtcdServer
from ._tls import TLSFiles, make_tls

if TYPE_CHECKING:
    import etcd

__all__ = [
    "etcd_binary",
    "etcd_client",
    "etcd_cluster",
    "etcd_server",
    "etcd_server_factory",
    "etcd_tls",
]

_CLIENT_TIMEOUT = 10.0


def pytest_addoption(parser: pytest.Parser) -> None:
    """Add the ``--etcd-binary`` option and the ``etcd_binary`` ini setting."""
    group = parser.getgroup("etcd", "real etcd servers (etcd.testing)")
    group.addoption(
        "--etcd-binary",
        dest="etcd_binary",
        default=None,
        metavar="PATH",
        help="the etcd executable the etcd fixtures run (default: $ETCD_BINARY, the PATH, "
        "or next to the running Python)",
    )
    parser.addini("etcd_binary", "the etcd executable the etcd fixtures run", default="")


def pytest_configure(config: pytest.Config) -> None:
    """Register the markers used by tests that need a real etcd."""
    config.addinivalue_line(
        "markers", "integration: runs against a real etcd started by etcd.testing"
    )
    config.addinivalue_line("markers", "cluster: needs a 3-member etcd cluster")


def _configured_binary(config: pytest.Config) -> str | None:
    option = config.getoption("etcd_binary", default=None)
    if option:
        return str(option)
    ini_value = str(config.getini("etcd_binary") or "")
    if not ini_value:
        return None
    # A relative path in a config file means relative to that file, not to the cwd.
    if os.sep in ini_value and not os.path.isabs(ini_value) and config.inipath is not None:
        return str(config.inipath.parent / ini_value)
    return ini_value


@pytest.fixture(scope="session")
def etcd_binary(pytestconfig: pytest.Config) -> str:
    """The path of the etcd executable the other fixtures run."""
    try:
        return find_etcd_binary(_configured_binary(pytestconfig))
    except EtcdBinaryNotFound as err:
        pytest.fail(str(err), pytrace=False)


def _bring_back(server: EtcdServer) -> None:
    if server.paused:
        server.resume()
    elif not server.alive:
        server.start(wait=False)
    server.wait_healthy()


def _delete_every_key(endpoints: list[str]) -> None:
    import etcd

    with etcd.Client(endpoints=endpoints, timeout=_CLIENT_TIMEOUT) as client:
        client.delete_range(b"\0", from_key=True)


@pytest.fixture(scope="session")
def _etcd_server_session(etcd_binary: str) -> Iterator[EtcdServer]:
    with EtcdServer(binary=etcd_binary) as server:
        yield server


@pytest.fixture
def etcd_server(_etcd_server_session: EtcdServer) -> Iterator[EtcdServer]:
    """One etcd member shared by the session; brought back after a test that stopped it."""
    yield _etcd_server_session
    _bring_back(_etcd_server_session)


@pytest.fixture
def etcd_client(etcd_server: EtcdServer) -> Iterator[etcd.Client]:
    """An :class:`etcd.Client` for ``etcd_server``; every key is deleted after the test."""
    import etcd

    client = etcd.Client(endpoints=[etcd_server.endpoint], timeout=_CLIENT_TIMEOUT)
    try:
        yield client
    finally:
        try:
            _bring_back(etcd_server)
            client.delete_range(b"\0", from_key=True)
        finally:
            client.close()


@pytest.fixture(scope="session")
def _etcd_cluster_session(etcd_binary: str) -> Iterator[EtcdCluster]:
    with EtcdCluster(size=3, binary=etcd_binary) as cluster:
        yield cluster


@pytest.fixture
def etcd_cluster(_etcd_cluster_session: EtcdCluster) -> Iterator[EtcdCluster]:
    """A three-member cluster shared by the session, started on first use.

    After each test, members that were stopped, killed or paused are brought back and
    every key is deleted.
    """
    cluster = _etcd_cluster_session
    yield cluster
    cluster.heal()
    cluster.leader()
    _delete_every_key(cluster.endpoints)


@pytest.fixture
def etcd_server_factory(etcd_binary: str) -> Iterator[Callable[..., EtcdServer]]:
    """A function that starts an :class:`etcd.testing.EtcdServer` with the given arguments.

    ::

        def test_short_tokens(etcd_server_factory):
            server = etcd_server_factory(auth_token="simple", auth_token_ttl=2)

    The members it started are closed after the test.
    """
    servers: list[EtcdServer] = []

    def start_server(**kwargs: Any) -> EtcdServer:
        kwargs.setdefault("binary", etcd_binary)
        server = EtcdServer(**kwargs)
        servers.append(server)
        server.start()
        return server

    try:
        yield start_server
    finally:
        for server in reversed(servers):
            server.close()


@pytest.fixture(scope="session")
def etcd_tls(tmp_path_factory: pytest.TempPathFactory) -> TLSFiles:
    """A CA, server and client certificates for TLS tests (see :func:`make_tls`)."""
    try:
        return make_tls(tmp_path_factory.mktemp("etcd-tls"))
    except ImportError as err:
        pytest.fail(str(err), pytrace=False)
