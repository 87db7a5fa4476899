"""Service discovery end to end, against a throwaway etcd.

Starts an etcd server of its own (on 127.0.0.1, with free ports, removed afterwards).
Two instances of a ``billing`` service register, in the format Go's ``naming/endpoints``
package and its gRPC resolver use; a live list of the service follows them, and a gRPC
channel over every address is made again each time the list changes. Then one instance
leaves, and a lease granted by another client is kept alive by this one.

Run it with ``python examples/discovery.py``; it needs an etcd binary (the ``server``
extra installs one).
"""

from __future__ import annotations

import threading

import grpc

import etcd
from etcd.testing import EtcdServer


class BalancedChannel:
    """A gRPC channel over every endpoint of a service, made again when the list changes.

    grpcio cannot change the addresses of a channel it made: a new list means a new
    channel. Calls in flight finish on the old one, which is closed a little later.
    """

    def __init__(self, discovery: etcd.Discovery) -> None:
        self._discovery = discovery
        self._lock = threading.Lock()
        self.target = ""
        self.channel: grpc.Channel | None = None
        self.channels_made = 0
        discovery.add_callback(lambda event: self.refresh())
        self.refresh()

    def refresh(self) -> None:
        try:
            target = self._discovery.grpc_target()
        except etcd.EtcdValueError:
            target = ""  # no endpoint (or one grpcio cannot balance over): no channel
        with self._lock:
            if target == self.target:
                return
            old, self.target = self.channel, target
            self.channel = (
                grpc.insecure_channel(target, options=etcd.GRPC_ROUND_ROBIN) if target else None
            )
            self.channels_made += 1
        if old is not None:
            closing = threading.Timer(5.0, old.close)  # let calls in flight finish
            closing.daemon = True
            closing.start()

    def close(self) -> None:
        with self._lock:
            if self.channel is not None:
                self.channel.close()
                self.channel = None


def main() -> None:
    with EtcdServer() as server, etcd.Client(endpoints=[server.endpoint]) as client:
        first = client.register("billing", "127.0.0.1:50051", {"zone": "a"}, ttl=5)
        second = client.register("billing", "127.0.0.1:50052", {"zone": "b"}, ttl=5)
        print("stored:", client.range(first.key).kvs[0].value.decode())

        with client.discover("billing") as billing:
            billing.wait_ready(timeout=10)
            for key, endpoint in billing.endpoints().items():
                print(f"  {key} -> {endpoint.address} {endpoint.metadata}")

            channel = BalancedChannel(billing)
            changed = threading.Event()  # set after the channel's callback has run
            billing.add_callback(lambda event: changed.set())
            print("gRPC target:", channel.target)

            first.close()  # the instance leaves: its key is deleted, its lease revoked
            assert changed.wait(10)
            print("after one left:", billing.addresses(), "target:", channel.target)
            assert billing.addresses() == ["127.0.0.1:50052"]
            assert channel.target == "ipv4:127.0.0.1:50052" and channel.channels_made == 2
            channel.close()
        second.close()

        # A lease granted by someone else, kept alive here (as Go's KeepAlive(ctx, id)).
        granted = client.lease_grant(5)
        with client.keep_alive(granted.id) as lease:
            print(f"keeping lease {lease.id:x} alive, TTL {lease.ttl} s")
        print("revoked at the end of the block:", not client.lease_time_to_live(granted.id).exists)


if __name__ == "__main__":
    main()
