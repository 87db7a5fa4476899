"""A randomized client workload for fault scenarios, and the checks run on it afterwards.

``Workload`` runs a few client threads doing reads, writes and compare-and-swaps on a
few keys (every value unique), recording a :class:`History`, plus one watcher thread
that watches the keys' prefix from the revision the run started at. After the fault,
``finish()`` stops the clients, reads every key once more (so a lost acknowledged write
contradicts the history), lets the watcher catch up with the last revision of the
prefix and reads the prefix's whole history once more with a fresh watch (unless the
scenario compacts it away: ``watch_reference=False``). ``Report`` holds what the scenario
asserts on, and prints the figures; ``check_common`` asserts what every scenario must.

Also here: ``SendCounter`` (how many requests a client put on the wire) and the
recognisers of two known etcd bugs, ``recognise_stale_reads_after_resume`` and
``recognise_diverged_members``.
"""

from __future__ import annotations

import collections
import itertools
import math
import random
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest

import etcd
from etcd.testing import EtcdCluster

from .history import CAS, OK, READ, UNKNOWN, WRITE, History, Operation
from .linearizability import CheckResult, check_history

__all__ = [
    "Ack",
    "KnownServerBug",
    "Report",
    "SendCounter",
    "WatchedEvent",
    "Workload",
    "check_common",
    "known_buggy_release",
    "ready",
    "recognise_diverged_members",
    "recognise_stale_reads_after_resume",
]

CLIENTS = 4
KEYS = 3
CALL_TIMEOUT = 2.0
CONNECT_TIMEOUT = 0.5
MAX_OVERSHOOT = 1.0
_JOIN_TIMEOUT = 30.0
_CATCH_UP_TIMEOUT = 20.0
_FINAL_TIMEOUT = 10.0


@dataclass(frozen=True)
class Ack:
    """An acknowledged mutation: the revision the server said it committed at."""

    revision: int
    key: str
    value: str
    process: int


@dataclass(frozen=True)
class WatchedEvent:
    revision: int
    key: str
    value: str
    type: str


@dataclass(frozen=True)
class ReadInfo:
    """Who served a read, and at which store revision."""

    member_id: int
    revision: int


@dataclass(frozen=True)
class Call:
    process: int
    kind: str
    started: float
    duration: float
    error: str | None


