"""Sphinx configuration for etcd-client's documentation."""

from __future__ import annotations

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
]
autodoc_member_order = "bysource"
autodoc_typehints = "description"
# No default "members": with it, Sphinx ignores the explicit member lists given in the
# pages and documents every public member instead.
autodoc_default_options = {"show-inheritance": True}
napoleon_google_docstring = True
napoleon_numpy_docstring = False
# The build runs offline (no inventories to fetch), so references to the standard library
# cannot resolve; everything of our own must.
nitpick_ignore_regex = [
    # A type alias (Union of the four response types) that autodoc cannot document.
    (r"py:class", r"OpResponse"),
    # Private helper types that appear in signatures (sentinels, protocols).
    (r"py:.*", r"(etcd\.)?_\w+(\._\w+)*|check\._\w+|etcd\._.*"),
    # Annotations written against the module aliases used inside the package (the same
    # classes are documented under etcd.*).
    (r"py:.*", r"(exc|check|pb)\.\w+"),
    # Type aliases of signatures whose models are imported only when the call is made
    # (autodoc then reads the annotations as text).
    (r"py:class", r"Timeout|ProgressCallback|KeyArg|LeaseArg"),
    (r"py:.*", r"(os|subprocess|pathlib|collections\.abc|typing|types|enum|random|socket)\..*"),
]
html_theme = "alabaster"
html_static_path: list[str] = []
exclude_patterns = ["_build"]
