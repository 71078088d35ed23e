"""Importing photos: files and folders in, decoded, fingerprinted, encrypted and committed.

A mixin of `Vault`. Decoding and encryption run on a small thread pool; each photo is then
committed in its own short transaction on the calling thread.
"""

from __future__ import annotations

import hashlib
import io
import os
import stat as stat_module
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
import peewee

from .. import crypto, db, fingerprint, imaging
from ..blobs import BlobStore
from ..db import Blob, Photo, PhotoFeatureCells, PhotoFeatures, PhotoFingerprint
from ..errors import UnsupportedImage
from ..leaks import feature_store
from ..local_features import local_features
from .files import os_reason, reason
from .records import Duplicate, FileProblem, ImportReport, Progress, local_now, no_progress


@dataclass
class _PreparedPhoto:
    """Everything computed off the DB thread for one file, ready for a short transaction."""

    path: Path
    sha256: str
    photo_fields: dict
    fingerprint: fingerprint.PerceptualFingerprint
    features: bytes  # local_features.LocalFeatures, serialised
    cells: tuple[int, bytes] | None  # (vocabulary id, cells) for the leak scan's feature index
    blobs: list[tuple[str, str, bytes, int]]  # (kind, name, wrapped key, stored size)


class _DuplicateFound(Exception):
    def __init__(self, sha256: str):
        super().__init__(sha256)
        self.sha256 = sha256


