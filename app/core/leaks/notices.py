"""Notices that meet the law they cite: one type per law, each with the elements that law
requires, filled from a case, and checked for missing parts before anything is sent.

    take-it-down      US TAKE IT DOWN Act (Pub. L. 119-12, 2025), § 3: notice and removal
    dsa               EU Digital Services Act (Regulation (EU) 2022/2065), Article 16
    copyright         US Copyright Act, 17 U.S.C. § 512(c)(3)(A) (DMCA), for a photo the user took
    search-delisting  a search engine's removal form for non-consensual explicit imagery: Sanctum
                      cannot submit web forms, so it prepares each field in the form's order

Each element is checked twice: its value must be filled in, and the notice's text (which the
user may edit) must still carry it. `compose` writes the text; `check` says what is missing
from any text. Pure functions over dataclasses: the case store keeps the notices.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from .errors import NoticeIncomplete, TakedownError


@dataclass(frozen=True)
class NoticeAddress:
    """One address of the case the notice asks about."""

    url: str  # the image
    found_on: str | None  # the page it was on
    first_seen: datetime


@dataclass(frozen=True)
class Sender:
    """What the user fills in for a notice (kept with it in the encrypted DB)."""

    name: str = ""
    email: str = ""
    signature: str = ""
    postal_address: str = ""
    phone: str = ""
    country: str = ""
    explanation: str = ""
    work: str = ""
    search_results: tuple[str, ...] = ()


@dataclass(frozen=True)
class NoticeFacts:
    """Everything a notice can be filled from: the case, and what the user typed."""

    host: str
    addresses: tuple[NoticeAddress, ...]
    name: str = ""
    email: str = ""
    signature: str = ""  # a typed name: an electronic signature ("/s/ Name")
    postal_address: str = ""
    phone: str = ""
    country: str = ""
    explanation: str = ""  # the user's own words on why it is unlawful; else the law's default
    work: str = ""  # copyright: the original work, as the user describes it
    search_results: tuple[str, ...] = ()  # delisting: result-page URLs or search terms
    pdq_hexes: tuple[str, ...] = ()  # hashes of the originals: help find other copies
    signed_on: datetime | None = None


@dataclass(frozen=True)
class Element:
    """One part a law requires. `filled` reads the facts, `present` reads the (edited) text."""

    key: str
    label: str
    filled: Callable[[NoticeFacts], bool]
    present: Callable[[NoticeFacts, str], bool]


@dataclass(frozen=True)
class NoticeLaw:
    kind: str
    label: str  # what the user picks
    cites: str  # the provision, in the notice and in the UI
    when: str  # when to choose it, in one sentence
    elements: tuple[Element, ...]
    deadline_hours: int | None  # set by the law; None: the law names no deadline
    follow_up_days: int  # when Sanctum re-checks and suggests the next step if the law names none
    form_url: str | None = None  # a web form instead of an email


@dataclass(frozen=True)
class NoticeDraft:
    kind: str
    to: str
    subject: str
    text: str
    missing: tuple[str, ...]  # labels of the required elements not filled in or not in the text
    fields: tuple[tuple[str, str], ...] = field(default=())  # a form's fields, in its order
    form_url: str | None = None

    def to_json(self) -> dict:
        return {"kind": self.kind, "to": self.to, "subject": self.subject, "text": self.text,
                "missing": list(self.missing), "fields": [{"label": k, "value": v} for k, v in self.fields],
                "form_url": self.form_url}


# --- statements: one wording each, so the check can find them in an edited text -------------------

TID_GOOD_FAITH = ("I have a good faith belief that the intimate visual depiction identified above is not "
                  "consensual: I am the identifiable individual shown in it, and it was published without my "
                  "consent.")
DSA_BONA_FIDE = ("I confirm my bona fide belief that the information and allegations contained in this notice "
                 "are accurate and complete.")
DMCA_GOOD_FAITH = ("I have a good faith belief that use of the material in the manner complained of is not "
                   "authorized by the copyright owner, its agent, or the law.")
DMCA_PERJURY = ("The information in this notification is accurate, and under penalty of perjury, I am the "
                "copyright owner or authorized to act on behalf of the owner.")
DELISTING_STATEMENT = ("I am the person depicted in these images. They are intimate images of me, and they were "
                       "published without my consent. I ask that they and the pages showing them be removed "
                       "from search results.")
DSA_DEFAULT_EXPLANATION = (
    "The images at the addresses below are intimate / private photographs of me, published without my "
    "consent. Publishing them is illegal content: sharing intimate images of a person without their consent "
    "is an offence under the law of the Member State where I live, which Directive (EU) 2024/1385, Article 5, "
    "requires of every Member State, and it is an unlawful processing of my personal data (GDPR, Articles 6 "
    "and 9). I have recognised each one as my photograph by comparing it with my originals.")


def signature_line(facts: NoticeFacts) -> str:
    return f"/s/ {facts.signature.strip()}"


def _has(text: str, value: str) -> bool:
    return bool(value.strip()) and value.strip() in text


def _urls_in(facts: NoticeFacts, text: str) -> bool:
    return bool(facts.addresses) and all(a.url in text for a in facts.addresses)


def _contact_filled(facts: NoticeFacts) -> bool:
    return bool(facts.name.strip()) and "@" in facts.email


SIGNATURE = Element("signature", "signature (your typed name)", lambda f: bool(f.signature.strip()),
                    lambda f, t: _has(t, signature_line(f)))
ADDRESSES = Element("addresses", "the exact address of every copy", lambda f: bool(f.addresses), _urls_in)
CONTACT = Element("contact", "contact information (your name and email)", _contact_filled,
                  lambda f, t: _has(t, f.name) and _has(t, f.email))
NAME = Element("name", "your name", lambda f: bool(f.name.strip()), lambda f, t: _has(t, f.name))
EMAIL = Element("email", "your email", lambda f: "@" in f.email, lambda f, t: _has(t, f.email))


def _statement(key: str, label: str, words: str) -> Element:
    return Element(key, label, lambda f: True, lambda f, t: words in t)


LAWS: dict[str, NoticeLaw] = {
    # TAKE IT DOWN Act § 3(a)(1)(B): a valid request has (i) a physical or electronic signature,
    # (ii) identification of the depiction and information reasonably sufficient to locate it,
    # (iii) a brief good-faith statement that it is not consensual, (iv) contact information.
    # § 3(a)(3): the platform removes it within 48 hours of a valid request.
    "take-it-down": NoticeLaw(
        "take-it-down", "US TAKE IT DOWN Act (intimate image of me, platform in the US)",
        "the TAKE IT DOWN Act (Pub. L. 119-12), section 3",
        "An intimate image of you on a platform that serves the US: it must be removed within 48 hours.",
        (SIGNATURE, ADDRESSES, _statement("good_faith", "good-faith statement that it is not consensual",
                                          TID_GOOD_FAITH), CONTACT),
        deadline_hours=48, follow_up_days=2),
    # DSA Art. 16(2): (a) a substantiated explanation of why it is illegal, (b) the exact URLs,
    # (c) name and email, (d) a statement of bona fide belief that the notice is accurate and
    # complete. Art. 16(6) asks for a "timely" decision and names no number of hours.
    "dsa": NoticeLaw(
        "dsa", "EU Digital Services Act, Article 16 (any platform serving the EU)",
        "Article 16 of the Digital Services Act (Regulation (EU) 2022/2065)",
        "A platform or host offering its service in the EU: it must decide in a timely manner and tell you.",
        (Element("explanation", "a substantiated explanation of why it is illegal", lambda f: True,
                 lambda f, t: (f.explanation.strip() or DSA_DEFAULT_EXPLANATION) in t),
         ADDRESSES, NAME, EMAIL, _statement("bona_fide", "statement that the notice is accurate and complete",
                                            DSA_BONA_FIDE)),
        deadline_hours=None, follow_up_days=7),
    # 17 U.S.C. § 512(c)(3)(A)(i)-(vi); § 512(c)(1)(C) asks the provider to act "expeditiously",
    # with no number of days.
    "copyright": NoticeLaw(
        "copyright", "Copyright (DMCA § 512(c)) — a photo I took myself",
        "17 U.S.C. § 512(c)(3)",
        "A photo you took yourself (a selfie counts): you own its copyright, and US hosts act on DMCA notices.",
        (SIGNATURE,
         Element("work", "identification of your original photo", lambda f: True,
                 lambda f, t: (f.work.strip() or _default_work(f)) in t),
         ADDRESSES, CONTACT,
         _statement("good_faith", "good-faith statement that the use is not authorised", DMCA_GOOD_FAITH),
         _statement("perjury", "statement of accuracy under penalty of perjury", DMCA_PERJURY)),
        deadline_hours=None, follow_up_days=7),
    # No law sets this form or a deadline: Google's policy for non-consensual explicit imagery.
    "search-delisting": NoticeLaw(
        "search-delisting", "Search delisting (Google: non-consensual explicit images)",
        "Google's policy on non-consensual explicit or intimate personal images",
        "Copies still up, or on sites that do not answer: hide them from search results meanwhile.",
        (NAME, EMAIL, ADDRESSES,
         Element("search_results", "search result pages or search terms that show them",
                 lambda f: bool(f.search_results), lambda f, t: all(s in t for s in f.search_results)),
         _statement("statement", "statement that they are intimate images of you, published without consent",
                    DELISTING_STATEMENT),
         SIGNATURE),
        deadline_hours=None, follow_up_days=14,
        form_url="https://support.google.com/websearch/answer/6302812"),
}

# Hash-sharing programmes: the photo is hashed on the user's own device in the browser and
# only the hash leaves; participating platforms block matching uploads. Shown beside the
# notices; `sanctum hashes` exports Sanctum's own PDQ + MD5.
HASH_PROGRAMMES = (
    ("StopNCII.org", "https://stopncii.org",
     "For intimate images of you taken when you were 18 or older. In your browser you pick the photos; they "
     "are hashed on your device and only the hashes are sent. You will be asked to confirm you are in them "
     "and are 18+, and you get a case number and PIN to follow it. Participating platforms (Facebook, "
     "Instagram, TikTok, Reddit and others) then block matching uploads."),
    ("Take It Down (NCMEC)", "https://takeitdown.ncmec.org",
     "For images of you taken when you were under 18. Works the same way: hashed in your browser, only the "
     "hash is shared with participating platforms. You do not have to give your name."),
)


def _default_work(facts: NoticeFacts) -> str:
    return ("My original photograph, which I took myself and keep privately; I can provide it to verify "
            "ownership on request.")


def _address_lines(facts: NoticeFacts) -> list[str]:
    lines = []
    for number, address in enumerate(facts.addresses, 1):
        lines.append(f"  {number}. {address.url}")
        if address.found_on and address.found_on != address.url:
            lines.append(f"     shown on the page {address.found_on}")
        lines.append(f"     found on {address.first_seen:%d %B %Y}")
    return lines


def _contact_lines(facts: NoticeFacts) -> list[str]:
    return [line for line in (facts.name, facts.email, facts.postal_address, facts.phone) if line.strip()]


def _hash_line(facts: NoticeFacts) -> list[str]:
    if not facts.pdq_hexes:
        return []
    return ["", "PDQ perceptual hashes of my originals, to find other copies on your service: "
            + ", ".join(facts.pdq_hexes)]


def _signed(facts: NoticeFacts) -> list[str]:
    when = facts.signed_on or datetime.now()
    return ["", signature_line(facts) if facts.signature.strip() else "/s/ ", f"Date: {when:%d %B %Y}"]


def _take_it_down(facts: NoticeFacts) -> list[str]:
    return [f"To the trust & safety team of {facts.host},", "",
            "This is a removal request under the TAKE IT DOWN Act (Pub. L. 119-12), section 3. You are "
            "required to remove the intimate visual depiction identified below, and make reasonable efforts "
            "to remove known identical copies, as soon as possible and no later than 48 hours after receiving "
            "this request.", "",
            "Identification and location of the intimate visual depiction of me:", *_address_lines(facts),
            *_hash_line(facts), "", TID_GOOD_FAITH, "",
            "Contact information:", *[f"  {line}" for line in _contact_lines(facts)], *_signed(facts)]


def _dsa(facts: NoticeFacts) -> list[str]:
    return [f"To {facts.host} (notice and action mechanism),", "",
            "This is a notice under Article 16 of the Digital Services Act (Regulation (EU) 2022/2065).", "",
            "Why this content is illegal:", facts.explanation.strip() or DSA_DEFAULT_EXPLANATION, "",
            "The exact electronic location of the content (URLs):", *_address_lines(facts), *_hash_line(facts),
            "", f"Name: {facts.name}", f"Email: {facts.email}", "", DSA_BONA_FIDE, "",
            "Please confirm receipt, remove or disable access to this content, and tell me your decision "
            "(Article 16(4) and (5))."]


def _copyright(facts: NoticeFacts) -> list[str]:
    return [f"To the designated copyright agent of {facts.host},", "",
            "This is a notification of claimed infringement under 17 U.S.C. § 512(c)(3).", "",
            "The copyrighted work:", facts.work.strip() or _default_work(facts), "",
            "The infringing material, to be removed or access to it disabled:", *_address_lines(facts),
            *_hash_line(facts), "", "My contact information:", *[f"  {line}" for line in _contact_lines(facts)],
            "", DMCA_GOOD_FAITH, "", DMCA_PERJURY, *_signed(facts)]


def delisting_fields(facts: NoticeFacts) -> tuple[tuple[str, str], ...]:
    """The form's fields in the order it asks for them (what the user pastes, one by one)."""
    pages = [a.found_on for a in facts.addresses if a.found_on and a.found_on != a.url]
    return (
        ("Country of residence", facts.country),
        ("Full legal name", facts.name),
        ("Contact email address", facts.email),
        ("URLs of the images", "\n".join(a.url for a in facts.addresses)),
        ("URLs of the web pages showing them", "\n".join(dict.fromkeys(pages))),
        ("URLs of the search results pages, or search terms", "\n".join(facts.search_results)),
        ("Statement", DELISTING_STATEMENT),
        ("Signature", facts.signature.strip()),
    )


