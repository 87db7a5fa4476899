"""Watches: from an index (watch(index=) and read(wait=True, waitIndex=)), recursive,
deletions, expiry, compare-and-swap, and a watch that times out."""

import etcd

client = etcd.Client(host=harness.host, port=harness.port)
base = harness.prefix + "/watch"

first = client.set(base + "/k", "1")
client.set(base + "/k", "2")
client.set(base + "/k", "3")
harness.node("watch(index=first + 1)", client.watch(base + "/k", index=first.modifiedIndex + 1))
harness.node(
    "read(wait=True, waitIndex=first)",
    client.read(base + "/k", wait=True, waitIndex=first.modifiedIndex),
)
below = client.set(base + "/dir/a", "x")
harness.node(
    "recursive watch", client.watch(base + "/dir", index=below.modifiedIndex, recursive=True)
)
deleted = client.delete(base + "/k")
harness.node("a deletion", client.watch(base + "/k", index=deleted.modifiedIndex))
swapped = client.test_and_set(base + "/dir/a", "y", "x")
harness.node("a compare-and-swap", client.watch(base + "/dir/a", index=swapped.modifiedIndex))
expiring = client.set(base + "/e", "v", ttl=1)
harness.node("an expiry", client.watch(base + "/e", index=expiring.modifiedIndex + 1, timeout=30))
harness.attempt("a watch that times out", lambda: client.watch(base + "/quiet", timeout=1))
