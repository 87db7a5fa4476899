"""A network partition: the leader is cut off from both its peers for 4 s (peer proxies,
see ``peers.py``) while the workload runs, then the partition heals.

The clients reach every member directly and start on the leader; they use
``allow_redirect=False``, so that the cut-off member refuses them ("no leader") once it
has stepped down and they move on to the majority (with the default, a member that only
times out keeps the client: see the reliability page). Asserted: what every scenario
asserts (``check_common``: linearizable, no acknowledged write lost, the watcher saw every
revision once and in order, deadlines kept), a new leader among the majority, and
clients served by the majority during the partition.
"""

from __future__ import annotations

import time
import uuid

import pytest

import etcd

from .history import OK
from .peers import PeerProxiedCluster
from .workload import Workload, check_common, ready

pytestmark = [pytest.mark.integration, pytest.mark.cluster, pytest.mark.faults]


def test_leader_partitioned_from_its_peers(peer_proxied_cluster: PeerProxiedCluster) -> None:
    cluster = peer_proxied_cluster.cluster
    old_leader = cluster.leader()
    with etcd.Client(endpoints=[old_leader.endpoint], timeout=10) as admin:
        old_id = admin.status(old_leader.endpoint).member_id
    majority = [member for member in cluster.members if member is not old_leader]
    prefix = f"faults/{uuid.uuid4().hex[:8]}/"
    workload = Workload(
        [old_leader.endpoint, *(member.endpoint for member in majority)],
        prefix,
        client_options={"allow_redirect": False},
    )
    workload.start()
    elected: float | None = None
    new_leader = None
    try:
        time.sleep(1.0)
        cut = workload.fault(f"cut leader {old_leader.name} off from its peers")
        held = peer_proxied_cluster.isolate(old_leader)
        while time.monotonic() - cut < 4.0:
            if elected is None:
                leaders = [member for member in majority if member.is_leader()]
                if leaders:
                    elected = time.monotonic() - cut
                    new_leader = leaders[0]
            time.sleep(0.05)
        healed = workload.fault("heal the partition")
        peer_proxied_cluster.heal()
        time.sleep(3.0)
    finally:
        peer_proxied_cluster.heal()
        workload.stop.set()
    report = workload.finish(ready(cluster))
    during = [op for op in report.ops if op.outcome == OK and cut <= op.invoked < healed]
    reads_elsewhere = [
        op
        for op in during
        if op.index in workload.reads and workload.reads[op.index].member_id != old_id
    ]
    mutations = [op for op in during if op.is_mutation]
    recovery = report.recovery_after(cut)
    report.notes.append(
        f"{held} peer connections of {old_leader.name} held; new leader "
        f"{new_leader.name if new_leader else None} elected after "
        f"{elected and round(elected, 2)}s; {len(during)} calls succeeded during the "
        f"partition ({len(mutations)} mutations, {len(reads_elsewhere)} reads served by the "
        f"majority); first acknowledged write after "
        f"the cut {recovery and round(recovery, 3)}s; leader at the end "
        f"{cluster.leader().name}"
    )
    check_common(report, "leader partitioned from its peers 4 s", workload.started)
    assert held > 0, "the old leader had no peer connection to hold"
    assert new_leader is not None, "the majority elected no new leader"
    assert len(during) > 10, "the majority should have served the clients"
    assert mutations, "no mutation succeeded during the partition"
