"""Large trees are parsed ahead in a worker process: the same read as in-process, and a broken worker loses nothing."""

import logging
import os

from portal.catalog.ingest import parse_ahead
from portal.catalog.ingest.parse_ahead import ParseAhead
from portal.catalog.ingest.reader import TreeReader
from portal.catalog.ingest.sources import SourceReader, location_key
from portal.catalog.ingest.streaming import StreamedRead
from tests.catalog.test_ingest_locations import GROUP, component, location, write
from tests.catalog.test_ingest_streaming import catalog_tree

IN_PROCESS = 10**15  # a threshold no tree reaches
ALWAYS = 0


def mixed_tree(root):
    """Good files, a syntax error after a good document, an invalid entity, a missing required and a
    missing optional target, a file that is not UTF-8, and a $text substitution."""
    write(root / "good-1.yaml", GROUP, *[component(f"svc-a{n}") for n in range(30)])
    write(root / "good-2.yaml", *[component(f"svc-b{n}") for n in range(30)])
    (root / "broken.yaml").write_text(component("before-the-error") + "---\nkind: [unclosed\n")
    write(root / "invalid.yaml", component("fine-one"), """\
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: no-spec-owner
spec:
  type: service
  lifecycle: production
""")
    (root / "latin1.yaml").write_bytes("metadata:\n  name: caf\xe9\n".encode("latin-1"))
    (root / "readme.txt").write_text("Read me, substituted.")
    write(root / "substituted.yaml", """\
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: with-text
  description:
    $text: ./readme.txt
spec:
  type: service
  lifecycle: production
  owner: group:default/platform
""")
    return write(root / "all.yaml",
                 location("everything", "./good-1.yaml", "./broken.yaml", "./good-2.yaml", "./invalid.yaml",
                          "./missing.yaml", "./latin1.yaml", "./substituted.yaml"),
                 location("optional-things", "./not-there.yaml", presence="optional"))


def read(root, threshold):
    reader = SourceReader(None, [], {})
    tree = TreeReader(reader, worker_threshold_bytes=threshold).read(location_key("file", str(root)))
    return tree, reader


def summary(tree):
    return (
        [(e.ref, e.location_key, e.line, e.entity) for e in tree.entities],
        [(i.ref, i.location_key, [(p.line, p.entity, p.field, p.message) for p in i.problems]) for i in tree.invalid],
        [(p.file, p.line, p.entity, p.field, p.message) for p in tree.problems],
        sorted(tree.visited), sorted(tree.clean), tree.root_error,
    )


def test_a_tree_parsed_in_the_worker_reads_exactly_as_one_parsed_in_process(tmp_path):
    root = mixed_tree(tmp_path)
    in_process, plain_reader = read(root, IN_PROCESS)
    ahead, worker_reader = read(root, ALWAYS)
    assert summary(ahead) == summary(in_process)
    assert worker_reader.fresh == plain_reader.fresh  # the same last good copies are kept
    refs = {e.ref for e in ahead.entities}
    assert {"component:default/svc-a0", "component:default/before-the-error", "component:default/with-text"} <= refs
    messages = " | ".join(p.message for p in ahead.problems)
    assert "YAML syntax error" in messages and "not UTF-8" in messages and "missing.yaml" in messages
    assert next(e for e in ahead.entities if e.ref.endswith("with-text")).entity["metadata"]["description"] \
        == "Read me, substituted."


def test_the_worker_is_another_process_and_answers_with_the_text_and_documents(tmp_path):
    path = write(tmp_path / "one.yaml", GROUP, component("svc-x"))
    key = location_key("file", str(path))
    with ParseAhead(ALWAYS) as ahead:
        ahead.look_ahead([key])
        worker = ahead._worker
        assert worker is not None and worker.pid != os.getpid()
        text, documents, problems = ahead.take(key)
    assert text == path.read_text()
    assert [d.data["metadata"]["name"] for d in documents] == ["team-a", "svc-x"]
    assert [d.line for d in documents] == [1, GROUP.count("\n") + 2]
    assert problems == []
    assert worker.wait(timeout=10) == 0  # stopped with the read


