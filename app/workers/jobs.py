"""The jobs the app runs: thin wrappers around core calls, on the job base.

Results are dataclasses (or core dataclasses); images cross threads as `QImage`, which is
implicitly shared and safe to hand over; `QPixmap` is only ever made on the UI thread.
"""

from __future__ import annotations

import contextlib
import io
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QImage

from app.core import crypto
from app.core.errors import Cancelled, PhotoNotFound
from app.core.vault import (
    ExportReport,
    ImportReport,
    LeakMatchInfo,
    PhotoInfo,
    ScanOutcome,
    ShareInfo,
    ShareOutcome,
    TakedownInfo,
    Vault,
    VaultCreated,
)

from .base import Job, JobSignals

if TYPE_CHECKING:  # the sharing stack (numpy, the watermark) loads only when sharing is used
    from app.core.leaks.fetch import FetchPolicy
    from app.core.leaks.takedown import Requester, TakedownContact
    from app.core.sharing import InspectReport, ShareOptions

log = logging.getLogger(__name__)


# --- opening a vault -------------------------------------------------------------------------


@dataclass(frozen=True)
class CreateRequest:
    path: Path
    passphrase: str = field(repr=False)
    enable_totp: bool
    kdf: crypto.KdfParams | None = None


@dataclass(frozen=True)
class CreatedVault:
    vault: Vault
    created: VaultCreated = field(repr=False)


class CreateVaultJob(Job):
    cancellable = False

    def __init__(self, request: CreateRequest):
        super().__init__()
        self.request = request

    def work(self) -> CreatedVault:
        r = self.request
        vault, created = Vault.create(r.path, r.passphrase, enable_totp=r.enable_totp, kdf=r.kdf)
        self.vault = vault  # so the base releases this thread's DB connection
        return CreatedVault(vault, created)


class RecreateWithoutTotpJob(Job):
    """Setup only: the user skipped the authenticator after the vault was made with one.

    The vault is seconds old, empty, and its recovery key was not shown yet, so it is removed
    and made again without TOTP (the core has no "disable TOTP" call).
    """

    cancellable = False

    def __init__(self, old: Vault, request: CreateRequest):
        super().__init__()
        self.old = old
        self.request = request

    def work(self) -> CreatedVault:
        remove_new_vault(self.old)
        r = self.request
        vault, created = Vault.create(r.path, r.passphrase, enable_totp=False, kdf=r.kdf)
        self.vault = vault
        return CreatedVault(vault, created)


# Only what Vault.create writes; anything else in the folder is left alone.
_NEW_VAULT_FILES = ("vault.json", "vault.json.tmp", "vault.db", "vault.db-wal", "vault.db-shm",
                    "auth-state.json", "auth-state.tmp", "vault.lock")


def remove_new_vault(vault: Vault) -> None:
    """Remove a vault made moments ago in the setup wizard (never one holding photos)."""
    path = vault.path
    if vault.is_open and vault.count() != 0:
        raise RuntimeError("refusing to remove a vault that holds photos")
    vault.lock()
    for name in _NEW_VAULT_FILES:
        (path / name).unlink(missing_ok=True)
    blobs = path / "blobs"
    if blobs.is_dir():
        for sub in sorted(blobs.rglob("*"), reverse=True):
            if sub.is_dir():
                sub.rmdir()
            else:
                sub.unlink()
        blobs.rmdir()
    try:
        path.rmdir()  # only if empty
    except OSError:
        pass


@dataclass(frozen=True)
class UnlockRequest:
    path: Path
    passphrase: str = field(repr=False)
    totp_code: str | None = field(default=None, repr=False)
    recovery_code: str | None = field(default=None, repr=False)


class UnlockJob(Job):
    cancellable = False

    def __init__(self, request: UnlockRequest):
        super().__init__()
        self.request = request

    def work(self) -> Vault:
        r = self.request
        vault = Vault.unlock(r.path, r.passphrase, totp_code=r.totp_code or None,
                             recovery_code=r.recovery_code or None)
        self.vault = vault
        return vault


