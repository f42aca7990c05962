"""The DORA rollup's tables: each component's samples, already attributed, and how fresh they are.

A sample row is one thing DORA counts for one component, placed in time by `at`:
- `deployment`: a successful production deployment (`at` its finish, `day` its UTC day number);
- `failure`: an incident attributed to a deployment (`at` and `deployment_id` that deployment);
- `lead`: a change and the deployment that shipped it (`at` that deployment's finish), with the lead
  time and its parts in seconds;
- `incident`: an incident resolved at `at`, with its time to restore and, when attributed to a
  deployment (`deployment_id`, `deployment_at`), its failed deployment recovery time.
A record two components share has a row in each; readers take it once (portal/metrics/dora_samples.py).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, Index, Integer, Text
from sqlmodel import Field, SQLModel


class DoraSample(SQLModel, table=True):
    # Every read is a range of `at` for some components and one kind, so the rows are kept in that
    # order (SQLite: a table without rowid is stored in its primary key's order) and a window's rows are
    # read together; the unique index is what a rebuild replaces a sample by.
    __tablename__ = "metrics_dora_samples"
    __table_args__ = (Index("ux_metrics_dora_samples_sample", "component_ref", "kind", "sample_id", unique=True),
                      {"sqlite_with_rowid": False})

    component_ref: str = Field(primary_key=True, max_length=400)
    kind: str = Field(primary_key=True, max_length=12)
    at: datetime = Field(primary_key=True)
    sample_id: str = Field(primary_key=True, max_length=400)
    day: int | None = None
    deployment_id: str | None = Field(default=None, max_length=400)
    deployment_at: datetime | None = None
    seconds: float | None = None
    coding_seconds: float | None = None
    review_seconds: float | None = None
    deploy_seconds: float | None = None
    recovery_seconds: float | None = None


class DoraRollupState(SQLModel, table=True):
    """Per component: the links its samples were built from and the last flow link change they include."""

    __tablename__ = "metrics_dora_state"

    component_ref: str = Field(primary_key=True, max_length=400)
    links: str = Field(sa_column=Column(Text, nullable=False))
    consumed_change_id: int = Field(default=0, sa_column=Column(BigInteger().with_variant(Integer(), "sqlite"),
                                                                 nullable=False, default=0))
    built_at: datetime
