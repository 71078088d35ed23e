"""Commands on cases: list them (overdue first), write a case's notice under the law that fits,
record what the site answered, re-check the addresses, look up the site's hosting provider."""

from __future__ import annotations

import argparse
import os

from .common import EXIT_OK, print_json, unlock

KINDS = ("take-it-down", "dsa", "copyright", "search-delisting")
OUTCOMES = ("removed", "refused", "more-info", "other")


def _when(value) -> str:
    return f"{value:%Y-%m-%d %H:%M}" if value else "—"


def cmd_cases(args: argparse.Namespace) -> int:
    with unlock(args) as vault:
        if args.recheck:
            for case_id in vault.cases_due_for_recheck():
                vault.recheck_case(case_id)
        cases = vault.list_cases()
    if args.json:
        print_json({"cases": [c.to_json() for c in cases]})
        return EXIT_OK
    if not cases:
        print("No cases yet: copies found on websites group into one case per site.")
    for c in cases:
        print(f"#{c.id:<4} {c.status:<8} due {_when(c.due_at):<16} {c.host}  ({len(c.addresses)} address(es), "
              f"photo(s) {', '.join(map(str, c.photo_ids)) or '—'})")
        print(f"      next: {c.next_step_words}")
    return EXIT_OK


def cmd_case(args: argparse.Namespace) -> int:
    with unlock(args) as vault:
        case = vault.case(args.case_id)
    if args.json:
        print_json(case.to_json(full=True))
        return EXIT_OK
    print(f"Case #{case.id}: {case.host} — {case.status}, due {_when(case.due_at)}")
    for a in case.addresses:
        print(f"  [{a.status}] {a.url}" + (f" (on {a.found_on})" if a.found_on else ""))
    for n in case.notices:
        print(f"  notice #{n.id} {n.kind} to {n.to or '—'}: {n.status}, sent {_when(n.sent_at)}, due {_when(n.due_at)}")
    for r in case.replies:
        print(f"  reply {_when(r.received_at)}: {r.outcome} {r.text}")
    print(f"Next: {case.next_step_words}")
    return EXIT_OK


def cmd_notice(args: argparse.Namespace) -> int:
    from ..core.leaks.notices import Sender

    sender = Sender(name=args.name, email=args.email, signature=args.signature or "", postal_address=args.address or "",
                    phone=args.phone or "", country=args.country or "", explanation=args.explanation or "",
                    work=args.work or "", search_results=tuple(args.search_result or ()))
    with unlock(args) as vault:
        notice = vault.draft_notice(args.case_id, args.kind, sender, audience="provider" if args.to_provider else None,
                                    to=args.to)
        if args.send:
            # Refused (exit 1, naming each missing element) while the law's parts are not all there.
            notice = vault.mark_notice_sent(notice.id)
    if args.json:
        print_json({"id": notice.id, "kind": notice.kind, "to": notice.to, "subject": notice.subject,
                    "text": notice.text, "missing": list(notice.missing), "status": notice.status,
                    "due_at": notice.due_at.isoformat(timespec="seconds") if notice.due_at else None})
        return EXIT_OK
    print(f"To: {notice.to or '(no contact known: see the site’s Contact or Legal page)'}")
    print(f"Subject: {notice.subject}\n\n{notice.text}")
    if notice.missing:
        print("Missing before it can be sent: " + "; ".join(notice.missing))
    elif notice.status == "sent":
        print(f"Recorded as sent; due {_when(notice.due_at)}.")
    return EXIT_OK


def cmd_reply(args: argparse.Namespace) -> int:
    with unlock(args) as vault:
        reply = vault.record_reply(args.case_id, args.outcome, args.text or "")
        case = vault.case(args.case_id)
    if args.json:
        print_json({"reply": reply.to_json(), "case": case.to_json()})
    else:
        print(f"Recorded. Next: {case.next_step_words}")
    return EXIT_OK


def cmd_provider(args: argparse.Namespace) -> int:
    with unlock(args) as vault:
        found = vault.lookup_provider(args.case_id)
    if args.json:
        print_json(found.to_json())
    else:
        print(f"{found.host} ({found.address}) is on the network {found.network or '—'}"
              f" of {found.organisation or 'an unnamed provider'}.")
        print("Abuse contact: " + (", ".join(found.abuse_emails) or "none listed; see " + found.registry_url))
    return EXIT_OK


def register(subs: argparse._SubParsersAction, common: list[argparse.ArgumentParser]) -> None:
    p = subs.add_parser("cases", parents=common, help="found copies grouped by site, overdue first")
    p.add_argument("--recheck", action="store_true", help="first look again at the addresses of overdue cases")
    p.set_defaults(run=cmd_cases)

    p = subs.add_parser("case", parents=common, help="one case: addresses, notices, replies, next step")
    p.add_argument("case_id", type=int, metavar="CASE_ID")
    p.set_defaults(run=cmd_case)

    p = subs.add_parser("notice", parents=common,
                        help="write a case's notice under the law that fits (and with --send, record it as sent)")
    p.add_argument("case_id", type=int, metavar="CASE_ID")
    p.add_argument("--kind", choices=KINDS, required=True,
                   help="take-it-down: US TAKE IT DOWN Act (48 hours); dsa: EU Digital Services Act Art. 16; "
                        "copyright: DMCA, a photo you took; search-delisting: fields for a search engine's form")
    p.add_argument("--name", default=os.environ.get("SANCTUM_REQUESTER_NAME", ""), help="your name")
    p.add_argument("--email", default=os.environ.get("SANCTUM_REQUESTER_EMAIL", ""), help="your email")
    p.add_argument("--signature", metavar="TYPED_NAME", help="your electronic signature: your name as you sign it")
    p.add_argument("--address", metavar="POSTAL_ADDRESS", help="optional: a postal address (DMCA agents often ask)")
    p.add_argument("--phone", help="optional: a phone number")
    p.add_argument("--country", help="search delisting: your country of residence")
    p.add_argument("--explanation", help="DSA: why it is illegal, in your words (a default is written otherwise)")
    p.add_argument("--work", help="copyright: your original photo, as you describe it")
    p.add_argument("--search-result", action="append", metavar="URL_OR_TERMS",
                   help="search delisting: a search results page or search terms that show it (repeatable)")
    p.add_argument("--to", metavar="EMAIL_OR_FORM", help="send it here instead of the directory's contact")
    p.add_argument("--to-provider", action="store_true",
                   help="address it to the site's hosting provider (run `sanctum provider CASE_ID` first)")
    p.add_argument("--send", action="store_true",
                   help="record that you sent it (starts its deadline); refused while a required part is missing")
    p.set_defaults(run=cmd_notice)

    p = subs.add_parser("reply", parents=common, help="record what a site or provider answered")
    p.add_argument("case_id", type=int, metavar="CASE_ID")
    p.add_argument("--outcome", choices=OUTCOMES, required=True)
    p.add_argument("--text", help="what they said, in short")
    p.set_defaults(run=cmd_reply)

    p = subs.add_parser("provider", parents=common,
                        help="look up who hosts a case's site (RDAP) and their abuse contact, to escalate")
    p.add_argument("case_id", type=int, metavar="CASE_ID")
    p.set_defaults(run=cmd_provider)
