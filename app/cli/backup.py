"""Backups: make one (`backup DEST`), check one (`backup --verify DEST`), restore one (`restore`)."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..core import backup
from .common import EXIT_ERROR, EXIT_OK, CliError, print_json, progress_bar, secret, unlock


def _backup_secret(args: argparse.Namespace) -> dict:
    """The backup's own passphrase or recovery key (no authenticator code: that gates the app on
    this computer, it encrypts nothing)."""
    if args.recovery_key:
        return {"recovery_key": secret("SANCTUM_RECOVERY_KEY", "Recovery key: ")}
    return {"passphrase": secret("SANCTUM_PASSPHRASE", "Passphrase: ")}


def cmd_backup(args: argparse.Namespace) -> int:
    if args.verify:
        return _verify(args)
    with unlock(args) as vault:
        bar = progress_bar(args, "Backing up", "file")
        try:
            report = vault.backup(args.dest, progress=bar.update_to)
        finally:
            bar.close()
    if args.json:
        print_json({"dest": report.dest, "photos": report.photos, "bytes_written": report.bytes_written})
    else:
        print(f"Backed up {report.photos} photos to {report.dest} (backup {report.generation}): "
              f"{report.blobs_copied} files copied, {report.blobs_kept} already there, "
              f"{report.blobs_removed} removed, {report.bytes_written:,} bytes written.")
    return EXIT_OK


def _verify(args: argparse.Namespace) -> int:
    secret_args = {} if args.hashes_only else _backup_secret(args)
    bar = progress_bar(args, "Verifying", "file")
    try:
        if args.hashes_only:
            check = backup.verify_backup(args.dest, progress=bar.update_to)
        else:
            check = backup.check_backup(args.dest, progress=bar.update_to, **secret_args)
    finally:
        bar.close()
    if args.json:
        print_json({"ok": check.ok, "problems": list(check.problems)})
    else:
        for problem in check.problems:
            print(f"problem: {problem}")
        what = (f"its list is this vault's; {check.blobs_authenticated} of {check.blobs_checked} encrypted "
                "files authenticated" if check.manifest_authenticated else
                f"{check.blobs_checked} encrypted files match the sizes and hashes it lists (not decrypted, "
                "and the list itself not checked: give the passphrase to check everything)")
        print(f"{'OK' if check.ok else 'DAMAGED'}: backup {check.generation} of {check.created_at}; {what}.")
    return EXIT_OK if check.ok else EXIT_ERROR


def cmd_restore(args: argparse.Namespace) -> int:
    if args.to is None:
        raise CliError("Say where to restore the vault: --to NEW-FOLDER.")
    bar = progress_bar(args, "Restoring", "file")
    try:
        report = backup.restore_backup(args.dest, args.to, progress=bar.update_to, **_backup_secret(args))
    finally:
        bar.close()
    if args.json:
        print_json({"vault": report.vault, "photos": report.photos})
    else:
        for problem in report.problems:
            print(f"problem: {problem}")
        print(f"Restored {report.photos} photos into {report.vault}. It opens with the same passphrase "
              f"(and authenticator) or the recovery key: `sanctum --vault {report.vault}` for the app.")
    return EXIT_OK if not report.problems else EXIT_ERROR


def register(subs: argparse._SubParsersAction, common: list[argparse.ArgumentParser]) -> None:
    p = subs.add_parser("backup", parents=common,
                        help="back up the vault into a folder (encrypted, incremental), or check a backup "
                             "with --verify")
    p.add_argument("dest", type=Path, help="the backup folder: empty or new the first time, then the same")
    p.add_argument("--verify", action="store_true",
                   help="check the backup in DEST instead: every file against its authenticated list, and "
                        "(with the passphrase or --recovery-key) every encrypted file's authentication")
    p.add_argument("--hashes-only", action="store_true",
                   help="with --verify: no passphrase; check that every file has the size and hash the "
                        "backup's list gives (finds damage, not changes made on purpose)")
    p.set_defaults(run=cmd_backup)

    p = subs.add_parser("restore", parents=common,
                        help="restore a backup into a new vault folder (the same passphrase or the recovery "
                             "key opens it)")
    p.add_argument("dest", type=Path, help="the backup folder")
    p.add_argument("--to", type=Path, metavar="DIR", help="a new or empty folder for the restored vault")
    p.set_defaults(run=cmd_restore)
