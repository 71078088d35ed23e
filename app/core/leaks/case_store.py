"""Cases kept in the vault's DB: listing them, their notices (draft, edit, send), the replies the
user records, re-checking their addresses, and looking up the site's hosting provider.

`CaseStore` belongs to one open `Vault` (the facade delegates `list_cases`, `case`, ...). A case
row is made for each site the first time its copies are listed; the copies themselves are
found by their addresses (`cases.site_of`). Every write is one short transaction.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import threading
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from .. import db
from ..db import CaseNotice, CaseReply, LeakCase, LeakMatch, TakedownRequest
from ..errors import SanctumError
from ..vault.records import Progress, as_datetime, local_now, no_progress
from . import notices, platforms
from .cases import (
    CaseAddress,
    CaseInfo,
    CaseNoticeInfo,
    CaseReplyInfo,
    assess,
    due_after,
    escalation_preface,
    ordered,
    site_of,
)
from .enums import CaseStatus, MatchStatus, NoticeAudience, NoticeStatus, ReplyOutcome
from .notices import Sender

if TYPE_CHECKING:
    from ..vault import Vault
    from .fetch import Fetcher
    from .rdap import ProviderContact
    from .store import LeakStore


class CaseStore:
    """Cases of one open vault."""

    def __init__(self, vault: Vault, leaks: LeakStore):
        self._vault = vault
        self._leaks = leaks

    # --- reading -----------------------------------------------------------------------------------

    def _copies_by_site(self) -> dict[str, list[LeakMatch]]:
        by_site: dict[str, list[LeakMatch]] = {}
        query = LeakMatch.select().where(LeakMatch.status != MatchStatus.DISMISSED).order_by(LeakMatch.first_seen)
        for row in query:
            site = site_of(row.source)
            if site is not None:
                by_site.setdefault(site, []).append(row)
        return by_site

    def _sync(self) -> tuple[dict[str, list[LeakMatch]], dict[str, LeakCase]]:
        """The copies by site, and a case row for every site (new ones made in one transaction)."""
        by_site = self._copies_by_site()
        rows = {row.host: row for row in LeakCase.select()}
        new = [site for site in by_site if site not in rows]
        if new:
            now = local_now()
            with db.database.atomic():
                # Two listings at once (the app and the command line) may both find a new site.
                LeakCase.insert_many([{"host": site, "created_at": now} for site in new]).on_conflict_ignore().execute()
            rows.update({row.host: row for row in LeakCase.select().where(LeakCase.host.in_(new))})
        return by_site, rows

    def list_cases(self, now: datetime | None = None) -> list[CaseInfo]:
        """Every case with copies, the most urgent first (overdue, open, drafted, waiting, removed)."""
        self._vault._require_open()
        by_site, rows = self._sync()
        now = now or local_now()
        return ordered([self._info(rows[site], copies, now) for site, copies in by_site.items()])

    def case(self, case_id: int, now: datetime | None = None) -> CaseInfo:
        row = self._case_row(case_id)
        copies = self._copies_by_site().get(row.host, [])
        return self._info(row, copies, now or local_now())

    def due_for_recheck(self, now: datetime | None = None) -> list[int]:
        """Cases whose deadline has passed and whose addresses were not checked since."""
        return [c.id for c in self.list_cases(now) if c.status == CaseStatus.OVERDUE and c.due_at is not None
                and (c.checked_at is None or c.checked_at < c.due_at)]

    def _info(self, row: LeakCase, copies: list[LeakMatch], now: datetime) -> CaseInfo:
        addresses = tuple(CaseAddress(m.id, m.source, m.found_on, m.photo_id, m.status, as_datetime(m.first_seen),
                                      as_datetime(m.last_seen)) for m in copies)
        notes = [_notice_info(n) for n in row.notices.order_by(CaseNotice.created_at)]
        notes += self._legacy_notices(row.id, [m.id for m in copies])
        notes.sort(key=lambda n: n.created_at)
        replies = tuple(_reply_info(r) for r in row.replies.order_by(CaseReply.received_at))
        verdict = assess(addresses, tuple(notes), replies, now)
        photo_ids = tuple(sorted({m.photo_id for m in copies if m.photo_id is not None}))
        return CaseInfo(row.id, row.host, photo_ids, tuple(a.match_id for a in addresses), addresses,
                        verdict.status, verdict.due_at, verdict.next_step, tuple(notes), replies,
                        as_datetime(row.checked_at) if row.checked_at else None,
                        json.loads(row.provider) if row.provider else None)

    def _legacy_notices(self, case_id: int, match_ids: list[int]) -> list[CaseNoticeInfo]:
        """Per-copy removal requests of earlier versions, shown in their copy's case as they are."""
        if not match_ids:
            return []
        result = []
        for r in TakedownRequest.select().where(TakedownRequest.match.in_(match_ids)):
            sent = as_datetime(r.updated_at) if r.status in ("sent", "removed") else None
            # A deletion link or API token is a secret: only a notice's abuse address is shown.
            to = json.loads(r.contact).get("abuse_email") or ""
            result.append(CaseNoticeInfo(r.id, case_id, r.kind, NoticeAudience.SITE, to, r.subject, r.text, r.status,
                                         (), (r.match_id,), as_datetime(r.created_at), sent,
                                         due_after(r.kind, sent) if sent else None, legacy=True))
        return result

    # --- notices -----------------------------------------------------------------------------------

    def _facts(self, case: CaseInfo, match_ids: tuple[int, ...], sender: Sender) -> notices.NoticeFacts:
        chosen = [a for a in case.addresses if a.match_id in match_ids]
        pdq = []
        for photo_id in sorted({a.photo_id for a in chosen if a.photo_id is not None}):
            prints = self._vault.fingerprint_of(photo_id)
            if prints is not None:
                pdq.append(prints.pdq.hex())
        fields = dataclasses.asdict(sender)
        fields["search_results"] = tuple(sender.search_results)
        return notices.NoticeFacts(
            host=case.host, addresses=tuple(notices.NoticeAddress(a.url, a.found_on, a.first_seen) for a in chosen),
            pdq_hexes=tuple(pdq), signed_on=local_now(), **fields)

    def default_recipient(self, case: CaseInfo, kind: str, audience: str) -> str:
        """The directory's contact for the site, the provider's abuse address, or the form."""
        if kind == "search-delisting":
            return notices.law(kind).form_url or ""
        if audience == NoticeAudience.PROVIDER:
            emails = (case.provider or {}).get("abuse_emails") or []
            return emails[0] if emails else ""
        row = platforms.find(case.host)
        return row.contact_for(kind) if row else ""

    def draft_notice(self, case_id: int, kind: str, sender: Sender, *, audience: str | None = None,
                     to: str | None = None, text: str | None = None) -> CaseNoticeInfo:
        """Draft (or redraft) the case's notice of `kind`: it lists every address on the site that is
        not removed. An unsent draft of the same kind and audience is replaced, not piled up.
        `text` is the user's edited text; without it the law's text is written."""
        notices.law(kind)
        case = self.case(case_id)
        audience = audience or (NoticeAudience.SEARCH if kind == "search-delisting" else NoticeAudience.SITE)
        live = tuple(a.match_id for a in case.addresses if a.status != MatchStatus.REMOVED)
        if not live:
            raise SanctumError("Every address of this case is gone: there is nothing left to ask for.")
        facts = self._facts(case, live, sender)
        draft = notices.compose(kind, facts, to if to is not None else self.default_recipient(case, kind, audience))
        if audience == NoticeAudience.PROVIDER:
            draft = dataclasses.replace(draft, text=escalation_preface(case) + draft.text,
                                        subject=f"Abuse report: {draft.subject}")
        body = text if text is not None else draft.text
        now = local_now()
        stored = json.dumps({**dataclasses.asdict(sender), "search_results": list(sender.search_results)})
        with db.database.atomic():
            row = (CaseNotice.select().where((CaseNotice.case == case_id) & (CaseNotice.kind == kind)
                                             & (CaseNotice.audience == audience)
                                             & (CaseNotice.status == NoticeStatus.DRAFTED)).first())
            values = dict(recipient=draft.to, subject=draft.subject, text=body, facts=stored,
                          match_ids=json.dumps(list(live)), updated_at=now)
            if row is None:
                row = CaseNotice.create(case=case_id, kind=kind, audience=audience, created_at=now, **values)
            else:
                CaseNotice.update(**values).where(CaseNotice.id == row.id).execute()
                row = CaseNotice.get_by_id(row.id)
            LeakMatch.update(status=MatchStatus.DRAFTED).where(
                LeakMatch.id.in_(live) & (LeakMatch.status == MatchStatus.FOUND)).execute()
        return _notice_info(row)

    def edit_notice(self, notice_id: int, text: str, to: str | None = None) -> CaseNoticeInfo:
        """The user's edits to a drafted notice (a sent one is a record and stays as sent)."""
        row = self._notice_row(notice_id)
        if row.status != NoticeStatus.DRAFTED:
            raise SanctumError("This notice was sent: it stays as it was sent. Draft a new one instead.")
        with db.database.atomic():
            row.text, row.updated_at = text, local_now()
            if to is not None:
                row.recipient = to
            row.save()
        return _notice_info(row)

    def mark_notice_sent(self, notice_id: int, sent_at: datetime | None = None) -> CaseNoticeInfo:
        """Record that the user sent the notice (Sanctum never sends email itself): its law's
        clock starts. Refused, naming what is missing, while a required element is missing."""
        row = self._notice_row(notice_id)
        if row.status == NoticeStatus.SENT:
            return _notice_info(row)
        notices.require_complete(row.kind, _stored_facts(row), row.text)
        sent_at = sent_at or local_now()
        with db.database.atomic():
            row.status, row.sent_at, row.updated_at = NoticeStatus.SENT, sent_at, local_now()
            row.due_at = due_after(row.kind, sent_at)
            row.save()
            LeakMatch.update(status=MatchStatus.SENT).where(
                LeakMatch.id.in_(json.loads(row.match_ids))
                & LeakMatch.status.in_([MatchStatus.FOUND, MatchStatus.DRAFTED])).execute()
        return _notice_info(row)

    # --- replies, re-checks, the provider ------------------------------------------------------------

    def record_reply(self, case_id: int, outcome: str, text: str = "", received_at: datetime | None = None,
                     notice_id: int | None = None) -> CaseReplyInfo:
        self._case_row(case_id)
        outcome = ReplyOutcome(outcome)
        with db.database.atomic():
            row = CaseReply.create(case=case_id, notice=notice_id, received_at=received_at or local_now(),
                                   outcome=outcome, text=text)
        return _reply_info(row)

    def recheck_case(self, case_id: int, fetcher: Fetcher | None = None, progress: Progress = no_progress,
                     cancel: threading.Event | None = None) -> CaseInfo:
        """Look at every address of the case not yet removed; a gone one becomes removed."""
        from .fetch import Fetcher as _Fetcher
        from .takedown_store import check_address

        case = self.case(case_id)
        live = [a.match_id for a in case.addresses if a.status != MatchStatus.REMOVED]
        build = functools.cache(self._leaks.build_matcher)  # one matcher for the whole case
        own = fetcher is None
        fetcher = fetcher or _Fetcher()
        try:
            for done, match_id in enumerate(live):
                if cancel is not None and cancel.is_set():
                    break
                progress(done, len(live))
                match = LeakMatch.get_or_none(LeakMatch.id == match_id)
                if match is None:
                    continue
                gone, _detail = check_address(build, match, fetcher)
                if gone:
                    with db.database.atomic():
                        LeakMatch.update(status=MatchStatus.REMOVED).where(LeakMatch.id == match_id).execute()
            else:
                progress(len(live), len(live))
                with db.database.atomic():
                    LeakCase.update(checked_at=local_now()).where(LeakCase.id == case_id).execute()
        finally:
            if own:
                fetcher.close()
        return self.case(case_id)

    def lookup_provider(self, case_id: int, resolve: Callable[[str], list[str]] | None = None,
                        bootstrap: str | None = None) -> ProviderContact:
        """Who hosts the case's site (by RDAP), kept with the case for an escalation notice."""
        from . import rdap

        row = self._case_row(case_id)
        found = rdap.abuse_contact(row.host, resolve=resolve or rdap.system_resolve, bootstrap=bootstrap)
        with db.database.atomic():
            LeakCase.update(provider=json.dumps(found.to_json())).where(LeakCase.id == case_id).execute()
        return found

    # --- rows ----------------------------------------------------------------------------------------

    def _case_row(self, case_id: int) -> LeakCase:
        self._vault._require_open()
        row = LeakCase.get_or_none(LeakCase.id == case_id)
        if row is None:
            raise SanctumError(f"No case with id {case_id}.")
        return row

    def _notice_row(self, notice_id: int) -> CaseNotice:
        self._vault._require_open()
        row = CaseNotice.get_or_none(CaseNotice.id == notice_id)
        if row is None:
            raise SanctumError(f"No notice with id {notice_id}.")
        return row


def _stored_facts(row: CaseNotice) -> notices.NoticeFacts:
    stored = json.loads(row.facts)
    stored["search_results"] = tuple(stored.get("search_results") or ())
    ids = json.loads(row.match_ids)
    copies = LeakMatch.select().where(LeakMatch.id.in_(ids))
    return notices.NoticeFacts(
        host=row.case.host, addresses=tuple(notices.NoticeAddress(m.source, m.found_on, as_datetime(m.first_seen))
                                            for m in copies), **stored)


def _notice_info(row: CaseNotice) -> CaseNoticeInfo:
    missing = notices.check(row.kind, _stored_facts(row), row.text) if row.status == NoticeStatus.DRAFTED else ()
    return CaseNoticeInfo(row.id, row.case_id, row.kind, row.audience, row.recipient, row.subject, row.text,
                          row.status, missing, tuple(json.loads(row.match_ids)), as_datetime(row.created_at),
                          as_datetime(row.sent_at) if row.sent_at else None,
                          as_datetime(row.due_at) if row.due_at else None)


def _reply_info(row: CaseReply) -> CaseReplyInfo:
    return CaseReplyInfo(row.id, row.case_id, row.notice_id, as_datetime(row.received_at), row.outcome, row.text)
