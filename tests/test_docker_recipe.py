"""Replays the Dockerfile's recipe without Docker: wheel, clean install, the image's ENV, CMD and HEALTHCHECK."""

from __future__ import annotations

import fnmatch
import json
import os
import re
import secrets
import shlex
import shutil
import subprocess
import sys
import tomllib
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import httpx
import pytest

from tests.test_cli_processes import free_port, stop, wait_until_healthy

REPO_ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = REPO_ROOT / "Dockerfile"
KEYS = ("FLOWPORT_SECRET_KEY", "FLOWPORT_SECRETS_KEY")


@dataclass
class RuntimeStage:
    """What the final stage of the Dockerfile declares."""

    env: dict[str, str] = field(default_factory=dict)
    copies: dict[str, str] = field(default_factory=dict)  # image path -> path in the build context
    runs: list[str] = field(default_factory=list)
    cmd: list[str] = field(default_factory=list)
    healthcheck: list[str] = field(default_factory=list)
    expose: list[str] = field(default_factory=list)
    user: str = ""
    volumes: list[str] = field(default_factory=list)


def _instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs with line continuations joined and comments dropped."""
    joined = text.replace("\\\n", " ")
    result = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            result.append((keyword.upper(), rest.strip()))
    return result


def _exec_form(arguments: str) -> list[str]:
    value = json.loads(arguments)
    assert isinstance(value, list), f"expected the exec form [...] in the Dockerfile, got {arguments}"
    return value


def stages(text: str) -> list[tuple[str, list[tuple[str, str]]]]:
    """Each stage's name (`AS name`, else its base image) and its instructions."""
    result: list[tuple[str, list[tuple[str, str]]]] = []
    for keyword, arguments in _instructions(text):
        if keyword == "FROM":
            words = arguments.split()
            result.append((words[-1] if len(words) >= 3 and words[-2].upper() == "AS" else words[0], []))
        elif result:
            result[-1][1].append((keyword, arguments))
    return result


def _dockerignored(relative: str, patterns: list[str]) -> bool:
    for pattern in patterns:
        if pattern.startswith("**/"):
            if fnmatch.fnmatch(PurePosixPath(relative).name, pattern[3:]):
                return True
        elif fnmatch.fnmatch(relative, pattern) or relative.startswith(pattern.rstrip("/") + "/"):
            return True
    return False


def _copy_into_context(source: Path, target: Path, patterns: list[str]) -> None:
    """COPY semantics: a folder's contents go into the target folder; .dockerignore applies."""
    if source.is_dir():
        for path in sorted(source.rglob("*")):
            relative = path.relative_to(REPO_ROOT).as_posix()
            if path.is_file() and not _dockerignored(relative, patterns):
                destination = target / path.relative_to(source)
                destination.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, destination)
        return
    destination = target / source.name if target.is_dir() or str(target).endswith("/") else target
    destination.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(source, destination)


def replay_builder_copies(text: str, context: Path) -> list[str]:
    """Lay out the builder stage's files as its COPY lines do; returns its RUN lines.

    `COPY --from=<stage>` reads from that stage's WORKDIR, which here is the checkout
    (`make install` ran the same `npm ci` there).
    """
    patterns = [line.strip() for line in (REPO_ROOT / ".dockerignore").read_text().splitlines()
                if line.strip() and not line.startswith("#")]
    all_stages = dict(stages(text))
    workdirs = {name: next((a for k, a in body if k == "WORKDIR"), "/") for name, body in all_stages.items()}
    runs = []
    for keyword, arguments in all_stages["builder"]:
        if keyword == "RUN":
            runs.append(arguments)
        if keyword != "COPY":
            continue
        *sources, target = shlex.split(arguments)
        root = REPO_ROOT
        if sources[0].startswith("--from="):
            stage_workdir = workdirs[sources.pop(0).split("=", 1)[1]]
            sources = [str(PurePosixPath(source).relative_to(stage_workdir)) for source in sources]
        target_path = context / target
        if len(sources) > 1 or target.endswith("/"):
            target_path.mkdir(parents=True, exist_ok=True)
        for source in sources:
            assert (root / source).exists(), f"the Dockerfile copies {source}, which does not exist"
            _copy_into_context(root / source, target_path, patterns)
    return runs


