"""A loopback TCP proxy that injects network faults, for tests.

::

    with FaultProxy(target_port=server.client_port) as proxy:
        client = etcd.Client(endpoints=[proxy.address])
        proxy.delay(0.2)          # every chunk arrives 200 ms late, both ways
        proxy.blackhole()         # connections stay open, nothing moves
        proxy.heal()              # back to normal (held data flows again)
        proxy.reset()             # every current connection gets a TCP RST
        proxy.blackhole(from_pids={member.pid})  # only what that process connects with

One I/O thread runs a selector loop over the listening socket and every proxied
connection, so sockets are only ever touched by that thread. The controls called from
other threads are queued to the loop and wait until it has applied them: when
``reset()`` returns, the connections are gone and the counters are up to date.

Only 127.0.0.1 is ever bound or connected to. Telling which process opened a connection
(``blackhole(from_pids=...)``) reads Linux's ``/proc``; elsewhere no connection matches.
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import errno
import itertools
import os
import selectors
import socket
import struct
import threading
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from types import TracebackType
from typing import Final, TypeVar

__all__ = ["FaultProxy", "ProxyStats"]

LOOPBACK: Final = "127.0.0.1"
_CHUNK: Final = 65536
# Stop reading from one side while this much is waiting to be written to the other.
_HIGH_WATER: Final = 1 << 20
_CONTROL_TIMEOUT: Final = 10.0
_IDLE_WAIT: Final = 0.5

_T = TypeVar("_T")


@dataclass
class ProxyStats:
    """Counters, updated by the I/O thread (``FaultProxy.stats`` is a snapshot)."""

    accepted: int = 0
    """Client connections accepted."""
    upstream_failures: int = 0
    """Accepted connections whose upstream connection could not be made."""
    closed: int = 0
    """Connections that ended, for any reason."""
    drops: int = 0
    """Connections closed by ``drop()``."""
    resets: int = 0
    """Connections closed with an RST by ``reset()`` or ``reset_every()``."""
    reset_rounds: int = 0
    """How many times ``reset()`` ran (a ``reset_every()`` tick counts as one)."""
    bytes_to_upstream: int = 0
    bytes_to_client: int = 0


@dataclass
class _Pipe:
    """One direction of a connection: chunks waiting to be written, each with the time
    it may be written at."""

    chunks: collections.deque[tuple[float, bytes]] = field(default_factory=collections.deque)
    size: int = 0
    eof: bool = False  # the reading side has closed
    shut: bool = False  # the writing side was shut down after the eof was forwarded

    def push(self, due: float, data: bytes) -> None:
        self.chunks.append((due, data))
        self.size += len(data)

    def due_at(self) -> float | None:
        return self.chunks[0][0] if self.chunks else None


class _Connection:
    def __init__(self, ident: int, client: socket.socket, upstream: socket.socket) -> None:
        self.ident = ident
        self.client = client
        self.upstream = upstream
        self.connected = False  # the upstream connect has completed
        self.to_upstream = _Pipe()
        self.to_client = _Pipe()
        # Which of the processes ``origin_among`` holds opened the connection (None: none).
        self.origin: int | None = None
        self.origin_among: frozenset[int] = frozenset()


def _connecting_inode(client_port: int, proxy_port: int) -> str | None:
    """The inode of the socket at the far end of an accepted loopback connection: the one
    whose local port is ``client_port`` and remote port ``proxy_port`` (Linux only)."""
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table, encoding="ascii") as rows:
                lines = rows.readlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) < 10:
                continue
            local, remote = fields[1].rpartition(":")[2], fields[2].rpartition(":")[2]
            if int(local, 16) == client_port and int(remote, 16) == proxy_port:
                return fields[9]
    return None


def _owner(inode: str, pids: Collection[int]) -> int | None:
    """Which of ``pids`` holds the socket ``inode`` open, if any."""
    wanted = f"socket:[{inode}]"
    for pid in sorted(pids):
        directory = f"/proc/{pid}/fd"
        try:
            names = os.listdir(directory)
        except OSError:
            continue
        for name in names:
            with contextlib.suppress(OSError):
                if os.readlink(f"{directory}/{name}") == wanted:
                    return pid
    return None


def _set_rst_on_close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


class FaultProxy:
    """A TCP proxy from ``127.0.0.1:<free port>`` to ``127.0.0.1:target_port``.

    The listening port is bound at construction (``.port``/``.address`` are known at
    once); ``start()`` starts forwarding. Every control may be called from any thread at
    any time, before or after ``start()``.
    """

    def __init__(self, target_port: int, *, listen_port: int = 0, backlog: int = 128) -> None:
        self._target = (LOOPBACK, int(target_port))
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self._listener.bind((LOOPBACK, listen_port))
            self._listener.listen(backlog)
            self._listener.setblocking(False)
        except BaseException:
            self._listener.close()
            raise
        self.port: int = self._listener.getsockname()[1]
        self._stats = ProxyStats()
        # State, owned by the I/O thread once it runs.
        self._delay = 0.0
        self._blackholed = False
        self._held_pids: frozenset[int] = frozenset()
        self._accepting = True
        self._reset_interval: float | None = None
        self._next_reset = 0.0
        self._connections: dict[int, _Connection] = {}
        self._ids = itertools.count(1)
        self._selector: selectors.BaseSelector | None = None
        self._registered: dict[socket.socket, int] = {}
        # Control plumbing.
        self._lock = threading.Lock()
        self._commands: list[tuple[Callable[[], None], threading.Event]] = []
        self._wake_r: socket.socket | None = None
        self._wake_w: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._stopping = False
        self._closed = False
        self._failure: BaseException | None = None

    # --- properties ----------------------------------------------------------------------

    @property
    def address(self) -> str:
        """``"127.0.0.1:<port>"``, the endpoint clients should use."""
        return f"{LOOPBACK}:{self.port}"

    @property
    def target_port(self) -> int:
        return self._target[1]

    @property
    def stats(self) -> ProxyStats:
        """A snapshot of the counters, taken by the I/O thread between two rounds of
        work (so everything forwarded before the call is counted)."""
        return self._call(lambda: dataclasses.replace(self._stats))

    @property
    def connections_accepted(self) -> int:
        return self.stats.accepted

    @property
    def resets_done(self) -> int:
        """Connections reset so far (by ``reset()`` and ``reset_every()``)."""
        return self.stats.resets

    @property
    def active_connections(self) -> int:
        return self._call(lambda: len(self._connections))

    # --- lifecycle -----------------------------------------------------------------------

    def start(self) -> FaultProxy:
        if self._closed:
            raise RuntimeError("the proxy is closed")
        if self._thread is not None:
            return self
        self._selector = selectors.DefaultSelector()
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self._selector.register(self._wake_r, selectors.EVENT_READ)
        self._thread = threading.Thread(
            target=self._run, name=f"fault-proxy-{self.port}", daemon=True
        )
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop forwarding, close every connection and socket, join the I/O thread."""
        if self._closed:
            return
        self._closed = True
        thread = self._thread
        if thread is not None:
            with self._lock:
                self._stopping = True
            self._wake()
            thread.join(_CONTROL_TIMEOUT)
            if thread.is_alive():  # pragma: no cover - a bug in the loop
                raise RuntimeError("the proxy's I/O thread did not stop")
            assert self._wake_r is not None and self._wake_w is not None
            self._wake_r.close()
            self._wake_w.close()
        else:
            self._listener.close()
        if self._failure is not None:
            raise RuntimeError("the proxy's I/O thread failed") from self._failure

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<FaultProxy {self.address} -> {LOOPBACK}:{self._target[1]}>"

    # --- controls ------------------------------------------------------------------------

    def delay(self, seconds: float) -> None:
        """Hold every chunk ``seconds`` before forwarding it, in both directions."""
        if seconds < 0:
            raise ValueError("delay must be >= 0")

        def apply() -> None:
            self._delay = float(seconds)

        self._call(apply)

    def blackhole(self, from_pids: Collection[int] | None = None) -> None:
        """Forward nothing, silently: connections stay open (new ones are accepted too)
        but no byte moves either way until ``heal()``; what was sent meanwhile is held,
        like a partition that TCP outlives.

        With ``from_pids``, only the connections opened by those processes are held (on
        Linux, where ``/proc`` tells who holds the connecting socket); the others go on.
        Calls add up: each adds its processes to those already held.
        """

        def apply() -> None:
            if from_pids is None:
                self._blackholed = True
            else:
                self._held_pids = self._held_pids | frozenset(from_pids)

        self._call(apply)

    def connections_from(self, pids: Collection[int]) -> int:
        """How many current connections were opened by one of ``pids`` (Linux only)."""
        wanted = frozenset(pids)

        def count() -> int:
            return sum(
                1 for conn in self._connections.values() if self._origin(conn, wanted) is not None
            )

        return self._call(count)

    def pause_accepting(self) -> None:
        """Stop accepting: new connections wait in the kernel's accept queue (their
        ``connect()`` succeeds, nothing is forwarded) until ``resume_accepting()``."""

        def apply() -> None:
            self._accepting = False

        self._call(apply)

    def resume_accepting(self) -> None:
        def apply() -> None:
            self._accepting = True

        self._call(apply)

    def drop(self) -> int:
        """Close every current connection at once (a FIN, pending data discarded).

        Returns how many connections were closed."""
        return self._call(lambda: self._close_all(rst=False))

    def reset(self) -> int:
        """Close every current connection with a TCP RST (``SO_LINGER`` 0), both the
        client's side and the upstream side. Returns how many were reset."""
        return self._call(lambda: self._close_all(rst=True))

    def reset_every(self, seconds: float) -> None:
        """Reset every connection now and then every ``seconds`` until ``heal()``."""
        if seconds <= 0:
            raise ValueError("the interval must be > 0")

        def apply() -> None:
            self._reset_interval = float(seconds)
            self._next_reset = time.monotonic()

        self._call(apply)

    def heal(self) -> None:
        """Back to normal: no delay, no blackhole, accepting, no periodic resets."""

        def apply() -> None:
            self._delay = 0.0
            self._blackholed = False
            self._held_pids = frozenset()
            self._accepting = True
            self._reset_interval = None
            # Chunks held under a delay go out now.
            for conn in self._connections.values():
                for pipe in (conn.to_upstream, conn.to_client):
                    pipe.chunks = collections.deque((0.0, data) for _, data in pipe.chunks)

        self._call(apply)

    # --- control plumbing ----------------------------------------------------------------

    def _call(self, fn: Callable[[], _T]) -> _T:
        """Run ``fn`` on the I/O thread (or here when it does not run) and return its result."""
        if self._thread is None or self._closed:
            return fn()
        if threading.current_thread() is self._thread:
            return fn()
        done = threading.Event()
        box: list[_T] = []
        errors: list[BaseException] = []

        def command() -> None:
            try:
                box.append(fn())
            except BaseException as error:  # handed back to the caller
                errors.append(error)

        with self._lock:
            if self._stopping:
                raise RuntimeError("the proxy is closing")
            self._commands.append((command, done))
        self._wake()
        if not done.wait(_CONTROL_TIMEOUT):
            raise RuntimeError(f"the proxy's I/O thread did not answer: {self._failure!r}")
        if errors:
            raise errors[0]
        return box[0]

    def _wake(self) -> None:
        if self._wake_w is not None:
            with contextlib.suppress(OSError):
                self._wake_w.send(b"x")

    # --- the I/O thread ------------------------------------------------------------------

    def _run(self) -> None:
        try:
            while True:
                with self._lock:
                    commands, self._commands = self._commands, []
                    stopping = self._stopping
                for command, done in commands:
                    command()
                    done.set()
                if stopping:
                    break
                self._tick()
        except BaseException as error:  # pragma: no cover - reported by close()
            self._failure = error
        finally:
            self._shutdown()

    def _shutdown(self) -> None:
        with self._lock:
            self._stopping = True
            commands, self._commands = self._commands, []
        for _, done in commands:  # nobody waits forever on a closing proxy
            done.set()
        self._close_all(rst=False, count=False)
        self._unwatch(self._listener)
        self._listener.close()
        if self._selector is not None:
            self._selector.close()

    def _tick(self) -> None:
        now = time.monotonic()
        if self._reset_interval is not None and now >= self._next_reset:
            self._close_all(rst=True)
            self._next_reset = now + self._reset_interval
        wait = _IDLE_WAIT
        if self._reset_interval is not None:
            wait = min(wait, max(0.0, self._next_reset - now))
        self._watch(self._listener, selectors.EVENT_READ if self._accepting else 0)
        for conn in list(self._connections.values()):
            wait = min(wait, self._plan(conn, now))
        assert self._selector is not None
        for key, events in self._selector.select(wait):
            sock = key.fileobj
            if sock is self._wake_r:
                self._drain_wakeups()
            elif sock is self._listener:
                self._accept()
            else:
                owner: _Connection = key.data
                if owner.ident in self._connections:
                    side = owner.client if sock is owner.client else owner.upstream
                    self._service(owner, side, events)

    def _drain_wakeups(self) -> None:
        assert self._wake_r is not None
        with contextlib.suppress(BlockingIOError, InterruptedError):
            while self._wake_r.recv(4096):
                pass

    def _watch(self, sock: socket.socket, events: int, data: object = None) -> None:
        """Make the selector watch ``sock`` for ``events`` (0: not at all)."""
        assert self._selector is not None
        current = self._registered.get(sock)
        if events == 0:
            if current is not None:
                self._selector.unregister(sock)
                del self._registered[sock]
        elif current is None:
            self._selector.register(sock, events, data)
            self._registered[sock] = events
        elif current != events:
            self._selector.modify(sock, events, data)
            self._registered[sock] = events

    def _unwatch(self, sock: socket.socket) -> None:
        if self._selector is not None and sock in self._registered:
            self._selector.unregister(sock)
            del self._registered[sock]

    def _accept(self) -> None:
        while self._accepting:
            try:
                client, _ = self._listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            self._stats.accepted += 1
            client.setblocking(False)
            upstream = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            upstream.setblocking(False)
            code = upstream.connect_ex(self._target)
            if code not in (0, errno.EINPROGRESS, errno.EWOULDBLOCK):
                self._stats.upstream_failures += 1
                upstream.close()
                _set_rst_on_close(client)
                client.close()
                continue
            for sock in (client, upstream):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conn = _Connection(next(self._ids), client, upstream)
            conn.connected = code == 0
            self._connections[conn.ident] = conn

    def _plan(self, conn: _Connection, now: float) -> float:
        """Set what the selector watches for ``conn``; return how long until a held chunk
        becomes due (or the idle wait)."""
        wait = _IDLE_WAIT
        client_events = upstream_events = 0
        if not self._holds(conn):
            if not conn.connected:
                upstream_events = selectors.EVENT_WRITE
            else:
                if not conn.to_upstream.eof and conn.to_upstream.size < _HIGH_WATER:
                    client_events |= selectors.EVENT_READ
                if not conn.to_client.eof and conn.to_client.size < _HIGH_WATER:
                    upstream_events |= selectors.EVENT_READ
                for pipe, is_client in ((conn.to_upstream, False), (conn.to_client, True)):
                    due = pipe.due_at()
                    if due is None:
                        continue
                    if due <= now:
                        if is_client:
                            client_events |= selectors.EVENT_WRITE
                        else:
                            upstream_events |= selectors.EVENT_WRITE
                    else:
                        wait = min(wait, due - now)
        self._watch(conn.client, client_events, conn)
        self._watch(conn.upstream, upstream_events, conn)
        return wait

    def _holds(self, conn: _Connection) -> bool:
        if self._blackholed:
            return True
        return bool(self._held_pids) and self._origin(conn, self._held_pids) is not None

    def _origin(self, conn: _Connection, pids: frozenset[int]) -> int | None:
        """Which of ``pids`` opened ``conn`` (looked up once per set of pids)."""
        if conn.origin_among != pids:
            conn.origin_among = pids
            conn.origin = None
            try:
                client_port = conn.client.getpeername()[1]
            except OSError:
                return None
            inode = _connecting_inode(client_port, self.port)
            if inode is not None:
                conn.origin = _owner(inode, pids)
        return conn.origin

    def _service(self, conn: _Connection, sock: socket.socket, events: int) -> None:
        if sock is conn.upstream and not conn.connected:
            error = conn.upstream.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if error:
                self._stats.upstream_failures += 1
                self._close(conn, rst=True)
            else:
                conn.connected = True
            return
        if sock is conn.client:
            incoming, outgoing = conn.to_upstream, conn.to_client
        else:
            incoming, outgoing = conn.to_client, conn.to_upstream
        try:
            if events & selectors.EVENT_WRITE:
                self._flush(conn, sock, outgoing)
            if events & selectors.EVENT_READ:
                self._read(sock, incoming)
        except OSError:
            # A reset or broken pipe on one side: pass the abrupt end on to the other.
            self._close(conn, rst=True)
            return
        self._forward_eofs(conn)

    def _read(self, sock: socket.socket, pipe: _Pipe) -> None:
        try:
            data = sock.recv(_CHUNK)
        except (BlockingIOError, InterruptedError):
            return
        if not data:
            pipe.eof = True
            return
        pipe.push(time.monotonic() + self._delay, data)

    def _flush(self, conn: _Connection, sock: socket.socket, pipe: _Pipe) -> None:
        now = time.monotonic()
        while pipe.chunks and pipe.chunks[0][0] <= now:
            due, data = pipe.chunks[0]
            try:
                sent = sock.send(data)
            except (BlockingIOError, InterruptedError):
                return
            pipe.size -= sent
            if sock is conn.client:
                self._stats.bytes_to_client += sent
            else:
                self._stats.bytes_to_upstream += sent
            if sent < len(data):
                pipe.chunks[0] = (due, data[sent:])
                return
            pipe.chunks.popleft()

    def _forward_eofs(self, conn: _Connection) -> None:
        for pipe, target in ((conn.to_upstream, conn.upstream), (conn.to_client, conn.client)):
            if pipe.eof and not pipe.shut and not pipe.chunks:
                pipe.shut = True
                with contextlib.suppress(OSError):
                    target.shutdown(socket.SHUT_WR)
        if conn.to_upstream.shut and conn.to_client.shut:
            self._close(conn, rst=False)

    def _close(self, conn: _Connection, *, rst: bool) -> None:
        self._connections.pop(conn.ident, None)
        self._stats.closed += 1
        for sock in (conn.client, conn.upstream):
            self._unwatch(sock)
            if rst:
                _set_rst_on_close(sock)
            sock.close()

    def _close_all(self, *, rst: bool, count: bool = True) -> int:
        conns = list(self._connections.values())
        for conn in conns:
            self._close(conn, rst=rst)
        if count:
            if rst:
                self._stats.resets += len(conns)
                self._stats.reset_rounds += 1
            else:
                self._stats.drops += len(conns)
        return len(conns)
