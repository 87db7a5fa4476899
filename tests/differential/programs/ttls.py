"""TTLs: on keys and on directories, refreshed, expired, and dropped by a plain set."""

import etcd

client = etcd.Client(host=harness.host, port=harness.port)
base = harness.prefix + "/ttl"


def gone(key):
    try:
        client.get(key)
    except etcd.EtcdKeyNotFound:
        return True
    return False


written = client.set(base + "/key", "v", ttl=30)
harness.record("ttl of a write", harness.ttl_state(written.ttl, 30))
harness.record("expiration", written.expiration is not None)
harness.record("ttl read back", harness.ttl_state(client.get(base + "/key").ttl, 30))
harness.record("refresh", harness.ttl_state(client.refresh(base + "/key", ttl=60).ttl, 60))
harness.record("value after refresh", client.get(base + "/key").value)
harness.record("a set without ttl", harness.ttl_state(client.set(base + "/key", "w").ttl))
harness.attempt("refresh a missing key", lambda: client.refresh(base + "/missing", ttl=5))

client.set(base + "/short", "v", ttl=1)
harness.record("a key expires", harness.eventually(lambda: gone(base + "/short")))

client.write(base + "/dir", None, dir=True, ttl=30)
harness.record("ttl of a directory", harness.ttl_state(client.get(base + "/dir").ttl, 30))
client.set(base + "/dir/inner", "v")
harness.record("ttl of a key below it", harness.ttl_state(client.get(base + "/dir/inner").ttl))
harness.attempt(
    "a new ttl for the directory",
    lambda: harness.ttl_state(
        client.write(base + "/dir", None, dir=True, ttl=120, prevExist=True).ttl, 120
    ),
)
harness.attempt(
    "refresh the directory",
    lambda: harness.ttl_state(client.refresh(base + "/dir", ttl=180).ttl, 180),
)

client.write(base + "/brief", None, dir=True, ttl=1)
client.set(base + "/brief/inner", "v")
harness.record("a directory expires", harness.eventually(lambda: gone(base + "/brief")))
harness.attempt("with its keys", lambda: client.get(base + "/brief/inner"))
