"""The asyncio I/O layer, written by hand: ``scripts/generate_sync.py`` writes
:mod:`etcd._sync` from it (all but ``io.py``)."""
