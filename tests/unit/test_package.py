"""The public surface: every name resolves, and ``import etcd`` stays cheap."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import etcd


def loaded_after(statements: str, modules: tuple[str, ...]) -> list[str]:
    """Which of ``modules`` a fresh interpreter has imported after ``statements``."""
    code = f"import sys; {statements}; print(sorted(m for m in {modules!r} if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return list(ast.literal_eval(result.stdout))


def test_import_etcd_loads_neither_grpc_nor_protobuf_nor_asyncio():
    assert loaded_after("import etcd", ("grpc", "google.protobuf", "asyncio")) == []


def test_opentelemetry_is_imported_only_when_a_client_is_instrumented():
    statements = "import etcd, etcd.events, etcd.otel; etcd.Client(); etcd.AsyncClient"
    assert loaded_after(statements, ("opentelemetry", "opentelemetry.trace")) == []


def test_the_clients_leave_the_rarely_used_modules_unimported():
    # What makes a client: the feature modules load with their first call.
    later = (
        "etcd._async.concurrency",
        "etcd._sync.concurrency",
        "etcd._core.concurrency",
        "etcd._sync.stm",
        "etcd._sync.namespace",
        "etcd._sync.lease_keeper",
        "etcd._core.lease",
        "etcd._core.events",
        "etcd._core.watch",
        "etcd._sync.watch_stream",
        "etcd._async.watch_stream",
        "etcd._core.auth",
        "etcd._core.cluster",
        "etcd._core.maintenance",
        "tempfile",
        "hashlib",
        "ipaddress",
    )
    assert loaded_after("import etcd; etcd.Client(); etcd.AsyncClient", later) == []


def test_only_a_client_that_coalesces_loads_the_coalescing_modules():
    modules = ("etcd._core.coalescing", "etcd._sync.coalescing")
    assert loaded_after("import etcd; etcd.Client(coalesce=False)", modules) == []
    assert loaded_after("import etcd; etcd.Client()", modules) == list(modules)


def test_plain_reads_and_writes_leave_comparisons_tls_and_the_environment_unimported():
    # The operations and requests of a first range, put or delete, built as a call does.
    statements = (
        "import etcd; client = etcd.Client(); "
        "[client._prepare(op) for op in (etcd.Op.range('k'), etcd.Op.put('k', 'v'), "
        "etcd.Op.delete_range('k'))]"
    )
    later = ("etcd._core.compare", "etcd._core.tls", "etcd._core.environment")
    assert loaded_after(statements, later) == []
    compared = "; etcd.Txn().If(etcd.Value('k') == 'v')"
    assert loaded_after(statements + compared, later) == ["etcd._core.compare"]


def test_reaching_both_clients_leaves_the_optional_machinery_unimported():
    # `import etcd; etcd.Client; etcd.AsyncClient` is what every program pays; these are
    # imported by the first construction or call that needs them.
    deferred = (
        "etcd._dns",
        "etcd._core.srv",
        "etcd._core.events",
        "etcd._core.classic",
        "etcd._core.config",
        "etcd._core.kv",
        "etcd._core.responses",
        "etcd._core.stm",
        "etcd._wire.messages",
        "etcd._wire.methods",
        "google.protobuf",
        "dns",
        "dns.resolver",
        "random",
    )
    assert loaded_after("import etcd; etcd.Client; etcd.AsyncClient", deferred) == []


def test_every_public_name_resolves_under_its_public_path():
    for name in etcd.__all__:
        value = getattr(etcd, name)
        if isinstance(value, type):
            assert value.__module__ == "etcd", name
    assert set(etcd.__all__) <= set(dir(etcd))
    from etcd import AsyncClient, Client

    assert Client is etcd.Client and AsyncClient is etcd.AsyncClient


def test_an_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'Clinet'"):
        etcd.Clinet  # noqa: B018


def test_loggers_have_stable_public_names_on_both_sides():
    # Users configure logging by these names: they must not follow the private modules.
    code = (
        "import importlib, logging, pkgutil, etcd\n"
        "for module in pkgutil.walk_packages(etcd.__path__, 'etcd.'):\n"
        "    if not module.name.startswith(('etcd.testing', 'etcd.__main__')):\n"
        "        importlib.import_module(module.name)\n"
        "print(sorted(n for n in logging.Logger.manager.loggerDict if n.startswith('etcd')))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    names = ast.literal_eval(result.stdout)
    assert "etcd.watch" in names and "etcd.lease" in names and "etcd.cluster" in names
    assert [name for name in names if "._" in name] == []


def test_the_type_checkers_imports_and_the_lazy_table_agree():
    # Each lazily loaded public name is written twice in __init__.py: once for type
    # checkers, once for the import on first use. They must name the same module.
    tree = ast.parse(Path(etcd.__file__).read_text())
    for_type_checkers = {}
    for node in tree.body:
        if isinstance(node, ast.If) and getattr(node.test, "id", "") == "_TYPE_CHECKING":
            for statement in node.body:
                assert isinstance(statement, ast.ImportFrom)
                for alias in statement.names:
                    assert alias.asname == alias.name, alias.name  # re-exported
                    for_type_checkers[alias.name] = "." + str(statement.module)
    assert for_type_checkers == etcd._LAZY


def test_all_keys_pickled_under_the_earlier_module_path_still_loads():
    import pickle

    assert pickle.loads(b"\x80\x02cetcd._kv\nALL_KEYS\nq\x00.") is etcd.ALL_KEYS
    assert pickle.loads(pickle.dumps(etcd.ALL_KEYS)) is etcd.ALL_KEYS
