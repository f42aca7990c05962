"""Add the npm packages of package-lock.json to a CycloneDX SBOM written by cyclonedx-py.

    python -m tools.sbom_npm SBOM.json package-lock.json

cyclonedx-py sees the Python environment only; the front-end packages (htmx, served by the portal)
come from npm, so they are added here with their purl, version and the lock file's integrity hash.
Packages the lock marks `dev` (test tools) get scope `optional`.
"""

from __future__ import annotations

import base64
import json
import sys
from pathlib import Path
from urllib.parse import quote

_HASH_NAMES = {"sha512": "SHA-512", "sha384": "SHA-384", "sha256": "SHA-256", "sha1": "SHA-1"}


def npm_components(lock: dict) -> list[dict]:
    components = []
    for path, package in sorted((lock.get("packages") or {}).items()):
        if not path.startswith("node_modules/") or "version" not in package:
            continue
        name = path.rsplit("node_modules/", 1)[1]
        version = package["version"]
        # A scoped name keeps its @ in the purl as %40 (purl spec).
        purl = f"pkg:npm/{quote(name, safe='/')}@{quote(version, safe='')}"
        component = {"type": "library", "bom-ref": purl, "name": name, "version": version, "purl": purl,
                     "scope": "optional" if package.get("dev") else "required"}
        integrity = package.get("integrity", "")
        algorithm, _, digest = integrity.partition("-")
        if algorithm in _HASH_NAMES and digest:
            component["hashes"] = [{"alg": _HASH_NAMES[algorithm], "content": base64.b64decode(digest).hex()}]
        components.append(component)
    return components


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    sbom_path, lock_path = Path(argv[0]), Path(argv[1])
    sbom = json.loads(sbom_path.read_text(encoding="utf-8"))
    added = npm_components(json.loads(lock_path.read_text(encoding="utf-8")))
    known = {c.get("purl") for c in sbom.get("components", [])}
    sbom.setdefault("components", []).extend(c for c in added if c["purl"] not in known)
    sbom_path.write_text(json.dumps(sbom, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    print(f"{sbom_path}: {len(sbom['components'])} components ({len(added)} from {lock_path})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
