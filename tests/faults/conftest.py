"""Registers the ``faults`` marker (pyproject.toml lists only the project-wide ones)."""

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "faults: fault-injection scenarios")
