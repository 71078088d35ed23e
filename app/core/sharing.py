"""Protected copies and their inspection: pure functions from bytes to bytes and reports.

A protected copy of a photo carries its share ID three ways and proves where it came from:

1. metadata: share ID, pixel hash, time, Ed25519 signature and HMAC, in EXIF
   UserComment and XMP (and PNG iTXt) — cheap to read, first to be stripped by platforms.
   Nothing else: no value of the original's metadata, nothing the same in two shares.
   Metadata alone never names a share: its claim must agree with the pixels it sits on;
2. the robust invisible watermark with the share ID — survives re-compression, resizing,
   crops, small rotations, mirroring, colour changes and screenshots;
3. for PNG copies, the fragile LSB watermark — proves the file is the exact copy written.

The vault (`Vault.share`, `Vault.inspect`) supplies keys and records; nothing here touches the
database or the disk.
"""

from __future__ import annotations

import functools
import io
import logging
import threading
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
from PIL import Image, ImageCms

from . import fingerprint, imaging, metadata
from .errors import Cancelled, UnsupportedImage
from .fingerprint import PerceptualFingerprint, ProvenanceClaim
from .progress import Progress, raise_if_cancelled
from .watermark import FragileState, check_fragile, embed_fragile, embed_watermark, read_watermark
from .watermark.errors import WatermarkError

log = logging.getLogger(__name__)

OUTPUT_FORMATS = {".jpg": "JPEG", ".jpeg": "JPEG", ".png": "PNG", ".webp": "WEBP"}


@dataclass(frozen=True)
class ShareKeys:
    """Vault keys used for sharing (derived from the master secret by the vault)."""

    watermark: bytes
    fragile: bytes
    mac: bytes
    signing_private: bytes

    @property
    def signing_public(self) -> bytes:
        return fingerprint.public_key_of(self.signing_private)


@dataclass(frozen=True)
class ShareOptions:
    recipient: str
    platform: str | None = None
    output_format: str = "JPEG"  # "JPEG", "PNG" or "WEBP"
    quality: int = 92
    strip_location: bool = True
    keep_capture_date: bool = False  # the original's DateTimeOriginal (and its time zone)
    max_long_side: int | None = None  # shrink before marking, e.g. for a messenger
    immunize: str | None = None  # "lossless" (PNG only) or "robust"; see app/core/immunizer

    def to_json(self) -> dict:
        return {
            "immunize": self.immunize,
            "output_format": self.output_format,
            "quality": self.quality,
            "strip_location": self.strip_location,
            "keep_capture_date": self.keep_capture_date,
            "max_long_side": self.max_long_side,
        }


@dataclass(frozen=True)
class ProtectedCopy:
    data: bytes
    share_id: str
    pixel_sha256: str
    signed_at: datetime
    fingerprint: PerceptualFingerprint
    width: int
    height: int
    embedded: tuple[str, ...]  # what the copy carries, in words
    removed: tuple[str, ...]  # what was taken out, in words


def describe_share(options: ShareOptions) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """What a share with these options embeds and removes, in words for the user."""
    embedded = [
        "a share ID, linked in your vault to this recipient, in the file's metadata (EXIF and XMP)",
        "the same ID in an invisible watermark that survives re-compression, resizing and cropping",
        "a signature proving the copy came from your vault (checkable with your public key)",
    ]
    if options.immunize == "lossless":
        embedded.append("immunization: anyone with Sanctum can see whether the copy was altered, where, "
                        "and get back what was there, bit for bit where untouched")
    elif options.immunize == "robust":
        embedded.append("immunization that survives social networks: shows whether the copy was altered, "
                        "where, and approximately what was there")
    elif options.output_format == "PNG":
        embedded.append("a fragile mark that shows whether this exact file was changed")
    removed = ["every other detail the original file carried: names of the owner, author or "
               "copyright holder, descriptions, camera make, model and serial numbers, software, "
               "comments and colour profile names (EXIF, XMP, IPTC, PNG text)",
               "the embedded preview thumbnail"]
    if not options.keep_capture_date:
        removed.insert(0, "the date and time the photo was taken")
    if options.strip_location:
        removed.insert(0, "GPS location")
    return tuple(embedded), tuple(removed)


def _share_image(original: bytes, max_long_side: int | None, *, to_srgb: bool) -> Image.Image:
    image = imaging.decode(original).oriented
    if to_srgb:
        image = _in_srgb(image, original)
    if max_long_side and max(image.size) > max_long_side:
        image = image.copy()
        image.thumbnail((max_long_side, max_long_side), Image.Resampling.LANCZOS)
    return image


