"""Normalized flow records. Each is keyed by a stable id built from its tool's own identifiers,
so re-processing a delivery (replay) or syncing the same object again updates one row."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, Text
from sqlmodel import Field, SQLModel


class FlowRecordBase(SQLModel):
    """Columns every flow record has: where it came from and how it links to catalog entities."""

    id: str = Field(primary_key=True, max_length=400)
    source: str = Field(max_length=50)
    connection: str = Field(max_length=100, default="default")
    # Entities link through an annotation: e.g. github.com/project-slug = octo-org/octo-repo.
    link_annotation: str | None = Field(default=None, max_length=200)
    link_value: str | None = Field(default=None, max_length=400)
    url: str | None = Field(default=None, max_length=2000)
    # When the tool last changed the object; an older event never overwrites a newer one.
    source_updated_at: datetime | None = None
    updated_at: datetime


class FlowChange(FlowRecordBase, table=True):
    """A pull request / merge request."""

    __tablename__ = "flow_changes"
    __table_args__ = (
        Index("ix_flow_changes_link", "link_annotation", "link_value", "created_at"),
        # Finds earlier changes from the same branch when deriving a change's first commit.
        Index("ix_flow_changes_head_branch", "repository", "head_branch", "merged_at"),
    )

    repository: str = Field(max_length=400)
    number: int | None = None
    title: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    author: str | None = Field(default=None, max_length=200)
    state: str = Field(max_length=20)  # open | merged | closed
    created_at: datetime | None = None
    first_commit_at: datetime | None = None
    merged_at: datetime | None = None
    closed_at: datetime | None = None
    merge_sha: str | None = Field(default=None, max_length=64)
    base_branch: str | None = Field(default=None, max_length=400)
    # The branch the change merges from; empty for forks, whose pushes the repository's hooks never see.
    head_branch: str | None = Field(default=None, max_length=400)


class FlowCommit(FlowRecordBase, table=True):
    """A commit seen in a push, with the branch and time of the first push that brought it."""

    __tablename__ = "flow_commits"
    __table_args__ = (
        Index("ix_flow_commits_link", "link_annotation", "link_value", "authored_at"),
        Index("ix_flow_commits_branch", "repository", "branch", "authored_at"),
    )

    repository: str = Field(max_length=400)
    sha: str = Field(max_length=64)
    branch: str | None = Field(default=None, max_length=400)  # without refs/heads/
    title: str | None = Field(default=None, sa_column=Column(Text, nullable=True))  # the message's first line
    author: str | None = Field(default=None, max_length=200)
    authored_at: datetime | None = None
    pushed_at: datetime | None = None


class FlowRelease(FlowRecordBase, table=True):
    """A published (or draft) release of a repository: GitHub release, GitLab release."""

    __tablename__ = "flow_releases"
    __table_args__ = (Index("ix_flow_releases_link", "link_annotation", "link_value", "published_at"),)

    repository: str = Field(max_length=400)
    tag: str = Field(max_length=400)
    name: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    # The commit the tag points at, when the tool names one (GitLab always, GitHub only when its target is a sha).
    sha: str | None = Field(default=None, max_length=64)
    # What the release was cut from as the tool says it: GitHub's target_commitish (a branch or a sha).
    target: str | None = Field(default=None, max_length=400)
    author: str | None = Field(default=None, max_length=200)
    draft: bool = False
    prerelease: bool = False
    created_at: datetime | None = None
    # GitHub's published_at, GitLab's released_at (which may lie in the future for an upcoming release).
    published_at: datetime | None = None
    # A deleted release keeps its row (it was released once); the tool's delete event sets this.
    deleted: bool = False


class FlowPipelineRun(FlowRecordBase, table=True):
    """A CI run: workflow run, pipeline, job, check suite or CDEvents pipelinerun."""

    __tablename__ = "flow_pipeline_runs"
    __table_args__ = (Index("ix_flow_pipeline_runs_link", "link_annotation", "link_value", "started_at"),)

    repository: str | None = Field(default=None, max_length=400)
    name: str | None = Field(default=None, max_length=400)
    ref: str | None = Field(default=None, max_length=400)
    sha: str | None = Field(default=None, max_length=64)
    status: str = Field(max_length=20)  # queued | running | success | failure | cancelled
    started_at: datetime | None = None
    finished_at: datetime | None = None


class FlowDeployment(FlowRecordBase, table=True):
    """A deployment to an environment, with its tier derived from the environment's name."""

    __tablename__ = "flow_deployments"
    __table_args__ = (Index("ix_flow_deployments_link", "link_annotation", "link_value", "started_at"),)

    repository: str | None = Field(default=None, max_length=400)
    environment: str = Field(max_length=200)
    tier: str = Field(max_length=20)  # production | staging | testing | development | other
    sha: str | None = Field(default=None, max_length=64)
    ref: str | None = Field(default=None, max_length=400)
    status: str = Field(max_length=20)  # pending | running | success | failure | cancelled
    started_at: datetime | None = None
    finished_at: datetime | None = None


