"""Who may do what to a request: every rule in one place, each after the portal-wide `authorize()` gate.

Deciding takes membership of the capability's `fulfillment.approvers` group; moving a request takes
the capability's or the product's owner group (a requester may also cancel their own request);
confirming value takes being the requester. Where the policy allows anonymous changes (development
and tests), an anonymous caller passes every rule, as it passes `authorize()`.
"""

from __future__ import annotations

from fastapi import HTTPException, Request as HttpRequest

from portal.auth.identity import Identity, authorize
from portal.requests.models import ANONYMOUS_ACTOR, Request
from portal.requests.offerings import Offering

CANCELLED = "cancelled"


def actor_of(user: Identity) -> str:
    """The ref stored as requester, actor, voter or author."""
    return user.user_ref or ANONYMOUS_ACTOR


def _anonymous_allowed(http: HttpRequest, user: Identity) -> bool:
    return not user.is_authenticated and bool(getattr(http.app.state.policy, "allow_anonymous_changes", False))


def _member_of(user: Identity, group: str) -> bool:
    return group in user.ownership_refs


def may_decide(user: Identity, offering: Offering) -> bool:
    """Whether `user` is in the approvers group (pages use it to show or hide the buttons)."""
    return offering.approvers is not None and _member_of(user, offering.approvers)


def may_move(user: Identity, offering: Offering) -> bool:
    """Whether `user` is in one of the owner groups that move requests on."""
    return any(_member_of(user, owner) for owner in offering.owners)


def check_may_create(http: HttpRequest, user: Identity, what: str) -> None:
    """Raising a request, voting or commenting: anyone signed in (`what` is `request`, `vote`, `comment`)."""
    authorize(http, user, f"requests.{what}.create", None)


def check_may_decide(http: HttpRequest, user: Identity, request: Request, offering: Offering) -> None:
    authorize(http, user, "requests.decision.create", request.public_id)
    if _anonymous_allowed(http, user):
        return
    approvers = offering.approvers
    if approvers is None:
        raise HTTPException(403, f"{request.capability_ref} names no fulfillment.approvers group, "
                                 f"so nobody may decide on {request.public_id}")
    if not _member_of(user, approvers):
        raise HTTPException(403, f"Only members of {approvers} may decide on {request.public_id}; "
                                 f"{user.display_name} is not one")


def check_may_transition(http: HttpRequest, user: Identity, request: Request, offering: Offering,
                         target: str) -> None:
    authorize(http, user, "requests.transition.create", request.public_id)
    if _anonymous_allowed(http, user):
        return
    if target == CANCELLED and request.requester_ref == user.user_ref:
        return  # people may withdraw their own requests
    owners = offering.owners
    if may_move(user, offering):
        return
    named = " or ".join(owners) if owners else "the owners of its capability or product (none are named)"
    raise HTTPException(403, f"Only members of {named} may move {request.public_id}; "
                             f"{user.display_name} is not one")


def check_may_confirm_value(http: HttpRequest, user: Identity, request: Request) -> None:
    authorize(http, user, "requests.value.create", request.public_id)
    if _anonymous_allowed(http, user):
        return
    if request.requester_ref != user.user_ref:
        raise HTTPException(403, f"Only the requester ({request.requester_ref}) may confirm the value of "
                                 f"{request.public_id}")


def check_may_link(http: HttpRequest, user: Identity, request: Request, offering: Offering) -> None:
    """Linking a request to its component or tracker item: the requester or the owners."""
    authorize(http, user, "requests.links.change", request.public_id)
    if _anonymous_allowed(http, user) or request.requester_ref == user.user_ref:
        return
    if any(_member_of(user, owner) for owner in offering.owners):
        return
    raise HTTPException(403, f"Only the requester or the owners of {request.capability_ref or request.product_ref} "
                             f"may link {request.public_id}; {user.display_name} is neither")
