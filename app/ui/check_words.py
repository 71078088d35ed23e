"""What a check of a found image means, in words: `CheckWords` turns a `CheckResult` into a
headline, a summary and one line per thing the copy carries (whose copy, whether and where it
was altered, its marks and signature). No widgets: the Check dialog shows these words."""

from __future__ import annotations

import hashlib
from pathlib import Path

from app.core.immunizer import Mode, Verdict
from app.workers.immunize_jobs import CheckResult, VerifiedImage

from .shares_view import share_format, short_date

SIGNATURE_WORDS = {
    "valid": "Signed by your vault, and the pixels are exactly as shared",
    "pixels-changed": "Signed by your vault, but the picture was changed or re-compressed since",
    "other-image": "Signed by your vault, but not for this picture: the hidden IDs were copied onto "
                   "another image (or the copy was changed beyond recognition), so they prove nothing "
                   "about it",
    "invalid": "The signature does not match: the IDs were edited (or another vault signed them)",
    "absent": "No Sanctum signature (platforms usually remove it with the metadata)",
    "no-key": "Signed, but the signature cannot be checked without the vault's key",
}

FRAGILE_WORDS = {
    "intact": "Intact: this is exactly the file that was shared, not one pixel changed",
    "altered": "Broken: the file was edited, re-compressed or resized since it was shared",
}

MODE_WORDS = {
    Mode.LOSSLESS: "Immunized for files kept intact (email, cloud links)",
    Mode.ROBUST: "Immunized for social networks (survives re-compression and resizing)",
}

NOT_IMMUNIZED_TEXT = ("This photo carries no immunization data — it was never immunized, or was "
                      "changed too much to tell.")

SOURCE_NAMES = {"exif": "EXIF", "xmp": "XMP", "png": "PNG text", "itxt": "PNG text", "png-text": "PNG text"}


def key_fingerprint(public_key: bytes) -> str:
    """A short, readable fingerprint of a public key: the start of its SHA-256, in groups."""
    digest = hashlib.sha256(bytes(public_key)).hexdigest()[:16].upper()
    return " ".join(digest[i:i + 4] for i in range(0, 16, 4))


def _confidence(confidence: float | None) -> str:
    return "" if confidence is None else f" (confidence {confidence * 100:.0f} %)"


def _fraction(fraction: float) -> str:
    pct = max(0.0, float(fraction)) * 100
    if pct < 0.1:
        return "less than 0.1 %"
    if pct < 10:
        return f"about {pct:.1f} %"
    return f"about {pct:.0f} %"


def _sources(sources) -> str:
    names = []
    for source in sources or ():
        name = SOURCE_NAMES.get(str(source).lower(), str(source).upper())
        if name not in names:
            names.append(name)
    return " and ".join(names) if names else "the file's metadata"


def signer_words(verified: VerifiedImage) -> str:
    """Who signed the immunization data, and what that proves."""
    res = verified.result
    if res.verdict is Verdict.NOT_IMMUNIZED:
        return ""
    if res.signer is None:
        return ("Signature missing: nothing says who immunized this photo, and its immunization "
                "data could have been made by anyone.")
    if not res.signature_valid:
        return ("Signature invalid: the immunization data does not match its signature. It was "
                "damaged or forged, so treat this result with caution.")
    if verified.signed_by_this_vault:
        return "Signed by this vault's key: you immunized this photo."
    return (f"Signed by another key (fingerprint {key_fingerprint(res.signer)}). This only shows the "
            "file is consistent with its own immunization data; anyone can sign with a key of their "
            "own, so it proves who made it only if you know this key.")


