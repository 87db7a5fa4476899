"""``python -m etcd demo`` runs the seed's Usage section and the v3 walkthrough for real."""

import io

import pytest

from etcd._cli import _demo

pytestmark = pytest.mark.integration

SEED_LINES = [
    "client = etcd.Client(port=",
    "client = etcd.Client(host='127.0.0.1', port=",
    "allow_redirect=False)",
    "allow_reconnect=True)",
    "cert=('cert.crt', 'cert.key')",
    "cert='cert.pem'",
    "client.set('/nodes/n1', 1)",
    "client.set('/nodes/n2', 2, ttl=4)",
    "client.get('/nodes/n2').value",
    "client.delete('/nodes/n1')",
    "client.test_and_set('/nodes/n2', 2, 4)",
    "client.watch('/nodes/n1')",
    "client.get('/nodes')",
    "client.machines",
    "client.leader",
]


def test_the_demo_walks_through_the_seed_in_order_and_then_the_v3_api():
    out = io.StringIO()
    assert _demo.main(out) == 0
    text = out.getvalue()
    positions = [text.index(line) for line in SEED_LINES]
    assert positions == sorted(positions)
    assert "'over https'" in text
    assert "etcd.EtcdCompareFailed" in text
    assert "action='set', key='/nodes/n1', value='changed'" in text
    assert text.index("# Part 2") > positions[-1]
    assert "Done:" in text
