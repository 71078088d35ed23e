"""Protected copies: making one (listing them is a `CallJob` of `Vault.list_shares`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from app.core.vault import ShareOutcome, Vault

from .base import Job

if TYPE_CHECKING:  # the sharing stack (numpy, the watermark) loads only when sharing is used
    from app.core.sharing import ShareOptions


@dataclass(frozen=True)
class ShareRequest:
    photo_id: int
    out_path: str
    options: ShareOptions


class ShareJob(Job):
    """Write a protected copy (decrypt, watermark, sign, encode) and record the share.

    On the vault-write lane: it adds a row, and a second share of the same photo waits.
    """

    lane = "vault-write"
    title = "Making a protected copy"
    # Immunizing takes seconds to a minute and checks for a cancel between its steps; a cancel
    # is honoured until the copy is complete, never after its record is written.

    def __init__(self, vault: Vault, request: ShareRequest):
        super().__init__(vault)
        self.request = request

    def work(self) -> ShareOutcome:
        r = self.request
        self.report_progress(0, 1000)
        progress = self.report_progress if r.options.immunize else None
        return self.vault.share(r.photo_id, r.out_path, r.options, progress=progress,
                                cancel=self.cancel_event)



