"""etcd.Lock: acquired, tried while held, released, and as a context manager."""

import etcd

client = etcd.Client(host=harness.host, port=harness.port)

lock = etcd.Lock(client, "differential")
harness.record("is_acquired before", lock.is_acquired)
harness.record("acquire", lock.acquire(lock_ttl=30))
harness.record("is_acquired", lock.is_acquired)
other = etcd.Lock(client, "differential")
harness.record("another lock, not blocking", other.acquire(blocking=False))
harness.record("the other is_acquired", other.is_acquired)
other.release()
lock.release()
harness.record("is_acquired after release", lock.is_acquired)
with etcd.Lock(client, "differential") as held:
    harness.record("is_acquired in with", held.is_acquired)
    third = etcd.Lock(client, "differential")
    harness.record("a third, not blocking", third.acquire(blocking=False))
    third.release()
harness.record("is_acquired after with", held.is_acquired)
last = etcd.Lock(client, "differential")
harness.record("free again", last.acquire(blocking=False))
last.release()
