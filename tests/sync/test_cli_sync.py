"""`flowport sync`: syncs the configured connections with a summary, and explains when it cannot."""

from __future__ import annotations

import functools
import os

import httpx
import pytest
import typer
from sqlalchemy import select
from sqlmodel import Session
from typer.testing import CliRunner

from portal import cli_sync
from portal.flow.models import FlowChange
from tests.sync.fake_github import make_pull


def cli_app() -> typer.Typer:
    app = typer.Typer()
    app.callback()(lambda: None)  # a group, so the command is called as `sync`
    cli_sync.register(app)
    return app


def run_cli(args: list[str], env: dict[str, str]):
    isolated: dict[str, str | None] = {key: None for key in os.environ if key.startswith("FLOWPORT_")}
    isolated.update(env)
    return CliRunner().invoke(cli_app(), args, env=isolated)


@pytest.fixture
def stubbed_github(monkeypatch, github, clock):
    """Route the command's HTTP to the stub API and its waiting to the fake clock."""
    monkeypatch.setattr(cli_sync, "sync_connection", functools.partial(
        cli_sync.sync_connection, transport=github.transport(), sleep=clock.sleep, clock=clock))
    return github


def test_sync_github_stores_records_and_prints_a_summary(database_url, engine, linked_repo, stubbed_github, tmp_path):
    stubbed_github.pulls = [make_pull(n, n * 10) for n in range(1, 4)]
    env = {"FLOWPORT_DATABASE_URL": database_url, "FLOWPORT_DATA_DIR": str(tmp_path),
           "FLOWPORT_GITHUB_TOKEN": "ghp_cli"}
    result = run_cli(["sync", "github"], env)
    assert result.exit_code == 0, result.output
    # Two pages of pull requests, a page per pull request's commits, one page of each other list; each pull
    # request gives itself and its commit (its first commit time updates the same record: counted once).
    assert "github/default: done, 9 pages, 6 records" in result.stdout
    with Session(engine) as session:
        assert len(session.execute(select(FlowChange)).scalars().all()) == 3
    assert stubbed_github.requests[0].headers["authorization"] == "Bearer ghp_cli"

    again = run_cli(["sync", "github", "--connection", "default"], env)
    assert "5 not modified" in again.stdout


def test_sync_without_a_configured_connection_says_how_to_add_one(database_url, engine, tmp_path):
    result = run_cli(["sync"], {"FLOWPORT_DATABASE_URL": database_url, "FLOWPORT_DATA_DIR": str(tmp_path)})
    assert result.exit_code == 2
    assert "nothing to sync" in result.output and "FLOWPORT_GITHUB_TOKEN" in result.output


def test_sync_of_an_unknown_plugin_names_the_installed_ones(database_url, engine, tmp_path):
    result = run_cli(["sync", "bitbucket"], {"FLOWPORT_DATABASE_URL": database_url, "FLOWPORT_DATA_DIR": str(tmp_path)})
    assert result.exit_code == 2
    assert "no plugin named 'bitbucket'" in result.output and "github" in result.output


def test_a_failing_tool_exits_1_with_the_reason(database_url, engine, linked_repo, stubbed_github, tmp_path):
    stubbed_github.interceptors.append(lambda request: httpx.Response(401, json={"message": "Bad credentials"}))
    env = {"FLOWPORT_DATABASE_URL": database_url, "FLOWPORT_DATA_DIR": str(tmp_path), "FLOWPORT_GITHUB_TOKEN": "bad"}
    result = run_cli(["sync", "github"], env)
    assert result.exit_code == 1
    assert "failed" in result.stdout and "HTTP 401" in result.stdout and "Bad credentials" in result.stdout


def test_sync_cdevents_reports_skipped_events_and_a_missing_feed(database_url, engine, monkeypatch, tmp_path):
    from tests.sync.fake_feed import FEED, FakeFeed, cloudevent

    feed = FakeFeed([cloudevent("spec-v0.5.1/change_created.json", "evt-1", 1), ["not", "an", "event"]])
    monkeypatch.setattr(cli_sync, "sync_connection", functools.partial(cli_sync.sync_connection,
                                                                       transport=feed.transport()))
    env = {"FLOWPORT_DATABASE_URL": database_url, "FLOWPORT_DATA_DIR": str(tmp_path),
           "FLOWPORT_CDEVENTS_FEED_URL": FEED}
    result = run_cli(["sync", "cdevents"], env)
    assert result.exit_code == 0, result.output
    # The feed page, then the catch-up read from the newest event (which serves that event again: the same
    # record, counted once).
    assert "cdevents/default: done, 2 pages, 1 records, 2 requests (0 not modified, 0 retried)" in result.stdout
    assert f"skipped 1 unreadable item: event 2 of {FEED}: is a JSON list, not an object" in result.stdout

    webhook_only = {**env, "FLOWPORT_CDEVENTS_FEED_URL": None, "FLOWPORT_CDEVENTS_WEBHOOK_SECRET": "whsec_x"}
    skipped = run_cli(["sync", "cdevents"], webhook_only)
    assert skipped.exit_code == 0, skipped.output
    assert "cdevents/default: skipped (CDEvents connection 'default' has no feed to pull from: set feed_url" \
        in skipped.stdout
