"""Cases: listing them (with the hashes a notice cites), re-checking their addresses, their
evidence report."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from app.core.leaks.cases import CaseInfo
from app.core.vault import ReportWritten, Vault

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


@dataclass(frozen=True)
class ReportRequest:
    """An evidence report of one case, as the user asked for it in the report dialog."""

    case_id: int
    out: str  # the PDF; its signature goes beside it as out + ".sig"
    full_thumbnails: bool = False  # the found pictures unblurred: only when the user chose it
    attach_pages: bool = True
    prepared_by: str | None = None


def write_case_report(vault: Vault, request: ReportRequest) -> ReportWritten:
    """Gather, render and sign (run as `CallJob(vault, write_case_report, vault, request)`)."""
    evidence = vault.case_report_evidence(request.case_id, prepared_by=request.prepared_by or None)
    return vault.write_report(evidence, request.out, full_thumbnails=request.full_thumbnails,
                              attach_pages=request.attach_pages)


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
