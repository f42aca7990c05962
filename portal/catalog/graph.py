"""The relations graph of one entity: its neighbours as nodes and data, drawn server-side as SVG."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from xml.sax.saxutils import escape, quoteattr

from sqlalchemy import select
from sqlmodel import Session

from portal.catalog.models import CatalogEntity, CatalogSearch
from portal.catalog.refs import DEFAULT_NAMESPACE
from portal.web.humanize import entity_url, kind_name, to_ref

MAX_NEIGHBOURS = 24
WIDTH, HEIGHT = 960, 600
ELLIPSE_MAX = 10
ROW_GAP = 58
NODE_W, NODE_H = 188, 46
_TITLE_KEYS = ("metadata.title", "spec.profile.displayname")
# One colour per kind family so the eye groups them; all dark enough for white text (WCAG AA).
_KIND_COLOURS = {
    "component": "#1d4ed8", "api": "#6d28d9", "resource": "#0f766e", "system": "#9a3412",
    "domain": "#854d0e", "group": "#be123c", "user": "#b91c1c", "template": "#4d7c0f",
    "platformproduct": "#0e7490", "capability": "#7e22ce", "location": "#475569",
}


@dataclass
class GraphNode:
    ref: str
    kind: str
    namespace: str
    name: str
    title: str
    url: str
    root: bool = False
    exists: bool = True


@dataclass
class GraphEdge:
    source: str
    target: str
    types: list[str] = field(default_factory=list)


@dataclass
class Graph:
    nodes: list[GraphNode]
    edges: list[GraphEdge]
    omitted: int = 0

    def to_json(self) -> dict:
        """`{"nodes": [...], "edges": [...], "omitted": n}` for the JSON API."""
        return {"nodes": [asdict(n) for n in self.nodes], "edges": [asdict(e) for e in self.edges],
                "omitted": self.omitted}


def describe_refs(session: Session, refs: list[str]) -> dict[str, str]:
    """Titles (or display names) of the refs that exist in the catalog; missing refs are absent."""
    if not refs:
        return {}
    found = dict(session.execute(
        select(CatalogEntity.uid, CatalogEntity.entity_ref).where(CatalogEntity.entity_ref.in_(refs))
    ).all())
    titles = {ref: "" for ref in found.values()}
    if found:
        for uid, key, original in session.execute(
            select(CatalogSearch.entity_uid, CatalogSearch.key, CatalogSearch.original_value)
            .where(CatalogSearch.entity_uid.in_(list(found)), CatalogSearch.key.in_(_TITLE_KEYS))
        ).all():
            # metadata.title wins over a User's display name when both exist.
            if original and (key == "metadata.title" or not titles[found[uid]]):
                titles[found[uid]] = original
    return titles


def _node(ref: str, titles: dict[str, str], root: bool = False) -> GraphNode:
    parsed = to_ref(ref)
    kind, namespace, name = (parsed.kind, parsed.namespace, parsed.name) if parsed else ("", DEFAULT_NAMESPACE, ref)
    kind = kind_name(kind)
    return GraphNode(ref=ref, kind=kind, namespace=namespace, name=name, title=titles.get(ref) or name,
                     url=entity_url(ref), root=root, exists=ref in titles)


def build_graph(session: Session, entity: dict, max_neighbours: int = MAX_NEIGHBOURS) -> Graph:
    """The entity and its direct neighbours; edges carry every relation type between the two."""
    metadata = entity["metadata"]
    root_ref = f"{entity['kind']}:{metadata.get('namespace', DEFAULT_NAMESPACE)}/{metadata['name']}".lower()
    types_by_target: dict[str, list[str]] = {}
    for relation in entity.get("relations") or []:
        target = relation["targetRef"]
        if target != root_ref and relation["type"] not in types_by_target.setdefault(target, []):
            types_by_target[target].append(relation["type"])
    # Neighbours of one kind and relation sit next to each other in the drawing.
    targets = sorted(types_by_target, key=lambda ref: (ref.split(":", 1)[0], types_by_target[ref], ref))
    shown = targets[:max_neighbours]
    titles = describe_refs(session, [root_ref, *shown])
    titles.setdefault(root_ref, metadata.get("title") or "")
    nodes = [_node(root_ref, titles, root=True)] + [_node(ref, titles) for ref in shown]
    edges = [GraphEdge(root_ref, ref, sorted(types_by_target[ref])) for ref in shown]
    return Graph(nodes, edges, omitted=len(targets) - len(shown))


def _height(count: int) -> int:
    """Canvas height: fixed for the ellipse, growing with the rows of the two-column layout."""
    if count <= ELLIPSE_MAX:
        return HEIGHT
    return max(HEIGHT, ((count + 1) // 2) * ROW_GAP + 2 * NODE_H)


def _positions(count: int, height: int) -> list[tuple[float, float]]:
    """Few neighbours sit on an ellipse around the centre; more are stacked in a column on each side."""
    cx, cy = WIDTH / 2, height / 2
    if count <= ELLIPSE_MAX:
        return [
            (cx + math.cos(angle) * 370, cy + math.sin(angle) * 240)
            for angle in (-math.pi / 2 + 2 * math.pi * index / max(count, 1) for index in range(count))
        ]
    per_side = (count + 1) // 2
    places = []
    for index in range(count):
        side, row = divmod(index, per_side)
        rows = per_side if side == 0 else count - per_side
        x = NODE_W / 2 + 16 if side == 0 else WIDTH - NODE_W / 2 - 16
        places.append((x, cy + (row - (rows - 1) / 2) * ROW_GAP))
    return places


def _short(text: str, limit: int = 20) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _node_svg(node: GraphNode, x: float, y: float) -> str:
    colour = _KIND_COLOURS.get(node.kind.lower(), "#334155")
    # The visible words are the link's accessible name, so they also say when the target is missing.
    kind_line = node.kind if node.exists else f"{node.kind} · not in the catalog"
    dashed = "" if node.exists else ' stroke-dasharray="6 4"'
    fill = colour if node.exists else "#ffffff"
    text = "#ffffff" if node.exists else "#1e293b"
    stroke = ' stroke="#0f172a" stroke-width="3"' if node.root else f' stroke="{colour}" stroke-width="2"'
    left, top = x - NODE_W / 2, y - NODE_H / 2
    return (
        f'<a href={quoteattr(node.url)} class="graph-node"><title>{escape(node.kind)} {escape(node.title)}</title>'
        f'<rect x="{left:.1f}" y="{top:.1f}" width="{NODE_W}" height="{NODE_H}" rx="8" fill="{fill}"{stroke}{dashed}/>'
        f'<text text-anchor="middle" fill="{text}"><tspan x="{x:.1f}" y="{y - 6:.1f}" font-size="11">'
        f'{escape(kind_line)}</tspan> <tspan x="{x:.1f}" y="{y + 12:.1f}" font-size="14" font-weight="600">'
        f"{escape(_short(node.title))}</tspan></text></a>"
    )


def render_svg(graph: Graph, title: str) -> str:
    """A self-contained SVG: root in the centre, neighbours around it, edges labelled with relation types."""
    neighbours = [node for node in graph.nodes if not node.root]
    height = _height(len(neighbours))
    cx, cy = WIDTH / 2, height / 2
    places = dict(zip((n.ref for n in neighbours), _positions(len(neighbours), height)))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" class="relations-graph" '
        f'aria-labelledby="graph-title graph-desc" font-family="system-ui, sans-serif">',
        f'<title id="graph-title">{escape(title)}</title>',
        f'<desc id="graph-desc">{escape(_description(graph))}</desc>',
    ]
    columns = len(neighbours) > ELLIPSE_MAX
    for edge in graph.edges:
        x, y = places[edge.target]
        if columns:
            # Lines stop at the box's inner side and the label sits right beside that box, never mid-air.
            inner = x + NODE_W / 2 if x < cx else x - NODE_W / 2
            outer_edge = (inner, y)
            label = (inner + 6 if x < cx else inner - 6, y - 5, "start" if x < cx else "end")
        else:
            outer_edge = (x, y)
            label = (cx + (x - cx) * 0.55, cy + (y - cy) * 0.55, "middle")
        parts.append(f'<line x1="{cx}" y1="{cy}" x2="{outer_edge[0]:.1f}" y2="{outer_edge[1]:.1f}" '
                     f'stroke="#64748b" stroke-width="1.5"/>')
        parts.append(
            f'<text x="{label[0]:.1f}" y="{label[1]:.1f}" text-anchor="{label[2]}" font-size="12" fill="#1e293b" '
            f'stroke="#f8fafc" stroke-width="4" paint-order="stroke">{escape(" / ".join(edge.types))}</text>'
        )
    root = next(node for node in graph.nodes if node.root)
    parts.append(_node_svg(root, cx, cy))
    parts += [_node_svg(node, *places[node.ref]) for node in neighbours]
    if graph.omitted:
        parts.append(f'<text x="{WIDTH - 12}" y="{height - 12}" text-anchor="end" font-size="13" fill="#1e293b">'
                     f"+{graph.omitted} more related entities not drawn</text>")
    parts.append("</svg>")
    return "".join(parts)


def _description(graph: Graph) -> str:
    """The graph in words, for screen readers and anyone who cannot see the drawing."""
    root = next(node for node in graph.nodes if node.root)
    if not graph.edges:
        return f"{root.title} has no relations."
    titles = {node.ref: f"{node.kind} {node.title}" for node in graph.nodes}
    parts = [f"{', '.join(edge.types)} {titles[edge.target]}" for edge in graph.edges]
    return f"{root.title}: " + "; ".join(parts) + "."
