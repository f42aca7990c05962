from __future__ import annotations

import base64

import pytest

from portal.scaffolder.actions.paths import FileLimits
from portal.scaffolder.workspace import DirectoryContentsError, deserialize_directory, serialize_directory


def entry(path: str, content: bytes = b"x", executable: bool = False) -> dict:
    return {"path": path, "base64Content": base64.b64encode(content).decode(), "executable": executable}


def test_directory_contents_round_trip(tmp_path):
    contents = [entry("README.md", b"# hi\n"), entry("bin/run.sh", b"#!/bin/sh\n", executable=True),
                entry("logo.png", b"\x89PNG\x00\xff")]
    deserialize_directory(tmp_path, contents)
    assert serialize_directory(tmp_path) == sorted(contents, key=lambda e: e["path"])


@pytest.mark.parametrize(("bad", "why"), [
    (entry("../escape.txt"), "leaves its folder"),
    (entry("/etc/passwd"), "is absolute"),
    (entry("a\x00b"), "contains a NUL byte"),
    (entry("."), "must name a file"),
    ({"path": "a.txt", "base64Content": "not base64!"}, "is not valid base64"),
    ({"path": "a.txt", "base64Content": 42}, "is not valid base64"),
    ("just a string", "must be an object"),
])
def test_hostile_entries_are_refused(tmp_path, bad, why):
    with pytest.raises(DirectoryContentsError, match=why):
        deserialize_directory(tmp_path / "root", [entry("ok.txt"), bad])
    assert not (tmp_path / "escape.txt").exists()


def test_directory_contents_are_capped(tmp_path):
    with pytest.raises(DirectoryContentsError, match="more than 2 files"):
        deserialize_directory(tmp_path, [entry(f"f{i}") for i in range(3)], FileLimits(max_files=2))
    with pytest.raises(DirectoryContentsError, match="larger than 4 bytes"):
        deserialize_directory(tmp_path, [entry("big", b"x" * 100)], FileLimits(max_file_bytes=4))
    with pytest.raises(DirectoryContentsError, match="over the size limit"):
        deserialize_directory(tmp_path, [entry("a", b"123"), entry("b", b"123")], FileLimits(max_total_bytes=5))
