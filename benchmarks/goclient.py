"""Go's clientv3 as a column of ``compare.py``: the program ``go/bench.go``, built once per
run in GOPATH mode against etcd's Go sources.

It needs ``go`` and the sources in GOPATH form (Debian's golang-go and
golang-etcd-server-dev put them in /usr/share/gocode). ``ETCD_CLIENT_GO`` names another
``go`` executable and ``ETCD_CLIENT_GOPATH`` another folder holding the sources, as for
the interop tests.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

NAME = "Go clientv3"
SOURCE = Path(__file__).resolve().parent / "go" / "bench.go"
MISSING = "needs Go and etcd's Go sources (Debian: golang-go golang-etcd-server-dev)"
DEFAULT_GOPATH = "/usr/share/gocode"
#: The packages the program imports, below GOPATH/src.
PACKAGES = ["go.etcd.io/etcd/clientv3", "golang.org/x/sys/unix"]


class Unavailable(Exception):
    """The column cannot be measured here; the message says why."""


@dataclass(frozen=True)
class Toolchain:
    go: str
    gopath: Path

    def environment(self, scratch: Path) -> dict[str, str]:
        """A pure Go build (no cgo, no C compiler) in GOPATH mode; the build cache in
        ``scratch`` when the user has none."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("ETCDCTL_", "ETCD_"))}
        env.update(GOPATH=str(self.gopath), GO111MODULE="off", GOFLAGS="", CGO_ENABLED="0")
        if not any(env.get(name) for name in ("GOCACHE", "XDG_CACHE_HOME", "HOME")):
            env["GOCACHE"] = str(scratch / "go-cache")
        return env

    def versions(self) -> str:
        """ "Go clientv3 3.4.23 (go1.19.8)": the client's version from its sources, and Go's."""
        version_file = self.gopath / "src" / "go.etcd.io" / "etcd" / "version" / "version.go"
        found = re.search(r'\bVersion\s*=\s*"([^"]+)"', version_file.read_text(errors="replace"))
        go = subprocess.run(
            [self.go, "env", "GOVERSION"], capture_output=True, text=True, check=False
        ).stdout.strip()
        return f"{NAME} {found.group(1) if found else '?'} ({go or 'go ?'})"


def find_toolchain() -> Toolchain:
    """``go`` and the GOPATH holding the sources, or :class:`Unavailable`."""
    go = os.environ.get("ETCD_CLIENT_GO") or shutil.which("go")
    if not go:
        raise Unavailable(f"{MISSING}: no go on the PATH")
    gopath = Path(os.environ.get("ETCD_CLIENT_GOPATH") or DEFAULT_GOPATH)
    absent = [name for name in PACKAGES if not (gopath / "src" / name).is_dir()]
    if absent:
        raise Unavailable(f"{MISSING}: {', '.join(absent)} not in {gopath}/src")
    return Toolchain(go, gopath)


def build(toolchain: Toolchain, directory: Path) -> Path:
    """The program, built into ``directory``; :class:`Unavailable` if it does not build."""
    program = directory / "bench"
    try:
        built = subprocess.run(
            [toolchain.go, "build", "-o", str(program), str(SOURCE)],
            env=toolchain.environment(directory),
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise Unavailable(f"{MISSING}: {toolchain.go} does not run: {error}") from None
    if built.returncode != 0:
        output = (built.stdout + built.stderr).strip()
        raise Unavailable(f"building {SOURCE.name} failed:\n{output}")
    return program
