"""srv_domain=: the members from DNS SRV records, and a domain without them."""

import etcd

harness.attempt(
    "srv_domain without allow_reconnect",
    lambda: etcd.Client(srv_domain=harness.srv_domain).set(harness.prefix + "/srv/a", "v"),
)
client = etcd.Client(srv_domain=harness.srv_domain, allow_reconnect=True)
harness.record("host and port", [client.host, client.port == harness.port])
client.set(harness.prefix + "/srv/b", "v")
harness.record("read through it", client.get(harness.prefix + "/srv/b").value)
harness.attempt(
    "a domain without records",
    lambda: etcd.Client(srv_domain=harness.missing_domain, allow_reconnect=True).get("/k"),
)
