"""Fixtures every integration test module may use."""

import pytest

from etcd.testing import EtcdBinaryNotFound, find_etcd_binary


@pytest.fixture(scope="module")
def etcdctl():
    """The etcdctl executable that ships beside the etcd the tests run."""
    try:
        return find_etcd_binary(name="etcdctl")
    except EtcdBinaryNotFound as error:
        pytest.fail(str(error), pytrace=False)
