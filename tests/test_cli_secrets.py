"""`flowport secrets` and the key check of `serve` and `worker`: readable refusals, rotation with progress."""

from __future__ import annotations

import json
import socket

import pytest
from cryptography.fernet import Fernet
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlmodel import Session

from portal.app import create_app
from portal.plugins.models import PluginConnection
from tests.auth.people import STRONG_SECRET_KEY, production_settings
from tests.test_cli import run_cli

OLD, NEW = Fernet.generate_key().decode(), Fernet.generate_key().decode()


# Without the check each command would fail fast for another reason (the port is taken, the interval is 0),
# so a missing check shows as a wrong exit code, never as a server left running.
@pytest.mark.parametrize("command", ["serve", "worker"])
def test_serve_and_worker_refuse_production_without_keys_in_one_readable_message(command, tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        args = ["serve", "--port", str(taken.getsockname()[1])] if command == "serve" else ["worker"]
        result = run_cli(args, env={"FLOWPORT_DATA_DIR": str(tmp_path),  # FLOWPORT_ENV defaults to production
                                    "FLOWPORT_CATALOG_REFRESH_INTERVAL": "0"})
    assert result.exit_code == 2
    assert "Error: Flowport will not start in production: FLOWPORT_SECRET_KEY is not set" in result.output
    assert "python -c 'import secrets; print(secrets.token_urlsafe(48))'" in result.output
    assert "FLOWPORT_SECRETS_KEY is not set; generate a key with `flowport secrets generate-key`" in result.output
    assert "Traceback" not in result.output


def test_a_weak_key_is_refused_without_being_echoed(tmp_path):
    result = run_cli(["worker"], env={"FLOWPORT_DATA_DIR": str(tmp_path), "FLOWPORT_SECRET_KEY": "hunter2hunter2",
                                      "FLOWPORT_SECRETS_KEY": NEW, "FLOWPORT_CATALOG_REFRESH_INTERVAL": "0"})
    assert result.exit_code == 2 and "FLOWPORT_SECRET_KEY is too short" in result.output
    assert "hunter2" not in result.output


def test_generate_key_prints_a_usable_fernet_key():
    result = run_cli(["secrets", "generate-key"])
    assert result.exit_code == 0
    key = result.output.strip()
    assert Fernet(key.encode()).decrypt(Fernet(key.encode()).encrypt(b"x")) == b"x"
    assert run_cli(["secrets", "generate-key"]).output.strip() != key


def _environment(database_url: str, tmp_path, keys: str) -> dict[str, str]:  # noqa: ANN001
    return {"FLOWPORT_ENV": "production", "FLOWPORT_DATABASE_URL": database_url, "FLOWPORT_DATA_DIR": str(tmp_path),
            "FLOWPORT_SECRET_KEY": STRONG_SECRET_KEY, "FLOWPORT_SECRETS_KEY": keys}


def _tokens(engine) -> dict[str, object]:  # noqa: ANN001
    with Session(engine) as session:
        return {row.name: json.loads(row.config) for row in session.execute(select(PluginConnection)).scalars()}


def test_rotate_re_encrypts_every_secret_with_the_first_key_so_old_keys_can_go(settings, engine, database_url, tmp_path,
                                                                              monkeypatch):
    monkeypatch.setenv("FLOWPORT_SECRET_HOOK", "hook-from-env")
    with_old = settings.model_copy(update={"secrets_key": OLD})
    with TestClient(create_app(with_old)) as client:
        for name in ("one", "two"):
            created = client.post("/api/v1/connections", json={"plugin": "github", "name": name, "config": {
                "token": f"ghp_{name}", "webhook_secrets": [f"hook-{name}", "env:FLOWPORT_SECRET_HOOK"]}})
            assert created.status_code == 201, created.text
    before = _tokens(engine)

    # A new key goes first; the old one still decrypts until the rotation has run.
    with TestClient(create_app(settings.model_copy(update={"secrets_key": f"{NEW},{OLD}"}))) as client:
        assert client.app.state.plugins.connection("github", "one").config.token.get_secret_value() == "ghp_one"

    result = run_cli(["secrets", "rotate"], env=_environment(database_url, tmp_path, f"{NEW},{OLD}"))
    assert result.exit_code == 0, result.output
    assert "github/one: re-encrypted 2 secret(s)" in result.output
    assert "Re-encrypted 4 secret(s) in 2 of 2 connection(s) with the first key" in result.output
    assert "ghp_one" not in result.output and NEW not in result.output

    after = _tokens(engine)
    assert after["one"]["webhook_secrets"][1] == {"env": "FLOWPORT_SECRET_HOOK"}
    assert after["one"]["token"] != before["one"]["token"]
    assert Fernet(NEW.encode()).decrypt(after["two"]["token"]["encrypted"].encode()) == b"ghp_two"
    with TestClient(create_app(settings.model_copy(update={"secrets_key": NEW}))) as client:
        assert client.app.state.plugins.connection("github", "two").config.token.get_secret_value() == "ghp_two"


def test_rotate_reports_a_connection_no_key_opens_and_exits_1(settings, engine, database_url, tmp_path):
    with TestClient(create_app(settings.model_copy(update={"secrets_key": OLD}))) as client:
        client.post("/api/v1/connections", json={"plugin": "github", "name": "lost", "config": {"token": "ghp_lost"}})
    result = run_cli(["secrets", "rotate"], env=_environment(database_url, tmp_path, NEW))
    assert result.exit_code == 1
    assert "github/lost: not rotated: a stored secret cannot be decrypted by any key in FLOWPORT_SECRETS_KEY" \
        in result.output
    assert "add the key they were encrypted with (after the new one) and run this again" in result.output
    assert "Traceback" not in result.output and "ghp_lost" not in result.output


def test_secrets_saved_under_the_derived_key_move_to_a_configured_one(settings, engine, database_url, tmp_path):
    # Before FLOWPORT_SECRETS_KEY was required, production derived the key from FLOWPORT_SECRET_KEY.
    derived = production_settings(settings, secrets_key=None).model_copy(update={"env": "test"})
    with TestClient(create_app(derived)) as client:
        client.post("/api/v1/connections", json={"plugin": "github", "name": "legacy", "config": {"token": "ghp_old"}})
    printed = run_cli(["secrets", "derived-key"], env={"FLOWPORT_SECRET_KEY": STRONG_SECRET_KEY})
    assert printed.exit_code == 0
    legacy = printed.output.strip()

    result = run_cli(["secrets", "rotate"], env=_environment(database_url, tmp_path, f"{NEW},{legacy}"))
    assert result.exit_code == 0, result.output
    assert "github/legacy: re-encrypted 1 secret(s)" in result.output
    assert Fernet(NEW.encode()).decrypt(_tokens(engine)["legacy"]["token"]["encrypted"].encode()) == b"ghp_old"
