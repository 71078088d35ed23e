"""Captures kept in the vault's encrypted DB: pages as fetched, and every look at a found copy.

Times here are UTC (naive in the DB, aware in the dataclasses); the rest of the DB keeps local
wall-clock times. A copy keeps its first capture (what was there when it was found) and its
newest `MAX_CAPTURES_PER_COPY - 1`: a copy re-seen by a daily scan for years stays bounded.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from peewee import JOIN

from ..db import CopyCapture, PageCapture
from .capture import Capture, PageSnapshot

MAX_CAPTURES_PER_COPY = 20


@dataclass(frozen=True)
class StoredCapture:
    """A capture as the vault keeps it, with the page it was found on (None: an image address
    or a file scanned directly, or a page capture since dropped)."""

    id: int
    match_id: int
    capture: Capture
    page_id: int | None


@dataclass(frozen=True)
class StoredPage:
    """A page capture without its HTML (`page_html` reads that)."""

    id: int
    url: str
    final_url: str | None
    http_status: int
    server_date: str | None
    fetched_at: datetime  # UTC, aware
    sha256: str
    size_bytes: int
    truncated: bool  # only the first capture.MAX_CAPTURED_HTML bytes were kept


def _to_db(moment: datetime | None) -> datetime | None:
    return moment.astimezone(UTC).replace(tzinfo=None) if moment is not None else None


def _from_db(value: datetime | str | None) -> datetime | None:
    if value is None:
        return None
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment.replace(tzinfo=UTC)


def store_page(snapshot: PageSnapshot) -> int:
    """Keep one page capture; returns its id. The caller holds the write transaction."""
    return PageCapture.create(
        url=snapshot.url, final_url=snapshot.final_url, http_status=snapshot.http_status,
        server_date=snapshot.server_date, fetched_at=_to_db(snapshot.fetched_at), sha256=snapshot.sha256,
        size_bytes=snapshot.size_bytes, html_z=snapshot.html_z, truncated=snapshot.truncated,
    ).id


def record_capture(match_id: int, capture: Capture, page_id: int | None) -> None:
    """Add a look at a copy and trim its history. The caller holds the write transaction."""
    CopyCapture.create(
        match=match_id, page=page_id, sha256=capture.sha256, size_bytes=capture.size_bytes,
        fetched_at=_to_db(capture.fetched_at), http_status=capture.http_status,
        server_date=capture.server_date, final_url=capture.final_url,
        file_modified=_to_db(capture.file_modified), signature=capture.signature,
    )
    ids = [row_id for (row_id,) in CopyCapture.select(CopyCapture.id).where(CopyCapture.match == match_id)
           .order_by(CopyCapture.fetched_at, CopyCapture.id).tuples()]
    if len(ids) > MAX_CAPTURES_PER_COPY:
        # The first stays: it shows what was there when the copy was found.
        dropped = ids[1:len(ids) - MAX_CAPTURES_PER_COPY + 1]
        CopyCapture.delete().where(CopyCapture.id.in_(dropped)).execute()
        drop_unreferenced_pages()


def drop_unreferenced_pages() -> int:
    """Delete page captures no copy capture points to (trimmed, or their copies deleted)."""
    orphans = (PageCapture.select(PageCapture.id)
               .join(CopyCapture, JOIN.LEFT_OUTER, on=(CopyCapture.page == PageCapture.id))
               .where(CopyCapture.id.is_null()))
    return PageCapture.delete().where(PageCapture.id.in_([row.id for row in orphans])).execute()


def captures_of(match_ids: Iterable[int]) -> dict[int, list[StoredCapture]]:
    """Every kept capture of these copies, oldest first, by copy."""
    found: dict[int, list[StoredCapture]] = {match_id: [] for match_id in match_ids}
    query = (CopyCapture.select().where(CopyCapture.match.in_(list(found)))
             .order_by(CopyCapture.fetched_at, CopyCapture.id))
    for row in query:
        capture = Capture(
            sha256=row.sha256, size_bytes=row.size_bytes, fetched_at=_from_db(row.fetched_at),
            http_status=row.http_status, server_date=row.server_date, final_url=row.final_url,
            file_modified=_from_db(row.file_modified), signature=row.signature,
        )
        found[row.match_id].append(StoredCapture(row.id, row.match_id, capture, row.page_id))
    return found


def pages(page_ids: Iterable[int]) -> dict[int, StoredPage]:
    query = PageCapture.select(
        PageCapture.id, PageCapture.url, PageCapture.final_url, PageCapture.http_status,
        PageCapture.server_date, PageCapture.fetched_at, PageCapture.sha256, PageCapture.size_bytes,
        PageCapture.truncated,
    ).where(PageCapture.id.in_(list(set(page_ids))))
    return {row.id: StoredPage(row.id, row.url, row.final_url, row.http_status, row.server_date,
                               _from_db(row.fetched_at), row.sha256, row.size_bytes, row.truncated)
            for row in query}


def page_html_z(page_id: int) -> bytes | None:
    row = PageCapture.get_or_none(PageCapture.id == page_id)
    return bytes(row.html_z) if row else None
