"""Descriptor texts the ingest tests write into files and URL bodies (formatted with str.format)."""

COMPONENT = """\
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: {name}
spec:
  type: service
  lifecycle: production
  owner: team-a
"""

# An API whose definition is a `$text`/`$json`/`$yaml` placeholder pointing at `target`.
API = """\
apiVersion: backstage.io/v1alpha1
kind: API
metadata:
  name: {name}
spec:
  type: openapi
  lifecycle: production
  owner: team-a
  definition:
    {placeholder}: {target}
"""
# The same with the target double-quoted, so YAML escapes such as "\\0" reach the placeholder.
API_QUOTED_TARGET = API.replace("{placeholder}: {target}", '{placeholder}: "{target}"')
