"""Concurrent bank transfers with software transactional memory, against a throwaway etcd.

Starts an etcd server of its own, opens five accounts of 100 each, and lets eight threads
make random transfers between them at the same time. Each transfer reads two balances and
writes two new ones inside one STM transaction: when another thread changed a balance in
between, the transfer runs again on fresh values, so money is never created or lost and
no account goes below zero. The totals are printed at the end.

Run it with ``python examples/stm_bank.py``; it needs an etcd binary (the ``server`` extra
installs one).
"""

from __future__ import annotations

import random
import threading

import etcd
from etcd import STM, Isolation
from etcd.testing import EtcdServer

ACCOUNTS = [f"/bank/accounts/{name}" for name in ("ann", "bob", "cyd", "dee", "eve")]
OPENING_BALANCE = 100
THREADS = 8
TRANSFERS_PER_THREAD = 25


def balance(stm: STM, account: str) -> int:
    value = stm.get_str(account)
    return 0 if value is None else int(value)


def transfer(client: etcd.Client, source: str, target: str, amount: int) -> bool:
    """Move ``amount`` from ``source`` to ``target`` if ``source`` has it; ``True`` if moved."""
    moved = False

    def apply(stm: STM) -> None:
        # May run more than once: it only reads and writes through the STM, and sets
        # `moved` from scratch on every run.
        nonlocal moved
        have = balance(stm, source)
        moved = have >= amount
        if moved:
            stm.put(source, str(have - amount))
            stm.put(target, str(balance(stm, target) + amount))

    client.stm(apply, isolation=Isolation.SERIALIZABLE_SNAPSHOT)
    return moved


def teller(client: etcd.Client, seed: int, done: list[int]) -> None:
    rng = random.Random(seed)
    count = 0
    for _ in range(TRANSFERS_PER_THREAD):
        source, target = rng.sample(ACCOUNTS, 2)
        if transfer(client, source, target, rng.randint(1, 80)):
            count += 1
    done.append(count)


def main() -> int:
    with EtcdServer() as server, etcd.Client(endpoints=[server.endpoint]) as client:
        for account in ACCOUNTS:
            client.put(account, str(OPENING_BALANCE))
        done: list[int] = []
        threads = [
            threading.Thread(target=teller, args=(client, seed, done)) for seed in range(THREADS)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        balances = {
            kv.key.decode().rsplit("/", 1)[-1]: int(kv.value)
            for kv in client.range("/bank/accounts/", prefix=True).kvs
        }
    for name, amount in balances.items():
        print(f"{name}: {amount}")
    total = sum(balances.values())
    attempted = THREADS * TRANSFERS_PER_THREAD
    print(f"{sum(done)} of {attempted} transfers made (the others lacked funds)")
    print(f"total: {total} (opened with {OPENING_BALANCE * len(ACCOUNTS)})")
    if len(done) != THREADS or total != OPENING_BALANCE * len(ACCOUNTS):
        print("a teller failed, or money was created or lost")
        return 1
    if min(balances.values()) < 0:
        print("an account went below zero")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
