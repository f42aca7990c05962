"""The `flowport` command in-process: migrate, catalog validate, catalog import, and readable errors."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlmodel import Session
from typer.testing import CliRunner

from portal.catalog.models import CatalogEntity
from portal.cli import app

REPO_ROOT = Path(__file__).resolve().parent.parent

GOOD_CATALOG = {
    "org.yaml": """\
apiVersion: backstage.io/v1alpha1
kind: Group
metadata:
  name: team-a
spec:
  type: team
  children: []
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata:
  name: ada
spec:
  memberOf: [team-a]
""",
    "software/service.yaml": """\
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: billing-api
spec:
  type: service
  lifecycle: production
  owner: group:team-a
""",
}

BROKEN_COMPONENT = """\
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: good-one
spec:
  type: service
  lifecycle: production
  owner: team-a
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: no-owner
spec:
  type: service
  lifecycle: production
"""


def write_tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def run_cli(args: list[str], env: dict[str, str | None] | None = None):
    """Invoke the CLI in-process with only the FLOWPORT_* variables given here."""
    isolated: dict[str, str | None] = {key: None for key in os.environ if key.startswith("FLOWPORT_")}
    isolated.update(env or {})
    return CliRunner().invoke(app, args, env=isolated)


def count_entities(engine) -> int:  # noqa: ANN001
    with Session(engine) as session:
        return session.execute(select(func.count()).select_from(CatalogEntity)).scalar_one()


# --- migrate -----------------------------------------------------------------------------------


def test_migrate_creates_the_schema_in_a_fresh_data_dir_then_reports_it_current(tmp_path):
    env = {"FLOWPORT_DATA_DIR": str(tmp_path / "fresh")}

    first = run_cli(["migrate"], env)
    second = run_cli(["migrate"], env)

    assert first.exit_code == 0, first.output
    assert (tmp_path / "fresh" / "flowport.db").is_file()
    assert re.search(r"Migrated sqlite:///.*flowport\.db from an empty database to revision \w+", first.stdout)
    assert "already at revision" in second.stdout


def test_migrate_on_the_test_database_is_a_no_op(database_url, engine):
    result = run_cli(["migrate"], {"FLOWPORT_DATABASE_URL": database_url})

    assert result.exit_code == 0, result.output
    assert "already at revision" in result.stdout


def test_unreachable_database_is_one_line_without_password_or_traceback():
    url = "postgresql://flowport:s3cret@127.0.0.1:1/flowport"

    result = run_cli(["migrate"], {"FLOWPORT_DATABASE_URL": url})

    assert result.exit_code == 1
    assert result.stderr.startswith("Error: database postgresql://flowport:***@127.0.0.1:1/flowport failed:")
    assert "s3cret" not in result.output
    assert "Traceback" not in result.output
    assert len(result.stderr.strip().splitlines()) == 1


def test_invalid_setting_names_the_variable(tmp_path):
    result = run_cli(["migrate"], {"FLOWPORT_PORT": "eighty", "FLOWPORT_DATA_DIR": str(tmp_path)})

    assert result.exit_code == 2
    assert "FLOWPORT_PORT" in result.stderr


# --- catalog validate --------------------------------------------------------------------------


def test_validate_good_folder_exits_0_with_a_summary(tmp_path):
    root = write_tree(tmp_path / "catalog", GOOD_CATALOG)

    result = run_cli(["catalog", "validate", str(root)])

    assert result.exit_code == 0, result.output
    assert result.stdout.strip().splitlines()[-1] == "All 3 entities in 2 files are valid"


def test_validate_the_bundled_demo_catalog_is_clean():
    result = run_cli(["catalog", "validate", str(REPO_ROOT / "catalog"), str(REPO_ROOT / "templates")])

    assert result.exit_code == 0, result.output
    assert re.fullmatch(r"All \d+ entities in \d+ files are valid", result.stdout.strip().splitlines()[-1])


def test_validate_broken_file_prints_file_line_entity_field_message_and_exits_1(tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text(BROKEN_COMPONENT, encoding="utf-8")

    result = run_cli(["catalog", "validate", str(broken)])

    assert result.exit_code == 1, result.output
    lines = result.stdout.strip().splitlines()
    # The second document starts on line 10; its spec mapping (where owner is missing) on line 13.
    assert re.fullmatch(rf"{re.escape(str(broken))}:1[0-5]: component:default/no-owner: spec\.owner: .+", lines[0]), lines
    assert lines[-1] == "1 problem in 1 file"


def test_validate_missing_path_is_a_usage_error(tmp_path):
    result = run_cli(["catalog", "validate", str(tmp_path / "nope.yaml")])

    assert result.exit_code == 2
    assert "does not exist" in result.output


# --- catalog import ----------------------------------------------------------------------------


def test_import_folder_twice_is_idempotent(tmp_path, database_url, engine):
    root = write_tree(tmp_path / "catalog", GOOD_CATALOG)
    env = {"FLOWPORT_DATABASE_URL": database_url, "FLOWPORT_DATA_DIR": str(tmp_path / "data")}

    first = run_cli(["catalog", "import", str(root)], env)
    stored_after_first = count_entities(engine)
    second = run_cli(["catalog", "import", str(root)], env)

    assert first.exit_code == 0, first.output
    assert second.exit_code == 0, second.output
    assert stored_after_first >= 3
    assert count_entities(engine) == stored_after_first
    assert re.search(r"\b0 new, 0 updated, \d+ unchanged, 0 orphaned\), 0 errors", second.stdout), second.stdout


def test_import_reports_entity_errors_and_exits_1(tmp_path, database_url, engine):
    broken = tmp_path / "broken.yaml"
    broken.write_text(BROKEN_COMPONENT, encoding="utf-8")

    result = run_cli(["catalog", "import", str(broken)], {"FLOWPORT_DATABASE_URL": database_url})

    assert result.exit_code == 1, result.output
    assert re.search(rf"^  {re.escape(str(broken))}:\d+: component:default/no-owner: spec\.owner: ", result.stdout, re.M)
    assert "1 error" in result.stdout


def test_import_into_an_unmigrated_database_says_to_run_migrate(tmp_path):
    root = write_tree(tmp_path / "catalog", GOOD_CATALOG)

    result = run_cli(["catalog", "import", str(root)], {"FLOWPORT_DATA_DIR": str(tmp_path / "empty")})

    assert result.exit_code == 1
    assert "run `flowport migrate` first" in result.stderr


def test_import_missing_path_is_a_usage_error(tmp_path, database_url):
    result = run_cli(["catalog", "import", str(tmp_path / "nope")], {"FLOWPORT_DATABASE_URL": database_url})

    assert result.exit_code == 2
    assert "no such file or folder" in result.stderr


def test_import_shows_how_many_entities_it_has_loaded_without_a_redraw_thread(tmp_path, database_url, engine,
                                                                             monkeypatch):
    import threading

    from portal import cli_progress

    root = write_tree(tmp_path / "catalog", GOOD_CATALOG)
    threads_seen: list[int] = []
    original_update = cli_progress.ManualProgress.update

    def update(self, task, **changes):
        threads_seen.append(threading.active_count())
        return original_update(self, task, **changes)

    monkeypatch.setattr(cli_progress.ManualProgress, "update", update)
    before = threading.active_count()
    result = run_cli(["catalog", "import", str(root)], {"FLOWPORT_DATABASE_URL": database_url, "COLUMNS": "300",
                                                       "FLOWPORT_DATA_DIR": str(tmp_path / "data")})

    assert result.exit_code == 0, result.output
    assert re.search(rf"Importing file:{re.escape(str(root))}.* 3 entities", result.stderr), result.stderr
    assert threads_seen and max(threads_seen) == before  # redrawn by the importing thread itself
