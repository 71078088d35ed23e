"""Evidence reports: a signed PDF of a case (or of found copies) for the police or a lawyer, and
checking one."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

from .common import EXIT_ERROR, EXIT_OK, CliError, print_json, read_input, unlock


def cmd_report(args: argparse.Namespace) -> int:
    if args.verify:
        return _verify(args)
    if (args.case_id is None) == (not args.match) or not args.out:
        raise CliError("Name a case (sanctum report CASE_ID --out FILE.pdf) or found copies (--match ID, "
                       "repeatable), not both; or check a report with --verify FILE.pdf --pubkey PEM.")
    if args.out.suffix.lower() != ".pdf":
        raise CliError("The report file must end in .pdf.")
    with unlock(args) as vault:
        if args.case_id is not None:
            evidence = vault.case_report_evidence(args.case_id, prepared_by=args.name)
            if args.title:
                evidence = dataclasses.replace(evidence, title=args.title)
        else:
            evidence = vault.case_evidence(args.match, title=args.title, prepared_by=args.name)
        written = vault.write_report(evidence, args.out, full_thumbnails=args.full_thumbnails,
                                     attach_pages=not args.no_pages)
    if args.json:
        print_json(written.to_json())
    else:
        print(f"Report: {written.out}\nSignature: {written.signature}")
    return EXIT_OK


def _verify(args: argparse.Namespace) -> int:
    from ..core import fingerprint
    from ..core.leaks.report_signature import verify_report

    if not args.pubkey:
        raise CliError("--verify needs --pubkey PEM: the public key of the vault that signed the report.")
    try:
        public_key = fingerprint.load_public_key(read_input(args.pubkey))
    except ValueError as exc:
        raise CliError(f"{args.pubkey}: {exc}") from None
    signature_path = args.signature or args.verify.with_name(args.verify.name + ".sig")
    valid = verify_report(read_input(args.verify), read_input(signature_path), public_key)
    if args.json:
        print_json({"valid": valid})
    else:
        print(f"{args.verify}: " + ("VALID: unchanged, and signed by this key" if valid else
                                    "NOT VALID: changed since it was signed, or signed by another key"))
    return EXIT_OK if valid else EXIT_ERROR


def register(subs: argparse._SubParsersAction, common: list[argparse.ArgumentParser]) -> None:
    p = subs.add_parser("report", parents=common,
                        help="write a signed PDF evidence report of a case or of found copies (or check one "
                             "with --verify)")
    p.add_argument("case_id", type=int, nargs="?", metavar="CASE_ID", help="the case to report on (see `sanctum cases`)")
    p.add_argument("--match", type=int, action="append", metavar="ID",
                   help="instead of a case: a found copy to report on (see `sanctum matches`); repeat for several")
    p.add_argument("--out", type=Path, metavar="FILE.pdf", help="the report; its signature goes to FILE.pdf.sig")
    p.add_argument("--title", help="the report's title (default: the sites the copies are on)")
    p.add_argument("--name", metavar="NAME", help="the name of the person the report is for")
    p.add_argument("--full-thumbnails", action="store_true",
                   help="show the found pictures unblurred (they are blurred by default)")
    p.add_argument("--no-pages", action="store_true",
                   help="leave the captured pages' HTML out of the PDF (it stays in the vault)")
    p.add_argument("--verify", type=Path, metavar="FILE.pdf",
                   help="check a report's signature instead (no vault needed)")
    p.add_argument("--pubkey", type=Path, metavar="PEM", help="with --verify: the signer's public key")
    p.add_argument("--signature", type=Path, metavar="FILE.sig",
                   help="with --verify: the signature file (default: FILE.pdf.sig beside it)")
    p.set_defaults(run=cmd_report)
