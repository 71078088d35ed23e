"""Cases: every found copy on one site, handled together.

A case is one site (the registrable domain of the copies' addresses: i.example.com and
example.com are one site). It lists what was found, the notices sent (what, to whom, when),
what came back, and what is due next. Copies join their case by their address, so a copy found
by any scan, before or after cases existed, is in its case without being assigned.

`assess` is the rule for status, deadline and next step; it takes `now`, so it is tested
with explicit times. The case store (`case_store.py`) reads and writes the records.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from ..urls import is_url
from .enums import CaseStatus, MatchStatus, NextStep, NoticeAudience, NoticeStatus, ReplyOutcome
from .notices import law

# A notice of the earlier per-copy kind (takedown.NOTICE_KINDS) cites no deadline: it is
# followed up like a DSA notice.
LEGACY_FOLLOW_UP_DAYS = 7

# What each next step asks of the user (the CLI prints it, the Cases view shows it).
NEXT_STEP_WORDS = {
    NextStep.SEND_NOTICE: "Send a notice to the site: one notice lists every address on it.",
    NextStep.FINISH_NOTICE: "Finish the drafted notice and send it.",
    NextStep.WAIT: "Wait for the site's answer; Sanctum checks the addresses again when the notice is due.",
    NextStep.ESCALATE: "The site did not remove them in time: report them to the company hosting the site.",
    NextStep.SEARCH_DELISTING: "Ask search engines to delist the addresses while they are still up.",
    NextStep.SECOND_NOTICE: "Send a second notice, citing the first one and its date.",
    NextStep.ANSWER: "The site asked for more information: answer it, then record the answer as a new notice.",
    NextStep.NONE: "Every address is gone. Scan again now and then: copies can come back.",
}

_ORDER = {CaseStatus.OVERDUE: 0, CaseStatus.OPEN: 1, CaseStatus.DRAFTED: 2, CaseStatus.WAITING: 3,
          CaseStatus.REMOVED: 4}


def site_of(address: str) -> str | None:
    """The case an address belongs to: its registrable domain; None for a file on this computer."""
    if not is_url(address):
        return None
    host = urlsplit(address).hostname
    if not host:
        return None
    from .page_reader import site_of as host_site  # the scan's notion of "same site" (public suffixes)

    return host_site(host)


def due_after(kind: str, sent_at: datetime) -> datetime:
    """When a notice of `kind` sent at `sent_at` falls due: the deadline its law sets (the TAKE IT
    DOWN Act: 48 hours), else Sanctum's follow-up period for laws that name none."""
    if kind not in ("take-it-down", "dsa", "copyright", "search-delisting"):
        return sent_at + timedelta(days=LEGACY_FOLLOW_UP_DAYS)
    chosen = law(kind)
    if chosen.deadline_hours is not None:
        return sent_at + timedelta(hours=chosen.deadline_hours)
    return sent_at + timedelta(days=chosen.follow_up_days)


@dataclass(frozen=True)
class CaseAddress:
    match_id: int
    url: str
    found_on: str | None
    photo_id: int | None
    status: str  # the copy's MatchStatus
    first_seen: datetime
    last_seen: datetime

    def to_json(self) -> dict:
        return {"match_id": self.match_id, "url": self.url, "found_on": self.found_on, "photo_id": self.photo_id,
                "status": self.status, "first_seen": self.first_seen.isoformat(timespec="seconds"),
                "last_seen": self.last_seen.isoformat(timespec="seconds")}


@dataclass(frozen=True)
class CaseNoticeInfo:
    """A notice of a case. `legacy` ones are the per-copy requests of earlier versions (their
    id is the request's id, see `Vault.list_takedowns`)."""

    id: int
    case_id: int
    kind: str
    audience: str  # NoticeAudience
    to: str
    subject: str
    text: str
    status: str  # NoticeStatus (a legacy request: its TakedownStatus)
    missing: tuple[str, ...]
    match_ids: tuple[int, ...]
    created_at: datetime
    sent_at: datetime | None
    due_at: datetime | None
    legacy: bool = False

    def to_json(self) -> dict:
        def when(value: datetime | None) -> str | None:
            return value.isoformat(timespec="seconds") if value else None

        return {"id": self.id, "case_id": self.case_id, "kind": self.kind, "audience": self.audience,
                "to": self.to, "subject": self.subject, "text": self.text, "status": self.status,
                "missing": list(self.missing), "match_ids": list(self.match_ids), "created_at": when(self.created_at),
                "sent_at": when(self.sent_at), "due_at": when(self.due_at), "legacy": self.legacy}


@dataclass(frozen=True)
class CaseReplyInfo:
    id: int
    case_id: int
    notice_id: int | None
    received_at: datetime
    outcome: str  # ReplyOutcome
    text: str

    def to_json(self) -> dict:
        return {"id": self.id, "case_id": self.case_id, "notice_id": self.notice_id,
                "received_at": self.received_at.isoformat(timespec="seconds"), "outcome": self.outcome,
                "text": self.text}


