"""The Vault facade: open, unlock, recover and lock a vault, and the one object that offers
everything an open vault does, from the parts that own each job.

    header.py       vault.json, the files beside it, and the keys it seals
    keys.py         rotation, recovery codes, authenticator, unlock-time migrations
    importer.py     import
    library.py      list, read, export, delete, consistency
    slots.py        the two key slots: the second passphrase, the layout, padded sizes
    integrity.py    the integrity check and its repair
    shares.py       protected copies and their inspection
    backups.py      backups of the open vault, and checking one with its keys
    leaks/store.py, leaks/takedown_store.py   scan results and removal requests (delegated)
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import threading
import time
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import filelock
import peewee

from .. import auth, crypto, db, hardening, rollback, strength
from ..blobs import BlobStore
from ..errors import (
    AuthenticationFailed,
    SanctumError,
    TotpRequired,
    VaultBusy,
    VaultExists,
    VaultIncomplete,
    VaultLocked,
    WrongPassphrase,
    WrongRecoveryKey,
)
from ..paths import VaultStatus, vault_status
from .backups import VaultBackups
from .header import (
    AUTH_STATE_NAME,
    BLOBS_DIR,
    HEADER_NAME,
    LOCK_NAME,
    MIN_PASSPHRASE_LENGTH,
    build_header,
    check_header,
    database_name,
    destroy_stale_databases,
    new_database_name,
    read_header,
    recovery_fields,
    slot_databases,
    slot_views,
    sqlcipher_key,
    unseal_any_slot,
    unseal_master_with_passphrase,
    unseal_master_with_recovery,
    unseal_private_key,
    write_header,
)
from .importer import PhotoImporter
from .integrity import VaultIntegrity
from .keys import VaultKeys
from .library import PhotoLibrary
from .records import (
    LeakMatchInfo,
    Progress,
    ReportWritten,
    ScanOutcome,
    TakedownInfo,
    VaultCreated,
    no_progress,
    utc_now,
)
from .shares import VaultShares
from .slots import MIN_DB_CLASS, VaultSlots, fill_random, new_layout, partner_record

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from ..leaks import takedown
    from ..leaks.case_store import CaseStore
    from ..leaks.cases import CaseInfo, CaseNoticeInfo, CaseReplyInfo
    from ..leaks.crawl import PageOptions
    from ..leaks.evidence import CaseEvidence, NoticeEvidence
    from ..leaks.fetch import Fetcher
    from ..leaks.matcher import Matcher
    from ..leaks.notices import Sender
    from ..leaks.rdap import ProviderContact
    from ..leaks.store import LeakStore
    from ..leaks.takedown_store import TakedownStore
    from ..leaks.watch import WatchedPlaceInfo, WatchOutcome, WatchStore


class Vault(VaultKeys, VaultSlots, PhotoImporter, PhotoLibrary, VaultIntegrity, VaultShares, VaultBackups):
    """An unlocked vault. Obtain one with `Vault.create`, `Vault.unlock` or `Vault.recover`.

    Either passphrase of a folder opens a `Vault` that behaves the same: nothing here tells which
    slot it is (see slots.py)."""

    def __init__(self, path: Path, header: dict, master: bytes, *, lock: filelock.BaseFileLock, slot: int = 0):
        self.path = path
        self._header = header
        self._slot = slot
        #: Set at unlock when the vault is older than the last one opened on this computer.
        self.rollback_warning: rollback.RollbackWarning | None = None
        self._master: bytes | None = master
        self._private_key: bytes | None = unseal_private_key(header, master)
        self._public_key = crypto.b64d(header["public_key"])
        # Replaced by the copies kept in the DB once it is open (see _load_durable_keys).
        self._uid_key = crypto.hkdf(master, "sanctum image uid v1")
        self._code_key = crypto.hkdf(master, "sanctum recovery codes v1")
        # Only when opened with a legacy (v1) recovery key: lets the next key rotation keep it.
        self._legacy_recovery_raw: bytes | None = None
        self._lock = lock
        self.blobs = BlobStore(path / BLOBS_DIR)
        self._db: peewee.Database | None = None

    @staticmethod
    def status(path: Path) -> VaultStatus:
        return vault_status(path)

    @classmethod
    def create(
        cls,
        path: Path,
        passphrase: str,
        *,
        enable_totp: bool = True,
        kdf: crypto.KdfParams | None = None,
    ) -> tuple[Vault, VaultCreated]:
        path = Path(path)
        strength.require_strong(passphrase, MIN_PASSPHRASE_LENGTH)
        if (path / HEADER_NAME).exists():
            raise VaultExists()
        if path.exists() and any(p for p in path.iterdir() if not p.name.startswith(".")):
            raise VaultExists("This folder is not empty; choose an empty or new folder for the vault.")
        hardening.make_private_dir(path)
        kdf = kdf or crypto.KdfParams.new()
        master = os.urandom(crypto.KEY_BYTES)
        recovery_raw = crypto.new_recovery_key()
        header = build_header(
            passphrase, kdf, master, crypto.new_keypair(), recovery_fields(recovery_raw, os.urandom(16), master),
            database=new_database_name(), totp_hint=enable_totp, created_at=utc_now().isoformat(timespec="seconds"),
        )
        # Every vault has two slots from the start, one of them unused, and a database for each.
        layout, index = new_layout(header, kdf)
        for view in slot_views(layout):
            if view["database"] != header["database"]:
                fill_random(path / view["database"], MIN_DB_CLASS)
        write_header(path, layout)
        vault = cls._open(path, header, master, index, new=True)
        codes = auth.new_recovery_codes()
        enrollment = auth.new_totp() if enable_totp else None
        vault._store_first_secrets(codes, enrollment, partner_record(index))
        vault._even_out_sizes()
        return vault, VaultCreated(crypto.format_recovery_key(recovery_raw), codes, enrollment)

    @classmethod
    def unlock(
        cls,
        path: Path,
        passphrase: str,
        *,
        totp_code: str | None = None,
        recovery_code: str | None = None,
        clock: auth.Clock = time.time,
    ) -> Vault:
        """Passphrase first (it decrypts), then the second factor (it gates)."""
        path = Path(path)
        views = slot_views(read_header(path))
        gate = auth.BackoffGate(path / AUTH_STATE_NAME, clock)
        gate.check()
        try:
            index, master = unseal_any_slot(views, lambda view: unseal_master_with_passphrase(view, passphrase))
        except AuthenticationFailed:
            gate.record_failure()
            raise WrongPassphrase() from None
        vault = cls._open(path, views[index], master, index)
        try:
            vault._check_second_factor(totp_code, recovery_code, clock())
        except BaseException as exc:
            if isinstance(exc, SanctumError) and not isinstance(exc, TotpRequired):
                gate.record_failure()
            vault.lock()
            raise
        gate.record_success()
        return vault

    @classmethod
    def recover(cls, path: Path, recovery_key: str) -> Vault:
        """Open with the recovery key alone (lost passphrase and phone). Set a new passphrase next."""
        path = Path(path)
        views = slot_views(read_header(path))
        gate = auth.BackoffGate(path / AUTH_STATE_NAME)
        gate.check()
        raw = crypto.parse_recovery_key(recovery_key)
        try:
            index, master = unseal_any_slot(views, lambda view: unseal_master_with_recovery(view, raw))
        except AuthenticationFailed:
            gate.record_failure()
            raise WrongRecoveryKey() from None
        gate.record_success()
        vault = cls._open(path, views[index], master, index)
        if "recovery_public_key" not in vault._header:
            vault._legacy_recovery_raw = raw
        return vault

    @classmethod
    def _open(cls, path: Path, header: dict, master: bytes, slot: int = 0, *, new: bool = False) -> Vault:
        # Not thread-local: the GUI unlocks on a worker thread and locks on the UI thread.
        lock = filelock.FileLock(str(path / LOCK_NAME), timeout=0, thread_local=False)
        try:
            lock.acquire()
        except filelock.Timeout:
            raise VaultBusy() from None
        vault = None
        try:
            check_header(header, master)
            # Keys are about to be in memory: keep them out of core dumps from now on.
            hardening.disable_core_dumps()
            hardening.restrict(path)
            vault = cls(path, header, master, lock=lock, slot=slot)
            vault.blobs.ensure()
            database = database_name(header)
            if not new and not (path / database).is_file():
                # Never let SQLite create an empty database here: the garbage collection below
                # would take every blob for an orphan. An old vault.json put back after a key
                # rotation names a database that no longer exists.
                raise VaultIncomplete()
            vault._db = db.open_database(path / database, sqlcipher_key(master))
            vault._check_header_version()
            vault._load_durable_keys()
            if int(header.get("version", 1)) < 3:
                vault._upgrade_layout()
            vault._header_migrated()
            # A key rotation interrupted before or after its switch leaves one database that the
            # header does not name: it is either never used (before) or replaced (after).
            destroy_stale_databases(path, keep=slot_databases(path))
            vault._pad_legacy_blobs()
            vault._collect_garbage()
            vault.rollback_warning = vault._check_rollback()
            if not new:
                vault._even_out_sizes()
            # Vaults made before 0700/0600 (and SQLite's own -wal/-shm, created with the umask).
            hardening.restrict_tree(path)
        except BaseException:
            if vault is not None and vault._db is not None:
                with contextlib.suppress(Exception):
                    vault._db.close()
            lock.release()
            raise
        return vault

    def lock(self) -> None:
        """Close the DB and drop the keys. Python cannot wipe memory; dropping references is
        the best it offers (the threat model says so)."""
        if self._db is not None:
            try:
                # Imports may have taken the database into a larger size class.
                self._even_out_sizes()
            except Exception as exc:  # noqa: BLE001 - locking must always drop the keys
                log.warning("could not pad the database at lock: %s", type(exc).__name__)
            with contextlib.suppress(Exception):
                self._db.close()
            self._db = None
        self._master = None
        self._private_key = None
        self._uid_key = b""
        self.__dict__.pop("_leaks", None)  # with its scan cache: validators live for one session only
        self.__dict__.pop("_takedowns", None)
        self.__dict__.pop("_cases", None)
        self.__dict__.pop("_watch", None)
        if self._lock.is_locked:
            self._lock.release()

    @property
    def is_open(self) -> bool:
        return self._master is not None

    def __enter__(self) -> Vault:
        return self

    def __exit__(self, *exc: object) -> None:
        self.lock()

    def _require_open(self) -> None:
        if self._master is None:
            raise VaultLocked()

    def release_thread_connection(self) -> None:
        """Close this thread's DB connection (worker threads call this when a job ends)."""
        if self._db is not None:
            with contextlib.suppress(Exception):
                self._db.close()


    # --- leak scans and removal requests: kept by app.core.leaks, per open vault ---------------

    @functools.cached_property
    def _leaks(self) -> LeakStore:
        # Made on first use: the matcher's stack loads with the first scan, not with the vault.
        from ..leaks.store import LeakStore

        return LeakStore(self)

    @functools.cached_property
    def _takedowns(self) -> TakedownStore:
        from ..leaks.takedown_store import TakedownStore

        return TakedownStore(self, self._leaks)

    @functools.cached_property
    def _cases(self) -> CaseStore:
        from ..leaks.case_store import CaseStore

        return CaseStore(self, self._leaks)

    @functools.cached_property
    def _watch(self) -> WatchStore:
        from ..leaks.watch import WatchStore

        return WatchStore(self, self._leaks)

    def _forget_cached_scans(self, photo_id: int) -> None:
        if "_leaks" in self.__dict__:  # no scan yet, nothing cached
            self._leaks.forget_photo(photo_id)

    def build_matcher(self) -> Matcher:
        return self._leaks.build_matcher()

    def rebuild_feature_index(self, progress: Progress = no_progress, cancel: threading.Event | None = None) -> int:
        """Train the leak scan's feature vocabulary again and rebuild its index (photos held)."""
        return self._leaks.rebuild_feature_index(progress, cancel)

    def scan(
        self,
        sources: Sequence[str],
        progress: Progress = no_progress,
        cancel: threading.Event | None = None,
        fetcher: Fetcher | None = None,
        pages: PageOptions | None = None,
    ) -> ScanOutcome:
        return self._leaks.scan(sources, progress, cancel, fetcher, pages)

    # (app.core.leaks.watch: places re-checked on a schedule; only new or changed images fetched)
    def watch_place(self, source: str, pages: PageOptions | None = None, every_hours: float = 24.0,
                    now: datetime | None = None) -> WatchedPlaceInfo:
        return self._watch.add(source, pages, every_hours, now)

    def unwatch_place(self, place_id: int) -> None:
        self._watch.remove(place_id)

    def list_watched(self) -> list[WatchedPlaceInfo]:
        return self._watch.list()

    def scan_watched(self, place_ids: list[int] | None = None, *, due_only: bool = True, full: bool = False,
                     now: datetime | None = None, progress: Progress = no_progress,
                     cancel: threading.Event | None = None, fetcher: Fetcher | None = None) -> WatchOutcome:
        """Re-check the watched places (the due ones, unless `due_only` is False) and record what
        they show; `WatchOutcome.new` names the copies not recorded before."""
        return self._watch.scan(place_ids, due_only=due_only, full=full, now=now, progress=progress,
                                cancel=cancel, fetcher=fetcher)

    def list_matches(self) -> list[LeakMatchInfo]:
        return self._leaks.list_matches()

    def dismiss_match(self, match_id: int) -> None:
        self._leaks.dismiss_match(match_id)

    def match_evidence(self, match_id: int) -> bytes | None:
        return self._leaks.match_evidence(match_id)

    def draft_takedown(self, match_id: int, contact: takedown.TakedownContact,
                       requester: takedown.Requester, notice_kind: str | None = None) -> TakedownInfo:
        return self._takedowns.draft_takedown(match_id, contact, requester, notice_kind)

    def send_takedown(self, takedown_id: int, fetcher: Fetcher | None = None) -> TakedownInfo:
        return self._takedowns.send_takedown(takedown_id, fetcher)

    def recheck_takedown(self, takedown_id: int, fetcher: Fetcher | None = None) -> TakedownInfo:
        return self._takedowns.recheck_takedown(takedown_id, fetcher)

    def list_takedowns(self, match_id: int | None = None) -> list[TakedownInfo]:
        return self._takedowns.list_takedowns(match_id)

    def hash_export(self, photo_id: int) -> dict:
        return self._takedowns.hash_export(photo_id)

    # --- cases: every found copy on one site, its notices, replies and deadlines ----------------
    # (app.core.leaks.cases: CaseInfo has id, host, photo_ids, match_ids, addresses, status,
    # due_at, next_step, notices, replies; the evidence report reads match_ids and notices)

    def list_cases(self, now: datetime | None = None) -> list[CaseInfo]:
        """Every case, the most urgent first (overdue ones first)."""
        return self._cases.list_cases(now)

    def case(self, case_id: int, now: datetime | None = None) -> CaseInfo:
        return self._cases.case(case_id, now)

    def cases_due_for_recheck(self, now: datetime | None = None) -> list[int]:
        return self._cases.due_for_recheck(now)

    def draft_notice(self, case_id: int, kind: str, sender: Sender, *, audience: str | None = None,
                     to: str | None = None, text: str | None = None) -> CaseNoticeInfo:
        return self._cases.draft_notice(case_id, kind, sender, audience=audience, to=to, text=text)

    def edit_notice(self, notice_id: int, text: str, to: str | None = None) -> CaseNoticeInfo:
        return self._cases.edit_notice(notice_id, text, to)

    def mark_notice_sent(self, notice_id: int, sent_at: datetime | None = None) -> CaseNoticeInfo:
        return self._cases.mark_notice_sent(notice_id, sent_at)

    def record_reply(self, case_id: int, outcome: str, text: str = "", received_at: datetime | None = None,
                     notice_id: int | None = None) -> CaseReplyInfo:
        return self._cases.record_reply(case_id, outcome, text, received_at, notice_id)

    def recheck_case(self, case_id: int, fetcher: Fetcher | None = None, progress: Progress = no_progress,
                     cancel: threading.Event | None = None) -> CaseInfo:
        return self._cases.recheck_case(case_id, fetcher, progress, cancel)

    def lookup_provider(self, case_id: int, resolve=None, bootstrap: str | None = None) -> ProviderContact:
        return self._cases.lookup_provider(case_id, resolve, bootstrap)

    # --- evidence reports (app.core.leaks.evidence, report, report_signature) --------------------

    def case_evidence(self, match_ids: Sequence[int], *, title: str | None = None,
                      notices: Sequence[NoticeEvidence] | None = None,
                      prepared_by: str | None = None) -> CaseEvidence:
        """What a report on these found copies says: their records and captures, the pages they
        were on, and `notices` (by default the removal requests recorded for them)."""
        from .. import fingerprint
        from ..leaks.evidence import case_from_matches

        self._require_open()
        return case_from_matches(match_ids, fingerprint.public_key_pem(self.signing_public_key()),
                                 title=title, notices=notices, prepared_by=prepared_by)

    def case_report_evidence(self, case_id: int, *, prepared_by: str | None = None) -> CaseEvidence:
        """What a report on a case says: its found copies, and its notices with their replies."""
        from ..leaks.evidence import notices_from_case

        case = self.case(case_id)
        return self.case_evidence(list(case.match_ids), title=f"Case {case.id}: {case.host}",
                                  notices=notices_from_case(case), prepared_by=prepared_by)

    def write_report(self, evidence: CaseEvidence, out: str | Path, *, full_thumbnails: bool = False,
                     attach_pages: bool = True) -> ReportWritten:
        """Render `evidence` as a PDF at `out`, signed with this vault's Ed25519 key: the
        signature goes to `out` + ".sig" (report_signature). Both replace files of those names;
        the PDF is owner-only (it names the places a private photo was found)."""
        from ..files import write_atomically
        from ..leaks.report import ReportOptions, render_report
        from ..leaks.report_signature import sign_report

        self._require_open()
        out = Path(out)
        pdf = render_report(evidence, ReportOptions(out.name, full_thumbnails, attach_pages))
        signature = sign_report(pdf, self._signing_key(), out.name)
        sig_path = out.with_name(out.name + ".sig")
        write_atomically(out, pdf)
        write_atomically(sig_path, signature)
        return ReportWritten(str(out), str(sig_path))
