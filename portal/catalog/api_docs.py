"""OpenAPI descriptions of the catalog API parameters its routes read themselves (Backstage's repeated
parameters), so clients and schemathesis see them; the routes' own checks stay the authority."""

from __future__ import annotations


def _param(name: str, description: str, schema: dict | None = None, repeated: bool = False) -> dict:
    schema = schema or {"type": "string"}
    if repeated:
        schema = {"type": "array", "items": schema}
    return {"name": name, "in": "query", "required": False, "description": description, "schema": schema,
            **({"style": "form", "explode": True} if repeated else {})}


_FILTER = _param("filter", "key=value conditions joined by commas; repeated parameters are alternatives",
                 repeated=True)
_FIELDS = _param("fields", "Only these dotted fields, e.g. kind,metadata.name", repeated=True)
_NUMBER = {"type": "integer"}

BY_QUERY = {"parameters": [
    _FILTER, _FIELDS,
    _param("orderField", "A field and asc or desc, e.g. metadata.name,asc", repeated=True),
    _param("limit", "Items per page", _NUMBER), _param("offset", "Items to skip on the first page", _NUMBER),
    _param("cursor", "pageInfo.nextCursor or prevCursor of a previous page"),
    _param("fullTextFilterTerm", "Words to look for"),
    _param("fullTextFilterFields", "Fields to look in, e.g. metadata.name", repeated=True),
    _param("totalItems", "exclude to skip counting"),
]}
LEGACY_LIST = {"parameters": [
    _FILTER, _FIELDS, _param("order", "asc:field or desc:field", repeated=True),
    _param("limit", "Items per page", _NUMBER), _param("offset", "Items to skip", _NUMBER),
    _param("after", "The after token of the previous page's Link header"),
]}
FACETS = {"parameters": [_param("facet", "A dotted field to count values of, e.g. kind", repeated=True), _FILTER]}
BY_REFS = {
    "parameters": [_FIELDS, _FILTER],
    "requestBody": {"required": True, "content": {"application/json": {"schema": {
        "type": "object", "required": ["entityRefs"],
        "properties": {"entityRefs": {"type": "array", "items": {"type": "string"}, "maxItems": 1000},
                       "fields": {"type": "array", "items": {"type": "string"}}},
    }}}},
}