class RecoverJob(Job):
    cancellable = False

    def __init__(self, path: Path, recovery_key: str):
        super().__init__()
        self.path = path
        self.recovery_key = recovery_key

    def work(self) -> Vault:
        vault = Vault.recover(self.path, self.recovery_key)
        self.vault = vault
        return vault


class ChangePassphraseJob(Job):
    cancellable = False

    def __init__(self, vault: Vault, new_passphrase: str, kdf: crypto.KdfParams | None = None):
        super().__init__(vault)
        self._new = new_passphrase
        self.kdf = kdf

    def work(self) -> None:
        self.vault.change_passphrase(self._new, kdf=self.kdf)


# --- reading ------------------------------------------------------------------------------------


class ListPhotosJob(Job):
    def work(self) -> list[PhotoInfo]:
        return self.vault.list_photos(newest_first=True)


@dataclass(frozen=True)
class Thumbnail:
    photo_id: int
    size: int  # the square edge it was made for, in device pixels
    image: QImage


class ThumbnailSignals(JobSignals):
    loaded = Signal(object)  # list[Thumbnail], a few at a time


def square_thumbnail(data: bytes, edge: int) -> QImage:
    """Decode a JPEG thumbnail and centre-crop it to a square of `edge` pixels."""
    image = QImage.fromData(data)
    if image.isNull():
        return image
    scaled = image.scaled(QSize(edge, edge), Qt.AspectRatioMode.KeepAspectRatioByExpanding,
                          Qt.TransformationMode.SmoothTransformation)
    x = (scaled.width() - edge) // 2
    y = (scaled.height() - edge) // 2
    return scaled.copy(x, y, edge, edge)


class ThumbnailJob(Job):
    """Decrypt and decode a batch of small thumbnails; hands them over a few at a time."""

    def __init__(self, vault: Vault, photo_ids: list[int], edge: int):
        super().__init__(vault)
        self.photo_ids = list(photo_ids)
        self.edge = edge

    def make_signals(self) -> ThumbnailSignals:
        return ThumbnailSignals()

    def work(self) -> list[int]:
        batch: list[Thumbnail] = []
        failed: list[int] = []
        last_emit = time.monotonic()
        for photo_id in self.photo_ids:
            self.check_cancelled()
            try:
                data = self.vault.read_thumbnail(photo_id, "small")
            except Exception:  # noqa: BLE001 - one damaged thumbnail must not stop the rest
                log.warning("thumbnail of photo %s could not be read", photo_id)
                failed.append(photo_id)
                continue
            batch.append(Thumbnail(photo_id, self.edge, square_thumbnail(data, self.edge)))
            now = time.monotonic()
            if len(batch) >= 8 or now - last_emit > 0.05:
                self.signals.loaded.emit(batch)
                batch, last_emit = [], now
        if batch:
            self.signals.loaded.emit(batch)
        return failed


@dataclass(frozen=True)
class FullImage:
    photo_id: int
    info: PhotoInfo
    image: QImage


def decode_for_display(data: bytes, max_side: int) -> QImage:
    """Decode original bytes in memory at up to `max_side` pixels, EXIF orientation applied."""
    from PIL import Image, ImageOps

    import app.core.imaging  # noqa: F401 - registers the HEIC opener

    with Image.open(io.BytesIO(data)) as im:
        im.draft("RGB", (max_side, max_side))  # JPEG: decode at a reduced scale, much faster
        im = ImageOps.exif_transpose(im)
        if im.mode not in ("RGB", "RGBA"):
            im = im.convert("RGBA" if "A" in im.getbands() or "transparency" in im.info else "RGB")
        if max(im.size) > max_side:
            im.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
        fmt = QImage.Format.Format_RGBA8888 if im.mode == "RGBA" else QImage.Format.Format_RGB888
        raw = im.tobytes()
        bpl = im.width * (4 if im.mode == "RGBA" else 3)
        return QImage(raw, im.width, im.height, bpl, fmt).copy()  # copy: own the pixels


