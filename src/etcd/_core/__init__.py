"""The I/O-free core: configuration, validation, operations, typed results and the pure
halves of every concern. Imports neither :mod:`etcd._async` nor :mod:`etcd._sync`."""
