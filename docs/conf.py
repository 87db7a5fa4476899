"""Sphinx configuration for etcd-client's documentation."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from etcd import __version__

project = "etcd-client"
author = "The etcd-client authors"
copyright = "2026, The etcd-client authors"
version = release = __version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.doctest",
    "sphinx.ext.intersphinx",
]
autodoc_member_order = "bysource"
autodoc_typehints = "description"
# No default "members": with it, Sphinx ignores the explicit member lists given in the
# pages and documents every public member instead.
autodoc_default_options = {"show-inheritance": True}
napoleon_google_docstring = True
napoleon_numpy_docstring = False


def _python_inventory() -> str | None:
    """The local copy of Python's object inventory, or None where there is none.

    The build runs without network access, so the inventory cannot be fetched from
    docs.python.org. Debian's ``python3-doc`` package installs Python's documentation,
    inventory included, under /usr/share/doc (.ci/run installs it);
    ``ETCD_DOCS_PYTHON_INVENTORY`` names a copy elsewhere.
    """
    override = os.environ.get("ETCD_DOCS_PYTHON_INVENTORY")
    candidates = [Path(override)] if override else []
    candidates.append(Path("/usr/share/doc/python3-doc/html/objects.inv"))

    def version(path: Path) -> tuple[int, ...]:
        digits = re.findall(r"\d+", path.parts[-3])
        return tuple(int(d) for d in digits)

    candidates += sorted(
        Path("/usr/share/doc").glob("python3*/html/objects.inv"), key=version, reverse=True
    )
    for candidate in candidates:
        if candidate.is_file():
            return str(candidate)
    return None


_python_objects = _python_inventory()
# Links go to the published documentation; only the inventory is read locally.
intersphinx_mapping = (
    {"python": ("https://docs.python.org/3", _python_objects)} if _python_objects else {}
)
intersphinx_timeout = 5

# Every reference must resolve, except these.
nitpick_ignore_regex = [
    # A type alias (Union of the four response types) that autodoc cannot document.
    (r"py:class", r"OpResponse"),
    # The type variable of the cache's generic classes (the type of the values it stores).
    (r"py:class", r"V"),
    # Private helper types that appear in signatures (sentinels, protocols).
    (r"py:.*", r"(etcd\.)?_\w+(\._\w+)*|check\._\w+|etcd\._.*"),
    # Annotations written against the module aliases used inside the package (the same
    # classes are documented under etcd.*).
    (r"py:.*", r"(exc|check|pb)\.\w+"),
    # Type aliases of signatures whose models are imported only when the call is made
    # (autodoc then reads the annotations as text).
    (r"py:class", r"Timeout|ProgressCallback|KeyArg|LeaseArg|ClientConfig"),
    # OpenTelemetry's providers, in etcd.otel's signatures: its documentation is not
    # among the inventories read.
    (r"py:class", r"(opentelemetry\.\w+\.)?(TracerProvider|MeterProvider)"),
]
if not _python_objects:
    # Without Python's inventory the standard library's names cannot resolve; they are
    # then left as plain text.
    nitpick_ignore_regex += [
        (r"py:.*", r"(os|subprocess|pathlib|collections\.abc|typing|types|enum|random|socket)\..*"),
    ]

html_theme = "furo"
html_title = f"etcd-client {release}"
html_static_path: list[str] = []
exclude_patterns = ["_build"]
