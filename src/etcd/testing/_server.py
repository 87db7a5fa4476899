"""One real etcd member, run as a child process for tests."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import shlex
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
import weakref
from collections.abc import Sequence
from types import TracebackType

from ._binary import find_etcd_binary
from ._errors import EtcdStartError
from ._ports import free_port
from ._tls import TLSFiles

__all__ = ["EtcdServer"]

_HOST = "127.0.0.1"
_POLL_INTERVAL = 0.05
_PORT_IN_USE = "address already in use"
_PORT_RETRIES = 3

# Proxies from the environment must never see requests meant for 127.0.0.1.
_direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _http_get(url: str, timeout: float) -> tuple[int, bytes] | None:
    """Return ``(status, body)``, or ``None`` when nothing answered properly."""
    try:
        with _direct.open(url, timeout=timeout) as response:
            return int(response.status), response.read()
    except urllib.error.HTTPError as err:
        # An error response still holds an open connection; close it or it leaks.
        try:
            return err.code, err.read()
        except (OSError, http.client.HTTPException):
            return err.code, b""
        finally:
            with contextlib.suppress(Exception):
                err.close()
    except (OSError, http.client.HTTPException, ValueError):
        return None


def _child_environment() -> dict[str, str]:
    # etcd reads every ETCD_* variable as a flag (ETCD_BINARY included, with a warning),
    # and a developer's shell may well set some: start from a clean slate.
    return {
        key: value for key, value in os.environ.items() if not key.startswith(("ETCD_", "ETCDCTL_"))
    }


class _ProcessState:
    """What the finalizer needs. It must not refer to the server, or the server would
    never be collected."""

    __slots__ = ("paused", "process", "workdir")

    def __init__(self, workdir: str) -> None:
        self.process: subprocess.Popen[bytes] | None = None
        self.paused = False
        self.workdir = workdir


def _wait_until_stopped(pid: int, timeout: float = 5.0) -> None:
    """Return once each thread of ``pid`` is stopped (Linux's ``/proc``; elsewhere at once)."""
    tasks = f"/proc/{pid}/task"
    if not os.path.isdir(tasks):
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        states = []
        for task in os.listdir(tasks):
            try:
                with open(f"{tasks}/{task}/stat", encoding="ascii", errors="replace") as stat:
                    # "pid (name) STATE ...": the name may hold spaces and parentheses.
                    states.append(stat.read().rpartition(")")[2].split()[0])
            except (OSError, IndexError):
                continue  # a thread that ended meanwhile
        if states and all(state in ("T", "t") for state in states):
            return
        time.sleep(0.001)


def _kill_and_reap(state: _ProcessState) -> None:
    process = state.process
    if process is not None and process.poll() is None:
        # SIGKILL ends a stopped process too, but continuing it first lets the kernel
        # tear it down at once on every platform.
        if state.paused:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGCONT)
        process.kill()
        process.wait()
    state.paused = False


def _finalize(state: _ProcessState) -> None:
    _kill_and_reap(state)
    shutil.rmtree(state.workdir, ignore_errors=True)


