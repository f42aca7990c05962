"""The connection lease (no two workers sync one connection) and the worker's sync schedule."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlmodel import Session

from flowport_github import GitHubPlugin
from portal.flow.models import FlowChange
from portal.plugins.registry import PluginRegistry
from portal.settings import Settings
from portal.sync import store
from portal.sync.models import SyncStateRow
from portal.sync.runner import run_due_syncs, supports_sync, sync_connection, sync_targets
from tests.sync.fake_github import make_pull


def test_a_lease_is_held_by_one_worker_until_released(engine):
    assert store.claim(engine, "github", "default", "worker-a")
    assert not store.claim(engine, "github", "default", "worker-b")
    assert store.claim(engine, "github", "default", "worker-a")  # renewing its own lease
    store.release(engine, "github", "default", "worker-a")
    assert store.claim(engine, "github", "default", "worker-b")


def test_an_expired_lease_of_a_crashed_worker_can_be_taken(engine):
    past = datetime.now(UTC) - timedelta(hours=1)
    assert store.claim(engine, "github", "default", "crashed", now=past, lease_seconds=60)
    assert store.claim(engine, "github", "default", "worker-b")


def test_concurrent_claims_have_exactly_one_winner(engine):
    store.claim(engine, "github", "default", "warm-up")
    store.release(engine, "github", "default", "warm-up")
    winners: list[str] = []
    barrier = threading.Barrier(6)

    def contend(owner: str) -> None:
        barrier.wait()
        if store.claim(engine, "github", "default", owner):
            winners.append(owner)

    threads = [threading.Thread(target=contend, args=(f"worker-{n}",)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(winners) == 1


def test_sync_skips_a_connection_another_worker_is_syncing(engine, linked_repo, github, github_plugin, clock):
    github.pulls = [make_pull(1, 10)]
    store.claim(engine, "github", "default", "other-worker")
    report = asyncio.run(sync_connection(engine, github_plugin, transport=github.transport(), sleep=clock.sleep))
    assert report.skipped and not report.ok
    assert github.requests == []


def test_the_lease_is_released_after_a_run(engine, linked_repo, github, github_plugin, clock):
    asyncio.run(sync_connection(engine, github_plugin, transport=github.transport(), sleep=clock.sleep))
    with Session(engine) as session:
        row = session.execute(select(SyncStateRow).where(SyncStateRow.resource == "")).scalar_one()
    assert row.lease_owner is None and row.last_sync_at is not None and row.last_success_at is not None


def _registry() -> PluginRegistry:
    registry = PluginRegistry()
    registry.add_class(GitHubPlugin)
    registry.configure("github", {"name": "default", "token": "ghp_x"})
    registry.configure("github", {"name": "enterprise", "api_url": "https://ghe.example.com/api/v3"})
    return registry


def test_sync_targets_are_connections_of_plugins_that_can_pull():
    registry = _registry()
    assert [p.config.name for p in sync_targets(registry)] == ["default", "enterprise"]
    assert [p.config.name for p in sync_targets(registry, "github", "enterprise")] == ["enterprise"]
    assert sync_targets(registry, "jira") == []
    assert supports_sync(registry.connection("github"))


def test_run_due_syncs_syncs_each_connection_once_per_interval(engine, linked_repo, github, clock):
    github.pulls = [make_pull(1, 10)]
    registry = _registry()
    settings = Settings(sync_interval=600)
    reports = run_due_syncs(engine, registry, settings, transport=github.transport(), sleep=clock.sleep)
    assert [(r.connection, r.ok) for r in reports] == [("default", True), ("enterprise", True)]
    assert len(_all(engine, FlowChange)) == 1
    # Within the interval nothing is due; after it, both are.
    assert run_due_syncs(engine, registry, settings, transport=github.transport(), sleep=clock.sleep) == []
    later = datetime.now(UTC) + timedelta(seconds=601)
    assert len(run_due_syncs(engine, registry, settings, transport=github.transport(), sleep=clock.sleep,
                             now=later)) == 2


def test_a_failed_connection_is_retried_on_schedule_like_any_other(engine, github, clock):
    registry = _registry()
    with Session(engine) as session:
        store.finish(engine, "github", "default", requests=1, not_modified=0, records=0, error="boom",
                     succeeded=False)
        session.execute(update(SyncStateRow).values(last_sync_at=datetime.now(UTC) - timedelta(hours=1)))
        session.commit()
    reports = run_due_syncs(engine, registry, Settings(sync_interval=600), transport=github.transport(),
                            sleep=clock.sleep)
    assert {r.connection for r in reports} == {"default", "enterprise"}


def _all(engine, model):
    with Session(engine) as session:
        return session.execute(select(model)).scalars().all()


def test_sync_status_reports_the_last_run_of_each_connection(engine, linked_repo, github, github_plugin, clock):
    github.pulls = [make_pull(1, 10)]
    asyncio.run(sync_connection(engine, github_plugin, transport=github.transport(), sleep=clock.sleep))
    [status] = store.sync_status(engine)
    assert (status["source"], status["connection"], status["syncing"]) == ("github", "default", False)
    # Five lists and the pull request's commits; two records changed: the pull request (stored by the list and
    # again with its first commit time: counted once) and its commit.
    assert status["last_requests"] == 6 and status["last_records"] == 2 and status["last_error"] is None
    assert status["last_success_at"] is not None


def test_the_plugins_api_and_admin_page_show_the_last_sync(engine, linked_repo, github, github_plugin, clock, client):
    github.pulls = [make_pull(1, 10)]
    asyncio.run(sync_connection(engine, github_plugin, transport=github.transport(), sleep=clock.sleep))
    plugins = {p["name"]: p for p in client.get("/api/v1/plugins").json()["items"]}
    [sync] = plugins["github"]["syncs"]
    assert sync["connection"] == "default" and sync["lastRecords"] == 2 and sync["lastSyncAt"]
    assert plugins["gitlab"]["syncs"] == []
    page = client.get("/admin/plugins", headers={"Accept": "text/html"}).text
    assert "6 requests (0 unchanged), 2 records" in page
