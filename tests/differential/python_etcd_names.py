"""The exception classes python-etcd 0.4.5 defines, by name."""

PYTHON_ETCD_EXCEPTIONS = (
    "EtcdException",
    "EtcdValueError",
    "EtcdCompareFailed",
    "EtcdClusterIdChanged",
    "EtcdKeyError",
    "EtcdKeyNotFound",
    "EtcdNotFile",
    "EtcdNotDir",
    "EtcdAlreadyExist",
    "EtcdEventIndexCleared",
    "EtcdConnectionFailed",
    "EtcdInsufficientPermissions",
    "EtcdWatchTimedOut",
    "EtcdWatcherCleared",
    "EtcdLeaderElectionInProgress",
    "EtcdRootReadOnly",
    "EtcdDirNotEmpty",
    "EtcdLockExpired",
)
