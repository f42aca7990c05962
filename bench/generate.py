"""A deterministic synthetic catalog: an organisation's groups, users, systems and software as YAML files."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

try:  # libyaml's emitter is ~10x faster; the pure-Python one is a fallback only.
    from yaml import CSafeDumper as _Dumper
except ImportError:  # pragma: no cover - libyaml ships with PyYAML wheels
    from yaml import SafeDumper as _Dumper

ROOT_FILE = "all.yaml"


class _CatalogDumper(_Dumper):
    """Writes multi-line strings (API definitions) as `|` blocks, the way people write them."""


def _represent_text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_CatalogDumper.add_representer(str, _represent_text)
BACKSTAGE = "backstage.io/v1alpha1"
FLOWPORT = "flowport.dev/v1alpha1"

_WORDS = (
    "payment checkout ledger invoice billing cart catalog search pricing inventory shipping "
    "tracking identity account profile session token notify email sms push audit report "
    "analytics metrics events stream ingest export import media image video upload storage "
    "booking calendar review rating recommend feed social chat support ticket order refund "
    "fraud risk compliance consent loyalty coupon promo partner vendor supplier fleet route "
    "geo map weather tax currency ledgerline settlement payout wallet"
).split()
_SUFFIXES = ("service", "api", "worker", "web", "app", "gateway", "sync", "job", "ui", "adapter")
_TAGS = (
    "java kotlin python go typescript javascript rust scala ruby dotnet react vue grpc rest "
    "graphql kafka postgres mysql redis mongodb elasticsearch kubernetes lambda serverless "
    "pci gdpr sox tier-1 tier-2 tier-3 public internal batch realtime ml data frontend backend "
    "mobile ios android legacy strangler observability security"
).split()
_COMPONENT_TYPES = (("service", 50), ("website", 20), ("library", 25), ("tool", 5))
_LIFECYCLES = (("production", 70), ("experimental", 20), ("deprecated", 10))
_API_TYPES = (("openapi", 60), ("grpc", 20), ("asyncapi", 15), ("graphql", 5))
_RESOURCE_TYPES = ("database", "s3-bucket", "queue", "cache", "topic", "cluster")


@dataclass
class GeneratedCatalog:
    """Where the catalog was written, how much of each kind it holds, and names to look things up by."""

    folder: Path
    root: Path
    files: list[Path]
    counts: dict[str, int]
    component_names: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def plan_counts(total: int) -> dict[str, int]:
    """How many entities of each kind a catalog of `total` entities holds (roughly a real organisation's mix)."""
    counts = {
        "Domain": max(2, total // 5000),
        "System": max(4, total // 200),
        "Group": max(4, total // 100),
        "User": max(8, total // 10),
        "API": max(4, total * 15 // 100),
        "Resource": max(4, total * 13 // 100),
        "PlatformProduct": max(1, min(20, total // 5000)),
        "Capability": max(2, min(100, total // 1000)),
    }
    counts["Component"] = total - sum(counts.values())
    if counts["Component"] < 1:
        raise ValueError(f"--entities {total} is too small for a realistic catalog; use at least 100")
    return counts


def _weighted(rng: random.Random, choices: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([c for c, _ in choices], weights=[w for _, w in choices])[0]


def _unique_names(rng: random.Random, count: int, suffixes: tuple[str, ...]) -> list[str]:
    # word-word-suffix names like real services; a counter keeps them unique past the combinations.
    names = []
    for index in range(count):
        first, second = rng.sample(_WORDS, 2)
        names.append(f"{first}-{second}-{rng.choice(suffixes)}-{index}")
    return names


class _Organisation:
    """The names every entity points at, chosen up front so every reference resolves."""

    def __init__(self, rng: random.Random, counts: dict[str, int]) -> None:
        self.rng = rng
        self.domains = [f"domain-{w}-{i}" for i, w in enumerate(rng.choices(_WORDS, k=counts["Domain"]))]
        self.systems = [f"system-{w}-{i}" for i, w in enumerate(rng.choices(_WORDS, k=counts["System"]))]
        self.departments = [f"department-{i}" for i in range(max(1, counts["Group"] // 20))]
        self.teams = [f"team-{w}-{i}" for i, w in enumerate(rng.choices(_WORDS, k=counts["Group"] - len(self.departments)))]
        self.users = [f"user-{i:06d}" for i in range(counts["User"])]
        self.apis = _unique_names(rng, counts["API"], ("api", "events", "graphql", "rpc"))
        self.resources = [f"{rng.choice(_RESOURCE_TYPES)}-{rng.choice(_WORDS)}-{i}" for i in range(counts["Resource"])]
        self.components = _unique_names(rng, counts["Component"], _SUFFIXES)
        self.products = [f"platform-{w}-{i}" for i, w in enumerate(rng.choices(
            ("compute", "data", "delivery", "observability", "security", "developer-experience"), k=counts["PlatformProduct"]))]
        self.capabilities = [f"capability-{w}-{i}" for i, w in enumerate(rng.choices(_WORDS, k=counts["Capability"]))]

    def team(self) -> str:
        return f"group:default/{self.rng.choice(self.teams)}"

    def tags(self) -> list[str]:
        return sorted(self.rng.sample(_TAGS, self.rng.randint(1, 4)))


def _metadata(org: _Organisation, name: str, description: str) -> dict:
    rng = org.rng
    metadata: dict = {"name": name, "title": name.replace("-", " ").title(), "description": description,
                      "tags": org.tags()}
    metadata["annotations"] = {
        "github.com/project-slug": f"acme/{name}",
        "backstage.io/techdocs-ref": "dir:.",
    }
    if rng.random() < 0.4:
        metadata["annotations"]["pagerduty.com/service-id"] = f"P{rng.randrange(16**6):06X}"
    if rng.random() < 0.5:
        metadata["annotations"]["jira/project-key"] = name.split("-")[0].upper()[:10]
    if rng.random() < 0.3:
        metadata["links"] = [{"url": f"https://grafana.acme.example/d/{name}", "title": "Dashboard", "icon": "dashboard"}]
    return metadata


def _component(org: _Organisation, name: str) -> dict:
    rng = org.rng
    kind_of = _weighted(rng, _COMPONENT_TYPES)
    metadata = _metadata(org, name, f"The {name.rsplit('-', 1)[0].replace('-', ' ')} {kind_of} of the Acme shop.")
    if rng.random() < 0.1:
        metadata["annotations"]["flowport.dev/uses-capabilities"] = f"capability:default/{rng.choice(org.capabilities)}"
    spec: dict = {"type": kind_of, "lifecycle": _weighted(rng, _LIFECYCLES), "owner": org.team(),
                  "system": rng.choice(org.systems)}
    if kind_of == "service" and rng.random() < 0.6:
        spec["providesApis"] = rng.sample(org.apis, rng.randint(1, 2))
    if rng.random() < 0.6:
        spec["consumesApis"] = rng.sample(org.apis, rng.randint(1, 3))
    if rng.random() < 0.5:
        spec["dependsOn"] = [f"resource:default/{r}" for r in rng.sample(org.resources, rng.randint(1, 2))]
    return {"apiVersion": BACKSTAGE, "kind": "Component", "metadata": metadata, "spec": spec}


def _api(org: _Organisation, name: str) -> dict:
    rng = org.rng
    api_type = _weighted(rng, _API_TYPES)
    definition = (
        f"openapi: 3.0.0\ninfo:\n  title: {name}\n  version: 1.{rng.randint(0, 20)}.0\n"
        f"paths:\n  /{name.split('-')[0]}:\n    get:\n      summary: List {name.split('-')[0]} items\n"
        "      responses:\n        '200':\n          description: OK\n"
    )
    return {"apiVersion": BACKSTAGE, "kind": "API",
            "metadata": _metadata(org, name, f"The {name} interface."),
            "spec": {"type": api_type, "lifecycle": _weighted(rng, _LIFECYCLES), "owner": org.team(),
                     "system": rng.choice(org.systems), "definition": definition}}


def _resource(org: _Organisation, name: str) -> dict:
    return {"apiVersion": BACKSTAGE, "kind": "Resource",
            "metadata": _metadata(org, name, f"The {name} resource."),
            "spec": {"type": name.split("-")[0] if not name.startswith("s3") else "s3-bucket",
                     "owner": org.team(), "system": org.rng.choice(org.systems)}}


def _system(org: _Organisation, name: str) -> dict:
    return {"apiVersion": BACKSTAGE, "kind": "System", "metadata": _metadata(org, name, f"The {name} system."),
            "spec": {"owner": org.team(), "domain": org.rng.choice(org.domains)}}


def _domain(org: _Organisation, name: str) -> dict:
    return {"apiVersion": BACKSTAGE, "kind": "Domain", "metadata": _metadata(org, name, f"The {name} domain."),
            "spec": {"owner": f"group:default/{org.rng.choice(org.departments)}"}}


def _group(org: _Organisation, name: str) -> dict:
    is_department = name.startswith("department-")
    spec: dict = {"type": "department" if is_department else "team", "children": []}
    if not is_department:
        spec["parent"] = org.departments[hash_index(name, len(org.departments))]
    return {"apiVersion": BACKSTAGE, "kind": "Group",
            "metadata": {"name": name, "description": f"The {name} {spec['type']}."},
            "spec": {**spec, "profile": {"displayName": name.replace("-", " ").title(),
                                         "email": f"{name}@acme.example"}}}


def hash_index(name: str, size: int) -> int:
    """A stable index from a name (Python's hash() is salted per process)."""
    return sum(name.encode()) % size


def _user(org: _Organisation, name: str) -> dict:
    rng = org.rng
    groups = sorted({rng.choice(org.teams) for _ in range(rng.randint(1, 2))})
    return {"apiVersion": BACKSTAGE, "kind": "User", "metadata": {"name": name},
            "spec": {"profile": {"displayName": f"User {name[5:]}", "email": f"{name}@acme.example"},
                     "memberOf": groups}}


def _product(org: _Organisation, name: str) -> dict:
    return {"apiVersion": FLOWPORT, "kind": "PlatformProduct",
            "metadata": _metadata(org, name, f"The {name} platform product."),
            "spec": {"owner": org.team(), "lifecycle": "production", "type": "platform",
                     "customers": [org.team(), org.team()], "objectives": ["Cut lead time for changes by 20%"]}}


def _capability(org: _Organisation, name: str) -> dict:
    rng = org.rng
    mode = rng.choice(("automated", "approval", "manual"))
    fulfillment: dict = {"mode": mode}
    if mode == "approval":
        fulfillment["approvers"] = org.team()
    return {"apiVersion": FLOWPORT, "kind": "Capability",
            "metadata": _metadata(org, name, f"Self-service {name}."),
            "spec": {"product": rng.choice(org.products), "owner": org.team(),
                     "lifecycle": rng.choice(("beta", "ga", "ga", "experimental")), "fulfillment": fulfillment,
                     "targetLeadTime": rng.choice(("PT4H", "P1D", "P2D")), "timeSaved": "PT8H"}}


def _all_entities(org: _Organisation) -> list[tuple[Callable[[_Organisation, str], dict], str]]:
    return (
        [(_domain, n) for n in org.domains] + [(_system, n) for n in org.systems]
        + [(_group, n) for n in org.departments + org.teams] + [(_user, n) for n in org.users]
        + [(_product, n) for n in org.products] + [(_capability, n) for n in org.capabilities]
        + [(_api, n) for n in org.apis] + [(_resource, n) for n in org.resources]
        + [(_component, n) for n in org.components]
    )


def generate_catalog(
    folder: Path, total: int = 100_000, seed: int = 42, per_file: int = 1000,
    on_file: Callable[[int, int], None] | None = None,
) -> GeneratedCatalog:
    """Write `total` entities as multi-document YAML files plus an `all.yaml` Location listing them."""
    rng = random.Random(seed)
    counts = plan_counts(total)
    org = _Organisation(rng, counts)
    builders = _all_entities(org)
    # Shuffled so each file mixes kinds, as a monorepo's catalog files would.
    rng.shuffle(builders)
    folder.mkdir(parents=True, exist_ok=True)
    files = []
    file_count = (len(builders) + per_file - 1) // per_file
    for index in range(file_count):
        chunk = builders[index * per_file : (index + 1) * per_file]
        path = folder / f"catalog-{index:04d}.yaml"
        documents = [build(org, name) for build, name in chunk]
        path.write_text(yaml.dump_all(documents, Dumper=_CatalogDumper, sort_keys=False, width=120))
        files.append(path)
        if on_file:
            on_file(index + 1, file_count)
    root = folder / ROOT_FILE
    root.write_text(yaml.dump({
        "apiVersion": BACKSTAGE, "kind": "Location",
        "metadata": {"name": "synthetic-catalog", "description": f"{total} synthetic entities (seed {seed})"},
        "spec": {"targets": [f"./{p.name}" for p in files]},
    }, Dumper=_CatalogDumper, sort_keys=False))
    return GeneratedCatalog(folder, root, files, counts, list(org.components))
