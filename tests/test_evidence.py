"""Evidence capture at scan time and the signed PDF report, on a real vault and a real HTTP host
on 127.0.0.1; the report is read back with a PDF text extractor (pypdf)."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import os
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pypdf
import pytest
from PIL import Image

from app.core import fingerprint
from app.core.leaks import capture_store, report_fonts
from app.core.leaks.capture import Capture, SignatureState
from app.core.leaks.errors import EvidenceError
from app.core.leaks.evidence import CaseEvidence, CopyEvidence, NoticeEvidence
from app.core.leaks.fetch import Fetcher
from app.core.leaks.report import ReportOptions, render_report
from app.core.leaks.report_signature import verify_report
from app.core.leaks.takedown import Requester, TakedownContact
from app.core.sharing import ShareOptions
from app.core.vault import Vault

from .conftest import DATA, PASSPHRASE, PHOTOS
from .leakhost import ImageHost
from .test_leaks import FAST, jpeg, photo

RECIPIENT = "Zoë Ξανθή-Алёна Łukasiewicz"
PREPARED_FOR = "Ngọc Ánh Þórsdóttir"


@pytest.fixture
def host():
    server = ImageHost().start()
    yield server
    server.stop()


@pytest.fixture
def leaked(vault, host, tmp_path):
    """A vault whose shared dog photo (re-encoded, as a platform would) and a crop of its
    parrots are on one page of the test host; the page has been scanned once."""
    vault.import_paths([PHOTOS / "kodim23.png", PHOTOS / "dog.jpg"])
    ids = {p.filename: p.id for p in vault.list_photos()}
    shared = vault.share(ids["dog.jpg"], tmp_path / "dog-share.jpg", ShareOptions(recipient=RECIPIENT))
    shared_image = Image.open(shared.out)
    reupload = jpeg(shared_image.resize((shared_image.width * 3 // 4, shared_image.height * 3 // 4)), 70)
    parrots = photo("kodim23.png")
    crop = jpeg(parrots.crop((0, 0, int(parrots.width * 0.6), int(parrots.height * 0.7))))
    shared_url, _ = host.upload(reupload)
    crop_url, _ = host.upload(crop)
    html = f'<html><head><title>Someone’s gallery</title></head><body><img src="{shared_url}">' \
           f'<img src="{crop_url}"></body></html>'
    page = host.add_page("gallery", html)
    fetcher = Fetcher(FAST)
    outcome = vault.scan([page], fetcher=fetcher)
    assert outcome.errors == [] and len(outcome.matches) == 2
    yield {"vault": vault, "fetcher": fetcher, "page": page, "html": html, "ids": ids, "share": shared.share,
           "bytes": {shared_url: reupload, crop_url: crop},
           "matches": {m.source: m for m in outcome.matches}}
    fetcher.close()


def test_a_scan_keeps_what_it_fetched_and_a_rescan_adds_to_the_history(leaked):
    vault, page = leaked["vault"], leaked["page"]
    match_ids = [m.id for m in leaked["matches"].values()]
    evidence = vault.case_evidence(match_ids)
    for copy in evidence.copies:
        [capture] = copy.captures
        assert capture.sha256 == hashlib.sha256(leaked["bytes"][copy.address]).hexdigest()
        assert capture.size_bytes == len(leaked["bytes"][copy.address])
        assert capture.http_status == 200 and capture.server_date.endswith("GMT")
        assert capture.fetched_at.tzinfo == UTC and capture.file_modified is None
        assert capture.signature == SignatureState.ABSENT  # a re-encoded copy: metadata stripped
        assert copy.first_seen == copy.last_seen == capture.fetched_at  # seen when fetched
    # One capture of the page, shared by both copies found on it, with its HTML as fetched.
    [page_capture] = evidence.pages
    assert {copy.capture_pages for copy in evidence.copies} == {(page_capture.id,)}
    assert page_capture.url == page and page_capture.http_status == 200 and page_capture.title == "Someone’s gallery"
    assert page_capture.sha256 == hashlib.sha256(leaked["html"].encode()).hexdigest()
    assert page_capture.size_bytes == len(leaked["html"].encode())

    again = vault.scan([page], fetcher=leaked["fetcher"])
    assert sorted(m.id for m in again.matches) == sorted(match_ids)  # the same copies, updated
    later = vault.case_evidence(match_ids)
    assert len(later.pages) == 2  # the page as fetched by each scan
    for before, after in zip(evidence.copies, later.copies, strict=True):
        first, second = after.captures
        assert first == before.captures[0]  # the earlier look is kept as it was
        assert second.http_status == 304 and second.sha256 == first.sha256  # unchanged, per the server
        assert second.fetched_at > first.fetched_at
        assert after.first_seen == before.first_seen and after.last_seen == second.fetched_at
        assert after.capture_pages[0] != after.capture_pages[1]


def test_history_is_bounded_and_keeps_the_first_look(leaked):
    vault = leaked["vault"]
    match = next(iter(leaked["matches"].values()))
    first = vault.case_evidence([match.id]).copies[0].captures[0]
    page_id = vault.case_evidence([match.id]).copies[0].capture_pages[0]
    from app.core import db

    for n in range(capture_store.MAX_CAPTURES_PER_COPY + 5):
        later = Capture(f"{n:064x}", n, first.fetched_at + timedelta(days=1 + n), http_status=200)
        with db.database.atomic():
            capture_store.record_capture(match.id, later, None)
    captures = vault.case_evidence([match.id]).copies[0].captures
    assert len(captures) == capture_store.MAX_CAPTURES_PER_COPY
    assert captures[0] == first
    assert captures[-1].sha256 == f"{capture_store.MAX_CAPTURES_PER_COPY + 4:064x}"
    # The other copy still points at the page capture, so it stays.
    other = next(m for m in leaked["matches"].values() if m.id != match.id)
    assert vault.case_evidence([other.id]).pages[0].id == page_id


def test_a_local_file_is_captured_with_its_hash_and_file_time(vault, tmp_path):
    vault.import_paths([PHOTOS / "horses.jpg"])
    copy = tmp_path / "found" / "copy.jpg"
    copy.parent.mkdir()
    data = jpeg(photo("horses.jpg"), 80)
    copy.write_bytes(data)
    os.utime(copy, (1_700_000_000, 1_700_000_000))
    [match] = vault.scan([str(copy.parent)]).matches
    [capture] = vault.case_evidence([match.id]).copies[0].captures
    assert capture.sha256 == hashlib.sha256(data).hexdigest()
    assert capture.http_status is None and capture.server_date is None
    assert capture.file_modified.timestamp() == 1_700_000_000 and capture.file_modified.tzinfo == UTC


def test_a_shared_copy_as_sent_has_a_valid_signature(vault, host, tmp_path):
    vault.import_paths([PHOTOS / "dog.jpg"])
    shared = vault.share(vault.list_photos()[0].id, tmp_path / "d.jpg", ShareOptions(recipient="Max"))
    url, _ = host.upload(Path(shared.out).read_bytes())
    with Fetcher(FAST) as fetcher:
        [match] = vault.scan([url], fetcher=fetcher).matches
    copy = vault.case_evidence([match.id]).copies[0]
    assert copy.signature == SignatureState.VALID
    assert copy.share.recipient == "Max"


def _pdf_text(pdf: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    return "\n".join(page.extract_text() for page in reader.pages)


def _embedded_characters(pdf: bytes) -> set[str]:
    """The characters the PDF's embedded font subsets have real glyphs for (their cmaps), the
    Last Resort placeholders aside."""
    from fontTools.ttLib import TTFont

    found: set[str] = set()
    for page in pypdf.PdfReader(io.BytesIO(pdf)).pages:
        for font in page["/Resources"]["/Font"].values():
            if "LastResort" in font.get_object()["/BaseFont"]:
                continue
            for descendant in font.get_object().get("/DescendantFonts", []):
                descriptor = descendant.get_object()["/FontDescriptor"].get_object()
                if "/FontFile2" in descriptor:
                    subset = TTFont(io.BytesIO(descriptor["/FontFile2"].get_object().get_data()))
                    found |= {chr(code) for code in subset.getBestCmap() or {}}
    return found


def test_the_report_shows_every_address_hash_and_date_and_its_signature_verifies(leaked, tmp_path):
    vault = leaked["vault"]
    match_ids = [m.id for m in leaked["matches"].values()]
    vault.scan([leaked["page"]], fetcher=leaked["fetcher"])  # a second look: history in the report
    crop_match = leaked["matches"][next(u for u in leaked["bytes"] if leaked["matches"][u].method != "watermark")]
    vault.draft_takedown(crop_match.id, TakedownContact(abuse_email="abuse@host.example"),
                         Requester("R", "r@example.org"), "privacy")
    evidence = vault.case_evidence(match_ids, prepared_by=PREPARED_FOR)
    written = vault.write_report(evidence, tmp_path / "case.pdf")
    assert written.out == str(tmp_path / "case.pdf") and written.signature == str(tmp_path / "case.pdf.sig")
    pdf = Path(written.out).read_bytes()
    text = _pdf_text(pdf)
    flat = text.replace("\n", "")
    for copy in evidence.copies:
        assert copy.address in flat
        assert copy.page in flat
        assert f"{copy.first_seen:%Y-%m-%d %H:%M:%S} UTC" in text
        assert f"{copy.last_seen:%Y-%m-%d %H:%M:%S} UTC" in text
        for capture in copy.captures:
            assert capture.sha256 in flat
            assert f"{capture.fetched_at:%Y-%m-%d %H:%M:%S} UTC" in text
            assert capture.server_date in flat
    for page in evidence.pages:
        assert page.sha256 in flat and f"{page.fetched_at:%Y-%m-%d %H:%M:%S} UTC" in text
    watermarked = next(c for c in evidence.copies if c.method == "watermark")
    assert watermarked.share.share_id in flat and "invisible watermark" in text
    assert f"{watermarked.pdq_distance} of 256 bits" in text
    assert RECIPIENT in text and PREPARED_FOR in text  # Unicode names are in the text layer...
    assert set(RECIPIENT + PREPARED_FOR) - {" "} <= _embedded_characters(pdf)  # ...and drawn, not as boxes
    if os.name == "posix":  # the report names where a private photo was found: owner-only
        assert Path(written.out).stat().st_mode & 0o777 == 0o600
    assert "abuse@host.example" in text and "How to verify" in text
    assert "sanctum report --verify case.pdf --pubkey" in flat
    assert evidence.key_fingerprint in flat
    # The pages as captured travel inside the PDF, under the signature.
    attachments = pypdf.PdfReader(io.BytesIO(pdf)).attachments
    assert sorted(attachments) == sorted(p.attachment_name for p in evidence.pages)
    assert all(content == [leaked["html"].encode()] for content in attachments.values())

    public = vault.signing_public_key()
    signature = Path(written.signature).read_bytes()
    assert verify_report(pdf, signature, public)
    flipped = bytearray(pdf)
    flipped[len(flipped) // 2] ^= 0x01
    assert not verify_report(bytes(flipped), signature, public)
    assert not verify_report(pdf, signature, fingerprint.public_key_of(fingerprint.new_signing_key()))
    with pytest.raises(EvidenceError):
        verify_report(pdf, b"not a signature file", public)


def _high_frequency(image: Image.Image) -> float:
    grey = np.asarray(image.convert("L").resize((240, 160)), dtype=np.float64)
    return float(np.abs(np.diff(grey, axis=0)).mean() + np.abs(np.diff(grey, axis=1)).mean())


def _report_pictures(pdf: bytes) -> list[Image.Image]:
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    return [Image.open(io.BytesIO(picture.data)) for page in reader.pages for picture in page.images]


def test_thumbnails_are_blurred_unless_the_user_asks(leaked):
    vault = leaked["vault"]
    evidence = vault.case_evidence([m.id for m in leaked["matches"].values()])
    stored = [_high_frequency(Image.open(io.BytesIO(c.thumbnail_jpeg))) for c in evidence.copies]
    pdf = render_report(evidence)
    assert render_report(evidence) == pdf  # deterministic: a signature over it can be reproduced
    blurred = [_high_frequency(p) for p in _report_pictures(pdf)]
    full = [_high_frequency(p) for p in _report_pictures(render_report(evidence, ReportOptions(full_thumbnails=True)))]
    assert len(blurred) == len(full) == len(stored) == 2
    for original, soft, sharp in zip(stored, blurred, full, strict=True):
        assert soft < original * 0.35, (soft, original)
        assert sharp > original * 0.8, (sharp, original)


def _case(prepared_by: str) -> CaseEvidence:
    """A case built by hand: the report draws dataclasses, wherever they come from."""
    seen = datetime(2026, 5, 6, 7, 8, 9, tzinfo=UTC)
    capture = Capture("ab" * 32, 1234, seen, 200, "Wed, 06 May 2026 07:08:09 GMT")
    copy = CopyEvidence(7, "https://img.example/a.jpg", "https://img.example/p", seen, seen, "found", "pdq",
                        0.97, "near-identical picture (PDQ)", 4, None, None, (capture,), (None,))
    pem = fingerprint.public_key_pem(fingerprint.public_key_of(fingerprint.new_signing_key()))
    return CaseEvidence("A case", "img.example", (copy,), (), pem, seen, prepared_by=prepared_by)


def test_names_in_any_script_keep_their_characters(tmp_path):
    name = "王小明 नमस्ते ليلى 𝐀𝐁𝐂"
    nothing = tmp_path / "no-fonts"
    nothing.mkdir()
    # No font for CJK, Devanagari or math letters: labelled boxes, the characters kept as text.
    boxes = render_report(_case(name), ReportOptions(font_folders=(nothing,)))
    assert "王小明" in _pdf_text(boxes) and "𝐀𝐁𝐂" in _pdf_text(boxes)
    assert not {"王", "𝐀"} & _embedded_characters(boxes)
    # A font on the computer that draws some of them (STIX: the math letters) is used for those.
    fonts = tmp_path / "fonts"
    fonts.mkdir()
    shutil.copy(report_fonts.bundled_fonts()["DejaVu", ""].with_name("STIXGeneral.ttf"), fonts)
    drawn = render_report(_case(name), ReportOptions(font_folders=(fonts,)))
    assert "𝐀𝐁𝐂" in _pdf_text(drawn) and {"𝐀", "𝐁", "𝐂"} <= _embedded_characters(drawn)


def test_the_report_takes_notices_from_a_case_and_refuses_unknown_copies(leaked, tmp_path):
    vault = leaked["vault"]
    match = next(iter(leaked["matches"].values()))
    sent_at = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
    sent = NoticeEvidence("notice", "legal@host.example", "Removal of my photo", sent_at, "sent",
                          replies=("We removed it — Трудно сказать",))
    evidence = vault.case_evidence([match.id], title="Case Ω-7", notices=[sent])
    text = _pdf_text(render_report(evidence))
    assert "Case Ω-7" in text and "legal@host.example" in text
    assert "2026-03-04 05:06:07 UTC" in text and "Трудно сказать" in text
    unrecorded = dataclasses.replace(evidence.copies[0], captures=(), capture_pages=(), thumbnail_jpeg=None)
    text = _pdf_text(render_report(dataclasses.replace(evidence, copies=(unrecorded,), pages=())))
    assert "found before Sanctum kept" in text and "No picture kept" in text
    with pytest.raises(EvidenceError, match="999"):
        vault.case_evidence([match.id, 999])
    with pytest.raises(EvidenceError):
        vault.case_evidence([])


def test_a_case_report_has_its_copies_notices_and_replies(leaked, tmp_path):
    from app.core.leaks.notices import Sender

    vault = leaked["vault"]
    [case] = vault.list_cases()
    notice = vault.draft_notice(case.id, "take-it-down", Sender(PREPARED_FOR, "anh@example.org", PREPARED_FOR))
    sent = vault.mark_notice_sent(notice.id)
    vault.record_reply(case.id, "more-info", "Please confirm — Пожалуйста", notice_id=notice.id)
    evidence = vault.case_report_evidence(case.id, prepared_by=PREPARED_FOR)
    assert {c.match_id for c in evidence.copies} == set(case.match_ids)
    assert evidence.title == f"Case {case.id}: 127.0.0.1"
    [reported] = evidence.notices
    assert reported.subject == notice.subject and reported.sent_at == sent.sent_at.astimezone(UTC)
    assert reported.replies and "Please confirm — Пожалуйста" in reported.replies[0]
    written = vault.write_report(evidence, tmp_path / "case.pdf")
    text = _pdf_text(Path(written.out).read_bytes())
    flat = text.replace("\n", "")
    assert "TAKE IT DOWN Act" in text and notice.subject in flat and "Пожалуйста" in text
    assert f"{reported.sent_at:%Y-%m-%d %H:%M:%S} UTC" in text and f"{reported.detail}" in text
    assert all(copy.address in flat for copy in evidence.copies)


def test_a_legacy_vault_migrates_and_captures_its_scans(tmp_path):
    import pyotp

    path = tmp_path / "legacy"
    shutil.copytree(DATA / "legacy-vault-v1" / "vault", path)
    secrets = json.loads((DATA / "legacy-vault-v1" / "secrets.json").read_text())
    found = tmp_path / "found"
    found.mkdir()
    (found / "cat-copy.jpg").write_bytes(jpeg(photo("cat.jpg"), 85))
    with Vault.unlock(path, PASSPHRASE, totp_code=pyotp.TOTP(secrets["totp_secret"]).now()) as vault:
        vault.index_fingerprints()
        [match] = vault.scan([str(found)]).matches
        copy = vault.case_evidence([match.id]).copies[0]
        assert copy.captures[0].sha256 == hashlib.sha256((found / "cat-copy.jpg").read_bytes()).hexdigest()


def test_cli_report_and_verify(leaked, tmp_path):
    from .test_cli import sanctum

    vault = leaked["vault"]
    match_ids = [str(m.id) for m in leaked["matches"].values()]
    pem = tmp_path / "sanctum-public.pem"
    pem.write_text(fingerprint.public_key_pem(vault.signing_public_key()))
    [case] = vault.list_cases()  # cases are made when first listed
    vault_path = vault.path
    vault.lock()
    out = tmp_path / "case.pdf"
    made = json.loads(sanctum("report", "--match", match_ids[0], "--match", match_ids[1], "--out", str(out),
                              "--json", vault=vault_path).stdout)
    assert made == {"out": str(out), "signature": str(out) + ".sig"}
    by_case = json.loads(sanctum("report", str(case.id), "--out", str(tmp_path / "by-case.pdf"), "--json",
                                 vault=vault_path).stdout)
    assert by_case == {"out": str(tmp_path / "by-case.pdf"), "signature": str(tmp_path / "by-case.pdf") + ".sig"}
    assert f"Case {case.id}: 127.0.0.1" in _pdf_text((tmp_path / "by-case.pdf").read_bytes())
    checked = sanctum("report", "--verify", str(out), "--pubkey", str(pem), "--json", vault=vault_path)
    assert json.loads(checked.stdout) == {"valid": True}
    data = bytearray(out.read_bytes())
    data[100] ^= 0x01
    out.write_bytes(bytes(data))
    refused = sanctum("report", "--verify", str(out), "--pubkey", str(pem), "--json", vault=vault_path, check=False)
    assert json.loads(refused.stdout) == {"valid": False} and refused.returncode == 1
    missing = sanctum("report", "--match", "999", "--out", str(tmp_path / "x.pdf"), vault=vault_path, check=False)
    assert missing.returncode == 1 and "No found copy with id 999" in missing.stderr
