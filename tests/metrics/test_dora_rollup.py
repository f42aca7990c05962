"""The DORA rollup agrees with deriving the metrics from the raw records, however the records arrive.

Each scenario writes a random history through the flow writer in several batches (later batches
revise earlier records: a success later marked failed, a reopened incident, a change merged later),
reads the metrics between batches so the rollup is built and then brought up to date from the change
log, moves a link in the catalog once, and finally compares every scope and window with the rules of
portal/metrics/dora.py applied to all the records at once."""

from __future__ import annotations

import random
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, text
from sqlmodel import Session

from portal.flow.link_changes import CHANGE_LOG_LOCK, FlowLinkChange, change_since
from portal.flow.records import FlowRecord
from portal.flow.writer import write_records
from portal.metrics.api_dora import dora_of_components
from portal.metrics.dora import changes_shipped_in, collect_samples, dora_metrics
from portal.metrics.dora_records import first_commits, load_records, with_first_commits
from portal.metrics.dora_rollup import FOREVER, bring_up_to_date
from portal.metrics.dora_refresher import rebuild_all, refresh_round
from portal.metrics.dora_rollup_models import DoraRollupState, DoraSample
from portal.metrics.entities import component_links
from portal.metrics.window import Window
from tests.flow.factories import GITHUB, PAGERDUTY, change, commit, deployment, incident, make_component

BASE = datetime(2024, 3, 1, tzinfo=UTC)
SPAN_MINUTES = 60 * 24 * 60


def _at(rng: random.Random, low: int = 0, high: int = SPAN_MINUTES) -> datetime:
    return BASE + timedelta(minutes=rng.randint(low, high))


def _history(rng: random.Random, n: int) -> list[list[FlowRecord]]:
    """Batches of records for two repositories and one PagerDuty service; later batches revise some."""
    repos, service = [f"acme/s{n}-x", f"acme/s{n}-y"], f"P{n}"
    shas = [f"{n:02d}{index:038x}" for index in range(6)]
    first, revisions = [], []
    for number in range(rng.randint(0, 18)):
        started = _at(rng)
        record = deployment(rng.choice(repos), 1000 * n + number, rng.choice(["production", "production", "staging"]),
                            started, sha=rng.choice(shas), status=rng.choice(["success", "success", "failure"]),
                            source_updated_at=started)
        first.append(record)
        if rng.random() < 0.2:  # marked failed later (a rollback), a minute after
            revisions.append(FlowRecord("deployment", {**record.values, "status": "failure",
                                                       "source_updated_at": started + timedelta(hours=1)}))
    for number in range(rng.randint(0, 12)):
        created = _at(rng)
        merged = created + timedelta(minutes=rng.randint(0, 5000))
        values = {"state": "merged", "merged_at": merged, "merge_sha": rng.choice([*shas, None]),
                  "head_branch": rng.choice(["f1", "f2"]), "source_updated_at": merged,
                  "first_commit_at": rng.choice([None, created - timedelta(minutes=rng.randint(0, 3000))])}
        repo = rng.choice(repos)
        if rng.random() < 0.3:  # seen open first, merged in a later batch
            first.append(change(repo, 1000 * n + number, created, source_updated_at=created))
            revisions.append(change(repo, 1000 * n + number, created, **values))
        else:
            first.append(change(repo, 1000 * n + number, created, **values))
    for number in range(rng.randint(0, 10)):
        authored = _at(rng)
        first.append(commit(rng.choice(repos), f"{n:02d}c{number:037x}", rng.choice(["f1", "f2"]), authored,
                            authored + timedelta(minutes=rng.randint(0, 600))))
    for number in range(rng.randint(0, 8)):
        created = _at(rng)
        resolved = created + timedelta(minutes=rng.randint(0, 4000))
        record = incident(service, 1000 * n + number, created, status="resolved", resolved_at=resolved,
                          source_updated_at=resolved)
        first.append(record)
        if rng.random() < 0.3:  # reopened later
            revisions.append(FlowRecord("incident", {**record.values, "status": "triggered", "resolved_at": None,
                                                     "source_updated_at": resolved + timedelta(hours=2)}))
    rng.shuffle(first)
    cut = rng.randint(0, len(first))
    return [first[:cut], first[cut:], revisions]


def dora_from_all_records(session, components: dict, window: Window) -> dict:
    """The reference: every record of the components, the rules applied on the spot."""
    records = load_records(session, components, Window(datetime(1970, 1, 1, tzinfo=UTC), FOREVER))
    unknown = {change.id for item in records.values() for change in item.changes if change.first_commit_at is None}
    records = with_first_commits(records, first_commits(session, changes_shipped_in(records, window) & unknown))
    return dora_metrics(collect_samples(records, window), window, "2023")


