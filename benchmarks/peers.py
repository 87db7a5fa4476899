"""One measurement of one client, run inside that client's own virtual environment.

``compare.py`` runs ``python peers.py CLIENT WORKLOAD ENDPOINT PARAMS_JSON`` with the
interpreter of the client's environment (python-etcd3 needs protobuf<4, python-etcd is
also imported as ``etcd``), so this file needs nothing but the standard library and the
client under test. It prints one JSON object: the measurement.

The "bare" clients are the floor: the same RPCs with request bytes encoded by hand and
responses parsed by protobuf, with no client logic at all.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import os
import resource
import statistics
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

VALUE = b"v" * 100
#: Untimed calls before each measurement (a fresh process's first calls pay for
#: connecting and for warming up code paths), at most a tenth of the timed ones.
WARM_UP = 100


def _warm_up_calls(count: int) -> int:
    return max(1, min(WARM_UP, count // 10))


class Unsupported(Exception):
    """The client cannot run this workload."""


# --- the protobuf wire format, by hand (for the floor) ------------------------------------


def _varint(number: int) -> bytes:
    out = bytearray()
    while True:
        low = number & 0x7F
        number >>= 7
        if number:
            out.append(low | 0x80)
        else:
            out.append(low)
            return bytes(out)


def _bytes_field(field: int, data: bytes) -> bytes:
    return _varint(field << 3 | 2) + _varint(len(data)) + data


def _true_field(field: int) -> bytes:
    return _varint(field << 3) + b"\x01"


def _prefix_end(prefix: bytes) -> bytes:
    return prefix[:-1] + bytes([prefix[-1] + 1])


def put_request(key: bytes, value: bytes) -> bytes:
    return _bytes_field(1, key) + _bytes_field(2, value)


def range_request(key: bytes, *, serializable: bool = False, prefix: bool = False) -> bytes:
    body = _bytes_field(1, key)
    if prefix:
        body += _bytes_field(2, _prefix_end(key))
    if serializable:
        body += _true_field(7)
    return body


def watch_create_request(prefix: bytes, start: int) -> bytes:
    create = _bytes_field(1, prefix) + _bytes_field(2, _prefix_end(prefix))
    create += _varint(3 << 3) + _varint(start)
    return _bytes_field(1, create)


# --- adapters: one small shape over every client ---------------------------------------------


class Sync:
    """put, get, serializable get, prefix count, watch; all blocking."""

    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint

    def put(self, key: bytes) -> None:
        raise NotImplementedError

    def get(self, key: bytes, serializable: bool) -> None:
        raise NotImplementedError

    def count(self, prefix: bytes) -> int:
        raise NotImplementedError

    def watch(self, prefix: bytes, start: int, count: int) -> list[bytes]:
        raise Unsupported("no watch")

    def close(self) -> None:
        pass


class Async:
    """The same as coroutines; ``open`` runs on the event loop, before the workload."""

    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint

    async def open(self) -> None:
        pass

    async def put(self, key: bytes) -> None:
        raise NotImplementedError

    async def get(self, key: bytes, serializable: bool) -> None:
        raise NotImplementedError

    async def count(self, prefix: bytes) -> int:
        raise NotImplementedError

    async def watch(self, prefix: bytes, start: int, count: int) -> list[bytes]:
        raise Unsupported("no watch")

    async def close(self) -> None:
        pass


def _split(endpoint: str) -> tuple[str, int]:
    host, _, port = endpoint.rpartition(":")
    return host, int(port)


class OursSync(Sync):
    coalesce = False

    def __init__(self, endpoint: str) -> None:
        import etcd

        self.client = etcd.Client(endpoints=[endpoint], timeout=30, coalesce=self.coalesce)

    def put(self, key: bytes) -> None:
        self.client.put(key, VALUE)

    def get(self, key: bytes, serializable: bool) -> None:
        self.client.range(key, serializable=serializable)

    def count(self, prefix: bytes) -> int:
        return len(self.client.range(prefix, prefix=True).kvs)

    def watch(self, prefix: bytes, start: int, count: int) -> list[bytes]:
        keys: list[bytes] = []
        with self.client.watch_prefix(prefix, start_revision=start) as watch:
            while len(keys) < count:
                keys.extend(event.key for event in watch.next_response(60).events)
        return keys

    def close(self) -> None:
        self.client.close()


class OursAsync(Async):
    coalesce = False

    async def open(self) -> None:
        import etcd

        self.client = etcd.AsyncClient(
            endpoints=[self.endpoint], timeout=30, coalesce=self.coalesce
        )

    async def put(self, key: bytes) -> None:
        await self.client.put(key, VALUE)

    async def get(self, key: bytes, serializable: bool) -> None:
        await self.client.range(key, serializable=serializable)

    async def count(self, prefix: bytes) -> int:
        return len((await self.client.range(prefix, prefix=True)).kvs)

    async def watch(self, prefix: bytes, start: int, count: int) -> list[bytes]:
        keys: list[bytes] = []
        async with self.client.watch_prefix(prefix, start_revision=start) as watch:
            while len(keys) < count:
                keys.extend(event.key for event in (await watch.next_response(60)).events)
        return keys

    async def close(self) -> None:
        await self.client.close()


class OursSyncCoalescing(OursSync):
    coalesce = True


def _instrument(client: Any) -> None:
    """Trace and measure ``client`` as an application would: OpenTelemetry's SDK, spans
    batched to an exporter (one that drops them, so that only the client's cost shows),
    and a meter provider whose reader is never collected during the run."""
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader
    from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

    import etcd.otel

    class Dropping(SpanExporter):
        def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
            return SpanExportResult.SUCCESS

    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(BatchSpanProcessor(Dropping()))
    meter_provider = MeterProvider(metric_readers=[InMemoryMetricReader()])
    etcd.otel.instrument(client, tracer_provider=tracer_provider, meter_provider=meter_provider)


class OursSyncTelemetry(OursSync):
    def __init__(self, endpoint: str) -> None:
        super().__init__(endpoint)
        _instrument(self.client)


class OursAsyncTelemetry(OursAsync):
    async def open(self) -> None:
        await super().open()
        _instrument(self.client)


class OursAsyncCoalescing(OursAsync):
    coalesce = True


def _messages() -> Any:
    # The floor parses answers with protobuf like any client must; the classes are ours
    # only because they are at hand, and carry no client logic.
    return importlib.import_module("etcd._wire.messages")


class BareSync(Sync):
    def __init__(self, endpoint: str) -> None:
        import grpc

        self.pb = _messages()
        self.channel = grpc.insecure_channel(
            endpoint, options=[("grpc.max_receive_message_length", 256 * 1024 * 1024)]
        )
        self._put = self.channel.unary_unary(
            "/etcdserverpb.KV/Put", response_deserializer=self.pb.PutResponse.FromString
        )
        self._range = self.channel.unary_unary(
            "/etcdserverpb.KV/Range", response_deserializer=self.pb.RangeResponse.FromString
        )
        self._watch = self.channel.stream_stream(
            "/etcdserverpb.Watch/Watch", response_deserializer=self.pb.WatchResponse.FromString
        )

    def put(self, key: bytes) -> None:
        self._put(put_request(key, VALUE), timeout=30)

    def get(self, key: bytes, serializable: bool) -> None:
        self._range(range_request(key, serializable=serializable), timeout=30)

    def count(self, prefix: bytes) -> int:
        return len(self._range(range_request(prefix, prefix=True), timeout=30).kvs)

    def watch(self, prefix: bytes, start: int, count: int) -> list[bytes]:
        stop = threading.Event()

        def requests() -> Any:
            yield watch_create_request(prefix, start)
            stop.wait()

        call = self._watch(requests(), timeout=120)
        keys: list[bytes] = []
        for response in call:
            keys.extend(event.kv.key for event in response.events)
            if len(keys) >= count:
                break
        stop.set()
        call.cancel()
        return keys

    def close(self) -> None:
        self.channel.close()


class BareAsync(Async):
    async def open(self) -> None:
        import grpc

        self.pb = _messages()
        self.channel = grpc.aio.insecure_channel(
            self.endpoint, options=[("grpc.max_receive_message_length", 256 * 1024 * 1024)]
        )
        self._put = self.channel.unary_unary(
            "/etcdserverpb.KV/Put", response_deserializer=self.pb.PutResponse.FromString
        )
        self._range = self.channel.unary_unary(
            "/etcdserverpb.KV/Range", response_deserializer=self.pb.RangeResponse.FromString
        )
        self._watch = self.channel.stream_stream(
            "/etcdserverpb.Watch/Watch", response_deserializer=self.pb.WatchResponse.FromString
        )

    async def put(self, key: bytes) -> None:
        await self._put(put_request(key, VALUE), timeout=30)

    async def get(self, key: bytes, serializable: bool) -> None:
        await self._range(range_request(key, serializable=serializable), timeout=30)

    async def count(self, prefix: bytes) -> int:
        return len((await self._range(range_request(prefix, prefix=True), timeout=30)).kvs)

    async def watch(self, prefix: bytes, start: int, count: int) -> list[bytes]:
        call = self._watch(timeout=120)
        await call.write(watch_create_request(prefix, start))
        keys: list[bytes] = []
        async for response in call:
            keys.extend(event.kv.key for event in response.events)
            if len(keys) >= count:
                break
        call.cancel()
        return keys

    async def close(self) -> None:
        await self.channel.close()


class Etcd3(Sync):
    """python-etcd3."""

    def __init__(self, endpoint: str) -> None:
        import etcd3

        host, port = _split(endpoint)
        self.client = etcd3.client(host=host, port=port, timeout=30)

    def put(self, key: bytes) -> None:
        self.client.put(key, VALUE)

    def get(self, key: bytes, serializable: bool) -> None:
        self.client.get(key, serializable=serializable)

    def count(self, prefix: bytes) -> int:
        return sum(1 for _ in self.client.get_prefix(prefix))

    def watch(self, prefix: bytes, start: int, count: int) -> list[bytes]:
        events, cancel = self.client.watch_prefix(prefix, start_revision=start)
        keys: list[bytes] = []
        for event in events:
            keys.append(event.key)
            if len(keys) >= count:
                break
        cancel()
        return keys

    def close(self) -> None:
        self.client.close()


class Etcd3gw(Sync):
    """etcd3gw (etcd's HTTP/JSON gateway)."""

    def __init__(self, endpoint: str) -> None:
        import etcd3gw

        host, port = _split(endpoint)
        self.client = etcd3gw.client(host=host, port=port, timeout=30)

    def put(self, key: bytes) -> None:
        self.client.put(key, VALUE)

    def get(self, key: bytes, serializable: bool) -> None:
        self.client.get(key, serializable=serializable)

    def count(self, prefix: bytes) -> int:
        return len(self.client.get_prefix(prefix))

    def watch(self, prefix: bytes, start: int, count: int) -> list[bytes]:
        events, cancel = self.client.watch_prefix(prefix, start_revision=start)
        keys: list[bytes] = []
        for event in events:
            key = event["kv"]["key"]
            keys.append(key if isinstance(key, bytes) else key.encode())
            if len(keys) >= count:
                break
        cancel()
        return keys


class PythonEtcd(Sync):
    """python-etcd: the v2 API (served by etcd 3.5 with --enable-v2), its own key space."""

    def __init__(self, endpoint: str) -> None:
        module = importlib.import_module("etcd")  # python-etcd's, in its own environment
        host, port = _split(endpoint)
        self.client = module.Client(host=host, port=port, read_timeout=30)

    def put(self, key: bytes) -> None:
        self.client.write(key.decode(), VALUE.decode())

    def get(self, key: bytes, serializable: bool) -> None:
        self.client.read(key.decode(), quorum=not serializable)

    def count(self, prefix: bytes) -> int:
        result = self.client.read(prefix.decode().rstrip("/"), recursive=True)
        return sum(1 for _ in result.leaves)

    def watch(self, prefix: bytes, start: int, count: int) -> list[bytes]:
        raise Unsupported("v2 watches see the v2 key space only, not the v3 writes")


class Aetcd(Async):
    async def open(self) -> None:
        import aetcd

        host, port = _split(self.endpoint)
        self.client = aetcd.Client(host=host, port=port, timeout=30)
        await self.client.connect()

    async def put(self, key: bytes) -> None:
        await self.client.put(key, VALUE)

    async def get(self, key: bytes, serializable: bool) -> None:
        await self.client.get(key, serializable=serializable)

    async def count(self, prefix: bytes) -> int:
        return len(await self.client.get_prefix(prefix))

    async def watch(self, prefix: bytes, start: int, count: int) -> list[bytes]:
        watch = await self.client.watch_prefix(prefix, start_revision=start)
        keys: list[bytes] = []
        async for event in watch:
            keys.append(event.kv.key)
            if len(keys) >= count:
                break
        await watch.cancel()
        return keys

    async def close(self) -> None:
        await self.client.close()


#: Each client's adapter, and what a program imports to use it (the import row times
#: importing the module and reaching that name, which a lazily importing package defers).
#: What etcd-client imports on first use that its first call needs.
FIRST_CALL_MODULES = (
    "etcd._wire.messages",
    "etcd._wire.methods",
    "etcd._core.config",
    "etcd._core.kv",
    "etcd._core.responses",
)

CLIENTS: dict[str, tuple[type[Sync] | type[Async], str, str]] = {
    "etcd-client": (OursSync, "etcd", "Client"),
    "etcd-client asyncio": (OursAsync, "etcd", "AsyncClient"),
    "etcd-client coalescing": (OursSyncCoalescing, "etcd", "Client"),
    "etcd-client asyncio coalescing": (OursAsyncCoalescing, "etcd", "AsyncClient"),
    "etcd-client otel": (OursSyncTelemetry, "etcd", "Client"),
    "etcd-client asyncio otel": (OursAsyncTelemetry, "etcd", "AsyncClient"),
    "bare grpcio": (BareSync, "etcd._wire.messages", "RangeRequest"),
    "bare grpc.aio": (BareAsync, "etcd._wire.messages", "RangeRequest"),
    "python-etcd3": (Etcd3, "etcd3", "client"),
    "aetcd": (Aetcd, "aetcd", "Client"),
    "etcd3gw": (Etcd3gw, "etcd3gw", "client"),
    "python-etcd": (PythonEtcd, "etcd", "Client"),
}


# --- the workloads ---------------------------------------------------------------------------


def _summary(latencies: list[float], elapsed: float, cpu: float) -> dict[str, float]:
    ordered = sorted(latencies)
    return {
        "ops_per_s": len(ordered) / elapsed,
        "p50_ms": statistics.median(ordered) * 1000,
        "p99_ms": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000,
        "cpu_us_per_op": cpu / len(ordered) * 1e6,
    }


def _operation(client: Any, workload: str) -> Callable[[int], Any]:
    if workload.endswith("put"):
        return lambda i: client.put(b"/bench/kv/%d" % (i % 1000))
    serializable = "serializable" in workload
    return lambda i: client.get(b"/bench/kv/%d" % (i % 1000), serializable)


def run_sync(client: Sync, workload: str, params: dict[str, Any]) -> dict[str, Any]:
    operations = params["operations"]
    if workload == "populate":
        for i in range(1000):
            client.put(b"/bench/range/%04d" % i)
            client.put(b"/bench/kv/%d" % i)
        return {}
    if workload == "range":
        return _timed_sync(lambda i: client.count(b"/bench/range/"), params["ranges"])
    if workload == "watch":
        return _watch_sync(client, params)
    operation = _operation(client, workload)
    if workload.startswith("concurrent"):
        return _threads(operation, operations, params["threads"])
    return _timed_sync(operation, operations)


def _timed_sync(operation: Callable[[int], Any], count: int) -> dict[str, Any]:
    for i in range(_warm_up_calls(count)):
        operation(i)
    latencies = []
    cpu, started = time.process_time(), time.perf_counter()
    for i in range(count):
        begun = time.perf_counter()
        operation(i)
        latencies.append(time.perf_counter() - begun)
    return _summary(latencies, time.perf_counter() - started, time.process_time() - cpu)


def _threads(operation: Callable[[int], Any], count: int, threads: int) -> dict[str, Any]:
    for i in range(_warm_up_calls(count)):
        operation(i)
    latencies: list[float] = []
    share = count // threads

    def work(offset: int) -> None:
        for i in range(offset, offset + share):
            begun = time.perf_counter()
            operation(i)
            latencies.append(time.perf_counter() - begun)

    workers = [threading.Thread(target=work, args=(n * share,)) for n in range(threads)]
    cpu, started = time.process_time(), time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return _summary(latencies, time.perf_counter() - started, time.process_time() - cpu)


def _watch_result(keys: list[bytes], elapsed: float, cpu: float, count: int) -> dict[str, Any]:
    expected = [b"/bench/watch/%06d" % i for i in range(count)]
    return {
        "events_per_s": count / elapsed,
        "cpu_us_per_event": cpu / count * 1e6,
        "complete_and_ordered": keys[:count] == expected,
    }


# Events a client first watches untimed: its connection, its stream and the code on the
# watch path are then ready, and the timed replay measures what each event costs.
WATCH_WARM_UP_EVENTS = 100


def _watch_sync(client: Sync, params: dict[str, Any]) -> dict[str, Any]:
    count = params["events"]
    client.watch(b"/bench/watch/", params["watch_start"], min(WATCH_WARM_UP_EVENTS, count))
    cpu, started = time.process_time(), time.perf_counter()
    keys = client.watch(b"/bench/watch/", params["watch_start"], count)
    elapsed = time.perf_counter() - started
    return _watch_result(keys, elapsed, time.process_time() - cpu, count)


async def run_async(client: Async, workload: str, params: dict[str, Any]) -> dict[str, Any]:
    await client.open()
    try:
        if workload == "range":
            return await _timed_async(lambda i: client.count(b"/bench/range/"), params["ranges"])
        if workload == "watch":
            return await _watch_async(client, params)
        operation = _operation(client, workload)
        if workload.startswith("concurrent"):
            return await _in_flight(operation, params["operations"], params["in_flight"])
        return await _timed_async(operation, params["operations"])
    finally:
        await client.close()


async def _timed_async(operation: Callable[[int], Awaitable[Any]], count: int) -> dict[str, Any]:
    for i in range(_warm_up_calls(count)):
        await operation(i)
    latencies = []
    cpu, started = time.process_time(), time.perf_counter()
    for i in range(count):
        begun = time.perf_counter()
        await operation(i)
        latencies.append(time.perf_counter() - begun)
    return _summary(latencies, time.perf_counter() - started, time.process_time() - cpu)


async def _in_flight(
    operation: Callable[[int], Awaitable[Any]], count: int, in_flight: int
) -> dict[str, Any]:
    for i in range(_warm_up_calls(count)):
        await operation(i)
    latencies: list[float] = []
    share = count // in_flight

    async def work(offset: int) -> None:
        for i in range(offset, offset + share):
            begun = time.perf_counter()
            await operation(i)
            latencies.append(time.perf_counter() - begun)

    cpu, started = time.process_time(), time.perf_counter()
    await asyncio.gather(*(work(n * share) for n in range(in_flight)))
    return _summary(latencies, time.perf_counter() - started, time.process_time() - cpu)


async def _watch_async(client: Async, params: dict[str, Any]) -> dict[str, Any]:
    count = params["events"]
    await client.watch(b"/bench/watch/", params["watch_start"], min(WATCH_WARM_UP_EVENTS, count))
    cpu, started = time.process_time(), time.perf_counter()
    keys = await client.watch(b"/bench/watch/", params["watch_start"], count)
    elapsed = time.perf_counter() - started
    return _watch_result(keys, elapsed, time.process_time() - cpu, count)


def peak_rss_mib() -> float:
    """This process's peak resident memory (Linux's ``ru_maxrss`` survives ``exec``, so it
    would report the parent's peak: ``VmHWM`` is this program's own)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    name, workload, endpoint, raw = sys.argv[1:5]
    params = json.loads(raw)
    adapter, module, attribute = CLIENTS[name]
    if workload == "import":
        began = time.perf_counter()
        imported = importlib.import_module(module)
        getattr(imported, attribute)
        if name.startswith("bare"):
            importlib.import_module("grpc")
        if name.startswith("etcd-client"):
            # Ours builds its message classes, operations and results with the first
            # call; the others build theirs on import. Both are counted, so that the row
            # is the time to a client ready for its first call.
            # A client made as it comes also loads its coalescing module (reads coalesce
            # by default).
            flavour = "_async" if "asyncio" in name else "_sync"
            for first_use in (*FIRST_CALL_MODULES, f"etcd.{flavour}.coalescing"):
                importlib.import_module(first_use)
        elapsed = time.perf_counter() - began
        # Where it came from: compare.py checks that ours is the tree it means to measure.
        print(json.dumps({"import_ms": elapsed * 1000, "module_file": imported.__file__}))
        return
    try:
        if issubclass(adapter, Sync):
            client = adapter(endpoint)
            try:
                result = run_sync(client, workload, params)
            finally:
                client.close()
        else:
            result = asyncio.run(run_async(adapter(endpoint), workload, params))
    except Unsupported as reason:
        result = {"unsupported": str(reason)}
    result["peak_rss_mib"] = peak_rss_mib()
    print(json.dumps(result), flush=True)
    os._exit(0)  # some clients leave non-daemon threads behind


if __name__ == "__main__":
    main()
