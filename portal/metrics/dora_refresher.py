"""Keeps the DORA rollup current in the background, so reads rarely have a component to rebuild:
components whose links changed in the flow data are rebuilt from where they changed, components no
one has read yet are built a batch at a time, and the consumed part of the change log is deleted.
The same loop derives the passes of requests whose product's value stream changed or that were never
derived (portal/requests/passes.py), so the value stream map's reads rarely have any to derive."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.engine import Engine
from sqlmodel import Session

from portal.background import BackgroundLoop
from portal.catalog.models import CatalogEntity, CatalogSearch
from portal.logging_setup import get_logger
from portal.flow.link_changes import FlowLinkChange, latest_change_id
from portal.flow.query import ANNOTATION_KEY_PREFIX
from portal.metrics.dora_rollup import Plan, apply, bring_up_to_date, compact_change_log, exclude_rollup_writers
from portal.metrics.dora_rollup_models import DoraRollupState
from portal.metrics.entities import component_links
from portal.requests.passes import refresh_request_passes

log = get_logger(__name__)
# Components brought up to date per transaction: a rebuild holds SQLite's write lock while it runs.
BATCH = 50


def _components():  # noqa: ANN202 - a select
    return select(CatalogEntity.entity_ref).where(func.lower(CatalogEntity.kind) == "component")


def _chunks(refs: list[str], size: int = BATCH) -> Iterable[list[str]]:
    for start in range(0, len(refs), size):
        yield refs[start:start + size]


def _touched_components(session: Session, latest: int) -> list[str]:
    """Built components with a link the change log names after what they consumed (up to `latest`)."""
    oldest = session.execute(select(func.min(DoraRollupState.consumed_change_id))).scalar_one()
    if oldest is None or oldest >= latest:
        return []
    links = session.execute(select(FlowLinkChange.link_annotation, FlowLinkChange.link_value).distinct()
                            .where(FlowLinkChange.id > oldest, FlowLinkChange.id <= latest)).all()
    touched: set[str] = set()
    for start in range(0, len(links), 500):
        touched.update(session.execute(
            select(CatalogEntity.entity_ref).join(CatalogSearch, CatalogSearch.entity_uid == CatalogEntity.uid)
            .join(DoraRollupState, DoraRollupState.component_ref == CatalogEntity.entity_ref)
            .where(or_(*(and_(CatalogSearch.key == ANNOTATION_KEY_PREFIX + annotation, CatalogSearch.value == value)
                         for annotation, value in links[start:start + 500])),
                   DoraRollupState.consumed_change_id < latest)).scalars())
    return sorted(touched)


def refresh_round(engine: Engine, *, new_components: int = BATCH) -> int:
    """Bring the built components the change log touched up to date, mark the others current, build up
    to `new_components` unbuilt ones and compact the change log; returns components rebuilt or built."""
    with Session(engine) as session:
        latest = latest_change_id(session)
        touched = _touched_components(session, latest)
        unbuilt = list(session.execute(
            _components().where(CatalogEntity.entity_ref.not_in(select(DoraRollupState.component_ref)))
            .order_by(CatalogEntity.entity_ref).limit(new_components)).scalars())
    done = 0
    for chunk in [*_chunks(touched), *_chunks(unbuilt)]:
        with Session(engine) as session:
            links = component_links(session, chunk)
            # Waits for writers in flight: a fallback below `latest` would leave touched components behind
            # `latest` while the others are advanced to it.
            bring_up_to_date(session, links, advance=True, wait_for_writers=True)
            session.commit()
            done += len(links)
    with Session(engine) as session:
        # Only with no rollup write in flight (else the next round does it): a first build in flight has a
        # state row no one else sees yet, and may have read its records before changes up to `latest`.
        if exclude_rollup_writers(session):
            _mark_untouched_current(session, latest)
            compact_change_log(session, latest)
        session.commit()
    return done


def _mark_untouched_current(session: Session, latest: int) -> None:
    """Built components no change up to `latest` touched are current up to there: say so."""
    # Listed again rather than taken from the start of the round: a component whose first build was in
    # flight then, and committed since, is not on that list, yet changes after its build may touch it.
    behind = _touched_components(session, latest)
    untouched = DoraRollupState.consumed_change_id < latest
    if behind:
        untouched = and_(untouched, DoraRollupState.component_ref.not_in(behind))
    session.execute(update(DoraRollupState).where(untouched).values(consumed_change_id=latest))


def rebuild_all(engine: Engine, progress: Callable[[int, int], None] = lambda done, total: None) -> int:
    """Rebuild every component of the catalog from its records (`flowport metrics rebuild`); returns
    sample rows written."""
    with Session(engine) as session:
        refs = list(session.execute(_components().order_by(CatalogEntity.entity_ref)).scalars())
    written, done = 0, 0
    progress(0, len(refs))
    for chunk in _chunks(refs):
        with Session(engine) as session:
            links = component_links(session, chunk)
            latest = latest_change_id(session)
            for ref, found in links.items():
                written += apply(session, Plan(ref, tuple(found), None), latest, force=True)
            session.commit()
        done += len(chunk)
        progress(done, len(refs))
    return written


class DoraRollupRefresher(BackgroundLoop):
    """Runs refresh_round every `interval` seconds (sooner again while unbuilt components remain)."""

    thread_name = "dora-rollup-refresher"

    def __init__(self, engine: Engine, interval: float = 30.0) -> None:
        super().__init__()
        self.engine = engine
        self.interval = interval

    def round(self) -> int:
        # The requests' derived passes ride along: same cadence, same kind of work (requests/passes.py).
        return refresh_round(self.engine) + refresh_request_passes(self.engine)

    def pause_after(self, done: int) -> float:
        return self.interval