def _delisting(facts: NoticeFacts) -> list[str]:
    lines = ["Fields for the search engine's removal form, in its order (the form is at "
             f"{LAWS['search-delisting'].form_url}):", ""]
    for label, value in delisting_fields(facts):
        lines += [f"{label}:", *(f"  {v}" for v in (value.splitlines() or [""])), ""]
    return lines + _signed(facts)[1:]


_WRITERS: dict[str, Callable[[NoticeFacts], list[str]]] = {
    "take-it-down": _take_it_down, "dsa": _dsa, "copyright": _copyright, "search-delisting": _delisting}


def law(kind: str) -> NoticeLaw:
    if kind not in LAWS:
        raise TakedownError(f"Unknown kind of notice: {kind}. Choose one of: {', '.join(LAWS)}.")
    return LAWS[kind]


def check(kind: str, facts: NoticeFacts, text: str) -> tuple[str, ...]:
    """The labels of the elements `kind`'s law requires that are not filled in, or no longer in
    `text` (the user may have edited it)."""
    return tuple(e.label for e in law(kind).elements if not e.filled(facts) or not e.present(facts, text))


def compose(kind: str, facts: NoticeFacts, to: str = "") -> NoticeDraft:
    """The notice `kind`'s law asks for, filled from `facts`, with what is still missing."""
    chosen = law(kind)
    text = "\n".join(_WRITERS[kind](facts)).strip() + "\n"
    n = len(facts.addresses)
    subject = {
        "take-it-down": "TAKE IT DOWN Act removal request",
        "dsa": "Notice under Article 16 DSA: illegal content",
        "copyright": "DMCA notice of copyright infringement",
        "search-delisting": "Removal from search results",
    }[kind] + f" — {n} address{'es' if n != 1 else ''} on {facts.host}"
    fields = delisting_fields(facts) if kind == "search-delisting" else ()
    return NoticeDraft(kind, to or chosen.form_url or "", subject, text, check(kind, facts, text), fields,
                       chosen.form_url)


def require_complete(kind: str, facts: NoticeFacts, text: str) -> None:
    """Raise NoticeIncomplete naming what is missing; sending is refused until it is there."""
    missing = check(kind, facts, text)
    if missing:
        raise NoticeIncomplete(f"This {law(kind).label.split(' (')[0]} notice is missing: "
                               f"{'; '.join(missing)}. Fill them in before sending.")
