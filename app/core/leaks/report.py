"""The evidence report: a PDF for the police or a lawyer, drawn from a `CaseEvidence`.

Pure rendering: dataclasses in, PDF bytes out (the vault gathers and signs, `Vault.write_report`).
Made with fpdf2: pure Python (nothing to compile on any platform), maintained by the py-pdf
project, with TrueType subsetting, fallback fonts and HarfBuzz text shaping (uharfbuzz: joined
and right-to-left scripts) built in. reportlab would do too; it brings C extensions of its own
and no shaping engine.

Text is set in DejaVu Sans, shipped inside matplotlib; characters it lacks come from the
computer's own fonts, or at worst a labelled placeholder (report_fonts). Nothing is downloaded.

Thumbnails are the stored evidence pictures, blurred by default (`BLUR_FRACTION`): a report is
read by people who need to know which photo, not to see it.
"""

from __future__ import annotations

import io
import zlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from PIL import Image, ImageFilter

from . import report_fonts
from .capture import Capture, SignatureState
from .evidence import CaseEvidence, CopyEvidence, NoticeEvidence, PageEvidence

THUMB_WIDTH_MM = 48
# Gaussian blur radius as a share of the picture's long side: at 1/20 a face or a body is a
# shape of colour, enough to tell which photo it is next to the vault's own.
BLUR_FRACTION = 1 / 20

METHOD_WORDS = {
    "metadata": "the share ID hidden in the file's metadata (its code checked with this vault's key)",
    "watermark": "the invisible watermark in the pixels, which names the protected copy it was made for",
    "pdq": "perceptual fingerprint (PDQ): the same picture, re-encoded, resized or lightly edited",
    "features": "local features confirmed by geometry: a crop, a rotation, or the photo inside a "
                "larger picture (a collage or a screenshot)",
}
SIGNATURE_WORDS = {
    SignatureState.ABSENT: "no Sanctum claim in the file's metadata (most platforms strip it)",
    SignatureState.NOT_CHECKED: "a Sanctum claim, not checked (no key at scan time)",
    SignatureState.INVALID: "a Sanctum claim this vault's key did NOT sign (forged or damaged)",
    SignatureState.VALID: "signed by this vault's key, and the pixels are exactly the signed ones",
    SignatureState.PIXELS_CHANGED: "signed by this vault's key; the pixels were edited since "
                                   "(the watermark or fingerprints name the same copy)",
    SignatureState.OTHER_IMAGE: "a genuine claim of this vault, copied onto pixels it does not vouch for",
}
STATUS_WORDS = {"found": "found", "drafted": "removal request drafted", "sent": "removal requested",
                "removed": "removed", "dismissed": "dismissed by the user (not their photo)"}
NOTICE_KINDS = {"deletion_link": "deletion link", "imgur_api": "Imgur API request", "notice": "notice (email)",
                "take-it-down": "notice under the US TAKE IT DOWN Act",
                "dsa": "notice under the EU Digital Services Act, Art. 16",
                "copyright": "copyright notice (DMCA § 512(c))", "search-delisting": "search delisting request",
                "reply": "answers"}


@dataclass(frozen=True)
class ReportOptions:
    file_name: str = "report.pdf"  # what the verify commands in the report name
    full_thumbnails: bool = False  # the user chose to show the found pictures unblurred
    attach_pages: bool = True  # the captured pages' HTML as files inside the PDF
    # Where to look for fonts for characters DejaVu lacks; None: the computer's font folders.
    font_folders: tuple[Path, ...] | None = None


def utc(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M:%S} UTC" if moment is not None else "—"


def blurred(jpeg: bytes) -> Image.Image:
    with Image.open(io.BytesIO(jpeg)) as image:
        picture = image.convert("RGB")
    return picture.filter(ImageFilter.GaussianBlur(max(picture.size) * BLUR_FRACTION))


def render_report(case: CaseEvidence, options: ReportOptions = ReportOptions()) -> bytes:
    """The report as PDF bytes. Deterministic for one `case` and `options` (the PDF's dates
    are the case's `generated_at`), so a signature over it can be reproduced."""
    return _Report(case, options).build()


