"""Commands on the vault as a whole: the second passphrase (`decoy`) and the integrity check."""

from __future__ import annotations

import argparse

from ..core import strength
from .common import EXIT_ERROR, EXIT_OK, CliError, print_json, progress_bar, secret, unlock


def cmd_decoy(args: argparse.Namespace) -> int:
    with unlock(args) as vault:
        second = secret("SANCTUM_DECOY_PASSPHRASE", "Second passphrase: ", confirm=True)
        strength.require_strong(second)
        vault.set_second_passphrase(second)
    if args.json:
        print_json({"set": True})
        return EXIT_OK
    print("Second passphrase set. It opens a second, empty vault in the same folder; unlock with it "
          "and import the photos it should show. Any earlier second vault and its photos are gone.")
    return EXIT_OK


def cmd_check(args: argparse.Namespace) -> int:
    if args.remove_unreadable and not args.repair:
        raise CliError("--remove-unreadable only goes with --repair.")
    with unlock(args) as vault:
        bar = progress_bar(args, "Checking", "file")
        try:
            if args.repair:
                repaired = vault.repair_vault(remove_unreadable=args.remove_unreadable, progress=bar.update_to)
                report = repaired.after
            else:
                repaired = None
                report = vault.check_vault(progress=bar.update_to)
        finally:
            bar.close()
        rolled_back = vault.rollback_warning is not None
    if args.json:
        document = repaired.to_json() if repaired else report.to_json()
        print_json({**document, "rolled_back": rolled_back})
        return EXIT_OK if report.ok else EXIT_ERROR
    if repaired:
        print(f"Removed {repaired.removed_orphans} unused file(s) of this vault and "
              f"{repaired.removed_temporary} half-written one(s).")
        if repaired.removed_photos:
            print(f"Removed {len(repaired.removed_photos)} photo(s) whose original could not be read any more "
                  f"(ids {', '.join(map(str, repaired.removed_photos))}).")
    if report.ok:
        print(f"All {report.checked} stored file(s) read back intact; every photo has its files.")
        return EXIT_OK
    print(f"{len(report.problems)} problem(s) after checking {report.checked} stored file(s):")
    for problem in report.problems:
        print(f"  {problem.detail}")
    if not args.repair:
        print("`sanctum check --repair` removes unused and half-written files (never a photo); add "
              "--remove-unreadable to also remove the photos whose original cannot be read.")
    return EXIT_ERROR


def register(subs: argparse._SubParsersAction, common: list[argparse.ArgumentParser]) -> None:
    p = subs.add_parser("decoy", parents=common,
                        help="set a second passphrase ($SANCTUM_DECOY_PASSPHRASE or a prompt) that opens a "
                             "second, ordinary-looking vault in the same folder (it starts empty; it "
                             "replaces an earlier one)")
    p.set_defaults(run=cmd_decoy)

    p = subs.add_parser("check", parents=common,
                        help="decrypt every stored file and check that every photo has its files; exit "
                             "code 1 when something is wrong")
    p.add_argument("--repair", action="store_true",
                   help="remove this vault's unused and half-written files (never a photo)")
    p.add_argument("--remove-unreadable", action="store_true",
                   help="with --repair: also remove photos whose original cannot be read any more")
    p.set_defaults(run=cmd_check)
