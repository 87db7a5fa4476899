"""The Go program of the interop tests (``go/interop.go``), run beside a test.

The program prints one JSON object a line (``{"event": ...}``); :class:`GoProcess` reads
them as they come. A command that holds something takes commands on stdin, one a line, and
lets go at the end of stdin.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..integration._etcdctl import clean_environment

SOURCE = Path(__file__).parent / "go" / "interop.go"

# Each etcd call of the program has this deadline; a wait for another participant (a
# lock, a barrier, a queue item) the longer one.
CALL_TIMEOUT = "10s"
WAIT_TIMEOUT = "60s"


class GoProgram:
    """The built program, pointed at one etcd; remembers what it started, to stop it."""

    def __init__(self, binary: Path, endpoint: str) -> None:
        self.binary = binary
        self.endpoint = endpoint
        self.started: list[GoProcess] = []

    def at(self, endpoint: str) -> GoProgram:
        """The program pointed at another etcd; what it starts is stopped with ours."""
        program = GoProgram(self.binary, endpoint)
        program.started = self.started
        return program

    def start(self, command: str, *args: str, **options: object) -> GoProcess:
        """Start ``command`` with ``--option=value`` for each keyword (``_`` becomes ``-``)."""
        flags = [f"--{name.replace('_', '-')}={value}" for name, value in options.items()]
        argv = [
            str(self.binary),
            command,
            f"--endpoints={self.endpoint}",
            f"--timeout={CALL_TIMEOUT}",
            f"--wait={WAIT_TIMEOUT}",
            *flags,
            *args,
        ]
        process = GoProcess(argv)
        self.started.append(process)
        return process

    def run(self, command: str, *args: str, **options: object) -> list[dict[str, Any]]:
        """Run ``command`` to its end; the events it printed."""
        return self.start(command, *args, **options).finish()

    def stop_all(self) -> None:
        for process in self.started:
            process.kill()


class GoProcess:
    """One run of the program. Its stderr goes to a file, read when it fails."""

    def __init__(self, argv: list[str]) -> None:
        self.argv = argv
        self.events: list[dict[str, Any]] = []
        self._lines: queue.SimpleQueue[dict[str, Any] | None] = queue.SimpleQueue()
        self._ended = False
        handle, name = tempfile.mkstemp(prefix="go-interop-", suffix=".err")
        self._stderr_path = Path(name)
        with os.fdopen(handle, "w") as stderr:
            self.process = subprocess.Popen(
                argv,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=stderr,
                text=True,
                env=clean_environment(),
            )
        self._reader = threading.Thread(target=self._read, name="go-stdout", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            try:
                self._lines.put(json.loads(line))
            except ValueError:
                self._lines.put({"event": "not-json", "line": line})
        self._lines.put(None)

    def _take(self, timeout: float | None) -> dict[str, Any] | None:
        event = self._lines.get(timeout=timeout)
        if event is None:
            self._ended = True
        else:
            self.events.append(event)
        return event

    def expect(self, event: str, timeout: float = 60) -> dict[str, Any]:
        """Wait for the next ``event`` printed; fails if the program ends first."""
        deadline = time.monotonic() + timeout
        while not self._ended:
            try:
                line = self._take(max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                break
            if line is not None and line["event"] == event:
                return line
        raise AssertionError(f"no {event!r} event from {self.describe()}")

    def printed(self, event: str) -> list[dict[str, Any]]:
        """The ``event`` lines printed so far, without waiting."""
        while not self._ended:
            try:
                self._take(timeout=0)
            except queue.Empty:
                break
        return [line for line in self.events if line["event"] == event]

    def send(self, command: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()

    def close_stdin(self) -> None:
        if self.process.stdin is not None and not self.process.stdin.closed:
            self.process.stdin.close()

    def finish(self, timeout: float = 90) -> list[dict[str, Any]]:
        """Close stdin (let go of what it holds), wait for a successful end; all events."""
        self.close_stdin()
        try:
            code = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            described = self.describe()
            self.kill()
            raise AssertionError(f"still running after {timeout} s: {described}") from None
        self._reader.join(10)
        while not self._ended:
            self._take(timeout=10)
        assert code == 0, f"exited with {code}: {self.describe()}"
        return self.events

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.close_stdin()
        self._reader.join(10)
        if self.process.stdout is not None:
            self.process.stdout.close()
        self._stderr_path.unlink(missing_ok=True)

    def describe(self) -> str:
        try:
            stderr = self._stderr_path.read_text()
        except FileNotFoundError:
            stderr = ""
        return f"{' '.join(self.argv[:2])}\nprinted: {self.events}\nstderr: {stderr}"


def watchers(metrics_url: str) -> int:
    """How many watches the member serves now (its ``etcd_debugging_mvcc_watcher_total``)."""
    # No proxy from the environment may see a request meant for the loopback.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(f"{metrics_url}/metrics", timeout=5) as answer:
        for line in answer.read().decode().splitlines():
            if line.startswith("etcd_debugging_mvcc_watcher_total "):
                return int(float(line.split()[1]))
    raise AssertionError("the member's metrics have no etcd_debugging_mvcc_watcher_total")


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 30) -> None:
    """Poll ``condition()`` until it is true."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)
