"""Backstage's descriptor rules: the envelope, metadata and the spec of every supported kind."""

from __future__ import annotations

import re
from dataclasses import dataclass

from portal.catalog.kinds import KIND_SPECS, kind_spec_for

_OBJECT_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_TAG = re.compile(r"^[a-z0-9:+#]+(-[a-z0-9:+#]+)*$")
_KIND = re.compile(r"^[a-zA-Z][a-zA-Z0-9]*$")
_API_VERSION = re.compile(r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[a-z0-9]+$")


@dataclass(frozen=True)
class FieldError:
    """A rule broken by one field; `path` is the dotted path into the descriptor."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


def is_object_name(value: object) -> bool:
    return isinstance(value, str) and 1 <= len(value) <= 63 and bool(_OBJECT_NAME.match(value))


def is_dns_label(value: object) -> bool:
    return isinstance(value, str) and 1 <= len(value) <= 63 and bool(_DNS_LABEL.match(value))


def is_dns_subdomain(value: object) -> bool:
    return (
        isinstance(value, str)
        and 1 <= len(value) <= 253
        and all(is_dns_label(part) for part in value.split("."))
    )


def is_prefixed_key(value: object) -> bool:
    """Label and annotation keys: `[dns-subdomain/]object-name`."""
    if not isinstance(value, str):
        return False
    if "/" in value:
        prefix, _, name = value.partition("/")
        return is_dns_subdomain(prefix) and is_object_name(name)
    return is_object_name(value)


def is_tag(value: object) -> bool:
    return isinstance(value, str) and 1 <= len(value) <= 63 and bool(_TAG.match(value))


def validate_entity(entity: object) -> list[FieldError]:
    """All rule violations of one descriptor; an empty list means it is valid."""
    if not isinstance(entity, dict):
        return [FieldError("", "an entity must be a YAML mapping (object)")]
    errors: list[FieldError] = []
    errors += _validate_envelope(entity)
    metadata = entity.get("metadata")
    if isinstance(metadata, dict):
        errors += _validate_metadata(metadata)
    spec_errors = _validate_kind(entity)
    errors += spec_errors
    return errors


def _validate_envelope(entity: dict) -> list[FieldError]:
    errors = []
    api_version = entity.get("apiVersion")
    if not isinstance(api_version, str) or not _API_VERSION.match(api_version):
        errors.append(FieldError("apiVersion", f"must be a string like 'backstage.io/v1alpha1', got {api_version!r}"))
    kind = entity.get("kind")
    if not isinstance(kind, str) or not _KIND.match(kind) or len(kind) > 63:
        errors.append(FieldError("kind", f"must be a kind name like 'Component', got {kind!r}"))
    if not isinstance(entity.get("metadata"), dict):
        errors.append(FieldError("metadata", "is required and must be an object"))
    spec = entity.get("spec")
    if spec is not None and not isinstance(spec, dict):
        errors.append(FieldError("spec", "must be an object"))
    relations = entity.get("relations")
    if relations is not None and not isinstance(relations, list):
        errors.append(FieldError("relations", "must be a list"))
    return errors


def _validate_metadata(metadata: dict) -> list[FieldError]:
    errors = []
    name = metadata.get("name")
    if name is None:
        errors.append(FieldError("metadata.name", "is required"))
    elif not is_object_name(name):
        errors.append(FieldError(
            "metadata.name",
            f"{name!r} is not a valid name: 1-63 characters of letters, digits and [-_.], "
            "starting and ending with a letter or digit",
        ))
    namespace = metadata.get("namespace")
    if namespace is not None and not is_dns_label(namespace):
        errors.append(FieldError(
            "metadata.namespace",
            f"{namespace!r} is not a valid namespace: lower-case letters, digits and '-', at most 63",
        ))
    for field in ("title", "description", "uid", "etag"):
        value = metadata.get(field)
        if value is not None and not isinstance(value, str):
            errors.append(FieldError(f"metadata.{field}", "must be a string"))
    errors += _validate_key_values(metadata.get("labels"), "labels", label_values=True)
    errors += _validate_key_values(metadata.get("annotations"), "annotations", label_values=False)
    tags = metadata.get("tags")
    if tags is not None:
        if not isinstance(tags, list):
            errors.append(FieldError("metadata.tags", "must be a list of strings"))
        else:
            for index, tag in enumerate(tags):
                if not is_tag(tag):
                    errors.append(FieldError(
                        f"metadata.tags[{index}]",
                        f"{tag!r} is not a valid tag: lower-case letters, digits and ':+#' separated "
                        "by single '-', at most 63 characters",
                    ))
    links = metadata.get("links")
    if links is not None:
        if not isinstance(links, list):
            errors.append(FieldError("metadata.links", "must be a list"))
        else:
            for index, link in enumerate(links):
                errors += _validate_link(link, f"metadata.links[{index}]")
    return errors


def _validate_key_values(mapping: object, field: str, *, label_values: bool) -> list[FieldError]:
    if mapping is None:
        return []
    if not isinstance(mapping, dict):
        return [FieldError(f"metadata.{field}", "must be an object of string values")]
    errors = []
    for key, value in mapping.items():
        if not is_prefixed_key(key):
            errors.append(FieldError(f"metadata.{field}.{key}", f"{key!r} is not a valid key: [prefix/]name"))
        if not isinstance(value, str):
            errors.append(FieldError(f"metadata.{field}.{key}", "value must be a string"))
        elif label_values and value != "" and not is_object_name(value):
            errors.append(FieldError(f"metadata.{field}.{key}", f"{value!r} is not a valid label value"))
    return errors


def _validate_link(link: object, path: str) -> list[FieldError]:
    if not isinstance(link, dict):
        return [FieldError(path, "must be an object with a url")]
    errors = []
    if not isinstance(link.get("url"), str) or not link.get("url"):
        errors.append(FieldError(f"{path}.url", "is required and must be a string"))
    for field in ("title", "icon", "type"):
        if field in link and not isinstance(link[field], str):
            errors.append(FieldError(f"{path}.{field}", "must be a string"))
    return errors


def _validate_kind(entity: dict) -> list[FieldError]:
    kind = entity.get("kind")
    api_version = entity.get("apiVersion")
    if not isinstance(kind, str) or not isinstance(api_version, str):
        return []
    spec_def = kind_spec_for(kind)
    if spec_def is None:
        known = ", ".join(sorted(s.kind for s in KIND_SPECS))
        return [FieldError("kind", f"unknown kind {kind!r}; supported kinds are {known}")]
    if api_version not in spec_def.api_versions:
        return [FieldError(
            "apiVersion",
            f"{api_version!r} is not supported for kind {spec_def.kind}; use one of "
            + ", ".join(spec_def.api_versions),
        )]
    spec = entity.get("spec")
    if spec is None:
        if spec_def.spec_required:
            return [FieldError("spec", f"is required for kind {spec_def.kind}")]
        return []
    if not isinstance(spec, dict):
        return []
    return [FieldError(f"spec.{path}" if path else "spec", message) for path, message in spec_def.validate_spec(spec)]
