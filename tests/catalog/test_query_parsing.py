"""Unit tests of the query syntax: filters, order fields, fields projection and cursors."""

import base64
import json

import pytest

from portal.catalog.cursor import Cursor, decode_cursor, encode_cursor
from portal.catalog.entity_fields import parse_fields_params, project
from portal.catalog.query import parse_filter_params, parse_order_fields
from portal.errors import CatalogApiError


def test_each_filter_param_is_an_and_group_and_params_are_ored():
    groups = parse_filter_params(["kind=component,spec.type=service", "kind=group,spec.type"])
    assert groups == [
        {"kind": ["component"], "spec.type": ["service"]},
        {"kind": ["group"], "spec.type": None},
    ]


def test_repeated_key_in_one_group_collects_values_and_empty_value_is_kept():
    assert parse_filter_params(["kind=api,kind=component, metadata.name= "]) == [
        {"kind": ["api", "component"], "metadata.name": [""]}
    ]


def test_value_test_replaces_bare_existence_and_values_keep_equals_signs():
    assert parse_filter_params(["spec.type,spec.type=service"]) == [{"spec.type": ["service"]}]
    assert parse_filter_params(["metadata.annotations.x=a=b"]) == [{"metadata.annotations.x": ["a=b"]}]


def test_empty_filter_params_are_dropped():
    assert parse_filter_params(["", " , "]) == []


def test_a_statement_without_key_is_an_input_error():
    with pytest.raises(CatalogApiError) as raised:
        parse_filter_params(["kind=component,=x"])
    assert raised.value.status == 400 and "'=x'" in raised.value.message


def test_order_fields_default_to_ascending_and_reject_other_directions():
    assert parse_order_fields(["metadata.name,desc", "kind"]) == [("metadata.name", "desc"), ("kind", "asc")]
    with pytest.raises(CatalogApiError):
        parse_order_fields(["metadata.name,sideways"])


def test_fields_projection_keeps_only_named_paths():
    entity = {"kind": "Component", "metadata": {"name": "a", "tags": ["x"], "annotations": {"k": "v"}},
              "spec": {"type": "service"}}
    fields = parse_fields_params(["kind,metadata.name", "metadata.missing", "spec"])
    assert project(entity, fields) == {"kind": "Component", "metadata": {"name": "a"}, "spec": {"type": "service"}}
    assert parse_fields_params([]) is None
    with pytest.raises(CatalogApiError):
        parse_fields_params(["metadata.tags[0]"])


def test_cursor_round_trips_everything_needed_to_continue():
    cursor = Cursor(
        filters=[{"kind": ["component"], "spec.type": None}], order_fields=[("metadata.name", "desc")],
        full_text_term="shop", full_text_fields=["metadata.title"], position=[None, "uid-9"],
        first_position=["alpha", "uid-1"], backwards=True, total_items=42,
    )
    token = encode_cursor(cursor)
    assert "=" not in token and "+" not in token and "/" not in token
    assert decode_cursor(token) == cursor


@pytest.mark.parametrize("token", [
    "not base64 !!",
    base64.urlsafe_b64encode(b"[1,2]").decode(),
    base64.urlsafe_b64encode(json.dumps({"v": 1, "position": []}).encode()).decode(),
    base64.urlsafe_b64encode(json.dumps({"v": 1, "position": ["u"], "order_fields": [["x", "up"]]}).encode()).decode(),
    base64.urlsafe_b64encode(json.dumps({"v": 1, "position": ["u"], "filters": [{"kind": 3}]}).encode()).decode(),
    base64.urlsafe_b64encode(json.dumps({"v": 1, "position": ["u"], "surprise": True}).encode()).decode(),
])
def test_malformed_cursors_are_input_errors(token):
    with pytest.raises(CatalogApiError) as raised:
        decode_cursor(token)
    assert raised.value.status == 400