def _windows(rng: random.Random) -> list[Window]:
    found = [Window(BASE - timedelta(days=5), BASE + timedelta(days=70))]
    for _ in range(4):
        start = _at(rng, -10 * 1440, SPAN_MINUTES)
        found.append(Window(start, start + timedelta(minutes=rng.randint(60, 40 * 1440))))
    return found


# Seeds 56 and 60 are histories where a deployment marked failed later moves an incident's attribution
# to an earlier deployment: they fail if a deployment write logs less than 90 days back. In 47 and 76 a
# change's merge sha was deployed before the merge (which ships nothing) and again after it.
@pytest.mark.parametrize("seed", [*range(30), 47, 56, 60, 76])
def test_the_rollup_agrees_with_the_records_however_they_arrive(session, seed):
    rng = random.Random(seed)
    x, y, service = f"acme/s{seed}-x", f"acme/s{seed}-y", f"P{seed}"
    # a and b share a repository; b and c share the incident service.
    names = {"a": {GITHUB: x}, "b": {GITHUB: x, PAGERDUTY: service}, "c": {GITHUB: y, PAGERDUTY: service}}
    for name, annotations in names.items():
        make_component(session, f"s{seed}-{name}", annotations)
    refs = [f"component:default/s{seed}-{name}" for name in names]
    scopes = [[ref] for ref in refs] + [refs[:2], refs]
    batches = _history(rng, seed)
    for number, batch in enumerate(batches):
        write_records(session, batch)
        session.commit()
        if number == 1:  # c moves to the other repository's annotation value: its rollup is rebuilt entirely
            make_component(session, f"s{seed}-c", {GITHUB: x, PAGERDUTY: service})
        scope = rng.choice(scopes)
        dora_of_components(session, component_links(session, scope), rng.choice(_windows(rng)), "2023")
        session.commit()
    for scope in scopes:
        links = component_links(session, scope)
        for window in _windows(rng):
            assert dora_of_components(session, links, window, "2023") == dora_from_all_records(session, links, window), \
                (scope, window)


def test_a_write_logs_its_links_from_the_earliest_time_it_can_move(session):
    started = BASE + timedelta(days=100)
    write_records(session, [deployment("acme/log", 1, "production", started),
                            change("acme/log", 1, started + timedelta(days=2), merged_at=started + timedelta(days=3)),
                            deployment("acme/log", 2, "staging", started + timedelta(days=1))])
    logged = session.execute(select(FlowLinkChange.link_annotation, FlowLinkChange.link_value, FlowLinkChange.since)
                             ).all()
    # One row for the link: a deployment can move incident attribution up to 90 days back.
    assert [(annotation, value) for annotation, value, _ in logged] == [(GITHUB, "acme/log")]
    assert logged[0][2].replace(tzinfo=UTC) == started - timedelta(days=90)


def test_kinds_nothing_derives_from_are_not_logged_and_untimed_records_move_everything():
    assert change_since("pipeline_run", {"started_at": BASE}) is None
    assert change_since("work_item", {"created_at": BASE}) is None
    assert change_since("change", {"created_at": BASE + timedelta(days=1), "merged_at": BASE}) == BASE
    assert change_since("incident", {}) == datetime(1970, 1, 1, tzinfo=UTC)


def test_reads_rebuild_only_what_changed_and_the_refresher_compacts_the_log(session, engine):
    make_component(session, "ra", {GITHUB: "acme/ra"})
    make_component(session, "rb", {GITHUB: "acme/rb"})
    write_records(session, [deployment("acme/ra", 1, "production", BASE), deployment("acme/rb", 2, "production", BASE)])
    session.commit()
    both = component_links(session, ["component:default/ra", "component:default/rb"])
    window = Window(BASE - timedelta(days=1), BASE + timedelta(days=1))
    assert dora_of_components(session, both, window, "2023")["deploymentFrequency"]["samples"] == 2
    session.commit()
    consumed = dict(session.execute(select(DoraRollupState.component_ref, DoraRollupState.consumed_change_id)).all())
    write_records(session, [deployment("acme/ra", 3, "production", BASE + timedelta(hours=1))])
    session.commit()
    assert dora_of_components(session, both, window, "2023")["deploymentFrequency"]["samples"] == 3
    session.commit()
    after = dict(session.execute(select(DoraRollupState.component_ref, DoraRollupState.consumed_change_id)).all())
    # ra was brought up to date; rb, which no change touched, was left alone by the read.
    assert after["component:default/ra"] > consumed["component:default/ra"]
    assert after["component:default/rb"] == consumed["component:default/rb"]
    refresh_round(engine)
    session.expire_all()
    # Everything consumed is deleted but the newest row, which keeps ids growing (see forget_consumed).
    assert session.execute(select(func.count()).select_from(FlowLinkChange)).scalar_one() == 1
    states = dict(session.execute(select(DoraRollupState.component_ref, DoraRollupState.consumed_change_id)).all())
    assert states["component:default/rb"] == states["component:default/ra"] == after["component:default/ra"]


