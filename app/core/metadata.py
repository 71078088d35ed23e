"""IDs and signature in image metadata: EXIF UserComment, PNG iTXt, XMP; read them back.

Metadata is the cheapest carrier and the first one platforms strip, which is why a shared copy
also carries its share ID in the robust watermark. Writing it everywhere a format allows
(EXIF and XMP in JPEG and WebP; iTXt, eXIf and XMP in PNG) makes it survive tools that keep
one kind and drop another.

A shared copy's metadata is built from an allowlist, never by deleting known-bad tags from the
original's: Sanctum's own IDs, an upright orientation (the pixels are written upright), and,
only when the user asks, the capture date and the GPS position. Nothing else of the original
reaches the copy: no names, copyright, descriptions, camera make, model or serial numbers,
software, maker notes, thumbnails, XMP, IPTC, ICC profile, PNG text or JPEG comments. A tag
nobody thought of is gone by construction.
"""

from __future__ import annotations

import io
import json
import logging
import re
from dataclasses import asdict, dataclass
from xml.sax.saxutils import quoteattr

import piexif
import piexif.helper
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from .fingerprint import ProvenanceClaim
from .imaging import parse_exif_datetime

log = logging.getLogger(__name__)

PNG_TEXT_KEY = "sanctum"
XMP_NAMESPACE = "urn:sanctum:provenance:1"
_XMP_PNG_KEY = "XML:com.adobe.xmp"

# What a copy may keep of the original's EXIF when the user asks for it, and nothing more
# (the capture date: DateTimeOriginal and OffsetTimeOriginal, see _capture_date).
_LOCATION_TAGS = (
    piexif.GPSIFD.GPSVersionID,
    piexif.GPSIFD.GPSLatitudeRef, piexif.GPSIFD.GPSLatitude,
    piexif.GPSIFD.GPSLongitudeRef, piexif.GPSIFD.GPSLongitude,
    piexif.GPSIFD.GPSAltitudeRef, piexif.GPSIFD.GPSAltitude,
)
_TIME_OFFSET = re.compile(rb"^[+-]\d\d:\d\d\x00?$")


@dataclass(frozen=True)
class EmbeddedIds:
    """What a protected copy says about itself: values of this one share only."""

    share_id: str
    pixel_sha256: str
    signed_at: str
    signature: str  # Ed25519, base64
    mac: str  # HMAC-SHA256, hex
    image_uid: str | None = None  # only in copies made before version 2 of the claim

    def claim(self) -> ProvenanceClaim:
        return ProvenanceClaim(self.share_id, self.pixel_sha256, self.signed_at, image_uid=self.image_uid)

    def fields(self) -> dict[str, str]:
        return {name: value for name, value in asdict(self).items() if value is not None}

    def to_json(self) -> str:
        return json.dumps({"sanctum": 1, **self.fields()}, sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> EmbeddedIds | None:
        try:
            data = json.loads(text)
            if not isinstance(data, dict) or data.get("sanctum") != 1:
                return None
            return cls(**{name: str(data[name]) for name, spec in cls.__dataclass_fields__.items()
                          if name in data or spec.default is not None})
        except (ValueError, KeyError, TypeError):
            return None


@dataclass(frozen=True)
class FoundIds:
    ids: EmbeddedIds
    sources: tuple[str, ...]  # where they were found: "exif", "png-text", "xmp"


# --- writing --------------------------------------------------------------------------------


def shared_exif(original: bytes | None, ids: EmbeddedIds, *, keep_location: bool = False,
                keep_capture_date: bool = False) -> bytes:
    """EXIF for a shared copy, built from an allowlist: the IDs in UserComment, Orientation 1,
    and the original's capture date and GPS position only when asked for."""
    comment = piexif.helper.UserComment.dump(ids.to_json(), encoding="ascii")
    exif = {"0th": {piexif.ImageIFD.Orientation: 1}, "Exif": {piexif.ExifIFD.UserComment: comment},
            "GPS": {}, "Interop": {}, "1st": {}, "thumbnail": None}
    if keep_location or keep_capture_date:
        source = _load_exif(original)
        if keep_capture_date:
            exif["Exif"].update(_capture_date(source["Exif"]))
        if keep_location:
            exif["GPS"] = {tag: source["GPS"][tag] for tag in _LOCATION_TAGS if tag in source["GPS"]}
    try:
        return piexif.dump(exif)
    except Exception:  # a malformed kept value must not stop the share: keep only the IDs
        log.info("the original's date or position could not be re-written; leaving them out")
        return piexif.dump({"0th": {piexif.ImageIFD.Orientation: 1},
                            "Exif": {piexif.ExifIFD.UserComment: comment}})


def _capture_date(exif_ifd: dict) -> dict:
    """DateTimeOriginal (and its time zone) when they hold a date, not just any text."""
    kept = {}
    taken = exif_ifd.get(piexif.ExifIFD.DateTimeOriginal)
    if isinstance(taken, bytes) and parse_exif_datetime(taken.decode("ascii", "replace")):
        kept[piexif.ExifIFD.DateTimeOriginal] = taken
        offset = exif_ifd.get(piexif.ExifIFD.OffsetTimeOriginal)
        if isinstance(offset, bytes) and _TIME_OFFSET.match(offset):
            kept[piexif.ExifIFD.OffsetTimeOriginal] = offset
    return kept


def _load_exif(original: bytes | None) -> dict:
    empty = {"0th": {}, "Exif": {}, "GPS": {}, "Interop": {}, "1st": {}, "thumbnail": None}
    if not original:
        return empty
    try:
        loaded = piexif.load(original)
    except Exception:  # broken or exotic EXIF: nothing worth keeping
        return empty
    for key, value in empty.items():
        loaded.setdefault(key, value)
    return loaded


def xmp_packet(ids: EmbeddedIds) -> bytes:
    fields = "".join(f"\n   sanctum:{name}={quoteattr(value)}" for name, value in ids.fields().items())
    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/">\n'
        ' <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">\n'
        f'  <rdf:Description rdf:about="" xmlns:sanctum="{XMP_NAMESPACE}"{fields}/>\n'
        " </rdf:RDF>\n"
        "</x:xmpmeta>\n"
        '<?xpacket end="w"?>'
    ).encode()


