"""The fixed words of leak tracking, as StrEnums.

Each member equals the string stored in the database and written to JSON, so rows written
before these existed, and every reader comparing with a plain string, keep working.
"""

from __future__ import annotations

from enum import StrEnum


class MatchStatus(StrEnum):
    """Where a found copy is on its way to removal (`LeakMatch.status`)."""

    FOUND = "found"
    DRAFTED = "drafted"
    SENT = "sent"
    REMOVED = "removed"
    DISMISSED = "dismissed"


class TakedownStatus(StrEnum):
    """Where one removal request is (`TakedownRequest.status`)."""

    DRAFTED = "drafted"
    SENT = "sent"
    REMOVED = "removed"
    FAILED = "failed"


class MatchMethod(StrEnum):
    """How a copy was recognised, strongest evidence first."""

    METADATA = "metadata"  # the share ID hidden in the copy's metadata
    WATERMARK = "watermark"  # the share ID hidden in its pixels
    PDQ = "pdq"  # the same picture by perceptual fingerprint
    FEATURES = "features"  # a crop, rotation or collage by local features


class CaseStatus(StrEnum):
    """Where a case (every found copy on one site) stands, most urgent first (`cases.assess`)."""

    OVERDUE = "overdue"  # a notice was sent, its deadline passed, copies are still up
    OPEN = "open"  # copies found, nothing sent yet
    DRAFTED = "drafted"  # a notice is drafted, not sent
    WAITING = "waiting"  # a notice was sent, its deadline is still ahead
    REMOVED = "removed"  # every address is gone


class NoticeStatus(StrEnum):
    """One notice of a case (`CaseNotice.status`)."""

    DRAFTED = "drafted"
    SENT = "sent"


class NoticeAudience(StrEnum):
    """Whom a notice of a case is for."""

    SITE = "site"  # the site that shows the copies
    PROVIDER = "provider"  # the company hosting the site (escalation)
    SEARCH = "search"  # a search engine (delisting)


class ReplyOutcome(StrEnum):
    """What came back from a site, as the user records it."""

    REMOVED = "removed"  # they say it is removed (a re-check confirms)
    REFUSED = "refused"
    MORE_INFO = "more-info"  # they ask for more information
    OTHER = "other"


class NextStep(StrEnum):
    """What Sanctum suggests doing next on a case."""

    SEND_NOTICE = "send-notice"
    FINISH_NOTICE = "finish-notice"
    WAIT = "wait"
    ESCALATE = "escalate-to-provider"
    SEARCH_DELISTING = "search-delisting"
    SECOND_NOTICE = "second-notice"
    ANSWER = "answer-the-site"
    NONE = "none"
