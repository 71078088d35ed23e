"""The watch list: pages, image addresses and folders the user wants re-checked, on a schedule.

A watched place keeps, in the encrypted database only, its address or path, how far to read it
(`crawl.PageOptions`), how often, when it was last checked and what that found, and what was
already looked at: each image address with the SHA-256 of what it served, each file with its
size and modification time. A re-check fetches the place's pages again (that is how new images
show), then only the image addresses not looked at before, and reads only the files that
changed. Never HTTP validators: an ETag sent back in a later session would let a host recognise
the user like a cookie (`db.UrlCache`). A full re-check (`full=True`) looks at everything again.

What a check reports as new is a copy the vault had not recorded before (`LeakStore.record`).
Addresses are never logged.
"""

from __future__ import annotations

import json
import os
import stat
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

from .. import db
from ..db import WatchedPlace
from ..urls import is_url
from ..vault.records import LeakMatchInfo, Progress, ScanOutcome, as_datetime, local_now, no_progress
from .crawl import PageOptions
from .errors import WatchError

if TYPE_CHECKING:
    from ..vault import Vault
    from .fetch import Fetcher
    from .sources import Candidate
    from .store import LeakStore

# What a place remembers having looked at, at most: the most recently listed are kept, so a
# page's current images stay remembered and an address it dropped long ago goes first.
MAX_CHECKED = 5000
MAX_CHECKED_FILES = 20_000  # a phone's backup folder holds more than a page ever shows
DEFAULT_EVERY_HOURS = 24.0
MIN_EVERY_HOURS = 0.25
MAX_EVERY_HOURS = 24.0 * 90
_PROGRESS_STEPS = 1000  # per place, so several places make one bar


class PlaceKind(StrEnum):
    WEB = "web"  # a page or an image address
    FILES = "files"  # a folder or a file on this computer


@dataclass(frozen=True)
class WatchResult:
    """What one check of one place saw."""

    place_id: int
    checked_at: datetime
    scanned: int  # images looked at
    skipped: int  # images left alone: looked at before, unchanged
    found: int  # copies seen (new or not)
    new: list[int] = field(default_factory=list)  # ids of copies not recorded before
    changed: int = 0  # on a full re-check: addresses that now serve other bytes
    errors: int = 0
    cancelled: bool = False

    def to_json(self) -> dict:
        return {"place_id": self.place_id, "checked_at": self.checked_at.isoformat(timespec="seconds"),
                "scanned": self.scanned, "skipped": self.skipped, "found": self.found, "new": list(self.new),
                "changed": self.changed, "errors": self.errors, "cancelled": self.cancelled}

    @classmethod
    def from_json(cls, data: dict) -> WatchResult:
        return cls(int(data["place_id"]), datetime.fromisoformat(data["checked_at"]), int(data["scanned"]),
                   int(data["skipped"]), int(data["found"]), [int(i) for i in data.get("new", [])],
                   int(data.get("changed", 0)), int(data.get("errors", 0)), bool(data.get("cancelled")))


@dataclass(frozen=True)
class WatchedPlaceInfo:
    id: int
    source: str
    kind: PlaceKind
    pages: PageOptions
    every_hours: float
    created_at: datetime
    checked_at: datetime | None
    last_result: WatchResult | None
    remembered: int  # image addresses or files already looked at

    @property
    def due_at(self) -> datetime:
        return self.checked_at + timedelta(hours=self.every_hours) if self.checked_at else self.created_at

    def is_due(self, now: datetime) -> bool:
        return self.checked_at is None or self.due_at <= now

    def to_json(self) -> dict:
        return {"id": self.id, "source": self.source, "kind": str(self.kind), "depth": self.pages.depth,
                "max_pages": self.pages.max_pages, "browser": self.pages.browser, "every_hours": self.every_hours,
                "created_at": self.created_at.isoformat(timespec="seconds"),
                "checked_at": self.checked_at.isoformat(timespec="seconds") if self.checked_at else None,
                "due_at": self.due_at.isoformat(timespec="seconds"), "remembered": self.remembered,
                "last_result": self.last_result.to_json() if self.last_result else None}