def parse_runtime_stage(text: str) -> RuntimeStage:
    """Read the last stage: the image that runs."""
    stage = RuntimeStage()
    for keyword, arguments in stages(text)[-1][1]:
        if keyword == "ENV":
            for pair in shlex.split(arguments):
                name, _, value = pair.partition("=")
                stage.env[name] = value
        elif keyword == "COPY" and not arguments.startswith("--from"):
            source, destination = shlex.split(arguments)
            stage.copies[destination] = source
        elif keyword == "RUN":
            stage.runs.append(arguments)
        elif keyword == "CMD":
            stage.cmd = _exec_form(arguments)
        elif keyword == "HEALTHCHECK":
            stage.healthcheck = _exec_form(arguments[arguments.index("CMD") + 3:].strip())
        elif keyword == "EXPOSE":
            stage.expose += arguments.split()
        elif keyword == "USER":
            stage.user = arguments
        elif keyword == "VOLUME":
            stage.volumes += json.loads(arguments) if arguments.startswith("[") else arguments.split()
    return stage


def local_env(stage: RuntimeStage, venv_bin: Path, data_dir: Path, port: int) -> dict[str, str]:
    """The image's ENV with image paths mapped to this checkout, the volume to a temp dir, a free port."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("FLOWPORT_", "VIRTUAL_ENV"))}
    env["PATH"] = f"{venv_bin}{os.pathsep}{env.get('PATH', '')}"
    replacements = {image: str(REPO_ROOT / context) for image, context in stage.copies.items()}
    replacements.update({volume: str(data_dir) for volume in stage.volumes})
    for name, value in stage.env.items():
        for image_path, local_path in replacements.items():
            if value == image_path or value.startswith(image_path + "/"):
                value = local_path + value[len(image_path):]
        env[name] = value
    env["FLOWPORT_PORT"] = str(port)
    return env


def test_dockerfile_runtime_stage_is_what_the_docs_promise():
    stage = parse_runtime_stage(DOCKERFILE.read_text(encoding="utf-8"))

    assert stage.cmd[:2] == ["flowport", "serve"]
    assert stage.user == "flowport"
    assert any("--uid 10001" in run for run in stage.runs)
    assert any("pip install" in run and "/wheels/*.whl" in run for run in stage.runs)
    assert stage.expose == ["8000"] and stage.env["FLOWPORT_PORT"] == "8000"
    assert stage.volumes == ["/data"] and stage.env["FLOWPORT_DATA_DIR"] == "/data"
    assert stage.env["FLOWPORT_CATALOG_PATHS"] in stage.copies
    assert stage.env["FLOWPORT_TEMPLATE_PATHS"] in stage.copies
    assert stage.healthcheck[0] == "python" and "/healthz" in stage.healthcheck[-1]


def docker_runs(markdown: str) -> list[str]:
    """Every `docker run` command of a document's shell blocks, continuation lines joined."""
    blocks = re.findall(r"```sh\n(.*?)```", markdown, flags=re.DOTALL)
    lines = "\n".join(blocks).replace("\\\n", " ").splitlines()
    return [line for line in lines if line.strip().startswith("docker run") and "flowport serve" not in line
            and "generate-key" not in line]


def test_every_documented_docker_run_passes_both_keys():
    for document in (REPO_ROOT / "README.md", REPO_ROOT / "docs" / "deployment.md"):
        text = document.read_text(encoding="utf-8")
        runs = docker_runs(text)
        assert runs, f"{document.name} shows no `docker run`"
        for run in runs:
            assert "--env-file flowport.env" in run or all(f"-e {key}=" in run for key in KEYS), (document.name, run)
        assert all(f"{key}=" in text for key in KEYS), document.name
        assert "flowport secrets generate-key" in text and "secrets.token_urlsafe(48)" in text
    stage = parse_runtime_stage(DOCKERFILE.read_text(encoding="utf-8"))
    assert not set(KEYS) & set(stage.env), "keys must never be baked into the image"


def documented_keys(venv: Path) -> dict[str, str]:
    """The two keys made as README.md says: the standard library and the image's own `flowport secrets generate-key`."""
    fernet = subprocess.run([str(venv / "bin" / "flowport"), "secrets", "generate-key"],
                            capture_output=True, text=True, check=True).stdout.strip()
    return {"FLOWPORT_SECRET_KEY": secrets.token_urlsafe(48), "FLOWPORT_SECRETS_KEY": fernet}


