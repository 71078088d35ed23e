"""Commands on leaks: scan for copies, list them, ask for removal, re-check, hashes, reindex."""

from __future__ import annotations

import argparse
import os

from ..core.leaks.crawl import MAX_DEPTH, PageOptions
from .common import (
    EXIT_OK,
    CliError,
    print_json,
    progress_bar,
    unlock,
)


def page_options(args: argparse.Namespace) -> PageOptions:
    try:
        return PageOptions(depth=args.depth, max_pages=args.max_pages, browser=args.browser)
    except ValueError as exc:
        raise CliError(f"{exc}.") from None


def cmd_scan(args: argparse.Namespace) -> int:
    if args.watched:
        if args.sources:
            raise CliError("give sources or --watched, not both.")
        from .watch import scan_watched

        return scan_watched(args)
    if not args.sources:
        raise CliError("give at least one SOURCE, or --watched.")
    if args.all or args.full:
        raise CliError("--all and --full go with --watched.")
    with unlock(args) as vault:
        bar = progress_bar(args, "Scanning", "image")
        try:
            outcome = vault.scan(args.sources, progress=bar.update_to, pages=page_options(args))
        finally:
            bar.close()
        shares = {m.share_id: vault.find_share(m.share_id) for m in outcome.matches if m.share_id}
    if args.json:
        print_json({
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
              + (f" — the copy shared with {who.recipient}" if who else "")
              + (f", on {m.found_on}" if m.found_on else ""))
    for problem in outcome.errors:
        print(f"  {problem.path}: {problem.reason}")
    return EXIT_OK


def cmd_matches(args: argparse.Namespace) -> int:
    with unlock(args) as vault:
        matches = vault.list_matches()
    if args.json:
        print_json({"matches": [m.to_json() for m in matches]})
        return EXIT_OK
    if not matches:
        print("No copies found yet.")
    for m in matches:
        print(f"#{m.id:<5} {m.last_seen:%Y-%m-%d}  photo {m.photo_id}  {m.method:<9} {m.status:<8} {m.source}")
    return EXIT_OK


def cmd_takedown(args: argparse.Namespace) -> int:
    from ..core.leaks.takedown import IMGUR_API, Requester, TakedownContact

    contact = TakedownContact(
        abuse_email=args.abuse_email, deletion_link=args.deletion_link,
        imgur_delete_hash=args.imgur_delete_hash, imgur_client_id=args.imgur_client_id,
        imgur_api=args.imgur_api or IMGUR_API,
    )
    with unlock(args) as vault:
        request = vault.draft_takedown(args.match_id, contact, Requester(args.name, args.email), args.notice)
        if args.send and request.kind != "notice":
            request = vault.send_takedown(request.id)
    if args.json:
        print_json(request.to_json())
        return EXIT_OK
    print(f"Removal request #{request.id} ({request.kind}): {request.status}. {request.detail}")
    if request.kind == "notice":
        print(f"\nSubject: {request.subject}\n\n{request.text}\n")
        if request.mailto:
            print("Open this in your browser or mail program to send it:\n" + request.mailto)
    return EXIT_OK


def cmd_recheck(args: argparse.Namespace) -> int:
    with unlock(args) as vault:
        request = vault.recheck_takedown(args.takedown_id)
    if args.json:
        print_json(request.to_json())
    else:
        print(f"Removal request #{request.id}: {request.status} ({request.detail})")
    return EXIT_OK


def cmd_reindex(args: argparse.Namespace) -> int:
    with unlock(args) as vault:
        bar = progress_bar(args, "Feature index", "photo")
        try:
            photos = vault.rebuild_feature_index(progress=bar.update_to)
        finally:
            bar.close()
    if args.json:
        print_json({"photos": photos})
    else:
        print(f"Rebuilt the scan's feature index of {photos} photo(s).")
    return EXIT_OK


def cmd_hashes(args: argparse.Namespace) -> int:
    with unlock(args) as vault:
        exported = vault.hash_export(args.id)
    print_json(exported)
    return EXIT_OK


def register(subs: argparse._SubParsersAction, common: list[argparse.ArgumentParser]) -> None:
    p = subs.add_parser("scan", parents=common,
                        help="look for your photos in files, folders, image URLs and web pages")
    p.add_argument("sources", nargs="*", metavar="SOURCE")
    p.add_argument("--depth", type=int, default=0, metavar="N",
                   help=f"also read a page's next pages and the links on its site up to N clicks away "
                        f"(0-{MAX_DEPTH}; default 0: only the page given)")
    p.add_argument("--max-pages", type=int, default=PageOptions.max_pages, metavar="N",
                   help=f"read at most N pages per address given (default {PageOptions.max_pages})")
    p.add_argument("--browser", action="store_true",
                   help="run each page in an installed Chromium, Chrome or Edge first (pages that build "
                        "their images with JavaScript)")
    p.add_argument("--watched", action="store_true",
                   help="check the watched places that are due (sanctum watch add); for cron or Task "
                        "Scheduler: exits 0 whether or not a copy was found")
    p.add_argument("--all", action="store_true", help="with --watched: every watched place, due or not")
    p.add_argument("--full", action="store_true",
                   help="with --watched: download every image again, even those already looked at")
    p.set_defaults(run=cmd_scan)

    p = subs.add_parser("matches", parents=common, help="list copies of your photos found by scans")
    p.set_defaults(run=cmd_matches)

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
    p.set_defaults(run=cmd_takedown)

    p = subs.add_parser("recheck", parents=common, help="check whether a requested removal happened")
    p.add_argument("takedown_id", type=int, metavar="REQUEST_ID")
    p.set_defaults(run=cmd_recheck)

    p = subs.add_parser("reindex", parents=common,
                        help="rebuild the index scans search your photos' local features in (after the vault grew a lot)")
    p.set_defaults(run=cmd_reindex)

    p = subs.add_parser("hashes", parents=common, help="PDQ + MD5 of a photo for hash-sharing programmes")
    p.add_argument("id", type=int, metavar="ID")
    p.set_defaults(run=cmd_hashes)
