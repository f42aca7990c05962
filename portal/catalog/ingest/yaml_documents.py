"""Split a multi-document YAML file into descriptors, keeping each document's node for line lookups."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import yaml
from yaml.constructor import ConstructorError, SafeConstructor

from portal.catalog.ingest.limits import DEFAULT_MAX_ALIAS_NODES, MAX_NESTING_DEPTH
from portal.catalog.ingest.yaml_limits import (
    AliasesTooLarge,
    NestingTooDeep,
    check_alias_growth,
    checked_depth,
    too_deep_line,
)

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_RESOLVE_CACHE_SIZE = 50_000


class DescriptorLoader(_Loader):  # type: ignore[misc, valid-type]
    """The fast safe loader, but dates stay strings so descriptors round-trip through JSON."""

    # Tag resolution runs regexes over every plain scalar; descriptors repeat the same keys and
    # values endlessly, so remembering the answers makes large files load several times faster.
    _resolved: dict[str, str] = {}

    def resolve(self, kind, value, implicit):  # noqa: ANN001, ANN201 - PyYAML's signature
        if kind is yaml.ScalarNode and implicit == (True, False):
            tag = self._resolved.get(value)
            if tag is None:
                tag = super().resolve(kind, value, implicit)
                if len(self._resolved) < _RESOLVE_CACHE_SIZE:
                    self._resolved[value] = tag
            return tag
        return super().resolve(kind, value, implicit)


DescriptorLoader.add_constructor("tag:yaml.org,2002:timestamp", SafeConstructor.construct_yaml_str)

_INDEX = re.compile(r"^\[(\d+)\]")


@dataclass
class Document:
    """One YAML document: its data, the 1-based line it starts on and its position in the stream."""

    data: object
    line: int
    index: int
    # False when the document's text holds no `$` and no backslash (so no escaped `$` either): then
    # no key of it can be a `$text`-style placeholder, and substitution can skip walking it.
    may_hold_placeholders: bool = True


@dataclass
class SyntaxProblem:
    line: int | None
    message: str


def parse_documents(text: str, max_alias_nodes: int = DEFAULT_MAX_ALIAS_NODES,
                    ) -> tuple[list[Document], list[SyntaxProblem]]:
    """Every document up to the first syntax error; a bad document does not hide those before it.

    A text nested deeper than MAX_NESTING_DEPTH is refused whole (composing it could crash libyaml); a
    document whose aliases expand past `max_alias_nodes` nodes is refused alone.
    """
    deep_line = too_deep_line(text, DescriptorLoader)
    if deep_line is not None:
        return [], [SyntaxProblem(deep_line, f"YAML error: {NestingTooDeep()} at line {deep_line}")]
    documents: list[Document] = []
    problems: list[SyntaxProblem] = []
    loader = DescriptorLoader(text)
    index = -1
    try:
        while True:
            try:
                if not loader.check_node():
                    break
                node = loader.get_node()
            except yaml.YAMLError as error:
                # The parser cannot resynchronise after a syntax error: stop at this document.
                problems.append(_syntax_problem(error))
                break
            index += 1
            if node is None:
                continue
            start, end = node.start_mark.index, node.end_mark.index
            try:
                if text.find("&", start, end) != -1:  # only anchored documents can hold aliases
                    check_alias_growth(node, max_alias_nodes)
                data = construct(loader, node)
            except yaml.YAMLError as error:
                # A constructor error (unknown tag, bad merge) spoils one document only.
                problems.append(_syntax_problem(error))
                continue
            except (AliasesTooLarge, NestingTooDeep) as error:
                line = node.start_mark.line + 1
                problems.append(SyntaxProblem(line, f"YAML error: {error} (document at line {line})"))
                continue
            # Nodes are dropped here on purpose: keeping 100,000 node trees alive makes the
            # garbage collector rescan them over and over; LineFinder recomposes when needed.
            if data is not None:
                may_hold = text.find("$", start, end) != -1 or text.find("\\", start, end) != -1
                documents.append(Document(data, node.start_mark.line + 1, index, may_hold))
    finally:
        loader.dispose()
    return documents, problems


_STR, _MAP, _SEQ = "tag:yaml.org,2002:str", "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"
_PLAIN_SCALARS = {_STR, "tag:yaml.org,2002:int", "tag:yaml.org,2002:float", "tag:yaml.org,2002:bool",
                  "tag:yaml.org,2002:null", "tag:yaml.org,2002:timestamp"}


class _Unusual(Exception):
    """A node the fast path does not handle (merge keys, other tags, recursive aliases)."""


def construct(loader: DescriptorLoader, node: yaml.Node) -> object:
    """Python data of a document: a direct walk for plain maps, lists and scalars (the usual case,
    several times faster than PyYAML's generic constructor), PyYAML's constructor for the rest.
    NestingTooDeep past MAX_NESTING_DEPTH levels."""
    try:
        return _build(loader, node, 0)
    except _Unusual:
        pass
    try:
        data = checked_depth(loader.construct_document(node))
    except RecursionError:
        raise NestingTooDeep from None
    try:
        json.dumps(data)
    except (TypeError, ValueError, RecursionError):
        # Descriptors travel as JSON; binary values, sets or self-referencing aliases cannot.
        raise ConstructorError(None, None, "this document holds values JSON cannot represent "
                               "(binary data, a set or a self-referencing alias)", node.start_mark) from None
    return data


def _build(loader: DescriptorLoader, node: yaml.Node, depth: int) -> object:
    tag = node.tag
    if tag == _STR and node.__class__ is yaml.ScalarNode:
        return node.value
    if tag == _MAP and node.__class__ is yaml.MappingNode:
        if depth >= MAX_NESTING_DEPTH:
            raise NestingTooDeep
        result = {}
        for key_node, value_node in node.value:
            key = _build(loader, key_node, depth + 1)
            if key_node.tag == "tag:yaml.org,2002:merge" or isinstance(key, (dict, list)):
                raise _Unusual
            result[key] = _build(loader, value_node, depth + 1)
        return result
    if tag == _SEQ and node.__class__ is yaml.SequenceNode:
        if depth >= MAX_NESTING_DEPTH:
            raise NestingTooDeep
        return [_build(loader, item, depth + 1) for item in node.value]
    if tag in _PLAIN_SCALARS and node.__class__ is yaml.ScalarNode:
        return loader.yaml_constructors[tag](loader, node)
    raise _Unusual


def load_single(text: str, max_alias_nodes: int = DEFAULT_MAX_ALIAS_NODES) -> object:
    """The data of a text holding one YAML document (a `$yaml` target), under parse_documents' limits;
    yaml.YAMLError for what parse_documents reports as a problem."""
    documents, problems = parse_documents(text, max_alias_nodes)
    if problems:
        raise yaml.YAMLError(problems[0].message.removeprefix("YAML error: "))
    if len(documents) > 1:
        raise yaml.YAMLError("expected a single document, found several")
    return documents[0].data if documents else None


class LineFinder:
    """Line numbers of fields in one file's documents, composed only when a problem needs one."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._nodes: list[yaml.Node | None] | None = None

    def line(self, document: Document, path: str) -> int:
        if not path:
            return document.line
        if self._nodes is None:
            self._nodes = _compose_all(self.text)
        node = self._nodes[document.index] if document.index < len(self._nodes) else None
        return line_of_path(node, path) if node is not None else document.line


def _compose_all(text: str) -> list[yaml.Node | None]:
    nodes: list[yaml.Node | None] = []
    loader = DescriptorLoader(text)
    try:
        while loader.check_node():
            nodes.append(loader.get_node())
    except yaml.YAMLError:
        pass  # reported by parse_documents; the nodes before the error are still usable
    finally:
        loader.dispose()
    return nodes


def _syntax_problem(error: yaml.YAMLError) -> SyntaxProblem:
    mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
    problem = getattr(error, "problem", None) or str(error)
    context = getattr(error, "context", None)
    context_mark = getattr(error, "context_mark", None)
    if context and context_mark is not None and mark is not None and context_mark.line != mark.line:
        context += f" that started at line {context_mark.line + 1}"
    kind = "YAML error" if isinstance(error, ConstructorError) else "YAML syntax error"
    message = f"{kind}: {problem}" + (f" ({context})" if context else "")
    if mark is not None:
        message += f" at line {mark.line + 1}, column {mark.column + 1}"
        return SyntaxProblem(mark.line + 1, message)
    return SyntaxProblem(None, message)


def line_of_path(node: yaml.Node, path: str) -> int:
    """The line of a dotted field path such as `spec.owner` or `metadata.tags[1]`.

    A missing field points at the key of the mapping that should hold it.
    """
    current = node
    remaining = path
    parent_line = node.start_mark.line + 1
    while remaining:
        if isinstance(current, yaml.SequenceNode):
            match = _INDEX.match(remaining)
            if not match or int(match.group(1)) >= len(current.value):
                break
            current = current.value[int(match.group(1))]
            parent_line = current.start_mark.line + 1
            remaining = remaining[match.end():].lstrip(".")
            continue
        if not isinstance(current, yaml.MappingNode):
            break
        found = _mapping_entry(current, remaining)
        if found is None:
            break
        key_node, value_node, consumed = found
        remaining = remaining[consumed:].lstrip(".")
        # Point at the key itself when the path ends here: that is where a reader looks.
        if not remaining:
            return key_node.start_mark.line + 1
        parent_line = key_node.start_mark.line + 1
        current = value_node
    return parent_line


def _mapping_entry(node: yaml.MappingNode, remaining: str) -> tuple[yaml.Node, yaml.Node, int] | None:
    """The entry whose key is the longest prefix of `remaining` (keys may contain dots)."""
    best = None
    for key_node, value_node in node.value:
        key = str(key_node.value)
        if remaining == key or remaining.startswith(key + ".") or remaining.startswith(key + "["):
            if best is None or len(key) > best[2]:
                best = (key_node, value_node, len(key))
    return best