@dataclass(frozen=True)
class CaseInfo:
    """One case, as `Vault.case(case_id)` and `Vault.list_cases()` give it.

    `match_ids` are the found copies (`Vault.list_matches`, `Vault.match_evidence`) on the site;
    `addresses` the same copies with their addresses and statuses; `notices` every notice sent
    or drafted, oldest first; `due_at` when the latest sent notice falls due (None before any)."""

    id: int
    host: str
    photo_ids: tuple[int, ...]
    match_ids: tuple[int, ...]
    addresses: tuple[CaseAddress, ...]
    status: str  # CaseStatus
    due_at: datetime | None
    next_step: str  # NextStep
    notices: tuple[CaseNoticeInfo, ...]
    replies: tuple[CaseReplyInfo, ...]
    checked_at: datetime | None
    provider: dict | None  # rdap.ProviderContact.to_json(), once looked up

    @property
    def next_step_words(self) -> str:
        return NEXT_STEP_WORDS.get(NextStep(self.next_step), "")

    def to_json(self, full: bool = False) -> dict:
        summary = {"id": self.id, "host": self.host, "photo_ids": list(self.photo_ids),
                   "match_ids": list(self.match_ids), "addresses": [a.url for a in self.addresses],
                   "status": self.status,
                   "due_at": self.due_at.isoformat(timespec="seconds") if self.due_at else None,
                   "next_step": self.next_step, "next_step_words": self.next_step_words}
        if full:
            summary.update(address_details=[a.to_json() for a in self.addresses],
                           notices=[n.to_json() for n in self.notices], replies=[r.to_json() for r in self.replies],
                           checked_at=self.checked_at.isoformat(timespec="seconds") if self.checked_at else None,
                           provider=self.provider)
        return summary


@dataclass(frozen=True)
class Assessment:
    status: CaseStatus
    due_at: datetime | None
    next_step: NextStep


def _escalation(sent: list[CaseNoticeInfo]) -> NextStep:
    """The next rung once the site let a deadline pass or refused: its provider, then search
    engines, then a second notice."""
    audiences = {n.audience for n in sent}
    if NoticeAudience.PROVIDER not in audiences:
        return NextStep.ESCALATE
    if NoticeAudience.SEARCH not in audiences:
        return NextStep.SEARCH_DELISTING
    return NextStep.SECOND_NOTICE


def assess(addresses: tuple[CaseAddress, ...], notices: tuple[CaseNoticeInfo, ...],
           replies: tuple[CaseReplyInfo, ...], now: datetime) -> Assessment:
    """Status, deadline and next step of a case at `now`."""
    if addresses and all(a.status == MatchStatus.REMOVED for a in addresses):
        return Assessment(CaseStatus.REMOVED, None, NextStep.NONE)
    sent = [n for n in notices if n.sent_at is not None]
    if not sent:
        if any(n.status == NoticeStatus.DRAFTED for n in notices):
            return Assessment(CaseStatus.DRAFTED, None, NextStep.FINISH_NOTICE)
        return Assessment(CaseStatus.OPEN, None, NextStep.SEND_NOTICE)
    latest = max(sent, key=lambda n: n.sent_at)
    due = latest.due_at
    answers = [r for r in replies if r.received_at >= latest.sent_at]
    if answers:
        last = max(answers, key=lambda r: r.received_at)
        if last.outcome == ReplyOutcome.REFUSED:
            return Assessment(CaseStatus.OVERDUE, due, _escalation(sent))
        if last.outcome == ReplyOutcome.MORE_INFO:
            return Assessment(CaseStatus.WAITING, due, NextStep.ANSWER)
    if due is not None and now >= due:
        return Assessment(CaseStatus.OVERDUE, due, _escalation(sent))
    return Assessment(CaseStatus.WAITING, due, NextStep.WAIT)


def escalation_preface(case: CaseInfo) -> str:
    """The opening of a notice to the site's hosting provider: who they host, and since when
    the site has ignored the first notice."""
    provider = case.provider or {}
    sent = [n for n in case.notices if n.sent_at is not None and n.audience == NoticeAudience.SITE]
    first = min((n.sent_at for n in sent), default=None)
    lines = [f"To the abuse team of {provider.get('organisation') or 'the hosting provider'},", "",
             f"Your network hosts {case.host}"
             + (f" (address {provider['address']})" if provider.get("address") else "") + "."]
    if first is not None:
        lines.append(f"I sent the site the notice below on {first:%d %B %Y}; the content is still online.")
    return "\n".join(lines) + "\n\n"


def ordered(cases: list[CaseInfo]) -> list[CaseInfo]:
    """Most urgent first: overdue (longest overdue first), open, drafted, waiting (soonest due
    first), removed."""
    far = datetime.max
    return sorted(cases, key=lambda c: (_ORDER.get(CaseStatus(c.status), 9), c.due_at or far, c.host))
