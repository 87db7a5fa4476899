"""What a command runs with: the global options, the streams, and clients built from them."""

from __future__ import annotations

import contextlib
import getpass
import signal
import subprocess
import threading
from collections.abc import Iterator, Mapping, Sequence
from types import FrameType
from typing import IO, Any

from .. import _dns
from .._core import srv
from .._core.exceptions import EtcdException, EtcdTypeError, EtcdValueError
from .._sync.client import Client
from ._debug import trace
from ._errors import CLIError, ExitCode, usage
from ._global_options import GlobalOptions
from .printers import Printer, Unsupported, printer


class Interrupted(BaseException):
    """SIGINT or SIGTERM arrived: stop what is running, clean up, exit."""


class Context:
    """The environment of one command: options, streams, and the clients it uses."""

    def __init__(
        self,
        options: GlobalOptions,
        *,
        stdin: IO[bytes],
        stdout: IO[bytes],
        stderr: IO[str],
        environ: Mapping[str, str],
        prog: str,
    ) -> None:
        self.options = options
        self.stdin = stdin
        self.stdout = stdout
        self.stderr = stderr
        self.environ = environ
        self.prog = prog
        self._clients: list[Client] = []
        self._client: Client | None = None
        self._password: str | None = None
        self._write_lock = threading.Lock()
        self._printer: Printer | None = None
        self._endpoints: list[str] | None = None

    # --- output -------------------------------------------------------------------------

    @property
    def printer(self) -> Printer:
        if self._printer is None:
            self._printer = make_printer(self.options.write_out, self.options.hex)
        return self._printer

    def require(self, *methods: str) -> Printer:
        """The printer, refusing (exit code 4) before anything is done if the output format
        has no output for these answers."""
        chosen = self.printer
        for method in methods:
            if not chosen.supports(method):
                raise CLIError(str(Unsupported(chosen.name)), ExitCode.BAD_FEATURE)
        return chosen

    def write(self, data: bytes) -> None:
        """Write to stdout at once (watchers read it as it comes)."""
        if not data:
            return
        with self._write_lock:
            self.stdout.write(data)
            self.stdout.flush()

    def warn(self, text: str) -> None:
        self.stderr.write(text + "\n")
        self.stderr.flush()

    # --- clients ------------------------------------------------------------------------

    @property
    def endpoints(self) -> list[str]:
        """The members found with --discovery-srv, or else the ones given."""
        if self._endpoints is None:
            self._endpoints = self._discovered_endpoints() or list(self.options.endpoints)
        return list(self._endpoints)

    def _discovered_endpoints(self) -> list[str]:
        """The members --discovery-srv finds, as etcdctl takes them (``[]`` without it).

        One scheme serves all the members of a client, so https members win over http
        ones; with --insecure-discovery=false http members are never used.
        """
        options = self.options
        if not options.discovery_srv:
            return []
        try:
            query = srv.SRVQuery(
                srv.domain_name(options.discovery_srv, "--discovery-srv"),
                srv.service_name(options.discovery_srv_name),
            )
        except (EtcdTypeError, EtcdValueError) as error:
            raise usage(str(error)) from None
        try:
            found = _dns.look_up(query, options.command_timeout)
        except EtcdException as error:
            raise CLIError(str(error)) from None
        usable = found.secure if found.secure or not options.insecure_discovery else found.plain
        for endpoint in found.plain:
            if endpoint not in usable:
                self.warn(f'ignoring discovered insecure endpoint "{endpoint.url}"')
        return [endpoint.url for endpoint in usable]

    def client(self) -> Client:
        """The client for the endpoints given (made once)."""
        if self._client is None:
            self._client = self.new_client()
        return self._client

    def new_client(self, endpoints: Sequence[str] | None = None) -> Client:
        """A client for ``endpoints`` (default: the endpoints given), closed at the end."""
        client = Client(**self.client_options(endpoints))
        self._clients.append(client)
        if self.options.debug:
            client.add_event_listener(trace, inline=True)
        return client

    def client_options(self, endpoints: Sequence[str] | None = None) -> dict[str, Any]:
        options = self.options
        if options.insecure_skip_tls_verify:
            raise CLIError(
                "--insecure-skip-tls-verify is not supported: gRPC for Python always verifies "
                "the server's certificate (pass its CA with --cacert)",
                ExitCode.BAD_FEATURE,
            )
        targets = list(endpoints if endpoints is not None else self.endpoints)
        if not targets:
            raise usage("no endpoints given")
        schemes = {t.partition("://")[0].lower() for t in targets if "://" in t}
        tls_files = bool(options.cacert or options.cert or options.key)
        secure = "https" in schemes or (tls_files and "http" not in schemes)
        if bool(options.cert) != bool(options.key):
            raise usage("--cert and --key must be given together")
        result: dict[str, Any] = {
            "endpoints": targets,
            "protocol": "https" if secure else "http",
            "timeout": options.command_timeout,
            "connect_timeout": options.dial_timeout,
            "insecure": options.insecure_transport,
        }
        if secure:
            if options.discovery_srv and not options.insecure_discovery:
                # etcdctl's secure discovery: the members' certificates must name the domain.
                domain = srv.domain_name(options.discovery_srv, "--discovery-srv")
                result["tls_server_name"] = domain
            if options.cacert:
                result["ca_cert"] = options.cacert
            if options.cert:
                result["cert"] = (options.cert, options.key)
        if options.max_request_bytes < 0 or options.max_recv_bytes < 0:
            raise usage("--max-request-bytes and --max-recv-bytes cannot be negative")
        if options.max_request_bytes:
            result["max_request_bytes"] = options.max_request_bytes
        if options.max_recv_bytes:
            result["max_receive_bytes"] = options.max_recv_bytes
        if options.auth_jwt_token:
            # As etcdctl: the token wins over --user and --password.
            result["token"] = options.auth_jwt_token
            return result
        username, password = self.credentials()
        if username:
            result["username"] = username
            result["password"] = password
        return result

    def credentials(self) -> tuple[str, str]:
        """``--user``/``--password``, asking for the password when it is not given."""
        user = self.options.user
        if not user:
            if self.options.password:
                raise usage("password is given but user is not")
            return "", ""
        if self.options.password:
            if ":" in user:
                raise usage("--password must not be given when --user includes a password")
            return user, self.options.password
        name, sep, password = user.partition(":")
        if sep:
            return name, password
        if self._password is None:
            self._password = self.ask_password("Password: ")
        return name, self._password

    def ask_password(self, prompt: str) -> str:
        """Read a password from the terminal (without echo), or a line from stdin."""
        if _is_terminal(self.stdin):
            try:
                return getpass.getpass(prompt)
            except (EOFError, OSError) as error:
                raise usage(f"failed to ask password: {error}") from None
        return self.read_word()

    def read_word(self) -> str:
        """The first whitespace-delimited word of the next line of stdin (Go's Scanf %s)."""
        line = self.stdin.readline().decode("utf-8", "surrogateescape")
        words = line.split()
        return words[0] if words else ""

    def close(self) -> None:
        for client in self._clients:
            with contextlib.suppress(Exception):
                client.close()
        self._clients.clear()
        self._client = None

    # --- long-running commands and child processes --------------------------------------

    def run_child(self, argv: Sequence[str], env: Mapping[str, str]) -> int:
        """Run a command with our stdout and stderr; its exit status."""
        try:
            out_fd: Any = self.stdout.fileno()
            err_fd: Any = self.stderr.fileno()
        except (AttributeError, OSError, ValueError):
            out_fd = err_fd = None
        if out_fd is not None:
            self.stdout.flush()
            self.stderr.flush()
            try:
                return subprocess.run(
                    list(argv), env=dict(env), stdout=out_fd, stderr=err_fd, check=False
                ).returncode
            except OSError as error:
                raise CLIError(str(error)) from None
        try:
            done = subprocess.run(list(argv), env=dict(env), capture_output=True, check=False)
        except OSError as error:
            raise CLIError(str(error)) from None
        self.write(done.stdout)
        self.stderr.write(done.stderr.decode("utf-8", "replace"))
        return done.returncode


def make_printer(output_format: str, hex_output: bool, value_only: bool = False) -> Printer:
    if output_format == "protobuf":
        raise CLIError(
            "protobuf output is not supported by this client (use json)", ExitCode.BAD_FEATURE
        )
    try:
        return printer(output_format, hex_output=hex_output, value_only=value_only)
    except ValueError:
        raise CLIError("unsupported output format", ExitCode.BAD_FEATURE) from None


def _is_terminal(stream: IO[bytes]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


@contextlib.contextmanager
def interruptible() -> Iterator[None]:
    """Turn SIGINT and SIGTERM into :class:`Interrupted` while the block runs, so that
    long-running commands stop cleanly (release their lock, resign, close the client)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, frame: FrameType | None) -> None:
        raise Interrupted(signum)

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def wait(seconds: float) -> None:
    """Sleep, waking up for signals."""
    threading.Event().wait(seconds)
