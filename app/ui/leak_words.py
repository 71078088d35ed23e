"""The words for found copies and their removal requests: statuses, how a copy was recognised,
where it is, and one line per request. Shared by the Leaks view, the Cases view and the dialogs."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from app.core.leaks.enums import MatchMethod, MatchStatus, TakedownStatus
from app.core.urls import is_url
from app.core.vault import LeakMatchInfo, ShareInfo, TakedownInfo

from .errors import reason_words
from .shares_view import short_date

STATUS_WORDS = {
    MatchStatus.FOUND: "Found",
    MatchStatus.DRAFTED: "Request drafted",
    MatchStatus.SENT: "Request sent",
    MatchStatus.REMOVED: "Removed",
    TakedownStatus.FAILED: "Request failed",
}

STATUS_TIPS = {
    MatchStatus.FOUND: "Found by a scan; no removal request yet",
    MatchStatus.DRAFTED: "A removal request was drafted but not sent yet",
    MatchStatus.SENT: "A removal request was sent; “Check again” tells whether it is gone",
    MatchStatus.REMOVED: "The address no longer shows your photo",
    TakedownStatus.FAILED: "The last removal request failed: see its reason below",
}

STATUS_COLORS = {MatchStatus.FOUND: "#b42318", MatchStatus.DRAFTED: "#8a4b0f", MatchStatus.SENT: "#4456b8", MatchStatus.REMOVED: "#1e7a46",
                 TakedownStatus.FAILED: "#b42318"}

TAKEDOWN_KINDS = {
    "deletion_link": "Deletion link",
    "imgur_api": "Host API (delete-hash)",
    "notice": "Removal notice by email",
}

METHOD_NAMES = {
    MatchMethod.METADATA: "Hidden ID",
    MatchMethod.WATERMARK: "Watermark",
    MatchMethod.PDQ: "Fingerprint",
    MatchMethod.FEATURES: "Local features",
}

METHOD_TIPS = {
    MatchMethod.METADATA: "The share ID Sanctum hid in the copy's metadata",
    MatchMethod.WATERMARK: "The share ID Sanctum hid in the pixels of a shared copy",
    MatchMethod.PDQ: "The same picture, resized or re-compressed (perceptual fingerprint)",
    MatchMethod.FEATURES: "Matching details: a crop, rotation, screenshot or collage",
}


LOCAL_COPY_WORDS = ("This copy is a file on this computer: there is no site to ask. Delete the file, or ask "
                    "whoever sent it to you.")
REQUEST_LIST_MAX_HEIGHT = 160


def is_local(match: LeakMatchInfo) -> bool:
    """A file on this computer: there is no host to ask for removal."""
    return not is_url(match.source)


def share_words(share: ShareInfo | None, share_id: str | None) -> str:
    if share is not None:
        where = f" on {share.platform}" if share.platform else ""
        return f"this is the copy you shared with {share.recipient}{where} on {short_date(share.created_at)}"
    if share_id:
        return f"it carries share ID {share_id}, of which this vault has no record any more"
    return ""


def method_words(match: LeakMatchInfo, share: ShareInfo | None = None) -> str:
    """One sentence: how the copy was recognised, and whose copy it was when that is known."""
    if match.method == MatchMethod.WATERMARK:
        return f"Found by its invisible watermark — {share_words(share, match.share_id)}."
    if match.method == MatchMethod.METADATA:
        exact = " (the very file, unchanged)" if "exact" in (match.detail or "") else ""
        return f"Found by the ID hidden in the file — {share_words(share, match.share_id)}{exact}."
    if match.method == MatchMethod.PDQ:
        return "Found by its fingerprint: the same picture, resized or re-compressed."
    if match.method == MatchMethod.FEATURES:
        if match.region and match.found_size and _inside(match.region, match.found_size):
            return "Found by its local features: your photo appears inside a larger picture (a screenshot or collage)."
        return "Found by its local features (a crop, rotation or screenshot)."
    return match.detail or "Found."


def _inside(region: list, size: tuple[int, int]) -> bool:
    """The whole vault photo lies well inside the found picture (a screenshot, a collage)."""
    w, h = size
    xs, ys = [p[0] for p in region], [p[1] for p in region]
    area = abs(sum(xs[i] * ys[i - 1] - xs[i - 1] * ys[i] for i in range(len(xs)))) / 2
    return min(xs) > -0.03 * w and min(ys) > -0.03 * h and max(xs) < 1.03 * w and max(ys) < 1.03 * h \
        and area < 0.8 * w * h


def strength_words(match: LeakMatchInfo) -> str:
    """Score and distances, for the curious: "124 matching points, score 1.00"."""
    parts = []
    if match.inliers:
        parts.append(f"{match.inliers} matching points")
    if match.pdq_distance is not None:
        parts.append(f"fingerprint distance {match.pdq_distance} of 256")
    parts.append(f"score {match.score:.2f}")
    return ", ".join(parts)


def place_of(match: LeakMatchInfo) -> str:
    """Where it was found, short: a file's name, or the host and path of a URL."""
    source = match.source
    if is_url(source):
        return source.split("://", 1)[1]
    return Path(source).name or source


def takedown_line(request: TakedownInfo) -> str:
    status = request.status
    detail = f" — {reason_words(request.detail)}" if request.detail else ""
    return (f"{TAKEDOWN_KINDS.get(request.kind, request.kind)}: {status}{detail} "
            f"({short_date(request.updated_at)}, {request.updated_at:%H:%M})")


def rescan_places(matches: Iterable[LeakMatchInfo]) -> list[str]:
    """The places already recorded, once each: the page a copy was on, else the copy itself."""
    places: list[str] = []
    for match in matches:
        place = match.found_on or match.source
        if place not in places:
            places.append(place)
    return places


