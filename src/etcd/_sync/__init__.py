"""The sync I/O layer, generated from :mod:`etcd._async` (all but ``io.py``, the thread
primitives written by hand)."""
