"""The fault proxy against a local echo server (no etcd needed).

No test asserts how long something took: "nothing arrives" is checked with a short
receive timeout, everything else waits for data or for a counter with a generous limit.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import threading
import time
import warnings
from collections.abc import Callable, Iterator

import pytest

from .proxy import FaultProxy

QUIET = 0.3  # how long "nothing arrives" is watched for
PATIENCE = 10.0  # how long anything expected may take, at most


class EchoServer:
    """Echoes every byte back; closes its side when the client closes its own."""

    def __init__(self) -> None:
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(64)
        self._listener.settimeout(0.05)
        self.port: int = self._listener.getsockname()[1]
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self.accepted = 0
        self._acceptor = threading.Thread(target=self._accept_loop, daemon=True)
        self._acceptor.start()

    def _accept_loop(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                self.accepted += 1
            thread = threading.Thread(target=self._echo, args=(conn,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _echo(self, conn: socket.socket) -> None:
        with conn:
            conn.settimeout(0.05)
            while not self._stop.is_set():
                try:
                    data = conn.recv(65536)
                except TimeoutError:
                    continue
                except OSError:
                    return
                if not data:
                    return
                try:
                    conn.sendall(data)
                except OSError:
                    return

    def close(self) -> None:
        self._stop.set()
        self._acceptor.join()
        for thread in self._threads:
            thread.join()
        self._listener.close()


@pytest.fixture
def echo() -> Iterator[EchoServer]:
    server = EchoServer()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def proxy(echo: EchoServer) -> Iterator[FaultProxy]:
    with FaultProxy(echo.port) as fault_proxy:
        yield fault_proxy


@contextlib.contextmanager
def connect(proxy: FaultProxy) -> Iterator[socket.socket]:
    sock = socket.create_connection(("127.0.0.1", proxy.port), timeout=PATIENCE)
    try:
        yield sock
    finally:
        sock.close()


def receive_exactly(sock: socket.socket, count: int) -> bytes:
    sock.settimeout(PATIENCE)
    data = b""
    while len(data) < count:
        chunk = sock.recv(count - len(data))
        if not chunk:
            raise EOFError(f"connection closed after {len(data)} of {count} bytes")
        data += chunk
    return data


def round_trip(sock: socket.socket, payload: bytes) -> bytes:
    sock.sendall(payload)
    return receive_exactly(sock, len(payload))


def assert_nothing_arrives(sock: socket.socket) -> None:
    sock.settimeout(QUIET)
    with pytest.raises(TimeoutError):
        sock.recv(1)


def wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + PATIENCE
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


def test_forwards_both_ways(proxy: FaultProxy, echo: EchoServer) -> None:
    assert proxy.address == f"127.0.0.1:{proxy.port}"
    assert proxy.target_port == echo.port
    with connect(proxy) as sock:
        assert round_trip(sock, b"hello") == b"hello"
        assert round_trip(sock, b"again") == b"again"
    assert proxy.connections_accepted == 1
    assert proxy.stats.bytes_to_upstream == proxy.stats.bytes_to_client == 10


def test_forwards_a_large_payload_in_order(proxy: FaultProxy) -> None:
    payload = bytes(range(256)) * 8192  # 2 MiB: more than the proxy buffers
    with connect(proxy) as sock:
        received: list[bytes] = []
        reader = threading.Thread(
            target=lambda: received.append(receive_exactly(sock, len(payload)))
        )
        reader.start()
        sock.sendall(payload)
        reader.join()
    assert received == [payload]


def test_several_connections_at_once(proxy: FaultProxy) -> None:
    with connect(proxy) as a, connect(proxy) as b:
        a.sendall(b"from a")
        b.sendall(b"from b")
        assert receive_exactly(b, 6) == b"from b"
        assert receive_exactly(a, 6) == b"from a"
    assert proxy.connections_accepted == 2


def test_half_close_is_forwarded(proxy: FaultProxy) -> None:
    with connect(proxy) as sock:
        sock.sendall(b"last words")
        sock.shutdown(socket.SHUT_WR)
        assert receive_exactly(sock, 10) == b"last words"
        assert sock.recv(1) == b""  # the echo server closed after our FIN
    wait_for(lambda: proxy.active_connections == 0, "the connection to end")


def test_delay_still_delivers_everything_in_order(proxy: FaultProxy) -> None:
    proxy.delay(0.05)
    with connect(proxy) as sock:
        for i in range(5):
            sock.sendall(b"%d;" % i)
        assert receive_exactly(sock, 10) == b"0;1;2;3;4;"
        assert round_trip(sock, b"more") == b"more"
    proxy.heal()
    with connect(proxy) as sock:
        assert round_trip(sock, b"healed") == b"healed"


def test_delay_rejects_negative_values(proxy: FaultProxy) -> None:
    with pytest.raises(ValueError):
        proxy.delay(-1)
    with pytest.raises(ValueError):
        proxy.reset_every(0)


def test_blackhole_stops_data_and_heal_restores_it(proxy: FaultProxy) -> None:
    with connect(proxy) as old:
        assert round_trip(old, b"before") == b"before"
        proxy.blackhole()
        old.sendall(b"held")
        assert_nothing_arrives(old)
        with connect(proxy) as new:  # accepted, but gets nothing
            new.sendall(b"ignored?")
            assert_nothing_arrives(new)
            assert proxy.connections_accepted == 2
            proxy.heal()
            # What was sent during the blackhole was held, not lost.
            assert receive_exactly(new, 8) == b"ignored?"
        assert receive_exactly(old, 4) == b"held"
        assert round_trip(old, b"after") == b"after"
    with connect(proxy) as fresh:
        assert round_trip(fresh, b"fresh") == b"fresh"


@pytest.mark.skipif(not os.path.exists("/proc/net/tcp"), reason="needs Linux's /proc")
def test_blackhole_from_pids_holds_only_the_connections_of_those_processes(
    proxy: FaultProxy,
) -> None:
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        with connect(proxy) as sock:
            assert round_trip(sock, b"before") == b"before"
            proxy.blackhole(from_pids={other.pid})  # not this process: still flows
            assert proxy.connections_from({other.pid}) == 0
            assert round_trip(sock, b"flows") == b"flows"
            proxy.blackhole(from_pids={os.getpid()})  # adds this one: held
            assert proxy.connections_from({os.getpid()}) == 1
            sock.sendall(b"held")
            assert_nothing_arrives(sock)
            with connect(proxy) as new:  # a new connection of this process too
                new.sendall(b"new")
                assert_nothing_arrives(new)
                proxy.heal()
                assert receive_exactly(new, 3) == b"new"
            assert receive_exactly(sock, 4) == b"held"
            assert round_trip(sock, b"after") == b"after"
    finally:
        other.kill()
        other.wait()


def test_reset_gives_the_client_a_connection_reset(proxy: FaultProxy) -> None:
    with connect(proxy) as sock:
        assert round_trip(sock, b"ping") == b"ping"
        assert proxy.reset() == 1
        assert proxy.resets_done == 1
        assert proxy.stats.reset_rounds == 1
        sock.settimeout(PATIENCE)
        with pytest.raises(ConnectionResetError):
            sock.recv(1)
    with connect(proxy) as sock:  # new connections are unaffected
        assert round_trip(sock, b"pong") == b"pong"
    assert proxy.resets_done == 1


def test_drop_closes_connections_with_an_eof(proxy: FaultProxy) -> None:
    with connect(proxy) as a, connect(proxy) as b:
        assert round_trip(a, b"a") == b"a"
        assert round_trip(b, b"b") == b"b"
        assert proxy.drop() == 2
        a.settimeout(PATIENCE)
        b.settimeout(PATIENCE)
        assert a.recv(1) == b""
        assert b.recv(1) == b""
    assert proxy.stats.drops == 2
    assert proxy.resets_done == 0


def test_pause_accepting_leaves_connections_in_the_queue(proxy: FaultProxy) -> None:
    with connect(proxy) as first:
        assert round_trip(first, b"1") == b"1"
        proxy.pause_accepting()
        # The kernel completes the handshake; the proxy does not accept it.
        with connect(proxy) as queued:
            queued.sendall(b"queued")
            assert_nothing_arrives(queued)
            assert proxy.connections_accepted == 1
            # Connections accepted before the pause keep working.
            assert round_trip(first, b"2") == b"2"
            proxy.resume_accepting()
            assert receive_exactly(queued, 6) == b"queued"
        assert proxy.connections_accepted == 2


def test_reset_every_keeps_resetting_until_heal(proxy: FaultProxy) -> None:
    proxy.reset_every(0.02)
    rounds = proxy.stats.reset_rounds

    def reset_seen() -> bool:
        # Connect, send, and expect the connection to be killed sooner or later.
        with connect(proxy) as sock:
            try:
                sock.sendall(b"x")
                while sock.recv(1):
                    pass
            except ConnectionResetError:
                return True
            except OSError:
                return False
        return False

    wait_for(reset_seen, "a periodic reset")
    wait_for(lambda: proxy.stats.reset_rounds >= rounds + 3, "several reset rounds")
    assert proxy.resets_done >= 1
    proxy.heal()
    done = proxy.stats.reset_rounds
    with connect(proxy) as sock:
        for _ in range(20):
            assert round_trip(sock, b"steady") == b"steady"
    assert proxy.stats.reset_rounds == done


def test_upstream_down_resets_the_client() -> None:
    # A port with nothing listening: bind one, note it, close it.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        dead_port = probe.getsockname()[1]
    with FaultProxy(dead_port) as proxy:
        try:
            with connect(proxy) as sock:
                sock.settimeout(PATIENCE)
                data = sock.recv(1)
            assert data == b""
        except ConnectionResetError:
            pass  # the usual outcome: the proxy resets what it cannot forward
        wait_for(lambda: proxy.stats.upstream_failures == 1, "the upstream failure")


def test_controls_work_before_start_and_close_is_clean(echo: EchoServer) -> None:
    proxy = FaultProxy(echo.port)
    proxy.delay(0.01)
    proxy.blackhole()
    proxy.heal()
    assert proxy.reset() == 0
    assert proxy.active_connections == 0
    proxy.close()
    proxy.close()  # idempotent
    with pytest.raises(RuntimeError):
        proxy.start()


def test_close_with_open_connections_leaves_nothing_behind(echo: EchoServer) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        proxy = FaultProxy(echo.port).start()
        with connect(proxy) as sock:
            assert round_trip(sock, b"x") == b"x"
            proxy.delay(0.5)
            sock.sendall(b"in flight")
            proxy.close()
            sock.settimeout(PATIENCE)
            with contextlib.suppress(ConnectionResetError):
                assert sock.recv(1) == b""
        assert not any(t.name == f"fault-proxy-{proxy.port}" for t in threading.enumerate())
        with pytest.raises(RuntimeError):
            proxy.start()