class _Report:
    def __init__(self, case: CaseEvidence, options: ReportOptions):
        from fpdf import FPDF  # loaded with the first report, not with the vault

        self.case, self.options = case, options
        title = case.title

        class _Pdf(FPDF):
            def footer(inner) -> None:
                inner.set_y(-12)
                inner.set_font("DejaVu", "", 7)
                inner.set_text_color(90)
                # The page count last: "{nb}" is sized as written, the space it leaves comes after.
                inner.cell(0, 5, f"Sanctum evidence report · {title} · signature in {options.file_name}.sig · "
                                 f"page {inner.page_no()} of {{nb}}", align="C")

        pdf = _Pdf(format="A4", unit="mm")
        self.fonts(pdf)
        pdf.set_margins(15, 15, 15)
        pdf.set_auto_page_break(True, margin=16)
        pdf.set_creation_date(case.generated_at)
        pdf.set_title(f"Evidence report: {case.title}")
        pdf.set_creator("Sanctum")
        pdf.set_producer("Sanctum")
        self.pdf = pdf

    def fonts(self, pdf) -> None:
        """DejaVu, then for characters it lacks the computer's own fonts, then Last Resort
        (report_fonts): every name comes out as written, or at worst as a labelled box."""
        bundled = report_fonts.bundled_fonts()
        for (family, style), path in bundled.items():
            if family != "LastResort":
                pdf.add_font(family, style, str(path))
        missing = report_fonts.missing_characters(list(report_fonts.texts_of(self.case)))
        if missing:
            fallbacks = []
            for number, font in enumerate(report_fonts.system_fallbacks(missing, self.options.font_folders)):
                pdf.add_font(f"Fallback{number}", "", str(font.path), collection_font_number=font.number)
                fallbacks.append(f"Fallback{number}")
            pdf.add_font("LastResort", "", str(bundled["LastResort", ""]))
            pdf.set_fallback_fonts([*fallbacks, "LastResort"], exact_match=False)
        pdf.set_text_shaping(True)  # joined and right-to-left scripts, through HarfBuzz

    # --- drawing helpers ---------------------------------------------------------------------

    def heading(self, text: str, size: float = 13) -> None:
        pdf = self.pdf
        if pdf.get_y() > pdf.page_break_trigger - 30:
            pdf.add_page()
        pdf.ln(2)
        pdf.set_font("DejaVu", "B", size)
        pdf.multi_cell(0, size * 0.5, text, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1)

    def para(self, text: str, size: float = 9, mono: bool = False) -> None:
        self.pdf.set_font("DejaVuMono" if mono else "DejaVu", "", size)
        self.pdf.multi_cell(0, size * 0.48, text, new_x="LMARGIN", new_y="NEXT",
                            wrapmode="CHAR" if mono else "WORD", align="L")

    def command(self, text: str) -> None:
        """Commands to type, in a grey box, exactly as they run."""
        self.pdf.set_fill_color(238)
        self.pdf.set_font("DejaVuMono", "", 7.8)
        self.pdf.multi_cell(0, 4, text, new_x="LMARGIN", new_y="NEXT", wrapmode="CHAR", align="L",
                            fill=True, padding=1.2)
        self.pdf.ln(1.5)

    def field(self, label: str, value: str, mono: bool = False, width: float | None = None) -> None:
        pdf = self.pdf
        pdf.set_font("DejaVu", "B", 8.5)
        pdf.cell(36, 4.4, label)
        pdf.set_font("DejaVuMono" if mono else "DejaVu", "", 7.8 if mono else 8.5)
        pdf.multi_cell(width or 0, 4.4, value, new_x="LMARGIN", new_y="NEXT",
                       wrapmode="CHAR" if mono else "WORD", align="L")

    # --- the document --------------------------------------------------------------------------

    def build(self) -> bytes:
        case, pdf = self.case, self.pdf
        pdf.add_page()
        pdf.set_font("DejaVu", "B", 18)
        pdf.multi_cell(0, 9, "Evidence report", new_x="LMARGIN", new_y="NEXT")
        self.heading(case.title, 12)
        self.field("Generated", utc(case.generated_at))
        if case.prepared_by:
            self.field("Prepared for", case.prepared_by)
        self.field("Site", case.host)
        self.field("Copies", str(len(case.copies)))
        self.field("Signing key", case.key_fingerprint, mono=True)
        self.para("Every copy below was fetched by Sanctum, a program that keeps the owner's photos in an "
                  "encrypted vault and looks for copies of them. For each copy it lists where it was, "
                  "when it was seen (UTC), the SHA-256 of the exact bytes fetched, what the server answered, "
                  "and how the photo was recognised. The report is signed with the vault's Ed25519 key; "
                  "“How to verify” at the end says how anyone can check it.")
        self.heading("Summary", 11)
        for number, copy in enumerate(case.copies, 1):
            self.para(f"{number}. {copy.address}", 8, mono=True)
            self.para(f"    first seen {utc(copy.first_seen)} · last seen {utc(copy.last_seen)} · "
                      f"{STATUS_WORDS.get(copy.status, copy.status)}", 8)
        for number, copy in enumerate(case.copies, 1):
            self.copy(number, copy)
        if case.pages:
            self.pages(case.pages)
        self.notices(case.notices)
        self.how_to_verify()
        return bytes(pdf.output())

    def copy(self, number: int, copy: CopyEvidence) -> None:
        pdf = self.pdf
        pdf.add_page()
        self.heading(f"Copy {number} (found copy #{copy.match_id})")
        top = pdf.get_y()
        text_width = pdf.epw - THUMB_WIDTH_MM - 4
        self.field("Address", copy.address, mono=True, width=text_width - 36)
        self.field("Page it was on", copy.page or ("— (a file on this computer)" if copy.is_file else
                                                   "— (the address was scanned directly)"),
                   mono=bool(copy.page), width=text_width - 36)
        self.field("First seen", utc(copy.first_seen), width=text_width - 36)
        self.field("Last seen", utc(copy.last_seen), width=text_width - 36)
        self.field("Status", STATUS_WORDS.get(copy.status, copy.status), width=text_width - 36)
        below_fields = pdf.get_y()
        thumb_bottom = self.thumbnail(copy, pdf.l_margin + text_width + 4, top)
        pdf.set_y(max(below_fields, thumb_bottom) + 2)

        self.heading("How it was recognised", 10.5)
        self.field("Method", METHOD_WORDS.get(copy.method, copy.method))
        if copy.detail:
            self.field("Detail", copy.detail)
        if copy.share is not None:
            share = copy.share
            where = f" on {share.platform}" if share.platform else ""
            self.field("Watermark names", f"the protected copy given to {share.recipient}{where}, "
                                          f"made {utc(share.shared_at)} (share ID {share.share_id})")
        self.field("Signature check", SIGNATURE_WORDS.get(copy.signature, copy.signature or "")
                   if copy.signature else "not recorded (found before Sanctum kept captures)")
        if copy.pdq_distance is not None:
            self.field("PDQ distance", f"{copy.pdq_distance} of 256 bits (0: the same picture; "
                                       "unrelated photos lie near 128)")
        if copy.inliers is not None:
            self.field("Local features", f"{copy.inliers} matching points confirmed by one geometric transform")
        self.field("Confidence", f"{copy.score:.2f} (0 to 1)")

        self.heading(f"What was fetched ({len(copy.captures)} look{'s' if len(copy.captures) != 1 else ''} kept)",
                     10.5)
        if not copy.captures:
            self.para("No capture: this copy was found before Sanctum kept the bytes' hash and the server's "
                      "answer. Its address and times above come from the scan record.")
        pages = {page.id: page for page in self.case.pages}
        for capture, page_id in zip(copy.captures, copy.capture_pages, strict=True):
            self.capture(capture, pages.get(page_id) if page_id is not None else None)

    def thumbnail(self, copy: CopyEvidence, x: float, y: float) -> float:
        """Draw the evidence picture at (x, y); returns its bottom edge."""
        pdf = self.pdf
        if not copy.thumbnail_jpeg:
            pdf.set_xy(x, y)
            pdf.set_font("DejaVu", "", 7.5)
            pdf.multi_cell(THUMB_WIDTH_MM, 3.6, "No picture kept (the photo was deleted from the vault, "
                                                "or the copy was found before pictures were kept).",
                           new_x="LMARGIN", new_y="NEXT")
            return pdf.get_y()
        picture = (Image.open(io.BytesIO(copy.thumbnail_jpeg)).convert("RGB") if self.options.full_thumbnails
                   else blurred(copy.thumbnail_jpeg))
        height = THUMB_WIDTH_MM * picture.height / picture.width
        pdf.image(picture, x=x, y=y, w=THUMB_WIDTH_MM, h=height,
                  alt_text="the found picture" + ("" if self.options.full_thumbnails else ", blurred"))
        pdf.set_xy(x, y + height + 0.5)
        pdf.set_font("DejaVu", "", 6.5)
        pdf.multi_cell(THUMB_WIDTH_MM, 3, "As found." if self.options.full_thumbnails else
                       "Blurred on purpose; the vault keeps the picture.", new_x="LMARGIN", new_y="NEXT")
        return pdf.get_y()

    def capture(self, capture: Capture, page: PageEvidence | None) -> None:
        if capture.http_status is None:
            facts = (f"read {utc(capture.fetched_at)} · file modified {utc(capture.file_modified)} · "
                     f"{capture.size_bytes:,} bytes")
        else:
            answer = "HTTP 304 (not modified: the same bytes as hashed before)" if capture.http_status == 304 \
                else f"HTTP {capture.http_status}"
            facts = (f"fetched {utc(capture.fetched_at)} · {answer} · server date: "
                     f"{capture.server_date or 'not sent'} · {capture.size_bytes:,} bytes")
        if self.pdf.get_y() > self.pdf.page_break_trigger - 14:
            self.pdf.add_page()
        self.para(facts, 8)
        self.para(f"SHA-256 {capture.sha256}", 7.5, mono=True)
        if capture.final_url:
            self.para(f"redirected to {capture.final_url}", 7.5, mono=True)
        if page is not None:
            self.para(f"on the page captured {utc(page.fetched_at)} (see “Pages as captured”)", 7.5)
        self.pdf.ln(1.2)

    def pages(self, pages: tuple[PageEvidence, ...]) -> None:
        self.pdf.add_page()
        self.heading("Pages as captured")
        self.para("The HTML of each page, as fetched, is kept encrypted in the vault"
                  + (" and attached to this PDF (open the attachments panel of a PDF reader)."
                     if self.options.attach_pages else "."), 8.5)
        for page in pages:
            self.heading(page.title or page.url, 9.5)
            self.field("Address", page.url, mono=True)
            if page.final_url:
                self.field("Redirected to", page.final_url, mono=True)
            self.field("Fetched", utc(page.fetched_at))
            self.field("Server answer", f"HTTP {page.http_status}; server date: {page.server_date or 'not sent'}")
            self.field("Size", f"{page.size_bytes:,} bytes" + (" (the first 2 MB kept)" if page.truncated else ""))
            self.field("SHA-256", page.sha256, mono=True)
            if self.options.attach_pages:
                self.field("Attached as", page.attachment_name, mono=True)
                self.pdf.embed_file(bytes=_html_bytes(page), basename=page.attachment_name,
                                    modification_date=page.fetched_at, mime_type="text/html",
                                    desc=f"{page.url} as fetched {utc(page.fetched_at)}")

    def notices(self, notices: tuple[NoticeEvidence, ...]) -> None:
        self.heading("Notices and removal requests")
        if not notices:
            self.para("None recorded yet.", 8.5)
        for notice in notices:
            to = f" to {notice.to}" if notice.to and notice.to != "—" else ""
            self.para(f"{NOTICE_KINDS.get(notice.kind, notice.kind)}{to}", 9)
            if notice.subject:
                self.field("Subject", notice.subject)
            self.field("Sent", utc(notice.sent_at) if notice.sent_at else "not sent (drafted)")
            self.field("Status", notice.status + (f": {notice.detail}" if notice.detail else ""))
            for reply in notice.replies:
                self.field("Reply", reply)
            self.pdf.ln(1)

    def how_to_verify(self) -> None:
        name, pdf = self.options.file_name, self.pdf
        pdf.add_page()
        self.heading("How to verify")
        self.para("1. That this report is unchanged and was made by this vault. The file "
                  f"{name}.sig beside it holds an Ed25519 signature of this PDF's exact bytes. With the "
                  "vault owner's public key (below; exported with `sanctum pubkey --out sanctum-public.pem`):",
                  8.5)
        self.command(f"sanctum report --verify {name} --pubkey sanctum-public.pem")
        self.para("or, without Sanctum (OpenSSL 3):", 8.5)
        self.command(f"grep '^signature:' {name}.sig | cut -d' ' -f2 | base64 -d > {name}.sigbin\n"
                     f"openssl pkeyutl -verify -pubin -inkey sanctum-public.pem -rawin -in {name} "
                     f"-sigfile {name}.sigbin")
        self.para("2. That a file is the copy listed: its SHA-256 equals the one under “What was fetched”.", 8.5)
        self.command("sha256sum FILE")
        self.para("3. That a copy carries this vault's signed claim (a protected copy the owner shared), "
                  "and whether an immunized copy was altered, with the same public key:", 8.5)
        self.command("sanctum inspect COPY.jpg --pubkey sanctum-public.pem\n"
                     "sanctum verify COPY.png --pubkey sanctum-public.pem")
        self.para("The watermark that names a share is read with the vault's secret key, so only the "
                  "owner's Sanctum can read it again; the owner can do so in front of you.", 8.5)
        self.heading("The vault's public signing key", 10)
        self.field("SHA-256 of key", self.case.key_fingerprint, mono=True)
        self.command(self.case.public_key_pem.strip())
        self.heading("What this report proves, and what it does not", 10)
        self.para("It proves what Sanctum fetched from each address at the times shown (the SHA-256 of "
                  "the bytes, the server's answer and its clock), how the photo was recognised, and that "
                  "the holder of this vault's key made this report. It does not prove who posted a copy, "
                  "and a signature check says only which vault's key signed; the watermark names the "
                  "recipient of the protected copy it was made for, which is where a leak started, not "
                  "necessarily who uploaded it.", 8.5)


def _html_bytes(page: PageEvidence) -> bytes:
    return zlib.decompress(page.html_z) if page.html_z else b""
