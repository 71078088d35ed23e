"""What a protected copy gives away, and what its metadata proves.

A copy's metadata is built from an allowlist (Sanctum's own IDs, an upright orientation, and the
capture date or place only when the user asks), so nothing of the original's EXIF, XMP, IPTC,
ICC description, PNG text or JPEG comment survives; no value in it is the same in two shares of
one photo; and metadata copied onto other pixels names no share.
"""

from __future__ import annotations

import io
import struct
from pathlib import Path

import piexif
import pytest
from PIL import Image, ImageCms
from PIL.PngImagePlugin import PngInfo

from app.core import metadata
from app.core.sharing import ShareOptions, inspect_image

from .conftest import PHOTOS, encode

# Strings that say who took the photo, with what and where; none may reach a shared copy.
ARTIST = "Jane Identity"
COPYRIGHT = "(c) Jane Identity Photography"
DESCRIPTION = "Janes flat, 12 Elm Road"
XP_AUTHOR = "JaneXPAuthor"
MAKE, MODEL, SOFTWARE = "TellingMake", "TellingModel X9", "JanesEditor 4.2"
OWNER, SERIAL = "JaneOwnerName", "SERIAL-998877"
MAKER_NOTE = b"MAKERNOTE-SN-445566"
TAKEN = "2021:06:15 21:04:33"
XMP_CREATOR = "JaneXmpCreator"
IPTC_BYLINE = "JaneIptcByline"
COMMENT = "JaneJpegComment"
ICC_DESCRIPTION = "JaneDoe-Phone"  # as long as LittleCMS's "sRGB built-in", to swap it in place
PNG_AUTHOR = "JanePngAuthor"
PNG_ITXT = "JanePngItxtTitle"

TELLING_ASCII = [ARTIST, COPYRIGHT, DESCRIPTION, MAKE, MODEL, SOFTWARE, OWNER, SERIAL, MAKER_NOTE.decode(),
                 TAKEN, "2021:06:15", XMP_CREATOR, IPTC_BYLINE, COMMENT, PNG_AUTHOR, PNG_ITXT]
TELLING_UTF16 = [XP_AUTHOR, ICC_DESCRIPTION]


def _telling_exif() -> bytes:
    thumb = encode(Image.new("RGB", (32, 24), (200, 10, 10)), "JPEG")
    return piexif.dump({
        "0th": {
            piexif.ImageIFD.Artist: ARTIST.encode(),
            piexif.ImageIFD.Copyright: COPYRIGHT.encode(),
            piexif.ImageIFD.ImageDescription: DESCRIPTION.encode(),
            piexif.ImageIFD.XPAuthor: tuple((XP_AUTHOR + "\0").encode("utf-16-le")),
            piexif.ImageIFD.Make: MAKE.encode(),
            piexif.ImageIFD.Model: MODEL.encode(),
            piexif.ImageIFD.Software: SOFTWARE.encode(),
            piexif.ImageIFD.DateTime: TAKEN.encode(),
            piexif.ImageIFD.Orientation: 1,
        },
        "Exif": {
            piexif.ExifIFD.DateTimeOriginal: TAKEN.encode(),
            piexif.ExifIFD.DateTimeDigitized: TAKEN.encode(),
            piexif.ExifIFD.OffsetTimeOriginal: b"+01:00",
            piexif.ExifIFD.CameraOwnerName: OWNER.encode(),
            piexif.ExifIFD.BodySerialNumber: SERIAL.encode(),
            piexif.ExifIFD.MakerNote: MAKER_NOTE,
        },
        "GPS": {
            piexif.GPSIFD.GPSLatitudeRef: b"N",
            piexif.GPSIFD.GPSLatitude: ((52, 1), (22, 1), (1234, 100)),
            piexif.GPSIFD.GPSLongitudeRef: b"E",
            piexif.GPSIFD.GPSLongitude: ((4, 1), (53, 1), (4321, 100)),
        },
        "1st": {piexif.ImageIFD.Make: MAKE.encode()},
        "thumbnail": thumb,
    })


def _telling_xmp() -> bytes:
    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/">'
        f'<dc:creator><rdf:Seq><rdf:li>{XMP_CREATOR}</rdf:li></rdf:Seq></dc:creator>'
        '</rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="w"?>'
    ).encode()


