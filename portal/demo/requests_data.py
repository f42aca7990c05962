"""Demo orders for every capability (in every stage its value stream has) and ideas with votes."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from portal.demo.labels import DEMO_NOTE, DEMO_TITLE_PREFIX
from portal.demo.order_stories import CONFIRMED, OPEN_OUTCOMES, OUTCOMES, Story, order_story
from portal.demo.organisation import Capability, Component, Organisation
from portal.demo.plan import DELIVERY_CAPABILITIES, DemoYear
from portal.requests.durations import duration_seconds_or_none
from portal.requests.stages import DEFAULT_STREAMS, IDEA_STAGES

EXTRA_ORDERS = (4, 10)  # besides one per outcome and the adoption orders
VALUE_COMMENTS = ("Saved us a day of setup", "Worked first time", "Docs could be clearer, but it works",
                  "Took longer than promised", "Exactly what we needed")
IDEA_TITLES = ("Self-service {thing} for feature branches", "Show cost per {thing}", "Dark mode for the {thing} page",
               "Terraform module for {thing}", "Slack notification when a {thing} is ready",
               "Quota increase requests for {thing}", "Golden path for {thing} in Go", "Audit export for {thing}")
IDEA_THINGS = ("database", "namespace", "pipeline", "dashboard", "bucket", "topic", "preview", "service")
IDEA_COMMENTS = ("+1, we need this for the peak season", "Could this reuse the existing template?",
                 "We built a workaround; happy to share it")


@dataclass
class DemoRequest:
    """One request as plain column values, with its events, votes and comments (request ids come later)."""

    row: dict
    events: list[dict]
    votes: list[dict] = field(default_factory=list)
    comments: list[dict] = field(default_factory=list)


def lead_time_end(kind: str, moves: list[tuple[datetime, str]]) -> datetime | None:
    """When the lead time ended, as service.transition keeps it: set on reaching delivery (or a terminal
    stage), cleared when the request is reopened before delivery."""
    stream = DEFAULT_STREAMS[kind]
    ended = None
    for at, stage in moves:
        ended = (ended or at) if stream.ends_lead_time(stage) else None
    return ended


def _people(organisation: Organisation, group: str | None) -> list[str]:
    return organisation.members.get(group or "") or organisation.people() or ["user:default/guest"]


def _parameters(capability: Capability, component: Component | None, rng: random.Random) -> dict:
    """Inputs the capability asks for, filled the way a person would (defaults, the first choice, the repo)."""
    schema = capability.inputs or {}
    values: dict = {}
    for name, spec in (schema.get("properties") or {}).items():
        if not isinstance(spec, dict):
            continue
        if "default" in spec:
            values[name] = spec["default"]
        elif spec.get("enum"):
            values[name] = rng.choice(spec["enum"])
        elif spec.get("type") == "string" and name in schema.get("required", []):
            slug = (component.repository or ("", ""))[1] if component else ""
            values[name] = slug if "/" in str(spec.get("pattern", "")) and slug else \
                (component.name if component else f"demo-{name}")
        elif spec.get("type") == "integer" and name in schema.get("required", []):
            values[name] = spec.get("minimum", 1)
    if component is not None:
        values["component"] = component.ref
    return values


def _order(rng: random.Random, organisation: Organisation, capability: Capability, outcome: str,
           created: datetime, component: Component | None, year: DemoYear) -> DemoRequest:
    requester = rng.choice(_people(organisation, component.owner if component else None))
    fulfiller = rng.choice(_people(organisation, capability.owner))
    story = order_story(rng, capability, outcome, created, requester, fulfiller, DEMO_NOTE)
    if story.last_at >= year.until:  # keep every event inside the year
        story = story.shifted(year.until - timedelta(minutes=rng.randint(30, 600)) - story.last_at)
    return _order_request(rng, capability, component, story, requester)


def _order_request(rng: random.Random, capability: Capability, component: Component | None, story: Story,
                   requester: str) -> DemoRequest:
    ended = lead_time_end("order", [(event.at, event.to_stage) for event in story.events])
    subject = component.name if component else "a new project"
    row = {
        "kind": "order", "title": f"{DEMO_TITLE_PREFIX}{capability.title} for {subject}"[:200],
        "description": None, "capability_ref": capability.ref, "product_ref": capability.product,
        "requester_ref": requester, "stage": story.stage, "flow_item_type": rng.choice(("feature",) * 5 + ("debt",)),
        "created_at": story.events[0].at, "updated_at": story.last_at, "lead_time_ended_at": ended,
        "target_lead_time": capability.target_lead_time,
        "target_lead_time_seconds": duration_seconds_or_none(capability.target_lead_time),
        "task_id": None, "parameters": _parameters(capability, component, rng),
        # The component it is for: what adoption and the flow follower read (portal/requests/follow_flow.py).
        "component_ref": component.ref if component else None, "tracker_item": None,
        "value_hypothesis": f"Saves {subject} the setup work it would otherwise do by hand", "vote_count": 0,
        "value_rating": None, "value_time_saved": None, "value_time_saved_seconds": None, "value_comment": None,
        "value_confirmed_at": None,
    }
    if story.stage == CONFIRMED:
        rating = rng.choice((3, 4, 4, 5, 5, 5, 2))
        saved = capability.time_saved or "PT4H"
        story.events[-1].note = f"Value confirmed: {rating}/5"
        row.update({"value_rating": rating, "value_time_saved": saved,
                    "value_time_saved_seconds": duration_seconds_or_none(saved) or 0,
                    "value_comment": rng.choice(VALUE_COMMENTS), "value_confirmed_at": story.last_at})
    return DemoRequest(row, [dict(event.__dict__) for event in story.events])


def order_requests(organisation: Organisation, year: DemoYear, plan: dict) -> list[DemoRequest]:
    """Per capability: the adoption orders (delivered when the plan says), one order ending in each stage
    of its value stream, and a handful more, mostly finished."""
    requests = []
    components = {component.ref: component for component in organisation.components}
    for capability in organisation.capabilities:
        rng = year.rng("orders", capability.ref)
        for (component_ref, capability_ref), delivered in sorted(plan.items()):
            if capability_ref == capability.ref:
                requests.append(_adoption_order(rng, organisation, capability, components[component_ref],
                                                delivered, year))
        outcomes = list(OUTCOMES.get(capability.mode, OUTCOMES["manual"]))
        outcomes += rng.choices((CONFIRMED, "in-use", "delivered", "failed"), weights=(6, 3, 2, 1),
                                k=rng.randint(*EXTRA_ORDERS))
        # Other orders name a component that is not planned to adopt this capability (a delivered order
        # naming a component dates its adoption), and delivered orders of a delivery capability name none,
        # so the before/after comparison stays about the planned adoptions.
        others = [c for c in organisation.components if (c.ref, capability.ref) not in plan]
        for outcome in outcomes:
            delivered = outcome not in (*OPEN_OUTCOMES, "failed", "rejected", "cancelled")
            named = others and rng.random() < 0.7 and not (delivered and capability.ref in DELIVERY_CAPABILITIES)
            component = rng.choice(others) if named else None
            # Finished ones up to the last weeks too, so the pages' default window (the last 30 days) has deliveries.
            share = rng.uniform(0.97, 0.995) if outcome in OPEN_OUTCOMES else rng.uniform(0.0, 0.97)
            requests.append(_order(rng, organisation, capability, outcome, year.at(share), component, year))
    return requests


def _adoption_order(rng: random.Random, organisation: Organisation, capability: Capability,
                    component: Component, delivered: datetime, year: DemoYear) -> DemoRequest:
    """The order that made `component` adopt `capability`, its delivery moved to the planned moment."""
    draft = _order(rng, organisation, capability, CONFIRMED, year.start, component, year)
    delivery = next(event["at"] for event in draft.events if event["to_stage"] == "delivered")
    shift = delivered - delivery
    for event in draft.events:
        event["at"] += shift
    last = draft.events[-1]["at"]
    if last >= year.until:  # confirmed only after the year ends: leave it in use
        draft.events = [event for event in draft.events if event["at"] < year.until]
        draft.row.update({"stage": draft.events[-1]["to_stage"], "value_rating": None, "value_time_saved": None,
                          "value_time_saved_seconds": None, "value_comment": None, "value_confirmed_at": None})
    for name in ("created_at", "updated_at", "lead_time_ended_at", "value_confirmed_at"):
        if draft.row[name] is not None:
            draft.row[name] += shift
    draft.row["created_at"] = draft.events[0]["at"]
    draft.row["updated_at"] = draft.events[-1]["at"]
    return draft


def idea_requests(organisation: Organisation, year: DemoYear) -> list[DemoRequest]:
    """Per product: ideas spread over the idea stages (the first rejected, then one in each stage of
    the main line in turn), each with votes and a comment or two."""
    people = organisation.people() or ["user:default/guest"]
    main_line = [stage.id for stage in IDEA_STAGES if not stage.terminal]
    requests = []
    for product in organisation.products:
        rng = year.rng("ideas", product)
        for index in range(rng.randint(6, 9)):
            final = "rejected" if index == 0 else main_line[(index - 1) % len(main_line)]
            requests.append(_idea(rng, product, final, people, main_line, year))
    return requests


def _idea(rng: random.Random, product: str, final: str, people: list[str], main_line: list[str],
          year: DemoYear) -> DemoRequest:
    created = year.at(rng.uniform(0.0, 0.95))
    requester = rng.choice(people)
    events = [{"at": created, "actor": requester, "from_stage": None, "to_stage": "submitted", "source": "user",
               "note": DEMO_NOTE, "work_time_seconds": None, "is_rework": False}]
    path = ["rejected"] if final == "rejected" else main_line[1: main_line.index(final) + 1]
    at = created
    for stage in path:
        at = min(at + timedelta(days=rng.uniform(2, 25)), year.until - timedelta(hours=1))
        events.append({"at": at, "actor": rng.choice(people), "from_stage": events[-1]["to_stage"], "to_stage": stage,
                       "source": "user", "note": "Not a fit for the roadmap this year" if stage == "rejected" else None,
                       "work_time_seconds": None, "is_rework": False})
    voters = rng.sample(people, k=min(len(people), rng.randint(0, 12)))
    votes = [{"voter_ref": voter, "at": created + timedelta(hours=rng.uniform(1, 300))} for voter in voters]
    comments = [{"author_ref": rng.choice(people), "at": created + timedelta(hours=rng.uniform(1, 200)),
                 "body": rng.choice(IDEA_COMMENTS)} for _ in range(rng.randint(0, 2))]
    votes = [vote for vote in votes if vote["at"] < year.until]
    comments = [comment for comment in comments if comment["at"] < year.until]
    ended = lead_time_end("idea", [(event["at"], event["to_stage"]) for event in events])
    row = {
        "kind": "idea", "title": f"{DEMO_TITLE_PREFIX}{rng.choice(IDEA_TITLES).format(thing=rng.choice(IDEA_THINGS))}",
        "description": "An idea from the demo data.", "capability_ref": None, "product_ref": product,
        "requester_ref": requester, "stage": events[-1]["to_stage"], "flow_item_type": "feature",
        "created_at": created, "updated_at": events[-1]["at"], "lead_time_ended_at": ended,
        "target_lead_time": None, "target_lead_time_seconds": None, "task_id": None, "parameters": None,
        "component_ref": None, "tracker_item": None, "value_hypothesis": None, "vote_count": len(votes), "value_rating": None, "value_time_saved": None,
        "value_time_saved_seconds": None, "value_comment": None, "value_confirmed_at": None,
    }
    return DemoRequest(row, events, votes, comments)
