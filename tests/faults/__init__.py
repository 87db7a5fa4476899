"""Fault-injection tools and scenarios: a loopback TCP proxy, a history recorder and a
linearizability checker, with the scenarios that use them against a real etcd."""
