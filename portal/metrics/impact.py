"""The impact view: each adopting component's DORA metrics in equal windows before and after it adopted a
capability, with sample sizes and plain-language caveats where the numbers cannot carry a conclusion."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlmodel import Session

from portal.errors import CatalogApiError
from portal.flow.query import iso
from portal.metrics.api_dora import dora_of_each
from portal.metrics.dora import METRICS
from portal.metrics.entities import Adoption
from portal.metrics.window import Window
from portal.requests.durations import DurationError, parse_duration

DEFAULT_WINDOW = timedelta(days=90)
MAX_WINDOW = timedelta(days=365)
MIN_WINDOW = timedelta(days=1)
# Fewer deployments than this on either side and a difference says more about chance than adoption.
SMALL_SAMPLE = 10
MAX_COMPONENTS = 200
# Which way is better for each metric: deploying more often, everything else shorter or rarer.
HIGHER_IS_BETTER = {"deploymentFrequency"}


def window_length_from_query(value: str | None) -> timedelta:
    """Days (`90`) or an ISO-8601 duration (`P90D`, `P12W`) between 1 and 365 days; else a 400."""
    if value is None or not value.strip():
        return DEFAULT_WINDOW
    text = value.strip()
    try:
        seconds = int(text) * 86_400 if text.isascii() and text.isdigit() and len(text) <= 6 else parse_duration(text)
    except DurationError as error:
        raise CatalogApiError(400, f"window={value[:40]!r}: give days (90) or an ISO-8601 duration (P90D); "
                                   f"{error}") from None
    length = timedelta(seconds=seconds)
    if not MIN_WINDOW <= length <= MAX_WINDOW:
        raise CatalogApiError(400, f"window={value[:40]!r} must be between 1 and 365 days")
    return length


def caveats(before: dict, after: dict, adoption: Adoption, after_window: Window, now: datetime) -> list[str]:
    """What a reader should know before trusting the comparison, in plain words."""
    notes = []
    deployed_before = before["deploymentFrequency"]["samples"]
    deployed_after = after["deploymentFrequency"]["samples"]
    if min(deployed_before, deployed_after) < SMALL_SAMPLE:
        notes.append(f"Only {deployed_before} deployments before and {deployed_after} after adoption: with fewer "
                     f"than {SMALL_SAMPLE} on a side, a difference may be chance rather than the capability.")
    if after_window.end > now:
        notes.append(f"The after window runs until {iso(after_window.end)}, which is still ahead: its numbers "
                     "will change as more data arrives.")
    if adoption.source == "catalog":
        notes.append("No delivered order dates this adoption; it is dated by when the portal first stored the "
                     "component, which may be later or earlier than the real adoption.")
    return notes


def _direction(metric: str, before: float | None, after: float | None) -> str | None:
    if before is None or after is None:
        return None
    if after == before:
        return "unchanged"
    better = after > before if metric in HIGHER_IS_BETTER else after < before
    return "improved" if better else "worsened"


def impact_windows(adoption: Adoption, length: timedelta) -> tuple[Window, Window]:
    """The windows of `length` just before and just after the adoption."""
    return Window(adoption.at - length, adoption.at), Window(adoption.at, adoption.at + length)


def adopters_impact(session: Session, adoptions: Sequence[Adoption], length: timedelta, benchmark: str,
                    now: datetime) -> list[dict]:
    """component_impact of each adoption, every before and after window read in one batch (the caller
    brings the DORA rollup up to date for all the components it compares, once)."""
    windows = [impact_windows(adoption, length) for adoption in adoptions]
    metrics = dora_of_each(session, [(adoption.component, window) for adoption, sides in zip(adoptions, windows)
                                     for window in sides], benchmark)
    return [component_impact(adoption, sides, metrics[2 * index], metrics[2 * index + 1], now)
            for index, (adoption, sides) in enumerate(zip(adoptions, windows))]


def component_impact(adoption: Adoption, windows: tuple[Window, Window], before: dict, after: dict,
                     now: datetime) -> dict:
    """One component's metrics before and after adoption (in `windows`), the change in each, and caveats."""
    before_window, after_window = windows
    changes = {metric: {"difference": _difference(before[metric]["value"], after[metric]["value"]),
                        "direction": _direction(metric, before[metric]["value"], after[metric]["value"])}
               for metric in METRICS}
    return {"component": adoption.component, "adoptedAt": iso(adoption.at), "adoptionSource": adoption.source,
            "before": {**before_window.iso(), **before}, "after": {**after_window.iso(), **after},
            "change": changes, "caveats": caveats(before, after, adoption, after_window, now)}


def _difference(before: float | None, after: float | None) -> float | None:
    return after - before if before is not None and after is not None else None


def summary(components: list[dict]) -> dict:
    """Per metric: how many components improved, worsened or stayed level (those with values on both sides)."""
    counted = {}
    for metric in METRICS:
        directions = [item["change"][metric]["direction"] for item in components]
        counted[metric] = {"compared": sum(1 for d in directions if d is not None),
                           **{word: directions.count(word) for word in ("improved", "worsened", "unchanged")}}
    return counted


def summary_caveat(components: list[dict]) -> str | None:
    """A warning when too few components can be compared for the summary to say anything general."""
    comparable = sum(1 for item in components if not any(note.startswith("Only ") for note in item["caveats"]))
    if comparable < 3:
        return (f"{comparable} of {len(components)} adopting components have at least {SMALL_SAMPLE} deployments "
                "on both sides of adoption: read the summary as anecdotes, not as the capability's effect.")
    return None
