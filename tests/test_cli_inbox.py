"""`flowport inbox process|replay`: the inbox from the command line, against the test database."""

import hashlib
import hmac

import pytest
import typer
from fastapi.testclient import TestClient
from sqlmodel import Session
from typer.testing import CliRunner

from portal.app import create_app
from portal.cli_inbox import register
from portal.webhooks.models import WebhookDelivery
from tests.conftest import FIXTURES

SECRET = "cli-secret"
PR_OPENED = (FIXTURES / "github/octokit-webhooks/pull_request/opened.payload.json").read_bytes()


@pytest.fixture
def cli(settings, database_url, monkeypatch):
    monkeypatch.setenv("FLOWPORT_DATABASE_URL", database_url)
    monkeypatch.setenv("FLOWPORT_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("FLOWPORT_GITHUB_WEBHOOK_SECRET", SECRET)
    app = typer.Typer()
    register(app)

    @app.callback()
    def main() -> None:
        """Stand-in for the flowport command."""

    return lambda *args: CliRunner().invoke(app, list(args))


@pytest.fixture
def delivery_id(cli, settings) -> int:
    headers = {"Content-Type": "application/json", "X-GitHub-Event": "pull_request", "X-GitHub-Delivery": "cli-1",
               "X-Hub-Signature-256": "sha256=" + hmac.new(SECRET.encode(), PR_OPENED, hashlib.sha256).hexdigest()}
    with TestClient(create_app(settings)) as client:
        return client.post("/webhooks/github", content=PR_OPENED, headers=headers).json()["id"]


def status_of(engine, delivery_id: int) -> str:
    with Session(engine) as session:
        return session.get(WebhookDelivery, delivery_id).status


def test_process_then_replay_by_id_and_since(cli, delivery_id, engine):
    result = cli("inbox", "process")
    assert result.exit_code == 0, result.output
    assert "Processed 1 of 1 due deliveries into 1 records" in result.output
    assert status_of(engine, delivery_id) == "processed"

    result = cli("inbox", "replay", "--id", str(delivery_id))
    assert result.exit_code == 0 and "Queued 1 delivery" in result.output
    assert status_of(engine, delivery_id) == "pending"
    cli("inbox", "process")
    result = cli("inbox", "replay", "--since", "2000-01-01T00:00:00Z", "--source", "gitlab")
    assert "Queued 0 deliveries" in result.output
    result = cli("inbox", "replay", "--since", "2000-01-01T00:00:00Z", "--source", "github")
    assert "Queued 1 delivery" in result.output and status_of(engine, delivery_id) == "pending"


@pytest.mark.parametrize("args, words", [
    ((), "give either --id N or --since TIME"),
    (("--id", "1", "--since", "2024-01-01"), "give either --id N or --since TIME"),
    (("--since", "last week"), "is not a time"),
])
def test_replay_usage_errors_are_one_line(cli, engine, args, words):
    result = cli("inbox", "replay", *args)
    assert result.exit_code == 2 and words in result.output and "Traceback" not in result.output


def test_replaying_a_missing_delivery_says_so(cli, engine):
    result = cli("inbox", "replay", "--id", "424242")
    assert result.exit_code == 1 and "no delivery 424242 to replay" in result.output
