"""The event hub: inline and queued listeners, failures contained, nothing when unused."""

import logging
import threading

import pytest

import etcd
from etcd._core.event_hub import EventHub, Operation, hub_of
from etcd.events import OperationEnded, OperationStarted, Retry


def retry(attempt=1):
    return Retry(
        1, "Range", "http://127.0.0.1:2379", attempt, "UNAVAILABLE", "EtcdUnavailable", 0.1
    )


def test_a_hub_without_listeners_is_inactive():
    hub = EventHub()
    assert not hub.active
    listener = lambda event: None  # noqa: E731
    hub.add(listener, inline=True)
    assert hub.active
    hub.remove(listener)
    assert not hub.active


def test_inline_listeners_are_called_where_the_event_happens():
    hub = EventHub()
    seen = []
    hub.add(lambda event: seen.append((event, threading.current_thread())), inline=True)
    hub.emit(retry())
    assert seen == [(retry(), threading.current_thread())]


def test_queued_listeners_get_every_event_in_order_on_their_own_thread():
    hub = EventHub()
    seen = []
    done = threading.Event()

    def listener(event):
        seen.append((event.attempt, threading.current_thread().name))
        if event.attempt == 50:
            done.set()

    hub.add(listener)
    for attempt in range(1, 51):
        hub.emit(retry(attempt))
    assert done.wait(5)
    hub.close()
    assert [attempt for attempt, _ in seen] == list(range(1, 51))
    assert {name for _, name in seen} == {"etcd-events"}


def test_a_failing_listener_is_logged_once_and_kept(caplog):
    hub = EventHub()
    calls = []

    def broken(event):
        calls.append(event)
        raise RuntimeError("boom")

    hub.add(broken, inline=True)
    with caplog.at_level(logging.ERROR, logger="etcd.events"):
        hub.emit(retry(1))
        hub.emit(retry(2))
    assert len(calls) == 2
    assert len([r for r in caplog.records if "raised" in r.getMessage()]) == 1


def test_a_slow_queued_listener_drops_events_instead_of_blocking():
    hub = EventHub()
    release = threading.Event()
    hub.add(lambda event: release.wait(10))
    for attempt in range(10_050):
        hub.emit(retry(attempt))
    assert hub.dropped >= 40
    release.set()
    hub.close()


def test_an_operation_reports_its_start_and_end():
    hub = EventHub()
    seen = []
    hub.add(seen.append, inline=True)
    with pytest.raises(etcd.EtcdTimeout), Operation(hub, "lock.acquire", "lock.acquire") as op:
        op.attributes["etcd.lock.acquired"] = "false"
        raise etcd.EtcdTimeout("slow")
    started, ended = seen
    assert isinstance(started, OperationStarted) and isinstance(ended, OperationEnded)
    assert started.id == ended.id
    assert ended.error_type == "EtcdTimeout"
    assert ended.attributes == {"etcd.lock.acquired": "false"}
    assert ended.duration >= 0


def test_listeners_must_be_callable():
    with pytest.raises(etcd.EtcdTypeError):
        EventHub().add("print")  # type: ignore[arg-type]


def test_the_hub_of_a_client_is_found_through_views():
    class Transport:
        events = EventHub()

    class Client:
        _transport = Transport()

    class View:
        _client = Client()

    assert hub_of(View()) is Transport.events
    assert hub_of(object()) is None
