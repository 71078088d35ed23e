"""The jobs the app runs: thin wrappers around core calls, on the job base.

Results are dataclasses (or core dataclasses); images cross threads as `QImage`, which is
implicitly shared and safe to hand over; `QPixmap` is only ever made on the UI thread.
"""

from __future__ import annotations

import contextlib
import io
import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QImage

from app.core import crypto, organize
from app.core.errors import Cancelled, PhotoNotFound
from app.core.organize import FaceInfo, OrganiseSummary, PersonEdit, TagCount
from app.core.search import PhotoQuery
from app.core.vault import (
    ExportReport,
    ImportReport,
    KeysRotated,
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
    from app.core.organize import IndexReport, PhotoDetails
    from app.core.sharing import ShareOptions

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

    def work(self) -> KeysRotated:
        return self.vault.change_passphrase(self._new, kdf=self.kdf, progress=self.report_progress)


# --- reading ------------------------------------------------------------------------------------


class ListPhotosJob(Job):
    def work(self) -> list[PhotoInfo]:
        return self.vault.list_photos(newest_first=True)


@dataclass(frozen=True)
class Thumbnail:
    photo_id: int
    size: int  # the square edge it was made for, in device pixels
    image: QImage
    sensitive: bool = False  # flagged (by the model or the user)
    blurred: bool = False  # blurred in the worker: no sharp copy of it exists in this process


# --- sensitive photos: blurred in the worker, before any QImage of them exists -------------------


@dataclass(frozen=True)
class RevealState:
    """A snapshot of what the user chose to see sharp: every photo, or these ids."""

    reveal_all: bool = False
    revealed: frozenset[int] = frozenset()

    def shows(self, photo_id: int | None) -> bool:
        return self.reveal_all or photo_id in self.revealed


def sensitive_ids(vault: Vault, photo_ids) -> set[int]:
    """Which of these photos are flagged (the model's verdict, or the user's when set)."""
    ids = [i for i in photo_ids if i is not None]
    if not ids:
        return set()
    return {p.id for p in vault.list_photos(ids=ids, sensitive=True)}


def _qimage_from_pil(im) -> QImage:
    rgb = im.convert("RGB")
    return QImage(rgb.tobytes(), rgb.width, rgb.height, rgb.width * 3, QImage.Format.Format_RGB888).copy()


def blurred_image(data: bytes) -> QImage:
    """Decode image bytes and blur them beyond recognition (Pillow, on the worker thread).

    The picture is first shrunk to a few dozen pixels, so the detail is gone, not just softened;
    the blur then hides the blocks. Only this blurred copy ever becomes a `QImage`.
    """
    from PIL import Image, ImageFilter

    with Image.open(io.BytesIO(data)) as im:
        im = im.convert("RGB")
        size = im.size
        im.thumbnail((24, 24), Image.Resampling.BOX)
        im = im.filter(ImageFilter.GaussianBlur(1.5))
        im = im.resize(size, Image.Resampling.BICUBIC)
        im = im.filter(ImageFilter.GaussianBlur(max(2.0, max(size) / 40)))
        return _qimage_from_pil(im)


class ThumbnailSignals(JobSignals):
    loaded = Signal(object)  # list[Thumbnail], a few at a time


def square_thumbnail(data: bytes | QImage, edge: int) -> QImage:
    """Decode a JPEG thumbnail (or take a decoded one) and centre-crop it to a square of `edge` pixels."""
    image = data if isinstance(data, QImage) else QImage.fromData(data)
    if image.isNull():
        return image
    scaled = image.scaled(QSize(edge, edge), Qt.AspectRatioMode.KeepAspectRatioByExpanding,
                          Qt.TransformationMode.SmoothTransformation)
    x = (scaled.width() - edge) // 2
    y = (scaled.height() - edge) // 2
    return scaled.copy(x, y, edge, edge)


class ThumbnailJob(Job):
    """Decrypt and decode a batch of small thumbnails; hands them over a few at a time."""

    def __init__(self, vault: Vault, photo_ids: list[int], edge: int, reveal: RevealState = RevealState()):
        super().__init__(vault)
        self.photo_ids = list(photo_ids)
        self.edge = edge
        self.reveal = reveal

    def make_signals(self) -> ThumbnailSignals:
        return ThumbnailSignals()

    def work(self) -> list[int]:
        batch: list[Thumbnail] = []
        failed: list[int] = []
        last_emit = time.monotonic()
        # Asked here, in the worker, not taken from the UI: a thumbnail decoded before the UI
        # learnt the flag would otherwise exist sharp.
        flagged = sensitive_ids(self.vault, self.photo_ids)
        for photo_id in self.photo_ids:
            self.check_cancelled()
            try:
                data = self.vault.read_thumbnail(photo_id, "small")
            except Exception:  # noqa: BLE001 - one damaged thumbnail must not stop the rest
                log.warning("thumbnail of photo %s could not be read", photo_id)
                failed.append(photo_id)
                continue
            sensitive = photo_id in flagged
            blur = sensitive and not self.reveal.shows(photo_id)
            try:
                decoded: bytes | QImage = blurred_image(data) if blur else data
            except Exception:  # noqa: BLE001 - never fall back to the sharp picture
                log.warning("thumbnail of photo %s could not be blurred", photo_id)
                failed.append(photo_id)
                continue
            batch.append(Thumbnail(photo_id, self.edge, square_thumbnail(decoded, self.edge), sensitive, blur))
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
    sensitive: bool = False
    blurred: bool = False  # a blurred large thumbnail: the original was not decrypted


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
    def __init__(self, vault: Vault, photo_id: int, max_side: int = 4096, reveal: bool = False):
        super().__init__(vault)
        self.photo_id = photo_id
        self.max_side = max_side
        self.reveal = reveal

    def work(self) -> FullImage:
        info = self.vault.photo(self.photo_id)
        sensitive = bool(sensitive_ids(self.vault, [self.photo_id]))
        if sensitive and not self.reveal:
            # Until revealed, the original is not even decrypted: a blurred large thumbnail.
            image = blurred_image(self.vault.read_thumbnail(self.photo_id, "large"))
            return FullImage(self.photo_id, info, image, sensitive=True, blurred=True)
        data = self.vault.read_original(self.photo_id)
        self.check_cancelled()
        image = decode_for_display(data, self.max_side)
        del data
        return FullImage(self.photo_id, info, image, sensitive=sensitive)


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

    def __init__(self, vault: Vault, photo_ids: list[int], keep_leak_records: bool = True):
        super().__init__(vault)
        self.photo_ids = list(photo_ids)
        self.keep_leak_records = keep_leak_records

    def work(self) -> DeleteResult:
        deleted: list[int] = []
        total = len(self.photo_ids)
        self.report_progress(0, total)
        # One call per photo so progress moves; the core deletes each in its own transaction.
        for n, photo_id in enumerate(self.photo_ids, 1):
            deleted += self.vault.delete([photo_id], keep_leak_records=self.keep_leak_records)
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
    # Immunizing takes seconds to a minute and checks for a cancel between its steps; a cancel
    # is honoured until the copy is complete, never after its record is written.

    def __init__(self, vault: Vault, request: ShareRequest):
        super().__init__(vault)
        self.request = request

    def work(self) -> ShareOutcome:
        r = self.request
        self.report_progress(0, 1000)
        progress = (lambda f: self.report_progress(int(1000 * min(1.0, max(0.0, f))), 1000)) \
            if r.options.immunize else None
        return self.vault.share(r.photo_id, r.out_path, r.options, progress=progress,
                                cancel=lambda: self.is_cancelled)


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

    def __init__(self, vault: Vault, matches: list[LeakMatchInfo], reveal: RevealState = RevealState()):
        super().__init__(vault)
        self.matches = list(matches)
        self.reveal = reveal

    def make_signals(self) -> EvidenceSignals:
        return EvidenceSignals()

    def work(self) -> int:
        batch: list[MatchEvidence] = []
        shares: dict[str, ShareInfo | None] = {}
        flagged = sensitive_ids(self.vault, [m.photo_id for m in self.matches])
        for match in self.matches:
            self.check_cancelled()
            photo = found = None
            # A copy of a sensitive photo is as sensitive as the photo: both stay blurred.
            blur = match.photo_id in flagged and not self.reveal.shows(match.photo_id)
            if match.photo_id is not None:
                try:
                    data = self.vault.read_thumbnail(match.photo_id, "large")
                    photo = blurred_image(data) if blur else QImage.fromData(data)
                except PhotoNotFound:
                    photo = None
            evidence = self.vault.match_evidence(match.id)
            if evidence:
                found = blurred_image(evidence) if blur else QImage.fromData(evidence)
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

    def __init__(self, vault: Vault, match_id: int, contact: TakedownContact, requester: Requester,
                 notice_kind: str | None = None):
        super().__init__(vault)
        self.match_id = match_id
        self.contact = contact
        self.requester = requester
        self.notice_kind = notice_kind  # None: from the photo's sensitive flag

    def work(self) -> TakedownInfo:
        return self.vault.draft_takedown(self.match_id, self.contact, self.requester, self.notice_kind)


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


# --- organising: tags, people, the sensitive flag -------------------------------------------------


@dataclass(frozen=True)
class OrganiseChunk:
    """Photos whose analysis was just committed, and which of them are flagged sensitive."""

    photo_ids: tuple[int, ...]
    sensitive: frozenset[int]


@dataclass(frozen=True)
class OrganiseResult:
    report: IndexReport
    pending: int  # photos still waiting (after a cancel)


class OrganiseSignals(JobSignals):
    chunk_done = Signal(object)  # OrganiseChunk


class OrganiseJob(Job):
    """Tags, faces, people and the sensitive flag for every photo not analysed yet.

    On the vault-write lane (one writer); resumable: each chunk is committed on its own, so a
    cancel (an import wants the lane, a lock) loses at most the chunk in progress. Shown by the
    organise status widget, not the long-job bar, so the user can keep working.
    """

    lane = "vault-write"
    title = "Organising"

    def make_signals(self) -> OrganiseSignals:
        return OrganiseSignals()

    def work(self) -> OrganiseResult:
        try:  # the two cores are shared with the UI: one thread for the models
            import torch

            torch.set_num_threads(1)
        except Exception:  # noqa: BLE001 - torch missing shows up as VisionUnavailable below
            pass
        pending = organize.pending_photo_ids()
        seen = 0

        def progress(done: int, total: int) -> None:
            nonlocal seen
            self.report_progress(done, total)
            if done > seen:
                ids = tuple(pending[seen:done])
                seen = done
                self.signals.chunk_done.emit(OrganiseChunk(ids, frozenset(sensitive_ids(self.vault, ids))))

        outcome: list = []

        def analyse() -> None:
            try:
                outcome.append(self.vault.analyze(progress, self.cancel_event))
            except BaseException as exc:  # noqa: BLE001 - handed to the job below
                outcome.append(exc)
            finally:
                self.vault.release_thread_connection()

        # dlib's pybind11 bindings cache the Python thread state per OS thread; a pool thread
        # gets a fresh one for every job, and the second run on it crashed (SIGSEGV in take_gil).
        # A Python thread of its own, for the length of one run, keeps that state valid.
        thread = threading.Thread(target=analyse, name="organise-analysis", daemon=True)
        thread.start()
        thread.join()
        if isinstance(outcome[0], Cancelled):  # stopped while grouping faces: chunks stay
            report = organize.IndexReport(seen, 0, 0, cancelled=True)
        elif isinstance(outcome[0], BaseException):
            raise outcome[0]
        else:
            report = outcome[0]
        left = len(organize.pending_photo_ids()) if report.cancelled else 0
        return OrganiseResult(report, left)


class OrganiseSummaryJob(Job):
    def work(self) -> OrganiseSummary:
        return organize.summary()


@dataclass(frozen=True)
class FoundPhotos:
    query: PhotoQuery
    ids: frozenset[int]


class FindPhotosJob(Job):
    """A tag, person, flag or search-text query (see `app.core.search`), run off the UI thread."""

    def __init__(self, vault: Vault, query: PhotoQuery):
        super().__init__(vault)
        self.query = query

    def work(self) -> FoundPhotos:
        return FoundPhotos(self.query, frozenset(self.vault.find_photos(self.query)))


@dataclass(frozen=True)
class PersonFace:
    """A person for the People view, with the face cut from their best photo."""

    info: object  # PersonInfo
    face: QImage
    blurred: bool = False


@dataclass(frozen=True)
class PeopleList:
    people: list[PersonFace]


def face_crop(large_thumbnail: bytes, box, edge: int, blur: bool) -> QImage:
    """A square around the face (with some margin), `edge` pixels, blurred when asked."""
    from PIL import Image, ImageFilter

    with Image.open(io.BytesIO(large_thumbnail)) as im:
        im = im.convert("RGB")
        left, top, right, bottom = box
        side = max(right - left, bottom - top) * 1.5
        cx, cy = (left + right) / 2, (top + bottom) / 2
        half = min(side / 2, cx, cy, im.width - cx, im.height - cy, max(im.size) / 2)
        half = max(half, min(right - left, bottom - top) / 2, 1)
        crop = im.crop((int(cx - half), int(cy - half), int(cx + half), int(cy + half)))
        crop = crop.resize((edge, edge), Image.Resampling.LANCZOS)
        if blur:
            crop.thumbnail((12, 12), Image.Resampling.BOX)
            crop = crop.resize((edge, edge), Image.Resampling.BICUBIC).filter(ImageFilter.GaussianBlur(edge / 24))
        return _qimage_from_pil(crop)


class ListPeopleJob(Job):
    def __init__(self, vault: Vault, edge: int = 128, reveal: RevealState = RevealState()):
        super().__init__(vault)
        self.edge = edge
        self.reveal = reveal

    def work(self) -> PeopleList:
        people = organize.list_people()
        flagged = sensitive_ids(self.vault, [p.cover_photo_id for p in people])
        out = []
        for person in people:
            self.check_cancelled()
            image, blur = QImage(), False
            if person.cover_photo_id is not None and person.cover_box is not None:
                blur = person.cover_photo_id in flagged and not self.reveal.shows(person.cover_photo_id)
                try:
                    data = self.vault.read_thumbnail(person.cover_photo_id, "large")
                    image = face_crop(data, person.cover_box, self.edge, blur)
                except Exception:  # noqa: BLE001 - a person without a picture is still listed
                    log.warning("face of person %s could not be cut out", person.id)
            out.append(PersonFace(person, image, blur))
        return PeopleList(out)


class PersonEditJob(Job):
    """Quick writes on the fast lane: they must not wait behind a whole organise chunk."""

    cancellable = False

    def __init__(self, vault: Vault, edit: PersonEdit):
        super().__init__(vault)
        self.edit = edit

    def work(self) -> PersonEdit:
        organize.apply_person_edit(self.edit)
        return self.edit


@dataclass(frozen=True)
class SensitiveChange:
    photo_ids: tuple[int, ...]
    value: bool | None  # what the user set (None: back to the model's verdict)
    sensitive: frozenset[int]  # which of them are flagged now


class SetSensitiveJob(Job):
    cancellable = False

    def __init__(self, vault: Vault, photo_ids, value: bool | None):
        super().__init__(vault)
        self.photo_ids = tuple(photo_ids)
        self.value = value

    def work(self) -> SensitiveChange:
        organize.set_sensitive_many(self.photo_ids, self.value)
        return SensitiveChange(self.photo_ids, self.value, frozenset(sensitive_ids(self.vault, self.photo_ids)))


@dataclass(frozen=True)
class PhotoOrganise:
    """What the viewer's details show about one photo: tags, people, each face."""

    photo_id: int
    details: PhotoDetails
    faces: list[FaceInfo]
    frame: tuple[int, int]  # the large thumbnail's size, which the boxes refer to


class PhotoFacesJob(Job):
    def __init__(self, vault: Vault, photo_id: int):
        super().__init__(vault)
        self.photo_id = photo_id

    def work(self) -> PhotoOrganise:
        from PIL import Image

        details = self.vault.photo_details([self.photo_id])[self.photo_id]
        faces = organize.faces_in(self.photo_id)
        frame = (0, 0)
        if faces:
            with Image.open(io.BytesIO(self.vault.read_thumbnail(self.photo_id, "large"))) as im:
                frame = im.size  # the header only: nothing is decoded
        return PhotoOrganise(self.photo_id, details, faces, frame)


__all__ = [
    "Cancelled", "CreateRequest", "CreateVaultJob", "CreatedVault", "DeleteJob", "DeleteResult",
    "DraftTakedownJob", "EvidenceJob", "HashExport", "HashExportJob", "ListMatchesJob", "MatchEvidence",
    "MatchList", "RecheckTakedownJob", "ScanJob", "SendTakedownJob",
    "ExportJob", "FullImage", "FullImageJob", "ImportJob", "ListPhotosJob",
    "ListSharesJob", "RecoverJob", "RecreateWithoutTotpJob", "ShareJob", "ShareList", "ShareRequest",
    "Thumbnail", "ThumbnailJob", "UnlockJob", "UnlockRequest",
    "ChangePassphraseJob", "decode_for_display", "remove_new_vault", "square_thumbnail",
    "FaceInfo", "FindPhotosJob", "FoundPhotos", "ListPeopleJob", "OrganiseChunk", "OrganiseJob",
    "OrganiseResult", "OrganiseSummary", "OrganiseSummaryJob", "PeopleList", "PersonEdit", "PersonEditJob",
    "PersonFace", "PhotoFacesJob", "PhotoOrganise", "PhotoQuery", "RevealState", "SensitiveChange",
    "SetSensitiveJob", "TagCount", "blurred_image", "face_crop", "sensitive_ids",
]
