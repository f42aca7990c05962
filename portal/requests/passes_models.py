"""The passes of each request through its value stream, kept as its stage events are written.

A pass is the time a request spends in one stage: it starts with a stage event and ends with the next
one. The value stream map sums passes per stage; deriving them from the events with window functions on
every read costs a product's whole history for a long window (docs/benchmarks.md), so the request
writers keep them here (portal/requests/passes.py) and a window becomes one range of an index.

Columns that depend on the value stream (position, forward, returned_at, the work of a wait stage) were
derived with the stream whose fingerprint is in `requests.passes_key`; readers re-derive a scope whose
requests carry another one first.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, ForeignKey, Index, Integer
from sqlmodel import Field, SQLModel

# What the value stream map reads, in the order it seeks and groups by (a range of `left_at` per stage, so
# the rows come grouped without a sort), and when each pass began (the cumulative flow diagram): the index
# answers both alone.
READ_COLUMNS = ("stage", "left_at", "next_exit_at", "stage_seconds", "stage_work_seconds", "forward", "returned_at",
                "entered_at")


class RequestPass(SQLModel, table=True):
    __tablename__ = "request_passes"
    __table_args__ = (
        Index("ix_request_passes_product", "product_ref", "kind", *READ_COLUMNS),
        Index("ix_request_passes_capability", "capability_ref", "kind", *READ_COLUMNS),
        Index("ix_request_passes_request", "request_id"),
    )

    # The stage event that starts the pass.
    event_id: int = Field(sa_column=Column(Integer, ForeignKey("request_events.id", ondelete="CASCADE"),
                                           primary_key=True, autoincrement=False))
    request_id: int = Field(sa_column=Column(Integer, ForeignKey("requests.id", ondelete="CASCADE"), nullable=False))
    # The request's scope, copied so that a scope's passes are one index range.
    kind: str = Field(max_length=10)
    product_ref: str | None = Field(default=None, max_length=400)
    capability_ref: str | None = Field(default=None, max_length=400)
    stage: str = Field(max_length=100)
    # The stage's place on the main line (None for a terminal stage or one the stream no longer has).
    position: int | None = None
    entered_at: datetime
    # The next event (None while the request is still in this stage).
    left_at: datetime | None = None
    seconds: float | None = None
    # Process time of this pass: the work the ending event records (at most the pass), else all of a work
    # stage's pass and none of a wait stage's.
    work_seconds: float | None = None
    # Σ seconds and Σ work of this request's ended passes in this stage up to and including this one.
    stage_seconds: float | None = None
    stage_work_seconds: float | None = None
    # When this request next left this stage again (None if it never did): the pass whose next exit is
    # after a window's end is the request's last exit from the stage inside it.
    next_exit_at: datetime | None = None
    # The ending event moved it to a later main-line stage.
    forward: bool = Field(default=False)
    # The first event after the ending one that put it back in this stage or an earlier one.
    returned_at: datetime | None = None