def _telling_icc() -> bytes:
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    builtin = "sRGB built-in".encode("utf-16-be")
    assert builtin in profile
    return profile.replace(builtin, ICC_DESCRIPTION.encode("utf-16-be"))


def _s15(v: float) -> bytes:
    return struct.pack(">i", round(v * 65536))


def _linear_rgb_icc(description: str) -> bytes:
    """An ICC v2 profile of linear-light RGB with sRGB's primaries (standing in for Display P3 or
    Adobe RGB: colours change visibly when it is ignored), whose description and device fields
    name someone. Written by hand so the test needs no profile file from the machine."""

    def xyz(x: float, y: float, z: float) -> bytes:
        return b"XYZ \0\0\0\0" + _s15(x) + _s15(y) + _s15(z)

    desc_ascii = description.encode() + b"\0"
    tags = [
        (b"desc", b"desc\0\0\0\0" + struct.pack(">I", len(desc_ascii)) + desc_ascii
                  + b"\0" * (8 + 3 + 67)),  # no Unicode or ScriptCode description
        (b"cprt", b"text\0\0\0\0" + f"Copyright {description}".encode() + b"\0"),
        (b"wtpt", xyz(0.9642, 1.0, 0.8249)),
        (b"rXYZ", xyz(0.4360747, 0.2225045, 0.0139322)),
        (b"gXYZ", xyz(0.3850649, 0.7168786, 0.0971045)),
        (b"bXYZ", xyz(0.1430804, 0.0606169, 0.7141733)),
        (b"rTRC", b"curv\0\0\0\0" + struct.pack(">IH", 1, 0x0100) + b"\0\0"),
    ]
    tags += [(b"gTRC", tags[-1][1]), (b"bTRC", tags[-1][1])]
    table_size = 4 + 12 * len(tags)
    offset = 128 + table_size
    table, body = struct.pack(">I", len(tags)), b""
    for sig, data in tags:
        table += sig + struct.pack(">II", offset + len(body), len(data))
        body += data + b"\0" * (-len(data) % 4)
    size = 128 + table_size + len(body)
    header = (struct.pack(">I", size) + b"\0\0\0\0" + struct.pack(">I", 0x02100000) + b"mntrRGB XYZ "
              + b"\0" * 12 + b"acsp" + b"\0" * 4 + b"\0" * 4 + b"JANE" + b"PHN1" + b"\0" * 8 + b"\0" * 4
              + _s15(0.9642) + _s15(1.0) + _s15(0.8249) + b"JANE" + b"\0" * 44)
    assert len(header) == 128
    return header + table + body


def _with_iptc(jpeg: bytes) -> bytes:
    """The JPEG with an APP13 Photoshop/IPTC segment holding a by-line, right after SOI."""
    byline = IPTC_BYLINE.encode()
    iim = b"\x1c\x02\x50" + struct.pack(">H", len(byline)) + byline
    resource = b"8BIM" + struct.pack(">H", 0x0404) + b"\x00\x00" + struct.pack(">I", len(iim)) + iim
    payload = b"Photoshop 3.0\x00" + resource
    segment = b"\xff\xed" + struct.pack(">H", len(payload) + 2) + payload
    return jpeg[:2] + segment + jpeg[2:]


@pytest.fixture
def telling_jpeg(tmp_path) -> Path:
    image = Image.open(PHOTOS / "horses.jpg").convert("RGB")
    data = encode(image, "JPEG", quality=90, exif=_telling_exif(), xmp=_telling_xmp(), comment=COMMENT,
                  icc_profile=_telling_icc())
    path = tmp_path / "telling.jpg"
    path.write_bytes(_with_iptc(data))
    opened = Image.open(path)  # the source really carries all of it
    assert opened.info["comment"] == COMMENT.encode() and "icc_profile" in opened.info
    assert XMP_CREATOR.encode() in opened.info["xmp"] and IPTC_BYLINE.encode() in path.read_bytes()
    return path


@pytest.fixture
def telling_png(tmp_path) -> Path:
    info = PngInfo()
    info.add_text("Author", PNG_AUTHOR)
    info.add_itxt("Title", PNG_ITXT)
    info.add_itxt("XML:com.adobe.xmp", _telling_xmp().decode())
    path = tmp_path / "telling.png"
    path.write_bytes(encode(Image.open(PHOTOS / "kodim23.png").convert("RGB"), "PNG", pnginfo=info,
                            exif=_telling_exif(), icc_profile=_telling_icc()))
    return path


