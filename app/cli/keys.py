"""Commands that replace secrets: passphrase, recovery key, recovery codes, authenticator."""

from __future__ import annotations

import argparse
import sys

from ..core import strength
from .common import (
    EXIT_OK,
    passphrase_unlock,
    print_json,
    print_recovery_key,
    progress_bar,
    secret,
    unlock,
)


def cmd_passwd(args: argparse.Namespace) -> int:
    with unlock(args) as vault:
        new = secret("SANCTUM_NEW_PASSPHRASE", "New passphrase: ", confirm=True)
        strength.require_strong(new)  # before the bar: a weak one is refused at once
        bar = progress_bar(args, "Re-wrapping keys", "key")
        try:
            rotated = vault.change_passphrase(new, progress=bar.update_to)
        finally:
            bar.close()
    if args.json:
        print_json({"changed": True, "rewrapped": rotated.rewrapped, "recovery_key": rotated.recovery_key})
        return EXIT_OK
    print("Passphrase changed. Every key was replaced: the old passphrase, and any old copy of "
          "vault.json, no longer open this vault.")
    if rotated.recovery_key:
        print_recovery_key(rotated.recovery_key, "Your vault also has a NEW RECOVERY KEY (the old one stopped working).")
    return EXIT_OK


def cmd_recovery_key(args: argparse.Namespace) -> int:
    vault, passphrase = passphrase_unlock(args)
    with vault:
        bar = progress_bar(args, "Re-wrapping keys", "key")
        try:
            rotated = vault.rotate_recovery_key(passphrase, progress=bar.update_to)
        finally:
            bar.close()
    if args.json:
        print_json({"recovery_key": rotated.recovery_key, "rewrapped": rotated.rewrapped})
    else:
        print_recovery_key(rotated.recovery_key, "NEW RECOVERY KEY. The old one no longer opens this vault.")
    return EXIT_OK


def cmd_recovery_codes(args: argparse.Namespace) -> int:
    with unlock(args) as vault:
        codes = vault.new_recovery_codes()
    if args.json:
        print_json({"recovery_codes": codes})
        return EXIT_OK
    print("New one-time recovery codes, each usable once instead of an authenticator code.")
    print("Shown only now; the old codes no longer work:\n")
    for code in codes:
        print(f"    {code}")
    print()
    return EXIT_OK


def cmd_totp(args: argparse.Namespace) -> int:
    with unlock(args) as vault:
        enrollment = vault.begin_totp_enrollment()
        if args.json:
            print_json({"totp_uri": enrollment.uri})
        else:
            print("Scan this with your authenticator app (or enter the link below by hand):\n")
            print(enrollment.terminal_qr())
            print(f"    {enrollment.uri}\n")
        sys.stdout.flush()
        # Stored only once a code from the new entry works, so a mistake cannot lock you out.
        if sys.stdin.isatty():
            code = input("Code from the new entry: ").strip()
        else:
            code = sys.stdin.readline().strip()
        vault.finish_totp_enrollment(enrollment, code)
    if args.json:
        print_json({"reenrolled": True})
    else:
        print("Authenticator replaced. Codes from the old entry no longer work; delete it from the app.")
    return EXIT_OK


def register(subs: argparse._SubParsersAction, common: list[argparse.ArgumentParser]) -> None:
    p = subs.add_parser("passwd", parents=common,
                        help="set a new passphrase and replace every key under it (after unlocking, e.g. "
                             "with --recovery-key); the new passphrase comes from $SANCTUM_NEW_PASSPHRASE "
                             "or a prompt")
    p.set_defaults(run=cmd_passwd)

    p = subs.add_parser("recovery-key", parents=common,
                            help="make a new recovery key (shown once); the old one stops working")
    p.add_argument("--rotate", action="store_true", required=True, help="replace the recovery key")
    p.set_defaults(run=cmd_recovery_key)

    p = subs.add_parser("recovery-codes", parents=common,
                            help="make new one-time recovery codes (shown once); the old ones stop working")
    p.add_argument("--new", action="store_true", required=True, help="replace all recovery codes")
    p.set_defaults(run=cmd_recovery_codes)

    p = subs.add_parser("totp", parents=common,
                            help="set up a new authenticator app (or a first one); the old one stops working")
    p.add_argument("--reenroll", action="store_true", required=True,
                   help="show a new QR code, then ask for a code from it to confirm")
    p.set_defaults(run=cmd_totp)
