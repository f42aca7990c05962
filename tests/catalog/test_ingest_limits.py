"""Finding 4: YAML alias bombs, deep nesting and oversized files or URL bodies are refused with the
reason and the setting to change, never a 500 or a process that eats memory."""

import os

import httpx
import pytest

from portal.catalog.ingest import LocationError, register_location
from portal.catalog.ingest.limits import ReadLimits
from portal.catalog.ingest.reader import TreeReader
from portal.catalog.ingest.sources import SourceReader, location_key
from portal.catalog.ingest.yaml_documents import parse_documents
from tests.catalog.descriptors import COMPONENT, API


def billion_laughs() -> str:
    """The classic: nine levels of nine aliases each, 9**9 strings once expanded, in a few hundred bytes."""
    levels = ['  a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for previous, name in zip("abcdefgh", "bcdefghi"):
        levels.append(f"  {name}: &{name} [{', '.join(['*' + previous] * 9)}]")
    return COMPONENT.format(name="laughs") + "\n".join(levels) + "\n"


ALIAS_REFUSAL = ("uses YAML aliases that would expand past 10000 nodes; FLOWPORT_YAML_MAX_ALIAS_NODES sets "
                 "the limit")


def test_a_billion_laughs_document_is_refused_and_its_neighbours_load(session, settings, tmp_path):
    bomb = billion_laughs()
    assert len(bomb) < 1000
    descriptor = tmp_path / "catalog-info.yaml"
    descriptor.write_text(COMPONENT.format(name="before") + "---\n" + bomb + "---\n" + COMPONENT.format(name="after"))
    result = register_location(session, settings, None, "file", str(descriptor))
    [problem] = result.report.errors
    assert ALIAS_REFUSAL in problem.message and problem.line == 10
    assert {e.split("/")[-1] for e in result.entity_refs} >= {"before", "after"}


def test_aliases_within_the_limit_still_expand():
    text = COMPONENT.format(name="shared") + "  tags: &t [a, b]\n  more: *t\n"
    [document], problems = parse_documents(text)
    assert problems == [] and document.data["spec"]["more"] == ["a", "b"]
    _, refused = parse_documents(text, max_alias_nodes=1)
    assert "past 1 nodes" in refused[0].message


def test_the_api_dry_run_answers_with_the_reason(client, app, tmp_path):
    app.state.settings = app.state.settings.model_copy(update={"file_location_roots": [str(tmp_path)]})
    (tmp_path / "bomb.yaml").write_text(billion_laughs())
    response = client.post("/api/catalog/locations", params={"dryRun": "true"},
                           json={"type": "file", "target": str(tmp_path / "bomb.yaml")})
    assert response.status_code == 201
    [error] = response.json()["errors"]
    assert ALIAS_REFUSAL in error["message"]
    assert all(e["kind"] == "Location" for e in response.json()["entities"])


@pytest.mark.parametrize("text", [
    "a: " + "[" * 100_000 + "]" * 100_000 + "\n",
    "a: " + "{x: " * 50_000 + "1" + "}" * 50_000 + "\n",
    "- " * 60_000 + "x\n",
    "".join("  " * depth + "-\n" for depth in range(3000)),
    # Shallow enough to compose safely, refused while constructing:
    "a: " + "[" * 150 + "]" * 150 + "\n",
    "".join("  " * depth + "-\n" for depth in range(150)),
])
def test_deeply_nested_yaml_is_refused_without_crashing(text):
    documents, [problem] = parse_documents(text)
    assert documents == [] and "nested deeper than 100 levels" in problem.message


def test_nesting_just_inside_the_limit_loads():
    [document], problems = parse_documents("a: " + "[" * 99 + "]" * 99 + "\n")
    assert problems == []


def test_a_file_over_the_size_limit_is_refused_naming_the_setting(session, settings, tmp_path):
    small = settings.model_copy(update={"location_max_bytes": 1000})
    descriptor = tmp_path / "big.yaml"
    descriptor.write_text(COMPONENT.format(name="big") + "  note: " + "x" * 2000 + "\n")
    with pytest.raises(LocationError, match="holds more than 1000 bytes; FLOWPORT_LOCATION_MAX_BYTES"):
        register_location(session, small, None, "file", str(descriptor))


def test_placeholder_targets_are_held_to_the_same_limits(session, settings, tmp_path):
    small = settings.model_copy(update={"location_max_bytes": 2000})
    (tmp_path / "huge.txt").write_text("x" * 5000)
    (tmp_path / "bomb.yaml").write_text(billion_laughs())
    (tmp_path / "deep.json").write_text("[" * 900 + "]" * 900)
    os.mkfifo(tmp_path / "pipe.txt")  # an open of a FIFO would wait for a writer forever
    descriptor = tmp_path / "apis.yaml"
    descriptor.write_text("---\n".join([
        API.format(name="huge", placeholder="$text", target="./huge.txt"),
        API.format(name="bomb", placeholder="$yaml", target="./bomb.yaml"),
        API.format(name="deep", placeholder="$json", target="./deep.json"),
        API.format(name="pipe", placeholder="$text", target="./pipe.txt"),
    ]))
    result = register_location(session, small, None, "file", str(descriptor))
    by_entity = {problem.entity: problem.message for problem in result.report.errors}
    assert "holds more than 2000 bytes; FLOWPORT_LOCATION_MAX_BYTES" in by_entity["api:default/huge"]
    assert ALIAS_REFUSAL.replace("this document ", "") in by_entity["api:default/bomb"]
    assert "nested deeper than 100 levels" in by_entity["api:default/deep"]
    assert "is not a regular file" in by_entity["api:default/pipe"]


class Endless(httpx.SyncByteStream):
    def __init__(self) -> None:
        self.sent = 0

    def __iter__(self):
        while True:
            self.sent += 1
            yield b"# padding\n" * 1000


@pytest.mark.parametrize("declared", [True, False])
def test_a_url_body_over_the_limit_is_refused_naming_the_setting(session, settings, declared):
    body = Endless()
    headers = {"Content-Length": str(2 * 1024 ** 3)} if declared else {}
    http = httpx.Client(transport=httpx.MockTransport(lambda request: httpx.Response(200, headers=headers,
                                                                                     stream=body)))
    small = settings.model_copy(update={"location_max_bytes": 100_000})
    with pytest.raises(LocationError, match="sends more than 100000 bytes; FLOWPORT_LOCATION_MAX_BYTES"):
        register_location(session, small, http, "url", "https://git.example.com/catalog-info.yaml")
    assert body.sent == (0 if declared else 11)


def test_the_parsing_worker_applies_the_alias_limit(tmp_path):
    for index in range(3):
        (tmp_path / f"c{index}.yaml").write_text(COMPONENT.format(name=f"c{index}"))
    (tmp_path / "c3.yaml").write_text(billion_laughs())
    reader = SourceReader(None, [], limits=ReadLimits(max_alias_nodes=50))
    tree = TreeReader(reader, worker_threshold_bytes=0).read(location_key("file", str(tmp_path)))
    [problem] = tree.problems
    assert "would expand past 50 nodes" in problem.message and problem.file.endswith("c3.yaml")
    assert sorted(entity.ref for entity in tree.entities) == [f"component:default/c{i}" for i in range(3)]


def test_json_nested_past_the_parser_recursion_limit_is_a_field_error(session, settings, tmp_path):
    (tmp_path / "deep.json").write_text("[" * 100_000 + "]" * 100_000)
    descriptor = tmp_path / "api.yaml"
    descriptor.write_text(API.format(name="deep", placeholder="$json", target="./deep.json"))
    [problem] = register_location(session, settings, None, "file", str(descriptor)).report.errors
    assert problem.field == "spec.definition" and "nested deeper than 100 levels" in problem.message


def test_nul_characters_are_refused_before_they_reach_the_database(session, settings, tmp_path):
    (tmp_path / "binary.txt").write_bytes(b"spec\x00with a NUL")
    descriptor = tmp_path / "c.yaml"
    descriptor.write_text(COMPONENT.format(name="escaped").replace("type: service", 'type: "serv\\0ice"')
                          + "---\n" + API.format(name="binary", placeholder="$text", target="./binary.txt")
                          + "---\n" + COMPONENT.format(name="fine"))
    result = register_location(session, settings, None, "file", str(descriptor))
    session.commit()  # PostgreSQL refused NUL characters in text here
    by_entity = {problem.entity: problem for problem in result.report.errors}
    assert by_entity["component:default/escaped"].field == "spec.type"
    assert "NUL character" in by_entity["component:default/escaped"].message
    assert "NUL character" in by_entity["api:default/binary"].message
    assert "component:default/fine" in result.entity_refs
    (tmp_path / "raw.yaml").write_bytes(COMPONENT.format(name="raw").encode() + b"  note: a\x00b\n")
    with pytest.raises(LocationError, match="NUL character"):
        register_location(session, settings, None, "file", str(tmp_path / "raw.yaml"))
