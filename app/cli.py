"""The `sanctum` command line: every core operation, with `--json` for scripts.

Errors are turned into words here, in one place: a typed core exception becomes one line on
stderr and a non-zero exit code. `--json` prints exactly one JSON document on stdout.
"""

from __future__ import annotations

import argparse
import getpass
import json
import logging
import os
import sys
from datetime import datetime
from pathlib import Path

from .core import errors, strength
from .core.vault import Vault, default_vault_path

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2

log = logging.getLogger("sanctum")


class CliError(Exception):
    """A problem with how the command was called (not a core failure)."""


def _common_options(sub: bool) -> argparse.ArgumentParser:
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sanctum",
        description="Sanctum keeps private photos in an encrypted vault. Run without arguments "
                    "to open the app.",
        parents=[_common_options(sub=False)],
        epilog="The passphrase is read from $SANCTUM_PASSPHRASE, else asked for.",
    )
    subs = parser.add_subparsers(dest="command", metavar="COMMAND")
    common = [_common_options(sub=True)]

    p = subs.add_parser("init", parents=common, help="create a vault (shows the recovery key once)")
    p.add_argument("--no-totp", action="store_true", help="do not enroll an authenticator app")

    p = subs.add_parser("import", parents=common, help="import photos from files and folders")
    p.add_argument("paths", nargs="+", type=Path, metavar="PATH")

    p = subs.add_parser("list", parents=common, help="list and search photos")
    p.add_argument("--after", type=_parse_date, help="taken on or after this date (YYYY-MM-DD)")
    p.add_argument("--before", type=_parse_date, help="taken before this date (YYYY-MM-DD)")
    p.add_argument("--tag", metavar="T", help="a category (animals, food & drink, ...) or a label (cat, pizza)")
    p.add_argument("--person", metavar="P", help="a person's name or id (see `sanctum people`)")
    flag = p.add_mutually_exclusive_group()
    flag.add_argument("--sensitive", dest="sensitive", action="store_const", const=True, default=None,
                      help="only photos flagged sensitive")
    flag.add_argument("--not-sensitive", dest="sensitive", action="store_const", const=False)

    subs.add_parser("people", parents=common, help="list the people found in your photos")
    p = subs.add_parser("person", parents=common, help="name a person or merge two")
    p.add_argument("person_id", type=int, metavar="ID")
    p.add_argument("--name", metavar="NAME")
    p.add_argument("--merge-into", type=int, metavar="OTHER_ID", help="this person is OTHER_ID")
    p = subs.add_parser("face", parents=common, help="fix a face: move it or reject it")
    p.add_argument("face_id", type=int, metavar="FACE_ID")
    action = p.add_mutually_exclusive_group(required=True)
    action.add_argument("--move-to", type=int, metavar="PERSON_ID")
    action.add_argument("--new-person", action="store_true")
    action.add_argument("--reject", action="store_true", help="not a face, or not anyone to group")
    p = subs.add_parser("mark", parents=common, help="mark or unmark a photo as sensitive")
    p.add_argument("id", type=int, metavar="ID")
    p.add_argument("state", choices=["sensitive", "not-sensitive", "auto"])

    p = subs.add_parser("export", parents=common, help="write originals, bit-exact, to a folder")
    p.add_argument("ids", nargs="+", type=int, metavar="ID")
    p.add_argument("--out", type=Path, required=True, metavar="DIR")

    p = subs.add_parser("delete", parents=common, help="delete photos (their keys are destroyed)")
    p.add_argument("ids", nargs="+", type=int, metavar="ID")
    p.add_argument("--forget-leak-records", action="store_true",
                   help="also remove the records of found copies (addresses, dates, requests); "
                        "their pictures are always removed")

    p = subs.add_parser("share", parents=common, help="write a protected copy of a photo for someone")
    p.add_argument("id", type=int, metavar="ID")
    p.add_argument("--recipient", required=True, metavar="NAME", help="who gets this copy")
    p.add_argument("--out", type=Path, required=True, metavar="FILE", help="output file (.jpg, .png or .webp)")
    p.add_argument("--platform", metavar="P", help="where it is shared (e.g. WhatsApp)")
    p.add_argument("--keep-location", action="store_true", help="keep GPS position in the copy")
    p.add_argument("--keep-date", action="store_true", help="keep the date and time the photo was taken")
    p.add_argument("--max-size", type=int, metavar="PX", help="shrink so the long side is at most PX")
    p.add_argument("--immunize", choices=("lossless", "robust"),
                   help="also immunize the copy (lossless needs a .png output)")

    p = subs.add_parser("shares", parents=common, help="list protected copies and who got them")
    p.add_argument("--photo", type=int, metavar="ID", help="only shares of this photo")

    p = subs.add_parser("inspect", parents=common,
                        help="read the IDs, watermark and signature of a copy (yours or one found online)")
    p.add_argument("file", type=Path, metavar="FILE")
    p.add_argument("--pubkey", type=Path, metavar="PEM",
                   help="check the signature with this public key only, without a vault")

    p = subs.add_parser("immunize", parents=common,
                        help="write an immunized PNG: later shows whether a copy was altered, where, and what was there")
    p.add_argument("input", type=Path, metavar="IN")
    p.add_argument("output", type=Path, metavar="OUT", help="output PNG")
    p.add_argument("--mode", choices=("lossless", "robust"), default="lossless",
                   help="lossless: files sent intact, exact restoration; robust: social networks (default lossless)")

    p = subs.add_parser("verify", parents=common,
                        help="check an image for tampering since it was immunized (no vault needed)")
    p.add_argument("input", type=Path, metavar="IN")
    p.add_argument("--mask", type=Path, metavar="M.png", help="write the tamper mask (white = tampered)")
    p.add_argument("--recovered", type=Path, metavar="R.png", help="write the recovered photo")
    p.add_argument("--pubkey", type=Path, metavar="PEM", help="say whether this public key signed it")

    p = subs.add_parser("pubkey", parents=common, help="print the vault's public signing key (PEM)")
    p.add_argument("--out", type=Path, metavar="FILE", help="write it to a file instead")

    subs.add_parser("index", parents=common, help="compute missing fingerprints of vault photos")

    p = subs.add_parser("scan", parents=common,
                        help="look for your photos in files, folders, image URLs and web pages")
    p.add_argument("sources", nargs="+", metavar="SOURCE")

    subs.add_parser("matches", parents=common, help="list copies of your photos found by scans")

    p = subs.add_parser("takedown", parents=common, help="draft (and with --send, send) a removal request")
    p.add_argument("match_id", type=int, metavar="MATCH_ID")
    p.add_argument("--send", action="store_true",
                   help="use the deletion link / API now (a notice is sent from your email program)")
    p.add_argument("--deletion-link", metavar="URL", help="the deletion link the host gave at upload")
    p.add_argument("--abuse-email", metavar="EMAIL", help="the host's abuse or privacy contact")
    p.add_argument("--imgur-delete-hash", metavar="HASH")
    p.add_argument("--imgur-client-id", metavar="ID")
    p.add_argument("--imgur-api", metavar="URL", help=argparse.SUPPRESS)
    p.add_argument("--notice", choices=("intimate", "privacy", "copyright"), default=None,
                   help="what a notice states: an intimate image of you shared without consent, your personal "
                        "photo posted without permission, or a photo you took (copyright); by default "
                        "'intimate' for a photo flagged sensitive, else 'privacy'")
    p.add_argument("--name", default=os.environ.get("SANCTUM_REQUESTER_NAME", ""), help="your name")
    p.add_argument("--email", default=os.environ.get("SANCTUM_REQUESTER_EMAIL", ""), help="your email")

    p = subs.add_parser("recheck", parents=common, help="check whether a requested removal happened")
    p.add_argument("takedown_id", type=int, metavar="REQUEST_ID")

    p = subs.add_parser("hashes", parents=common, help="PDQ + MD5 of a photo for hash-sharing programmes")
    p.add_argument("id", type=int, metavar="ID")

    subs.add_parser("passwd", parents=common,
                    help="set a new passphrase and replace every key under it (after unlocking, e.g. "
                         "with --recovery-key); the new passphrase comes from $SANCTUM_NEW_PASSPHRASE "
                         "or a prompt")
    p = subs.add_parser("recovery-key", parents=common,
                        help="make a new recovery key (shown once); the old one stops working")
    p.add_argument("--rotate", action="store_true", required=True, help="replace the recovery key")
    p = subs.add_parser("recovery-codes", parents=common,
                        help="make new one-time recovery codes (shown once); the old ones stop working")
    p.add_argument("--new", action="store_true", required=True, help="replace all recovery codes")
    p = subs.add_parser("totp", parents=common,
                        help="set up a new authenticator app (or a first one); the old one stops working")
    p.add_argument("--reenroll", action="store_true", required=True,
                   help="show a new QR code, then ask for a code from it to confirm")
    return parser


