"""Keys and values: set, get, the conditional writes and deletes, in-order keys."""

import etcd

client = etcd.Client(host=harness.host, port=harness.port)
base = harness.prefix + "/keys"

harness.node("set", client.set(base + "/a", "1"))
harness.node("get", client.get(base + "/a"))
harness.node("set a number", client.set(base + "/a", 2))
harness.attempt("create an existing key", lambda: client.write(base + "/a", "x", prevExist=False))
harness.attempt("update a missing key", lambda: client.write(base + "/b", "x", prevExist=True))
harness.node("create", client.write(base + "/b", "x", prevExist=False))
harness.node("update", client.write(base + "/b", "y", prevExist=True))
harness.attempt("test_and_set, other value", lambda: client.test_and_set(base + "/a", "3", "9"))
harness.attempt("test_and_set, missing key", lambda: client.test_and_set(base + "/c", "3", "2"))
harness.node("test_and_set", client.test_and_set(base + "/a", "3", "2"))
current = client.get(base + "/a")
harness.attempt(
    "prevIndex, old index",
    lambda: client.write(base + "/a", "4", prevIndex=current.modifiedIndex - 1),
)
harness.node("prevIndex", client.write(base + "/a", "4", prevIndex=current.modifiedIndex))
read_back = client.get(base + "/a")
read_back.value = "5"
harness.node("update(result)", client.update(read_back))
harness.attempt("update(stale result)", lambda: client.update(read_back))
harness.attempt("delete a missing key", lambda: client.delete(base + "/missing"))
harness.attempt("delete, other prevValue", lambda: client.delete(base + "/b", prevValue="no"))
harness.node("delete", client.delete(base + "/b", prevValue="y"))
harness.attempt("get a deleted key", lambda: client.get(base + "/b"))
harness.node("pop", client.pop(base + "/a"))
first = client.write(base + "/queue", "first", append=True)
second = client.write(base + "/queue", "second", append=True)
harness.index("in-order key 1", first.key.rsplit("/", 1)[1])
harness.index("in-order key 2", second.key.rsplit("/", 1)[1])
harness.record("in-order names are 20 digits", [len(first.key.rsplit("/", 1)[1])])
harness.record("queue", [leaf.value for leaf in client.read(base + "/queue", sorted=True).leaves])
harness.record("contains", [base + "/queue" in client, base + "/nothing" in client])
harness.attempt("delete the root", lambda: client.delete("/", recursive=True))
harness.attempt("set the root", lambda: client.set("/", "v"))
