"""Cases: copies on one site are one case with one notice listing every address; each law's
notice carries the elements that law requires and is refused while one is missing; deadlines
make overdue cases come first with the next step. Real vaults; copies found by real scans on
the image host at 127.0.0.1, or recorded with explicit times where the test is about time."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta

import pytest

from app.core import db
from app.core.leaks import notices, platforms
from app.core.leaks.cases import site_of
from app.core.leaks.enums import CaseStatus, MatchStatus, NextStep, NoticeAudience
from app.core.leaks.errors import NoticeIncomplete
from app.core.leaks.notices import NoticeAddress, NoticeFacts, Sender

from .conftest import PHOTOS
from .leakhost import ImageHost
from .test_leaks import FAST, jpeg, photo

DANA = Sender(name="Dana Example", email="dana@example.org", signature="Dana Example")
T0 = datetime(2026, 3, 2, 9, 0)


def stock(vault):
    """The parrots, horses and dog in the vault (as test_leaks stocks it); their ids by name."""
    vault.import_paths([PHOTOS / "kodim23.png", PHOTOS / "horses.jpg", PHOTOS / "dog.jpg"])
    by_file = {p.filename: p.id for p in vault.list_photos()}
    return vault, {"parrots": by_file["kodim23.png"], "horses": by_file["horses.jpg"], "dog": by_file["dog.jpg"]}


@pytest.fixture
def stocked(vault):
    return stock(vault)


@pytest.fixture
def image_host():
    server = ImageHost().start()
    yield server
    server.stop()


@pytest.fixture
def http():
    from app.core.leaks.fetch import Fetcher

    with Fetcher(FAST) as f:
        yield f


def _record_copy(vault, url: str, photo_id: int, seen: datetime = T0, found_on: str | None = None) -> int:
    """A found copy recorded as a scan records it, with the time the test needs."""
    row = db.LeakMatch.create(source=url, found_on=found_on, photo=photo_id, method="pdq", score=1.0,
                              first_seen=seen, last_seen=seen)
    return row.id


# --- grouping ----------------------------------------------------------------------------------


def test_two_copies_on_one_site_are_one_case_and_one_notice_lists_both(stocked, image_host, http):
    vault, ids = stocked
    first, _ = image_host.upload(jpeg(photo("horses.jpg"), 85))
    second, delete_second = image_host.upload(jpeg(photo("horses.jpg"), 70))
    page = image_host.add_page("gallery", f'<img src="{first}"><img src="{second}">')
    found = vault.scan([page], fetcher=http).matches
    assert len(found) == 2

    cases = vault.list_cases()
    assert len(cases) == 1
    case = cases[0]
    assert case.host == "127.0.0.1" and case.photo_ids == (ids["horses"],)
    assert {a.url for a in case.addresses} == {first, second} and set(case.match_ids) == {m.id for m in found}
    assert case.status == CaseStatus.OPEN and case.next_step == NextStep.SEND_NOTICE and case.due_at is None

    notice = vault.draft_notice(case.id, "take-it-down", DANA)
    assert first in notice.text and second in notice.text and page in notice.text
    assert notice.subject.endswith("2 addresses on 127.0.0.1") and notice.missing == ()
    # drafting again replaces the draft: one notice per site and kind, not one per copy
    again = vault.draft_notice(case.id, "take-it-down", DANA)
    assert again.id == notice.id and len(vault.case(case.id).notices) == 1
    assert vault.case(case.id).status == CaseStatus.DRAFTED

    sent = vault.mark_notice_sent(notice.id)
    assert sent.due_at - sent.sent_at == timedelta(hours=48)
    assert {m.status for m in vault.list_matches()} == {MatchStatus.SENT}

    # the site removes one copy: the re-check marks that address removed, the case waits on
    http.request("GET", delete_second)
    case = vault.recheck_case(case.id, http)
    statuses = {a.url: a.status for a in case.addresses}
    assert statuses == {first: MatchStatus.SENT, second: MatchStatus.REMOVED}
    assert case.status == CaseStatus.WAITING and case.checked_at is not None


def test_a_local_file_and_a_dismissed_copy_have_no_case(stocked, tmp_path):
    vault, ids = stocked
    _record_copy(vault, str(tmp_path / "copy.jpg"), ids["dog"])
    dismissed = _record_copy(vault, "https://img.example.net/a.jpg", ids["dog"])
    vault.dismiss_match(dismissed)
    assert vault.list_cases() == []
    assert site_of("https://i.sub.example.co.uk/x.jpg") == "example.co.uk" and site_of("photos/x.jpg") is None


# --- the notices and their laws ------------------------------------------------------------------

ADDRESSES = (NoticeAddress("https://img.example.com/a.jpg", "https://example.com/post/1", T0),
             NoticeAddress("https://img.example.com/b.jpg", None, T0))
FULL = NoticeFacts(host="example.com", addresses=ADDRESSES, name="Dana Example", email="dana@example.org",
                   signature="Dana Example", search_results=("https://www.google.com/search?q=dana",))

# What each law requires, as words its notice must carry (besides both addresses).
REQUIRED_WORDS = {
    "take-it-down": ["/s/ Dana Example", notices.TID_GOOD_FAITH, "dana@example.org", "48 hours"],
    "dsa": ["Why this content is illegal", notices.DSA_DEFAULT_EXPLANATION, "Name: Dana Example",
            "Email: dana@example.org", notices.DSA_BONA_FIDE],
    "copyright": ["/s/ Dana Example", "The copyrighted work:", "dana@example.org", notices.DMCA_GOOD_FAITH,
                  "under penalty of perjury"],
    "search-delisting": ["Dana Example", "dana@example.org", "https://www.google.com/search?q=dana",
                         notices.DELISTING_STATEMENT, "/s/ Dana Example", "support.google.com"],
}


@pytest.mark.parametrize("kind", list(notices.LAWS))
def test_each_notice_carries_every_element_its_law_requires(kind):
    draft = notices.compose(kind, FULL, to="abuse@example.com")
    assert draft.missing == ()
    for address in ADDRESSES:
        assert address.url in draft.text
    for words in REQUIRED_WORDS[kind]:
        assert words in draft.text, f"{kind}: {words!r} missing"
    assert notices.LAWS[kind].elements, "every law names its elements"


@pytest.mark.parametrize("kind", list(notices.LAWS))
@pytest.mark.parametrize("blank, named", [("name", "name"), ("email", "email"), ("signature", "signature")])
def test_a_missing_name_contact_or_signature_is_named_and_refused(kind, blank, named):
    facts = dataclasses.replace(FULL, **{blank: ""})
    draft = notices.compose(kind, facts)
    needs_signature = any(e.key == "signature" for e in notices.LAWS[kind].elements)
    if blank == "signature" and not needs_signature:
        assert draft.missing == ()  # DSA Art. 16 asks for no signature
        return
    assert any(named in label for label in draft.missing), draft.missing
    with pytest.raises(NoticeIncomplete, match=named):
        notices.require_complete(kind, facts, draft.text)


def test_an_edited_text_that_drops_an_element_is_refused():
    draft = notices.compose("copyright", FULL)
    assert notices.check("copyright", FULL, draft.text) == ()
    cut = draft.text.replace(notices.DMCA_PERJURY, "").replace(ADDRESSES[1].url, "")
    missing = notices.check("copyright", FULL, cut)
    assert any("perjury" in m for m in missing) and any("address" in m for m in missing)
    with pytest.raises(NoticeIncomplete, match="perjury"):
        notices.require_complete("copyright", FULL, cut)


def test_search_delisting_fields_come_in_the_forms_order():
    draft = notices.compose("search-delisting", FULL)
    labels = [label for label, _ in draft.fields]
    assert labels[:3] == ["Country of residence", "Full legal name", "Contact email address"]
    values = dict(draft.fields)
    assert values["URLs of the images"].splitlines() == [a.url for a in ADDRESSES]
    assert values["URLs of the web pages showing them"] == "https://example.com/post/1"
    assert draft.to == draft.form_url == notices.LAWS["search-delisting"].form_url
    assert notices.HASH_PROGRAMMES and all(url.startswith("https://") for _, url, _ in notices.HASH_PROGRAMMES)


def test_the_vault_refuses_to_record_an_incomplete_notice_as_sent(stocked):
    vault, ids = stocked
    _record_copy(vault, "https://img.example.com/a.jpg", ids["dog"])
    case = vault.list_cases()[0]
    unsigned = vault.draft_notice(case.id, "take-it-down", dataclasses.replace(DANA, signature=""))
    assert unsigned.missing == ("signature (your typed name)",)
    with pytest.raises(NoticeIncomplete, match="signature"):
        vault.mark_notice_sent(unsigned.id)
    assert vault.case(case.id).status == CaseStatus.DRAFTED
    signed = vault.draft_notice(case.id, "take-it-down", DANA)
    edited = vault.edit_notice(signed.id, signed.text.replace("https://img.example.com/a.jpg", "(the image)"))
    assert "the exact address of every copy" in edited.missing
    with pytest.raises(NoticeIncomplete):
        vault.mark_notice_sent(edited.id)
    vault.edit_notice(signed.id, signed.text)
    assert vault.mark_notice_sent(signed.id).status == "sent"


# --- deadlines -------------------------------------------------------------------------------------


def test_a_notice_49_hours_old_makes_its_case_overdue_and_first(stocked):
    vault, ids = stocked
    now = T0 + timedelta(days=10)
    _record_copy(vault, "https://cdn.late.example/a.jpg", ids["dog"])
    _record_copy(vault, "https://pics.late.example/b.jpg", ids["horses"])
    _record_copy(vault, "https://fresh.example/c.jpg", ids["dog"])
    _record_copy(vault, "https://untouched.example/d.jpg", ids["parrots"])
    by_host = {c.host: c for c in vault.list_cases(now)}
    assert set(by_host) == {"late.example", "fresh.example", "untouched.example"}

    late = vault.draft_notice(by_host["late.example"].id, "take-it-down", DANA)
    vault.mark_notice_sent(late.id, sent_at=now - timedelta(hours=49))
    fresh = vault.draft_notice(by_host["fresh.example"].id, "dsa", DANA)
    vault.mark_notice_sent(fresh.id, sent_at=now - timedelta(hours=1))

    cases = vault.list_cases(now)
    assert [c.host for c in cases] == ["late.example", "untouched.example", "fresh.example"]
    first = cases[0]
    # TAKE IT DOWN: 48 hours from the request
    assert first.status == CaseStatus.OVERDUE and first.due_at == now - timedelta(hours=1)
    assert first.next_step == NextStep.ESCALATE and "hosting" in first.next_step_words
    assert len(first.addresses) == 2 and first.photo_ids == tuple(sorted((ids["dog"], ids["horses"])))
    # DSA names no number of hours: Sanctum follows up after 7 days
    assert cases[2].status == CaseStatus.WAITING and cases[2].due_at == now - timedelta(hours=1) + timedelta(days=7)
    assert cases[1].status == CaseStatus.OPEN
    assert vault.cases_due_for_recheck(now) == [first.id]

    # escalated to the provider, who lets its deadline pass too: search delisting is next
    provider = vault.draft_notice(first.id, "take-it-down", DANA, audience=NoticeAudience.PROVIDER,
                                  to="abuse@provider.example")
    assert provider.text.startswith("To the abuse team of the hosting provider")
    vault.mark_notice_sent(provider.id, sent_at=now - timedelta(hours=48, minutes=5))
    assert vault.case(first.id, now).next_step == NextStep.SEARCH_DELISTING
    # a refusal from the waiting site moves it up to the escalation at once
    vault.record_reply(cases[2].id, "refused", "we do not remove content", received_at=now)
    refused = vault.case(cases[2].id, now)
    assert refused.status == CaseStatus.OVERDUE and refused.next_step == NextStep.ESCALATE
    assert refused.replies[0].text == "we do not remove content"


def test_earlier_per_copy_requests_show_in_their_case(stocked):
    from app.core.leaks.takedown import Requester, TakedownContact

    vault, ids = stocked
    match_id = _record_copy(vault, "https://img.old.example/a.jpg", ids["dog"])
    request = vault.draft_takedown(match_id, TakedownContact(abuse_email="abuse@old.example"),
                                   Requester("Dana Example", "dana@example.org"), "privacy")
    vault.send_takedown(request.id)
    case = vault.list_cases()[0]
    (legacy,) = case.notices
    assert legacy.legacy and legacy.id == request.id and legacy.to == "abuse@old.example"
    assert legacy.due_at - legacy.sent_at == timedelta(days=7) and case.status == CaseStatus.WAITING


# --- the directory -----------------------------------------------------------------------------------


def test_directory_rows_have_sources_and_the_users_file_overrides_them(tmp_path):
    shipped = platforms.load(tmp_path / "none.toml")
    assert shipped and all(row.source.startswith("https://") and row.checked_on for row in shipped)
    assert platforms.find("i.redd.it", shipped).id == "reddit"
    assert platforms.find("example.com", shipped) is None
    mine = tmp_path / "platforms.toml"
    mine.write_text('[[platform]]\nid = "reddit"\nname = "Reddit (mine)"\ndomains = ["reddit.com"]\n'
                    'abuse_email = "me@example.org"\n\n'
                    '[[platform]]\nid = "smallhost"\nname = "Small host"\ndomains = ["smallhost.example"]\n'
                    'abuse_email = "abuse@smallhost.example"\n', encoding="utf-8")
    merged = platforms.load(mine)
    assert platforms.find("www.reddit.com", merged).contact == "me@example.org"
    assert platforms.find("i.redd.it", merged) is None  # the user's row replaced the whole shipped row
    assert platforms.find("cdn.smallhost.example", merged).user_row
    (tmp_path / "broken.toml").write_text("[[platform]\n", encoding="utf-8")
    assert len(platforms.load(tmp_path / "broken.toml")) == len(shipped)  # a typo hides nothing shipped


def test_a_vault_from_before_cases_migrates_and_its_copies_form_cases(tmp_path):
    import json
    import shutil

    from app.core.vault import Vault

    from .test_vault_keys import LEGACY, PASSPHRASE, _totp_now

    path = tmp_path / "legacy"
    shutil.copytree(LEGACY / "vault", path)
    secrets = json.loads((LEGACY / "secrets.json").read_text())
    with Vault.unlock(path, PASSPHRASE, totp_code=_totp_now(secrets["totp_secret"])) as vault:
        assert db.schema_version(db.database.obj) == db.CURRENT_SCHEMA >= 7
        assert vault.list_cases() == []
        _record_copy(vault, "https://img.old.example/a.jpg", vault.list_photos()[0].id)
        (case,) = vault.list_cases()
        assert case.host == "old.example" and case.status == CaseStatus.OPEN
