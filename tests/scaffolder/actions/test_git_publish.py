"""publish:git against real git repositories in temporary folders."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from portal.scaffolder.actions import ActionError, validate_action_input
from portal.scaffolder.actions.contract import ActionInputError
from portal.scaffolder.actions.git_publish import PublishGit
from portal.scaffolder.actions.git_remotes import RemoteRefused
from portal.scaffolder.actions.paths import UnsafePathError
from tests.scaffolder.actions.git_support import (
    action_settings,
    bare_repo,
    last_commit,
    pushed_files,
    services,
)
from tests.scaffolder.actions.helpers import make_context

USER = {"ref": "user:default/ann", "entity": {
    "apiVersion": "backstage.io/v1alpha1", "kind": "User", "metadata": {"name": "ann"},
    "spec": {"profile": {"displayName": "Ann Example", "email": "ann@northwind.example"}}}}


def workspace(tmp_path: Path) -> Path:
    folder = tmp_path / "workspace"
    (folder / "app").mkdir(parents=True)
    (folder / "catalog-info.yaml").write_text("kind: Component\n")
    (folder / "app" / "main.py").write_text("print('hi')\n")
    return folder


def publish(tmp_path: Path, settings=None, user=None, **inputs):
    settings = settings or action_settings(tmp_path)
    ctx, lines = make_context(workspace(tmp_path) if not (tmp_path / "workspace").exists() else tmp_path / "workspace",
                              input=inputs, services=services(settings), user=user or {})
    validate_action_input(PublishGit(), inputs, "step")
    PublishGit().run(ctx)
    return ctx.outputs, lines, settings


def test_a_relative_remote_becomes_a_new_bare_repository_under_the_data_folder(tmp_path):
    outputs, lines, settings = publish(tmp_path, user=USER, remoteUrl="northwind/returns-service.git",
                                       gitCommitMessage="Start returns-service")
    bare = tmp_path / "data" / "git" / "northwind" / "returns-service.git"
    assert outputs["remoteUrl"] == str(bare.resolve())
    assert pushed_files(bare) == {"catalog-info.yaml": "kind: Component\n", "app/main.py": "print('hi')\n"}
    commit = last_commit(bare)
    assert commit == {"hash": outputs["commitHash"], "author": "Ann Example", "email": "ann@northwind.example",
                      "subject": "Start returns-service"}
    checkout = Path(outputs["repoContentsUrl"])
    assert checkout == (tmp_path / "data" / "git-checkouts" / "northwind" / "returns-service").resolve()
    assert (checkout / "catalog-info.yaml").read_text() == "kind: Component\n"
    assert any("Created the bare repository" in line for line in lines)
    # The workspace itself gets no .git folder: git worked in a directory of its own.
    assert not (tmp_path / "workspace" / ".git").exists()


def test_an_existing_empty_bare_repository_is_pushed_to_and_the_author_defaults_to_flowport(tmp_path):
    bare = bare_repo(tmp_path / "data" / "git" / "site.git", branch="trunk")
    outputs, _, _ = publish(tmp_path, remoteUrl=str(bare), defaultBranch="trunk", sourcePath="app")
    assert pushed_files(bare, "trunk") == {"main.py": "print('hi')\n"}
    assert last_commit(bare, "trunk")["author"] == "Flowport"
    assert last_commit(bare, "trunk")["subject"] == "Initial commit"


def test_a_file_url_inside_the_roots_is_a_local_remote(tmp_path):
    target = tmp_path / "data" / "git" / "by-url.git"
    outputs, _, _ = publish(tmp_path, remoteUrl=f"file://{target}")
    assert outputs["remoteUrl"] == str(target.resolve())
    assert "catalog-info.yaml" in pushed_files(target)


def test_a_repository_that_already_has_the_branch_is_not_overwritten(tmp_path):
    publish(tmp_path, remoteUrl="taken.git")
    first = last_commit(tmp_path / "data" / "git" / "taken.git")
    with pytest.raises(ActionError, match="already exists with a main branch; choose another name"):
        publish(tmp_path, remoteUrl="taken.git")
    assert last_commit(tmp_path / "data" / "git" / "taken.git") == first


def test_a_folder_that_is_not_a_bare_repository_is_refused(tmp_path):
    (tmp_path / "data" / "git" / "plain").mkdir(parents=True)
    with pytest.raises(ActionError, match="exists and is not a bare git repository"):
        publish(tmp_path, remoteUrl="plain")


def test_configured_roots_replace_the_default(tmp_path):
    settings = action_settings(tmp_path, git_local_roots=[str(tmp_path / "repos")])
    outputs, _, _ = publish(tmp_path, settings=settings, remoteUrl="x.git")
    assert outputs["remoteUrl"] == str((tmp_path / "repos" / "x.git").resolve())
    with pytest.raises(RemoteRefused, match="FLOWPORT_GIT_LOCAL_ROOTS"):
        publish(tmp_path, settings=settings, remoteUrl=str(tmp_path / "data" / "git" / "y.git"))


@pytest.mark.parametrize(("remote", "reason"), [
    ("../outside.git", "leaves its folder"),
    ("a/../../outside.git", "leaves its folder"),
    ("/etc/flowport.git", "not inside a folder local repositories may live in"),
    ("file:///tmp/elsewhere.git", "not inside a folder local repositories may live in"),
    ("file://other-host/srv/x.git", "names a file on another host"),
    ("ext::sh -c touch% /tmp/pwned", "remote helper"),
    ("fd::17", "remote helper"),
    ("--upload-pack=touch /tmp/pwned", "starts with '-'"),
    ("-oProxyCommand=touch /tmp/pwned", "starts with '-'"),
    ("ssh://-oProxyCommand=touch%20/tmp/pwned/x", "uses ssh://"),
    ("git@github.com:northwind/x.git", "is an ssh address"),
    ("git://github.com/northwind/x.git", "uses git://"),
    ("http://github.com/northwind/x.git", "uses http://"),
    ("https://github.com/northwind/x.git", "host 'github.com' is not allowed; add it to FLOWPORT_GIT_ALLOW_HOSTS"),
    ("a\x00b", "control characters"),
    ("x" * 2001, "is too long"),
])
def test_remotes_outside_the_rules_are_refused_before_git_runs(tmp_path, remote, reason):
    with pytest.raises(ActionError, match=reason.replace("(", r"\(").replace(")", r"\)")):
        publish(tmp_path, remoteUrl=remote)
    assert not (tmp_path / "data").exists() or not any((tmp_path / "data").rglob("*.git"))
    assert not Path("/tmp/pwned").exists()


def test_an_allowed_https_host_with_a_literal_private_address_is_refused(tmp_path):
    settings = action_settings(tmp_path, git_allow_hosts=["*"])
    for remote in ("https://127.0.0.1/x.git", "https://169.254.169.254/x.git", "https://[::1]/x.git",
                   "https://2130706433/x.git"):
        with pytest.raises(RemoteRefused, match="is not fetched"):
            publish(tmp_path, settings=settings, remoteUrl=remote)


def test_an_allowed_name_resolving_to_loopback_is_refused(tmp_path):
    settings = action_settings(tmp_path, git_allow_hosts=["localhost"])
    with pytest.raises(RemoteRefused, match="localhost resolves to .* loopback"):
        publish(tmp_path, settings=settings, remoteUrl="https://localhost/x.git")


def test_credentials_in_an_https_remote_are_refused(tmp_path):
    settings = action_settings(tmp_path, git_allow_hosts=["git.example.com"])
    with pytest.raises(RemoteRefused, match="must not carry a user name or token"):
        publish(tmp_path, settings=settings, remoteUrl="https://user:tok@git.example.com/x.git")


def test_repo_url_form_becomes_an_https_remote_pushed_through_the_operators_git_config(tmp_path):
    # The operator's git config rewrites the host to a local mirror: the push really happens.
    mirror = bare_repo(tmp_path / "mirror" / "northwind" / "svc.git")
    config = tmp_path / "gitconfig"
    config.write_text(f'[url "{tmp_path / "mirror"}/"]\n\tinsteadOf = https://git.example.com/\n')
    settings = action_settings(tmp_path, git_allow_hosts=["git.example.com"], git_config_file=config)
    outputs, _, _ = publish(tmp_path, settings=settings, repoUrl="git.example.com?owner=northwind&repo=svc")
    assert outputs["remoteUrl"] == "https://git.example.com/northwind/svc.git"
    assert "repoContentsUrl" not in outputs  # an https remote's contents are not readable by path
    assert pushed_files(mirror)["catalog-info.yaml"] == "kind: Component\n"


@pytest.mark.parametrize("inputs", [
    {}, {"remoteUrl": 5}, {"remoteUrl": "a.git", "repoUrl": "github.com?owner=o&repo=r"},
    {"remoteUrl": "a.git", "unknown": True}, {"remoteUrl": "a.git", "gitCommitMessage": "x" * 10_001},
])
def test_inputs_that_do_not_fit_the_schema_are_refused(inputs):
    with pytest.raises(ActionInputError):
        validate_action_input(PublishGit(), inputs, "step")


@pytest.mark.parametrize(("inputs", "error", "reason"), [
    ({"defaultBranch": "-f"}, ActionError, "not a usable branch name"),
    ({"defaultBranch": "a..b"}, ActionError, "not a usable branch name"),
    ({"sourcePath": "../.."}, UnsafePathError, "leaves its folder"),
    ({"sourcePath": "missing"}, ActionError, "is not a folder"),
    ({"gitCommitMessage": "a\x00b"}, ActionError, "NUL"),
])
def test_bad_branch_source_and_message_are_refused(tmp_path, inputs, error, reason):
    with pytest.raises(error, match=reason):
        publish(tmp_path, remoteUrl="ok.git", **inputs)
    assert not (tmp_path / "data" / "git" / "ok.git").exists() or not pushed_files_exist(tmp_path)


def pushed_files_exist(tmp_path: Path) -> bool:
    try:
        return bool(pushed_files(tmp_path / "data" / "git" / "ok.git"))
    except Exception:  # noqa: BLE001 - no branch at all
        return False


def test_a_hostile_author_cannot_break_the_identity(tmp_path):
    publish(tmp_path, remoteUrl="who.git", gitAuthorName="Eve <evil@x>\nSigned-off-by: root",
            gitAuthorEmail="eve@x>\n")
    commit = last_commit(tmp_path / "data" / "git" / "who.git")
    assert (commit["author"], commit["email"]) == ("Eve evil@xSigned-off-by: root", "eve@x")


def test_publish_git_needs_the_runners_services(tmp_path):
    ctx, _ = make_context(workspace(tmp_path), input={"remoteUrl": "a.git"})
    with pytest.raises(ActionError, match="needs the portal's services"):
        PublishGit().run(ctx)
    assert PublishGit.supports_dry_run is False
    assert os.listdir(tmp_path) == ["workspace"]


def test_a_symbolic_link_inside_the_root_leading_out_is_refused(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    root = tmp_path / "data" / "git"
    root.mkdir(parents=True)
    (root / "sneaky").symlink_to(outside)
    with pytest.raises(RemoteRefused, match="not inside a folder local repositories may live in"):
        publish(tmp_path, remoteUrl="sneaky/x.git")
    assert list(outside.iterdir()) == []


def test_a_cancelled_run_stops_before_pushing(tmp_path):
    from portal.scaffolder.actions import TaskCancelled

    ctx, _ = make_context(workspace(tmp_path), input={"remoteUrl": "late.git"},
                          services=services(action_settings(tmp_path)), is_cancelled=lambda: True)
    with pytest.raises(TaskCancelled):
        PublishGit().run(ctx)
    assert not (tmp_path / "data" / "git" / "late.git").exists()


def test_git_connects_to_the_addresses_that_were_checked(tmp_path, monkeypatch):
    # The name resolves to a public address now; git is told to use exactly that one (no second lookup).
    from portal.scaffolder.actions import git_remotes

    monkeypatch.setattr(git_remotes, "system_resolver", lambda host: ["93.184.215.14", "2606:2800:21f:cb07::1"])
    mirror = bare_repo(tmp_path / "mirror" / "northwind" / "svc.git")
    config = tmp_path / "gitconfig"
    config.write_text(f'[url "{tmp_path / "mirror"}/"]\n\tinsteadOf = https://git.example.com/\n')
    argvs: list[list[str]] = []

    class RecordingPopen(subprocess.Popen):
        def __init__(self, argv, **options):
            argvs.append(list(argv))
            super().__init__(argv, **options)

    monkeypatch.setattr(subprocess, "Popen", RecordingPopen)
    settings = action_settings(tmp_path, git_allow_hosts=["git.example.com"], git_config_file=config)
    publish(tmp_path, settings=settings, remoteUrl="https://git.example.com/northwind/svc.git")
    push = next(argv for argv in argvs if "push" in argv)
    assert "http.curloptResolve=git.example.com:443:93.184.215.14,[2606:2800:21f:cb07::1]" in push
    assert "catalog-info.yaml" in pushed_files(mirror)


def test_a_name_resolving_to_the_metadata_address_is_refused(tmp_path, monkeypatch):
    from portal.scaffolder.actions import git_remotes

    monkeypatch.setattr(git_remotes, "system_resolver", lambda host: ["93.184.215.14", "169.254.169.254"])
    settings = action_settings(tmp_path, git_allow_hosts=["git.example.com"])
    with pytest.raises(RemoteRefused, match="git.example.com resolves to 169.254.169.254 is the cloud metadata"):
        publish(tmp_path, settings=settings, remoteUrl="https://git.example.com/northwind/svc.git")


def test_the_checkout_for_the_catalog_holds_no_symbolic_links(tmp_path):
    folder = workspace(tmp_path)
    (folder / "linked.yaml").symlink_to("/etc/hostname")
    outputs, _, _ = publish(tmp_path, remoteUrl="links.git")
    checked_out = Path(outputs["repoContentsUrl"]) / "linked.yaml"
    assert not checked_out.is_symlink()
    assert checked_out.read_text() == "/etc/hostname"


def test_the_servers_own_git_environment_does_not_reach_git(tmp_path, monkeypatch):
    # Variables that would send git elsewhere if they leaked into its environment.
    monkeypatch.setenv("GIT_DIR", str(tmp_path / "elsewhere.git"))
    monkeypatch.setenv("GIT_WORK_TREE", str(tmp_path))
    monkeypatch.setenv("GIT_CONFIG_PARAMETERS", "'core.hooksPath'='/tmp/evil-hooks'")
    monkeypatch.setenv("GIT_SSH_COMMAND", "touch /tmp/pwned-ssh")
    outputs, _, _ = publish(tmp_path, remoteUrl="env.git")
    assert "catalog-info.yaml" in pushed_files(tmp_path / "data" / "git" / "env.git")
    assert not (tmp_path / "elsewhere.git").exists()
    assert len(outputs["commitHash"]) == 40
