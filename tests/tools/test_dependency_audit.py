"""The dependency audit reads a CycloneDX SBOM and OSV advisories and names every affected component."""

from __future__ import annotations

import json
import zipfile
from importlib.metadata import version as installed_version
from pathlib import Path

import pytest

from tools.dependency_audit import Component, audit, components_of, main, read_advisories
from tools.sbom_npm import npm_components

REPO_ROOT = Path(__file__).resolve().parents[2]

# The facts of a published advisory (GHSA-cpwx-vrp4-4pq7, CVE-2025-27516: Jinja's sandbox could be
# escaped through the |attr filter; fixed in 3.1.6), written as an OSV record.
JINJA_ATTR_ADVISORY = {
    "id": "GHSA-cpwx-vrp4-4pq7",
    "aliases": ["CVE-2025-27516"],
    "summary": "Jinja2 vulnerable to sandbox breakout through attr filter selecting format method",
    "affected": [{"package": {"ecosystem": "PyPI", "name": "jinja2"},
                  "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "3.1.6"}]}]}],
}


def _sbom(*purls: str) -> dict:
    return {"bomFormat": "CycloneDX", "specVersion": "1.6",
            "components": [{"type": "library", "name": p, "purl": p} for p in purls]}


def test_a_version_before_the_fix_is_reported_with_the_fixing_version():
    findings = audit(components_of(_sbom("pkg:pypi/jinja2@3.1.4")), [JINJA_ATTR_ADVISORY])
    assert [(f.advisory_id, f.component.version, f.fixed) for f in findings] == [
        ("GHSA-cpwx-vrp4-4pq7", "3.1.4", ("3.1.6",))]
    assert "CVE-2025-27516" in findings[0].line() and "fixed in 3.1.6" in findings[0].line()


def test_the_fixed_version_and_later_ones_are_not_reported():
    components = components_of(_sbom("pkg:pypi/jinja2@3.1.6", "pkg:pypi/jinja2@3.2.0"))
    assert audit(components, [JINJA_ATTR_ADVISORY]) == []


def test_the_installed_jinja2_is_checked_under_its_pypi_name():
    # The SBOM cyclonedx-py writes names the distribution "Jinja2"; OSV writes "jinja2" (PEP 503).
    current = installed_version("jinja2")
    components = components_of(_sbom(f"pkg:pypi/Jinja2@{current}"))
    assert components == [Component("PyPI", "jinja2", current)]
    still_open = {**JINJA_ATTR_ADVISORY, "affected": [
        {"package": {"ecosystem": "PyPI", "name": "Jinja2"},
         "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "3.0.0"}]}]}]}
    assert len(audit(components, [still_open])) == 1
    assert audit(components, [JINJA_ATTR_ADVISORY]) == []  # the pinned version carries the fix


def test_last_affected_versions_lists_and_withdrawn_records():
    component = components_of(_sbom("pkg:npm/htmx.org@2.0.11"))
    last_affected = {"id": "A", "affected": [{"package": {"ecosystem": "npm", "name": "htmx.org"},
                     "ranges": [{"type": "SEMVER", "events": [{"introduced": "2.0.0"}, {"last_affected": "2.0.11"}]}]}]}
    listed = {"id": "B", "affected": [{"package": {"ecosystem": "npm", "name": "htmx.org"}, "versions": ["2.0.11"]}]}
    withdrawn = {**listed, "id": "C", "withdrawn": "2026-01-01T00:00:00Z"}
    later = {"id": "D", "affected": [{"package": {"ecosystem": "npm", "name": "htmx.org"},
             "ranges": [{"type": "SEMVER", "events": [{"introduced": "2.0.12"}]}]}]}
    other_ecosystem = {"id": "E", "affected": [{"package": {"ecosystem": "PyPI", "name": "htmx.org"}, "versions": ["2.0.11"]}]}
    assert [f.advisory_id for f in audit(component, [last_affected, listed, withdrawn, later, other_ecosystem])] == ["A", "B"]


def test_a_range_it_cannot_order_falls_back_to_the_versions_list():
    odd = {"id": "F", "affected": [{"package": {"ecosystem": "PyPI", "name": "jinja2"}, "versions": ["3.1.4"],
           "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "not a version"}]},
                      {"type": "ECOSYSTEM", "events": [{"introduced": "0", "fixed": "1"}]},
                      {"type": "GIT", "events": [{"introduced": "abc123"}]}]}]}
    assert [f.advisory_id for f in audit(components_of(_sbom("pkg:pypi/jinja2@3.1.4")), [odd])] == ["F"]
    assert audit(components_of(_sbom("pkg:pypi/jinja2@3.1.6")), [odd]) == []


def test_components_without_an_auditable_purl_are_left_out():
    sbom = _sbom("pkg:pypi/jinja2@3.1.6", "pkg:golang/x@1", "not a purl")
    sbom["components"].append({"name": "no purl"})
    sbom["components"][0]["components"] = [{"purl": "pkg:pypi/markupsafe@3.0.2"}]
    assert {c.name for c in components_of(sbom)} == {"jinja2", "markupsafe"}


def test_the_command_reads_a_zip_and_exits_1_on_findings(tmp_path, capsys):
    sbom = tmp_path / "sbom.json"
    sbom.write_text(json.dumps(_sbom("pkg:pypi/jinja2@3.1.4")))
    archive = tmp_path / "PyPI.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("GHSA-cpwx-vrp4-4pq7.json", json.dumps(JINJA_ATTR_ADVISORY))
    assert main([str(sbom), str(archive)]) == 1
    assert "1 findings" in capsys.readouterr().out
    folder = tmp_path / "osv"
    folder.mkdir()
    (folder / "a.json").write_text(json.dumps(JINJA_ATTR_ADVISORY))
    sbom.write_text(json.dumps(_sbom("pkg:pypi/jinja2@3.1.6")))
    assert main([str(sbom), str(folder)]) == 0
    assert len(list(read_advisories(folder))) == 1


@pytest.mark.parametrize("sbom_text", ["{not json", "[]"])
def test_unusable_input_exits_2_with_a_reason(tmp_path, capsys, sbom_text):
    sbom = tmp_path / "sbom.json"
    sbom.write_text(sbom_text)
    assert main([str(sbom), str(tmp_path)]) == 2
    assert "cannot read its input" in capsys.readouterr().err


def test_a_missing_advisory_database_exits_2(tmp_path, capsys):
    sbom = tmp_path / "sbom.json"
    sbom.write_text(json.dumps(_sbom("pkg:pypi/jinja2@3.1.6")))
    assert main([str(sbom), str(tmp_path / "missing.zip")]) == 2
    assert "neither a folder nor a zip" in capsys.readouterr().err


def test_the_npm_packages_of_the_lock_file_enter_the_sbom():
    lock = json.loads((REPO_ROOT / "package-lock.json").read_text())
    components = {c["name"]: c for c in npm_components(lock)}
    htmx = components["htmx.org"]
    assert htmx["purl"] == f"pkg:npm/htmx.org@{lock['packages']['node_modules/htmx.org']['version']}"
    assert htmx["scope"] == "required"
    assert htmx["hashes"][0]["alg"] == "SHA-512" and len(htmx["hashes"][0]["content"]) == 128
    assert components["@backstage/catalog-client"]["scope"] == "optional"
    assert components["@backstage/catalog-client"]["purl"].startswith("pkg:npm/%40backstage/catalog-client@")
    assert {c.name for c in components_of({"bomFormat": "CycloneDX", "components": list(components.values())})} >= {"htmx.org", "@backstage/catalog-client"}
