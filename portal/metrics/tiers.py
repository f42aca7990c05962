"""DORA performance tiers (elite / high / medium / low) from the State of DevOps reports' tables.

The reports describe each tier as a band ("between one day and one week") or, in 2023, as a cluster's
typical value (a 10 % change failure rate). Bands leave gaps (2021: nothing between "multiple deploys a
day" and "between once a week and once a month") and overlaps (2023: medium and low deploy equally
often). To give every value exactly one tier, each band is read as a limit: a value gets the best tier
whose limit it meets, and a value that meets no limit is low. docs/metrics.md lists the limits and the
report rows they come from.
"""

from __future__ import annotations

from dataclasses import dataclass

TIERS = ("elite", "high", "medium", "low")
BENCHMARKS = ("2023", "2021")
DEFAULT_BENCHMARK = "2023"

HOUR = 3_600
DAY = 24 * HOUR
WEEK = 7 * DAY
# A month is 30 days and six months 180, so "once per month" is 7/30 deployments a week.
MONTH = 30 * DAY
SIX_MONTHS = 6 * MONTH
ONCE_A_DAY = 7.0
ONCE_A_WEEK = 1.0
ONCE_A_MONTH = WEEK / MONTH
ONCE_IN_SIX_MONTHS = WEEK / SIX_MONTHS


@dataclass(frozen=True)
class Limit:
    """The edge of one tier's band: `strict` when the report says "less than" / "more than"."""

    tier: str
    value: float
    strict: bool = False


@dataclass(frozen=True)
class Scale:
    """The limits of one metric, best tier first; `higher_is_better` for deployment frequency."""

    limits: tuple[Limit, ...]
    higher_is_better: bool = False

    def tier_of(self, value: float | None) -> str | None:
        if value is None:
            return None
        for limit in self.limits:
            if self._meets(value, limit):
                return limit.tier
        return "low"

    def _meets(self, value: float, limit: Limit) -> bool:
        if self.higher_is_better:
            return value > limit.value if limit.strict else value >= limit.value
        return value < limit.value if limit.strict else value <= limit.value


# 2023 report ("Accelerate State of DevOps 2023", software delivery performance table).
_TABLE_2023 = {
    # elite: on demand (multiple deploys per day); high: once per day to once per week;
    # medium and low: once per week to once per month.
    "deploymentFrequency": Scale((Limit("elite", ONCE_A_DAY, strict=True), Limit("high", ONCE_A_WEEK),
                                  Limit("medium", ONCE_A_MONTH)), higher_is_better=True),
    # elite: less than one day; high: one day to one week; medium and low: one week to one month.
    "leadTimeForChanges": Scale((Limit("elite", DAY, strict=True), Limit("high", WEEK), Limit("medium", MONTH))),
    # Cluster values 5 %, 10 %, 15 %, 64 %.
    "changeFailureRate": Scale((Limit("elite", 0.05), Limit("high", 0.10), Limit("medium", 0.15))),
    # elite: less than one hour; high: less than one day; medium: one day to one week;
    # low: one month to six months.
    "recovery": Scale((Limit("elite", HOUR, strict=True), Limit("high", DAY, strict=True), Limit("medium", WEEK))),
}

# 2021 report ("Accelerate State of DevOps 2021", software delivery performance table).
_TABLE_2021 = {
    # elite: on demand; high: once per week to once per month; medium: once per month to once every
    # six months; low: fewer than once every six months.
    "deploymentFrequency": Scale((Limit("elite", ONCE_A_DAY, strict=True), Limit("high", ONCE_A_MONTH),
                                  Limit("medium", ONCE_IN_SIX_MONTHS)), higher_is_better=True),
    # elite: less than one hour; high: one day to one week; medium: one month to six months;
    # low: more than six months.
    "leadTimeForChanges": Scale((Limit("elite", HOUR, strict=True), Limit("high", WEEK),
                                 Limit("medium", SIX_MONTHS))),
    # elite: 0-15 %; high, medium and low: 16-30 % (so above 15 % is high, above 30 % low).
    "changeFailureRate": Scale((Limit("elite", 0.15), Limit("high", 0.30))),
    # Time to restore service. elite: less than one hour; high: less than one day; medium: one day to
    # one week; low: more than six months.
    "recovery": Scale((Limit("elite", HOUR, strict=True), Limit("high", DAY, strict=True), Limit("medium", WEEK))),
}

TABLES = {"2023": _TABLE_2023, "2021": _TABLE_2021}
# Both recovery metrics are tiered on the benchmark's recovery row (2023 failed deployment recovery
# time, 2021 time to restore service).
_ROW_OF_METRIC = {"failedDeploymentRecoveryTime": "recovery", "timeToRestore": "recovery"}


def tier(benchmark: str, metric: str, value: float | None) -> str | None:
    """The tier of `value` for a metric (`deploymentFrequency` per week, times in seconds, the
    failure rate as a ratio) in the benchmark's table; None without a value."""
    table = TABLES[benchmark]
    return table[_ROW_OF_METRIC.get(metric, metric)].tier_of(value)
