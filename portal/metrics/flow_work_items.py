"""Work items (Jira issues, GitHub and GitLab issues) as flow items: status categories as states.

Transitions record status names; a name's category (todo | in_progress | done) is learnt from the
entity's own work items (each knows its current status's category, as Jira reports it), then from
common names (DEFAULT_CATEGORIES). An item's issue type maps to a flow item type (FLOW_TYPE_WORDS).
"""

from __future__ import annotations

from datetime import datetime
from itertools import groupby

from sqlalchemy import false, select
from sqlmodel import Session

from portal.flow.models import FlowWorkItem, FlowWorkItemTransition
from portal.flow.query import Link, as_utc, link_condition
from portal.metrics.flow import FlowItem, Pass, flow_metrics
from portal.metrics.window import Window

TODO, IN_PROGRESS, DONE = "todo", "in_progress", "done"
CATEGORIES = (TODO, IN_PROGRESS, DONE)
DEFAULT_CATEGORIES = {
    "open": TODO, "to do": TODO, "todo": TODO, "backlog": TODO, "new": TODO, "reopened": TODO,
    "selected for development": TODO, "opened": TODO,
    "in progress": IN_PROGRESS, "in review": IN_PROGRESS, "in development": IN_PROGRESS, "doing": IN_PROGRESS,
    "done": DONE, "closed": DONE, "resolved": DONE,
}
# Words in an issue type's name, looked for in this order; anything else is a feature.
FLOW_TYPE_WORDS = (
    ("defect", ("bug", "defect", "incident", "problem", "fault")),
    ("risk", ("security", "vulnerability", "risk", "compliance", "audit")),
    ("debt", ("debt", "refactor", "chore", "maintenance", "upgrade")),
)


def flow_type_of(item_type: str | None) -> str:
    """Bug → defect, Security/Vulnerability → risk, Technical debt/Chore → debt, everything else → feature."""
    name = (item_type or "").lower()
    for flow_type, words in FLOW_TYPE_WORDS:
        if any(word in name for word in words):
            return flow_type
    return "feature"


def _categories(items: list[FlowWorkItem]) -> dict[str, str]:
    known = dict(DEFAULT_CATEGORIES)
    known.update({item.status.lower(): item.status_category for item in items
                  if item.status and item.status_category in CATEGORIES})
    return known


def _closed_at(item: FlowWorkItem) -> datetime | None:
    """When an item without transitions was closed: its resolution date, else (a tool that gives none)
    when it last changed."""
    if item.resolved_at is not None:
        return as_utc(item.resolved_at)
    if item.status_category == DONE:
        return as_utc(item.source_updated_at or item.updated_at)
    return None


def _passes(item: FlowWorkItem, transitions: list[tuple], categories: dict[str, str],
            end: datetime) -> tuple[Pass, ...]:
    """Consecutive stretches per category, from creation (todo) through each transition before `end`."""
    created = as_utc(item.created_at)
    moves: list[tuple[datetime, str]] = [(created, TODO)]
    for at, to_status in transitions:
        moves.append((max(as_utc(at), created), categories.get((to_status or "").lower(), TODO)))
    closed = _closed_at(item) if not transitions else None
    if closed is not None and closed < end:
        moves.append((max(closed, created), DONE))
    merged: list[tuple[datetime, str]] = []
    for at, category in moves:
        if merged and merged[-1][1] == category:
            continue
        merged.append((at, category))
    return tuple(Pass(category, at, merged[index + 1][0] if index + 1 < len(merged) else None)
                 for index, (at, category) in enumerate(merged))


def _finished_at(passes: tuple[Pass, ...]) -> datetime | None:
    """The first arrival at a done status (or the resolution date of an item without transitions)."""
    return next((one.start for one in passes if one.state == DONE), None)


def work_item_items(session: Session, links: list[Link], window: Window) -> tuple[list[FlowItem], dict[str, str]]:
    """The entity's work items created before the window's end, and the status categories used."""
    condition = (link_condition(FlowWorkItem, links), FlowWorkItem.deleted == false(),
                 FlowWorkItem.created_at.is_not(None), FlowWorkItem.created_at < window.end)
    rows = list(session.execute(select(FlowWorkItem).where(*condition)).scalars())
    categories = _categories(rows)
    ids = select(FlowWorkItem.id).where(*condition)
    transitions = session.execute(
        select(FlowWorkItemTransition.work_item_id, FlowWorkItemTransition.at, FlowWorkItemTransition.to_status)
        .where(FlowWorkItemTransition.work_item_id.in_(ids), FlowWorkItemTransition.at < window.end)
        .order_by(FlowWorkItemTransition.work_item_id, FlowWorkItemTransition.at, FlowWorkItemTransition.id))
    by_item = {item_id: [(at, status) for _, at, status in group]
               for item_id, group in groupby(transitions, key=lambda row: row[0])}
    items = []
    for row in rows:
        passes = _passes(row, by_item.get(row.id, []), categories, window.end)
        items.append(FlowItem(as_utc(row.created_at), flow_type_of(row.item_type), passes, _finished_at(passes),
                              in_progress=passes[-1].state != DONE, label=row.key))
    return items, categories


def work_item_flow_metrics(session: Session, links: list[Link], window: Window) -> dict:
    items, _ = work_item_items(session, links, window)
    answer = flow_metrics(items, window, work_states=frozenset({IN_PROGRESS}), states=CATEGORIES)
    if not any(one.state == IN_PROGRESS for item in items for one in item.passes):
        # GitHub and GitLab issues are only open or closed: no work time was measured, which is not zero.
        answer["efficiency"]["ratio"] = None
        answer["efficiency"]["reason"] = "no in-progress status is known for these work items"
    return answer
