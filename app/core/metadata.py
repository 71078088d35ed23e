"""IDs and signature in image metadata: EXIF UserComment, PNG iTXt, XMP; read them back.

Metadata is the cheapest carrier and the first one platforms strip, which is why a shared copy
also carries its share ID in the robust watermark. Writing it everywhere a format allows
(EXIF and XMP in JPEG and WebP; iTXt, eXIf and XMP in PNG) makes it survive tools that keep
one kind and drop another.

Shared copies keep harmless EXIF (camera model, date) but lose, by default, the GPS position
and anything that identifies the camera (serial numbers, owner name, maker notes), and always
lose the embedded EXIF thumbnail, which would be an unwatermarked copy of the photo.
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

log = logging.getLogger(__name__)

PNG_TEXT_KEY = "sanctum"
XMP_NAMESPACE = "urn:sanctum:provenance:1"
_XMP_PNG_KEY = "XML:com.adobe.xmp"

# EXIF tags that identify a camera or its owner (Exif IFD), dropped from shared copies.
_IDENTIFYING_EXIF_TAGS = (
    piexif.ExifIFD.BodySerialNumber,
    piexif.ExifIFD.LensSerialNumber,
    piexif.ExifIFD.CameraOwnerName,
    piexif.ExifIFD.ImageUniqueID,
    piexif.ExifIFD.MakerNote,  # vendor blobs routinely hold serial numbers
)
_IDENTIFYING_0TH_TAGS = (piexif.ImageIFD.CameraSerialNumber, piexif.ImageIFD.HostComputer)


@dataclass(frozen=True)
class EmbeddedIds:
    """What a protected copy says about itself."""

    share_id: str
    image_uid: str
    pixel_sha256: str
    signed_at: str
    signature: str  # Ed25519, base64
    mac: str  # HMAC-SHA256, hex

    def to_json(self) -> str:
        return json.dumps({"sanctum": 1, **asdict(self)}, sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> EmbeddedIds | None:
        try:
            data = json.loads(text)
            if not isinstance(data, dict) or data.get("sanctum") != 1:
                return None
            return cls(**{name: str(data[name]) for name in cls.__dataclass_fields__})
        except (ValueError, KeyError, TypeError):
            return None


@dataclass(frozen=True)
class FoundIds:
    ids: EmbeddedIds
    sources: tuple[str, ...]  # where they were found: "exif", "png-text", "xmp"


# --- writing --------------------------------------------------------------------------------


def shared_exif(original: bytes | None, ids: EmbeddedIds, *, strip_location: bool = True) -> bytes:
    """EXIF for a shared copy: the original's, cleaned, plus the IDs in UserComment."""
    exif = _load_exif(original)
    exif["1st"] = {}
    exif["thumbnail"] = None
    if strip_location:
        exif["GPS"] = {}
    for tag in _IDENTIFYING_EXIF_TAGS:
        exif["Exif"].pop(tag, None)
    for tag in _IDENTIFYING_0TH_TAGS:
        exif["0th"].pop(tag, None)
    exif["0th"][piexif.ImageIFD.Orientation] = 1  # pixels are written upright
    exif["Exif"][piexif.ExifIFD.UserComment] = piexif.helper.UserComment.dump(ids.to_json(), encoding="ascii")
    try:
        return piexif.dump(exif)
    except Exception:  # a malformed original tag must not stop the share: start clean
        log.info("original EXIF could not be re-written; writing a fresh EXIF block")
        return piexif.dump({"0th": {piexif.ImageIFD.Orientation: 1},
                            "Exif": {piexif.ExifIFD.UserComment: exif["Exif"][piexif.ExifIFD.UserComment]}})


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
    fields = "".join(f"\n   sanctum:{name}={quoteattr(value)}" for name, value in asdict(ids).items())
    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/">\n'
        ' <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">\n'
        f'  <rdf:Description rdf:about="" xmlns:sanctum="{XMP_NAMESPACE}"{fields}/>\n'
        " </rdf:RDF>\n"
        "</x:xmpmeta>\n"
        '<?xpacket end="w"?>'
    ).encode("utf-8")


def encode_with_ids(
    image: Image.Image, fmt: str, ids: EmbeddedIds | None, exif: bytes | None, quality: int = 92
) -> bytes:
    """Encode pixels as JPEG, PNG or WEBP with the IDs in every metadata slot the format has."""
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