class EtcdServer:
    """One etcd member on 127.0.0.1, for tests.

    ::

        with EtcdServer() as server:
            client = etcd.Client(endpoints=[server.endpoint])

    Ports are picked when the object is made and kept across restarts. Data lives in a
    temporary directory (unless ``data_dir`` is given) that :meth:`close` removes. A server
    that is never closed is killed when it is garbage collected or when the interpreter
    exits, so no etcd process outlives the tests.

    Clients are served over plain HTTP, or HTTPS when ``tls`` is given; peers always talk
    plain HTTP; the metrics URL (``/health``, ``/metrics``) is always plain HTTP.

    Args:
        binary: the etcd executable; found with :func:`find_etcd_binary` when omitted.
        name: the member name (``--name``).
        data_dir: where etcd keeps its data; a fresh temporary directory when omitted.
        client_port: the client port; a free one when omitted.
        peer_port: the peer port; a free one when omitted.
        advertise_peer_port: the port the other members are told to reach this one at,
            when it is not ``peer_port`` (a proxy in front of it, so that tests can cut
            members off from each other); ``peer_port`` when omitted.
        metrics_port: the port of the plain-HTTP metrics and health URL; a free one when
            omitted.
        tls: serve clients over HTTPS with these files; demand client certificates when
            ``tls.client_cert_auth`` is true.
        auth_token: etcd's ``--auth-token``, such as ``"simple"`` or ``"jwt,..."``.
        auth_token_ttl: etcd's ``--auth-token-ttl``, in seconds.
        quota_backend_bytes: etcd's ``--quota-backend-bytes``.
        max_request_bytes: etcd's ``--max-request-bytes``.
        extra_args: more command-line arguments; they come last, so they override the
            ones set here.
        start_timeout: how many seconds :meth:`start` waits for the member to be healthy.
        initial_cluster: etcd's ``--initial-cluster``; this member alone when omitted.
        initial_cluster_state: ``"new"`` or ``"existing"``.
        initial_cluster_token: etcd's ``--initial-cluster-token``.

    Raises:
        EtcdBinaryNotFound: no etcd executable was found.
    """

    def __init__(
        self,
        *,
        binary: str | os.PathLike[str] | None = None,
        name: str = "default",
        data_dir: str | os.PathLike[str] | None = None,
        client_port: int | None = None,
        peer_port: int | None = None,
        advertise_peer_port: int | None = None,
        metrics_port: int | None = None,
        tls: TLSFiles | None = None,
        auth_token: str | None = None,
        auth_token_ttl: int | None = None,
        quota_backend_bytes: int | None = None,
        max_request_bytes: int | None = None,
        extra_args: Sequence[str] = (),
        start_timeout: float = 30.0,
        initial_cluster: str | None = None,
        initial_cluster_state: str = "new",
        initial_cluster_token: str = "etcd-test-cluster",
    ) -> None:
        self._binary = find_etcd_binary(binary)
        self._name = name
        self._tls = tls
        self._auth_token = auth_token
        self._auth_token_ttl = auth_token_ttl
        self._quota_backend_bytes = quota_backend_bytes
        self._max_request_bytes = max_request_bytes
        self._extra_args = tuple(extra_args)
        self._start_timeout = start_timeout
        self._initial_cluster = initial_cluster
        self._initial_cluster_state = initial_cluster_state
        self._initial_cluster_token = initial_cluster_token
        self.start_count = 0
        """How many times the member was started (restarts included)."""
        # Ports picked here may be taken by someone else before etcd binds them; only
        # then, and only for a lone member whose ports nobody chose, are they picked anew.
        self._may_repick_ports = (
            client_port is None
            and peer_port is None
            and advertise_peer_port is None
            and metrics_port is None
            and initial_cluster is None
            and data_dir is None
        )
        self._client_port = client_port if client_port is not None else free_port()
        self._peer_port = peer_port if peer_port is not None else free_port()
        self._metrics_port = metrics_port if metrics_port is not None else free_port()
        self._advertise_peer_port = advertise_peer_port

        workdir = tempfile.mkdtemp(prefix=f"etcd-test-{name}-")
        self._state = _ProcessState(workdir)
        self._finalizer = weakref.finalize(self, _finalize, self._state)
        self._data_dir = (
            os.path.abspath(os.fspath(data_dir))
            if data_dir is not None
            else os.path.join(workdir, "data")
        )
        self._log_path = os.path.join(workdir, "etcd.log")
        self._closed = False

    # --- addresses and state ---------------------------------------------------------

    @property
    def name(self) -> str:
        """The member name."""
        return self._name

    @property
    def binary(self) -> str:
        """The path of the etcd executable."""
        return self._binary

    @property
    def client_port(self) -> int:
        """The client port on 127.0.0.1."""
        return self._client_port

    @property
    def peer_port(self) -> int:
        """The peer port on 127.0.0.1."""
        return self._peer_port

    @property
    def metrics_port(self) -> int:
        """The port of the plain-HTTP metrics and health URL."""
        return self._metrics_port

    @property
    def endpoint(self) -> str:
        """``"127.0.0.1:PORT"``, the client address as :class:`etcd.Client` takes it.

        It carries no scheme: with TLS, also give the client its CA (or ``protocol``).
        """
        return f"{_HOST}:{self._client_port}"

    @property
    def client_url(self) -> str:
        """``"http://127.0.0.1:PORT"``, or ``https://`` when serving TLS."""
        scheme = "https" if self._tls is not None else "http"
        return f"{scheme}://{_HOST}:{self._client_port}"

    @property
    def advertise_peer_port(self) -> int:
        """The port other members reach this one at (``peer_port``, unless
        ``advertise_peer_port`` was given)."""
        if self._advertise_peer_port is not None:
            return self._advertise_peer_port
        return self._peer_port

    @property
    def peer_url(self) -> str:
        """The URL other members reach this one at (the advertised peer URL)."""
        return f"http://{_HOST}:{self.advertise_peer_port}"

    @property
    def listen_peer_url(self) -> str:
        """The URL this member listens to its peers on (``peer_url`` unless an
        ``advertise_peer_port`` was given)."""
        return f"http://{_HOST}:{self._peer_port}"

    @property
    def metrics_url(self) -> str:
        """The plain-HTTP URL serving ``/health`` and ``/metrics``."""
        return f"http://{_HOST}:{self._metrics_port}"

    @property
    def tls(self) -> TLSFiles | None:
        """The TLS files clients are served with, or ``None`` for plain HTTP."""
        return self._tls

    @property
    def data_dir(self) -> str:
        """The directory etcd keeps its data in."""
        return self._data_dir

    @property
    def log_path(self) -> str:
        """The file etcd's output goes to; restarts append to it."""
        return self._log_path

    @property
    def process(self) -> subprocess.Popen[bytes] | None:
        """The etcd process of the latest start, or ``None`` before the first one."""
        return self._state.process

    @property
    def pid(self) -> int | None:
        """The process id of the latest start, or ``None`` before the first one."""
        process = self._state.process
        return process.pid if process is not None else None

    @property
    def alive(self) -> bool:
        """Whether the process exists, paused or not."""
        process = self._state.process
        return process is not None and process.poll() is None

    @property
    def paused(self) -> bool:
        """Whether the process is stopped by :meth:`pause`."""
        return self.alive and self._state.paused

    @property
    def running(self) -> bool:
        """Whether the process exists and is not paused."""
        return self.alive and not self._state.paused

    @property
    def command(self) -> list[str]:
        """The command line the member is started with."""
        args = [
            self._binary,
            f"--name={self._name}",
            f"--data-dir={self._data_dir}",
            f"--listen-client-urls={self.client_url}",
            f"--advertise-client-urls={self.client_url}",
            f"--listen-peer-urls={self.listen_peer_url}",
            f"--initial-advertise-peer-urls={self.peer_url}",
            f"--initial-cluster={self._initial_cluster or f'{self._name}={self.peer_url}'}",
            f"--initial-cluster-state={self._initial_cluster_state}",
            f"--initial-cluster-token={self._initial_cluster_token}",
            f"--listen-metrics-urls={self.metrics_url}",
            "--logger=zap",
            "--log-level=info",
            "--log-outputs=stderr",
        ]
        if self._tls is not None:
            args += [f"--cert-file={self._tls.server_cert}", f"--key-file={self._tls.server_key}"]
            # etcd demands client certificates as soon as it has a CA to check them with,
            # so the CA is passed only when they are wanted.
            if self._tls.client_cert_auth:
                args += ["--client-cert-auth", f"--trusted-ca-file={self._tls.ca_cert}"]
        if self._auth_token is not None:
            args.append(f"--auth-token={self._auth_token}")
        if self._auth_token_ttl is not None:
            args.append(f"--auth-token-ttl={self._auth_token_ttl}")
        if self._quota_backend_bytes is not None:
            args.append(f"--quota-backend-bytes={self._quota_backend_bytes}")
        if self._max_request_bytes is not None:
            args.append(f"--max-request-bytes={self._max_request_bytes}")
        args += self._extra_args
        return args

    # --- lifecycle -------------------------------------------------------------------

    def start(self, wait: bool = True) -> None:
        """Start the member.

        Args:
            wait: wait until the member is healthy. A cluster member is healthy only once
                a quorum runs, so clusters start every member with ``wait=False`` first.

        Raises:
            EtcdStartError: etcd exited, or was not healthy within ``start_timeout``
                seconds; it has been stopped.
            RuntimeError: the member is running already, or was closed.
        """
        if self._closed:
            raise RuntimeError(f"{self!r} is closed")
        if self.alive:
            raise RuntimeError(f"{self!r} is running already")
        self.start_count += 1
        for attempt in range(_PORT_RETRIES + 1):
            self._spawn()
            if not wait:
                return
            try:
                self.wait_healthy(self._start_timeout)
            except EtcdStartError:
                self.stop()
                if attempt < _PORT_RETRIES and self._lost_a_port():
                    self._repick_ports()
                    continue
                raise
            return

    def wait_healthy(self, timeout: float | None = None) -> None:
        """Wait until the member reports itself healthy.

        Args:
            timeout: seconds to wait; ``start_timeout`` when omitted.

        Raises:
            EtcdStartError: the process is gone, or was not healthy in time. The member
                is left as it is.
        """
        limit = self._start_timeout if timeout is None else timeout
        deadline = time.monotonic() + limit
        while True:
            process = self._state.process
            if process is None:
                raise EtcdStartError(f"{self!r} was never started")
            returncode = process.poll()
            if returncode is not None:
                raise self._start_error(f"etcd exited with code {returncode}")
            remaining = deadline - time.monotonic()
            if self.is_healthy(timeout=max(0.1, min(1.0, remaining))):
                return
            if time.monotonic() >= deadline:
                raise self._start_error(f"etcd was not healthy within {limit:g} seconds")
            time.sleep(_POLL_INTERVAL)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the member gracefully (SIGTERM), or kill it after ``timeout`` seconds.

        The data directory is kept, so :meth:`restart` brings the member back. Stopping a
        stopped member does nothing; a paused member is continued first.
        """
        process = self._state.process
        if process is None:
            return
        if process.poll() is None:
            process.terminate()
            if self._state.paused:
                with contextlib.suppress(ProcessLookupError):
                    process.send_signal(signal.SIGCONT)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self._state.paused = False

    def kill(self) -> None:
        """Kill the member with SIGKILL, as a crash would; the data directory is kept."""
        _kill_and_reap(self._state)

    def pause(self) -> None:
        """Freeze the member with SIGSTOP: it holds its ports but answers nothing.

        Raises:
            RuntimeError: the member is not running.
        """
        process = self._state.process
        if process is None or process.poll() is not None:
            raise RuntimeError(f"{self!r} is not running")
        process.send_signal(signal.SIGSTOP)
        self._state.paused = True
        # kill() returns before the stop lands: a request already on its way could still be
        # answered. Wait until every thread of the member is stopped.
        _wait_until_stopped(process.pid)

    def resume(self) -> None:
        """Continue a member frozen by :meth:`pause` (SIGCONT)."""
        process = self._state.process
        if process is not None and process.poll() is None and self._state.paused:
            process.send_signal(signal.SIGCONT)
        self._state.paused = False

    def restart(self, wait: bool = True) -> None:
        """Stop the member if it runs, then start it again with the same ports and data.

        Args:
            wait: wait until the member is healthy (see :meth:`start`).

        Raises:
            EtcdStartError: the member did not come back.
        """
        self.stop()
        self.start(wait=wait)

    def close(self) -> None:
        """Stop the member and remove its temporary directory. Safe to call twice.

        A ``data_dir`` given by the caller is kept.
        """
        self._closed = True
        self.stop()
        self._finalizer()

    def __enter__(self) -> EtcdServer:
        if self._state.process is None:
            try:
                self.start()
            except BaseException:
                self.close()
                raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # --- inspection ------------------------------------------------------------------

    def is_healthy(self, timeout: float = 1.0) -> bool:
        """Whether ``/health`` on the metrics URL answers ``{"health": "true"}``.

        A cluster member is healthy only while the cluster has a leader.
        """
        answer = _http_get(f"{self.metrics_url}/health", timeout)
        if answer is None or answer[0] != 200:
            return False
        try:
            report = json.loads(answer[1])
        except ValueError:
            return False
        return isinstance(report, dict) and report.get("health") in ("true", True)

    def is_leader(self, timeout: float = 1.0) -> bool:
        """Whether the member's metrics say it is the raft leader right now."""
        if not self.running:
            return False
        answer = _http_get(f"{self.metrics_url}/metrics", timeout)
        if answer is None or answer[0] != 200:
            return False
        lines = answer[1].decode("utf-8", "replace").splitlines()
        return "etcd_server_is_leader 1" in lines

    def log_tail(self, lines: int = 40) -> str:
        """The last ``lines`` lines of etcd's output (empty before the first start)."""
        try:
            with open(self._log_path, encoding="utf-8", errors="replace") as log:
                text = log.read()
        except FileNotFoundError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def __repr__(self) -> str:
        if self._closed:
            state = "closed"
        elif self._state.process is None:
            state = "not started"
        elif self.paused:
            state = "paused"
        elif self.alive:
            state = "running"
        else:
            state = "stopped"
        return f"<EtcdServer name={self._name!r} client_url={self.client_url!r} {state}>"

    # --- internals -------------------------------------------------------------------

    def _spawn(self) -> None:
        command = self.command
        # Restarts append, so one file tells the member's whole story.
        with open(self._log_path, "ab") as log:
            log.write(f"--- starting: {shlex.join(command)}\n".encode())
            log.flush()
            # A new session keeps the terminal's Ctrl+C away from etcd, so the test
            # runner gets to stop it in order instead of finding it already dead.
            self._state.process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self._state.workdir,
                env=_child_environment(),
                start_new_session=True,
            )
        self._state.paused = False

    def _lost_a_port(self) -> bool:
        if not self._may_repick_ports:
            return False
        latest_start = self.log_tail(400).rpartition("--- starting:")[2]
        return _PORT_IN_USE in latest_start

    def _repick_ports(self) -> None:
        self._client_port = free_port()
        self._peer_port = free_port()
        self._metrics_port = free_port()
        shutil.rmtree(self._data_dir, ignore_errors=True)

    def _start_error(self, reason: str) -> EtcdStartError:
        return EtcdStartError(
            f"etcd member {self._name!r} did not start: {reason}.\n"
            f"command: {shlex.join(self.command)}\n"
            f"last lines of {self._log_path}:\n{self.log_tail(40)}"
        )
