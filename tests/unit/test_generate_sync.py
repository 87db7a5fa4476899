"""The generator of the sync layer: what it changes, and what it refuses."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "generate_sync.py"


@pytest.fixture(scope="module")
def generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("generate_sync", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_docstrings_show_each_side_its_own_usage(generator):
    source = (
        "async def lease(self) -> AsyncLease:\n"
        '    """::\n\n'
        "        async with await client.lease(ttl=10) as lease:\n"
        "            await client.put('k', 'v', lease=lease)\n"
        '    """\n'
    )
    sync = generator.unasync(source)
    assert "with client.lease(ttl=10) as lease:" in sync
    assert "            client.put('k', 'v', lease=lease)" in sync
    assert "await" not in sync and "async" not in sync
    assert "def lease(self) -> Lease:" in sync


def test_a_comment_about_asyncio_only_is_left_out_of_the_sync_twin(generator):
    source = (
        "def f() -> None:\n"
        "    # Kept on both sides.\n"
        "    # asyncio: the event loop keeps only a weak reference\n"
        "    # to a task.\n"
        "    x = 1\n"
    )
    sync = generator.unasync(source)
    assert "# Kept on both sides." in sync
    assert "weak reference" not in sync and "to a task" not in sync
    assert "    x = 1\n" in sync


def test_the_asyncio_layer_may_not_import_the_sync_one(generator, tmp_path):
    source = tmp_path / "kv.py"
    source.write_text("from .._sync import io\n")
    with pytest.raises(SystemExit, match="must not import the sync layer"):
        generator.generated(source, tmp_path / "out.py")


def test_the_asyncio_layer_names_become_the_sync_layer_names(generator):
    sync = generator.unasync("from etcd._async.io import Flag\nimport etcd._async.client\n")
    assert sync == "from etcd._sync.io import Flag\nimport etcd._sync.client\n"