def test_small_trees_never_start_a_worker(tmp_path):
    path = write(tmp_path / "one.yaml", GROUP)
    with ParseAhead() as ahead:
        ahead.look_ahead([location_key("file", str(path))])
        assert ahead._worker is None
        assert ahead.take(location_key("file", str(path))) is None  # read and parsed by the caller


def test_a_worker_that_dies_mid_read_loses_nothing(tmp_path, caplog):
    root = catalog_tree(tmp_path, files=12, per_file=20)
    expected, _ = read(root, IN_PROCESS)
    reader = TreeReader(SourceReader(None, [], {}), worker_threshold_bytes=ALWAYS)
    original = reader._read_source
    killed = []

    def kill_the_worker_once(pending, is_root):
        if reader._ahead is not None and reader._ahead._worker is not None and len(reader.result.visited) == 4:
            reader._ahead._worker.kill()
            killed.append(True)
        return original(pending, is_root)

    reader._read_source = kill_the_worker_once
    with caplog.at_level(logging.WARNING, logger=parse_ahead.__name__):
        tree = reader.read(location_key("file", str(root)))
    assert killed
    assert summary(tree) == summary(expected)
    assert len(tree.entities) == 12 * 20 + 2  # and the group and the Location
    assert "parsing in this process from here on" in caplog.text


def test_in_turn_streaming_hands_over_batches_before_the_tree_is_read(tmp_path):
    root = catalog_tree(tmp_path, files=5, per_file=40)
    reader = TreeReader(SourceReader(None, [], {}), worker_threshold_bytes=ALWAYS)
    stream = StreamedRead(reader, location_key("file", str(root)), 50, threaded=False)
    visited_at_batch = [len(reader.result.visited) for _ in stream.batches()]
    assert len(visited_at_batch) == 5  # 200 components and the group in batches of 50
    assert visited_at_batch[0] < 6  # the first batch came before the last file was read
    assert len(stream.tree().entities) == 202  # and the Location, written last


def test_only_documents_whose_text_could_hold_a_placeholder_are_walked_for_one(tmp_path):
    from portal.catalog.ingest.yaml_documents import parse_documents

    (tmp_path / "readme.txt").write_text("from the file")
    text = "\n---\n".join([
        component("plain"),
        component("literal", extra='  description:\n    $text: ./readme.txt\n'),
        # `\x24` is `$` in a double-quoted YAML scalar: still a placeholder, though no `$` is written.
        component("escaped", extra='  description:\n    "\\x24text": ./readme.txt\n'),
        component("unknown", extra='  description:\n    $texts: ./readme.txt\n'),
    ])
    documents, _ = parse_documents(text)
    assert [d.may_hold_placeholders for d in documents] == [False, True, True, True]

    path = write(tmp_path / "all.yaml", text)
    tree, _ = read(path, IN_PROCESS)
    descriptions = {e.ref.split("/")[-1]: e.entity["metadata"].get("description") for e in tree.entities}
    assert descriptions == {"plain": None, "literal": "from the file", "escaped": "from the file"}
    assert "unknown placeholder '$texts'" in tree.invalid[0].problems[0].message


def test_a_file_name_that_is_not_utf8_is_parsed_by_the_worker_too(tmp_path):
    odd = os.fsdecode(b"caf\xe9.yaml")  # a Latin-1 name, as an old file system may hold
    path = write(tmp_path / odd, GROUP)
    key = location_key("file", str(path))
    with ParseAhead(ALWAYS) as ahead:
        ahead.look_ahead([key])
        text, documents, _ = ahead.take(key)
    assert text == GROUP and documents[0].data["metadata"]["name"] == "team-a"