class FullImageJob(Job):
    def __init__(self, vault: Vault, photo_id: int, max_side: int = 4096):
        super().__init__(vault)
        self.photo_id = photo_id
        self.max_side = max_side

    def work(self) -> FullImage:
        info = self.vault.photo(self.photo_id)
        data = self.vault.read_original(self.photo_id)
        self.check_cancelled()
        image = decode_for_display(data, self.max_side)
        del data
        return FullImage(self.photo_id, info, image)


# --- writing: one at a time ---------------------------------------------------------------------


class ImportSignals(JobSignals):
    photos_added = Signal(object)  # list[PhotoInfo], batched


class ImportJob(Job):
    lane = "vault-write"
    title = "Adding photos"

    #: Batching: the gallery gets new photos at most this often (seconds) or this many at once.
    BATCH_SECONDS = 0.25
    BATCH_SIZE = 32

    def __init__(self, vault: Vault, paths: list[str]):
        super().__init__(vault)
        self.paths = [str(p) for p in paths]
        self._pending: list[int] = []
        self._last_flush = 0.0

    def make_signals(self) -> ImportSignals:
        return ImportSignals()

    def _on_imported(self, photo_id: int) -> None:
        self._pending.append(photo_id)
        now = time.monotonic()
        if len(self._pending) >= self.BATCH_SIZE or now - self._last_flush >= self.BATCH_SECONDS:
            self._flush()

    def _flush(self) -> None:
        if not self._pending:
            return
        ids, self._pending = self._pending, []
        self._last_flush = time.monotonic()
        self.signals.photos_added.emit(self.vault.list_photos(ids=ids))

    def work(self) -> ImportReport:
        self._last_flush = time.monotonic()
        try:
            report = self.vault.import_paths(self.paths, progress=self.report_progress,
                                             cancel=self.cancel_event, on_imported=self._on_imported)
        finally:
            self._flush()
        return report


class ExportJob(Job):
    lane = "vault-write"
    title = "Exporting photos"

    def __init__(self, vault: Vault, photo_ids: list[int], out_dir: str):
        super().__init__(vault)
        self.photo_ids = list(photo_ids)
        self.out_dir = out_dir

    def work(self) -> ExportReport:
        return self.vault.export(self.photo_ids, self.out_dir, progress=self.report_progress,
                                 cancel=self.cancel_event)


@dataclass(frozen=True)
class DeleteResult:
    deleted: list[int]


class DeleteJob(Job):
    lane = "vault-write"
    title = "Deleting photos"
    cancellable = False  # each photo goes in its own transaction; a half-done delete is confusing

    def __init__(self, vault: Vault, photo_ids: list[int]):
        super().__init__(vault)
        self.photo_ids = list(photo_ids)

    def work(self) -> DeleteResult:
        deleted: list[int] = []
        total = len(self.photo_ids)
        self.report_progress(0, total)
        # One call per photo so progress moves; the core deletes each in its own transaction.
        for n, photo_id in enumerate(self.photo_ids, 1):
            deleted += self.vault.delete([photo_id])
            self.report_progress(n, total)
        return DeleteResult(deleted)


# --- protected copies --------------------------------------------------------------------------


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
    cancellable = False  # one core call; once it runs, stopping half-way would gain nothing

    def __init__(self, vault: Vault, request: ShareRequest):
        super().__init__(vault)
        self.request = request

    def work(self) -> ShareOutcome:
        r = self.request
        return self.vault.share(r.photo_id, r.out_path, r.options)


@dataclass(frozen=True)
class ShareList:
    photo_id: int | None  # None: every share of the vault
    shares: list[ShareInfo]


