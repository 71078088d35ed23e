"""The watch list: places re-checked on a schedule (`sanctum watch add/list/remove`), and the
run a system scheduler makes (`sanctum scan --watched`, in leaks.py's `scan`)."""

from __future__ import annotations

import argparse

from ..core.leaks.crawl import MAX_DEPTH, PageOptions
from .common import EXIT_OK, CliError, print_json, progress_bar, unlock


def _options(args: argparse.Namespace) -> PageOptions:
    try:
        return PageOptions(depth=args.depth, max_pages=args.max_pages, browser=args.browser)
    except ValueError as exc:
        raise CliError(f"{exc}.") from None


def cmd_watch_add(args: argparse.Namespace) -> int:
    with unlock(args) as vault:
        place = vault.watch_place(args.source, _options(args), args.every)
    if args.json:
        print_json(place.to_json())
        return EXIT_OK
    print(f"Watching #{place.id}: {place.source}, checked every {place.every_hours:g} hours.")
    return EXIT_OK


def cmd_watch_list(args: argparse.Namespace) -> int:
    with unlock(args) as vault:
        places = vault.list_watched()
    if args.json:
        print_json({"places": [p.to_json() for p in places]})
        return EXIT_OK
    if not places:
        print("No watched places.")
    for p in places:
        last = (f"last checked {p.checked_at:%Y-%m-%d %H:%M}" if p.checked_at else "not checked yet")
        print(f"#{p.id:<4} every {p.every_hours:g} h, {last}  {p.source}")
    return EXIT_OK


def cmd_watch_remove(args: argparse.Namespace) -> int:
    with unlock(args) as vault:
        vault.unwatch_place(args.id)
    if args.json:
        print_json({"removed": args.id})
    else:
        print(f"No longer watching #{args.id}.")
    return EXIT_OK


def scan_watched(args: argparse.Namespace) -> int:
    """`sanctum scan --watched`: for cron or Task Scheduler, so it exits 0 whether or not anything
    was found (a problem opening the vault still fails)."""
    with unlock(args) as vault:
        bar = progress_bar(args, "Checking watched places", "step")
        try:
            outcome = vault.scan_watched(due_only=not args.all, full=args.full, progress=bar.update_to)
        finally:
            bar.close()
        shares = {m.share_id: vault.find_share(m.share_id) for m in outcome.scan.matches if m.share_id}
    scan = outcome.scan
    if args.json:
        print_json({
            "scanned": scan.scanned,
            "errors": [{"source": e.path, "reason": e.reason} for e in scan.errors],
            "matches": [{**m.to_json(), "recipient": shares[m.share_id].recipient
                         if m.share_id and shares.get(m.share_id) else None} for m in scan.matches],
            "new": outcome.new,
            "places": [r.to_json() for r in outcome.results],
        })
        return EXIT_OK
    if not outcome.results:
        print("No watched place is due for a check.")
        return EXIT_OK
    new = set(outcome.new)
    print(f"Checked {len(outcome.results)} watched place(s): {scan.scanned} image(s) looked at, "
          f"{sum(r.skipped for r in outcome.results)} already seen; "
          + (f"{len(new)} new copy(ies)." if new else "no new copy."))
    for m in scan.matches:
        print(f"  {'NEW ' if m.id in new else ''}#{m.id} {m.source}: photo {m.photo_id}"
              + (f", on {m.found_on}" if m.found_on else ""))
    for problem in scan.errors:
        print(f"  {problem.path}: {problem.reason}")
    return EXIT_OK


def register(subs: argparse._SubParsersAction, common: list[argparse.ArgumentParser]) -> None:
    p = subs.add_parser("watch", help="places re-checked on a schedule (sanctum scan --watched checks them)")
    actions = p.add_subparsers(dest="watch_command", metavar="ACTION", required=True)

    a = actions.add_parser("add", parents=common, help="watch a page, image address, folder or file")
    a.add_argument("source", metavar="SOURCE")
    a.add_argument("--depth", type=int, default=0, metavar="N",
                   help=f"also read the page's next pages and same-site links up to N clicks away (0-{MAX_DEPTH})")
    a.add_argument("--max-pages", type=int, default=PageOptions.max_pages, metavar="N",
                   help=f"read at most N pages (default {PageOptions.max_pages})")
    a.add_argument("--browser", action="store_true", help="run the page in an installed browser first")
    a.add_argument("--every", type=float, default=24.0, metavar="HOURS",
                   help="check it again after this many hours (default 24)")
    a.set_defaults(run=cmd_watch_add)

    a = actions.add_parser("list", parents=common, help="list the watched places")
    a.set_defaults(run=cmd_watch_list)

    a = actions.add_parser("remove", parents=common, help="stop watching a place")
    a.add_argument("id", type=int, metavar="ID")
    a.set_defaults(run=cmd_watch_remove)
