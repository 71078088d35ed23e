"""Removal requests for found copies, kept in the vault's DB: draft, send, re-check; hash export.

`TakedownStore` belongs to one open `Vault` (the facade delegates `draft_takedown`, ...);
`takedown` writes the notices and talks to the hosts.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Callable
from typing import TYPE_CHECKING

from .. import db
from ..db import LeakMatch, Share, TakedownRequest
from ..errors import SanctumError, UnsupportedImage
from ..vault.records import TakedownInfo, as_datetime, local_now, takedown_info
from . import takedown

if TYPE_CHECKING:
    from ..vault import Vault
    from .fetch import Fetcher
    from .matcher import Matcher
    from .store import LeakStore


class TakedownStore:
    """Removal requests of one open vault."""

    def __init__(self, vault: Vault, leaks: LeakStore):
        self._vault = vault
        self._leaks = leaks

    def draft_takedown(self, match_id: int, contact: takedown.TakedownContact,
                       requester: takedown.Requester, notice_kind: str | None = None) -> TakedownInfo:
        """Draft a removal request for a found copy (nothing is sent yet). `notice_kind` is one
        of `takedown.NOTICE_KINDS`; by default it follows the photo's sensitive flag."""
        self._vault._require_open()
        match = LeakMatch.get_or_none(LeakMatch.id == match_id)
        if match is None:
            raise SanctumError(f"No found copy with id {match_id}.")
        if notice_kind is None:
            flagged = bool(match.photo_id) and bool(self._vault.list_photos(ids=[match.photo_id], sensitive=True))
            notice_kind = takedown.default_notice_kind(flagged)
        share = Share.get_or_none(Share.share_id == match.share_id) if match.share_id else None
        prints = self._vault.fingerprint_of(match.photo_id) if match.photo_id else None
        evidence = takedown.Evidence(
            url=match.source, found_on=match.found_on, found_at=as_datetime(match.first_seen),
            method=match.method, detail=match.detail, share_recipient=share.recipient if share else None,
            share_date=as_datetime(share.created_at) if share else None,
            pdq_hex=prints.pdq.hex() if prints else None,
        )
        drafted = takedown.draft(contact, requester, evidence, notice_kind)
        now = local_now()
        with db.database.atomic():
            row = TakedownRequest.create(
                match=match_id, kind=drafted.kind, contact=json.dumps(dataclasses.asdict(contact)),
                subject=drafted.subject, text=drafted.text, html=drafted.html, mailto=drafted.mailto,
                created_at=now, updated_at=now,
            )
            LeakMatch.update(status="drafted").where(
                (LeakMatch.id == match_id) & (LeakMatch.status == "found")).execute()
        return takedown_info(row)

    def send_takedown(self, takedown_id: int, fetcher: Fetcher | None = None) -> TakedownInfo:
        """Send a direct request (deletion link, Imgur API), or record that the user sent the
        notice email. Failures are recorded with their reason, and raised."""
        from .fetch import Fetcher as _Fetcher

        row = self._takedown_row(takedown_id)
        contact = takedown.TakedownContact(**json.loads(row.contact))
        if row.kind == "notice":
            return self._set_takedown_status(row, "sent", "notice sent by email")
        own = fetcher is None
        fetcher = fetcher or _Fetcher()
        try:
            detail = takedown.send(contact, fetcher)
        except takedown.TakedownError as exc:
            self._set_takedown_status(row, "failed", str(exc))
            raise
        finally:
            if own:
                fetcher.close()
        return self._set_takedown_status(row, "sent", detail)

    def recheck_takedown(self, takedown_id: int, fetcher: Fetcher | None = None) -> TakedownInfo:
        """Look at the URL again. Removed means gone (404 / 410) or showing another image; a
        refusal (403), a rate limit (429), a server error or a page instead of an image is
        "could not check", never "removed"."""
        from .fetch import Fetcher as _Fetcher

        row = self._takedown_row(takedown_id)
        own = fetcher is None
        fetcher = fetcher or _Fetcher()
        try:
            gone, detail = check_address(self._leaks.build_matcher, row.match, fetcher)
        finally:
            if own:
                fetcher.close()
        return self._set_takedown_status(row, "removed" if gone else row.status, detail)

    def list_takedowns(self, match_id: int | None = None) -> list[TakedownInfo]:
        self._vault._require_open()
        query = TakedownRequest.select().order_by(TakedownRequest.updated_at.desc())
        if match_id is not None:
            query = query.where(TakedownRequest.match == match_id)
        return [takedown_info(row) for row in query]

    def hash_export(self, photo_id: int) -> dict:
        """PDQ + MD5 of a photo for hash-sharing programmes; the photo never leaves."""
        prints = self._vault.fingerprint_of(photo_id)
        if prints is None:
            raise SanctumError("This photo has no fingerprint yet: run “index” first.")
        md5 = hashlib.md5(self._vault.read_original(photo_id), usedforsecurity=False).hexdigest()
        return takedown.hash_export(prints.pdq.hex(), prints.pdq_quality, md5)

    def _takedown_row(self, takedown_id: int) -> TakedownRequest:
        self._vault._require_open()
        row = TakedownRequest.get_or_none(TakedownRequest.id == takedown_id)
        if row is None:
            raise SanctumError(f"No removal request with id {takedown_id}.")
        return row

    def _set_takedown_status(self, row: TakedownRequest, status: str, detail: str) -> TakedownInfo:
        with db.database.atomic():
            row.status, row.detail, row.updated_at = status, detail, local_now()
            row.save()
            if status in ("sent", "removed"):
                LeakMatch.update(status=status).where(LeakMatch.id == row.match_id).execute()
        return takedown_info(row)


def check_address(build_matcher: Callable[[], Matcher], match: LeakMatch, fetcher: Fetcher) -> tuple[bool, str]:
    """Whether a found copy's address no longer shows the photo, and why in a few words.

    Gone means 404 / 410, or an image that is not the photo any more. Anything else (403, 429,
    5xx, a login page answered with 200) is "could not check": it never makes a copy removed."""
    from .fetch import FetchError

    try:
        gone, content = takedown.is_gone(match.source, fetcher, origin=match.found_on)
    except FetchError as exc:
        return False, f"could not check: {exc}"
    if gone:
        return True, "the address no longer serves the image"
    try:
        found = build_matcher().match_bytes(content or b"")
    except UnsupportedImage as exc:
        # A login, error or rate-limit page answered with 200: it shows nothing either way.
        return False, (f"could not check: {exc} (open the address to see whether your photo is still there)")
    if not any(m.photo_id == match.photo_id for m in found):
        return True, "the address no longer shows your photo"
    return False, "still online"