def _in_srgb(image: Image.Image, original: bytes) -> Image.Image:
    """The pixels in sRGB. A copy carries no colour profile (a profile's description and
    device fields can name a person or a phone, and the metadata allowlist has none), and
    viewers read untagged pixels as sRGB: pixels described by another profile (Display P3,
    Adobe RGB) are converted so the copy shows the photo's colours. Colours outside sRGB are
    mapped into it (perceptual intent)."""
    with Image.open(io.BytesIO(original)) as opened:
        icc = opened.info.get("icc_profile")
    if not icc:
        return image
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        if source.profile.xcolor_space.strip() != "RGB":
            return image  # a grey or CMYK profile does not describe these RGB pixels
        return ImageCms.profileToProfile(image, source, ImageCms.createProfile("sRGB"),
                                         renderingIntent=ImageCms.Intent.PERCEPTUAL, outputMode=image.mode)
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        log.info("the photo's colour profile could not be applied; its pixels are used as they are")
        return image


def share_source_pixels(original: bytes, max_long_side: int | None, *, to_srgb: bool = True) -> np.ndarray:
    """The RGB pixels a share is made from, before its mark: what `make_protected_copy` marks
    for these options. The vault rebuilds them to read a damaged copy's mark against them
    (`watermark.informed`). Shares made before copies were converted to sRGB (their record
    has no "srgb") were made from the pixels as decoded: `to_srgb=False`."""
    return np.asarray(_share_image(original, max_long_side, to_srgb=to_srgb).convert("RGB"))


def make_protected_copy(
    original: bytes,
    *,
    share_id: int,
    keys: ShareKeys,
    options: ShareOptions,
    now: datetime | None = None,
    progress: Progress | None = None,  # the immunizer's, when it immunizes
    cancel: threading.Event | None = None,
) -> ProtectedCopy:
    image = _share_image(original, options.max_long_side, to_srgb=True)
    alpha = image.getchannel("A") if image.mode == "RGBA" and options.output_format != "JPEG" else None
    rgb = np.asarray(image.convert("RGB"))
    try:
        marked = embed_watermark(rgb, share_id, keys.watermark)
    except WatermarkError as exc:
        raise UnsupportedImage(f"this photo cannot carry a watermark: {exc}") from None
    if options.immunize:
        # Immunization supersedes the fragile mark: it also detects changes, and says where.
        # It goes last on the pixels, so it covers the watermark too.
        if options.immunize == "lossless" and options.output_format != "PNG":
            raise UnsupportedImage("a losslessly immunized copy must be saved as PNG "
                                   "(JPEG and WebP would change its pixels)")
        from app.core.immunizer import immunize
        from app.core.immunizer.api import ImmunizeCancelled

        try:  # seconds to a minute: `cancel` is checked between its steps
            marked = immunize(marked, options.immunize, signing_private=keys.signing_private,
                              progress=progress, cancel=cancel)
        except ImmunizeCancelled:
            raise Cancelled() from None
    elif options.output_format == "PNG":
        marked = embed_fragile(marked, keys.fragile, share_id.to_bytes(8, "big"))

    # The signature binds the pixels a recipient will decode, so lossy formats are encoded
    # once to learn them. Encoding is deterministic: the second encode, with metadata in
    # separate segments, decodes to the same pixels (tests check it).
    marked_image = Image.fromarray(marked)
    if alpha is not None:
        marked_image.putalpha(alpha)
    if options.output_format == "PNG":
        final_rgb = marked
    else:
        probe = metadata.encode_with_ids(marked_image, options.output_format, None, None, options.quality)
        final_rgb = np.asarray(Image.open(io.BytesIO(probe)).convert("RGB"))

    signed_at = (now or datetime.now(UTC)).replace(microsecond=0)
    share_hex = fingerprint.format_share_id(share_id)
    # Only values of this share: `image_uid` (the same in every share of the photo) stays in the
    # vault's share record and out of the copy.
    claim = ProvenanceClaim(share_hex, fingerprint.pixel_sha256(final_rgb), signed_at.isoformat())
    ids = metadata.EmbeddedIds(
        share_id=share_hex,
        pixel_sha256=claim.pixel_sha256,
        signed_at=claim.signed_at,
        signature=fingerprint.sign_claim(keys.signing_private, claim),
        mac=fingerprint.mac_claim(keys.mac, claim),
    )
    with Image.open(io.BytesIO(original)) as opened:
        original_exif = opened.info.get("exif")
    exif = metadata.shared_exif(original_exif, ids, keep_location=not options.strip_location,
                                keep_capture_date=options.keep_capture_date)
    data = metadata.encode_with_ids(marked_image, options.output_format, ids, exif, options.quality)
    embedded, removed = describe_share(options)
    raise_if_cancelled(cancel)  # the last moment: nothing recorded, nothing written yet
    return ProtectedCopy(
        data=data,
        share_id=share_hex,
        pixel_sha256=claim.pixel_sha256,
        signed_at=signed_at,
        fingerprint=fingerprint.perceptual_fingerprint(final_rgb),
        width=marked_image.width,
        height=marked_image.height,
        embedded=embedded,
        removed=removed,
    )


# --- inspection -------------------------------------------------------------------------------