class PhotoImporter:
    """Import into an open `Vault`; the facade sets `blobs`, the keys and `_require_open`."""

    blobs: BlobStore
    _uid_key: bytes
    _public_key: bytes

    def import_paths(
        self,
        paths: Iterable[str | Path],
        progress: Progress = no_progress,
        cancel: threading.Event | None = None,
        workers: int | None = None,
        on_imported: Callable[[int], None] | None = None,
    ) -> ImportReport:
        """Import files and folders (recursively). Bad files are reported, never fatal.

        Decoding and encryption run on a small thread pool (Pillow, hashlib and AES release
        the GIL); each photo is then committed in its own short transaction on this thread.
        """
        self._require_open()
        cancel = cancel or threading.Event()
        report = ImportReport()
        files = expand_paths(paths, report.errors)
        total = len(files)
        progress(0, total)
        workers = workers or min(2, os.cpu_count() or 1)
        done = 0
        # Bounded look-ahead: at most a few decoded photos in memory at once.
        max_in_flight = workers + 1
        pending: dict[Future, Path] = {}
        queue = iter(files)
        known = {sha for (sha,) in Photo.select(Photo.sha256).tuples()}
        # Photos go into the leak scan's feature index as they come (a missing or stale cell
        # list is computed at the next scan instead).
        vocabulary = feature_store.current_vocabulary()
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="sanctum-import") as pool:
            try:
                while True:
                    while len(pending) < max_in_flight and not cancel.is_set():
                        path = next(queue, None)
                        if path is None:
                            break
                        pending[pool.submit(self._prepare_photo, path, known, vocabulary)] = path
                    if not pending:
                        break
                    finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                    for future in finished:
                        path = pending.pop(future)
                        self._finish_import(path, future, report, on_imported)
                        done += 1
                        progress(done, total)
            finally:
                for future in pending:
                    future.cancel()
                # Prepared photos whose commit will never happen must not leave blobs behind.
                for future, path in pending.items():
                    if not future.cancelled():
                        self._finish_import(path, future, report, on_imported, discard=True)
        report.cancelled = cancel.is_set() and done < total
        return report

    def import_file(self, path: str | Path) -> ImportReport:
        return self.import_paths([path], workers=1)

    def _finish_import(
        self,
        path: Path,
        future: Future,
        report: ImportReport,
        on_imported: Callable[[int], None] | None,
        discard: bool = False,
    ) -> None:
        try:
            prepared = future.result()
        except _DuplicateFound as dup:
            report.duplicates.append(Duplicate(str(path), self._photo_id_by_sha(dup.sha256) or 0))
            return
        except (UnsupportedImage, OSError) as exc:
            report.errors.append(FileProblem(str(path), reason(exc)))
            return
        if discard:
            self._discard_blobs(prepared)
            return
        try:
            photo_id = self._commit_photo(prepared)
        except _DuplicateFound as dup:
            report.duplicates.append(Duplicate(str(path), self._photo_id_by_sha(dup.sha256) or 0))
            return
        except Exception as exc:
            report.errors.append(FileProblem(str(path), reason(exc)))
            return
        report.imported.append(photo_id)
        if on_imported:
            on_imported(photo_id)

    def _prepare_photo(self, path: Path, known_sha256: set[str],
                       vocabulary: tuple[int, np.ndarray] | None = None) -> _PreparedPhoto:
        """Read, validate, decode, fingerprint and encrypt one file (runs on a pool thread).

        Touches no DB: the pool threads never open a database connection of their own.
        """
        # Regular files only, never more than the cap (a pipe or /dev/zero behind a name must
        # not hang or exhaust memory); the check is on the opened file, not the name.
        data, stat = imaging.read_image_file(path)
        sha256 = hashlib.sha256(data).hexdigest()
        if sha256 in known_sha256:
            raise _DuplicateFound(sha256)
        decoded = imaging.decode(data, min_long_side=imaging.THUMB_SIZES["thumb_large"])
        # Keyed hash of the decoded pixels (see image_uid_of): nobody without the vault key can
        # compute or forge it, and the same picture stored again gets the same id.
        image_uid = image_uid_of(self._uid_key, decoded)
        thumbnails = imaging.make_thumbnails(decoded.oriented)
        prints = fingerprint.perceptual_fingerprint(decoded.oriented)
        features = local_features(decoded.oriented)
        cells = feature_store.cells_for_import(vocabulary, features)
        if decoded.exif_taken_at:
            taken_at, taken_source = decoded.exif_taken_at, "exif"
        else:
            taken_at, taken_source = datetime.fromtimestamp(stat.st_mtime), "file"
        fields = {
            "image_uid": image_uid,
            "sha256": sha256,
            "filename": path.name,
            "mime": decoded.mime,
            "size_bytes": len(data),
            "width": decoded.display_size[0],  # full size as displayed
            "height": decoded.display_size[1],
            "taken_at": taken_at,
            "taken_at_source": taken_source,
        }
        del decoded
        prepared = _PreparedPhoto(path, sha256, fields, prints, features.to_bytes(), cells, [])
        try:
            for kind, content in (("original", data), *thumbnails.items()):
                prepared.blobs.append(self._store_blob(kind, content))
        except BaseException:
            self._discard_blobs(prepared)
            raise
        return prepared

    def _store_blob(self, kind: str, content: bytes) -> tuple[str, str, bytes, int]:
        file_key = crypto.new_file_key()
        name = self.blobs.new_name()
        size = self.blobs.write(name, file_key, content)
        return kind, name, crypto.wrap_key(self._public_key, file_key), size

    def _discard_blobs(self, prepared: _PreparedPhoto) -> None:
        for _, name, _, _ in prepared.blobs:
            self.blobs.delete(name)

    def _commit_photo(self, prepared: _PreparedPhoto) -> int:
        try:
            with db.database.atomic():
                photo = Photo.create(imported_at=local_now(), **prepared.photo_fields)
                for kind, name, wrapped, size in prepared.blobs:
                    Blob.create(name=name, photo=photo, kind=kind, wrapped_key=wrapped, size_bytes=size)
                _save_fingerprint(photo.id, prepared.fingerprint)
                PhotoFeatures.replace(photo=photo.id, data=prepared.features).execute()
                if prepared.cells is not None:
                    PhotoFeatureCells.replace(photo=photo.id, vocabulary=prepared.cells[0],
                                              cells=prepared.cells[1]).execute()
        except peewee.IntegrityError:
            self._discard_blobs(prepared)
            if self._photo_id_by_sha(prepared.sha256) is not None:  # same bytes twice in a batch
                raise _DuplicateFound(prepared.sha256) from None
            raise
        except BaseException:
            self._discard_blobs(prepared)
            raise
        return photo.id

    def _photo_id_by_sha(self, sha256: str) -> int | None:
        row = Photo.select(Photo.id).where(Photo.sha256 == sha256).tuples().first()
        return row[0] if row else None

    def index_fingerprints(
        self, progress: Progress = no_progress, cancel: threading.Event | None = None
    ) -> int:
        """Compute fingerprints and local features of photos that lack them (imported by an
        older version); returns how many photos were indexed."""
        self._require_open()
        no_prints = {pid for (pid,) in Photo.select(Photo.id).join(PhotoFingerprint, peewee.JOIN.LEFT_OUTER)
                     .where(PhotoFingerprint.id.is_null()).tuples()}
        no_features = {pid for (pid,) in Photo.select(Photo.id).join(PhotoFeatures, peewee.JOIN.LEFT_OUTER)
                       .where(PhotoFeatures.id.is_null()).tuples()}
        missing = sorted(no_prints | no_features)
        progress(0, len(missing))
        from PIL import Image

        for done, photo_id in enumerate(missing, 1):
            if cancel is not None and cancel.is_set():
                return done - 1
            with Image.open(io.BytesIO(self.read_thumbnail(photo_id, "large"))) as thumb:
                thumb.load()
                prints = fingerprint.perceptual_fingerprint(thumb) if photo_id in no_prints else None
                features = local_features(thumb).to_bytes() if photo_id in no_features else None
            with db.database.atomic():
                if prints is not None:
                    _save_fingerprint(photo_id, prints)
                if features is not None:
                    PhotoFeatures.replace(photo=photo_id, data=features).execute()
            progress(done, len(missing))
        return len(missing)


