"""etcdctl run beside a test, for the tests that check interoperation with Go's client."""

import os
import subprocess
import tempfile
from pathlib import Path


def clean_environment(**extra):
    """This process's environment without the ETCDCTL_* and ETCD_* variables, which would
    change what a command-line tool does, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ETCDCTL_", "ETCD_"))}
    env.update(extra)
    return env


class Etcdctl:
    """etcdctl running beside a test. Its output goes to a file, so a test can read what it
    has printed while it runs."""

    def __init__(self, etcdctl, server, *args):
        env = {key: value for key, value in os.environ.items() if not key.startswith("ETCDCTL")}
        env["ETCDCTL_API"] = "3"
        handle, name = tempfile.mkstemp(prefix="etcdctl-", suffix=".out")
        self.output_path = Path(name)
        with os.fdopen(handle, "w") as output:
            self.process = subprocess.Popen(
                [etcdctl, f"--endpoints={server.client_url}", *args],
                stdout=output,
                stderr=subprocess.STDOUT,
                env=env,
            )

    def printed(self):
        return self.output_path.read_text().splitlines()

    def stop(self):
        """Stop it with SIGTERM (on which etcdctl resigns or unlocks); what it printed."""
        if self.process.poll() is None:
            self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        try:
            return "\n".join(self.printed())
        finally:
            self.output_path.unlink()