@pytest.fixture(scope="module")
def installed_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build the wheel from exactly what the builder stage copies, and install it into a clean virtualenv."""
    assert (REPO_ROOT / "node_modules" / "htmx.org").is_dir(), "node_modules is missing; run `make install`"
    work = tmp_path_factory.mktemp("docker-recipe")
    context = work / "src"
    context.mkdir()
    runs = replay_builder_copies(DOCKERFILE.read_text(encoding="utf-8"), context)
    build_command = shlex.split(next(run for run in runs if "-m build" in run))
    assert build_command[:3] == ["python", "-m", "build"], build_command
    outdir = build_command[build_command.index("--outdir") + 1]
    build_command = [sys.executable, *build_command[1:]]
    build_command[build_command.index(outdir)] = str(work / "wheels")
    built = subprocess.run(build_command, cwd=context, capture_output=True, text=True)
    assert built.returncode == 0, f"{built.stdout}\n{built.stderr}"
    wheel = next((work / "wheels").glob("flowport-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "portal/web/static/vendor/htmx.min.js" in names
    assert "portal/web/static/vendor/swagger-ui/swagger-ui-bundle.js" in names
    assert any(name.startswith("portal/_migrations/versions/") for name in names)
    venv = work / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    installed = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", str(wheel)],
        capture_output=True, text=True,
    )
    assert installed.returncode == 0, installed.stderr
    return venv


@pytest.mark.slow
def test_image_cmd_serves_the_portal_from_a_clean_wheel_install(installed_venv: Path, tmp_path: Path,
                                                               database_url: str, engine):
    stage = parse_runtime_stage(DOCKERFILE.read_text(encoding="utf-8"))
    port = free_port()
    env = local_env(stage, installed_venv / "bin", tmp_path / "data", port)
    env.update(documented_keys(installed_venv))
    on_postgres = bool(os.environ.get("FLOWPORT_TEST_DATABASE_URL"))
    if on_postgres:
        # The image's documented PostgreSQL mode; otherwise its default, SQLite in the /data volume.
        env["FLOWPORT_DATABASE_URL"] = database_url
    base = f"http://127.0.0.1:{port}"
    # The CMD exactly as written; `flowport` resolves to the clean venv through PATH, as in the image.
    process = subprocess.Popen(
        stage.cmd, env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        wait_until_healthy(base, process, deadline_s=120)
        ready = httpx.get(f"{base}/readyz", timeout=10)
        home = httpx.get(f"{base}/", headers={"accept": "text/html"}, timeout=10)
        htmx = httpx.get(f"{base}/static/vendor/htmx.min.js", timeout=10)
        demo_product = httpx.get(
            f"{base}/api/catalog/entities/by-name/platformproduct/default/delivery-platform", timeout=10
        )
        # Production shows anonymous callers the catalog only: read plugin health with an API token, made
        # with the image's own `flowport token create` as an operator would.
        made = subprocess.run(["flowport", "token", "create", "--name", "recipe test", "--user",
                               "user:default/ingrid.solberg", "--scopes", "read", "--expires", "1d"],
                              env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60)
        assert made.returncode == 0, made.stderr
        token = made.stdout.strip().splitlines()[-1]
        assert httpx.get(f"{base}/api/v1/plugins", timeout=10).status_code == 401
        plugins = httpx.get(f"{base}/api/v1/plugins", headers={"Authorization": f"Bearer {token}"},
                            timeout=10).json()["items"]
        probe = subprocess.run(stage.healthcheck, env=env, capture_output=True, text=True, timeout=30)
    finally:
        output = stop(process)

    assert ready.status_code == 200, f"{ready.text}\n{output}"
    assert home.status_code == 200 and "text/html" in home.headers["content-type"]
    assert "/static/vendor/htmx.min.js" in home.text
    assert htmx.status_code == 200 and len(htmx.content) > 1000
    assert demo_product.status_code == 200, f"demo catalog not loaded:\n{output}"
    declared = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]["entry-points"]["flowport.plugins"]
    assert {plugin["name"]: plugin["error"] for plugin in plugins if plugin["loaded"]} == dict.fromkeys(declared), plugins
    assert probe.returncode == 0, probe.stderr
    assert on_postgres or (tmp_path / "data" / "flowport.db").is_file()
    assert "Traceback" not in output


@pytest.mark.slow
def test_image_cmd_refuses_to_start_without_the_keys(installed_venv: Path, tmp_path: Path):
    stage = parse_runtime_stage(DOCKERFILE.read_text(encoding="utf-8"))
    env = local_env(stage, installed_venv / "bin", tmp_path / "data", free_port())
    refused = subprocess.run(stage.cmd, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "FLOWPORT_SECRET_KEY is not set" in refused.stderr and "FLOWPORT_SECRETS_KEY is not set" in refused.stderr
    assert "Traceback" not in refused.stdout + refused.stderr