class ListSharesJob(Job):
    def __init__(self, vault: Vault, photo_id: int | None = None):
        super().__init__(vault)
        self.photo_id = photo_id

    def work(self) -> ShareList:
        return ShareList(self.photo_id, self.vault.list_shares(self.photo_id))


@dataclass(frozen=True)
class InspectResult:
    path: str
    report: InspectReport
    share: ShareInfo | None  # the vault's record when the copy is one of its shares
    photo: PhotoInfo | None  # the shared photo, while it is still in the vault
    preview: QImage


class InspectJob(Job):
    """Read a file and everything a protected copy carries (up to ~1 s for 12 MP)."""

    PREVIEW_SIDE = 1024

    def __init__(self, vault: Vault, path: str):
        super().__init__(vault)
        self.path = str(path)

    def work(self) -> InspectResult:
        with open(self.path, "rb") as f:
            data = f.read()
        self.check_cancelled()
        report, share = self.vault.inspect(data)  # raises UnsupportedImage for non-images
        self.check_cancelled()
        photo = None
        if share is not None and share.photo_id is not None:
            try:
                photo = self.vault.photo(share.photo_id)
            except PhotoNotFound:
                photo = None
        preview = decode_for_display(data, self.PREVIEW_SIDE)
        del data
        return InspectResult(self.path, report, share, photo, preview)


# --- leak scans and removal requests -----------------------------------------------------------


def _fetcher_for(policy: FetchPolicy | None):
    """A fetcher made (and closed) on the worker thread; None lets the core use its defaults."""
    if policy is None:
        return contextlib.nullcontext(None)
    from app.core.leaks.fetch import Fetcher

    return Fetcher(policy)


class ScanJob(Job):
    """Look for vault photos in files, folders, image URLs and pages (seconds to minutes).

    On the vault-write lane: it writes match rows. Cancelling stops between images; the matches
    found until then are recorded and returned (`ScanOutcome.cancelled` says it stopped early).
    `policy` sets the HTTP limits (tests use short timeouts against a host on 127.0.0.1).
    """

    lane = "vault-write"
    title = "Scanning for leaks"

    def __init__(self, vault: Vault, sources: list[str], policy: FetchPolicy | None = None):
        super().__init__(vault)
        self.sources = tuple(str(s) for s in sources)
        self.policy = policy

    def work(self) -> ScanOutcome:
        with _fetcher_for(self.policy) as fetcher:
            return self.vault.scan(list(self.sources), progress=self.report_progress,
                                   cancel=self.cancel_event, fetcher=fetcher)


@dataclass(frozen=True)
class MatchList:
    matches: list[LeakMatchInfo]
    takedowns: list[TakedownInfo]  # every removal request, newest first
    shares: dict[str, ShareInfo]  # share ID -> record, for matches that name a share


def _shares_of(vault: Vault, matches: list[LeakMatchInfo]) -> dict[str, ShareInfo]:
    shares: dict[str, ShareInfo] = {}
    for share_id in {m.share_id for m in matches if m.share_id}:
        share = vault.find_share(share_id)
        if share is not None:
            shares[share_id] = share
    return shares


class ListMatchesJob(Job):
    def work(self) -> MatchList:
        matches = self.vault.list_matches()
        return MatchList(matches, self.vault.list_takedowns(), _shares_of(self.vault, matches))


@dataclass(frozen=True)
class MatchEvidence:
    """What a match row shows: the vault photo and the found copy, decoded for display."""

    match: LeakMatchInfo
    photo: QImage | None  # the vault photo's large thumbnail; None once the photo is deleted
    found: QImage | None  # the small copy of the found image kept as evidence
    share: ShareInfo | None


class EvidenceSignals(JobSignals):
    loaded = Signal(object)  # list[MatchEvidence], a few at a time


