"""Running the `git` program for actions: fixed argv (never a shell), a timeout, a clean environment, and
credentials only through an askpass helper so they never appear on a command line or in a log."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from portal.scaffolder.actions.contract import ActionError

# Only https and local repositories are spoken to; ext::, ssh, git:// and the rest are refused by git itself.
# No hooks, no redirects (each host is checked before git starts), no terminal prompts. No system or user
# config is read (see Git.environment), only the operator's FLOWPORT_GIT_CONFIG_FILE, which may hold a
# credential helper for publish:git's https remotes.
SAFE_CONFIG = (
    "protocol.allow=never", "protocol.https.allow=always", "protocol.file.allow=always",
    "core.hooksPath=/dev/null", "core.fsmonitor=false", "http.followRedirects=false",
    "init.defaultBranch=main", "advice.detachedHead=false",
    # A checkout never creates symbolic links (they would be plain files holding the link's text), so
    # the checkout the catalog reads cannot point outside itself.
    "core.symlinks=false",
)
MAX_ERROR_CHARS = 2000
# The askpass helper answers git's username and password prompts from two variables of its own
# environment; it is a Python file so no shell ever interprets the token.
ASKPASS_SOURCE = """import os, sys
prompt = sys.argv[1] if len(sys.argv) > 1 else ""
sys.stdout.write(os.environ["FLOWPORT_GIT_USERNAME"] if prompt.lower().startswith("username")
                 else os.environ["FLOWPORT_GIT_PASSWORD"])
"""


@dataclass(frozen=True)
class GitCredentials:
    """A user name and token for an https push (e.g. `x-access-token` and a GitHub token)."""

    username: str
    password: str = field(repr=False)


@dataclass
class Git:
    """One git session: its private HOME, the operator's config file, a timeout and optional credentials."""

    home: Path
    timeout: float
    config_file: Path | None = None
    credentials: GitCredentials | None = None
    what: str = "git"

    def environment(self) -> dict[str, str]:
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(self.home), "LANG": "C",
               "LC_ALL": "C", "GIT_TERMINAL_PROMPT": "0", "GIT_CONFIG_NOSYSTEM": "1",
               "GIT_CONFIG_GLOBAL": str(self.config_file) if self.config_file else os.devnull,
               "GIT_ASKPASS": "", "SSH_ASKPASS": ""}
        if self.credentials is not None:
            helper = self.home / "askpass.py"
            if not helper.exists():
                helper.write_text(f"#!{sys.executable}\n{ASKPASS_SOURCE}")
                helper.chmod(stat.S_IRWXU)
            env.update(GIT_ASKPASS=str(helper), FLOWPORT_GIT_USERNAME=self.credentials.username,
                       FLOWPORT_GIT_PASSWORD=self.credentials.password)
        return env

    def run(self, args: Sequence[str], cwd: Path | None = None) -> str:
        """Run `git <safe config> <args>`; ActionError with git's own message (token masked) on failure."""
        argv = ["git"]
        for setting in SAFE_CONFIG:
            argv += ["-c", setting]
        argv += list(args)
        try:
            # A session of its own, so a timeout ends git's helpers (git-remote-https) with it.
            process = subprocess.Popen(argv, cwd=cwd, env=self.environment(), stdin=subprocess.DEVNULL,
                                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                       start_new_session=True)
        except OSError as error:
            raise ActionError(f"{self.what}: cannot run git: {error.strerror}") from None
        try:
            stdout, stderr = process.communicate(timeout=self.timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            raise ActionError(f"{self.what}: git {args[0]} took longer than {self.timeout:g} s "
                              "(FLOWPORT_GIT_TIMEOUT)") from None
        if process.returncode != 0:
            detail = self.masked(stderr.strip())[-MAX_ERROR_CHARS:] or f"exit status {process.returncode}"
            raise ActionError(f"{self.what}: git {args[0]} failed: {detail}")
        return stdout

    def masked(self, text: str) -> str:
        if self.credentials is not None and self.credentials.password:
            text = text.replace(self.credentials.password, "***")
        return text


@contextmanager
def git_session(timeout: float, config_file: Path | None = None, credentials: GitCredentials | None = None,
                what: str = "git") -> Iterator[Git]:
    """A Git whose HOME (and askpass helper) live in a temporary folder removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="flowport-git-") as home:
        yield Git(Path(home), timeout, config_file, credentials, what)
