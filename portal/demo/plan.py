"""The shape of the demo year: each team's delivery profile, and when each component adopted each capability.

Teams differ on purpose, so the DORA tiers spread from elite to low, and the components that adopt a
delivery capability (the CI pipeline, progressive delivery) get better after adopting it, which is what
the before/after adoption comparison should show."""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from portal.demo.organisation import Organisation


@dataclass(frozen=True)
class Profile:
    """How a team delivers: production deployments a week, the median hours from first commit to
    production, the share of deployments that cause an incident, and the median hours to recover."""

    name: str
    deploys_per_week: float
    lead_time_hours: float
    failure_rate: float
    recovery_hours: float


# Each inside its tier of the DORA 2023 report's table (deployment frequency: several a day, daily to
# weekly, weekly to monthly, less than monthly; lead time: under a day, a day to a week, a week to a
# month, one to six months; change failure rate 5, 10, 15, 64 %; recovery under an hour, under a day,
# a day to a week, a week to a month), so the tiers the metrics compute spread over all four.
ELITE = Profile("elite", 12, 6, 0.04, 0.7)
HIGH = Profile("high", 3, 40, 0.09, 5)
MEDIUM = Profile("medium", 0.6, 14 * 24, 0.16, 48)
LOW = Profile("low", 0.15, 60 * 24, 0.4, 12 * 24)
# Before adoption -> after adopting a delivery capability; teams not listed are medium throughout.
TEAM_PROFILES = {
    "group:default/team-developer-experience": (ELITE, ELITE),
    "group:default/team-shipments": (HIGH, ELITE),
    "group:default/team-tracking": (MEDIUM, HIGH),
    "group:default/team-site-reliability": (HIGH, HIGH),
    "group:default/team-billing": (MEDIUM, MEDIUM),
    "group:default/team-warehouse": (LOW, LOW),
}
DELIVERY_CAPABILITIES = ("capability:default/ci-pipeline", "capability:default/progressive-delivery")


def profiles_for(owner: str | None) -> tuple[Profile, Profile]:
    return TEAM_PROFILES.get(owner or "", (MEDIUM, MEDIUM))


@dataclass(frozen=True)
class DemoYear:
    """The seeding window [start, until) and the seed everything random is drawn from."""

    seed: int
    start: datetime
    until: datetime

    def rng(self, *parts: object) -> random.Random:
        """A generator of its own per purpose, so adding data for one component never shifts another's.
        Text seeds are hashed with SHA-512 by `random`, so they do not depend on PYTHONHASHSEED."""
        return random.Random(":".join(str(part) for part in (self.seed, *parts)))

    def at(self, share: float) -> datetime:
        return self.start + (self.until - self.start) * share


def adoption_plan(organisation: Organisation, year: DemoYear) -> dict[tuple[str, str], datetime]:
    """(component, capability) -> when its order was delivered: between a third and two thirds into the
    year, so there is a window of data on both sides to compare."""
    known = {capability.ref for capability in organisation.capabilities}
    plan = {}
    for component in organisation.components:
        for capability in component.uses:
            if capability in known:
                rng = year.rng("adoption", component.ref, capability)
                moment = year.at(rng.uniform(0.33, 0.66)).replace(second=0, microsecond=0)
                plan[(component.ref, capability)] = moment + timedelta(hours=rng.randint(9, 16) - moment.hour)
    return plan


def delivery_adoption(component_ref: str, plan: dict[tuple[str, str], datetime]) -> datetime | None:
    """When the component first adopted a delivery capability, if it did."""
    moments = [plan[(component_ref, ref)] for ref in DELIVERY_CAPABILITIES if (component_ref, ref) in plan]
    return min(moments) if moments else None


def scaled(profile: Profile, factor: float) -> Profile:
    """A component's own pace within its team's profile."""
    return replace(profile, deploys_per_week=profile.deploys_per_week * factor)