class EvidenceJob(Job):
    """Decrypt and decode both pictures of each match; hands them over a few at a time."""

    def __init__(self, vault: Vault, matches: list[LeakMatchInfo]):
        super().__init__(vault)
        self.matches = list(matches)

    def make_signals(self) -> EvidenceSignals:
        return EvidenceSignals()

    def work(self) -> int:
        batch: list[MatchEvidence] = []
        shares: dict[str, ShareInfo | None] = {}
        for match in self.matches:
            self.check_cancelled()
            photo = found = None
            if match.photo_id is not None:
                try:
                    photo = QImage.fromData(self.vault.read_thumbnail(match.photo_id, "large"))
                except PhotoNotFound:
                    photo = None
            evidence = self.vault.match_evidence(match.id)
            if evidence:
                found = QImage.fromData(evidence)
            share = None
            if match.share_id:
                if match.share_id not in shares:
                    shares[match.share_id] = self.vault.find_share(match.share_id)
                share = shares[match.share_id]
            batch.append(MatchEvidence(match, photo if photo is None or not photo.isNull() else None,
                                       found if found is None or not found.isNull() else None, share))
            if len(batch) >= 4:
                self.signals.loaded.emit(batch)
                batch = []
        if batch:
            self.signals.loaded.emit(batch)
        return len(self.matches)


class DraftTakedownJob(Job):
    lane = "vault-write"
    cancellable = False

    def __init__(self, vault: Vault, match_id: int, contact: TakedownContact, requester: Requester):
        super().__init__(vault)
        self.match_id = match_id
        self.contact = contact
        self.requester = requester

    def work(self) -> TakedownInfo:
        return self.vault.draft_takedown(self.match_id, self.contact, self.requester)


class SendTakedownJob(Job):
    """Request the deletion link / call the API, or record that the user sent the notice.

    A refusal is recorded by the core as "failed" with its reason, and raised (→ `failed`)."""

    lane = "vault-write"
    cancellable = False  # one short request, bounded by the fetch timeouts

    def __init__(self, vault: Vault, takedown_id: int, policy: FetchPolicy | None = None):
        super().__init__(vault)
        self.takedown_id = takedown_id
        self.policy = policy

    def work(self) -> TakedownInfo:
        with _fetcher_for(self.policy) as fetcher:
            return self.vault.send_takedown(self.takedown_id, fetcher)


class RecheckTakedownJob(Job):
    """Look at the found address again: gone, or no longer the photo, marks it removed."""

    lane = "vault-write"
    cancellable = False

    def __init__(self, vault: Vault, takedown_id: int, policy: FetchPolicy | None = None):
        super().__init__(vault)
        self.takedown_id = takedown_id
        self.policy = policy

    def work(self) -> TakedownInfo:
        with _fetcher_for(self.policy) as fetcher:
            return self.vault.recheck_takedown(self.takedown_id, fetcher)


@dataclass(frozen=True)
class HashExport:
    photo_id: int
    hashes: dict  # the core's export: PDQ + MD5, never the photo


class HashExportJob(Job):
    def __init__(self, vault: Vault, photo_id: int):
        super().__init__(vault)
        self.photo_id = photo_id

    def work(self) -> HashExport:
        return HashExport(self.photo_id, self.vault.hash_export(self.photo_id))


__all__ = [
    "Cancelled", "CreateRequest", "CreateVaultJob", "CreatedVault", "DeleteJob", "DeleteResult",
    "DraftTakedownJob", "EvidenceJob", "HashExport", "HashExportJob", "ListMatchesJob", "MatchEvidence",
    "MatchList", "RecheckTakedownJob", "ScanJob", "SendTakedownJob",
    "ExportJob", "FullImage", "FullImageJob", "ImportJob", "InspectJob", "InspectResult", "ListPhotosJob",
    "ListSharesJob", "RecoverJob", "RecreateWithoutTotpJob", "ShareJob", "ShareList", "ShareRequest",
    "Thumbnail", "ThumbnailJob", "UnlockJob", "UnlockRequest",
    "ChangePassphraseJob", "decode_for_display", "remove_new_vault", "square_thumbnail",
]