@dataclass(frozen=True)
class WatchOutcome:
    """A run over watched places: each place's result, and everything found, as a scan's."""

    results: list[WatchResult]
    scan: ScanOutcome
    new: list[int]  # ids of the copies not recorded before, over every place

    @property
    def new_matches(self) -> list[LeakMatchInfo]:
        new = set(self.new)
        return [m for m in self.scan.matches if m.id in new]


def place_info(row: WatchedPlace) -> WatchedPlaceInfo:
    result = None
    if row.last_result:
        try:
            result = WatchResult.from_json(json.loads(row.last_result))
        except (ValueError, KeyError, TypeError):
            result = None  # an older shape: shown as not yet checked, the next check rewrites it
    return WatchedPlaceInfo(
        row.id, row.source, PlaceKind.WEB if is_url(row.source) else PlaceKind.FILES,
        PageOptions(depth=row.depth, max_pages=row.max_pages, browser=bool(row.browser)), float(row.every_hours),
        as_datetime(row.created_at), as_datetime(row.checked_at) if row.checked_at else None, result,
        len(_checked_of(row)))


def _checked_of(row: WatchedPlace) -> dict[str, object]:
    try:
        value = json.loads(row.checked or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


class WatchStore:
    """The watch list of one open vault."""

    def __init__(self, vault: Vault, leaks: LeakStore):
        self._vault = vault
        self._leaks = leaks

    def add(self, source: str, pages: PageOptions | None = None, every_hours: float = DEFAULT_EVERY_HOURS,
            now: datetime | None = None) -> WatchedPlaceInfo:
        """Watch `source` (a page or image address, or a folder or file). Watching it again changes
        its options and keeps what it already looked at."""
        self._vault._require_open()
        pages = pages or PageOptions()
        if not MIN_EVERY_HOURS <= every_hours <= MAX_EVERY_HOURS:
            raise WatchError(f"A place can be checked every {MIN_EVERY_HOURS:g} to {MAX_EVERY_HOURS:g} hours.")
        source = source.strip()
        if not source:
            raise WatchError("Nothing to watch: give a web address or a folder.")
        if not is_url(source):
            path = Path(source).expanduser()
            if not path.exists():
                raise WatchError("There is no such file or folder to watch.")
            source = str(path.absolute())
        with db.database.atomic():
            row = WatchedPlace.get_or_none(WatchedPlace.source == source)
            if row is None:
                row = WatchedPlace.create(source=source, created_at=now or local_now())
            row.depth, row.max_pages, row.browser = pages.depth, pages.max_pages, pages.browser
            row.every_hours = float(every_hours)
            row.save()
        return place_info(row)

    def remove(self, place_id: int) -> None:
        self._vault._require_open()
        with db.database.atomic():
            if WatchedPlace.delete().where(WatchedPlace.id == place_id).execute() != 1:
                raise WatchError(f"No watched place with id {place_id}.")

    def list(self) -> list[WatchedPlaceInfo]:
        self._vault._require_open()
        return [place_info(row) for row in WatchedPlace.select().order_by(WatchedPlace.id)]

    def due(self, now: datetime | None = None) -> list[WatchedPlaceInfo]:
        now = now or local_now()
        return [place for place in self.list() if place.is_due(now)]

    def scan(self, place_ids: list[int] | None = None, *, due_only: bool = True, full: bool = False,
             now: datetime | None = None, progress: Progress = no_progress, cancel: threading.Event | None = None,
             fetcher: Fetcher | None = None) -> WatchOutcome:
        """Check the watched places (those named, else all; only the due ones unless `due_only` is
        False) and record what they show, as a scan does."""
        cancel = cancel or threading.Event()
        now = now or local_now()
        places = self.list()
        if place_ids is not None:
            wanted = set(place_ids)
            missing = wanted - {p.id for p in places}
            if missing:
                raise WatchError(f"No watched place with id {min(missing)}.")
            places = [p for p in places if p.id in wanted]
        if due_only:
            places = [p for p in places if p.is_due(now)]
        results: list[WatchResult] = []
        outcomes: list[ScanOutcome] = []
        new: list[int] = []
        total = len(places) * _PROGRESS_STEPS
        progress(0, total)
        matcher = self._leaks.build_matcher() if places else None
        for index, place in enumerate(places):
            if cancel.is_set():
                break
            base = index * _PROGRESS_STEPS

            def step(done: int, of: int, base: int = base) -> None:
                progress(base + (done * _PROGRESS_STEPS // of if of else 0), total)

            result, outcome = self._check(place, full, now, step, cancel, fetcher, matcher)
            results.append(result)
            outcomes.append(outcome)
            new.extend(result.new)
            progress(base + _PROGRESS_STEPS, total)
        combined = ScanOutcome(sum(o.scanned for o in outcomes), [e for o in outcomes for e in o.errors],
                               _unique([m for o in outcomes for m in o.matches]),
                               cancel.is_set() or any(o.cancelled for o in outcomes))
        return WatchOutcome(results, combined, new)

    def _check(self, place: WatchedPlaceInfo, full: bool, now: datetime, progress: Progress,
               cancel: threading.Event, fetcher: Fetcher | None, matcher) -> tuple[WatchResult, ScanOutcome]:
        row = WatchedPlace.get_by_id(place.id)
        earlier = _checked_of(row)
        listed: dict[str, object] = {}  # what this check saw listed, with a file's (size, mtime) now

        def skip(candidate: Candidate) -> bool:
            if candidate.is_url:
                listed.setdefault(candidate.location, None)
                return not full and candidate.location in earlier
            try:
                info = os.stat(candidate.location)
            except OSError:
                return False  # the scan says why it cannot be read
            if not stat.S_ISREG(info.st_mode):
                return False  # the folder itself: always listed again
            now_stat = [info.st_size, info.st_mtime_ns]
            listed[candidate.location] = now_stat
            return not full and earlier.get(candidate.location) == now_stat

        report = self._leaks.run([place.source], progress, cancel, fetcher, place.pages, skip, matcher)
        outcome, new = self._leaks.record(report)
        failed = {problem.source for problem in report.errors}
        changed = 0
        looked: dict[str, object] = {}
        for location, value in listed.items():
            if location in report.checked:
                if value is None:  # an image address: what it served ("" answered from the session cache)
                    sha = report.checked[location] or earlier.get(location, "")
                    if location in earlier and report.checked[location] and earlier[location] != sha:
                        changed += 1
                    looked[location] = sha
                else:
                    looked[location] = value
            elif value is not None and location in failed:
                looked[location] = value  # an unchanged file that cannot be read is not read again
            elif location in earlier:
                looked[location] = earlier[location]
        # Still-listed places last (most recent), then bounded from the oldest.
        kept = {k: v for k, v in earlier.items() if k not in looked}
        kept.update(looked)
        bound = MAX_CHECKED_FILES if place.kind == PlaceKind.FILES else MAX_CHECKED
        bounded = dict(list(kept.items())[-bound:])
        finished = not report.cancelled
        result = WatchResult(place.id, now, report.scanned, report.skipped, len(outcome.matches), new, changed,
                             len(report.errors), report.cancelled)
        with db.database.atomic():
            fields = {WatchedPlace.checked: json.dumps(bounded)}
            if finished:  # a stopped check stays due; what it did look at is remembered
                fields |= {WatchedPlace.checked_at: now, WatchedPlace.last_result: json.dumps(result.to_json())}
            WatchedPlace.update(fields).where(WatchedPlace.id == place.id).execute()
        return result, outcome


def _unique(matches: list[LeakMatchInfo]) -> list[LeakMatchInfo]:
    seen: set[int] = set()
    return [m for m in matches if not (m.id in seen or seen.add(m.id))]

