"""Cases: listing them (with the hashes a notice cites), re-checking their addresses."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from app.core.leaks.cases import CaseInfo
from app.core.vault import Vault

from .base import Job
from .leak_jobs import _fetcher_for

if TYPE_CHECKING:
    from app.core.leaks.fetch import FetchPolicy


@dataclass(frozen=True)
class CaseList:
    cases: list[CaseInfo]  # the most urgent first
    pdq: dict[int, str]  # photo id -> PDQ hash (hex) of the original, for the notices
    due: list[int]  # overdue cases not re-checked since their deadline


def case_list(vault: Vault) -> CaseList:
    """What the Cases view lists (run as `CallJob(vault, case_list, vault)`)."""
    cases = vault.list_cases()
    pdq: dict[int, str] = {}
    for photo_id in {p for case in cases for p in case.photo_ids}:
        prints = vault.fingerprint_of(photo_id)
        if prints is not None:
            pdq[photo_id] = prints.pdq.hex()
    return CaseList(cases, pdq, vault.cases_due_for_recheck())


class RecheckCasesJob(Job):
    """Look again at the addresses of some cases (those whose notices fell due, or the one the
    user asked about); gone addresses become removed. Cancelling stops between cases."""

    lane = "vault-write"
    title = "Checking the cases' addresses"

    def __init__(self, vault: Vault, case_ids: list[int], policy: FetchPolicy | None = None):
        super().__init__(vault)
        self.case_ids = tuple(case_ids)
        self.policy = policy

    def work(self) -> list[CaseInfo]:
        checked = []
        with _fetcher_for(self.policy) as fetcher:
            for done, case_id in enumerate(self.case_ids):
                self.check_cancelled()
                self.report_progress(done, len(self.case_ids))
                checked.append(self.vault.recheck_case(case_id, fetcher, cancel=self.cancel_event))
        self.report_progress(len(self.case_ids), len(self.case_ids))
        return checked
