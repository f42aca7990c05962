"""How demo data is labelled, so people can tell it apart and `flowport demo --remove` finds all of it
and nothing else."""

from __future__ import annotations

# Flow records: the connection is `demo` and every id starts with `demo:` (real ids never do: they
# start with their tool's name), so a real connection of the same name is never touched.
DEMO_CONNECTION = "demo"
DEMO_ID_PREFIX = "demo:"
# Requests: the title says so, and the first event carries this note (both are checked on removal).
DEMO_TITLE_PREFIX = "[Demo] "
DEMO_NOTE = "Demo data seeded by `flowport demo`"


def demo_id(*parts: object) -> str:
    return DEMO_ID_PREFIX + ":".join(str(part) for part in parts)
