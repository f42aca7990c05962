"""The relations graph: JSON nodes and edges, and the SVG drawing with links and a text alternative."""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree

import pytest

from portal.catalog.graph import build_graph, render_svg
from portal.catalog.query import get_by_ref

pytestmark = pytest.mark.usefixtures("seeded")
SVG = "{http://www.w3.org/2000/svg}"


def test_graph_json_has_root_neighbours_and_labelled_edges(client):
    body = client.get("/api/v1/catalog/graph/default/component/shipments-service").json()
    nodes = {node["ref"]: node for node in body["nodes"]}
    assert nodes["component:default/shipments-service"]["root"] is True
    assert nodes["api:default/shipments-api"]["title"] == "Shipments API"
    assert nodes["api:default/shipments-api"]["url"] == "/catalog/default/api/shipments-api"
    assert nodes["group:default/team-shipments"]["kind"] == "Group"
    edges = {edge["target"]: edge["types"] for edge in body["edges"]}
    assert edges["api:default/shipments-api"] == ["providesApi"]
    assert edges["system:default/shipping"] == ["partOf"]
    assert edges["resource:default/shipments-db"] == ["dependsOn"]


def test_graph_svg_is_valid_and_nodes_are_links(client):
    response = client.get("/catalog/default/component/shipments-service/graph.svg")
    assert response.headers["content-type"].startswith("image/svg+xml")
    root = ElementTree.fromstring(response.text)
    links = {a.get("href") for a in root.iter(f"{SVG}a")}
    assert "/catalog/default/api/shipments-api" in links and "/catalog/default/group/team-shipments" in links
    labels = [t.text for t in root.iter(f"{SVG}text")] + [t.text for t in root.iter(f"{SVG}tspan")]
    assert "providesApi" in labels and "ownedBy" in labels
    description = root.find(f"{SVG}desc").text
    assert "providesApi API Shipments API" in description


def test_missing_target_is_drawn_but_marked(session):
    entity = get_by_ref(session, "component:default/shipments-service")
    entity["relations"].append({"type": "dependsOn", "targetRef": "component:default/ghost"})
    graph = build_graph(session, entity)
    ghost = next(node for node in graph.nodes if node.name == "ghost")
    assert ghost.exists is False
    assert "Component · not in the catalog" in render_svg(graph, "Relations")


def test_graph_caps_neighbours_and_counts_the_rest(session):
    entity = get_by_ref(session, "group:default/team-shipments")
    graph = build_graph(session, entity, max_neighbours=3)
    assert len(graph.nodes) == 4 and graph.omitted == len({r["targetRef"] for r in entity["relations"]}) - 3
    assert f"+{graph.omitted} more" in render_svg(graph, "Relations")


def test_graph_of_unknown_entity_is_404(client):
    assert client.get("/api/v1/catalog/graph/default/component/nope").status_code == 404
    assert client.get("/catalog/default/component/nope/graph.svg").status_code == 404
