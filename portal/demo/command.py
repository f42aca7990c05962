"""What `flowport demo` does beyond loading the catalog: seed, keep or remove the demo year, saying so."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from sqlmodel import Session

from portal.demo.seed import DemoError, demo_counts, demo_year, remove_demo, seed_demo


def parse_until(text: str | None) -> datetime | None:
    """`--until 2026-12-01`: the day the demo year ends (exclusive), for reproducible data."""
    if text is None:
        return None
    try:
        return datetime.strptime(text.strip(), "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        raise DemoError(f"--until must be a date like 2026-12-01, not {text[:40]!r}") from None


def run_demo_data(session: Session, *, seed: int, days: int, until: str | None, flow_data: bool,
                  requests: bool, remove: bool, keep_existing: bool, echo: Callable[[str], None]) -> None:
    """Remove, keep or (re)seed the demo data; the caller commits."""
    if remove:
        removed = remove_demo(session)
        echo(f"Removed the demo data: {_rows(removed)}")
        return
    if not flow_data and not requests:
        echo("Skipped the demo flow data and requests (--no-flow-data --no-requests)")
        return
    if keep_existing and sum(demo_counts(session).values()):
        echo("Demo data is already present; kept it (run `flowport demo` without --keep-existing to re-seed)")
        return
    year = demo_year(seed, days, parse_until(until))
    echo(f"Seeding demo data (seed {seed}) from {year.start:%Y-%m-%d} until {year.until:%Y-%m-%d} …")
    summary = seed_demo(session, year, flow_data=flow_data, requests=requests, progress=echo)
    parts = []
    if flow_data:
        parts.append(f"{summary.total_flow_records} flow records ({_rows(summary.flow_records)})")
    if requests:
        parts.append(f"{summary.orders} orders and {summary.ideas} ideas")
    echo(f"Seeded {' and '.join(parts)}, all labelled demo; remove them with `flowport demo --remove`")


def _rows(counts: dict[str, int]) -> str:
    shown = [f"{count} {name}" for name, count in counts.items() if count]
    return ", ".join(shown) if shown else "nothing to remove"
