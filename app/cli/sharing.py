"""Commands on protected copies: share, list shares, inspect a copy, immunize and verify."""

from __future__ import annotations

import argparse
from pathlib import Path

from .common import (
    EXIT_OK,
    CliError,
    print_json,
    progress_bar,
    read_input,
    unlock,
    write_output,
)


def cmd_share(args: argparse.Namespace) -> int:
    from ..core import sharing  # loads the image-processing stack only when needed

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
    with unlock(args) as vault:
        outcome = vault.share(args.id, args.out, options)
    if args.json:
        print_json({"share_id": outcome.share.share_id, "photo_id": outcome.share.photo_id, "out": outcome.out,
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
    with unlock(args) as vault:
        shares = vault.list_shares(args.photo)
    if args.json:
        print_json({"shares": [s.to_json() for s in shares]})
        return EXIT_OK
    if not shares:
        print("No shares yet.")
    for s in shares:
        photo = f"photo {s.photo_id}" if s.photo_id is not None else "deleted photo"
        print(f"{s.share_id}  {s.created_at:%Y-%m-%d %H:%M}  {photo:<14} {s.recipient}"
              + (f" ({s.platform})" if s.platform else ""))
    return EXIT_OK


def cmd_inspect(args: argparse.Namespace) -> int:
    from ..core import fingerprint, sharing  # loads the image-processing stack only when needed

    data = read_input(args.file)
    if args.pubkey:
        report = sharing.inspect_image(data, public_key=fingerprint.load_public_key(args.pubkey.read_bytes()))
        share = None
    else:
        with unlock(args) as vault:
            report, share = vault.inspect(data)
    if args.json:
        print_json({**report.to_json(), "share": share.to_json() if share else None})
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


def cmd_immunize(args: argparse.Namespace) -> int:
    data = read_input(args.input)
    bar = progress_bar(args, "Immunizing", "‰")
    try:
        with unlock(args) as vault:
            png = vault.immunize_image(data, args.mode, progress=bar.update_to)
    finally:
        bar.close()
    write_output(args.output, png)
    if args.json:
        print_json({"input": str(args.input), "output": str(args.output), "mode": args.mode, "bytes": len(png)})
    else:
        print(f"Immunized ({args.mode}) → {args.output}")
    return EXIT_OK


def cmd_verify(args: argparse.Namespace) -> int:
    from ..core import fingerprint
    from ..core.immunizer import files

    data = read_input(args.input)
    bar = progress_bar(args, "Verifying", "‰")
    try:
        result = files.verify_bytes(data, progress=bar.update_to)
    finally:
        bar.close()
    if args.mask:
        write_output(args.mask, files.mask_png(result.mask))
    if args.recovered and result.recovered is not None:
        write_output(args.recovered, files.png_bytes(result.recovered))
    expected_signer = None
    if args.pubkey:
        expected_signer = fingerprint.load_public_key(read_input(args.pubkey)) == result.signer
    document = {**result.to_json(), "signed_by_pubkey": expected_signer,
                "mask": str(args.mask) if args.mask else None,
                "recovered_file": str(args.recovered) if args.recovered and result.recovered is not None else None}
    if args.json:
        print_json(document)
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
    from ..core import fingerprint  # loads the image-processing stack only when needed

    with unlock(args) as vault:
        pem = fingerprint.public_key_pem(vault.signing_public_key())
    if args.out:
        from ..core.files import SHAREABLE_MODE, write_atomically

        write_atomically(args.out, pem.encode("utf-8"), mode=SHAREABLE_MODE)
    if args.json:
        print_json({"public_key_pem": pem, "out": str(args.out) if args.out else None})
    elif not args.out:
        print(pem, end="")
    return EXIT_OK


def register(subs: argparse._SubParsersAction, common: list[argparse.ArgumentParser]) -> None:
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
    p.set_defaults(run=cmd_share)

    p = subs.add_parser("shares", parents=common, help="list protected copies and who got them")
    p.add_argument("--photo", type=int, metavar="ID", help="only shares of this photo")
    p.set_defaults(run=cmd_shares)

    p = subs.add_parser("inspect", parents=common,
                            help="read the IDs, watermark and signature of a copy (yours or one found online)")
    p.add_argument("file", type=Path, metavar="FILE")
    p.add_argument("--pubkey", type=Path, metavar="PEM",
                   help="check the signature with this public key only, without a vault")
    p.set_defaults(run=cmd_inspect)

    p = subs.add_parser("immunize", parents=common,
                            help="write an immunized PNG: later shows whether a copy was altered, where, and what was there")
    p.add_argument("input", type=Path, metavar="IN")
    p.add_argument("output", type=Path, metavar="OUT", help="output PNG")
    p.add_argument("--mode", choices=("lossless", "robust"), default="lossless",
                   help="lossless: files sent intact, exact restoration; robust: social networks (default lossless)")
    p.set_defaults(run=cmd_immunize)

    p = subs.add_parser("verify", parents=common,
                            help="check an image for tampering since it was immunized (no vault needed)")
    p.add_argument("input", type=Path, metavar="IN")
    p.add_argument("--mask", type=Path, metavar="M.png", help="write the tamper mask (white = tampered)")
    p.add_argument("--recovered", type=Path, metavar="R.png", help="write the recovered photo")
    p.add_argument("--pubkey", type=Path, metavar="PEM", help="say whether this public key signed it")
    p.set_defaults(run=cmd_verify)

    p = subs.add_parser("pubkey", parents=common, help="print the vault's public signing key (PEM)")
    p.add_argument("--out", type=Path, metavar="FILE", help="write it to a file instead")
    p.set_defaults(run=cmd_pubkey)
