"""When a change's first commit was made, derived in SQL from the pushes of its head branch.

DORA's lead time for changes starts at the first commit of a change. Tools rarely say when that was,
but push hooks list every pushed commit with its author time. A change's first commit is therefore
the stored `first_commit_at` when a tool sent one, else the earliest author time of the commits of
the same repository that were pushed to the change's head branch:

- no later than the change's merge (its close when closed unmerged, now while it is open), and
- after the merge of any earlier change from the same branch, so a long-lived branch (`develop`)
  does not hand its older, already merged commits to the next change.

A commit's push time is used for both bounds when the tool sends one (GitHub), its author time otherwise
(GitLab's push hook carries no push time). Without a head branch or any matching push the answer is
null, and lead time falls back to when the change was opened.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import exists, func, literal, select
from sqlalchemy.orm import aliased

from portal.flow.models import FlowChange, FlowCommit


def first_commit_at(now: datetime | None = None):  # noqa: ANN201 - a SQL expression
    """The change's first commit time as a correlated expression over FlowChange rows."""
    now = now or datetime.now(UTC)
    earlier = aliased(FlowChange, name="earlier_change")
    pushed = func.coalesce(FlowCommit.pushed_at, FlowCommit.authored_at)
    change_end = func.coalesce(FlowChange.merged_at, FlowChange.closed_at,
                               literal(now, FlowChange.__table__.c.merged_at.type))
    merged_before = exists().where(
        earlier.repository == FlowChange.repository,
        earlier.head_branch == FlowChange.head_branch,
        earlier.source == FlowChange.source,
        earlier.id != FlowChange.id,
        earlier.merged_at < FlowChange.created_at,
        earlier.merged_at >= pushed,
    ).correlate(FlowChange, FlowCommit)
    from_pushes = (
        select(func.min(FlowCommit.authored_at))
        .where(
            FlowCommit.repository == FlowChange.repository,
            FlowCommit.branch == FlowChange.head_branch,
            FlowCommit.source == FlowChange.source,
            pushed <= change_end,
            ~merged_before,
        )
        .correlate(FlowChange)
        .scalar_subquery()
    )
    return func.coalesce(FlowChange.first_commit_at, from_pushes)