class FlowIncident(FlowRecordBase, table=True):
    """An incident (PagerDuty, CDEvents incident, …)."""

    __tablename__ = "flow_incidents"
    __table_args__ = (Index("ix_flow_incidents_link", "link_annotation", "link_value", "created_at"),)

    title: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    severity: str | None = Field(default=None, max_length=50)
    status: str = Field(max_length=20)  # triggered | acknowledged | resolved
    # The earliest creation time seen (portal/flow/lifecycle.py: earliest wins).
    created_at: datetime | None = None
    # The first acknowledgement seen; a later unacknowledge or reopen is in the history.
    acknowledged_at: datetime | None = None
    # The final resolution: null while the incident is open (a reopen clears it, the next resolve sets it).
    resolved_at: datetime | None = None
    # Who the incident is assigned to, as a JSON array of names (PagerDuty assignees, GitLab assignees).
    assignees: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class FlowIncidentEvent(SQLModel, table=True):
    """One status change of an incident (triggered, acknowledged, unacknowledged, resolved, reopened …),
    kept so a reopened incident's earlier resolutions stay visible; unique so a replay adds nothing."""

    __tablename__ = "flow_incident_events"
    __table_args__ = (
        Index("uq_flow_incident_event", "incident_id", "at", "event", unique=True),
    )

    id: int | None = Field(default=None, primary_key=True)
    incident_id: str = Field(max_length=400, index=True)
    # The tool's own word for what happened (PagerDuty's event verb, CDEvents' predicate, GitLab's action).
    event: str = Field(max_length=100)
    # The incident's status right after it: triggered | acknowledged | resolved.
    status: str = Field(max_length=20)
    at: datetime
    actor: str | None = Field(default=None, max_length=200)


class FlowWorkItem(FlowRecordBase, table=True):
    """A ticket / issue with its current status (transitions are kept separately)."""

    __tablename__ = "flow_work_items"
    __table_args__ = (Index("ix_flow_work_items_link", "link_annotation", "link_value", "created_at"),)

    key: str = Field(max_length=200)
    title: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    item_type: str | None = Field(default=None, max_length=100)
    status: str | None = Field(default=None, max_length=100)
    status_category: str | None = Field(default=None, max_length=20)  # todo | in_progress | done
    created_at: datetime | None = None
    # Only while the item is done (portal/flow/lifecycle.py): an open item has none, whatever the tool kept.
    resolved_at: datetime | None = None
    deleted: bool = False
    # Who opened the item (GitHub issue.user, GitLab author, Jira reporter), never who last acted on it.
    author: str | None = Field(default=None, max_length=200)


class FlowWorkItemTransition(SQLModel, table=True):
    """One status change of a work item; unique so a replayed changelog adds nothing."""

    __tablename__ = "flow_work_item_transitions"
    __table_args__ = (
        Index("uq_flow_transition", "work_item_id", "at", "to_status", unique=True),
    )

    id: int | None = Field(default=None, primary_key=True)
    work_item_id: str = Field(max_length=400, index=True)
    from_status: str | None = Field(default=None, max_length=100)
    to_status: str = Field(max_length=100)
    at: datetime
    author: str | None = Field(default=None, max_length=200)
