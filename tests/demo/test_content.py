"""The demo data looks like real data: linked through the catalog's annotations, with failures,
incidents, rework, every order stage, votes, and teams that improve after adopting the CI capability."""

from __future__ import annotations

import statistics
from collections import defaultdict
from datetime import UTC

from sqlalchemy import select

from portal.demo.order_stories import OUTCOMES
from portal.demo.organisation import read_organisation
from portal.demo.plan import adoption_plan
from portal.demo.seed import demo_year, seed_demo
from portal.flow.models import FlowChange, FlowDeployment, FlowIncident, FlowWorkItem, FlowWorkItemTransition
from portal.demo.seed import CHILD_KINDS
from portal.flow.records import RECORD_TABLES
from portal.requests.models import Request, RequestEvent, RequestVote
from tests.demo.conftest import UNTIL


def _utc(moment):  # noqa: ANN001, ANN202 - SQLite hands back naive UTC times
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def test_records_link_to_catalog_components_through_their_annotations(session, demo_catalog, short_year) -> None:  # noqa: ANN001
    seed_demo(session, short_year)
    organisation = read_organisation(session)
    known = {(name, value.lower()) for component in organisation.components
             for name, value in component.annotations.items()}
    for kind, model in RECORD_TABLES.items():
        if kind in CHILD_KINDS:
            continue
        links = set(session.execute(select(model.link_annotation, model.link_value).distinct()).all())
        assert links and links <= known, (kind, links - known)
    sources = set(session.execute(select(FlowChange.source).distinct()).scalars())
    assert sources == {"github", "gitlab"}  # the warehouse repositories live on GitLab


def test_deployments_go_to_staging_then_production_and_some_fail(session, demo_catalog, short_year) -> None:  # noqa: ANN001
    seed_demo(session, short_year)
    rows = session.execute(select(FlowDeployment.tier, FlowDeployment.status, FlowDeployment.sha)).all()
    assert {(tier, status) for tier, status, _ in rows} == {("staging", "success"), ("production", "success"),
                                                           ("production", "failure")}
    merge_shas = set(session.execute(select(FlowChange.merge_sha)).scalars())
    production = [sha for tier, status, sha in rows if tier == "production" and status == "success"]
    assert production and all(sha in merge_shas for sha in production)
    changes = session.execute(select(FlowChange)).scalars().all()
    assert all(c.first_commit_at <= c.created_at <= c.merged_at for c in changes)


def test_incidents_follow_deployments_and_one_is_reopened(session, demo_catalog, short_year) -> None:  # noqa: ANN001
    seed_demo(session, short_year)
    organisation = read_organisation(session)
    paged = {c.annotations["pagerduty.com/service-id"].lower() for c in organisation.components
             if "pagerduty.com/service-id" in c.annotations}
    incidents = session.execute(select(FlowIncident)).scalars().all()
    assert incidents and {incident.link_value for incident in incidents} <= paged
    reopened = [incident for incident in incidents if incident.title.endswith("(reopened)")]
    assert len(reopened) == 1 and reopened[0].resolved_at is None and reopened[0].status == "triggered"
    resolved = [incident for incident in incidents if incident.resolved_at is not None]
    assert resolved and all(incident.resolved_at > incident.created_at for incident in resolved)


def test_work_items_move_through_statuses_with_some_rework(session, demo_catalog, short_year) -> None:  # noqa: ANN001
    seed_demo(session, short_year)
    items = session.execute(select(FlowWorkItem)).scalars().all()
    assert {item.status_category for item in items} == {"todo", "in_progress", "done"}
    moves = session.execute(select(FlowWorkItemTransition.from_status, FlowWorkItemTransition.to_status)).all()
    assert ("In Review", "In Progress") in set(moves)  # sent back from review


