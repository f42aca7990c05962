"""Read a location tree: a file or URL, the Location entities in it and their targets, recursively.

Pure reading: no database writes. The result lists the valid entities, the invalid ones with their
problems, and which sources were read cleanly, so the caller can decide about orphans.
"""

from __future__ import annotations

import glob
import os.path
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from portal.catalog.ingest.confinement import is_inside, location_root
from portal.catalog.ingest.folders import descriptor_files
from portal.catalog.ingest.parse_ahead import WORKER_THRESHOLD_BYTES, ParseAhead
from portal.catalog.ingest.problems import Problem
from portal.catalog.ingest.sources import SourceReader, display_name, location_key, split_key
from portal.catalog.ingest.substitutions import outside_note, resolve_target, substitute
from portal.catalog.ingest.yaml_documents import Document, LineFinder, parse_documents
from portal.catalog.refs import DEFAULT_NAMESPACE
from portal.catalog.validation import validate_entity


@dataclass
class ReadEntity:
    """A valid descriptor (placeholders resolved) and the file and line it came from."""

    entity: dict
    ref: str
    location_key: str
    line: int | None


@dataclass
class InvalidEntity:
    """A descriptor that failed validation; `ref` is None when it has no usable kind and name."""

    ref: str | None
    location_key: str
    problems: list[Problem]


@dataclass
class TreeRead:
    entities: list[ReadEntity] = field(default_factory=list)
    invalid: list[InvalidEntity] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    visited: set[str] = field(default_factory=set)
    # Sources read fresh and whole: an entity they no longer contain is really gone.
    clean: set[str] = field(default_factory=set)
    root_error: str | None = None

    @property
    def complete(self) -> bool:
        """True when every source of the tree was read fresh and without syntax errors."""
        return self.clean == self.visited and self.root_error is None


@dataclass(frozen=True)
class _Pending:
    key: str
    presence: str
    # Who pointed here (the Location entity's file, line, ref and field), for error messages.
    referrer: tuple[str, int | None, str | None, str | None] | None


def _ref_of(entity: object) -> str | None:
    if not isinstance(entity, dict):
        return None
    metadata = entity.get("metadata")
    kind = entity.get("kind")
    if not isinstance(metadata, dict) or not isinstance(kind, str) or not isinstance(metadata.get("name"), str):
        return None
    namespace = metadata.get("namespace") if isinstance(metadata.get("namespace"), str) else DEFAULT_NAMESPACE
    return f"{kind}:{namespace}/{metadata['name']}".lower()


def _nul_field(value: object, path: str) -> str | None:
    """The path of the first key or string holding a NUL character, or None."""
    if isinstance(value, str):
        return path if "\x00" in value else None
    if isinstance(value, dict):
        for key, child in value.items():
            child_path = f"{path}.{key}" if path else str(key)
            if "\x00" in str(key):
                return child_path
            found = _nul_field(child, child_path)
            if found is not None:
                return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = _nul_field(item, f"{path}[{index}]")
            if found is not None:
                return found
    return None


