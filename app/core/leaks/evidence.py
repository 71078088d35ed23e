"""What an evidence report says, as plain dataclasses, and gathering it from the vault's DB.

`report.render_report` draws a `CaseEvidence`; nothing there reads the DB, so a case (a set of
found copies and the notices about them) can be fed from wherever it is kept.
`collect_copy_evidence` and `notices_of` build the parts from found-copy ids.

Times are UTC and aware throughout. The DB keeps local wall-clock times for found copies,
shares and removal requests; they are converted here (captures are stored in UTC already).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import lxml.etree

from ..db import LeakMatch, Share, TakedownRequest
from ..urls import is_url
from . import capture_store
from .capture import Capture, page_html
from .errors import EvidenceError

if TYPE_CHECKING:
    from .cases import CaseInfo


@dataclass(frozen=True)
class ShareEvidence:
    """The protected copy a watermark or signed metadata named: who received it, and when."""

    share_id: str
    recipient: str
    platform: str | None
    shared_at: datetime  # UTC


@dataclass(frozen=True)
class PageEvidence:
    """A page a copy was on, as one scan fetched it. `html_z`: its HTML, zlib-compressed."""

    id: int
    url: str
    final_url: str | None
    http_status: int
    server_date: str | None
    fetched_at: datetime  # UTC
    sha256: str  # of the page bytes as fetched
    size_bytes: int
    truncated: bool
    title: str | None
    html_z: bytes = field(repr=False)

    @property
    def attachment_name(self) -> str:
        return f"page-{self.id}-{self.fetched_at:%Y%m%dT%H%M%SZ}.html"


@dataclass(frozen=True)
class CopyEvidence:
    """One found copy: where, when, how it was recognised, and every kept look at it."""

    match_id: int
    address: str  # the image's address, or a file's path
    page: str | None  # the page it was on
    first_seen: datetime  # UTC
    last_seen: datetime  # UTC
    status: str  # found, drafted, sent, removed, dismissed
    method: str  # metadata, watermark, pdq, features
    score: float
    detail: str
    pdq_distance: int | None
    inliers: int | None
    share: ShareEvidence | None
    captures: tuple[Capture, ...]  # oldest first (the first look is always kept)
    capture_pages: tuple[int | None, ...]  # the PageEvidence id of each capture
    thumbnail_jpeg: bytes | None = field(default=None, repr=False)  # the stored evidence picture

    @property
    def is_file(self) -> bool:
        return not is_url(self.address)

    @property
    def signature(self) -> str | None:
        """The claim's state at the latest look (None: found before captures were kept)."""
        return self.captures[-1].signature if self.captures else None


@dataclass(frozen=True)
class NoticeEvidence:
    """A removal request or notice about the case, and what came of it."""

    kind: str  # deletion_link, imgur_api, notice (or a case's own kinds)
    to: str  # who it went to, in words (never a secret link)
    subject: str
    sent_at: datetime | None  # UTC; None while only drafted
    status: str
    detail: str = ""
    replies: tuple[str, ...] = ()


@dataclass(frozen=True)
class CaseEvidence:
    title: str
    host: str  # the site(s) the copies are on, in words
    copies: tuple[CopyEvidence, ...]
    notices: tuple[NoticeEvidence, ...]
    public_key_pem: str  # the vault's Ed25519 signing key: what the report's signature checks with
    generated_at: datetime  # UTC
    pages: tuple[PageEvidence, ...] = ()
    prepared_by: str | None = None  # the person the report is for, as they want to be named

    @property
    def key_fingerprint(self) -> str:
        return key_fingerprint(self.public_key_pem)


def key_fingerprint(public_key_pem: str) -> str:
    """SHA-256 of the raw Ed25519 public key, hex: short enough to read out on the phone."""
    from ..fingerprint import load_public_key

    return hashlib.sha256(load_public_key(public_key_pem)).hexdigest()


def as_utc(local: datetime | str) -> datetime:
    """A local wall-clock time from the DB (naive) as an aware UTC time."""
    moment = local if isinstance(local, datetime) else datetime.fromisoformat(str(local))
    return moment.astimezone(UTC)


def host_words(addresses: Sequence[str]) -> str:
    hosts = sorted({urlsplit(a).hostname or "" for a in addresses if is_url(a)} - {""})
    if not hosts:
        return "files on this computer" if addresses else "—"
    return ", ".join(hosts)


