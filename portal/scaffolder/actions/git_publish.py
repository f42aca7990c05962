"""publish:git: commits the workspace (or a folder of it) and pushes it to an https remote or a local bare
repository; `push_workspace` is shared with the GitHub and GitLab publishers."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from portal.scaffolder.actions.contract import Action, ActionContext, ActionError
from portal.scaffolder.actions.git_cli import Git, GitCredentials, git_session
from portal.scaffolder.actions.git_remotes import GitRemote, checkout_area, check_remote
from portal.scaffolder.actions.paths import resolve_inside
from portal.scaffolder.actions.services import settings_of
from portal.scaffolder.filters import FilterError, parse_repo_url

BRANCH = re.compile(r"^(?!-)(?!/)(?!.*\.\.)(?!.*//)(?!.*@\{)[A-Za-z0-9._/-]{1,100}(?<!/)(?<!\.lock)(?<!\.)$")
DEFAULT_AUTHOR = ("Flowport", "flowport@localhost")
DEFAULT_MESSAGE = "Initial commit"
REPO_OUTPUT = {"type": "object", "properties": {
    "remoteUrl": {"type": "string"}, "repoContentsUrl": {"type": "string"}, "commitHash": {"type": "string"}}}
# Inputs every publisher shares (Backstage's names).
COMMON_INPUTS: dict[str, Any] = {
    "description": {"type": "string", "maxLength": 2000},
    "defaultBranch": {"type": "string", "maxLength": 100, "default": "main"},
    "sourcePath": {"type": "string", "maxLength": 1000, "description": "Folder of the workspace to publish"},
    "gitCommitMessage": {"type": "string", "maxLength": 10_000, "default": DEFAULT_MESSAGE},
    "gitAuthorName": {"type": "string", "maxLength": 200},
    "gitAuthorEmail": {"type": "string", "maxLength": 200},
}


def branch_of(ctx: ActionContext) -> str:
    branch = ctx.input.get("defaultBranch", "main")
    if not BRANCH.match(branch):
        raise ActionError(f"{ctx.step_label}: input.defaultBranch {branch!r} is not a usable branch name")
    return branch


def _clean(text: object, limit: int) -> str:
    # git refuses '<', '>' and newlines in identities; a NUL would cut the argument short.
    return re.sub(r"[<>\x00-\x1f\x7f]", "", str(text or "")).strip()[:limit]


def author_of(ctx: ActionContext) -> tuple[str, str]:
    """The commit author: the step's gitAuthor*, else the user entity's profile, else Flowport."""
    entity = ctx.user.get("entity") if isinstance(ctx.user.get("entity"), dict) else {}
    profile = (entity.get("spec") or {}).get("profile") or {} if isinstance(entity.get("spec"), dict) else {}
    name = ctx.input.get("gitAuthorName") or profile.get("displayName") or (entity.get("metadata") or {}).get("name")
    email = ctx.input.get("gitAuthorEmail") or profile.get("email")
    return _clean(name, 200) or DEFAULT_AUTHOR[0], _clean(email, 200) or DEFAULT_AUTHOR[1]


def source_folder(ctx: ActionContext) -> Path:
    source = resolve_inside(ctx.workspace, ctx.input.get("sourcePath", ""), f"{ctx.step_label}: input.sourcePath")
    if not source.is_dir():
        raise ActionError(f"{ctx.step_label}: input.sourcePath {ctx.input.get('sourcePath')!r} is not a folder "
                          "of the workspace")
    return source


def push_workspace(ctx: ActionContext, remote: GitRemote, settings: Any,
                   credentials: GitCredentials | None = None) -> str:
    """Commit the source folder in a git directory of our own (never one from the workspace) and push it
    to `remote`'s default branch; return the commit hash."""
    source, branch = source_folder(ctx), branch_of(ctx)
    name, email = author_of(ctx)
    message = ctx.input.get("gitCommitMessage") or DEFAULT_MESSAGE
    if "\x00" in message:
        raise ActionError(f"{ctx.step_label}: input.gitCommitMessage contains a NUL byte")
    with git_session(settings.git_timeout, settings.git_config_file, credentials, ctx.step_label) as git:
        git_dir = git.home / "publish.git"
        git.run(["init", "-q", "--bare", "--template=", "-b", branch, str(git_dir)])
        tree = ["--git-dir", str(git_dir), "--work-tree", str(source), "-c", "core.bare=false"]
        git.run([*tree, "add", "-A", "--", "."])
        git.run([*tree, "-c", f"user.name={name}", "-c", f"user.email={email}", "commit", "-q",
                 "--allow-empty", "--no-verify", "-m", message])
        commit = git.run(["--git-dir", str(git_dir), "rev-parse", "HEAD"]).strip()
        ctx.check_cancelled()
        if remote.is_local:
            _prepare_local(git, remote, branch, ctx)
        ctx.log(f"Pushing {commit[:12]} to branch {branch} of {remote.url}")
        pin = ["-c", f"http.curloptResolve={remote.pinned}"] if remote.pinned else []
        git.run([*pin, "--git-dir", str(git_dir), "push", "-q", "--", remote.url, f"HEAD:refs/heads/{branch}"])
    return commit


