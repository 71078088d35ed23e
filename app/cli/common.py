"""What every command shares: options, exit codes, secrets, unlocking, output and progress."""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from datetime import datetime
from pathlib import Path

from ..core import errors
from ..core.vault import Vault, default_vault_path

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2


class CliError(Exception):
    """A problem with how the command was called (not a core failure)."""


def common_options(sub: bool) -> argparse.ArgumentParser:
    # Options are accepted before or after the subcommand; on the subcommand parser they
    # default to SUPPRESS so they don't overwrite a value given before it.
    default = argparse.SUPPRESS if sub else None
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument("--vault", type=Path, default=default,
                        help="vault folder (default: $SANCTUM_VAULT, else the platform data folder)")
    parent.add_argument("--json", action="store_true", default=argparse.SUPPRESS if sub else False,
                        help="print one JSON document on stdout")
    parent.add_argument("--totp", metavar="CODE", default=default, help="authenticator code")
    parent.add_argument("--recovery-code", metavar="CODE", default=default,
                        help="a one-time recovery code instead of an authenticator code")
    parent.add_argument("--recovery-key", action="store_true", default=argparse.SUPPRESS if sub else False,
                        help="unlock with the recovery key ($SANCTUM_RECOVERY_KEY or prompt) instead of "
                             "passphrase and code")
    parent.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS if sub else False)
    return parent


def parse_date(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date: {text!r} (use YYYY-MM-DD)") from None


def secret(env_name: str, prompt: str, confirm: bool = False) -> str:
    value = os.environ.get(env_name)
    if value:
        return value
    if not sys.stdin.isatty():
        raise CliError(f"No terminal to ask for it: set ${env_name}.")
    value = getpass.getpass(prompt)
    if confirm and getpass.getpass("Repeat it: ") != value:
        raise CliError("The two entries differ.")
    return value


def unlock(args: argparse.Namespace, passphrase: str | None = None) -> Vault:
    vault = _unlock(args, passphrase)
    if vault.rollback_warning is not None:
        print(ROLLBACK_WARNING, file=sys.stderr)
    return vault


ROLLBACK_WARNING = ("sanctum: warning: this vault is older than the one last opened on this computer: the "
                    "folder may have been replaced by an earlier copy (photos added or removed since "
                    "then are not in it).")


def _unlock(args: argparse.Namespace, passphrase: str | None = None) -> Vault:
    path = args.vault or default_vault_path()
    if args.recovery_key:
        return Vault.recover(path, secret("SANCTUM_RECOVERY_KEY", "Recovery key: "))
    passphrase = passphrase or secret("SANCTUM_PASSPHRASE", "Passphrase: ")
    try:
        return Vault.unlock(path, passphrase, totp_code=args.totp, recovery_code=args.recovery_code)
    except errors.TotpRequired:
        if not sys.stdin.isatty():
            raise errors.TotpRequired(
                "This vault needs a code from your authenticator app: pass --totp CODE "
                "(or --recovery-code CODE)."
            ) from None
        code = input("Authenticator code: ").strip()
        return Vault.unlock(path, passphrase, totp_code=code)


def passphrase_unlock(args: argparse.Namespace) -> tuple[Vault, str]:
    """Unlock with the passphrase, and keep it for a change that must confirm it."""
    if args.recovery_key:
        raise CliError("This needs your passphrase, not the recovery key. Set a new passphrase first "
                       "with `sanctum passwd --recovery-key`.")
    passphrase = secret("SANCTUM_PASSPHRASE", "Passphrase: ")
    return unlock(args, passphrase), passphrase


def print_recovery_key(key: str, intro: str) -> None:
    print(f"\n{intro}")
    print("Shown only now. Write it down and keep it somewhere safe and offline:\n")
    print(f"    {key}\n")


def read_input(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise CliError(f"Cannot read {path}: {exc.strerror}") from None


def write_output(path: Path, data: bytes) -> None:
    from ..core.files import write_atomically

    try:
        write_atomically(path, data)
    except OSError as exc:
        raise CliError(f"Cannot write {path}: {exc.strerror}") from None


def print_json(document: dict) -> None:
    json.dump(document, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")


class ProgressBar:
    """tqdm on a terminal, nothing otherwise (scripts and --json get clean output)."""

    def __init__(self, bar):
        self._bar = bar

    def update_to(self, done: int, total: int) -> None:
        if self._bar is not None:
            self._bar.total = total
            self._bar.n = done
            self._bar.refresh()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


def progress_bar(args: argparse.Namespace, label: str, unit: str) -> ProgressBar:
    if args.json or not sys.stderr.isatty():
        return ProgressBar(None)
    from tqdm import tqdm

    return ProgressBar(tqdm(desc=label, unit=unit, file=sys.stderr, leave=True))

