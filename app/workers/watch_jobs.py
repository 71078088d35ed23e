"""The watch list's jobs: the scheduled check of the places that are due, and the list itself."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from .base import Job

if TYPE_CHECKING:  # light at start-up: the session holds a scheduler before any vault is open
    from app.core.leaks.fetch import FetchPolicy
    from app.core.leaks.watch import WatchedPlaceInfo, WatchOutcome
    from app.core.vault import Vault


class WatchJob(Job):
    """Re-check the watched places that are due (all of them with `due_only=False`).

    On its own "watch" lane, so a scheduled check never queues in front of the user's scans;
    it writes match rows in short transactions like a scan does. Cancelling (the vault locking)
    stops between images; a stopped place stays due."""

    lane = "watch"
    title = "Checking watched places"

    def __init__(self, vault: Vault, *, due_only: bool = True, now: datetime | None = None,
                 policy: FetchPolicy | None = None):
        super().__init__(vault)
        self.due_only = due_only
        self.now = now
        self.policy = policy

    def work(self) -> WatchOutcome:
        from .leak_jobs import _fetcher_for  # the scan stack loads only when a check runs

        with _fetcher_for(self.policy) as fetcher:
            return self.vault.scan_watched(due_only=self.due_only, now=self.now, progress=self.report_progress,
                                           cancel=self.cancel_event, fetcher=fetcher)


def list_watched(vault: Vault) -> list[WatchedPlaceInfo]:
    """The watch list (run as `CallJob(vault, list_watched, vault)`)."""
    return vault.list_watched()


def watch_source(vault: Vault, source: str) -> WatchedPlaceInfo:
    """Watch one address with the default options ("Watch this page" on a found copy)."""
    return vault.watch_place(source)


def unwatch(vault: Vault, place_id: int) -> list[WatchedPlaceInfo]:
    """Stop watching one place; the list as it is now (`CallJob(..., lane="vault-write")`)."""
    vault.unwatch_place(place_id)
    return vault.list_watched()
