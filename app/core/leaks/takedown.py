"""Asking for a leaked copy to be removed.

Three ways, from most to least direct:

* a **deletion link** (or token) the host handed out at upload time — many image hosts do;
  requesting it removes the image at once;
* an **Imgur-style REST API**: `DELETE {api}/3/image/{delete_hash}` with the app's client id;
* for every other site a **notice** of the kind the user picks (`NOTICE_KINDS`: an intimate
  image shared without consent, a personal photo posted without permission, or copyright in a
  photo the user took) filled in with the evidence, as plain text, HTML and a `mailto:` draft
  addressed to the host's abuse contact. Sanctum never sends email itself: the user's own mail
  program does.

Plus a **hash export** in the form hash-sharing programmes (StopNCII and the like) take: the
PDQ and MD5 of the photo, computed locally; the photo itself never leaves the computer.

Pure functions over dataclasses; the vault persists requests and their status
(drafted → sent → removed, or failed).
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING
from urllib.parse import quote, urlsplit

from ..urls import is_url
from .enums import MatchMethod
from .errors import FetchError, NotFound, TakedownError

if TYPE_CHECKING:
    from .fetch import Fetcher

IMGUR_API = "https://api.imgur.com"


@dataclass(frozen=True)
class TakedownContact:
    """What the user knows about where the copy is hosted."""

    abuse_email: str | None = None
    deletion_link: str | None = None
    imgur_delete_hash: str | None = None
    imgur_client_id: str | None = None
    imgur_api: str = IMGUR_API  # overridable for tests and Imgur-compatible hosts
    host_name: str | None = None


@dataclass(frozen=True)
class Requester:
    name: str
    email: str


@dataclass(frozen=True)
class Evidence:
    """What the notice states. Deliberately no vault photo: the notice must not spread it."""

    url: str
    found_on: str | None
    found_at: datetime
    method: str
    detail: str
    share_recipient: str | None
    share_date: datetime | None
    pdq_hex: str | None


@dataclass(frozen=True)
class NoticeKind:
    """One kind of removal notice: what the user picks, and what the notice asserts.

    A notice states facts under the sender's good faith, so each kind asserts only what is
    true for it: an intimate image says "I am the person in it", copyright says "I took it"."""

    label: str  # what the user picks, in the first person
    subject: str  # "Removal request: {subject} ({host})"
    owner_line: str  # introduces the address
    grounds: str  # why the host must remove it
    good_faith: str  # the closing statement


NOTICE_KINDS: dict[str, NoticeKind] = {
    "intimate": NoticeKind(
        label="An intimate image of me, shared without my consent",
        subject="intimate image shared without consent",
        owner_line="I am the person in, and the owner of, the image at:",
        grounds="It was published without my consent. This is non-consensual intimate imagery: it violates "
                "my privacy and, in most jurisdictions, the law (for example the EU Digital Services Act "
                "notice-and-action rules, the UK Online Safety Act, and US state laws and the TAKE IT DOWN "
                "Act). I am also the copyright holder of the photo and did not license this use.",
        good_faith="I state in good faith that the information above is accurate and that I am the person "
                   "depicted / the owner of the rights concerned.",
    ),
    "privacy": NoticeKind(
        label="My personal photo, posted without my permission (privacy)",
        subject="personal photo posted without permission",
        owner_line="I am the owner of the personal photo at:",
        grounds="It is a photo from my private collection, and it was published without my permission. "
                "Publishing it violates my privacy and my right to decide how my personal photos are used "
                "(for example under the GDPR and the EU Digital Services Act notice-and-action rules).",
        good_faith="I state in good faith that the information above is accurate and that this photo is "
                   "mine and was published without my permission.",
    ),
    "copyright": NoticeKind(
        label="A photo I took, used without my permission (copyright)",
        subject="copyright infringement",
        owner_line="I am the author and copyright holder of the photo at:",
        grounds="I took this photo and hold its copyright. It was published without my permission and without "
                "a licence. This is a notice of copyright infringement (for example under 17 U.S.C. § 512(c) "
                "and the EU Digital Services Act notice-and-action rules).",
        good_faith="I have a good-faith belief that this use is not authorised by me, the copyright owner, by "
                   "an agent of mine, or by the law. The information in this notice is accurate and, under "
                   "penalty of perjury, I am the owner of the copyright concerned.",
    ),
}


def default_notice_kind(sensitive: bool) -> str:
    """The kind of notice offered first: a photo flagged sensitive is an intimate image."""
    return "intimate" if sensitive else "privacy"


@dataclass(frozen=True)
class TakedownDraft:
    kind: str  # "deletion_link", "imgur_api", "notice"
    subject: str
    text: str
    html: str
    mailto: str | None


def choose_kind(contact: TakedownContact) -> str:
    if contact.deletion_link:
        return "deletion_link"
    if contact.imgur_delete_hash and contact.imgur_client_id:
        return "imgur_api"
    return "notice"


def draft(contact: TakedownContact, requester: Requester, evidence: Evidence,
          notice_kind: str = "intimate") -> TakedownDraft:
    if not is_url(evidence.url):
        raise TakedownError("This copy is a file on your computer, not on a website: there is no one to ask.")
    if notice_kind not in NOTICE_KINDS:
        raise TakedownError(f"Unknown kind of notice: {notice_kind}.")
    notice = NOTICE_KINDS[notice_kind]
    host = contact.host_name or urlsplit(evidence.url).hostname
    subject = f"Removal request: {notice.subject} ({host})"
    how_found = {
        MatchMethod.METADATA: "It carries the identifier I embedded in the copy I shared privately.",
        MatchMethod.WATERMARK: "It carries the invisible watermark I embedded in the copy I shared privately.",
        MatchMethod.PDQ: "It is a near-identical copy of my original photo (matching perceptual hash).",
        MatchMethod.FEATURES: "It is a cropped, rotated or re-framed copy of my original photo "
                    "(matching image features).",
    }.get(evidence.method, evidence.detail)
    share_line = ""
    if evidence.share_recipient and evidence.share_date:
        share_line = (f"I shared it privately on {evidence.share_date:%d %B %Y}, with no permission to "
                      f"publish it.\n")
    lines = [
        f"To the abuse / trust & safety team of {host},",
        "",
        notice.owner_line,
        f"    {evidence.url}",
    ]
    if evidence.found_on and evidence.found_on != evidence.url:
        lines += ["posted on the page:", f"    {evidence.found_on}"]
    lines += [
        "",
        notice.grounds,
        "",
        f"How I know it is my photo: {how_found}",
    ]
    if share_line:
        lines.append(share_line.rstrip())
    lines += [f"Found on {evidence.found_at:%d %B %Y at %H:%M}."]
    if evidence.pdq_hex:
        lines += [f"PDQ hash of my original (to find other copies): {evidence.pdq_hex}"]
    lines += [
        "",
        "Please remove it, and any copies of it on your service, as soon as possible, and confirm to "
        "me when it is done. I have not attached the image; I can verify ownership by other means if "
        "needed.",
        "",
        notice.good_faith,
        "",
        f"{requester.name}",
        f"{requester.email}",
    ]
    text = "\n".join(lines)
    html_body = "".join(
        f"<p>{html.escape(paragraph).replace(chr(10), '<br>')}</p>" for paragraph in text.split("\n\n")
    )
    mailto = None
    if contact.abuse_email:
        mailto = f"mailto:{quote(contact.abuse_email, safe='@')}?subject={quote(subject)}&body={quote(text)}"
    return TakedownDraft(choose_kind(contact), subject, text, html_body, mailto)


def send(contact: TakedownContact, fetcher: Fetcher) -> str:
    """Perform a direct removal (deletion link or Imgur API); returns what the host said."""
    kind = choose_kind(contact)
    try:
        if kind == "deletion_link":
            status = fetcher.request("GET", contact.deletion_link)
            if status == 405:  # some hosts want the link POSTed
                status = fetcher.request("POST", contact.deletion_link)
        elif kind == "imgur_api":
            status = fetcher.request(
                "DELETE",
                f"{contact.imgur_api.rstrip('/')}/3/image/{quote(contact.imgur_delete_hash, safe='')}",
                headers={"Authorization": f"Client-ID {contact.imgur_client_id}"},
            )
        else:
            raise TakedownError("A notice is sent from your email program: open the draft and send it.")
    except FetchError as exc:
        raise TakedownError(f"The host could not be reached: {exc}") from None
    if status >= 400:
        raise TakedownError(f"The host refused the request (HTTP {status}).")
    return f"the host answered HTTP {status}"


def is_gone(url: str, fetcher: Fetcher, origin: str | None = None) -> tuple[bool, bytes | None]:
    """Whether a URL no longer serves anything (HTTP 404 or 410); returns the bytes when it does.

    Every other failure raises FetchError: a host that refuses (403), rate-limits (429) or fails
    (5xx) says nothing about the image, and must not make a copy look removed. `origin` is the
    source the user typed that led to the URL (see Fetcher.get)."""
    try:
        fetched = fetcher.get(url, origin=origin)
    except NotFound:
        return True, None
    return False, fetched.content


def hash_export(pdq_hex: str, pdq_quality: int, md5_hex: str) -> dict:
    """The form hash-sharing programmes take: hashes only, never the image."""
    return {
        "hashes": [
            {"type": "pdq", "value": pdq_hex, "quality": pdq_quality},
            {"type": "md5", "value": md5_hex},
        ],
        "note": "Computed on the owner's device by Sanctum; the image itself was not shared.",
    }
