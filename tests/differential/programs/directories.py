"""Directories: made empty, listed, refused where v2 refused, deleted."""

import etcd

client = etcd.Client(host=harness.host, port=harness.port)
base = harness.prefix + "/dirs"

harness.node("make an empty directory", client.write(base + "/empty", None, dir=True))
harness.node("list it", client.get(base + "/empty"))
harness.attempt(
    "make it again, prevExist=False",
    lambda: client.write(base + "/empty", None, dir=True, prevExist=False),
)
harness.attempt("make it again", lambda: client.write(base + "/empty", None, dir=True))
harness.attempt("set a directory", lambda: client.set(base + "/empty", "v"))
client.set(base + "/file", "v")
harness.attempt("set below a key", lambda: client.set(base + "/file/child", "v"))
harness.attempt("directory below a key", lambda: client.write(base + "/file/d", None, dir=True))
client.set(base + "/tree/a", "1")
client.set(base + "/tree/sub/b", "2")
client.write(base + "/tree/emptysub", None, dir=True)
# v2 lists a directory in no particular order unless asked to sort; here always by key.
harness.node("list a tree", client.read(base + "/tree", sorted=True))
harness.node("list a tree recursively", client.read(base + "/tree", recursive=True, sorted=True))
tree = client.read(base + "/tree", recursive=True, sorted=True)
harness.record("subtree", [[n.key, n.value, bool(n.dir)] for n in tree.get_subtree()])
harness.attempt("delete a directory", lambda: client.delete(base + "/tree"))
harness.attempt(
    "delete a full directory, dir=True", lambda: client.delete(base + "/tree", dir=True)
)
harness.node("delete an empty directory", client.delete(base + "/empty", dir=True))
harness.node("delete recursively", client.delete(base + "/tree", recursive=True))
harness.attempt("get it", lambda: client.get(base + "/tree"))
harness.node("a directory made by a key below it", client.get(base))
client.delete(base + "/file")
harness.attempt("it, once its last key is gone", lambda: client.get(base))
