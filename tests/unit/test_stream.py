"""What a long-lived stream does after a failure: the pure rules, then the supervisor that
applies them, driven through scripted streams instead of a server."""

from __future__ import annotations

import logging
import threading

import grpc
import pytest

from etcd import RetryPolicy
from etcd._core import exceptions as exc
from etcd._core.config import ClientConfig, parse_endpoint
from etcd._core.stream import (
    StreamFailure,
    classify_failure,
    failure_log_level,
    token_may_be_stale,
)
from etcd._sync.io import Condition
from etcd._sync.stream import Reopen, StreamSupervisor
from etcd._sync.transport import Transport
from etcd._wire import methods

log = logging.getLogger("tests.stream")

# --- the rules ----------------------------------------------------------------------------------


def test_a_refused_token_may_be_stale():
    assert token_may_be_stale(exc.EtcdInvalidAuthToken("etcdserver: invalid auth token"))
    assert token_may_be_stale(exc.EtcdAuthRevisionOld("etcdserver: revision of auth store is old"))
    assert not token_may_be_stale(exc.EtcdAuthFailed("etcdserver: authentication failed"))
    assert not token_may_be_stale(exc.EtcdPermissionDenied("etcdserver: permission denied"))
    assert not token_may_be_stale(exc.EtcdUnavailable("etcdserver: no leader"))


def test_a_stale_token_means_logging_in_again():
    error = exc.EtcdInvalidAuthToken("etcdserver: invalid auth token")
    assert classify_failure(error) is StreamFailure.REAUTHENTICATE


def test_a_closed_or_forked_client_is_final_for_every_stream():
    assert classify_failure(exc.EtcdClientClosed("closed")) is StreamFailure.FINAL
    assert classify_failure(exc.EtcdForkedClient("forked")) is StreamFailure.FINAL


def test_each_kind_of_stream_adds_its_own_final_errors():
    denied = exc.EtcdPermissionDenied("etcdserver: permission denied")
    assert classify_failure(denied) is StreamFailure.RESUME
    assert classify_failure(denied, (exc.EtcdPermissionDenied,)) is StreamFailure.FINAL


def test_other_failures_resume():
    assert classify_failure(exc.EtcdUnavailable("unavailable")) is StreamFailure.RESUME
    assert classify_failure(exc.EtcdTimeout("timed out")) is StreamFailure.RESUME


def test_a_few_failures_in_a_row_are_routine_more_deserve_a_warning():
    assert [failure_log_level(n) for n in (1, 2, 3)] == [logging.INFO] * 3
    assert failure_log_level(4) == logging.WARNING
    assert failure_log_level(50) == logging.WARNING


# --- the supervisor -----------------------------------------------------------------------------


class FakeRpcError(grpc.RpcError):  # type: ignore[misc]
    def __init__(self, code, details):
        super().__init__(details)
        self._code = code
        self._details = details

    def code(self):
        return self._code

    def details(self):
        return self._details


class FakeCall:
    """A stream that yields ``messages``, then raises ``error`` or ends; with ``hold``, it
    waits until cancelled instead, as an open stream does."""

    def __init__(self, messages=(), error=None, hold=False):
        self.messages = list(messages)
        self.error = error
        self.hold = hold
        self.holding = threading.Event()
        self.cancelled = threading.Event()

    def __iter__(self):
        yield from self.messages
        if self.hold:
            self.holding.set()
            assert self.cancelled.wait(5)
            raise FakeRpcError(grpc.StatusCode.CANCELLED, "cancelled by the client")
        if self.error is not None:
            raise self.error

    def cancel(self):
        self.cancelled.set()


class ScriptedTransport(Transport):
    """Opens the scripted streams in turn (an exception in the script is raised instead);
    after the last one, the client is closed."""

    def __init__(self, *script, username=None):
        endpoints = (parse_endpoint("127.0.0.1:23791"), parse_endpoint("127.0.0.1:23792"))
        config = ClientConfig(endpoints=endpoints, username=username, password="secret")
        super().__init__(config, RetryPolicy(base_delay=0.001, max_delay=0.001, jitter=0))
        self.script = list(script)
        self.opened = []
        self.failures = []

    def open_stream(self, method, request, *, timeout):
        self.opened.append(str(self.current_endpoint))
        if not self.script:
            raise exc.EtcdClientClosed("the client is closed")
        step = self.script.pop(0)
        if isinstance(step, BaseException):
            raise step
        return step, self.current_endpoint

    def note_failure(self, endpoint, code, details, *, pinned, operation_id=None):
        self.failures.append((code, details))
        super().note_failure(endpoint, code, details, pinned=pinned, operation_id=operation_id)


class Owner:
    def __init__(self):
        self.condition = Condition()
        self.messages = []
        self.failed = []
        self.work = True

    def has_work(self):
        return self.work

    def requests_for_new_stream(self):
        return iter(())

    def stream_opened(self, call):
        pass

    def on_message(self, message, endpoint):
        if isinstance(message, BaseException):
            raise message
        self.messages.append(message)

    def stream_closed(self):
        pass

    def fail_all(self, error):
        self.failed.append(error)
        self.work = False


def supervise(transport, owner=None, final_errors=()):
    owner = owner or Owner()
    supervisor = StreamSupervisor(
        transport,
        owner,
        owner.condition,
        method=methods.WATCH_WATCH,
        final_errors=final_errors,
        name="test stream",
        worker_name="test-stream",
        log=log,
    )
    with owner.condition:
        supervisor.start()
        worker = supervisor._worker
    return supervisor, owner, worker