class CheckWords:
    """What a check means, in words: a headline, a summary, one line per thing the copy carries.

    The headline answers "whose copy is this?", and says "altered" when the immunizer found
    changed areas; the "Altered" row always answers "was it changed, and where?" as far as
    the copy lets anyone tell."""

    def __init__(self, result: CheckResult):
        report, share, verified = result.report, result.share, result.verified
        res = verified.result
        immunized = res.verdict is not Verdict.NOT_IMMUNIZED
        tampered = res.verdict is Verdict.TAMPERED
        meta_ids = report.metadata.ids if report.metadata else None
        # Another vault's IDs fail this vault's MAC; ours on other pixels read "other-image" and
        # name no share (metadata alone never does).
        foreign_id = meta_ids.share_id if meta_ids is not None and report.mac == "invalid" else None
        borrowed = meta_ids is not None and report.mac == "other-image" and not report.share_id
        other_vault_id = report.share_id or foreign_id
        self.altered, altered_sentence = self._altered_words(result)

        if share is not None:
            where = f" on {share.platform}" if share.platform else ""
            shared = (f"You shared it with {share.recipient}{where} on {short_date(share.created_at)} "
                      f"at {share.created_at:%H:%M}.")
            if tampered:
                self.kind = "altered"
                self.headline = f"Your copy for {share.recipient}, altered after it was shared"
            else:
                self.kind = "intact" if res.verdict is Verdict.AUTHENTIC else "mine"
                self.headline = f"Your copy for {share.recipient}"
            self.summary = f"{shared} {altered_sentence}".strip()
        elif other_vault_id:
            self.kind = "altered" if tampered else "unknown"
            self.headline = "A Sanctum copy, but not one of your shares"
            if tampered:
                self.headline += ", altered since it was made"
            self.summary = (f"It carries share ID {other_vault_id}, which this vault has no record of: "
                            f"another Sanctum vault made it. {altered_sentence}")
        elif borrowed:
            self.kind = "none"
            self.headline = "Not one of your shares"
            self.summary = ("Its metadata carries the hidden IDs of one of your copies, but the picture is "
                            "not that copy: they were copied onto another image. Sanctum names no share "
                            "from metadata the picture does not agree with.")
        elif immunized:
            self.kind = "altered" if tampered else "intact"
            self.headline = ("An immunized photo, altered after it was immunized" if tampered
                             else "An immunized photo, untouched since it was immunized")
            self.summary = ("No Sanctum share ID was found in it, so whose copy it is cannot be told. "
                            f"{altered_sentence}")
        else:
            self.kind = "none"
            self.headline = "Not one of your shares"
            self.summary = ("No Sanctum share ID was found, neither in the metadata nor in a watermark. "
                            "Heavy resizing, cropping or re-compression can wipe a watermark, so this "
                            "is not proof that the picture is not one of your photos.")

        self.rows: list[tuple[str, str]] = []
        if share is not None:
            self.rows.append(("Shared with", share.recipient))
            self.rows.append(("Where", share.platform or "not recorded"))
            self.rows.append(("When", f"{short_date(share.created_at)}, {share.created_at:%H:%M}"))
            if share.photo_id is None:
                photo = "deleted from the vault since (the record of the share is kept)"
            elif result.photo is not None:
                photo = result.photo.filename
            else:
                photo = f"photo {share.photo_id}"
            self.rows.append(("Photo", photo))
            self.rows.append(("Copy as shared", f"{share_format(share)}, {share.width:,} × {share.height:,} pixels"))
        self.rows.append(("Altered", self.altered))
        if immunized:
            self.rows.append(("Immunization", f"{MODE_WORDS.get(res.mode, 'Immunized')}. {signer_words(verified)}"))
        elif share is not None and share.options.get("immunize"):
            self.rows.append(("Immunization", "The copy was immunized when shared, but its immunization "
                                              "data is gone: re-compressed by a platform, or changed too "
                                              "much to tell"))
        else:
            self.rows.append(("Immunization", "None"))
        if meta_ids is not None:
            signed = f", dated {meta_ids.signed_at[:10]}" if meta_ids.signed_at else ""
            self.rows.append(("Metadata", f"Share ID {meta_ids.share_id} found in "
                                          f"{_sources(report.metadata.sources)}{signed}"))
        else:
            self.rows.append(("Metadata", "No Sanctum IDs (platforms usually remove metadata)"))
        self.rows.append(("Watermark", self._watermark_words(report)))
        self.rows.append(("Signature", SIGNATURE_WORDS.get(report.signature, report.signature)))
        fragile = self._fragile_words(result)
        if fragile:
            self.rows.append(("Fragile mark", fragile))
        self.rows.append(("This file", f"{Path(result.path).name}, {result.file_format or 'image'}, "
                                       f"{report.width:,} × {report.height:,} pixels"))
        self.warning = ""
        if meta_ids is not None and report.watermark_share_id and meta_ids.share_id != report.watermark_share_id:
            self.warning = ("The metadata and the watermark name different shares: the metadata was "
                            "edited. The watermark is the one to trust.")

    @staticmethod
    def _altered_words(result: CheckResult) -> tuple[str, str]:
        """Was it changed, and where? (a short answer for the details, a sentence for the banner)"""
        report, share, res = result.report, result.share, result.verified.result
        if res.verdict is Verdict.TAMPERED:
            amount = f"{_fraction(res.tampered_fraction)} of the picture"
            sentence = f"{amount[0].upper()}{amount[1:]} was changed after it was immunized: marked in red."
            if res.recovered is not None:
                sentence += " “Before the change” shows what was there."
            else:
                sentence += " Too much was changed to rebuild what was there before."
            return f"Yes: {amount}, after it was immunized", sentence
        if res.verdict is Verdict.AUTHENTIC:
            if res.mode is Mode.ROBUST:
                return ("No: untouched since it was immunized",
                        "It is untouched since it was immunized (re-compression and resizing by a "
                        "platform are not changes).")
            return "No: untouched since it was immunized", "Not one pixel was changed since it was immunized."
        # Not immunized: the fragile mark, the signature or the size can tell that it changed,
        # never where.
        if report.fragile == "intact" or report.signature == "valid":
            return "No: this is exactly the copy as shared", "This is exactly the copy as shared."
        if share is not None and (share.width, share.height) != (report.width, report.height):
            return ("Resized or cropped since it was shared",
                    f"It was resized or cropped since ({share.width:,} × {share.height:,} pixels as shared, "
                    f"{report.width:,} × {report.height:,} now). Whether more was changed cannot be told: "
                    "only immunized copies show that.")
        if report.fragile == "altered" or report.signature == "pixels-changed":
            return ("Changed or re-compressed since it was shared",
                    "It was changed or re-compressed since it was shared. Where cannot be told: only "
                    "immunized copies show that.")
        if share is None and not report.share_id:
            return "Cannot tell (not immunized)", ""
        return ("Cannot tell (not immunized)",
                "Whether it was changed cannot be told: the copy was not immunized, and nothing in it "
                "records its pixels as shared.")

    @staticmethod
    def _watermark_words(report) -> str:
        if report.watermark_share_id and report.watermark_against_original:
            return (f"Share ID {report.watermark_share_id} recognised: the mark is too damaged to read "
                    "on its own, but Sanctum found this photo in your vault and read the mark against "
                    "the original")
        if report.watermark_share_id and report.watermark_matched:
            return (f"Share ID {report.watermark_share_id} recognised: the mark is too damaged to read "
                    "on its own, but it matches this share")
        if report.watermark_share_id:
            return f"Share ID {report.watermark_share_id} found{_confidence(report.watermark_confidence)}"
        return "None found"

    @staticmethod
    def _fragile_words(result: CheckResult) -> str:
        """The fragile mark, only where it means something: Sanctum writes one into PNG copies
        that are not immunized (immunization supersedes it, and says where)."""
        fragile = result.report.fragile
        if fragile in FRAGILE_WORDS:
            return FRAGILE_WORDS[fragile]
        if fragile != "absent" or result.verified.result.verdict is not Verdict.NOT_IMMUNIZED:
            return ""
        if result.file_format == "PNG":
            return "None in this PNG: it is not a PNG copy made by Sanctum, or it was re-saved"
        return "None (only PNG copies carry one)"

