"""Import a request history (JSON Lines, one request a line) so a platform team starts with its past tickets.

Each line is checked on its own (`history_import_lines.py`) and written in a savepoint: a bad line is
reported with its number and the others are imported. The source's `id` is kept
(`request_import_keys`), so importing the same file again changes nothing. The caller owns the
transaction and commits as often as it likes (the CLI every few hundred lines).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import BinaryIO

from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlmodel import Session

from portal.requests.durations import duration_seconds_or_none
from portal.requests.history_import_lines import (
    MAX_LINE_BYTES,
    HistoryRecord,
    LineProblem,
    history_record,
    parse_line,
)
from portal.requests.history_import_models import RequestImportKey
from portal.requests.models import PUBLIC_ID_PREFIX, Request, RequestEvent, component_parameter
from portal.requests.offerings import Offering, capability_offering, product_offering
from portal.requests.passes import catalog_streams, derive_requests
from portal.requests.stages import first_delivery

IMPORTED, UNCHANGED, FAILED = "imported", "unchanged", "failed"


@dataclass(frozen=True)
class LineOutcome:
    line: int
    status: str
    message: str = ""
    request: str | None = None  # REQ-<id>


@dataclass
class ImportReport:
    """What an import did, line by line for the failures."""

    imported: int = 0
    unchanged: int = 0
    failures: list[LineOutcome] = field(default_factory=list)

    def add(self, outcome: LineOutcome) -> None:
        if outcome.status == IMPORTED:
            self.imported += 1
        elif outcome.status == UNCHANGED:
            self.unchanged += 1
        else:
            self.failures.append(outcome)


def numbered_lines(stream: BinaryIO) -> Iterator[tuple[int, bytes]]:
    """(line number, bytes) of each non-blank line; a line longer than MAX_LINE_BYTES is yielded cut
    short (one byte over the limit) without reading it all into memory, so it is reported, not loaded."""
    number = 0
    while True:
        raw = stream.readline(MAX_LINE_BYTES + 1)
        if not raw:
            return
        number += 1
        if len(raw) > MAX_LINE_BYTES and not raw.endswith(b"\n"):
            while (rest := stream.readline(MAX_LINE_BYTES + 1)) and not rest.endswith(b"\n"):
                pass  # skip the rest of the overlong line
        if raw.strip():
            yield number, raw.strip() if len(raw) <= MAX_LINE_BYTES else raw


class HistoryImporter:
    """Imports lines into one session, looking up each capability and product once."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._offerings: dict[tuple[str, str], Offering | None] = {}
        self._streams = catalog_streams(session)

    def _find(self, kind: str, ref: str) -> Offering | None:
        if (kind, ref) not in self._offerings:
            lookup = capability_offering if kind == "capability" else product_offering
            self._offerings[(kind, ref)] = lookup(self.session, ref)
        return self._offerings[(kind, ref)]

    def import_line(self, number: int, raw: bytes) -> LineOutcome:
        """Import one line; never raises for what the line holds."""
        try:
            record = history_record(parse_line(raw), self._find)
        except LineProblem as error:
            return LineOutcome(number, FAILED, str(error))
        known = self.session.get(RequestImportKey, record.source_id)
        if known is not None:
            return self._already_imported(number, record, known)
        try:
            with self.session.begin_nested():
                row = _store(self.session, record)
                derive_requests(self.session, [row.id], self._streams)
        except IntegrityError:
            return LineOutcome(number, FAILED, f"id {record.source_id!r} was imported at the same time by another "
                                               "import; run the import again")
        except SQLAlchemyError as error:
            return LineOutcome(number, FAILED, f"the database refused it: {str(error).splitlines()[0][:200]}")
        return LineOutcome(number, IMPORTED, request=row.public_id)

    def import_lines(self, lines: Iterable[tuple[int, bytes]]) -> ImportReport:
        report = ImportReport()
        for number, raw in lines:
            report.add(self.import_line(number, raw))
        return report

    @staticmethod
    def _already_imported(number: int, record: HistoryRecord, known: RequestImportKey) -> LineOutcome:
        public_id = f"{PUBLIC_ID_PREFIX}{known.request_id}"
        if known.content_digest == record.digest:
            return LineOutcome(number, UNCHANGED, request=public_id)
        return LineOutcome(number, FAILED, f"id {record.source_id!r} was imported before as {public_id} from other "
                                           "content; it is left as it was (imported requests are not updated)",
                           request=public_id)


def _lead_time_ended_at(record: HistoryRecord) -> datetime | None:
    """As the portal keeps it: the first arrival at delivery or an end, cleared when reopened before delivery."""
    stream = record.offering.value_stream(record.kind)
    ended = None
    for event in record.events[1:]:
        ended = (ended or event.at) if stream.ends_lead_time(event.to_stage) else None
    return ended


def _store(session: Session, record: HistoryRecord) -> Request:
    last = record.events[-1]
    offering = record.offering
    row = Request(kind=record.kind, title=record.title, description=record.description,
                  capability_ref=offering.capability_ref, product_ref=offering.product_ref,
                  requester_ref=record.requester, stage=last.to_stage, flow_item_type=record.flow_item_type,
                  created_at=record.created_at, updated_at=last.at, lead_time_ended_at=_lead_time_ended_at(record),
                  delivered_at=first_delivery((event.at, event.to_stage) for event in record.events),
                  parameters=record.parameters if record.kind == "order" else None,
                  component_parameter=component_parameter(record.parameters) if record.kind == "order" else None)
    if record.kind == "order":
        row.target_lead_time = offering.target_lead_time
        row.target_lead_time_seconds = duration_seconds_or_none(offering.target_lead_time)
    if record.value is not None:
        row.value_rating = record.value["rating"]
        row.value_time_saved = record.value["timeSaved"]
        row.value_time_saved_seconds = record.value["timeSavedSeconds"]
        row.value_comment = record.value["comment"]
        row.value_confirmed_at = last.at
    session.add(row)
    session.flush()
    session.add_all([RequestEvent(request_id=row.id, at=event.at, actor=event.actor, from_stage=event.from_stage,
                                  to_stage=event.to_stage, source=event.source, note=event.note,
                                  work_time_seconds=event.work_time_seconds, is_rework=event.is_rework)
                     for event in record.events])
    session.add(RequestImportKey(source_id=record.source_id, request_id=row.id, content_digest=record.digest,
                                 imported_at=datetime.now(UTC)))
    session.flush()
    return row