def expand_paths(paths: Iterable[str | Path], errors: list[FileProblem]) -> list[Path]:
    """Files as given, folders walked recursively in a stable order; hidden files skipped.

    Only regular files within the size cap are kept; a symlink counts as what it points to.
    Anything else — pipes, devices, sockets, links to nothing, links to folders inside a
    walked folder (not followed, so no loops) — is reported in `errors`, never opened.
    `_prepare_photo` checks the opened file again, in case a name changes meanwhile.
    """
    files: list[Path] = []
    seen: set[Path] = set()
    for raw in paths:
        path = Path(raw)
        st = _stat_or_report(path, errors)
        if st is None:
            continue
        if stat_module.S_ISDIR(st.st_mode):
            def unreadable(exc: OSError) -> None:  # a subfolder that cannot be listed
                errors.append(FileProblem(str(exc.filename), os_reason(exc)))

            for root, dirs, names in os.walk(path, onerror=unreadable):
                linked = sorted(d for d in dirs if not d.startswith(".") and os.path.islink(os.path.join(root, d)))
                for name in linked:
                    errors.append(FileProblem(os.path.join(root, name), "a link to a folder (not followed)"))
                dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in linked)
                for name in sorted(names):
                    if not name.startswith("."):
                        _add_file(Path(root) / name, files, seen, errors)
        else:
            _add_file(path, files, seen, errors, st)
    return files


def _stat_or_report(path: Path, errors: list[FileProblem]) -> os.stat_result | None:
    """stat() following links (it never opens the file, so a FIFO cannot block it)."""
    try:
        return path.stat()
    except FileNotFoundError:
        reason = "a link to nothing" if path.is_symlink() else "no such file or folder"
    except OSError as exc:
        reason = os_reason(exc)
    errors.append(FileProblem(str(path), reason))
    return None


def _add_file(path: Path, files: list[Path], seen: set[Path], errors: list[FileProblem],
              st: os.stat_result | None = None) -> None:
    st = st or _stat_or_report(path, errors)
    if st is None:
        return
    reason = imaging.not_regular_reason(st.st_mode)
    if reason is None and st.st_size > imaging.MAX_FILE_BYTES:
        reason = imaging.too_large_reason()
    if reason:
        errors.append(FileProblem(str(path), reason))
    else:
        _add_unique(path, files, seen)


def _add_unique(path: Path, files: list[Path], seen: set[Path]) -> None:
    key = path.resolve()
    if key not in seen:
        seen.add(key)
        files.append(path)


def image_uid_of(uid_key: bytes, decoded: imaging.DecodedPhoto) -> str:
    """HMAC-SHA256 (vault key) over the decoded pixels, as 128 bits of hex.

    The pixels are those of the import decode: full size for lossless formats, libjpeg's
    DCT-scaled decode for JPEG (a function of the JPEG's coefficients, so lossless JPEG
    re-encodes and metadata edits keep the id). Hashing a full 12 MP decode instead would
    cost more than the rest of the import put together.
    """
    digest = crypto.keyed_digest(
        uid_key,
        b"sanctum image uid v1",
        f"{decoded.pixels.mode}:{decoded.width}x{decoded.height}:{decoded.pixels.size}".encode(),
        decoded.pixels.tobytes(),
    )
    return digest.hex()[:32]


def _save_fingerprint(photo_id: int, prints: fingerprint.PerceptualFingerprint) -> None:
    PhotoFingerprint.replace(photo=photo_id, pdq=prints.pdq, pdq_quality=prints.pdq_quality).execute()