def _prepare_local(git: Git, remote: GitRemote, branch: str, ctx: ActionContext) -> None:
    """Create the bare repository if missing; refuse one that already has the branch (never overwrite)."""
    path = remote.local_path
    assert path is not None
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        git.run(["init", "-q", "--bare", "--template=", "-b", branch, str(path)])
        ctx.log(f"Created the bare repository {path}")
        return
    try:
        bare = git.run(["--git-dir", str(path), "rev-parse", "--is-bare-repository"]).strip()
    except ActionError:
        bare = "false"
    if bare != "true":
        raise ActionError(f"{ctx.step_label}: {path} exists and is not a bare git repository")
    heads = git.run(["--git-dir", str(path), "for-each-ref", "--format=%(refname)", "refs/heads/"]).split()
    if f"refs/heads/{branch}" in heads:
        raise ActionError(f"{ctx.step_label}: the repository {path} already exists with a {branch} branch; "
                          "choose another name")


def refresh_checkout(ctx: ActionContext, remote: GitRemote, settings: Any) -> Path:
    """A fresh checkout of a local repository's default branch under the data folder, for the catalog."""
    assert remote.local_path is not None and remote.root is not None
    relative = remote.local_path.relative_to(remote.root)
    checkout = checkout_area(settings) / relative.parent / relative.name.removesuffix(".git")
    if checkout.exists():
        shutil.rmtree(checkout)
    checkout.parent.mkdir(parents=True, exist_ok=True)
    with git_session(settings.git_timeout, settings.git_config_file, None, ctx.step_label) as git:
        git.run(["clone", "-q", "--no-hardlinks", "--template=", "-b", branch_of(ctx), "--",
                 str(remote.local_path), str(checkout)])
    return checkout


def remote_of_input(ctx: ActionContext, settings: Any) -> GitRemote:
    """The remote named by input.remoteUrl, or by input.repoUrl (`host?owner=o&repo=r` → https://host/o/r.git)."""
    if "remoteUrl" in ctx.input:
        return check_remote(ctx.input["remoteUrl"], settings, f"{ctx.step_label}: input.remoteUrl")
    try:
        spec = parse_repo_url(ctx.input.get("repoUrl"))
    except FilterError as error:
        raise ActionError(f"{ctx.step_label}: input.repoUrl: {error}") from None
    owner = spec.get("owner") or spec.get("organization") or spec.get("workspace")
    url = f"https://{spec['host']}/{owner}/{spec['repo']}.git"
    return check_remote(url, settings, f"{ctx.step_label}: input.repoUrl")


class PublishGit(Action):
    id = "publish:git"
    description = ("Commits the workspace and pushes it to an https git remote on FLOWPORT_GIT_ALLOW_HOSTS or to a "
                   "local bare repository inside FLOWPORT_GIT_LOCAL_ROOTS (created when missing).")
    input_schema = {
        "type": "object", "additionalProperties": False,
        "oneOf": [{"required": ["remoteUrl"]}, {"required": ["repoUrl"]}],
        "properties": {
            "remoteUrl": {"type": "string", "maxLength": 2000,
                          "description": "https URL, or a path (relative to the first local root, or absolute)"},
            "repoUrl": {"type": "string", "maxLength": 2000, "description": "host?owner=o&repo=r"},
            **COMMON_INPUTS,
        },
    }
    output_schema = REPO_OUTPUT

    def run(self, ctx: ActionContext) -> None:
        settings = settings_of(ctx, self.id)
        remote = remote_of_input(ctx, settings)
        commit = push_workspace(ctx, remote, settings)
        ctx.output("remoteUrl", remote.url)
        ctx.output("commitHash", commit)
        if remote.is_local:
            checkout = refresh_checkout(ctx, remote, settings)
            ctx.log(f"Checked out {remote.url} at {checkout} for the catalog")
            ctx.output("repoContentsUrl", str(checkout))


def push_to_tool(ctx: ActionContext, settings: Any, url: str, credentials: GitCredentials) -> str:
    """Push to a repository a plugin just created: its host is the connection's, so it is allowed for this
    push even when FLOWPORT_GIT_ALLOW_HOSTS does not list it (addresses are still checked)."""
    host = (urlsplit(url).hostname or "").lower()
    allowed = settings.model_copy(update={"git_allow_hosts": [*settings.git_allow_hosts, host]})
    remote = check_remote(url, allowed, f"{ctx.step_label}: repository URL")
    return push_workspace(ctx, remote, allowed, credentials)