def encode_with_ids(
    image: Image.Image, fmt: str, ids: EmbeddedIds | None, exif: bytes | None, quality: int = 92
) -> bytes:
    """Encode pixels as JPEG, PNG or WEBP with the IDs in every metadata slot the format has,
    and no other metadata: Pillow's encoders fall back to `image.info` for an ICC profile, XMP,
    EXIF or a comment not passed in, so an image that carries any is written without them."""
    if image.info:
        image = image.copy()
        image.info = {}
    out = io.BytesIO()
    options: dict = {}
    if exif:
        options["exif"] = exif
    if fmt == "PNG":
        info = PngInfo()
        if ids:
            info.add_itxt(PNG_TEXT_KEY, ids.to_json())
            info.add_itxt(_XMP_PNG_KEY, xmp_packet(ids).decode("utf-8"))
        image.save(out, "PNG", pnginfo=info, compress_level=6, **options)
    elif fmt in ("JPEG", "WEBP"):
        if ids:
            options["xmp"] = xmp_packet(ids)
        if fmt == "JPEG" and image.mode == "RGBA":
            image = image.convert("RGB")
        image.save(out, fmt, quality=quality, **options)
    else:
        raise ValueError(f"unsupported output format {fmt}")
    return out.getvalue()


# --- reading --------------------------------------------------------------------------------

_XMP_FIELD = re.compile(rb'sanctum:(\w+)="([^"]*)"')


def read_ids(image: Image.Image) -> FoundIds | None:
    """IDs from any metadata slot of an opened image; None when there are none."""
    found: dict[str, EmbeddedIds] = {}
    exif_ids = _ids_from_exif(image)
    if exif_ids:
        found["exif"] = exif_ids
    text = getattr(image, "text", None) if image.format == "PNG" else None
    if text and PNG_TEXT_KEY in text:
        png_ids = EmbeddedIds.from_json(text[PNG_TEXT_KEY])
        if png_ids:
            found["png-text"] = png_ids
    xmp = image.info.get("xmp") or (text or {}).get(_XMP_PNG_KEY)
    if xmp:
        xmp_ids = _ids_from_xmp(xmp.encode() if isinstance(xmp, str) else xmp)
        if xmp_ids:
            found["xmp"] = xmp_ids
    if not found:
        return None
    first = next(iter(found.values()))
    return FoundIds(first, tuple(found))


def _ids_from_exif(image: Image.Image) -> EmbeddedIds | None:
    try:
        comment = image.getexif().get_ifd(0x8769).get(piexif.ExifIFD.UserComment)
        if not comment:
            return None
        text = piexif.helper.UserComment.load(comment if isinstance(comment, bytes) else comment.encode())
    except Exception:
        return None
    return EmbeddedIds.from_json(text)


def _ids_from_xmp(xmp: bytes) -> EmbeddedIds | None:
    from xml.sax.saxutils import unescape

    fields = {name.decode(): unescape(value.decode("utf-8", "replace"), {"&quot;": '"'})
              for name, value in _XMP_FIELD.findall(xmp)}
    if not fields:
        return None
    return EmbeddedIds.from_json(json.dumps({"sanctum": 1, **fields}))
