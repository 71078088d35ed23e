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