def run(transport, owner=None, final_errors=()):
    """Serve the script to its end (the client closing), and return the owner."""
    _, owner, worker = supervise(transport, owner, final_errors)
    worker.join(5)
    assert not worker.is_alive()
    assert isinstance(owner.failed[-1], exc.EtcdClientClosed)
    return owner


def test_a_stream_that_breaks_is_opened_again_on_another_member():
    unavailable = FakeRpcError(grpc.StatusCode.UNAVAILABLE, "Socket closed")
    transport = ScriptedTransport(FakeCall(["a"], unavailable), FakeCall(["b"]))
    owner = run(transport)
    assert owner.messages == ["a", "b"]
    assert transport.opened[:2] == ["127.0.0.1:23791", "127.0.0.1:23792"]
    assert transport.failures == [("UNAVAILABLE", "Socket closed")]


def test_a_stale_token_is_dropped_before_the_stream_is_opened_again():
    stale = FakeRpcError(grpc.StatusCode.UNAUTHENTICATED, "etcdserver: invalid auth token")
    transport = ScriptedTransport(FakeCall(error=stale), FakeCall(["a"]), username="user")
    transport.set_token("expired")
    owner = run(transport)
    assert transport._token is None
    assert owner.messages == ["a"]


def test_a_final_error_fails_everything_waiting_and_ends_the_task():
    denied = FakeRpcError(grpc.StatusCode.PERMISSION_DENIED, "etcdserver: permission denied")
    transport = ScriptedTransport(FakeCall(["a"], denied), FakeCall(["never"]))
    _, owner, worker = supervise(transport, final_errors=(exc.EtcdPermissionDenied,))
    worker.join(5)
    assert [type(error) for error in owner.failed] == [exc.EtcdPermissionDenied]
    assert owner.messages == ["a"]
    assert len(transport.opened) == 1


def test_a_message_may_ask_for_a_new_stream_elsewhere_or_with_a_new_token():
    elsewhere = Reopen("etcdserver: no leader", stale_token=False)
    relog = Reopen("permission denied; logging in again", stale_token=True)
    transport = ScriptedTransport(FakeCall([elsewhere]), FakeCall([relog]), FakeCall(["a"]))
    transport.set_token("old")
    owner = run(transport)
    assert transport.failures == [("UNAVAILABLE", "etcdserver: no leader")]
    assert transport._token is None
    assert owner.messages == ["a"]


def test_an_idle_stream_cut_is_no_failure_and_returning_work_reopens_it_at_once():
    first = FakeCall(hold=True)
    transport = ScriptedTransport(first, FakeCall(["a"]))
    supervisor, owner, worker = supervise(transport)
    assert first.holding.wait(5)
    with owner.condition:
        supervisor.cut_idle()  # the work stays: as if new work came at once
    worker.join(5)
    assert transport.failures == []
    assert transport.opened[:2] == ["127.0.0.1:23791", "127.0.0.1:23791"]
    assert owner.messages == ["a"]


def test_without_work_the_task_ends():
    first = FakeCall(hold=True)
    transport = ScriptedTransport(first)
    supervisor, owner, worker = supervise(transport)
    assert first.holding.wait(5)
    with owner.condition:
        owner.work = False
        supervisor.cut_idle()
    worker.join(5)
    assert not worker.is_alive()
    assert owner.failed == [] and transport.failures == []


def test_a_stalled_stream_counts_against_its_member():
    first = FakeCall(hold=True)
    transport = ScriptedTransport(first, FakeCall(["a"]))
    supervisor, owner, worker = supervise(transport)
    assert first.holding.wait(5)
    with owner.condition:
        supervisor.cut_stalled("the member stopped answering")
    worker.join(5)
    assert transport.failures == [("UNAVAILABLE", "the member stopped answering")]
    assert transport.opened[:2] == ["127.0.0.1:23791", "127.0.0.1:23792"]


def test_closing_stops_a_task_that_waits_between_streams():
    unavailable = FakeRpcError(grpc.StatusCode.UNAVAILABLE, "Socket closed")
    transport = ScriptedTransport(*[FakeCall(error=unavailable)] * 1000)
    transport.retry_policy = RetryPolicy(base_delay=60, max_delay=60, jitter=0)
    supervisor, owner, worker = supervise(transport)
    while not transport.failures:
        threading.Event().wait(0.01)
    with owner.condition:
        owner.work = False
    supervisor.close()
    assert not worker.is_alive()
    assert len(transport.opened) == 1


def test_a_bug_in_the_owner_is_logged_and_fails_everything_waiting(caplog):
    transport = ScriptedTransport(FakeCall([RuntimeError("a bug")]))
    with caplog.at_level(logging.ERROR, logger=log.name):
        _, owner, worker = supervise(transport)
        worker.join(5)
    assert "the test stream thread failed" in caplog.text
    assert len(owner.failed) == 1
    assert "failed unexpectedly: RuntimeError('a bug')" in str(owner.failed[0])


@pytest.mark.parametrize("error", [exc.EtcdClientClosed("closed"), exc.EtcdForkedClient("forked")])
def test_an_unusable_client_fails_everything_waiting(error):
    transport = ScriptedTransport(error)
    _, owner, worker = supervise(transport)
    worker.join(5)
    assert owner.failed == [error]