def _assert_tells_nothing(data: bytes, *, date: bool = False, location: bool = False) -> None:
    for text in TELLING_ASCII:
        if date and text.startswith("2021:06:15"):
            continue
        assert text.encode() not in data, text
    for text in TELLING_UTF16:
        assert text.encode("utf-16-le") not in data and text.encode("utf-16-be") not in data, text
    opened = Image.open(io.BytesIO(data))
    assert "icc_profile" not in opened.info or not opened.info["icc_profile"] or \
        ICC_DESCRIPTION.encode("utf-16-be") not in opened.info["icc_profile"]
    assert "comment" not in opened.info
    if opened.format == "PNG":
        assert set(opened.text) <= {metadata.PNG_TEXT_KEY, "XML:com.adobe.xmp"}
    xmp = opened.info.get("xmp") or getattr(opened, "text", {}).get("XML:com.adobe.xmp", "")
    assert "purl.org/dc" not in (xmp.decode() if isinstance(xmp, bytes) else xmp)
    exif = piexif.load(opened.info["exif"])
    assert set(exif["0th"]) <= {piexif.ImageIFD.Orientation, piexif.ImageIFD.ExifTag, piexif.ImageIFD.GPSTag}
    kept_exif = {piexif.ExifIFD.UserComment}
    if date:
        kept_exif |= {piexif.ExifIFD.DateTimeOriginal, piexif.ExifIFD.OffsetTimeOriginal}
    assert set(exif["Exif"]) <= kept_exif
    assert exif["1st"] == {} and exif["thumbnail"] is None and exif["Interop"] == {}
    if location:
        assert exif["GPS"][piexif.GPSIFD.GPSLatitudeRef] == b"N"
    else:
        assert exif["GPS"] == {}
    if date:
        assert exif["Exif"][piexif.ExifIFD.DateTimeOriginal] == TAKEN.encode()
    else:
        assert piexif.ExifIFD.DateTimeOriginal not in exif["Exif"]


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_a_copy_carries_none_of_the_originals_metadata(vault, telling_jpeg, tmp_path, fmt):
    photo_id = vault.import_paths([telling_jpeg]).imported[0]
    outcome = vault.share(photo_id, tmp_path / f"copy.{fmt.lower()}", ShareOptions(recipient="A", output_format=fmt))
    data = Path(outcome.out).read_bytes()
    _assert_tells_nothing(data)
    assert any("name" in line for line in outcome.removed)  # what the dialog says now holds
    report, share = vault.inspect(data)  # the copy still names its share
    assert share is not None and share.recipient == "A" and report.signature == "valid"


def test_a_png_source_gives_away_nothing_either(vault, telling_png, tmp_path):
    photo_id = vault.import_paths([telling_png]).imported[0]
    for fmt in ("JPEG", "PNG", "WEBP"):
        outcome = vault.share(photo_id, tmp_path / f"p.{fmt.lower()}", ShareOptions(recipient="B", output_format=fmt))
        _assert_tells_nothing(Path(outcome.out).read_bytes())


def test_date_and_place_only_when_asked(vault, telling_jpeg, tmp_path):
    photo_id = vault.import_paths([telling_jpeg]).imported[0]
    dated = vault.share(photo_id, tmp_path / "d.jpg", ShareOptions(recipient="C", keep_capture_date=True))
    _assert_tells_nothing(Path(dated.out).read_bytes(), date=True)
    assert not any("date" in line for line in dated.removed)
    placed = vault.share(photo_id, tmp_path / "p.webp", ShareOptions(recipient="C", output_format="WEBP",
                                                                     strip_location=False))
    _assert_tells_nothing(Path(placed.out).read_bytes(), location=True)
    default = vault.share(photo_id, tmp_path / "n.png", ShareOptions(recipient="C", output_format="PNG"))
    assert any("date" in line for line in default.removed) and any("GPS" in line for line in default.removed)
    assert vault.list_shares(photo_id)[-1].options["keep_capture_date"] is True


