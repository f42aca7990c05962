"""Real git repositories for action tests: read what a push left in a bare repository."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

from portal.scaffolder.actions import ActionServices
from portal.settings import Settings


def git(*args: str, cwd: Path | None = None) -> str:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(cwd or "/tmp"), "GIT_CONFIG_NOSYSTEM": "1",
           "GIT_CONFIG_GLOBAL": "/dev/null"}
    return subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=True).stdout


def bare_repo(path: Path, branch: str = "main") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    git("init", "-q", "--bare", "-b", branch, str(path))
    return path


def pushed_files(bare: Path, branch: str = "main") -> dict[str, str]:
    """Path → text of every file on `branch` of a bare repository."""
    names = git("--git-dir", str(bare), "ls-tree", "-r", "--name-only", branch).split("\n")
    return {name: git("--git-dir", str(bare), "show", f"{branch}:{name}") for name in names if name}


def last_commit(bare: Path, branch: str = "main") -> dict[str, str]:
    fields = git("--git-dir", str(bare), "log", "-1", "--format=%H%n%an%n%ae%n%s", branch).split("\n")
    return {"hash": fields[0], "author": fields[1], "email": fields[2], "subject": fields[3]}


def action_settings(tmp_path: Path, base: Settings | None = None, **overrides: Any) -> Settings:
    """Settings for actions: a data folder of the test's own and the given changes."""
    values = {"env": "test", "data_dir": tmp_path / "data", "catalog_paths": [], "template_paths": []}
    if base is not None:
        return base.model_copy(update=overrides)
    return Settings(**{**values, **overrides})


def services(settings: Settings, engine: Any = None, http: Any = None, plugins: Any = None) -> ActionServices:
    return ActionServices(settings=settings, engine=engine, http=http, plugins=plugins)
