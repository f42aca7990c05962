"""Each Jira project's year of tickets with their status changes (a few sent back for rework)."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from portal.demo.labels import DEMO_CONNECTION, demo_id
from portal.demo.organisation import JIRA_KEY, Component
from portal.demo.plan import DemoYear, profiles_for
from portal.flow.records import FlowRecord

TODO, IN_PROGRESS, IN_REVIEW, DONE = "To Do", "In Progress", "In Review", "Done"
CATEGORIES = {TODO: "todo", IN_PROGRESS: "in_progress", IN_REVIEW: "in_progress", DONE: "done"}
TYPES = ("Story", "Story", "Story", "Bug", "Bug", "Task")
SUMMARIES = ("Show {thing} on the overview", "{thing} export times out", "Support bulk {thing} updates",
             "Audit log for {thing} changes", "{thing} filter ignores dates", "Upgrade {thing} library")
THINGS = ("shipment", "invoice", "label", "parcel", "route", "stock level", "carrier", "customer")
JIRA_SITE = "northwind.atlassian.net"


def projects(components: list[Component]) -> dict[str, str | None]:
    """Jira project key -> the owner of the first component naming it (tickets follow its team's pace)."""
    found: dict[str, str | None] = {}
    for component in components:
        key = component.annotations.get(JIRA_KEY)
        if key and key not in found:
            found[key] = component.owner
    return found


def work_item_records(key: str, owner: str | None, year: DemoYear) -> list[FlowRecord]:
    """About 2–6 tickets a week, each walked through To Do -> In Progress -> In Review -> Done."""
    rng = year.rng("work", key)
    before, _ = profiles_for(owner)
    # Slower teams take longer per ticket: scale the median cycle time with their lead time.
    cycle_hours = max(8.0, before.lead_time_hours * 0.8)
    records: list[FlowRecord] = []
    day, number = year.start, 0
    while day < year.until:
        for _ in range(rng.randint(2, 6)):
            number += 1
            created = day + timedelta(hours=rng.uniform(0, 7 * 24))
            if created >= year.until:
                continue
            records.extend(_ticket(rng, key, number, created, cycle_hours, year.until))
        day += timedelta(days=7)
    return records


def _ticket(rng, key: str, number: int, created: datetime, cycle_hours: float,  # noqa: ANN001
            until: datetime) -> list[FlowRecord]:
    item_id = demo_id("jira", JIRA_SITE, f"{key}-{number}")
    person = rng.choice(("amelie", "bo", "chen", "dara", "emeka", "farah"))
    steps = [(None, TODO, created)]
    at = created + timedelta(hours=rng.uniform(2, 96))
    path = [IN_PROGRESS, IN_REVIEW]
    if rng.random() < 0.12:  # review sent it back: rework
        path += [IN_PROGRESS, IN_REVIEW]
    path.append(DONE)
    current = TODO
    for status in path:
        if at >= until:
            break
        steps.append((current, status, at))
        current = status
        hours = cycle_hours * math.exp(rng.gauss(0, 0.5)) / len(path)
        at += timedelta(hours=max(hours, 0.25))
    thing = rng.choice(THINGS)
    resolved = steps[-1][2] if current == DONE else None
    item = FlowRecord("work_item", {
        "id": item_id, "source": "jira", "connection": DEMO_CONNECTION, "link_annotation": JIRA_KEY,
        "link_value": key.lower(), "url": None, "source_updated_at": steps[-1][2],
        "key": f"{key}-{number}", "title": rng.choice(SUMMARIES).format(thing=thing).capitalize(),
        "item_type": rng.choice(TYPES), "status": current, "status_category": CATEGORIES[current],
        "created_at": created, "resolved_at": resolved, "deleted": False,
    })
    transitions = [FlowRecord("transition", {"work_item_id": item_id, "from_status": before_status,
                                             "to_status": status, "at": moment, "author": person})
                   for before_status, status, moment in steps[1:]]
    return [item, *transitions]