def test_two_shares_of_one_photo_share_no_metadata_value(vault, tmp_path):
    photo_id = vault.import_paths([PHOTOS / "dog.jpg"]).imported[0]
    image_uid = vault.photo(photo_id).image_uid
    copies = [Path(vault.share(photo_id, tmp_path / f"{n}.jpg", ShareOptions(recipient=n)).out).read_bytes()
              for n in ("Ana", "Bo")]
    found = [metadata.read_ids(Image.open(io.BytesIO(data))).ids for data in copies]
    for data in copies:
        assert image_uid.encode() not in data
        assert piexif.load(data)["Exif"].keys() == {piexif.ExifIFD.UserComment}
    first, second = (vars(ids) for ids in found)
    # (signed_at is the time of the share: the same only for two shares made in one second)
    same = {name for name, value in first.items() if value is not None and value == second[name]}
    assert same <= {"signed_at"}
    assert set(first) == {"share_id", "pixel_sha256", "signed_at", "signature", "mac", "image_uid"}
    assert found[0].image_uid is None
    report, _ = vault.inspect(copies[0])
    assert report.to_json()["metadata"]["image_uid"] is None  # the key stays, for the JSON contract


def _paste_metadata(copy: bytes, onto: Image.Image, fmt: str) -> bytes:
    """Another picture wearing a protected copy's EXIF and XMP (and PNG text)."""
    opened = Image.open(io.BytesIO(copy))
    if fmt == "PNG":
        info = PngInfo()
        for key, value in opened.text.items():
            info.add_itxt(key, value)
        return encode(onto, "PNG", pnginfo=info, exif=opened.info["exif"])
    return encode(onto, fmt, quality=90, exif=opened.info["exif"], xmp=opened.info["xmp"])


@pytest.mark.parametrize(("fmt", "onto"), [("JPEG", "cat.jpg"), ("PNG", "horses.jpg")])
def test_pasted_metadata_names_no_share(vault, tmp_path, fmt, onto):
    """The cat is not in the vault; the horses are (another photo of the same owner)."""
    vault.import_paths([PHOTOS / "dog.jpg", PHOTOS / "horses.jpg"])
    dog = next(p.id for p in vault.list_photos() if p.filename == "dog.jpg")
    suffix = ".png" if fmt == "PNG" else ".jpg"
    copy = Path(vault.share(dog, tmp_path / f"dog{suffix}", ShareOptions(recipient="Max", output_format=fmt)).out)
    forged = tmp_path / f"forged{suffix}"
    forged.write_bytes(_paste_metadata(copy.read_bytes(), Image.open(PHOTOS / onto).convert("RGB"), fmt))
    assert metadata.read_ids(Image.open(forged)) is not None  # the metadata is really there

    report, share = vault.inspect(forged.read_bytes())
    assert share is None and report.share_id is None
    assert report.signature == "other-image" and report.mac == "other-image"
    public = inspect_image(forged.read_bytes(), public_key=vault.signing_public_key())
    assert public.signature == "other-image" and public.share_id is None
    shares = {s.share_id for s in vault.list_shares()}
    outcome = vault.scan([str(forged)])
    assert not any(m.share_id in shares for m in outcome.matches)
    assert not any(m.method == "metadata" for m in outcome.matches)