class TreeReader:
    """Walks one location tree breadth-first; each source is read once, so cycles end."""

    def __init__(self, reader: SourceReader, on_entity: Callable[[ReadEntity], None] | None = None,
                 worker_threshold_bytes: int = WORKER_THRESHOLD_BYTES) -> None:
        self.reader = reader
        # Large trees are parsed a few files ahead in a worker process (see parse_ahead).
        self.worker_threshold_bytes = worker_threshold_bytes
        self.result = TreeRead()
        # Called with each valid entity as soon as it is read (streamed imports write while reading).
        self.on_entity = on_entity
        self._seen_refs: dict[str, str] = {}
        self._queue: deque[_Pending] = deque()
        self._ahead: ParseAhead | None = None
        # The folder every file of this tree must lie in (see confinement.py); None for URL trees.
        self.root: str | None = None

    def read(self, root_key: str) -> TreeRead:
        for _ in self.read_sources(root_key):
            pass
        return self.result

    def read_sources(self, root_key: str) -> Iterator[str]:
        """Read the tree one source at a time, yielding each source's key once it has been read, so a
        caller can write what `on_entity` received so far before the next one is read."""
        self._queue.append(_Pending(root_key, "required", None))
        self.root = location_root(root_key)
        with ParseAhead(self.worker_threshold_bytes, self.reader.limits) as ahead:
            self._ahead = ahead
            try:
                while self._queue:
                    pending = self._queue.popleft()
                    if pending.key in self.result.visited:
                        continue
                    ahead.look_ahead(p.key for p in self._queue if p.key not in self.result.visited)
                    self._read_source(pending, is_root=pending.referrer is None)
                    yield pending.key
            finally:
                self._ahead = None

    def _problem(self, key: str, line: int | None, entity: str | None, field_: str | None, message: str) -> Problem:
        # A NUL byte from a descriptor (a path, a key) is shown escaped: PostgreSQL's text cannot hold it.
        entity, field_, message = (None if text is None else text.replace("\x00", "\\x00")
                                   for text in (entity, field_, message))
        problem = Problem(display_name(key), line, entity, field_, message, location_key=key)
        self.result.problems.append(problem)
        return problem

    def _read_source(self, pending: _Pending, is_root: bool) -> None:
        key = pending.key
        self.result.visited.add(key)
        type_, target = split_key(key)
        if type_ == "file" and self.root is not None and not is_inside(target, self.root):
            # Reached through a symlink (a file, a folder or a glob match) that leads out of the root.
            self._report_unreadable(pending, f"is outside {outside_note(self.root)}", is_root)
            return
        if type_ == "file" and os.path.isdir(target):
            self._read_folder(key, target, is_root)
            return
        parsed_ahead = self._ahead.take(key) if self._ahead is not None else None
        if parsed_ahead is not None:
            content, documents, syntax_problems = parsed_ahead
            outcome = self.reader.accept(key, content)
        else:
            outcome = self.reader.read(key)
        if outcome.content is None:
            if outcome.error is None:
                return  # not read on purpose (offline validation)
            if outcome.not_found and pending.presence == "optional":
                self.result.clean.add(key)  # an optional target that is absent holds nothing
                return
            self._report_unreadable(pending, outcome.error or "could not be read", is_root)
            return
        clean = not outcome.from_cache
        if outcome.from_cache:
            # Still readable from the last good copy: a problem to report, not a failed root.
            self._report_unreadable(pending, outcome.error or "could not be read", is_root, fatal=False)
        if parsed_ahead is None:
            documents, syntax_problems = parse_documents(outcome.content, self.reader.limits.max_alias_nodes)
        lines = LineFinder(outcome.content)
        for document in documents:
            self._read_document(document, key, lines)
        for syntax in syntax_problems:
            clean = False
            self._problem(key, syntax.line, None, None, syntax.message)
        if clean:
            self.result.clean.add(key)

    def _read_folder(self, key: str, folder: str, is_root: bool) -> None:
        files = descriptor_files(folder)
        if not files:
            self._report_unreadable(_Pending(key, "required", None if is_root else (key, None, None, None)),
                                    "folder holds no *.yaml or *.yml files", is_root)
            return
        self.result.clean.add(key)
        for file in files:
            self._queue.append(_Pending(location_key("file", str(file)), "required", (key, None, None, None)))

    def _report_unreadable(self, pending: _Pending, error: str, is_root: bool, fatal: bool = True) -> None:
        if is_root:
            if fatal:
                self.result.root_error = f"{display_name(pending.key)}: {error}"
            self._problem(pending.key, None, None, None, error)
            return
        file_key, line, ref, field_ = pending.referrer  # type: ignore[misc]
        self._problem(file_key, line, ref, field_, f"{display_name(pending.key)}: {error}")

    def _read_document(self, document: Document, key: str, lines: LineFinder) -> None:
        if not isinstance(document.data, dict):
            self._problem(key, document.line, None, None, "a document must be a mapping (an entity), not "
                          f"{type(document.data).__name__}")
            return
        ref = _ref_of(document.data)
        entity, substitution_errors = (
            substitute(document.data, key, self._read_text, self.root, self.reader.limits.max_alias_nodes)
            if document.may_hold_placeholders else (document.data, []))
        problems = [
            self._problem(key, lines.line(document, error.path), ref, error.path, error.message)
            for error in substitution_errors
        ]
        # Only a document with a backslash (a "\0" escape) or a placeholder can hold a NUL character.
        nul_field = _nul_field(entity, "") if document.may_hold_placeholders else None
        if nul_field is not None and not any(nul_field.startswith(error.path) for error in substitution_errors):
            problems.append(self._problem(key, lines.line(document, nul_field), ref, nul_field or None,
                                          "holds a NUL character (\\0), which cannot be stored"))
        # A placeholder that failed also breaks its field's rules; one message per field is enough.
        failed_fields = {error.path for error in substitution_errors}
        problems += [
            self._problem(key, lines.line(document, error.path),
                          ref, error.path or None, error.message)
            for error in validate_entity(entity)
            if error.path not in failed_fields
        ]
        if problems:
            self.result.invalid.append(InvalidEntity(ref, key, problems))
            return
        assert ref is not None  # a valid entity always has a kind and a name
        claimed_by = self._seen_refs.get(ref)
        if claimed_by is not None:
            message = (f"Detected conflicting entityRef {ref} already referenced by {claimed_by} "
                       f"and now also {key}")
            self.result.invalid.append(InvalidEntity(None, key, [
                self._problem(key, document.line, ref, None, message)]))
            return
        self._seen_refs[ref] = key
        read = ReadEntity(entity, ref, key, document.line)
        self.result.entities.append(read)
        if self.on_entity is not None:
            self.on_entity(read)
        if entity["kind"].lower() == "location":
            self._follow_targets(entity, document, key, ref, lines)

    def _read_text(self, type_: str, target: str) -> tuple[str | None, str | None]:
        """A placeholder's target, refused when a symlink leads out of the root."""
        if type_ == "file" and self.root is not None and not is_inside(target, self.root):
            return None, f"it is outside {outside_note(self.root)}"
        return self.reader.read_text(type_, target)

    def _follow_targets(self, entity: dict, document: Document, key: str, ref: str, lines: LineFinder) -> None:
        spec = entity.get("spec") or {}
        presence = spec.get("presence") or "required"
        targets: list[tuple[str, str]] = []
        if isinstance(spec.get("target"), str):
            targets.append(("spec.target", spec["target"]))
        for index, target in enumerate(spec.get("targets") or []):
            targets.append((f"spec.targets[{index}]", target))
        for field_path, target in targets:
            line = lines.line(document, field_path)
            resolved = resolve_target(key, target, spec.get("type"), self.root)
            if isinstance(resolved, str):
                self._problem(key, line, ref, field_path, resolved)
                continue
            type_, absolute = resolved
            referrer = (key, line, ref, field_path)
            if type_ == "file" and glob.has_magic(absolute):
                matches = sorted(glob.glob(absolute, recursive=True))
                if not matches and presence == "required":
                    self._problem(key, line, ref, field_path, f"{absolute}: no file matches this pattern")
                for match in matches:
                    self._queue.append(_Pending(location_key("file", match), presence, referrer))
                continue
            self._queue.append(_Pending(location_key(type_, absolute), presence, referrer))