@dataclass
class Report:
    """The outcome of a run, and the checks' findings."""

    seed: int
    ops: list[Operation]
    counts: dict[str, int]
    result: CheckResult
    calls: list[Call]
    call_timeout: float
    acks: list[Ack]
    watched: list[WatchedEvent]
    reference: list[WatchedEvent] | None  # None: not re-read (the scenario compacted it)
    watch_errors: list[str]
    watch_problems: list[str] = field(default_factory=list)
    faults: list[tuple[float, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    #: What explains the watch problems, if they are a known server bug.
    known_bug: KnownServerBug | None = None

    @property
    def max_duration(self) -> float:
        return max((call.duration for call in self.calls), default=0.0)

    @property
    def overshoot(self) -> float:
        return max(0.0, self.max_duration - self.call_timeout)

    def slowest(self) -> Call | None:
        return max(self.calls, key=lambda call: call.duration, default=None)

    def recovery_after(self, moment: float) -> float | None:
        """Seconds from ``moment`` until a mutation invoked after it was acknowledged."""
        done = [
            op.returned - moment
            for op in self.ops
            if op.outcome == OK and op.kind != READ and op.invoked >= moment
        ]
        return min(done) if done else None

    def longest_gap(self) -> float:
        """The longest time no client call succeeded, during the run."""
        ends = sorted(op.returned for op in self.ops if op.outcome == OK and op.process != "final")
        return max((b - a for a, b in itertools.pairwise(ends)), default=0.0)

    def figures(self, name: str, started: float) -> str:
        slowest = self.slowest()
        checking = sum(r.seconds for r in self.result.keys.values())
        lines = [
            f"\n[{name}] seed {self.seed}: {len(self.ops)} ops ({self.counts[OK]} ok, "
            f"{self.counts['fail']} failed, {self.counts[UNKNOWN]} unknown), "
            f"{len(self.acks)} acknowledged mutations",
            f"  faults injected ({len(self.faults)}): "
            + "; ".join(f"{at - started:+.2f}s {what}" for at, what in self.faults),
            f"  max call duration {self.max_duration:.3f}s of {self.call_timeout}s "
            f"(overshoot {self.overshoot:.3f}s, {MAX_OVERSHOOT}s allowed)"
            + (f", slowest: {slowest.kind} by p{slowest.process}" if slowest else ""),
            f"  longest stretch without a successful call {self.longest_gap():.3f}s",
            f"  watch: {len(self.watched)} events seen, "
            + (
                "the prefix's history not re-read (compacted)"
                if self.reference is None
                else f"{len(self.reference)} in the prefix's history"
            )
            + f", errors: {self.watch_errors or 'none'}",
            f"  linearizability: {self.result.verdict} "
            f"({self.result.steps} steps, {checking:.3f}s)",
        ]
        lines.extend(f"  {note}" for note in self.notes)
        return "\n".join(lines)


def _decode(kvs: Sequence[etcd.KeyValue]) -> str | None:
    return kvs[0].value.decode() if kvs else None


class Workload:
    """Client threads and a watcher against ``endpoints``; see the module's docstring."""

    def __init__(
        self,
        endpoints: Sequence[str],
        prefix: str,
        *,
        seed: int | None = None,
        clients: int = CLIENTS,
        call_timeout: float = CALL_TIMEOUT,
        client_options: dict[str, Any] | None = None,
        final_endpoints: Sequence[str] | None = None,
        duty_cycle: tuple[float, float] | None = None,
        on_client: Callable[[int, etcd.Client], None] | None = None,
        extra_keys: Sequence[str] = (),
        watch_reference: bool = True,
    ) -> None:
        self.endpoints = list(endpoints)
        self.final_endpoints = list(final_endpoints or endpoints)
        self.prefix = prefix
        self.keys = [f"{prefix}k{i}" for i in range(KEYS)]
        self.extra_keys = list(extra_keys)  # read at the end too; written by extra threads
        self.seed = random.randrange(1 << 30) if seed is None else seed
        self.clients = clients
        self.call_timeout = call_timeout
        self.client_options = dict(client_options or {})
        self.duty_cycle = duty_cycle
        self.on_client = on_client
        self.watch_reference = watch_reference
        self.history = History()
        self.stop = threading.Event()
        self.faults: list[tuple[float, str]] = []
        self._lock = threading.Lock()
        self._calls: list[Call] = []
        self._acks: list[Ack] = []
        self.reads: dict[int, ReadInfo] = {}
        self._watched: list[WatchedEvent] = []
        self._watch_errors: list[str] = []
        self._watch_target: int | None = None
        self._watch_deadline = math.inf
        self._threads: list[threading.Thread] = []
        self.start_revision = 0
        self.started = 0.0

    # --- running -------------------------------------------------------------------------

    def client(self, endpoints: Sequence[str] | None = None, **options: Any) -> etcd.Client:
        kwargs: dict[str, Any] = {
            "timeout": self.call_timeout,
            "connect_timeout": CONNECT_TIMEOUT,
            **self.client_options,
            **options,
        }
        return etcd.Client(endpoints=list(endpoints or self.endpoints), **kwargs)

    def start(self) -> None:
        with self.client(self.final_endpoints, timeout=_FINAL_TIMEOUT) as setup:
            self.start_revision = setup.range(self.keys[0]).header.revision + 1
        self.started = time.monotonic()
        self._threads = [
            threading.Thread(target=self._worker, args=(n,), name=f"faults-client-{n}")
            for n in range(self.clients)
        ]
        self._threads.append(threading.Thread(target=self._watcher, name="faults-watcher"))
        for thread in self._threads:
            thread.start()

    def fault(self, what: str) -> float:
        """Note a fault injected now; returns the time."""
        now = time.monotonic()
        self.faults.append((now, what))
        return now

    def extra_thread(self, target: Callable[[], None], name: str) -> None:
        """Run ``target`` alongside the clients (it should stop on ``self.stop``)."""
        thread = threading.Thread(target=target, name=name)
        self._threads.insert(0, thread)
        thread.start()

    def watched_revision(self) -> int:
        """The revision of the last event the watcher received (0: none yet)."""
        with self._lock:
            return self._watched[-1].revision if self._watched else 0

    def record_call(self, process: int, kind: str, started: float, error: str | None) -> None:
        with self._lock:
            self._calls.append(Call(process, kind, started, time.monotonic() - started, error))

    def _active(self, number: int) -> bool:
        if self.duty_cycle is None:
            return True
        on, off = self.duty_cycle
        period = on + off
        phase = (time.monotonic() - self.started + number * period / self.clients) % period
        return phase < on

    def _worker(self, number: int) -> None:
        rng = random.Random(self.seed + number)
        seen: dict[str, str | None] = dict.fromkeys(self.keys)
        history = self.history
        with self.client() as client:
            if self.on_client is not None:
                self.on_client(number, client)
            sequence = 0
            while not self.stop.is_set():
                if not self._active(number):
                    self.stop.wait(0.05)
                    continue
                key = rng.choice(self.keys)
                kind = rng.choice((READ, WRITE, CAS))
                sequence += 1
                value = f"c{number}-{sequence}"
                started = time.monotonic()
                error: str | None = None
                try:
                    if kind == READ:
                        with history.record(number, READ, key) as op:
                            response = client.range(key)
                            op.output = _decode(response.kvs)
                        header = response.header
                        self.reads[op.op.index] = ReadInfo(header.member_id, header.revision)
                        seen[key] = op.output
                    elif kind == WRITE:
                        with history.record(number, WRITE, key, value):
                            revision = client.put(key, value).header.revision
                        self._ack(revision, key, value, number)
                    else:
                        expected = seen[key]
                        compare = (
                            etcd.Compare.version(key, "==", 0)
                            if expected is None
                            else etcd.Compare.value(key, "==", expected)
                        )
                        with history.record(number, CAS, key, (expected, value)) as op:
                            answer = client.txn([compare], [etcd.Op.put(key, value)], [])
                            op.output = answer.succeeded
                        if answer.succeeded:
                            seen[key] = value
                            self._ack(answer.header.revision, key, value, number)
                except etcd.EtcdException as failure:
                    error = f"{type(failure).__name__}: {failure}"
                finally:
                    self.record_call(number, kind, started, error)
                if error is not None:
                    time.sleep(0.01)  # recorded as failed or unknown; do not spin on errors

    def _ack(self, revision: int, key: str, value: str, process: int) -> None:
        with self._lock:
            self._acks.append(Ack(revision, key, value, process))

    def _watcher(self) -> None:
        with self.client() as client:
            watch = client.watch_prefix(self.prefix, start_revision=self.start_revision)
            try:
                while True:
                    with self._lock:
                        target = self._watch_target
                        last = self._watched[-1].revision if self._watched else 0
                    if target is not None and last >= target:
                        return
                    if time.monotonic() > self._watch_deadline:
                        self._watch_errors.append(f"did not reach revision {target}")
                        return
                    try:
                        response = watch.next_response(0.2)
                    except etcd.EtcdWatchTimedOut:
                        continue
                    except etcd.EtcdException as failure:
                        self._watch_errors.append(f"{type(failure).__name__}: {failure}")
                        return
                    except StopIteration:
                        self._watch_errors.append("the watch ended")
                        return
                    with self._lock:
                        self._watched.extend(_watched(event) for event in response.events)
            finally:
                watch.cancel()

    # --- finishing -----------------------------------------------------------------------

    def finish(self, wait_ready: Callable[[], object] | None = None) -> Report:
        """Stop, read every key once more, let the watcher catch up, and check."""
        self.stop.set()
        workers = [t for t in self._threads if t.name != "faults-watcher"]
        for thread in workers:
            thread.join(_JOIN_TIMEOUT)
        hung = [thread.name for thread in workers if thread.is_alive()]
        assert not hung, f"client threads hung: {hung}"
        if wait_ready is not None:
            wait_ready()
        target = self._final_reads()
        with self._lock:
            self._watch_target = target
            self._watch_deadline = time.monotonic() + _CATCH_UP_TIMEOUT
        for thread in self._threads:
            thread.join(_JOIN_TIMEOUT)
        assert not any(thread.is_alive() for thread in self._threads), "the watcher hung"
        reference = self._reference(target) if self.watch_reference else None
        ops = self.history.operations()
        with self._lock:
            report = Report(
                seed=self.seed,
                ops=ops,
                counts=self.history.counts(),
                result=check_history(ops),
                calls=list(self._calls),
                call_timeout=self.call_timeout,
                acks=sorted(self._acks, key=lambda ack: ack.revision),
                watched=list(self._watched),
                reference=reference,
                watch_errors=list(self._watch_errors),
                faults=list(self.faults),
            )
        report.watch_problems = watch_problems(report)
        if report.watch_problems and len(self.final_endpoints) > 1:
            try:
                histories, version = self.member_histories()
            except (etcd.EtcdException, AssertionError) as failure:
                # The watch problems then stand unexplained, as they are.
                report.notes.append(f"the members' own histories could not be read: {failure}")
            else:
                report.known_bug = recognise_diverged_members(
                    report.watched, report.acks, histories, version
                )
        return report

    def _final_reads(self) -> int:
        """Read every key (retrying until one read succeeds); return the prefix's last
        revision."""
        deadline = time.monotonic() + _CATCH_UP_TIMEOUT
        with self.client(self.final_endpoints, timeout=_FINAL_TIMEOUT) as direct:
            for key in self.keys + self.extra_keys:
                while True:
                    try:
                        with self.history.record("final", READ, key) as op:
                            op.output = _decode(direct.range(key).kvs)
                        break
                    except etcd.EtcdException:
                        if time.monotonic() > deadline:
                            raise
                        time.sleep(0.2)
            return self._last_revision(direct)

    def _last_revision(self, client: etcd.Client) -> int:
        """The revision of the prefix's last change, as ``client``'s member reads it."""
        kvs = client.range(self.prefix, prefix=True).kvs
        return max((kv.mod_revision for kv in kvs), default=self.start_revision - 1)

    def _reference(self, target: int) -> list[WatchedEvent]:
        """The prefix's history from the start revision, read with a fresh watch."""
        with self.client(self.final_endpoints, timeout=_FINAL_TIMEOUT) as fresh:
            return self._history(fresh, target)

    def member_histories(self) -> tuple[dict[str, list[WatchedEvent]], str]:
        """Each member's own history of the prefix (a client pinned to each final
        endpoint), and the server version of the first."""
        histories: dict[str, list[WatchedEvent]] = {}
        version = ""
        for endpoint in self.final_endpoints:
            with self.client([endpoint], timeout=_FINAL_TIMEOUT) as pinned:
                version = version or pinned.status(endpoint).version
                histories[endpoint] = self._history(pinned, self._last_revision(pinned))
        return histories, version

    def _history(self, client: etcd.Client, target: int) -> list[WatchedEvent]:
        """The prefix's events from the start revision up to ``target``, as ``client``'s
        member gives them to a new watch."""
        events: list[WatchedEvent] = []
        if target < self.start_revision:
            return events
        deadline = time.monotonic() + _CATCH_UP_TIMEOUT
        with client.watch_prefix(self.prefix, start_revision=self.start_revision) as watch:
            while not events or events[-1].revision < target:
                remaining = deadline - time.monotonic()
                assert remaining > 0, f"the fresh watch did not reach revision {target}"
                try:
                    response = watch.next_response(remaining)
                except etcd.EtcdWatchTimedOut:
                    continue
                events.extend(_watched(event) for event in response.events)
        return events


def _watched(event: etcd.Event) -> WatchedEvent:
    return WatchedEvent(event.revision, event.key.decode(), event.value.decode(), event.type.name)


def watch_problems(report: Report) -> list[str]:
    """Everything wrong with what the watcher saw: out of order or repeated revisions,
    a difference from the prefix's history, an acknowledged mutation missing."""
    problems: list[str] = []
    watched = report.watched
    seen_pairs: set[tuple[int, str]] = set()
    # Every transaction of the workload changes one key: one event per revision.
    for before, after in itertools.pairwise(watched):
        if after.revision <= before.revision:
            problems.append(f"revision {after.revision} after {before.revision}")
    for event in watched:
        pair = (event.revision, event.key)
        if pair in seen_pairs:
            problems.append(f"duplicate event {event}")
        seen_pairs.add(pair)
    if report.reference is not None and watched != report.reference:
        mismatch = next(
            (
                index
                for index, (a, b) in enumerate(zip(watched, report.reference, strict=False))
                if a != b
            ),
            min(len(watched), len(report.reference)),
        )
        problems.append(
            f"the watcher's {len(watched)} events differ from the prefix's history "
            f"({len(report.reference)} events) at index {mismatch}: "
            f"saw {watched[mismatch : mismatch + 3]}, "
            f"history has {report.reference[mismatch : mismatch + 3]}"
        )
    by_revision: dict[int, list[WatchedEvent]] = {}
    for event in watched:
        by_revision.setdefault(event.revision, []).append(event)
    for ack in report.acks:
        matching = [
            e for e in by_revision.get(ack.revision, []) if (e.key, e.value) == (ack.key, ack.value)
        ]
        if len(matching) != 1:
            problems.append(
                f"acknowledged {ack} seen {len(matching)} times by the watcher "
                f"(events at that revision: {by_revision.get(ack.revision, [])})"
            )
    revisions = [ack.revision for ack in report.acks]
    if len(set(revisions)) != len(revisions):
        problems.append("two acknowledged mutations share a revision")
    return problems[:20]


# --- what every scenario asserts ---------------------------------------------------------


def ready(cluster: EtcdCluster) -> Callable[[], None]:
    """Wait until every running member is healthy and one leads."""

    def wait() -> None:
        cluster.wait_healthy()
        cluster.leader(timeout=15)

    return wait


def check_common(report: Report, name: str, started: float, *, linearizable: bool = True) -> None:
    """Print the figures, then assert the properties every scenario has."""
    print(report.figures(name, started))
    print(report.result.summary())
    assert report.counts["pending"] == 0
    assert report.counts[OK] > 50, "too few operations succeeded for the check to mean much"
    assert not report.watch_errors, f"the watch failed: {report.watch_errors}"
    if report.watch_problems and report.known_bug is not None:
        print("\n".join(report.watch_problems))
        print(report.known_bug.describe())
        pytest.xfail(
            f"known etcd {report.known_bug.version} server bug: {report.known_bug.name} "
            f"(seed {report.seed})"
        )
    assert not report.watch_problems, "\n".join(report.watch_problems)
    slowest = report.slowest()
    assert report.overshoot <= MAX_OVERSHOOT, (
        f"a call overran its {report.call_timeout}s timeout by {report.overshoot:.3f}s: {slowest}"
    )
    if linearizable:
        assert report.result.ok, report.result.summary()


# --- counting what goes on the wire ------------------------------------------------------


class SendCounter:
    """Counts the requests ``client`` puts on the wire, per gRPC method path.

    Each attempt of a call that reaches a member counts once (the transport looks up the
    method's callable once per attempt, after connecting); an attempt that failed before
    a connection was made does not. The probes the transport sends to check a connection
    are not counted.
    """

    def __init__(self, client: etcd.Client, methods: Iterable[str]) -> None:
        self._paths = {self._path(name) for name in methods}
        self._lock = threading.Lock()
        self._sent: collections.Counter[str] = collections.Counter()
        transport = client._transport
        original = transport._callable

        def counted(endpoint: Any, method: Any) -> Any:
            if method.path in self._paths:
                with self._lock:
                    self._sent[method.path] += 1
            return original(endpoint, method)

        transport._callable = counted  # type: ignore[method-assign]

    @staticmethod
    def _path(name: str) -> str:
        """``"KV.Put"`` -> ``"/etcdserverpb.KV/Put"``."""
        service, _, method = name.partition(".")
        return f"/etcdserverpb.{service}/{method}"

    def sent(self, name: str | None = None) -> int:
        """Requests sent so far: of method ``name`` (``"KV.Put"``), or of all counted."""
        with self._lock:
            if name is None:
                return sum(self._sent.values())
            return self._sent[self._path(name)]


# --- known server bugs -------------------------------------------------------------------

STALE_READS_AFTER_RESUME = "stale reads from a paused-then-resumed old leader"
DIVERGED_MEMBERS = "members whose histories diverged after a crash (writes applied again)"
_VERSION = re.compile(r"^v?(\d+)\.(\d+)\.(\d+)")


def known_buggy_release(version: str) -> bool:
    """Whether etcd ``version`` is one the suite knows for two bugs: stale linearizable
    reads from an old leader frozen (SIGSTOP) beyond the election timeout and then
    continued, and a member killed and restarted that applies its last writes again, so
    that its revisions no longer match the other members'.

    Both seen on 3.5.1; the reliability page names the 3.5 releases before 3.5.3 for
    them. Any other version, or one that cannot be parsed, is not excused.
    """
    match = _VERSION.match(version.strip())
    if match is None:
        return False
    numbers = tuple(int(part) for part in match.groups())
    return (3, 5, 0) <= numbers < (3, 5, 3)


@dataclass(frozen=True)
class KnownServerBug:
    """A violation recognised as a known server bug: what, on which version, and the
    operations that are its symptom (without them the history is linearizable)."""

    name: str
    version: str
    ops: tuple[Operation, ...] = ()
    #: What shows the bug when it is not a set of operations.
    evidence: str = ""

    def describe(self, limit: int = 5) -> str:
        shown = "; ".join(op.describe() for op in self.ops[:limit])
        more = f" (and {len(self.ops) - limit} more)" if len(self.ops) > limit else ""
        detail = "; ".join(part for part in (self.evidence, shown + more) if part)
        return f"KNOWN SERVER BUG (etcd {self.version}): {self.name}: {detail}"


def recognise_stale_reads_after_resume(
    ops: Sequence[Operation],
    reads: Mapping[int, ReadInfo],
    *,
    member_id: int,
    resumed: float,
    version: str,
    result: CheckResult | None = None,
) -> KnownServerBug | None:
    """Whether a non-linearizable history is explained by stale reads from an old leader
    that was frozen and then continued, on a server version known to serve them.

    ``reads`` tells which member served each read (by operation index), ``member_id`` is
    the frozen member and ``resumed`` when it was continued; ``result`` is the history's
    check, if already made. Returns ``None`` (the violation is not excused) when the
    history is linearizable, when the version is not known for this bug, when no read
    was served by that member after it was continued, or when the history is still not
    linearizable without those reads.
    """
    if not known_buggy_release(version):
        return None
    suspects = [
        op
        for op in ops
        if op.kind == READ
        and op.outcome == OK
        and op.index in reads
        and reads[op.index].member_id == member_id
        and op.returned >= resumed
    ]
    if not suspects:
        return None
    if (result if result is not None else check_history(list(ops))).ok:
        return None
    excluded = {op.index for op in suspects}
    if not check_history([op for op in ops if op.index not in excluded]).ok:
        return None
    return KnownServerBug(STALE_READS_AFTER_RESUME, version, tuple(suspects))


def recognise_diverged_members(
    watched: Sequence[WatchedEvent],
    acks: Sequence[Ack],
    member_histories: Mapping[str, Sequence[WatchedEvent]],
    version: str,
) -> KnownServerBug | None:
    """Whether the watch problems of a run are explained by members whose histories of
    the prefix disagree, on a server version known to apply writes again after a crash.

    ``member_histories`` is each member's own history of the prefix (by endpoint). The
    members of one cluster must record every change at the same revision: a change
    recorded at two revisions is the server's fault, whatever the client did. Even then
    the client is excused only if it relayed faithfully: the watcher's revisions rise,
    each event it delivered is one a member recorded at that revision, it saw every
    change some member recorded, and each acknowledged mutation stands in some member's
    history at the revision it was acknowledged with. Returns ``None`` otherwise.
    """
    if not known_buggy_release(version):
        return None
    revisions: dict[tuple[str, str, str], set[int]] = collections.defaultdict(set)
    for history in member_histories.values():
        for event in history:
            revisions[(event.key, event.value, event.type)].add(event.revision)
    diverged = sorted(
        (change, sorted(at)) for change, at in revisions.items() if len(at) > 1 and change[1]
    )
    if not diverged:
        return None
    recorded = {event for history in member_histories.values() for event in history}
    rising = all(a.revision < b.revision for a, b in itertools.pairwise(watched))
    relayed = all(event in recorded for event in watched)
    complete = set(revisions) <= {(event.key, event.value, event.type) for event in watched}
    recorded_writes = {(event.revision, event.key, event.value) for event in recorded}
    acks_stand = all((ack.revision, ack.key, ack.value) in recorded_writes for ack in acks)
    if not (rising and relayed and complete and acks_stand):
        return None
    (key, value, _), at = diverged[0]
    evidence = (
        f"{len(diverged)} changes recorded at different revisions by different members, "
        f"the first {key}={value} at revisions {at}"
    )
    return KnownServerBug(DIVERGED_MEMBERS, version, evidence=evidence)
