"""`flowport demo` seeds, keeps, removes, and refuses bad options with a readable line."""

from __future__ import annotations

import os

import pytest
from sqlalchemy import func, select
from sqlmodel import Session
from typer.testing import CliRunner

from portal.cli import app
from portal.requests.models import Request


def run_demo(args: list[str], env: dict[str, str]):  # noqa: ANN201
    isolated: dict[str, str | None] = {key: None for key in os.environ if key.startswith("FLOWPORT_")}
    isolated.update(env)
    return CliRunner().invoke(app, ["demo", *args], env=isolated)


@pytest.fixture
def cli_env(database_url, engine, tmp_path) -> dict[str, str]:  # noqa: ANN001
    return {"FLOWPORT_DATABASE_URL": database_url, "FLOWPORT_DATA_DIR": str(tmp_path / "data")}


def _requests(engine) -> int:  # noqa: ANN001
    with Session(engine) as session:
        return session.execute(select(func.count()).select_from(Request)).scalar_one()


def test_seed_keep_and_remove(cli_env, engine) -> None:  # noqa: ANN001
    seeded = run_demo(["--until", "2026-12-01", "--days", "30", "--seed", "3"], cli_env)
    assert seeded.exit_code == 0, seeded.output
    assert "Seeding demo data (seed 3) from 2026-11-01 until 2026-12-01" in seeded.stdout
    assert "Writing" in seeded.stdout and "flow records for" in seeded.stdout
    assert "remove them with `flowport demo --remove`" in seeded.stdout
    count = _requests(engine)
    assert count > 0

    kept = run_demo(["--keep-existing"], cli_env)
    assert kept.exit_code == 0, kept.output
    assert "Demo data is already present; kept it" in kept.stdout
    assert _requests(engine) == count

    removed = run_demo(["--remove"], cli_env)
    assert removed.exit_code == 0, removed.output
    assert "Removed the demo data:" in removed.stdout and f"{count} requests" in removed.stdout
    assert _requests(engine) == 0


def test_skipping_both_seeds_nothing(cli_env, engine) -> None:  # noqa: ANN001
    result = run_demo(["--no-flow-data", "--no-requests"], cli_env)
    assert result.exit_code == 0, result.output
    assert "Skipped the demo flow data and requests" in result.stdout
    assert _requests(engine) == 0


@pytest.mark.parametrize(("args", "words"), [
    (["--days", "0"], "--days must be between 1 and"),
    (["--days", "99999999999999999999999"], "--days must be between 1 and"),
    (["--seed", "-5"], "--seed must be a whole number"),
    (["--until", "../../etc/passwd"], "--until must be a date like 2026-12-01"),
    (["--until", "2026-02-30"], "--until must be a date like 2026-12-01"),
    (["--until", "2026-01-01\x00"], "--until must be a date"),
])
def test_bad_options_get_one_readable_line(cli_env, args: list[str], words: str) -> None:  # noqa: ANN001
    result = run_demo(args, cli_env)
    assert result.exit_code == 2, result.output
    assert words in result.output
    assert "Traceback" not in result.output


def test_a_non_number_is_a_usage_error(cli_env) -> None:  # noqa: ANN001
    result = run_demo(["--days", "a year"], cli_env)
    assert result.exit_code == 2
    assert "Traceback" not in result.output