def test_orders_reach_every_stage_of_their_value_stream(session, demo_catalog, short_year) -> None:  # noqa: ANN001
    seed_demo(session, short_year)
    organisation = read_organisation(session)
    stages = defaultdict(set)
    for capability, stage in session.execute(select(Request.capability_ref, Request.stage)
                                             .where(Request.kind == "order")).all():
        stages[capability].add(stage)
    for capability in organisation.capabilities:
        assert set(OUTCOMES[capability.mode]) <= stages[capability.ref], capability.ref
    confirmed = session.execute(select(Request).where(Request.stage == "value-confirmed")).scalars().all()
    assert confirmed and all(1 <= r.value_rating <= 5 and r.value_time_saved_seconds > 0 for r in confirmed)
    assert session.execute(select(RequestEvent.id).where(RequestEvent.is_rework)).first() is not None


def test_request_timelines_are_ordered_inside_the_window(session, demo_catalog, short_year) -> None:  # noqa: ANN001
    seed_demo(session, short_year)
    requests = session.execute(select(Request)).scalars().all()
    for request in requests:
        events = session.execute(select(RequestEvent).where(RequestEvent.request_id == request.id)
                                 .order_by(RequestEvent.at, RequestEvent.id)).scalars().all()
        assert events[0].from_stage is None and events[-1].to_stage == request.stage
        assert all(a.to_stage == b.from_stage for a, b in zip(events, events[1:])), request.title
        assert all(_utc(e.at) < short_year.until for e in events)
        delivered = [e.at for e in events if e.to_stage == "delivered"]
        if request.kind == "order" and len(delivered) == 1 and request.stage in ("in-use", "value-confirmed"):
            assert request.lead_time_ended_at == delivered[0]
    ideas = [request for request in requests if request.kind == "idea"]
    votes = defaultdict(int)
    for request_id in session.execute(select(RequestVote.request_id)).scalars():
        votes[request_id] += 1
    assert ideas and all(idea.vote_count == votes[idea.id] for idea in ideas)
    assert sum(votes.values()) > 0


def test_adoption_orders_name_their_component_and_are_delivered_when_planned(session, demo_catalog,  # noqa: ANN001
                                                                            short_year) -> None:
    seed_demo(session, short_year)
    plan = adoption_plan(read_organisation(session), short_year)
    for (component, capability), delivered_at in plan.items():
        orders = session.execute(select(Request).where(Request.capability_ref == capability)).scalars().all()
        adopting = [order for order in orders if (order.parameters or {}).get("component") == component]
        first_delivery = min(_utc(at) for order in adopting for at in session.execute(
            select(RequestEvent.at).where(RequestEvent.request_id == order.id,
                                          RequestEvent.to_stage == "delivered")).scalars())
        assert first_delivery == delivered_at


def test_a_team_gets_better_after_adopting_the_ci_pipeline(session, demo_catalog) -> None:  # noqa: ANN001
    year = demo_year(2026, 240, UNTIL)
    seed_demo(session, year)
    plan = adoption_plan(read_organisation(session), year)
    adopted = plan[("component:default/tracking-service", "capability:default/ci-pipeline")]
    link = "northwind/tracking-service"
    deployments = [_utc(at) for at in session.execute(
        select(FlowDeployment.finished_at).where(FlowDeployment.link_value == link, FlowDeployment.tier == "production",
                                                 FlowDeployment.status == "success")).scalars()]
    before = [at for at in deployments if at < adopted]
    after = [at for at in deployments if at >= adopted]
    weeks_before = (adopted - year.start).days / 7
    weeks_after = (year.until - adopted).days / 7
    assert len(after) / weeks_after > 2 * len(before) / weeks_before
    changes = session.execute(select(FlowChange.first_commit_at, FlowChange.merged_at)
                              .where(FlowChange.link_value == link)).all()
    lead_before = [(m - f).total_seconds() for f, m in changes if _utc(m) < adopted]
    lead_after = [(m - f).total_seconds() for f, m in changes if _utc(m) >= adopted]
    assert statistics.median(lead_after) < statistics.median(lead_before) / 2