def _parse_date(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date: {text!r} (use YYYY-MM-DD)") from None


# --- secrets from the environment or the terminal ---------------------------------------------


def _secret(env_name: str, prompt: str, confirm: bool = False) -> str:
    value = os.environ.get(env_name)
    if value:
        return value
    if not sys.stdin.isatty():
        raise CliError(f"No terminal to ask for it: set ${env_name}.")
    value = getpass.getpass(prompt)
    if confirm and getpass.getpass("Repeat it: ") != value:
        raise CliError("The two entries differ.")
    return value


def _unlock(args: argparse.Namespace, passphrase: str | None = None) -> Vault:
    path = args.vault or default_vault_path()
    if args.recovery_key:
        return Vault.recover(path, _secret("SANCTUM_RECOVERY_KEY", "Recovery key: "))
    passphrase = passphrase or _secret("SANCTUM_PASSPHRASE", "Passphrase: ")
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


# --- commands -----------------------------------------------------------------------------------


def cmd_init(args: argparse.Namespace) -> int:
    path = args.vault or default_vault_path()
    passphrase = _secret("SANCTUM_PASSPHRASE", "New passphrase: ", confirm=True)
    strength.require_strong(passphrase)  # the wizard's rule (Vault.create checks it too)
    vault, created = Vault.create(path, passphrase, enable_totp=not args.no_totp)
    vault.lock()
    if args.json:
        _print_json({
            "vault": str(path),
            "recovery_key": created.recovery_key,
            "recovery_codes": created.recovery_codes,
            "totp_uri": created.totp.uri if created.totp else None,
        })
        return EXIT_OK
    print(f"Vault created at {path}\n")
    print("RECOVERY KEY — shown only now. Write it down and keep it somewhere safe and offline.")
    print("It opens the vault if you forget your passphrase and lose your phone:\n")
    print(f"    {created.recovery_key}\n")
    if created.totp:
        print("Scan this with your authenticator app (or enter the link below by hand):\n")
        print(created.totp.terminal_qr())
        print(f"    {created.totp.uri}\n")
        print("One-time recovery codes, each usable once instead of an authenticator code:\n")
        for code in created.recovery_codes:
            print(f"    {code}")
        print()
    return EXIT_OK


def cmd_import(args: argparse.Namespace) -> int:
    with _unlock(args) as vault:
        bar = _progress_bar(args, "Importing", "photo")
        try:
            report = vault.import_paths(args.paths, progress=bar.update_to)
        finally:
            bar.close()
    if args.json:
        _print_json(report.to_json())
        return EXIT_OK
    print(f"Imported {len(report.imported)} photo(s); {len(report.duplicates)} already in the vault; "
          f"{len(report.errors)} could not be imported.")
    for problem in report.errors:
        print(f"  {problem.path}: {problem.reason}")
    return EXIT_OK


def cmd_list(args: argparse.Namespace) -> int:
    with _unlock(args) as vault:
        photos = vault.list_photos(after=args.after, before=args.before, tag=args.tag, person=args.person,
                                   sensitive=args.sensitive)
        details = vault.photo_details([p.id for p in photos])
    if args.json:
        _print_json({"photos": [{
            **p.to_json(),
            "tags": details[p.id].categories + details[p.id].labels,
            "people": details[p.id].people,
            "sensitive": details[p.id].sensitive,
            "faces": details[p.id].faces,
        } for p in photos]})
        return EXIT_OK
    if not photos:
        print("No photos.")
    for p in photos:
        print(f"{p.id:>6}  {p.taken_at:%Y-%m-%d %H:%M}  {p.width}×{p.height:<6} {p.filename}")
    return EXIT_OK


def cmd_export(args: argparse.Namespace) -> int:
    with _unlock(args) as vault:
        bar = _progress_bar(args, "Exporting", "photo")
        try:
            report = vault.export(args.ids, args.out, progress=bar.update_to)
        finally:
            bar.close()
    if args.json:
        _print_json(report.to_json())
    else:
        for item in report.exported:
            print(item.path)
    for problem in report.errors:
        print(f"sanctum: photo {problem.photo_id} not exported: {problem.reason}", file=sys.stderr)
    return EXIT_ERROR if report.errors else EXIT_OK


def cmd_delete(args: argparse.Namespace) -> int:
    with _unlock(args) as vault:
        deleted = vault.delete(args.ids, keep_leak_records=not args.forget_leak_records)
    if args.json:
        _print_json({"deleted": deleted})
    else:
        print(f"Deleted {len(deleted)} photo(s).")
    return EXIT_OK


def cmd_passwd(args: argparse.Namespace) -> int:
    with _unlock(args) as vault:
        new = _secret("SANCTUM_NEW_PASSPHRASE", "New passphrase: ", confirm=True)
        strength.require_strong(new)  # before the bar: a weak one is refused at once
        bar = _progress_bar(args, "Re-wrapping keys", "key")
        try:
            rotated = vault.change_passphrase(new, progress=bar.update_to)
        finally:
            bar.close()
    if args.json:
        _print_json({"changed": True, "rewrapped": rotated.rewrapped, "recovery_key": rotated.recovery_key})
        return EXIT_OK
    print("Passphrase changed. Every key was replaced: the old passphrase, and any old copy of "
          "vault.json, no longer open this vault.")
    if rotated.recovery_key:
        _print_recovery_key(rotated.recovery_key, "Your vault also has a NEW RECOVERY KEY (the old one stopped working).")
    return EXIT_OK


def _print_recovery_key(key: str, intro: str) -> None:
    print(f"\n{intro}")
    print("Shown only now. Write it down and keep it somewhere safe and offline:\n")
    print(f"    {key}\n")


def _passphrase_unlock(args: argparse.Namespace) -> tuple[Vault, str]:
    """Unlock with the passphrase, and keep it for a change that must confirm it."""
    if args.recovery_key:
        raise CliError("This needs your passphrase, not the recovery key. Set a new passphrase first "
                       "with `sanctum passwd --recovery-key`.")
    passphrase = _secret("SANCTUM_PASSPHRASE", "Passphrase: ")
    return _unlock(args, passphrase), passphrase


def cmd_recovery_key(args: argparse.Namespace) -> int:
    vault, passphrase = _passphrase_unlock(args)
    with vault:
        bar = _progress_bar(args, "Re-wrapping keys", "key")
        try:
            rotated = vault.rotate_recovery_key(passphrase, progress=bar.update_to)
        finally:
            bar.close()
    if args.json:
        _print_json({"recovery_key": rotated.recovery_key, "rewrapped": rotated.rewrapped})
    else:
        _print_recovery_key(rotated.recovery_key, "NEW RECOVERY KEY. The old one no longer opens this vault.")
    return EXIT_OK


def cmd_recovery_codes(args: argparse.Namespace) -> int:
    with _unlock(args) as vault:
        codes = vault.new_recovery_codes()
    if args.json:
        _print_json({"recovery_codes": codes})
        return EXIT_OK
    print("New one-time recovery codes, each usable once instead of an authenticator code.")
    print("Shown only now; the old codes no longer work:\n")
    for code in codes:
        print(f"    {code}")
    print()
    return EXIT_OK


def cmd_totp(args: argparse.Namespace) -> int:
    with _unlock(args) as vault:
        enrollment = vault.begin_totp_enrollment()
        if args.json:
            _print_json({"totp_uri": enrollment.uri})
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
        _print_json({"reenrolled": True})
    else:
        print("Authenticator replaced. Codes from the old entry no longer work; delete it from the app.")
    return EXIT_OK


def cmd_share(args: argparse.Namespace) -> int:
    from .core import sharing  # loads the image-processing stack only when needed

    suffix = args.out.suffix.lower()
    if suffix not in sharing.OUTPUT_FORMATS:
        raise CliError("The output file must end in .jpg, .png or .webp.")
    options = sharing.ShareOptions(
        recipient=args.recipient,
        platform=args.platform,
        output_format=sharing.OUTPUT_FORMATS[suffix],
        strip_location=not args.keep_location,
        keep_capture_date=args.keep_date,
        max_long_side=args.max_size,
        immunize=args.immunize,
    )
    with _unlock(args) as vault:
        outcome = vault.share(args.id, args.out, options)
    if args.json:
        _print_json({"share_id": outcome.share.share_id, "photo_id": outcome.share.photo_id, "out": outcome.out,
                     "recipient": outcome.share.recipient, "platform": outcome.share.platform,
                     "embedded": list(outcome.embedded), "removed": list(outcome.removed)})
        return EXIT_OK
    print(f"Protected copy for {outcome.share.recipient}: {outcome.out}")
    print(f"Share ID {outcome.share.share_id}. It carries:")
    for line in outcome.embedded:
        print(f"  + {line}")
    print("Removed:")
    for line in outcome.removed:
        print(f"  - {line}")
    return EXIT_OK


def cmd_shares(args: argparse.Namespace) -> int:
    with _unlock(args) as vault:
        shares = vault.list_shares(args.photo)
    if args.json:
        _print_json({"shares": [s.to_json() for s in shares]})
        return EXIT_OK
    if not shares:
        print("No shares yet.")
    for s in shares:
        photo = f"photo {s.photo_id}" if s.photo_id is not None else "deleted photo"
        print(f"{s.share_id}  {s.created_at:%Y-%m-%d %H:%M}  {photo:<14} {s.recipient}"
              + (f" ({s.platform})" if s.platform else ""))
    return EXIT_OK


def cmd_inspect(args: argparse.Namespace) -> int:
    from .core import fingerprint, sharing  # loads the image-processing stack only when needed

    data = _read_input(args.file)
    if args.pubkey:
        report = sharing.inspect_image(data, public_key=fingerprint.load_public_key(args.pubkey.read_bytes()))
        share = None
    else:
        with _unlock(args) as vault:
            report, share = vault.inspect(data)
    if args.json:
        _print_json({**report.to_json(), "share": share.to_json() if share else None})
        return EXIT_OK
    print(f"{args.file}: {report.width}×{report.height}")
    if report.metadata:
        ids = report.metadata.ids
        print(f"  metadata: share {ids.share_id}, signed {ids.signed_at} (in {', '.join(report.metadata.sources)})")
    else:
        print("  metadata: no Sanctum IDs")
    if not args.pubkey:
        found = report.watermark_share_id
        if report.watermark_against_original:
            how = "too damaged to read alone, read against the vault's original photo"
        elif report.watermark_matched:
            how = "too damaged to read alone, matched to this vault's shares"
        else:
            how = f"confidence {report.watermark_confidence}"
        print(f"  watermark: share {found} ({how})" if found else "  watermark: none found")
        print(f"  fragile mark: {report.fragile}")
    print(f"  signature: {report.signature}")
    if share:
        print(f"  this is the copy given to {share.recipient}"
              + (f" on {share.platform}" if share.platform else "") + f" on {share.created_at:%Y-%m-%d}")
    return EXIT_OK


def _read_input(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise CliError(f"Cannot read {path}: {exc.strerror}") from None


def _write_output(path: Path, data: bytes) -> None:
    from .core.files import write_atomically

    try:
        write_atomically(path, data)
    except OSError as exc:
        raise CliError(f"Cannot write {path}: {exc.strerror}") from None


def cmd_immunize(args: argparse.Namespace) -> int:
    data = _read_input(args.input)
    bar = _progress_bar(args, "Immunizing", "%")
    try:
        with _unlock(args) as vault:
            png = vault.immunize_image(data, args.mode, progress=lambda f: bar.update_to(int(f * 100), 100))
    finally:
        bar.close()
    _write_output(args.output, png)
    if args.json:
        _print_json({"input": str(args.input), "output": str(args.output), "mode": args.mode, "bytes": len(png)})
    else:
        print(f"Immunized ({args.mode}) → {args.output}")
    return EXIT_OK


def cmd_verify(args: argparse.Namespace) -> int:
    from .core import fingerprint
    from .core.immunizer import files

    data = _read_input(args.input)
    bar = _progress_bar(args, "Verifying", "%")
    try:
        result = files.verify_bytes(data, progress=lambda f: bar.update_to(int(f * 100), 100))
    finally:
        bar.close()
    if args.mask:
        _write_output(args.mask, files.mask_png(result.mask))
    if args.recovered and result.recovered is not None:
        _write_output(args.recovered, files.png_bytes(result.recovered))
    expected_signer = None
    if args.pubkey:
        expected_signer = fingerprint.load_public_key(_read_input(args.pubkey)) == result.signer
    document = {**result.to_json(), "signed_by_pubkey": expected_signer,
                "mask": str(args.mask) if args.mask else None,
                "recovered_file": str(args.recovered) if args.recovered and result.recovered is not None else None}
    if args.json:
        _print_json(document)
        return EXIT_OK
    words = {"not_immunized": "not immunized (or changed beyond recognition)",
             "authentic": "authentic: unchanged since it was immunized",
             "tampered": f"tampered: about {result.tampered_fraction:.1%} of the photo was changed"}
    print(f"{args.input}: {words[result.verdict.value]}")
    if result.mode:
        print(f"  mode: {result.mode.value}" + (", restored bit for bit" if result.bit_exact else ""))
    if result.signer:
        owner = {True: " (matches --pubkey)", False: " (NOT the --pubkey key)", None: ""}[expected_signer]
        print(f"  signed by key {result.signer.hex()[:16]}…{owner}")
    if result.recovered is None and result.verdict.value == "tampered":
        print(f"  {result.details.get('recovery', 'no recovery possible')}")
    return EXIT_OK


def cmd_pubkey(args: argparse.Namespace) -> int:
    from .core import fingerprint  # loads the image-processing stack only when needed

    with _unlock(args) as vault:
        pem = fingerprint.public_key_pem(vault.signing_public_key())
    if args.out:
        from .core.files import SHAREABLE_MODE, write_atomically

        write_atomically(args.out, pem.encode("utf-8"), mode=SHAREABLE_MODE)
    if args.json:
        _print_json({"public_key_pem": pem, "out": str(args.out) if args.out else None})
    elif not args.out:
        print(pem, end="")
    return EXIT_OK


def cmd_index(args: argparse.Namespace) -> int:
    from .core.vision.errors import VisionUnavailable

    unavailable = None
    report = None
    with _unlock(args) as vault:
        bar = _progress_bar(args, "Fingerprints", "photo")
        try:
            count = vault.index_fingerprints(progress=bar.update_to)
        finally:
            bar.close()
        bar = _progress_bar(args, "Tags, faces", "photo")
        try:
            report = vault.analyze(progress=bar.update_to)
        except VisionUnavailable as exc:
            unavailable = str(exc)
        finally:
            bar.close()
    if args.json:
        _print_json({"fingerprinted": count, "analyzed": report.analyzed if report else 0,
                     "faces": report.faces if report else 0,
                     "people_created": report.people_created if report else 0, "unavailable": unavailable})
        return EXIT_OK
    print(f"Fingerprinted {count} photo(s).")
    if report:
        print(f"Analysed {report.analyzed} photo(s): {report.faces} face(s), {report.people_created} new people.")
    else:
        print(f"Tags and faces skipped: {unavailable}")
    return EXIT_OK


def cmd_people(args: argparse.Namespace) -> int:
    from .core import organize

    with _unlock(args):
        people = organize.list_people()
    if args.json:
        _print_json({"people": [{"id": p.id, "name": p.name, "faces": p.face_count, "photos": p.photo_count}
                                for p in people]})
        return EXIT_OK
    if not people:
        print("No people yet (run `sanctum index`).")
    for p in people:
        print(f"{p.id:>5}  {p.label:<30} {p.photo_count} photo(s)")
    return EXIT_OK


def cmd_person(args: argparse.Namespace) -> int:
    from .core import organize

    # The GUI's edits: the same request type, applied the same way.
    edits = []
    if args.name is not None:
        edits.append(organize.PersonEdit("name", args.person_id, name=args.name))
    if args.merge_into is not None:
        edits.append(organize.PersonEdit("merge", args.merge_into, other_id=args.person_id))
    with _unlock(args):
        for edit in edits:
            organize.apply_person_edit(edit)
    if args.json:
        _print_json({"ok": True})
    return EXIT_OK


def cmd_face(args: argparse.Namespace) -> int:
    from .core import organize

    if args.reject:
        edit = organize.PersonEdit("reject", face_id=args.face_id)
    else:
        edit = organize.PersonEdit("move", face_id=args.face_id, other_id=None if args.new_person else args.move_to)
    with _unlock(args):
        organize.apply_person_edit(edit)
    if args.json:
        _print_json({"ok": True})
    return EXIT_OK


def cmd_mark(args: argparse.Namespace) -> int:
    from .core import organize

    state = {"sensitive": True, "not-sensitive": False, "auto": None}[args.state]
    with _unlock(args) as vault:
        vault.photo(args.id)
        organize.set_sensitive_many([args.id], state)
    if args.json:
        _print_json({"id": args.id, "sensitive": state})
    return EXIT_OK


def cmd_scan(args: argparse.Namespace) -> int:
    with _unlock(args) as vault:
        bar = _progress_bar(args, "Scanning", "image")
        try:
            outcome = vault.scan(args.sources, progress=bar.update_to)
        finally:
            bar.close()
        shares = {m.share_id: vault.find_share(m.share_id) for m in outcome.matches if m.share_id}
    if args.json:
        _print_json({
            "scanned": outcome.scanned,
            "errors": [{"source": e.path, "reason": e.reason} for e in outcome.errors],
            "matches": [{**m.to_json(), "recipient": shares[m.share_id].recipient
                         if m.share_id and shares.get(m.share_id) else None} for m in outcome.matches],
        })
        return EXIT_OK
    print(f"Scanned {outcome.scanned} image(s); {len(outcome.matches)} match(es); "
          f"{len(outcome.errors)} source(s) could not be checked.")
    for m in outcome.matches:
        who = shares.get(m.share_id) if m.share_id else None
        print(f"  #{m.id} {m.source}: photo {m.photo_id} by {m.method} (score {m.score})"
              + (f" — the copy shared with {who.recipient}" if who else ""))
    for problem in outcome.errors:
        print(f"  {problem.path}: {problem.reason}")
    return EXIT_OK


def cmd_matches(args: argparse.Namespace) -> int:
    with _unlock(args) as vault:
        matches = vault.list_matches()
    if args.json:
        _print_json({"matches": [m.to_json() for m in matches]})
        return EXIT_OK
    if not matches:
        print("No copies found yet.")
    for m in matches:
        print(f"#{m.id:<5} {m.last_seen:%Y-%m-%d}  photo {m.photo_id}  {m.method:<9} {m.status:<8} {m.source}")
    return EXIT_OK


def cmd_takedown(args: argparse.Namespace) -> int:
    from .core.leaks.takedown import IMGUR_API, Requester, TakedownContact

    contact = TakedownContact(
        abuse_email=args.abuse_email, deletion_link=args.deletion_link,
        imgur_delete_hash=args.imgur_delete_hash, imgur_client_id=args.imgur_client_id,
        imgur_api=args.imgur_api or IMGUR_API,
    )
    with _unlock(args) as vault:
        request = vault.draft_takedown(args.match_id, contact, Requester(args.name, args.email), args.notice)
        if args.send and request.kind != "notice":
            request = vault.send_takedown(request.id)
    if args.json:
        _print_json(request.to_json())
        return EXIT_OK
    print(f"Removal request #{request.id} ({request.kind}): {request.status}. {request.detail}")
    if request.kind == "notice":
        print(f"\nSubject: {request.subject}\n\n{request.text}\n")
        if request.mailto:
            print("Open this in your browser or mail program to send it:\n" + request.mailto)
    return EXIT_OK


def cmd_recheck(args: argparse.Namespace) -> int:
    with _unlock(args) as vault:
        request = vault.recheck_takedown(args.takedown_id)
    if args.json:
        _print_json(request.to_json())
    else:
        print(f"Removal request #{request.id}: {request.status} ({request.detail})")
    return EXIT_OK


def cmd_hashes(args: argparse.Namespace) -> int:
    with _unlock(args) as vault:
        exported = vault.hash_export(args.id)
    _print_json(exported)
    return EXIT_OK


COMMANDS = {
    "people": cmd_people,
    "person": cmd_person,
    "face": cmd_face,
    "mark": cmd_mark,
    "takedown": cmd_takedown,
    "recheck": cmd_recheck,
    "hashes": cmd_hashes,
    "scan": cmd_scan,
    "matches": cmd_matches,
    "share": cmd_share,
    "shares": cmd_shares,
    "inspect": cmd_inspect,
    "pubkey": cmd_pubkey,
    "immunize": cmd_immunize,
    "verify": cmd_verify,
    "index": cmd_index,
    "init": cmd_init,
    "import": cmd_import,
    "list": cmd_list,
    "export": cmd_export,
    "delete": cmd_delete,
    "passwd": cmd_passwd,
    "recovery-key": cmd_recovery_key,
    "recovery-codes": cmd_recovery_codes,
    "totp": cmd_totp,
}


# --- output helpers -------------------------------------------------------------------------------


def _print_json(document: dict) -> None:
    json.dump(document, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")


class _Bar:
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


def _progress_bar(args: argparse.Namespace, label: str, unit: str) -> _Bar:
    if args.json or not sys.stderr.isatty():
        return _Bar(None)
    from tqdm import tqdm

    return _Bar(tqdm(desc=label, unit=unit, file=sys.stderr, leave=True))


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    try:
        return COMMANDS[args.command](args)
    except errors.SanctumError as exc:
        print(f"sanctum: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except CliError as exc:
        print(f"sanctum: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("sanctum: interrupted", file=sys.stderr)
        return 130
