"""The catalog's generation, and a cache of counts and facets that is only valid within one.

Counting 30,000 matches costs tens of milliseconds however well indexed, while the catalog changes
only when a location is refreshed; so an exact total or facet list is computed once per generation
and served from memory until the next write bumps the generation."""

from __future__ import annotations

import threading
import uuid
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import TypeVar

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlmodel import Session

from portal.catalog.models import CatalogGeneration

T = TypeVar("T")
MAX_ENTRIES = 1024


def bump_generation(session: Session) -> None:
    """Called in the transaction of every catalog write: readers of the old generation miss the cache."""
    # A fresh token per write, not just value + 1: a rolled-back write's generation must never
    # come back as the key of a later, different catalog.
    token = str(uuid.uuid4())
    bumped = session.execute(
        update(CatalogGeneration).where(CatalogGeneration.id == 1)
        .values(value=CatalogGeneration.value + 1, token=token)
    ).rowcount
    if bumped:
        return
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    session.execute(
        dialect.insert(CatalogGeneration).values(id=1, token=token, value=1)
        .on_conflict_do_update(index_elements=["id"], set_={"value": CatalogGeneration.value + 1, "token": token})
    )


def current_generation(session: Session) -> tuple[str, int] | None:
    """(token, value) of the catalog now, or None before the first write."""
    row = session.execute(
        select(CatalogGeneration.token, CatalogGeneration.value).where(CatalogGeneration.id == 1)
    ).first()
    return (row.token, row.value) if row else None


class GenerationCache:
    """A small LRU of results keyed by the generation and the question asked (one per engine)."""

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self._entries: OrderedDict[Hashable, object] = OrderedDict()
        self._lock = threading.Lock()
        self.max_entries = max_entries

    def get_or_compute(self, session: Session, question: Hashable, compute: Callable[[], T]) -> T:
        if self.max_entries <= 0:
            return compute()
        generation = current_generation(session)
        if generation is None:
            return compute()
        key = (generation, question)
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                return self._entries[key]  # type: ignore[return-value]
        value = compute()
        with self._lock:
            self._entries[key] = value
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
        return value


_CACHES: weakref.WeakKeyDictionary[Engine, GenerationCache] = weakref.WeakKeyDictionary()
_CACHES_LOCK = threading.Lock()


def install_cache(engine: Engine, max_entries: int = MAX_ENTRIES) -> GenerationCache:
    """Give `engine` a cache of this size (0: none); an app does this once, for its own engine."""
    with _CACHES_LOCK:
        cache = _CACHES[engine] = GenerationCache(max_entries)
        return cache


def cache_for(session: Session) -> GenerationCache:
    """The cache of the session's engine (each app has its own engine, so its own cache)."""
    engine = session.get_bind()
    with _CACHES_LOCK:
        cache = _CACHES.get(engine)
        if cache is None:
            cache = _CACHES[engine] = GenerationCache()
        return cache


def cached(session: Session, question: Hashable, compute: Callable[[], T]) -> T:
    """`compute()` once per catalog generation for this question."""
    return cache_for(session).get_or_compute(session, question, compute)
