"""Picker options from the catalog (portal/requests/forms/pickers.py), on the real test database."""

from __future__ import annotations

from contextlib import contextmanager

from sqlalchemy import event

from portal.requests.forms.pickers import (
    PICKER_LIMIT,
    load_picker_options,
    missing_from_catalog,
    picker_spec,
    search_picker_options,
)
from portal.requests.forms.schema_fields import page_fields
from tests.requests.factories import group, store
from tests.requests.order_catalog import WIZARD_PAGES, seed_order_catalog


@contextmanager
def counted_statements(session):  # noqa: ANN001, ANN201
    statements: list[str] = []

    def count(conn, cursor, statement, *args) -> None:  # noqa: ANN001, ANN002
        statements.append(statement)

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_options_come_from_one_query_per_distinct_filter_not_per_field(session):
    seed_order_catalog(session)
    schema = {"type": "object", "properties": {
        **{f"owner{n}": {"type": "string", "ui:field": "OwnerPicker", "ui:options": {"catalogFilter": {"kind": "Group"}}}
           for n in range(10)},
        "system": {"type": "string", "ui:field": "EntityPicker", "ui:options": {"catalogFilter": {"kind": "System"}}}}}
    fields = page_fields(schema)
    with counted_statements(session) as one_owner:
        load_picker_options(session, [fields[0], fields[-1]])
    with counted_statements(session) as statements:
        options = load_picker_options(session, fields)
    assert len(statements) == len(one_owner)  # ten owner pickers with one filter cost what one does
    assert [choice.value for choice in options["parameters.owner3"].choices] == [
        "group:default/team-apps", "group:default/team-dx", "group:default/team-sre"]
    assert options["parameters.owner3"] is options["parameters.owner7"]
    assert [choice.value for choice in options["parameters.system"].choices] == [
        "system:default/payments", "system:default/shipping"]
    assert options["parameters.system"].complete


def test_users_show_their_display_names(session):
    seed_order_catalog(session)
    owner = picker_spec("owner", {"catalogFilter": {"kind": "User"}})
    labels = [choice.label for choice in search_picker_options(session, owner, "rui").choices]
    assert labels == ["Rui Requester (user:default/rui.requester)"]


def test_a_catalog_larger_than_the_limit_is_marked_incomplete(session):
    store(session, [group(f"squad-{n:03d}", []) for n in range(PICKER_LIMIT + 1)])
    found = load_picker_options(session, page_fields(WIZARD_PAGES[0]))["parameters.owner"]
    assert len(found.choices) == PICKER_LIMIT and not found.complete


def test_picked_refs_must_be_in_the_catalog_and_pass_the_filter_unless_arbitrary_values_are_allowed(session):
    seed_order_catalog(session)
    groups = picker_spec("owner", {"catalogFilter": {"kind": "Group"}})
    anything = picker_spec("owner", {"catalogFilter": {"kind": "Group"}, "allowArbitraryValues": True})
    problems = missing_from_catalog(session, {
        "a": ("group:default/team-dx", groups), "b": ("group:default/ghosts", groups),
        "c": ("user:default/rui.requester", groups),  # exists, but the filter asks for groups
        "d": ("group:default/ghosts", anything)})
    assert problems == {"b": "The catalog has no owner (group or user) called group:default/ghosts",
                        "c": "The catalog has no owner (group or user) called user:default/rui.requester"}


def test_unusable_catalog_filters_are_ignored_not_fatal():
    spec = picker_spec("entity", {"catalogFilter": [{"kind": 5}, "junk", {"spec.type": {"exists": True}},
                                                    {"metadata.tags": ["a", 3]}]})
    assert spec.filter_groups() == [{"spec.type": None}]
