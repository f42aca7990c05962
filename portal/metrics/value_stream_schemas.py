"""The value stream API's answer as a schema, so the OpenAPI document shows the contract."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class StageRead(BaseModel):
    """One stage of the map; values are null when no item left the stage in the window."""

    model_config = ConfigDict(populate_by_name=True)

    id: str
    type: Literal["wait", "work"]
    items: int = Field(description="Items that left the stage in the window")
    leadTime: float | None = Field(description="Mean total time in the stage of those items, seconds")
    processTime: float | None = Field(description="Mean work time in the stage of those items, seconds")
    percentCompleteAccurate: float | None = Field(
        description="Share of forward exits after which the item never came back to this stage or before")


class TotalsRead(BaseModel):
    leadTime: float | None = Field(description="Σ of the stages' lead times, seconds")
    processTime: float | None = Field(description="Σ of the stages' process times, seconds")
    activityRatio: float | None = Field(description="Σ process time ÷ Σ lead time")
    rolledPercentCompleteAccurate: float | None = Field(description="Product of the stages' %C&A")


class WindowRead(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    from_: str = Field(alias="from")
    until: str


class ValueStreamRead(BaseModel):
    """The value stream map of a product's or capability's requests over a window."""

    model_config = ConfigDict(populate_by_name=True)

    kind: Literal["order", "idea"]
    product: str | None
    capability: str | None
    window: WindowRead
    stages: list[StageRead] = Field(description="Main-line stages in the product's order")
    totals: TotalsRead
