from __future__ import annotations

import os
from pathlib import PurePosixPath

import pytest

from portal.scaffolder.actions.paths import (
    FileLimits,
    TreeFile,
    UnsafePathError,
    read_tree,
    resolve_inside,
    safe_relative_path,
    write_tree,
)


@pytest.mark.parametrize(("raw", "expected"), [
    ("a/b", "a/b"), ("./a//b/", "a/b"), ("a/../b", "b"), ("", "."), (".", "."), ("./", "."),
])
def test_safe_relative_paths_are_normalised(raw, expected):
    assert safe_relative_path(raw, "targetPath") == PurePosixPath(expected)


@pytest.mark.parametrize(("raw", "why"), [
    ("/etc/passwd", "is absolute"),
    ("C:/Windows", "is absolute"),
    ("../outside", "leaves its folder"),
    ("a/../../outside", "leaves its folder"),
    ("a\\..\\..\\b", "contains a backslash"),
    ("a\x00b", "contains a NUL byte"),
    (3, "must be a string"),
])
def test_unsafe_paths_are_refused(raw, why):
    with pytest.raises(UnsafePathError, match=why):
        safe_relative_path(raw, "input.targetPath")


def test_a_symlink_in_the_way_cannot_lead_outside(tmp_path):
    root, outside = tmp_path / "root", tmp_path / "outside"
    root.mkdir(), outside.mkdir()
    (root / "door").symlink_to(outside)
    with pytest.raises(UnsafePathError, match="leads outside its folder through a symbolic link"):
        resolve_inside(root, "door/file.txt", "input.targetPath")
    assert resolve_inside(root, "inside/file.txt", "x") == root / "inside" / "file.txt"


def test_read_tree_reads_files_with_their_executable_bit(tmp_path):
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "run.sh").write_text("#!/bin/sh\n")
    (tmp_path / "bin" / "run.sh").chmod(0o755)
    (tmp_path / "README.md").write_text("hi")
    files = {f.path.as_posix(): f for f in read_tree(tmp_path, FileLimits(), "skeleton")}
    assert set(files) == {"README.md", "bin/run.sh"}
    assert files["bin/run.sh"].executable and not files["README.md"].executable


def test_a_symlink_pointing_outside_the_skeleton_is_refused(tmp_path):
    skeleton = tmp_path / "skeleton"
    skeleton.mkdir()
    (tmp_path / "secret.txt").write_text("server secret")
    (skeleton / "innocent.txt").symlink_to(tmp_path / "secret.txt")
    with pytest.raises(UnsafePathError, match="innocent.txt is a symbolic link pointing outside"):
        read_tree(skeleton, FileLimits(), "skeleton")


def test_a_symlink_to_etc_passwd_is_refused(tmp_path):
    (tmp_path / "passwd").symlink_to("/etc/passwd")
    with pytest.raises(UnsafePathError, match="pointing outside"):
        read_tree(tmp_path, FileLimits(), "skeleton")


def test_a_symlinked_folder_is_refused(tmp_path):
    (tmp_path / "real").mkdir()
    (tmp_path / "alias").symlink_to(tmp_path / "real")
    with pytest.raises(UnsafePathError, match="alias is a symbolic link to a folder"):
        read_tree(tmp_path, FileLimits(), "skeleton")


def test_a_broken_symlink_is_refused(tmp_path):
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
    with pytest.raises(UnsafePathError, match="broken symbolic link"):
        read_tree(tmp_path, FileLimits(), "skeleton")


def test_a_symlink_to_a_file_inside_is_read_as_that_file(tmp_path):
    (tmp_path / "real.txt").write_text("content")
    (tmp_path / "alias.txt").symlink_to("real.txt")
    files = {f.path.as_posix(): f.content for f in read_tree(tmp_path, FileLimits(), "skeleton")}
    assert files == {"alias.txt": b"content", "real.txt": b"content"}


@pytest.mark.parametrize(("limits", "why"), [
    (FileLimits(max_files=2), "more than 2 files"),
    (FileLimits(max_file_bytes=5), "more than the 5 allowed"),
    (FileLimits(max_total_bytes=10), "more than 10 bytes in all"),
])
def test_file_count_and_size_are_capped(tmp_path, limits, why):
    for name in ("a", "b", "c"):
        (tmp_path / name).write_text("123456")
    with pytest.raises(Exception, match=why):
        read_tree(tmp_path, limits, "skeleton")


def test_write_tree_replaces_a_symlink_instead_of_writing_through_it(tmp_path):
    (tmp_path / "target.txt").write_text("original")
    (tmp_path / "link.txt").symlink_to(tmp_path / "target.txt")
    write_tree(tmp_path, [TreeFile(PurePosixPath("link.txt"), b"new")], "step")
    assert (tmp_path / "target.txt").read_text() == "original"
    assert not (tmp_path / "link.txt").is_symlink() and (tmp_path / "link.txt").read_text() == "new"


def test_write_tree_keeps_existing_files_unless_replacing(tmp_path):
    (tmp_path / "a.txt").write_text("mine")
    skipped = write_tree(tmp_path, [TreeFile(PurePosixPath("a.txt"), b"theirs")], "step", replace=False)
    assert skipped == [PurePosixPath("a.txt")] and (tmp_path / "a.txt").read_text() == "mine"
    write_tree(tmp_path, [TreeFile(PurePosixPath("a.txt"), b"theirs", executable=True)], "step")
    assert (tmp_path / "a.txt").read_text() == "theirs" and os.access(tmp_path / "a.txt", os.X_OK)
