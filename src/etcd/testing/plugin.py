"""The pytest plugin: fixtures that run real etcd servers.

Installing ``etcd-client`` registers this module with pytest (entry point ``etcd``), so
these fixtures are available to every test suite:

``etcd_binary`` (session)
    The path of the etcd executable: the ``--etcd-binary`` option, the ``etcd_binary`` ini
    setting, or :func:`etcd.testing.find_etcd_binary`'s search. The tests fail with a
    message saying how to install etcd when there is none.
``etcd_server`` (one member, shared while tests leave it intact)
    An :class:`etcd.testing.EtcdServer`. A test may pause it (it is resumed after the
    test), or kill or restart it (the next test gets a fresh member: etcd 3.5 releases
    before 3.5.3 may replay their last writes after a crash).
``etcd_client``
    An :class:`etcd.Client` connected to ``etcd_server``; every key is deleted after the
    test.
``async_etcd_client`` (with ``pytest-asyncio`` installed)
    The same as an :class:`etcd.AsyncClient`, for ``async def`` tests.
``etcd_cluster`` (three members, started on first use, shared while tests leave it intact)
    An :class:`etcd.testing.EtcdCluster`. After each test, paused members are resumed and
    every key is deleted; a cluster in which a member was killed or restarted is replaced
    by a fresh one for the next test.
``etcd_server_factory``
    A function taking :class:`etcd.testing.EtcdServer`'s arguments and returning a started
    member; the members are closed after the test.
``etcd_tls`` (session)
    :class:`etcd.testing.TLSFiles` made by :func:`etcd.testing.make_tls`.

It also registers the ``integration`` and ``cluster`` markers.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator, Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest

from ._binary import etcd_binary_version, find_etcd_binary
from ._cluster import EtcdCluster
from ._errors import EtcdBinaryNotFound
from ._server import EtcdServer
from ._tls import TLSFiles, make_tls

try:
    import pytest_asyncio
except ImportError:  # pragma: no cover - the async fixture is optional
    pytest_asyncio = None  # type: ignore[assignment]

if TYPE_CHECKING:
    import etcd

__all__ = [
    "async_etcd_client",
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
        help="the etcd executable the etcd fixtures run (default: $ETCD_BINARY, the one "
        "installed next to the running Python, or the PATH)",
    )
    parser.addini("etcd_binary", "the etcd executable the etcd fixtures run", default="")


def pytest_configure(config: pytest.Config) -> None:
    """Register the markers used by tests that need a real etcd."""
    config.addinivalue_line(
        "markers", "integration: runs against a real etcd started by etcd.testing"
    )
    config.addinivalue_line("markers", "cluster: needs a 3-member etcd cluster")
    config.addinivalue_line(
        "markers",
        "etcd_version(minimum, reason=''): needs etcd `minimum` (such as '3.5') or later; "
        "skipped, saying so, against an older binary",
    )


def _binary_and_version(config: pytest.Config) -> tuple[str | None, str | None]:
    cached = getattr(config, "_etcd_binary_and_version", None)
    if cached is None:
        try:
            path: str | None = find_etcd_binary(_configured_binary(config))
        except EtcdBinaryNotFound:
            path = None
        cached = (path, etcd_binary_version(path) if path else None)
        config._etcd_binary_and_version = cached  # type: ignore[attr-defined]
    return cached


def pytest_report_header(config: pytest.Config) -> str:
    """Say which etcd the fixtures run, and its version."""
    path, version = _binary_and_version(config)
    if path is None:
        return "etcd: not found (tests that need a server will fail; see --etcd-binary)"
    return f"etcd: {path} (version {version or 'unknown'})"


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Skip a test marked ``etcd_version(minimum)`` when the binary is older."""
    marker = item.get_closest_marker("etcd_version")
    if marker is None:
        return
    minimum = str(marker.args[0])
    _, version = _binary_and_version(item.config)
    if version is not None and _release(version) < _release(minimum):
        why = marker.kwargs.get("reason", "")
        pytest.skip(
            f"needs etcd {minimum} or later (running {version})" + (f": {why}" if why else "")
        )


def _release(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("-")[0].split(".")[:2] if part.isdigit())


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


def _delete_every_key(endpoints: list[str]) -> None:
    import etcd

    with etcd.Client(endpoints=endpoints, timeout=_CLIENT_TIMEOUT) as client:
        client.delete_range(b"\0", from_key=True)


def _start_clean(endpoints: list[str]) -> None:
    """Delete every key and revoke every lease that earlier tests left on a shared member
    (a test that used the member without a client fixture, or a process such as
    etcdctl whose session outlives it), so that a test starts from an empty store."""
    import etcd

    with etcd.Client(endpoints=endpoints, timeout=_CLIENT_TIMEOUT) as client:
        client.delete_range(b"\0", from_key=True)
        for lease_id in client.lease_leases().ids:
            with contextlib.suppress(etcd.EtcdLeaseNotFound):  # expired meanwhile
                client.lease_revoke(lease_id)


