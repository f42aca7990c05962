"""Where a capability's order form comes from: its own `spec.inputs`, else its template's parameter pages."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache

from sqlmodel import Session

from portal.requests.forms.model import FormField, FormPage
from portal.requests.forms.schema_fields import build_page
from portal.requests.inputs import schema_is_usable
from portal.requests.offerings import OfferingRefError, load_entity, normalize_ref

DEFAULT_PAGE_TITLE = "Details"
MAX_PAGES = 20
MAX_REMEMBERED_SCHEMA_CHARS = 64 * 1024


def usable_problem(schema: object) -> str | None:
    """`schema_is_usable`, remembered per schema text: checking a schema against its meta-schema costs
    more than drawing the whole page (~20 ms), and the answer depends on the schema's text alone, so a
    changed descriptor simply asks again (no catalog generation or expiry is involved)."""
    try:
        text = json.dumps(schema, sort_keys=True, ensure_ascii=False)
    except (TypeError, ValueError):
        return schema_is_usable(schema)
    if len(text) > MAX_REMEMBERED_SCHEMA_CHARS:
        return schema_is_usable(schema)
    return _usable_text(text)


@lru_cache(maxsize=256)
def _usable_text(text: str) -> str | None:
    return schema_is_usable(json.loads(text))


@dataclass
class OrderForm:
    """A capability's form: its pages, or the reason it cannot take orders (`problem`)."""

    capability_ref: str
    capability: dict
    pages: list[FormPage] = field(default_factory=list)
    source: str = "none"  # "inputs", "template" or "none"
    template_ref: str | None = None
    problem: str | None = None

    @property
    def deprecated(self) -> bool:
        return (self.capability.get("spec") or {}).get("lifecycle") == "deprecated"

    @property
    def is_wizard(self) -> bool:
        return len(self.pages) > 1

    def all_fields(self) -> list[FormField]:
        return [item for page in self.pages for item in page.all_fields()]

    def page_of(self, field_name: str) -> int | None:
        for index, page in enumerate(self.pages):
            if any(item.name == field_name for item in page.all_fields()):
                return index
        return None

    def as_json(self) -> dict:
        answer = {"capability": self.capability_ref, "source": self.source, "deprecated": self.deprecated,
                  "pages": [page.as_json() for page in self.pages],
                  "review": self.is_wizard,
                  "submit": {"method": "POST", "url": "/api/v1/requests", "kind": "order",
                             "capability": self.capability_ref}}
        if self.template_ref:
            answer["template"] = self.template_ref
        if self.problem:
            answer["problem"] = self.problem
        return answer


def _ref_of(entity: dict) -> str:
    metadata = entity.get("metadata") or {}
    return f"capability:{metadata.get('namespace') or 'default'}/{metadata.get('name')}".lower()


def _owner_hint(capability: dict) -> str:
    owner = (capability.get("spec") or {}).get("owner")
    return f"its owners ({owner})" if isinstance(owner, str) else "its owners"


def order_form_for(session: Session, capability: dict) -> OrderForm:
    """The form for ordering `capability` (a full entity), never raising for a broken descriptor."""
    form = OrderForm(_ref_of(capability), capability)
    spec = capability.get("spec") if isinstance(capability.get("spec"), dict) else {}
    try:
        if "inputs" in spec:
            _from_inputs(form, spec["inputs"])
        elif isinstance((spec.get("fulfillment") or {}).get("template"), str):
            _from_template(session, form, spec["fulfillment"]["template"])
    except RecursionError:
        form.pages, form.problem = [], "Its input schema is nested too deeply to draw as a form."
    if form.problem:
        form.problem = f"{form.problem} Ask {_owner_hint(capability)} to fix the descriptor."
    return form


def _from_inputs(form: OrderForm, inputs: object) -> None:
    form.source = "inputs"
    if (unusable := usable_problem(inputs)) is not None:
        form.problem = f"This capability cannot take orders: its spec.inputs {unusable}."
        return
    if isinstance(inputs, dict):
        form.pages = [build_page(inputs, 0, DEFAULT_PAGE_TITLE)]


def _from_template(session: Session, form: OrderForm, template: str) -> None:
    form.source = "template"
    try:
        form.template_ref = normalize_ref(template, "template")
    except OfferingRefError as error:
        form.problem = f"This capability's fulfillment.template is not usable: {error}."
        return
    entity = load_entity(session, form.template_ref)
    if entity is None:
        form.problem = f"This capability is fulfilled by {form.template_ref}, which is not in the catalog."
        return
    parameters = (entity.get("spec") or {}).get("parameters")
    if parameters is None:
        return
    raw_pages = parameters if isinstance(parameters, list) else [parameters]
    if len(raw_pages) > MAX_PAGES:
        form.problem = f"{form.template_ref} has {len(raw_pages)} parameter pages; at most {MAX_PAGES} can be shown."
        return
    for index, schema in enumerate(raw_pages):
        unusable = usable_problem(schema) if isinstance(schema, dict) else "is not a JSON Schema object"
        if unusable is not None:
            form.pages, form.problem = [], f"Page {index + 1} of {form.template_ref}'s parameters {unusable}."
            return
        form.pages.append(build_page(schema, index, DEFAULT_PAGE_TITLE))
