"""What actions with side effects take from ActionServices: the settings, a database session, an outbound client."""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from sqlmodel import Session

from portal.net import guarded_client
from portal.scaffolder.actions.contract import ActionContext, ActionError, ActionServices


def services_of(ctx: ActionContext, action_id: str) -> ActionServices:
    """The run's services, or an ActionError saying the action needs the task runner."""
    if ctx.services is None:
        raise ActionError(f"{ctx.step_label}: {action_id} needs the portal's services (settings, database, "
                          "outbound HTTP) and runs only in a task, not here")
    return ctx.services


def settings_of(ctx: ActionContext, action_id: str) -> Any:
    return services_of(ctx, action_id).settings


@contextmanager
def action_session(ctx: ActionContext, action_id: str) -> Iterator[Session]:
    """A short session of the action's own, committed when the block ends without an error."""
    engine = services_of(ctx, action_id).engine
    if engine is None:
        raise ActionError(f"{ctx.step_label}: {action_id} needs the database, and this run has none")
    with Session(engine) as session:
        yield session
        session.commit()


@contextmanager
def outbound_client(ctx: ActionContext, action_id: str, timeout: float) -> Iterator[httpx.Client]:
    """The run's outbound client (`services.http(timeout)`, or an httpx.Client passed as is), else a guarded
    client of our own; clients we build are closed when the block ends."""
    services = services_of(ctx, action_id)
    factory = services.http
    if isinstance(factory, httpx.Client):
        yield factory
        return
    if factory is not None:
        # The runner's factory may take the timeout or nothing (it then brings its own).
        client = factory(timeout) if _takes_an_argument(factory) else factory()
    else:
        client = guarded_client(timeout, services.settings.url_allow_private_networks)
    try:
        yield client
    finally:
        client.close()


def _takes_an_argument(factory: Any) -> bool:
    try:
        parameters = inspect.signature(factory).parameters.values()
    except (TypeError, ValueError):
        return True
    return any(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.VAR_POSITIONAL) for p in parameters)
