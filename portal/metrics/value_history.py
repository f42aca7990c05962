"""What a value report reads once for a set of capabilities, whatever its window: their figures from the
catalog, their adoptions with the adopters' owners, and when each team first had an order delivered.

A page that shows several windows (the trend against the previous one, the portfolio) reads this once
and each window only adds what happened inside it (portal/metrics/api_value.py, value_report)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from portal.metrics.deliveries import first_by_team
from portal.metrics.entities import Adoption, adopters
from portal.metrics.value import CapabilityInfo, capability_info, owners_of


@dataclass(frozen=True)
class ValueHistory:
    infos: list[CapabilityInfo]
    adoptions: list[Adoption]
    owners: dict[str, set[str]]  # the groups owning each adopting component
    # (capability, team, at): a member of the team first had an order of the capability delivered at `at`.
    team_firsts: list[tuple[str, str, datetime]]

    def restricted(self, capabilities: Iterable[str]) -> ValueHistory:
        """What value_history(capabilities) reads, for some of the capabilities this was read for."""
        wanted = set(capabilities)
        return ValueHistory([info for info in self.infos if info.ref in wanted], self.adoptions_of(wanted),
                            self.owners, [item for item in self.team_firsts if item[0] in wanted])

    def adoptions_of(self, capabilities: set[str]) -> list[Adoption]:
        return [item for item in self.adoptions if item.capability in capabilities]

    def team_events(self, capabilities: set[str]) -> list[tuple[datetime, str]]:
        """(at, team) for value.adoption: the teams that adopted any of the capabilities through an order."""
        return [(at, team) for capability, team, at in self.team_firsts if capability in capabilities]


def value_history(session: Session, capabilities: Iterable[str]) -> ValueHistory:
    """The window-free part of the value report of `capabilities`, in four queries."""
    capabilities = sorted(set(capabilities))
    adoptions = adopters(session, capabilities)
    # A team counts from its members' first delivered order: only the earliest per capability matters.
    return ValueHistory(capability_info(session, capabilities), adoptions,
                        owners_of(session, {item.component for item in adoptions}),
                        first_by_team(session, capabilities))
