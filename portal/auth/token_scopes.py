"""What each API-token scope allows: scopes only narrow what the token's identity may do."""

from __future__ import annotations

# `read` is enough for reads; `request` also for what an application team does with requests
# (raise, vote, confirm value); everything else — approvals aside, changes to the catalog,
# connections, deliveries, tokens — needs `admin` (and the identity's own rights besides).
_REQUEST_ACTIONS = ("requests.",)


def required_scope(action: str) -> str:
    if action.endswith(".read"):
        return "read"
    if action.startswith(_REQUEST_ACTIONS):
        return "request"
    return "admin"


def scope_refusal(scopes: tuple[str, ...] | None, action: str) -> str | None:
    """Why a token with `scopes` may not perform `action`, or None (also for callers without a token)."""
    if scopes is None or "admin" in scopes:
        return None
    needed = required_scope(action)
    if needed in scopes or (needed == "read" and "request" in scopes):
        return None
    return f"this API token's scopes ({', '.join(scopes)}) do not allow {action}; it needs the {needed} scope"
