"""``python -m etcd``: the command-line tool (also installed as ``etcd-client``).

``python -m etcd demo`` walks through the client against a throwaway etcd;
``python -m etcd --help`` lists etcdctl's commands, which work the same way here.
"""

from __future__ import annotations

import sys

from etcd._cli import main

if __name__ == "__main__":
    sys.exit(main(prog="python -m etcd"))