def test_a_reencoded_copy_that_kept_its_metadata_is_still_named(vault, tmp_path):
    """Detection is not weakened: the same picture, re-encoded with its metadata kept, is an
    edit of the share ("pixels-changed") and a scan names the share."""
    dog = vault.import_paths([PHOTOS / "dog.jpg"]).imported[0]
    outcome = vault.share(dog, tmp_path / "dog.jpg", ShareOptions(recipient="Max"))
    copy = Path(outcome.out).read_bytes()
    image = Image.open(io.BytesIO(copy)).convert("RGB")
    smaller = image.resize((image.width * 4 // 5, image.height * 4 // 5), Image.Resampling.LANCZOS)
    edited = tmp_path / "edited.jpg"
    edited.write_bytes(_paste_metadata(copy, smaller, "JPEG"))
    report, share = vault.inspect(edited.read_bytes())
    assert report.signature == "pixels-changed" and share is not None and share.recipient == "Max"
    # With the public key only, a changed copy cannot be told from other pixels: the claim
    # carries no perceptual hash (it would be the same in every share of the photo).
    public = inspect_image(edited.read_bytes(), public_key=vault.signing_public_key())
    assert public.signature == "other-image" and public.share_id is None
    found = vault.scan([str(edited)]).matches
    assert [(m.photo_id, m.share_id) for m in found] == [(dog, outcome.share.share_id)]


def test_copies_made_before_claim_version_2_still_verify(vault, tmp_path):
    """Older copies carry the photo's image_uid in a version-1 claim; their signature and MAC
    still check out, and they still name their share."""
    from app.core import fingerprint

    dog = vault.import_paths([PHOTOS / "dog.jpg"]).imported[0]
    outcome = vault.share(dog, tmp_path / "new.png", ShareOptions(recipient="Old", output_format="PNG"))
    image = Image.open(outcome.out)
    current = metadata.read_ids(image).ids
    keys = vault.share_keys()
    old_claim = fingerprint.ProvenanceClaim(current.share_id, current.pixel_sha256, current.signed_at,
                                            image_uid=vault.photo(dog).image_uid)
    assert b'"sanctum_claim":1' in old_claim.canonical() and b"image_uid" in old_claim.canonical()
    old = metadata.EmbeddedIds(current.share_id, current.pixel_sha256, current.signed_at,
                               fingerprint.sign_claim(keys.signing_private, old_claim),
                               fingerprint.mac_claim(keys.mac, old_claim), image_uid=old_claim.image_uid)
    data = metadata.encode_with_ids(image.convert("RGB"), "PNG", old, None)
    report, share = vault.inspect(data)
    assert report.metadata.ids.image_uid == old_claim.image_uid
    assert report.signature == "valid" and report.mac == "valid"
    assert share is not None and share.recipient == "Old"


def test_a_photo_in_another_colour_space_is_converted_not_tagged(vault, tmp_path):
    """The copy carries no profile (a profile names its maker and device): its pixels are
    converted to sRGB, which viewers assume for untagged pixels, so the colours stay right."""
    import numpy as np

    pixels = Image.open(PHOTOS / "horses.jpg").convert("RGB")
    source = tmp_path / "linear.jpg"
    source.write_bytes(encode(pixels, "JPEG", quality=95, icc_profile=_linear_rgb_icc("JaneDoe-Phone Display")))
    photo_id = vault.import_paths([source]).imported[0]
    copy = Path(vault.share(photo_id, tmp_path / "c.png", ShareOptions(recipient="D", output_format="PNG")).out)
    data = copy.read_bytes()
    assert b"JaneDoe" not in data and not Image.open(copy).info.get("icc_profile")
    stored = np.asarray(Image.open(source).convert("RGB"), dtype=np.float64) / 255  # linear light
    expected = np.where(stored <= 0.0031308, 12.92 * stored, 1.055 * stored ** (1 / 2.4) - 0.055) * 255
    shared = np.asarray(Image.open(copy).convert("RGB"), dtype=np.float64)
    assert np.abs(shared - expected).mean() < 2  # the photo's colours, as sRGB
    assert np.abs(shared - stored * 255).mean() > 20  # what ignoring the profile would show
    # the vault rebuilds the same pre-mark pixels to read a damaged copy against
    (rebuilt,) = vault.share_sources(photo_id)
    assert np.abs(rebuilt.pixels.astype(np.float64) - shared).mean() < 2


def test_a_heavily_edited_copy_that_kept_its_metadata_is_an_edit_to_the_vault(vault, tmp_path):
    """Mirrored, shrunk and framed, the share's own metadata pasted back on: the signature is
    over other pixels, but the vault finds the share's photo in them, so it reads as an edit of
    that share and the share is named; with the public key only, it reads "not this image"."""
    from .conftest import framed_repost

    dog = vault.import_paths([PHOTOS / "dog.jpg"]).imported[0]
    outcome = vault.share(dog, tmp_path / "dog.jpg", ShareOptions(recipient="Max"))
    copy = Path(outcome.out).read_bytes()
    reposted = Image.open(io.BytesIO(framed_repost(Image.open(io.BytesIO(copy)), 0.25, 50))).convert("RGB")
    edited = tmp_path / "reposted.jpg"
    edited.write_bytes(_paste_metadata(copy, reposted, "JPEG"))
    keys_only = inspect_image(edited.read_bytes(), keys=vault.share_keys())  # no photos to compare with
    assert keys_only.mac == "other-image" and keys_only.share_id is None
    report, share = vault.inspect(edited.read_bytes())
    assert report.mac == "pixels-changed" and share is not None and share.recipient == "Max"
    assert inspect_image(edited.read_bytes(), public_key=vault.signing_public_key()).signature == "other-image"
    found = vault.scan([str(edited)]).matches
    assert [(m.photo_id, m.share_id) for m in found] == [(dog, outcome.share.share_id)]
