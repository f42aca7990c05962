"""A catalog to query and the answers Backstage's rules give for it, computed in Python (no SQL)."""

import httpx
import pytest

from portal.catalog.ingest import register_location
from portal.catalog.query import EntityQuery, query_entities
from portal.catalog.search_index import search_rows
from portal.catalog.store import PreparedEntity, write_entities
from tests.conftest import FIXTURES

EXAMPLES = FIXTURES / "backstage" / "backstage-catalog-model-examples"
LOCATION = "file:/extra/catalog-info.yaml"


def component(name: str, type_: str, tags: list[str], **metadata) -> dict:
    return {"apiVersion": "backstage.io/v1alpha1", "kind": "Component",
            "metadata": {"name": name, "tags": tags, **metadata},
            "spec": {"type": type_, "lifecycle": "production", "owner": "team-a"}}


# Next to Backstage's examples: one value in two casings (so a range has two original_values),
# entities with several tags, and a description too long to index as a value (key only).
EXTRA = [
    component("upper-service", "Service", ["java", "go"]),
    component("mixed-service", "SERVICE", ["Java"]),
    component("go-tool", "service", ["go"], description="x" * 250),
    component("java-site", "website", ["java", "react", "go"]),
]


@pytest.fixture
def catalog(session, settings) -> list[dict]:
    """Backstage's example catalog plus EXTRA, committed; returns every stored entity as the API shows it."""
    http = httpx.Client(transport=httpx.MockTransport(lambda request: httpx.Response(200, text="openapi: 3.0.0\n")))
    register_location(session, settings, http, "file", str(EXAMPLES))
    write_entities(session, [PreparedEntity(entity, LOCATION, LOCATION) for entity in EXTRA])
    session.commit()
    everything = query_entities(session, EntityQuery(limit=1000, count_total=False)).items
    assert len(everything) > 55
    return everything


def brute_force_count(entities: list[dict], filters: list[dict], term: str | None = None,
                      fields: list[str] | None = None) -> int:
    """The count by reading every entity in Python: Backstage's matching rules, nothing from SQL."""

    def condition_holds(entity: dict, pairs: set, key: str, values: list[str] | None) -> bool:
        wanted = None if values is None else {v.lower() for v in values}
        if key.lower().startswith("relations."):
            kind = key.split(".", 1)[1].lower()
            return any(r["type"].lower() == kind and (wanted is None or r["targetRef"].lower() in wanted)
                       for r in entity.get("relations", []))
        return any(k == key.lower() and (wanted is None or v in wanted) for k, v in pairs)

    total = 0
    for entity in entities:
        pairs = {(key, value) for key, value, _ in search_rows(entity)}
        if filters and not any(all(condition_holds(entity, pairs, k, v) for k, v in group.items())
                               for group in filters):
            continue
        if term and not any(k in {f.lower() for f in fields} and v is not None and term.lower() in v
                            for k, v in pairs):
            continue
        total += 1
    return total


def brute_force_facet(entities: list[dict], key: str, filters: list[dict]) -> dict[str, int]:
    """{original value: entities having it} for a search key, over the entities matching `filters`."""
    counts: dict[str, int] = {}
    for entity in entities:
        if brute_force_count([entity], filters) == 0:
            continue
        for row_key, _, original in search_rows(entity):
            if row_key == key.lower() and original is not None:
                counts[original] = counts.get(original, 0) + 1
    return counts
