"""Audit a CycloneDX SBOM against an OSV advisory database: which components have known advisories.

    python -m tools.dependency_audit SBOM.json ADVISORIES   # a folder or .zip of OSV JSON records

The SBOM comes from `make sbom` (cyclonedx-py over the project's environment, plus the npm packages
of package-lock.json); the advisories are OSV records as osv.dev exports them per ecosystem
(https://osv-vulnerabilities.storage.googleapis.com/PyPI/all.zip) or as a mirror keeps them.
Exit status: 0 no finding, 1 findings, 2 unusable input.
"""

from __future__ import annotations

import json
import re
import sys
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

from packaging.version import InvalidVersion, Version

# purl type -> OSV ecosystem name
ECOSYSTEMS = {"pypi": "PyPI", "npm": "npm"}
_PURL = re.compile(r"^pkg:(?P<type>[a-z]+)/(?P<name>[^@?#]+)@(?P<version>[^?#]+)")


@dataclass(frozen=True)
class Component:
    ecosystem: str
    name: str  # normalized for comparison
    version: str


@dataclass(frozen=True)
class Finding:
    component: Component
    advisory_id: str
    aliases: tuple[str, ...]
    summary: str
    fixed: tuple[str, ...]

    def line(self) -> str:
        fix = f"; fixed in {', '.join(self.fixed)}" if self.fixed else "; no fixed version published"
        also = f" ({', '.join(self.aliases)})" if self.aliases else ""
        return (f"{self.component.ecosystem} {self.component.name} {self.component.version}: "
                f"{self.advisory_id}{also} {self.summary}{fix}")


def normalize_name(ecosystem: str, name: str) -> str:
    """PyPI names compare case- and separator-insensitively (PEP 503); npm names as written."""
    return re.sub(r"[-_.]+", "-", name).lower() if ecosystem == "PyPI" else name


def components_of(sbom: dict) -> list[Component]:
    """Every component of the SBOM that has a purl of an ecosystem we can audit."""
    if not isinstance(sbom, dict) or sbom.get("bomFormat") != "CycloneDX":
        raise ValueError("the SBOM is not a CycloneDX JSON document")
    found = []
    for item in _walk_components(sbom.get("components") or []):
        match = _PURL.match(item.get("purl") or "")
        if not match or match["type"] not in ECOSYSTEMS:
            continue
        ecosystem = ECOSYSTEMS[match["type"]]
        name = unquote(match["name"])
        found.append(Component(ecosystem, normalize_name(ecosystem, name), unquote(match["version"])))
    return found


def _walk_components(items: list[dict]) -> Iterator[dict]:
    for item in items:
        yield item
        yield from _walk_components(item.get("components") or [])


def read_advisories(source: Path) -> Iterator[dict]:
    """OSV records from a folder (searched recursively) or a zip of JSON files."""
    if source.is_dir():
        for path in sorted(source.rglob("*.json")):
            yield json.loads(path.read_text(encoding="utf-8"))
    elif zipfile.is_zipfile(source):
        with zipfile.ZipFile(source) as archive:
            for name in sorted(archive.namelist()):
                if name.endswith(".json"):
                    yield json.loads(archive.read(name))
    else:
        raise ValueError(f"{source} is neither a folder nor a zip of OSV JSON records")


def _version_key(ecosystem: str, text: str) -> tuple:
    if ecosystem == "PyPI":
        return (Version(text),)
    # npm: semver; pre-release tags sort before the release they precede.
    core, _, pre = text.partition("-")
    numbers = tuple(int(part) for part in core.split("+")[0].split("."))
    return numbers + ((1,) if not pre else (0, pre))


def _in_range(ecosystem: str, version: str, events: list[dict]) -> bool:
    """OSV ECOSYSTEM/SEMVER range: affected from an `introduced` up to a `fixed` (excluded) or a
    `last_affected` (included), events taken in version order."""
    def position(bound: str) -> tuple:
        # "0" means "since the first version"; it sorts before every real version.
        return (0,) if bound == "0" else (1, _version_key(ecosystem, bound))

    here = (1, _version_key(ecosystem, version))
    affected = False
    for event in sorted(events, key=lambda e: position(next(iter(e.values())))):
        (kind, bound), = event.items()
        if kind == "introduced" and here >= position(bound):
            affected = True
        elif kind == "fixed" and here >= position(bound):
            affected = False
        elif kind == "last_affected" and here > position(bound):
            affected = False
    return affected


def affects(advisory: dict, component: Component) -> tuple[bool, tuple[str, ...]]:
    """Whether the advisory names this component's version, and the versions that fix it."""
    fixed: list[str] = []
    hit = False
    for entry in advisory.get("affected") or []:
        package = entry.get("package") or {}
        if package.get("ecosystem") != component.ecosystem:
            continue
        if normalize_name(component.ecosystem, package.get("name", "")) != component.name:
            continue
        if component.version in (entry.get("versions") or []):
            hit = True
        for version_range in entry.get("ranges") or []:
            if version_range.get("type") not in ("ECOSYSTEM", "SEMVER"):
                continue  # GIT ranges name commits, not released versions
            events = version_range.get("events") or []
            fixed += [e["fixed"] for e in events if "fixed" in e]
            try:
                hit = hit or _in_range(component.ecosystem, component.version, events)
            except (InvalidVersion, ValueError, TypeError):
                continue  # a version spelling this ecosystem cannot order: the `versions` list decides
    return hit, tuple(dict.fromkeys(fixed))


def audit(components: Iterable[Component], advisories: Iterable[dict]) -> list[Finding]:
    by_key: dict[tuple[str, str], list[Component]] = {}
    for component in components:
        by_key.setdefault((component.ecosystem, component.name), []).append(component)
    findings = []
    for advisory in advisories:
        if advisory.get("withdrawn"):
            continue
        names = {(a.get("package", {}).get("ecosystem"),
                  normalize_name(a.get("package", {}).get("ecosystem", ""), a.get("package", {}).get("name", "")))
                 for a in advisory.get("affected") or []}
        for key in names:
            for component in by_key.get(key, []):
                hit, fixed = affects(advisory, component)
                if hit:
                    findings.append(Finding(component, advisory.get("id", "?"),
                                            tuple(advisory.get("aliases") or ()),
                                            (advisory.get("summary") or "").strip(), fixed))
    return findings


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    sbom_path, advisories_path = Path(argv[0]), Path(argv[1])
    try:
        components = components_of(json.loads(sbom_path.read_text(encoding="utf-8")))
        advisories = list(read_advisories(advisories_path))
    except (OSError, ValueError) as error:
        print(f"dependency audit: cannot read its input: {error}", file=sys.stderr)
        return 2
    findings = audit(components, advisories)
    print(f"dependency audit: {len(components)} components in {sbom_path}, "
          f"{len(advisories)} advisories in {advisories_path}, {len(findings)} findings")
    for finding in findings:
        print("  " + finding.line())
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