class _Shared:
    """A server or cluster shared by the tests, replaced after a test that crashed it.

    A member that was killed or stopped and restarted is not reused: etcd 3.5 releases
    before 3.5.3 can replay their last writes after a crash, and later tests would see
    that server bug as theirs. A fresh one costs a second or two.
    """

    def __init__(self, make: Callable[[], EtcdServer | EtcdCluster]) -> None:
        self._make = make
        self.current: EtcdServer | EtcdCluster | None = None
        self._starts: list[int] = []

    def get(self) -> EtcdServer | EtcdCluster:
        if self.current is None:
            self.current = self._make()
        self._starts = [member.start_count for member in _members(self.current)]
        return self.current

    def disrupted(self) -> bool:
        members = _members(self.current) if self.current is not None else []
        return any(
            not member.alive or member.start_count != before
            for member, before in zip(members, self._starts, strict=True)
        )

    def discard(self) -> None:
        current, self.current = self.current, None
        if current is not None:
            current.close()


def _members(shared: EtcdServer | EtcdCluster) -> list[EtcdServer]:
    return shared.members if isinstance(shared, EtcdCluster) else [shared]


def _start_server(binary: str) -> EtcdServer:
    server = EtcdServer(binary=binary)
    server.start()
    return server


def _start_cluster(binary: str) -> EtcdCluster:
    cluster = EtcdCluster(size=3, binary=binary)
    cluster.start()
    return cluster


@pytest.fixture(scope="session")
def _etcd_server_session(etcd_binary: str) -> Iterator[_Shared]:
    shared = _Shared(lambda: _start_server(etcd_binary))
    yield shared
    shared.discard()


@pytest.fixture
def etcd_server(_etcd_server_session: _Shared) -> Iterator[EtcdServer]:
    """One etcd member shared by the session.

    A member the test paused is resumed afterwards; one it killed or restarted is replaced
    by a fresh member for the next test.
    """
    server = _etcd_server_session.get()
    assert isinstance(server, EtcdServer)
    yield server
    for member in _members(server):
        if member.paused:
            member.resume()
    if _etcd_server_session.disrupted():
        _etcd_server_session.discard()
    else:
        server.wait_healthy()


@pytest.fixture
def etcd_client(etcd_server: EtcdServer) -> Iterator[etcd.Client]:
    """An :class:`etcd.Client` for ``etcd_server``, which holds no key and no lease when
    the test starts; every key is deleted after the test."""
    import etcd

    _start_clean([etcd_server.endpoint])
    client = etcd.Client(endpoints=[etcd_server.endpoint], timeout=_CLIENT_TIMEOUT)
    try:
        yield client
    finally:
        try:
            if etcd_server.paused:
                etcd_server.resume()
            if etcd_server.alive:
                etcd_server.wait_healthy()
                client.delete_range(b"\0", from_key=True)
        finally:
            client.close()


if pytest_asyncio is not None:

    @pytest_asyncio.fixture
    async def async_etcd_client(etcd_server: EtcdServer) -> AsyncIterator[etcd.AsyncClient]:
        """An :class:`etcd.AsyncClient` for ``etcd_server`` (needs ``pytest-asyncio``),
        which holds no key and no lease when the test starts; every key is deleted after
        the test."""
        import etcd

        _start_clean([etcd_server.endpoint])

        client = etcd.AsyncClient(endpoints=[etcd_server.endpoint], timeout=_CLIENT_TIMEOUT)
        try:
            yield client
        finally:
            try:
                if etcd_server.paused:
                    etcd_server.resume()
                if etcd_server.alive:
                    etcd_server.wait_healthy()
                    await client.delete_range(b"\0", from_key=True)
            finally:
                await client.close()


@pytest.fixture(scope="session")
def _etcd_cluster_session(etcd_binary: str) -> Iterator[_Shared]:
    shared = _Shared(lambda: _start_cluster(etcd_binary))
    yield shared
    shared.discard()


@pytest.fixture
def etcd_cluster(_etcd_cluster_session: _Shared) -> Iterator[EtcdCluster]:
    """A three-member cluster shared by the session, started on first use.

    After each test, paused members are resumed and every key is deleted; a cluster in
    which the test killed or restarted a member is replaced by a fresh one.
    """
    cluster = _etcd_cluster_session.get()
    assert isinstance(cluster, EtcdCluster)
    yield cluster
    for member in cluster.members:
        if member.paused:
            member.resume()
    if _etcd_cluster_session.disrupted():
        _etcd_cluster_session.discard()
        return
    cluster.wait_healthy()
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
