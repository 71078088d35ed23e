"""Commands on the photo library: create a vault, import, list, organise, export, delete, index."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..core import strength
from ..core.vault import Vault, default_vault_path
from .common import (
    EXIT_ERROR,
    EXIT_OK,
    parse_date,
    print_json,
    progress_bar,
    secret,
    unlock,
)


def cmd_init(args: argparse.Namespace) -> int:
    path = args.vault or default_vault_path()
    passphrase = secret("SANCTUM_PASSPHRASE", "New passphrase: ", confirm=True)
    strength.require_strong(passphrase)  # the wizard's rule (Vault.create checks it too)
    vault, created = Vault.create(path, passphrase, enable_totp=not args.no_totp)
    vault.lock()
    if args.json:
        print_json({
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
    with unlock(args) as vault:
        bar = progress_bar(args, "Importing", "photo")
        try:
            report = vault.import_paths(args.paths, progress=bar.update_to)
        finally:
            bar.close()
    if args.json:
        print_json(report.to_json())
        return EXIT_OK
    print(f"Imported {len(report.imported)} photo(s); {len(report.duplicates)} already in the vault; "
          f"{len(report.errors)} could not be imported.")
    for problem in report.errors:
        print(f"  {problem.path}: {problem.reason}")
    return EXIT_OK


def cmd_list(args: argparse.Namespace) -> int:
    with unlock(args) as vault:
        photos = vault.list_photos(after=args.after, before=args.before, tag=args.tag, person=args.person,
                                   sensitive=args.sensitive)
        details = vault.photo_details([p.id for p in photos])
    if args.json:
        print_json({"photos": [{
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


def cmd_people(args: argparse.Namespace) -> int:
    from ..core import organize

    with unlock(args):
        people = organize.list_people()
    if args.json:
        print_json({"people": [{"id": p.id, "name": p.name, "faces": p.face_count, "photos": p.photo_count}
                                for p in people]})
        return EXIT_OK
    if not people:
        print("No people yet (run `sanctum index`).")
    for p in people:
        print(f"{p.id:>5}  {p.label:<30} {p.photo_count} photo(s)")
    return EXIT_OK


def cmd_person(args: argparse.Namespace) -> int:
    from ..core import organize

    # The GUI's edits: the same request type, applied the same way.
    edits = []
    if args.name is not None:
        edits.append(organize.PersonEdit("name", args.person_id, name=args.name))
    if args.merge_into is not None:
        edits.append(organize.PersonEdit("merge", args.merge_into, other_id=args.person_id))
    with unlock(args):
        for edit in edits:
            organize.apply_person_edit(edit)
    if args.json:
        print_json({"ok": True})
    return EXIT_OK


def cmd_face(args: argparse.Namespace) -> int:
    from ..core import organize

    if args.reject:
        edit = organize.PersonEdit("reject", face_id=args.face_id)
    else:
        edit = organize.PersonEdit("move", face_id=args.face_id, other_id=None if args.new_person else args.move_to)
    with unlock(args):
        organize.apply_person_edit(edit)
    if args.json:
        print_json({"ok": True})
    return EXIT_OK


def cmd_mark(args: argparse.Namespace) -> int:
    from ..core import organize

    state = {"sensitive": True, "not-sensitive": False, "auto": None}[args.state]
    with unlock(args) as vault:
        vault.photo(args.id)
        organize.set_sensitive_many([args.id], state)
    if args.json:
        print_json({"id": args.id, "sensitive": state})
    return EXIT_OK


def cmd_export(args: argparse.Namespace) -> int:
    with unlock(args) as vault:
        bar = progress_bar(args, "Exporting", "photo")
        try:
            report = vault.export(args.ids, args.out, progress=bar.update_to)
        finally:
            bar.close()
    if args.json:
        print_json(report.to_json())
    else:
        for item in report.exported:
            print(item.path)
    for problem in report.errors:
        print(f"sanctum: photo {problem.photo_id} not exported: {problem.reason}", file=sys.stderr)
    return EXIT_ERROR if report.errors else EXIT_OK


def cmd_delete(args: argparse.Namespace) -> int:
    with unlock(args) as vault:
        deleted = vault.delete(args.ids, keep_leak_records=not args.forget_leak_records)
    if args.json:
        print_json({"deleted": deleted})
    else:
        print(f"Deleted {len(deleted)} photo(s).")
    return EXIT_OK


def cmd_index(args: argparse.Namespace) -> int:
    from ..core.vision.errors import VisionUnavailable

    unavailable = None
    report = None
    with unlock(args) as vault:
        bar = progress_bar(args, "Fingerprints", "photo")
        try:
            count = vault.index_fingerprints(progress=bar.update_to)
        finally:
            bar.close()
        bar = progress_bar(args, "Tags, faces", "photo")
        try:
            report = vault.analyze(progress=bar.update_to)
        except VisionUnavailable as exc:
            unavailable = str(exc)
        finally:
            bar.close()
    if args.json:
        print_json({"fingerprinted": count, "analyzed": report.analyzed if report else 0,
                     "faces": report.faces if report else 0,
                     "people_created": report.people_created if report else 0, "unavailable": unavailable})
        return EXIT_OK
    print(f"Fingerprinted {count} photo(s).")
    if report:
        print(f"Analysed {report.analyzed} photo(s): {report.faces} face(s), {report.people_created} new people.")
    else:
        print(f"Tags and faces skipped: {unavailable}")
    return EXIT_OK


def register(subs: argparse._SubParsersAction, common: list[argparse.ArgumentParser]) -> None:
    p = subs.add_parser("init", parents=common, help="create a vault (shows the recovery key once)")
    p.add_argument("--no-totp", action="store_true", help="do not enroll an authenticator app")
    p.set_defaults(run=cmd_init)

    p = subs.add_parser("import", parents=common, help="import photos from files and folders")
    p.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    p.set_defaults(run=cmd_import)

    p = subs.add_parser("list", parents=common, help="list and search photos")
    p.add_argument("--after", type=parse_date, help="taken on or after this date (YYYY-MM-DD)")
    p.add_argument("--before", type=parse_date, help="taken before this date (YYYY-MM-DD)")
    p.add_argument("--tag", metavar="T", help="a category (animals, food & drink, ...) or a label (cat, pizza)")
    p.add_argument("--person", metavar="P", help="a person's name or id (see `sanctum people`)")
    flag = p.add_mutually_exclusive_group()
    flag.add_argument("--sensitive", dest="sensitive", action="store_const", const=True, default=None,
                      help="only photos flagged sensitive")
    flag.add_argument("--not-sensitive", dest="sensitive", action="store_const", const=False)
    p.set_defaults(run=cmd_list)

    p = subs.add_parser("people", parents=common, help="list the people found in your photos")
    p.set_defaults(run=cmd_people)

    p = subs.add_parser("person", parents=common, help="name a person or merge two")
    p.add_argument("person_id", type=int, metavar="ID")
    p.add_argument("--name", metavar="NAME")
    p.add_argument("--merge-into", type=int, metavar="OTHER_ID", help="this person is OTHER_ID")
    p.set_defaults(run=cmd_person)

    p = subs.add_parser("face", parents=common, help="fix a face: move it or reject it")
    p.add_argument("face_id", type=int, metavar="FACE_ID")
    action = p.add_mutually_exclusive_group(required=True)
    action.add_argument("--move-to", type=int, metavar="PERSON_ID")
    action.add_argument("--new-person", action="store_true")
    action.add_argument("--reject", action="store_true", help="not a face, or not anyone to group")
    p.set_defaults(run=cmd_face)

    p = subs.add_parser("mark", parents=common, help="mark or unmark a photo as sensitive")
    p.add_argument("id", type=int, metavar="ID")
    p.add_argument("state", choices=["sensitive", "not-sensitive", "auto"])
    p.set_defaults(run=cmd_mark)

    p = subs.add_parser("export", parents=common, help="write originals, bit-exact, to a folder")
    p.add_argument("ids", nargs="+", type=int, metavar="ID")
    p.add_argument("--out", type=Path, required=True, metavar="DIR")
    p.set_defaults(run=cmd_export)

    p = subs.add_parser("delete", parents=common, help="delete photos (their keys are destroyed)")
    p.add_argument("ids", nargs="+", type=int, metavar="ID")
    p.add_argument("--forget-leak-records", action="store_true",
                   help="also remove the records of found copies (addresses, dates, requests); "
                        "their pictures are always removed")
    p.set_defaults(run=cmd_delete)

    p = subs.add_parser("index", parents=common, help="compute missing fingerprints of vault photos")
    p.set_defaults(run=cmd_index)
