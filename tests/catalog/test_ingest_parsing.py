"""YAML splitting, line lookups, problem formatting and placeholder path resolution."""

from portal.catalog.ingest import Problem
from portal.catalog.ingest.substitutions import resolve_target
from portal.catalog.ingest.yaml_documents import LineFinder, parse_documents

THREE_DOCUMENTS_THIRD_BROKEN = """\
kind: A
---
kind: B
---
kind: C
spec: [unclosed
---
kind: D
"""


def test_documents_before_a_syntax_error_still_load_and_the_error_has_its_line():
    documents, problems = parse_documents(THREE_DOCUMENTS_THIRD_BROKEN)
    assert [doc.data["kind"] for doc in documents] == ["A", "B"]
    assert [doc.line for doc in documents] == [1, 3]
    assert len(problems) == 1
    assert problems[0].line == 7
    assert "line 7" in problems[0].message and "YAML syntax error" in problems[0].message


def test_empty_documents_are_skipped_and_dates_stay_strings():
    documents, problems = parse_documents("---\n---\nmetadata:\n  created: 2024-01-31\n")
    assert problems == []
    assert documents[0].data == {"metadata": {"created": "2024-01-31"}}


def test_an_unknown_tag_spoils_only_its_own_document():
    documents, problems = parse_documents("a: !vault secret\n---\nb: 2\n")
    assert [doc.data for doc in documents] == [{"b": 2}]
    assert problems[0].line == 1


DESCRIPTOR = """\
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: svc
  annotations:
    example.com/with.dots: x
  tags:
    - good
    - Bad_Tag
spec:
  type: service
"""


def test_line_of_path_points_at_the_field_or_at_the_parent_of_a_missing_one():
    text = "---\n---\n" + DESCRIPTOR  # two empty documents first: positions must still match
    [document], _ = parse_documents(text)
    lines = LineFinder(text)
    assert lines.line(document, "metadata.name") == 6
    assert lines.line(document, "metadata.annotations.example.com/with.dots") == 8
    assert lines.line(document, "metadata.tags[1]") == 11
    assert lines.line(document, "spec.type") == 13
    assert lines.line(document, "spec.owner") == 12  # missing: the `spec:` key
    assert lines.line(document, "relations") == 3  # missing at the top: the document start


def test_problem_text_is_file_line_entity_field_message_leaving_out_unknown_parts():
    full = Problem("/c/a.yaml", 12, "component:default/svc", "spec.owner", "is required")
    assert str(full) == "/c/a.yaml:12: component:default/svc: spec.owner: is required"
    assert str(Problem("/c/a.yaml", None, None, None, "file not found")) == "/c/a.yaml: file not found"


def test_relative_targets_resolve_against_the_containing_file_or_url():
    assert resolve_target("file:/c/org/all.yaml", "./teams/a.yaml") == ("file", "/c/org/teams/a.yaml")
    assert resolve_target("file:/c/org/all.yaml", "../b.yaml") == ("file", "/c/b.yaml")
    assert resolve_target("url:https://h.example/x/all.yaml", "./y.yaml") == ("url", "https://h.example/x/y.yaml")
    assert resolve_target("file:/c/all.yaml", "https://h.example/a.yaml") == ("url", "https://h.example/a.yaml")


def test_a_url_descriptor_may_not_point_at_local_files():
    refused = resolve_target("url:https://h.example/all.yaml", "/etc/passwd", "file")
    assert isinstance(refused, str) and "not allowed inside a url location" in refused


def test_merge_keys_and_typed_scalars_load_like_pyyaml():
    text = "base: &b {owner: team-a}\nspec:\n  <<: *b\n  port: 0x1F\n  ratio: 1.5\n  flag: true\n  none: ~\n"
    [document], problems = parse_documents(text)
    assert problems == []
    assert document.data["spec"] == {"owner": "team-a", "port": 31, "ratio": 1.5, "flag": True, "none": None}


def test_values_json_cannot_hold_are_a_problem_for_that_document_only():
    documents, problems = parse_documents("a: !!binary aGVsbG8=\n---\nb: &x [1, *x]\n---\nc: 3\n")
    assert [doc.data for doc in documents] == [{"c": 3}]
    assert [p.line for p in problems] == [1, 3]
    assert "JSON cannot represent" in problems[0].message
    assert "self-referencing alias" in problems[1].message