def test_the_refresher_builds_unread_components_and_rebuild_all_matches(session, engine):
    make_component(session, "ua", {GITHUB: "acme/ua"})
    write_records(session, [deployment("acme/ua", 1, "production", BASE)])
    session.commit()
    assert refresh_round(engine) == 1
    session.expire_all()
    rows = session.execute(select(DoraSample.component_ref, DoraSample.kind)).all()
    assert rows == [("component:default/ua", "deployment")]
    assert rebuild_all(engine) == 1


def _postgresql_only(engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time: ids commit in order there, and nothing is in flight")


def _queued_for_the_change_log_lock(observer: Session) -> int:
    """Sessions of this test database waiting for CHANGE_LOG_LOCK (the server may be shared)."""
    return observer.execute(text(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND classid = 0 "
        "AND objid::bigint = :key AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"),
        {"key": CHANGE_LOG_LOCK}).scalar_one()


def _states(session: Session) -> dict[str, int]:
    session.expire_all()
    return dict(session.execute(select(DoraRollupState.component_ref, DoraRollupState.consumed_change_id)).all())


def test_on_postgresql_a_read_does_not_wait_for_a_batch_in_flight_and_answers_as_last_consumed(session, engine):
    """Ids are handed out before commit, so a read must not move past an uncommitted writer's ids; it
    answers from what was consumed instead of queueing for the writer's lock (an inbox batch holds it
    until the whole batch commits)."""
    _postgresql_only(engine)
    make_component(session, "la", {GITHUB: "acme/la"})
    make_component(session, "lb", {GITHUB: "acme/lb"})
    write_records(session, [deployment("acme/la", 1, "production", BASE)])
    session.commit()
    la, both = "component:default/la", ["component:default/la", "component:default/lb"]
    window = Window(BASE - timedelta(days=1), BASE + timedelta(days=1))

    def deployments(refs: list[str]) -> int:
        return dora_of_components(session, component_links(session, refs), window, "2023"
                                  )["deploymentFrequency"]["samples"]

    assert deployments([la]) == 1
    session.commit()
    consumed = _states(session)[la]
    with Session(engine) as writer:
        write_records(writer, [deployment("acme/la", 2, "production", BASE + timedelta(hours=1)),
                               deployment("acme/lb", 3, "production", BASE + timedelta(hours=2))])
        written = writer.execute(select(func.max(FlowLinkChange.id))).scalar_one()
        assert written > consumed
        # The writer is this thread's own, so a read that waited for its lock would never return:
        # the lock timeout makes that an error instead of a hang.
        session.execute(text("SET LOCAL lock_timeout = '10s'"))
        # la as it was consumed; lb, never read, built from what is committed and marked as of the
        # same change, so the batch is still ahead of both.
        assert deployments(both) == 1
        session.commit()
        assert _states(session) == {la: consumed, "component:default/lb": consumed}
        writer.commit()
    assert deployments(both) == 3
    session.commit()
    assert _states(session) == {la: written, "component:default/lb": written}


def _refresh_one_chunk(engine) -> int:
    """What refresh_round does for each chunk of components, with the one component of the test below."""
    with Session(engine) as session:
        written = bring_up_to_date(session, component_links(session, ["component:default/lr"]), advance=True,
                                   wait_for_writers=True)
        session.commit()
        return written


@pytest.mark.parametrize("refresh", [refresh_round, _refresh_one_chunk], ids=["round", "chunk"])
def test_on_postgresql_the_refresher_waits_for_a_batch_in_flight(session, engine, refresh):
    """The refresher is not latency-bound: it queues for the writer's lock and then consumes its batch."""
    _postgresql_only(engine)
    make_component(session, "lr", {GITHUB: "acme/lr"})
    refreshed = []
    with Session(engine) as writer:
        write_records(writer, [deployment("acme/lr", 1, "production", BASE)])
        written = writer.execute(select(func.max(FlowLinkChange.id))).scalar_one()
        thread = threading.Thread(target=lambda: refreshed.append(refresh(engine)))
        thread.start()
        with Session(engine) as observer:
            queued = 0
            for _ in range(200):  # until the refresher is queued behind the writer's lock (at most ~10 s)
                queued = _queued_for_the_change_log_lock(observer)
                if queued:
                    break
                threading.Event().wait(0.05)
        assert queued == 1 and not refreshed
        writer.commit()
    thread.join(30)
    assert refreshed == [1]
    assert _states(session) == {"component:default/lr": written}
    assert session.execute(select(func.count()).select_from(DoraSample)).scalar_one() == 1
