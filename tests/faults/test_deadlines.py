"""Deadlines against a member that answers too late (a proxy delays every byte) or not at
all (``SIGSTOP``): every call with ``timeout=1`` ends within its deadline plus the
suite's allowed overshoot (``MAX_OVERSHOOT``), with a typed error.

A call on a connection that was working fails with :class:`etcd.EtcdTimeout` (for a put
or a transaction with ``outcome_unknown`` set: it was sent, and may land). Once a call
timed out, the client no longer trusts the connection and checks it before the next
request; a member that does not answer that check in time fails the call with
:class:`etcd.EtcdConnectionFailed` saying the request was never sent.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest

import etcd
from etcd.testing import EtcdServer

from .proxy import FaultProxy
from .workload import MAX_OVERSHOOT

pytestmark = [pytest.mark.integration, pytest.mark.faults]

TIMEOUT = 1.0
DELAY = 1.5  # each way: no answer can come within TIMEOUT


@dataclass
class Outcome:
    kind: str
    seconds: float
    error: BaseException | None
    result: object = None

    def line(self) -> str:
        if self.error is None:
            shown = repr(self.result) if isinstance(self.result, bool) else "ok"
            return f"{self.kind}: {shown} after {self.seconds:.3f}s"
        unknown = self.error.outcome_unknown if isinstance(self.error, etcd.EtcdException) else None
        return (
            f"{self.kind}: {type(self.error).__name__} after {self.seconds:.3f}s "
            f"(outcome_unknown={unknown})"
        )


def timed(kind: str, call: Callable[[], object]) -> Outcome:
    started = time.monotonic()
    try:
        result = call()
    except etcd.EtcdException as error:
        return Outcome(kind, time.monotonic() - started, error)
    return Outcome(kind, time.monotonic() - started, None, result)


def calls(client: etcd.Client, key: str, tag: str) -> dict[str, Callable[[], object]]:
    return {
        "range": lambda: client.range(key),
        "put": lambda: client.put(key, f"put-{tag}"),
        "txn": lambda: client.txn(
            [etcd.Compare.version(key, "<", 1 << 30)], [etcd.Op.put(key, f"txn-{tag}")], []
        ),
    }


def within_deadline(outcomes: list[Outcome]) -> None:
    for outcome in outcomes:
        assert outcome.seconds <= TIMEOUT + MAX_OVERSHOOT, f"overran: {outcome.line()}"


@pytest.fixture
def key() -> Iterator[str]:
    yield f"deadlines/{uuid.uuid4().hex[:8]}"


@pytest.fixture
def slow_proxy(etcd_server: EtcdServer) -> Iterator[FaultProxy]:
    with FaultProxy(etcd_server.client_port) as proxy:
        yield proxy


def test_calls_to_a_slow_member_end_at_their_deadline(
    etcd_server: EtcdServer, slow_proxy: FaultProxy, key: str
) -> None:
    """Every byte to and from the member is held 1.5 s by the proxy; each call kind
    (range, put, txn, the wait for a watch's creation and for its first event) runs
    with a 1 s timeout on a client whose connection worked a moment before."""
    with contextlib.ExitStack() as stack:
        clients = {
            kind: stack.enter_context(
                etcd.Client(endpoints=[slow_proxy.address], timeout=TIMEOUT, connect_timeout=0.5)
            )
            for kind in ("range", "put", "txn", "watch")
        }
        for client in clients.values():
            client.range(key)  # connected, and known to work
        slow_proxy.delay(DELAY)
        first = [
            timed(kind, calls(clients[kind], key, "1")[kind]) for kind in ("range", "put", "txn")
        ]
        watch = clients["watch"].watch_stream(key)
        stack.callback(watch.cancel)
        first.append(timed("watch created", lambda: watch.wait_created(TIMEOUT)))
        first.append(timed("watch event", lambda: watch.next_response(TIMEOUT)))
        again = [
            timed(kind, calls(clients[kind], key, "2")[kind]) for kind in ("range", "put", "txn")
        ]
        slow_proxy.heal()
        recovered = [timed(kind, calls(clients[kind], key, "3")[kind]) for kind in ("range", "put")]
    with etcd.Client(endpoints=[etcd_server.endpoint], timeout=10) as direct:
        landed = direct.range(key).kvs
        direct.delete_range(key)
    print(
        f"\n[slow member: every byte held {DELAY}s, timeout {TIMEOUT}s, "
        f"{MAX_OVERSHOOT}s overshoot allowed]\n  first calls: "
        + "; ".join(o.line() for o in first)
        + "\n  the same clients again: "
        + "; ".join(o.line() for o in again)
        + "\n  after healing: "
        + "; ".join(o.line() for o in recovered)
        + f"\n  the key in the end: {landed[0].value.decode()!r} at version {landed[0].version}"
        " (of the 2 timed-out mutations with outcome_unknown, "
        f"{landed[0].version - 1} landed)"
    )
    within_deadline(first + again)
    by_kind = {o.kind: o for o in first}
    for kind in ("range", "put", "txn"):
        assert isinstance(by_kind[kind].error, etcd.EtcdTimeout), by_kind[kind].line()
    assert not by_kind["range"].error.outcome_unknown
    assert by_kind["put"].error.outcome_unknown
    assert by_kind["txn"].error.outcome_unknown
    assert by_kind["watch created"].error is None
    assert by_kind["watch created"].result is False
    assert isinstance(by_kind["watch event"].error, etcd.EtcdWatchTimedOut)
    for outcome in again:
        assert isinstance(outcome.error, etcd.EtcdConnectionFailed), outcome.line()
        assert not outcome.error.outcome_unknown, f"never sent, so known: {outcome.line()}"
    assert all(o.error is None for o in recovered), [o.line() for o in recovered]


def test_calls_to_a_paused_member_end_at_their_deadline(etcd_server: EtcdServer, key: str) -> None:
    """The member is frozen (``SIGSTOP``): a client connected before, and a new one,
    each make every call kind with a 1 s timeout."""
    with (
        etcd.Client(endpoints=[etcd_server.endpoint], timeout=TIMEOUT, connect_timeout=0.5) as old,
        etcd.Client(endpoints=[etcd_server.endpoint], timeout=TIMEOUT, connect_timeout=0.5) as new,
    ):
        old.range(key)
        etcd_server.pause()
        try:
            connected = [timed(kind, call) for kind, call in calls(old, key, "old").items()]
            fresh = [timed(kind, call) for kind, call in calls(new, key, "new").items()]
            with new.watch_stream(key) as watch:
                waited = timed("watch created", lambda: watch.wait_created(TIMEOUT))
        finally:
            etcd_server.resume()
        etcd_server.wait_healthy()
        recovered = [timed(kind, call) for kind, call in calls(old, key, "after").items()]
    with etcd.Client(endpoints=[etcd_server.endpoint], timeout=10) as direct:
        direct.delete_range(key)
    print(
        f"\n[paused member, timeout {TIMEOUT}s, {MAX_OVERSHOOT}s overshoot allowed]"
        "\n  connected before the pause: "
        + "; ".join(o.line() for o in connected)
        + "\n  a new client: "
        + "; ".join(o.line() for o in [*fresh, waited])
        + "\n  after resuming: "
        + "; ".join(o.line() for o in recovered)
    )
    within_deadline([*connected, *fresh, waited])
    assert isinstance(connected[0].error, etcd.EtcdTimeout), connected[0].line()
    for outcome in connected + fresh:
        assert isinstance(outcome.error, etcd.EtcdConnectionFailed), outcome.line()
    for outcome in fresh:
        assert not outcome.error.outcome_unknown, outcome.line()
    assert waited.error is None
    assert waited.result is False
    assert all(o.error is None for o in recovered), [o.line() for o in recovered]
