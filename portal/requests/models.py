"""Request tables: one row per request, its append-only stage events, votes and comments."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column, ForeignKey, Index, Integer, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

KINDS = ("order", "idea")
FLOW_ITEM_TYPES = ("feature", "defect", "risk", "debt")
EVENT_SOURCES = ("user", "automation", "plugin", "webhook")
# Who acts when nobody is signed in (only where the policy allows anonymous changes: development, tests).
ANONYMOUS_ACTOR = "anonymous"
PUBLIC_ID_PREFIX = "REQ-"


class Request(SQLModel, table=True):
    """An order for a capability or an idea for a platform product, with its current stage."""

    __tablename__ = "requests"
    __table_args__ = (
        # Listings sort by (updated_at, id), newest first; each filter the portal pages by leads an index.
        Index("ix_requests_updated", "updated_at", "id"),
        Index("ix_requests_requester_updated", "requester_ref", "updated_at", "id"),
        Index("ix_requests_stage_capability", "stage", "capability_ref", "updated_at", "id"),
        Index("ix_requests_product_stage", "product_ref", "stage", "updated_at", "id"),
        Index("ix_requests_capability_updated", "capability_ref", "updated_at", "id"),
        Index("ix_requests_kind_updated", "kind", "updated_at", "id"),
        Index("ix_requests_component", "component_ref", "stage"),
        Index("ix_requests_tracker_item", "tracker_item", "stage"),
        # The metrics read these without visiting the rows (docs/benchmarks.md, "Product-management pages at
        # scale"): deliveries by capability and time, with what adoption groups them by (metrics/deliveries.py);
        # confirmed value by time; requests by stage per product and per capability (metrics/flow_requests.py).
        Index("ix_requests_delivered", "capability_ref", "kind", "delivered_at", "stage", "requester_ref",
              "component_ref", "component_parameter"),
        Index("ix_requests_capability_confirmed", "capability_ref", "kind", "value_confirmed_at"),
        Index("ix_requests_product_kind_stage", "product_ref", "kind", "stage", "created_at"),
        # Derived from the stage events (portal/requests/passes.py): which requests a scope must re-derive,
        # and the finished ones of a window with what flow time and efficiency need (metrics/flow_headlines.py).
        Index("ix_requests_passes_key", "product_ref", "kind", "passes_key", "capability_ref"),
        # Capability scopes read through their product's (metrics/flow_requests.py): no capability twin, which
        # SQLite's sampled statistics would also pick for the deliveries that ix_requests_delivered covers.
        Index("ix_requests_product_finished", "product_ref", "kind", "flow_finished_at", "created_at",
              "flow_work_seconds", "capability_ref", "flow_item_type", "id"),
    )

    # Shown as REQ-<id>: short enough to say out loud, and the database hands it out without races.
    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=10)
    title: str = Field(max_length=200)
    description: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    # Lower-cased entity refs; an order keeps its capability's product so product queues see it.
    capability_ref: str | None = Field(default=None, max_length=400)
    product_ref: str | None = Field(default=None, max_length=400)
    requester_ref: str = Field(max_length=400)
    stage: str = Field(max_length=100)
    flow_item_type: str = Field(default="feature", max_length=10)
    created_at: datetime
    updated_at: datetime
    # When the request first reached delivery or a terminal stage (cleared if it is reopened): the
    # end of the lead time that `breached` compares with the target.
    lead_time_ended_at: datetime | None = None
    # When the request first reached a delivered stage (stages.DELIVERED_STAGES), kept when it moves
    # back: what the value metrics date deliveries and adoptions by, without reading every timeline.
    # Set wherever stage events are written (service.transition, history import, demo seed).
    delivered_at: datetime | None = None
    # The capability's targetLeadTime as written (ISO-8601), and in seconds when it could be parsed.
    target_lead_time: str | None = Field(default=None, max_length=100)
    target_lead_time_seconds: int | None = None
    task_id: str | None = Field(default=None, max_length=100)
    # The component an order is for or created (its deployments move it to in-use), and the
    # issue-tracker item an idea follows (its status moves the idea): portal/requests/follow_flow.py.
    component_ref: str | None = Field(default=None, max_length=400)
    tracker_item: str | None = Field(default=None, max_length=400)
    parameters: dict | None = Field(default=None, sa_column=Column(JSON(none_as_null=True), nullable=True))
    # The `component` parameter when it is text of at most 400 characters (component_parameter()): adoption
    # groups delivered orders by it from an index instead of parsing every order's parameters. Set with
    # `parameters`, which never change after the order is placed.
    component_parameter: str | None = Field(default=None, max_length=400)
    value_hypothesis: dict | str | None = Field(default=None, sa_column=Column(JSON(none_as_null=True), nullable=True))
    vote_count: int = Field(default=0)
    value_rating: int | None = None
    value_time_saved: str | None = Field(default=None, max_length=100)
    value_time_saved_seconds: int | None = None
    value_comment: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    value_confirmed_at: datetime | None = None
    # Derived from the stage events with the value stream whose fingerprint is `passes_key` (None: not yet),
    # by portal/requests/passes.py, with the request's passes (request_passes): the first arrival at the
    # delivery stage or a later main-line one (the flow metrics' finish) and the work time up to it.
    passes_key: str | None = Field(default=None, max_length=32)
    flow_finished_at: datetime | None = None
    flow_work_seconds: float | None = None

    @property
    def public_id(self) -> str:
        return f"{PUBLIC_ID_PREFIX}{self.id}"


class RequestEvent(SQLModel, table=True):
    """One stage change of a request; rows are only ever added."""

    __tablename__ = "request_events"
    __table_args__ = (
        Index("ix_request_events_request_at", "request_id", "at", "id"),
        # The metrics find the requests that moved in a window from here (portal/metrics/value_stream_query.py).
        Index("ix_request_events_at", "at", "request_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(sa_column=Column(Integer, ForeignKey("requests.id", ondelete="CASCADE"), nullable=False))
    at: datetime
    actor: str = Field(max_length=400)
    from_stage: str | None = Field(default=None, max_length=100)
    to_stage: str = Field(max_length=100)
    source: str = Field(max_length=20)
    note: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    # Work recorded for the pass that this event ends (the value stream map's process time).
    work_time_seconds: int | None = None
    is_rework: bool = Field(default=False)


class RequestVote(SQLModel, table=True):
    """One person's vote for an idea."""

    __tablename__ = "request_votes"
    __table_args__ = (UniqueConstraint("request_id", "voter_ref", name="uq_request_votes_voter"),)

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(sa_column=Column(Integer, ForeignKey("requests.id", ondelete="CASCADE"), nullable=False))
    voter_ref: str = Field(max_length=400)
    at: datetime


class RequestComment(SQLModel, table=True):
    """A comment on an idea."""

    __tablename__ = "request_comments"
    __table_args__ = (Index("ix_request_comments_request_at", "request_id", "at", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(sa_column=Column(Integer, ForeignKey("requests.id", ondelete="CASCADE"), nullable=False))
    author_ref: str = Field(max_length=400)
    at: datetime
    body: str = Field(sa_column=Column(Text, nullable=False))


def component_parameter(parameters: object) -> str | None:
    """`Request.component_parameter` of these parameters: a longer value names no component anyway
    (metrics/entities.py named_component)."""
    value = parameters.get("component") if isinstance(parameters, dict) else None
    return value if isinstance(value, str) and len(value) <= 400 else None
