"""Bodies the requests API accepts: camelCase JSON, unknown fields refused, text the databases can store."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt
from pydantic.alias_generators import to_camel

from portal.requests.inputs import StorableText

MAX_TITLE = 200
MAX_NOTE = 2_000
MAX_DESCRIPTION = 10_000
MAX_COMMENT = 5_000
MAX_REF = 400

Title = Annotated[StorableText, Field(max_length=MAX_TITLE)]
Note = Annotated[StorableText, Field(max_length=MAX_NOTE)]
Ref = Annotated[StorableText, Field(min_length=1, max_length=MAX_REF)]
Description = Annotated[StorableText, Field(max_length=MAX_DESCRIPTION)]
DurationText = Annotated[StorableText, Field(max_length=100)]
FlowItemType = Literal["feature", "defect", "risk", "debt"]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", alias_generator=to_camel, populate_by_name=True)


class MeasurableHypothesis(Body):
    """A value hypothesis with a measurable target, e.g. lead time for changes of adopters −20 %."""

    text: Note
    metric: Annotated[StorableText, Field(max_length=MAX_TITLE)] | None = None
    target: Annotated[StorableText, Field(max_length=MAX_TITLE)] | None = None


ValueHypothesis = Note | MeasurableHypothesis


def hypothesis_value(hypothesis: ValueHypothesis | None) -> dict | str | None:
    """The hypothesis as stored: the text as sent, or the object without its empty fields."""
    if isinstance(hypothesis, MeasurableHypothesis):
        return hypothesis.model_dump(exclude_none=True)
    return hypothesis


class OrderCreate(Body):
    kind: Literal["order"]
    capability: Ref
    # The component the order is for, when it is for an existing one (a database for a service).
    component: Ref | None = None
    # Checked in the service: JSON size, depth and text, then the capability's JSON Schema.
    parameters: dict[str, Any] | None = None
    value_hypothesis: ValueHypothesis | None = None
    title: Title | None = None
    description: Description | None = None
    flow_item_type: FlowItemType = "feature"


class IdeaCreate(Body):
    kind: Literal["idea"]
    product: Ref
    title: Annotated[Title, Field(min_length=1)]
    # The issue-tracker item that delivers the idea (`PROJ-12`, `org/repo#12` or its URL).
    tracker_item: Ref | None = None
    description: Description | None = None
    value_hypothesis: ValueHypothesis | None = None
    flow_item_type: FlowItemType = "feature"


RequestCreate = Annotated[OrderCreate | IdeaCreate, Field(discriminator="kind")]


class DecisionBody(Body):
    decision: Literal["approve", "reject"]
    reason: Note | None = None


class TransitionBody(Body):
    to: Annotated[StorableText, Field(min_length=1, max_length=100)]
    note: Note | None = None
    work_time: DurationText | None = Field(default=None, description="ISO-8601 duration of work in the stage left")


class ValueBody(Body):
    rating: Annotated[StrictInt, Field(ge=1, le=5)]
    time_saved: DurationText
    comment: Note | None = None


class CommentBody(Body):
    body: Annotated[StorableText, Field(min_length=1, max_length=MAX_COMMENT)]


class LinksBody(Body):
    """`PUT /api/v1/requests/{id}/links`: fields left out stay as they are; null unlinks."""

    component: Ref | None = None
    tracker_item: Ref | None = None
