"""Limits on what one YAML text may make the parser build: nesting depth and alias expansion.

libyaml composes nodes recursively in C, so a document nested some tens of thousands of levels deep
crashes the process, and a billion-laughs document (aliases of aliases) is a few hundred bytes that
expand to billions of values once constructed. Both are refused before construction, with checks cheap
enough for every file: most texts are proven shallow by their line lengths and bracket count alone.
"""

from __future__ import annotations

import yaml

from portal.catalog.ingest.limits import MAX_ALIAS_NODES_SETTING, MAX_NESTING_DEPTH

# Texts that cannot nest deeper than this are composed without scanning their events first; libyaml
# composed 20,000 levels in a thread with the default stack, so this is far from the crash.
SAFE_COMPOSE_DEPTH = 1000


class NestingTooDeep(ValueError):
    """Data nested deeper than MAX_NESTING_DEPTH."""

    def __init__(self, line: int | None = None) -> None:
        super().__init__(f"nested deeper than {MAX_NESTING_DEPTH} levels")
        self.line = line


class AliasesTooLarge(ValueError):
    """A document whose aliases would expand past the allowed number of nodes (or into a loop)."""


def depth_bound(text: str) -> int:
    """An upper bound on the nesting depth of any YAML in `text`.

    A nested block collection starts at least one column right of its parent, except a sequence that
    is a mapping's value, whose items again move right: two levels per column at most. Flow
    collections need a bracket each.
    """
    longest = max(map(len, text.split("\n"))) if text else 0
    return 2 * (longest + 1) + text.count("[") + text.count("{")


def too_deep_line(text: str, loader_class: type) -> int | None:
    """The 1-based line where `text` first nests deeper than MAX_NESTING_DEPTH, or None when it does not
    or when it cannot nest deeper than SAFE_COMPOSE_DEPTH.

    Reads parser events only (no recursion), and only when `depth_bound` cannot rule out a depth that
    libyaml's recursive composer might not survive; shallower texts are composed, and construction
    refuses depths past MAX_NESTING_DEPTH (NestingTooDeep).
    """
    if depth_bound(text) <= SAFE_COMPOSE_DEPTH:
        return None
    loader = loader_class(text)
    depth = 0
    try:
        while loader.check_event():
            event = loader.get_event()
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_NESTING_DEPTH:
                    return event.start_mark.line + 1
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
    except yaml.YAMLError:
        return None  # a syntax error: composing reports it, and stops there
    finally:
        loader.dispose()
    return None


def check_alias_growth(node: yaml.Node, max_alias_nodes: int) -> None:
    """AliasesTooLarge when expanding the document's aliases would add more than `max_alias_nodes`
    nodes, or an alias refers to a node that contains it.

    An alias is the same node object as its anchor, so the node graph stays small; sizes are counted
    once per node and multiplied, never expanded.
    """
    expanded: dict[int, int] = {}
    distinct = 0
    on_path: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(node, False)]
    while stack:
        current, children_done = stack.pop()
        key = id(current)
        if children_done:
            on_path.discard(key)
            expanded[key] = 1 + sum(expanded[id(child)] for child in _children(current))
            continue
        if key in expanded:
            continue
        if key in on_path:
            raise AliasesTooLarge("an alias refers to a node that contains it (a self-referencing alias)")
        distinct += 1
        on_path.add(key)
        stack.append((current, True))
        stack.extend((child, False) for child in _children(current) if id(child) not in expanded)
    growth = expanded[id(node)] - distinct
    if growth > max_alias_nodes:
        raise AliasesTooLarge(f"this document uses YAML aliases that would expand past {max_alias_nodes} "
                              f"nodes; {MAX_ALIAS_NODES_SETTING} sets the limit")


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, yaml.SequenceNode):
        return node.value
    return []


def checked_depth(data: object, limit: int = MAX_NESTING_DEPTH) -> object:
    """`data` itself, or NestingTooDeep when its lists and mappings nest deeper than `limit`."""
    stack: list[tuple[object, int]] = [(data, 0)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            children = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth + 1 > limit:
            raise NestingTooDeep
        stack.extend((child, depth + 1) for child in children)
    return data