def collect_copy_evidence(match_ids: Sequence[int]) -> tuple[list[CopyEvidence], list[PageEvidence]]:
    """The found copies `match_ids` with their captures, and the pages those were on, in the
    order given. Raises EvidenceError for an id with no found copy. Needs an open vault's DB."""
    if not match_ids:
        raise EvidenceError("A report needs at least one found copy.")
    rows = {row.id: row for row in LeakMatch.select().where(LeakMatch.id.in_(list(match_ids)))}
    missing = [str(i) for i in match_ids if i not in rows]
    if missing:
        raise EvidenceError(f"No found copy with id {', '.join(missing)}.")
    captures = capture_store.captures_of(match_ids)
    share_ids = {row.share_id for row in rows.values() if row.share_id}
    shares = {s.share_id: s for s in Share.select().where(Share.share_id.in_(list(share_ids)))}
    copies = []
    for match_id in dict.fromkeys(match_ids):
        row = rows[match_id]
        share = shares.get(row.share_id) if row.share_id else None
        kept = captures[match_id]
        copies.append(CopyEvidence(
            match_id=row.id, address=row.source, page=row.found_on, first_seen=as_utc(row.first_seen),
            last_seen=as_utc(row.last_seen), status=row.status, method=row.method, score=row.score,
            detail=row.detail, pdq_distance=row.pdq_distance, inliers=row.inliers,
            share=ShareEvidence(share.share_id, share.recipient, share.platform, as_utc(share.created_at))
            if share else None,
            captures=tuple(c.capture for c in kept), capture_pages=tuple(c.page_id for c in kept),
            thumbnail_jpeg=bytes(row.evidence) if row.evidence else None,
        ))
    page_ids = [page_id for copy in copies for page_id in copy.capture_pages if page_id is not None]
    pages = []
    for page_id, stored in sorted(capture_store.pages(page_ids).items()):
        html_z = capture_store.page_html_z(page_id) or b""
        pages.append(PageEvidence(stored.id, stored.url, stored.final_url, stored.http_status, stored.server_date,
                                  stored.fetched_at, stored.sha256, stored.size_bytes, stored.truncated,
                                  page_title(html_z), html_z))
    return copies, pages


def page_title(html_z: bytes) -> str | None:
    """The <title> of a captured page (what a person would recognise it by)."""
    if not html_z:
        return None
    parser = lxml.etree.HTMLParser(encoding="utf-8", recover=True, no_network=True, huge_tree=False)
    try:
        root = lxml.etree.fromstring(page_html(html_z).encode("utf-8"), parser)
    except lxml.etree.LxmlError:
        return None
    title = " ".join((root.findtext(".//title") or "").split()) if root is not None else ""
    return title[:200] or None


def notices_of(match_ids: Sequence[int]) -> list[NoticeEvidence]:
    """The removal requests recorded for these copies, oldest first."""
    query = (TakedownRequest.select().where(TakedownRequest.match.in_(list(match_ids)))
             .order_by(TakedownRequest.created_at, TakedownRequest.id))
    return [NoticeEvidence(kind=row.kind, to=_recipient_words(row.kind, row.contact), subject=row.subject,
                           sent_at=as_utc(row.updated_at) if row.status in ("sent", "removed") else None,
                           status=row.status, detail=row.detail)
            for row in query]


def _recipient_words(kind: str, contact_json: str) -> str:
    # A deletion link or an API hash is a secret that deletes the image: never in a report.
    contact = json.loads(contact_json or "{}")
    if kind == "deletion_link":
        return f"the deletion link {urlsplit(contact.get('deletion_link') or '').hostname or 'the host'} gave"
    if kind == "imgur_api":
        return "Imgur's API (the upload's delete hash)"
    return contact.get("abuse_email") or "the host (email)"


AUDIENCE_WORDS = {"site": "the site", "provider": "the site's hosting provider", "search": "the search engine"}


def notices_from_case(case: CaseInfo) -> list[NoticeEvidence]:
    """A case's notices (earlier per-copy requests included) with the replies recorded to each;
    a reply tied to no notice goes with the latest notice sent before it."""
    replies: dict[int | None, list[str]] = {}
    sent = sorted((n for n in case.notices if n.sent_at is not None and not n.legacy), key=lambda n: n.sent_at)
    for reply in case.replies:
        notice_id = reply.notice_id
        if notice_id is None:
            earlier = [n.id for n in sent if n.sent_at <= reply.received_at]
            notice_id = earlier[-1] if earlier else None
        words = f"{as_utc(reply.received_at):%Y-%m-%d %H:%M:%S} UTC, {reply.outcome}" + (
            f": {reply.text}" if reply.text else "")
        replies.setdefault(notice_id, []).append(words)
    found = []
    for notice in case.notices:
        detail = f"due {as_utc(notice.due_at):%Y-%m-%d %H:%M:%S} UTC" if notice.due_at else ""
        # A legacy request's id is a removal request's, not a case notice's: no reply names it.
        own = replies.pop(notice.id, []) if not notice.legacy else []
        found.append(NoticeEvidence(
            kind=notice.kind, to=notice.to or AUDIENCE_WORDS.get(notice.audience, notice.audience),
            subject=notice.subject, sent_at=as_utc(notice.sent_at) if notice.sent_at else None,
            status=notice.status, detail=detail, replies=tuple(own)))
    if replies:  # answers recorded before any notice was sent
        found.append(NoticeEvidence("reply", "—", "answers recorded without a notice", None, "recorded",
                                    replies=tuple(text for texts in replies.values() for text in texts)))
    return found


def case_from_matches(match_ids: Sequence[int], public_key_pem: str, *, title: str | None = None,
                      notices: Sequence[NoticeEvidence] | None = None, prepared_by: str | None = None,
                      now: datetime | None = None) -> CaseEvidence:
    """A CaseEvidence of these found copies; `notices` default to their recorded requests."""
    copies, pages = collect_copy_evidence(match_ids)
    host = host_words([copy.address for copy in copies])
    return CaseEvidence(
        title=title or f"Copies found on {host}", host=host, copies=tuple(copies),
        notices=tuple(notices_of(match_ids) if notices is None else notices), public_key_pem=public_key_pem,
        generated_at=now or datetime.now(UTC), pages=tuple(pages), prepared_by=prepared_by,
    )