@dataclass(frozen=True)
class InspectReport:
    metadata: metadata.FoundIds | None
    watermark_share_id: str | None
    watermark_confidence: float | None
    # True: the mark was too damaged to decode alone and matched one of the vault's shares.
    watermark_matched: bool
    # "valid": genuine, about exactly these pixels; "pixels-changed": genuine, and these pixels
    # are an edit of the shared copy (only the vault can tell: its watermark, its photo or the
    # share's PDQ agree); "other-image": genuine, but it does not vouch for these pixels (another
    # picture wears the metadata, or, checked without the vault, the copy was changed);
    # "invalid", "absent", "no-key".
    signature: str
    mac: str  # same words; only the vault owner can check it
    fragile: str  # "intact", "altered", "absent", "not-checked"
    pixel_sha256: str
    width: int
    height: int
    # True: the mark was read against the pixels the vault made its shares from (the copy was
    # too damaged to read alone; see watermark.informed).
    watermark_against_original: bool = False

    @property
    def metadata_vouched(self) -> bool:
        """Whether the metadata's claim is genuine and about these pixels or an edit of them.
        Metadata alone never names a share: copied onto other pixels it proves nothing."""
        if self.metadata is None:
            return False
        return self.mac in CLAIM_AGREES or (self.mac == "no-key" and self.signature in CLAIM_AGREES)

    @property
    def share_id(self) -> str | None:
        """The best evidence of which share this is: the watermark, else metadata that the
        pixels agree with."""
        if self.watermark_share_id:
            return self.watermark_share_id
        return self.metadata.ids.share_id if self.metadata_vouched else None

    def to_json(self) -> dict:
        ids = self.metadata.ids if self.metadata else None
        return {
            "share_id": self.share_id,
            "metadata": None if ids is None else {
                "share_id": ids.share_id,
                # null for copies made since claims stopped carrying it (see README)
                "image_uid": ids.image_uid,
                "signed_at": ids.signed_at,
                "found_in": list(self.metadata.sources),
            },
            "watermark": {"share_id": self.watermark_share_id, "confidence": self.watermark_confidence,
                          "matched_known_share": self.watermark_matched,
                          "read_against_original": self.watermark_against_original},
            "signature": self.signature,
            "hmac": self.mac,
            "fragile": self.fragile,
            "pixel_sha256": self.pixel_sha256,
            "width": self.width,
            "height": self.height,
        }


def inspect_image(data: bytes, *, keys: ShareKeys | None = None, public_key: bytes | None = None,
                  known_share_ids: Collection[str] = ()) -> InspectReport:
    """Read everything a copy carries. Without vault keys only metadata and a signature (with
    `public_key`) can be checked; the watermark and fragile mark are keyed. `known_share_ids`
    (the vault's share records) lets a watermark too damaged to decode still be matched."""
    decoded = imaging.decode(data)
    rgb = np.asarray(decoded.oriented.convert("RGB"))
    with Image.open(io.BytesIO(data)) as opened:
        found = metadata.read_ids(opened)
    pixel_hash = fingerprint.pixel_sha256(rgb)

    watermark_id, confidence, matched, fragile = None, None, False, "not-checked"
    if keys is not None:
        known = [fingerprint.parse_share_id(share_id) for share_id in known_share_ids]
        result = read_watermark(rgb, keys.watermark, known)
        if result is not None:
            watermark_id, confidence = fingerprint.format_share_id(result.payload), round(result.confidence, 3)
            matched = result.matched_known_id
        fragile_result = check_fragile(rgb, keys.fragile)
        fragile = {FragileState.INTACT: "intact", FragileState.ALTERED: "altered"}.get(fragile_result.state, "absent")

    signature, mac = "absent", "absent"
    if found:
        ids = found.ids
        claim = ids.claim()
        agreement = functools.cache(lambda: _pixel_agreement(ids, pixel_hash, watermark_id))
        verifier = public_key or (keys.signing_public if keys else None)
        signature = _claim_state(
            verifier is not None and fingerprint.verify_claim(verifier, claim, ids.signature),
            verifier is not None, agreement,
        )
        mac = _claim_state(keys is not None and fingerprint.check_mac(keys.mac, claim, ids.mac),
                           keys is not None, agreement)
    return InspectReport(found, watermark_id, confidence, matched, signature, mac, fragile, pixel_hash,
                         rgb.shape[1], rgb.shape[0])


CLAIM_AGREES = ("valid", "pixels-changed")


def _pixel_agreement(ids: metadata.EmbeddedIds, pixel_hash: str, watermark_id: str | None) -> str:
    """How a genuine claim relates to the pixels it sits on: exactly these ("valid"), an edit
    of the shared copy ("pixels-changed": the vault's watermark reads the same share; the
    vault's `inspect` also asks its photos), or nothing it vouches for ("other-image"). The
    claim carries no perceptual hash to tell more without the vault: that hash would be the
    same in every share of a photo."""
    if ids.pixel_sha256 == pixel_hash:
        return "valid"
    if watermark_id is not None and watermark_id == ids.share_id:
        return "pixels-changed"
    return "other-image"


def _claim_state(genuine: bool, checkable: bool, agreement: Callable[[], str]) -> str:
    if not checkable:
        return "no-key"
    if not genuine:
        return "invalid"
    return agreement()
