"""One step of ordering: remember what a page posted, move Next/Back, check a page, submit the order.

A one-page form submits straight away (no review: the page already shows every value beside its
label); a form of several pages (a template's parameter list) ends on a review page listing every
value, secrets masked, where the value hypothesis is asked and the order is submitted.
Every check reuses the requests API's own: `parameter_problems` for each page's schema,
`json_problems` for what the database stores, and `service.create_order` at the end.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from pydantic import ValidationError
from sqlmodel import Session

from portal.requests import service
from portal.requests.forms.draft import Draft, DraftError, unseal
from portal.requests.forms.field_errors import FormErrors, after_reading_problems, place_errors
from portal.requests.forms.model import FormField, FormPage
from portal.requests.forms.parsing import Parsed, parse_fields, posted_names, raw_of
from portal.requests.forms.pickers import missing_from_catalog
from portal.requests.forms.sources import OrderForm
from portal.requests.forms.values import default_raw
from portal.requests.inputs import FieldProblem, RequestProblem, json_problems, parameter_problems
from portal.requests.models import Request
from portal.requests.schemas import MeasurableHypothesis, hypothesis_value

Posted = Mapping[str, Sequence[str]]
_PAGE_NUMBER = re.compile(r"[0-9]{1,4}")


def hypothesis_fields() -> list[FormField]:
    """The value hypothesis every order asks for (optional): a sentence, and a measurable target."""
    return [
        FormField(name="hypothesis.text", api_path="valueHypothesis.text", widget="textarea", value_type="string",
                  label="What value do you expect?",
                  description="Your value hypothesis, e.g. “our new services reach production in a day instead of "
                              "two weeks”. The owners check the value delivered against it.",
                  constraints={"maxLength": 2000}),
        FormField(name="hypothesis.metric", api_path="valueHypothesis.metric", widget="text", value_type="string",
                  label="Metric to watch (optional)", placeholder="lead time for changes",
                  constraints={"maxLength": 200}),
        FormField(name="hypothesis.target", api_path="valueHypothesis.target", widget="text", value_type="string",
                  label="Target (optional)", placeholder="−20 %", constraints={"maxLength": 200}),
    ]


@dataclass(frozen=True)
class ReadyOrder:
    """Every page checked: the parameters and value hypothesis to order with."""

    parameters: dict
    hypothesis: dict | str | None


@dataclass
class FormState:
    """Where someone is in a form: the step shown (len(pages) is the review), what they typed, what is wrong."""

    form: OrderForm
    step: int
    draft: Draft
    errors: FormErrors = field(default_factory=FormErrors)
    ready: ReadyOrder | None = None  # set when a submit passed every check

    @property
    def on_review(self) -> bool:
        return self.form.is_wizard and self.step >= len(self.form.pages)

    @property
    def page(self) -> FormPage | None:
        return self.form.pages[self.step] if self.step < len(self.form.pages) else None

    @property
    def every_page_seen(self) -> bool:
        return self.draft.seen >= set(range(len(self.form.pages)))

    @property
    def asks_hypothesis(self) -> bool:
        """The value hypothesis is asked where the order is submitted: the one page, or the review."""
        return self.on_review or (not self.form.is_wizard)

    def raw_for(self, index: int) -> dict[str, list[str]]:
        """What page `index` shows: what was typed there, or its defaults if it was never filled in."""
        if index in self.draft.seen:
            return self.draft.raw
        return {**self.draft.raw, **default_raw(self.form.pages[index].fields)}


def start(form: OrderForm) -> FormState:
    return FormState(form, 0, Draft(form.capability_ref))


def _page_number(text: str) -> int | None:
    # ASCII digits only, and few of them: str.isdigit() also accepts "²", which int() refuses.
    return int(text) if _PAGE_NUMBER.fullmatch(text) else None


def _step(posted: Posted, pages: int) -> int:
    number = _page_number((posted.get("step") or ["0"])[0])
    return min(number, pages) if number is not None else 0


def _remember(state: FormState, posted: Posted) -> None:
    """Keep what this step posted in the draft; a password left empty keeps the one typed before."""
    fields = list(state.page.fields) if state.page is not None else []
    if state.asks_hypothesis:
        fields += hypothesis_fields()
    fresh = raw_of(fields, posted)
    for top in fields:
        for item in top.walk():
            if item.widget == "fieldset":
                continue
            for name in posted_names(item):
                kept = state.draft.raw.pop(name, None)
                if item.secret and kept and not "".join(fresh.get(name, [])):
                    state.draft.raw[name] = kept
                elif name in fresh:
                    state.draft.raw[name] = fresh[name]
    if state.page is not None:
        state.draft.seen.add(state.step)


def advance(session: Session, form: OrderForm, posted: Posted, secret_key: str) -> FormState:
    """The state after a post; `ready` is set when it submitted the order without problems."""
    token = (posted.get("draft") or [""])[0]
    state = start(form)
    if token:
        try:
            state.draft = unseal(token, secret_key, form.capability_ref)
        except DraftError as error:
            state.errors.general.append(str(error))
            return state
    state.step = _step(posted, len(form.pages) if form.is_wizard else 0)
    _remember(state, posted)
    action = (posted.get("action") or ["submit"])[0]
    if action == "back":
        state.step = max(state.step - 1, 0)
    elif action.startswith("goto:") and (number := _page_number(action[5:])) is not None:
        state.step = min(number, len(form.pages) - 1 if form.pages else 0)
    elif action in ("next", "review") and state.page is not None:
        _, state.errors = check_page(session, state, state.step)
        if not state.errors:
            # "Back to review" after an Edit skips the pages already filled in.
            state.step = len(form.pages) if action == "review" and state.every_page_seen else state.step + 1
    else:
        return _check_all(session, state)
    return state


def check_page(session: Session, state: FormState, index: int) -> tuple[Parsed, FormErrors]:
    """Page `index`'s values and everything wrong with them, by the API's own checks."""
    page = state.form.pages[index]
    parsed = parse_fields(page.fields, state.raw_for(index))
    checked = json_problems(parsed.values, "parameters") or parameter_problems(page.schema, parsed.values)
    by_name = {item.name: item for item in page.all_fields()}
    checked += [FieldProblem(by_name[name].api_path, message)
                for name, message in missing_from_catalog(session, parsed.picked).items()]
    return parsed, place_errors(after_reading_problems(parsed.problems, checked), page.fields)


def hypothesis_of(raw: Posted) -> tuple[dict | str | None, list[FieldProblem]]:
    """The value hypothesis as the API stores it: the sentence, or the sentence with metric and target."""
    texts = {part: ((raw.get(f"hypothesis.{part}") or [""])[0]).replace("\r\n", "\n").strip()
             for part in ("text", "metric", "target")}
    if not any(texts.values()):
        return None, []
    if not texts["text"]:
        return None, [FieldProblem("valueHypothesis.text", "Say in words what value you expect, "
                                                           "then the metric and target that would show it.")]
    try:
        model = MeasurableHypothesis(text=texts["text"], metric=texts["metric"] or None,
                                     target=texts["target"] or None)
    except ValidationError as error:
        return None, [FieldProblem("valueHypothesis." + ".".join(str(p) for p in item["loc"]), item["msg"])
                      for item in error.errors()]
    value = hypothesis_value(model)
    return (value["text"] if set(value) == {"text"} else value), []  # type: ignore[index]


def _check_all(session: Session, state: FormState) -> FormState:
    parameters: dict = {}
    first_bad: int | None = None
    for index in range(len(state.form.pages)):
        parsed, errors = check_page(session, state, index)
        parameters.update(parsed.values)
        if errors and first_bad is None:
            first_bad, state.errors = index, errors
    hypothesis, problems = hypothesis_of(state.draft.raw)
    if problems:
        merged = place_errors(problems, hypothesis_fields())
        if first_bad is None:
            state.errors = merged
            first_bad = len(state.form.pages) if state.form.is_wizard else 0
        else:
            state.errors.by_field.update(merged.by_field)
            state.errors.summary.extend(merged.summary)
    if first_bad is not None:
        state.step = first_bad
        return state
    state.ready = ReadyOrder(parameters, hypothesis)
    return state


def create(session: Session, state: FormState, requester: str) -> Request | FormState:
    """The order, or the form again with each problem the service found beside its field."""
    ready = state.ready
    assert ready is not None, "create() follows a submit that passed every check"
    state.ready = None
    try:
        return service.create_order(session, capability=state.form.capability_ref, requester=requester,
                                    parameters=ready.parameters, value_hypothesis=ready.hypothesis)
    except RequestProblem as problem:
        fields = state.form.all_fields() + hypothesis_fields()
        state.errors = place_errors(problem.details, fields)
        if not problem.details:
            state.errors.general.append(problem.message)
        named = [state.form.page_of(name) for name in state.errors.by_field]
        state.step = min((index for index in named if index is not None), default=state.step)
        return state
