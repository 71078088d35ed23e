"""Leak scans against a real HTTP image host on 127.0.0.1 and real photos: altered copies are
recognised, every failing source is reported with its reason, nothing found is lost."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont, ImageOps

from app.core.leaks import matcher
from app.core.leaks.fetch import Fetcher, FetchPolicy
from app.core.leaks.page_reader import images_on_page, read_page
from app.core.sharing import ShareOptions

from .conftest import PHOTOS, encode, framed_repost
from .leakhost import ImageHost

FAST = FetchPolicy(read_timeout=1.0, connect_timeout=1.0, total_timeout=5.0, retries=2, backoff=0.05,
                   min_host_interval=0.0, max_bytes=5 * 2**20)


@pytest.fixture
def host():
    server = ImageHost().start()
    yield server
    server.stop()


@pytest.fixture
def fetcher():
    with Fetcher(FAST) as f:
        yield f


@pytest.fixture
def stocked_vault(vault):
    """Kodak parrots, horses and dog in the vault; the cat and pizza are not."""
    vault.import_paths([PHOTOS / "kodim23.png", PHOTOS / "horses.jpg", PHOTOS / "dog.jpg"])
    by_file = {p.filename: p.id for p in vault.list_photos()}
    return vault, {"parrots": by_file["kodim23.png"], "horses": by_file["horses.jpg"], "dog": by_file["dog.jpg"]}


def jpeg(image: Image.Image, quality: int = 80) -> bytes:
    return encode(image.convert("RGB"), "JPEG", quality=quality)


def photo(name: str) -> Image.Image:
    return Image.open(PHOTOS / name).convert("RGB")


def test_page_scan_finds_altered_copies(stocked_vault, host, fetcher, tmp_path):
    vault, ids = stocked_vault
    shared = vault.share(ids["dog"], tmp_path / "dog-for-max.jpg", ShareOptions(recipient="Max"))
    # A platform's version of the share: metadata stripped, re-compressed, resized.
    shared_image = Image.open(shared.out)
    reupload = jpeg(shared_image.resize((shared_image.width * 3 // 4, shared_image.height * 3 // 4)), 70)
    parrots = photo("kodim23.png")
    crop = parrots.crop((0, 0, int(parrots.width * 0.6), int(parrots.height * 0.7)))
    horses = photo("horses.jpg").rotate(8, expand=True, resample=Image.Resampling.BICUBIC)

    shared_url, _ = host.upload(reupload)
    crop_url, _ = host.upload(jpeg(crop))
    rotated_url, _ = host.upload(jpeg(horses))
    rotated_url = rotated_url.replace("127.0.0.1", "localhost")  # on a "CDN": another host name
    unrelated_url, _ = host.upload(jpeg(photo("cat.jpg")))
    page = host.add_page("profile", f"""<!doctype html><html><head>
        <meta property="og:image" content="{shared_url}"></head><body>
        <img srcset="{crop_url}?w=300 300w, {crop_url} 1200w" src="{crop_url}?w=300">
        <div style="background-image: url('{rotated_url}')"></div>
        <img src="{unrelated_url}">
        </body></html>""")

    outcome = vault.scan([page], fetcher=fetcher)
    found = {(m.source, m.photo_id): m for m in outcome.matches}
    assert outcome.errors == []
    assert (shared_url, ids["dog"]) in found
    assert found[(shared_url, ids["dog"])].method == "watermark"
    assert found[(shared_url, ids["dog"])].share_id == shared.share.share_id
    assert (crop_url, ids["parrots"]) in found
    assert (rotated_url, ids["horses"]) in found
    assert found[(rotated_url, ids["horses"])].method == "features"
    assert not any(m.source == unrelated_url for m in outcome.matches)
    assert all(m.found_on == page for m in outcome.matches)
    assert outcome.scanned == 5  # og:image, srcset, src, CSS background (on the CDN), unrelated
    assert vault.match_evidence(found[(crop_url, ids["parrots"])].id)[:3] == b"\xff\xd8\xff"


def test_failing_sources_are_reported_and_others_kept(stocked_vault, host, fetcher, tmp_path):
    vault, ids = stocked_vault
    good_url, _ = host.upload(jpeg(photo("horses.jpg"), 85))
    gone_url, delete_link = host.upload(jpeg(photo("dog.jpg")))
    fetcher.get(delete_link)  # the host deleted it: now a 404
    bad = {
        f"{host.base}/slow.jpg": "did not answer in time",
        f"{host.base}/huge.jpg": "too large",
        f"{host.base}/endless.jpg": "too large",
        f"{host.base}/loop.jpg": "too many redirects",
        f"{host.base}/fake.jpg": "web page",
        gone_url: "not found",
        "http://127.0.0.1:9/dead.jpg": "could not connect",
        str(tmp_path / "missing-folder"): "no such file",
    }
    outcome = vault.scan([good_url, *bad], fetcher=fetcher)
    reasons = {e.path: e.reason for e in outcome.errors}
    for source, words in bad.items():
        assert words in reasons.get(source, ""), (source, reasons.get(source))
    assert [m.photo_id for m in outcome.matches] == [ids["horses"]]


def test_rescan_uses_etag_and_keeps_one_record(stocked_vault, host, fetcher):
    vault, ids = stocked_vault
    url, _ = host.upload(jpeg(photo("kodim23.png"), 75))
    first = vault.scan([url], fetcher=fetcher)
    second = vault.scan([url], fetcher=fetcher)
    assert host.not_modified[url.split(host.base)[1]] == 1  # the second fetch was a 304
    assert [m.id for m in first.matches] == [m.id for m in second.matches]
    assert len(vault.list_matches()) == 1
    assert second.matches[0].last_seen >= first.matches[0].last_seen


def test_server_errors_are_retried(stocked_vault, host, fetcher):
    vault, ids = stocked_vault
    url, _ = host.upload(jpeg(photo("horses.jpg")))
    name = url.rsplit("/", 1)[1]
    host.flaky_failures[f"/flaky/{name}"] = 2
    outcome = vault.scan([f"{host.base}/flaky/{name}"], fetcher=fetcher)
    assert outcome.errors == [] and [m.photo_id for m in outcome.matches] == [ids["horses"]]
    assert host.hits[f"/flaky/{name}"] == 3


def test_folder_scan_finds_photo_inside_a_screenshot(stocked_vault, tmp_path):
    vault, ids = stocked_vault
    folder = tmp_path / "downloads"
    folder.mkdir()
    # A "screenshot of a post": app chrome, a caption, and the photo scaled down inside it.
    screen = Image.new("RGB", (1080, 1920), (250, 250, 250))
    draw = ImageDraw.Draw(screen)
    draw.rectangle((0, 0, 1080, 160), fill=(30, 30, 60))
    draw.text((40, 60), "someone posted a photo", fill=(255, 255, 255))
    parrots = photo("kodim23.png").resize((1000, 667))
    screen.paste(parrots, (40, 400))
    draw.text((40, 1100), "look who this is lol", fill=(0, 0, 0))
    (folder / "screenshot.png").write_bytes(encode(screen, "PNG"))
    (folder / "pizza.jpg").write_bytes((PHOTOS / "pizza.jpg").read_bytes())
    (folder / "notes.txt").write_text("not an image")
    outcome = vault.scan([str(folder)])
    assert [(Path(m.source).name, m.photo_id) for m in outcome.matches] == [("screenshot.png", ids["parrots"])]
    region = outcome.matches[0].region
    xs, ys = [p[0] for p in region], [p[1] for p in region]
    assert abs(min(xs) - 40) < 25 and abs(max(xs) - 1040) < 25  # located where it was pasted
    assert abs(min(ys) - 400) < 25 and abs(max(ys) - 1067) < 25
    assert [Path(e.path).name for e in outcome.errors] == ["notes.txt"]


def test_small_mirrored_copies_are_found(stocked_vault, tmp_path):
    """A mirrored thumbnail defeats local features (ORB is not mirror-invariant), so the PDQ of
    the flipped pixels has to find it; PDQ's own DCT-derived flip put these 26–28 bits away."""
    vault, ids = stocked_vault
    folder = tmp_path / "reposts"
    folder.mkdir()
    for name in ("dog.jpg", "kodim23.png"):
        image = ImageOps.mirror(photo(name))
        (folder / f"{name}.jpg").write_bytes(jpeg(image.resize((image.width // 3, image.height // 3))))
    outcome = vault.scan([str(folder)])
    assert sorted((Path(m.source).name, m.photo_id, m.method) for m in outcome.matches) == [
        ("dog.jpg.jpg", ids["dog"], "pdq"), ("kodim23.png.jpg", ids["parrots"], "pdq")]


def test_a_reposted_share_is_named_by_reading_against_the_original(fixed_marks, host, fetcher, tmp_path):
    """Mirrored, shrunk to 40 %, framed and re-compressed: PDQ of the flipped pixels finds the
    photo, the mark is too damaged to read alone, and reading it against the original in the
    vault names the share."""
    vault = fixed_marks
    photo_id = vault.import_paths([PHOTOS / "pizza.jpg"]).imported[0]
    vault.share(photo_id, tmp_path / "decoy.jpg", ShareOptions(recipient="Decoy"))
    shared = vault.share(photo_id, tmp_path / "for-lee.jpg", ShareOptions(recipient="Lee"))
    url, _ = host.upload(framed_repost(Image.open(shared.out), 0.4, 70))
    outcome = vault.scan([host.add_page("post", f'<html><body><img src="{url}"></body></html>')], fetcher=fetcher)
    [match] = outcome.matches
    assert match.photo_id == photo_id and match.method == "watermark"
    assert match.share_id == shared.share.share_id and "against the vault's original" in match.detail


def test_images_on_page_parsing():
    html = """<html><head><base href="/media/"><meta name="twitter:image" content="t.jpg"></head>
      <body><picture><source srcset="a-small.webp 1x, a-big.webp 2x"><img src="a.jpg"></picture>
      <style>.hero { background: #fff url("hero.png") no-repeat; }</style>
      <img src="data:image/png;base64,AAAA"><img src="//cdn.site.example/c.jpg">
      <img src="https://tracker.other.example/pixel.gif"></body></html>"""
    urls = images_on_page(html, "https://www.site.example/u/1")
    assert urls == [
        "https://www.site.example/media/t.jpg",
        "https://www.site.example/media/a-big.webp",
        "https://www.site.example/media/a.jpg",
        "https://www.site.example/media/hero.png",
        "https://cdn.site.example/c.jpg",
        "https://tracker.other.example/pixel.gif",
    ]


def test_a_real_pages_images_lazy_loaded_linked_and_in_data():
    # The ways real pages put images where a plain <img src> reader misses them.
    html = """<html><head>
      <script type="application/ld+json">{"@type": "ImageObject", "contentUrl": "https://cdn.example/ld.jpg",
        "author": {"name": "x", "url": "https://site.example/u/x"},
        "thumbnail": {"@type": "ImageObject", "url": "https://cdn.example/ld-thumb.jpg"}}</script>
      <meta property="og:image" content="https://cdn.example/og.jpg"></head><body>
      <img src="placeholder.gif" data-src="https://cdn.example/lazy.jpg">
      <img data-lazy-src="/wp/lazy2.png" data-srcset="/wp/s-300.webp 300w, /wp/s-1200.webp 1200w">
      <img data-original="https://img.other.example/jq.jpg">
      <noscript><img src="https://cdn.example/noscript.jpg"></noscript>
      <a href="https://cdn.example/full/photo.JPG?size=orig"><img src="https://cdn.example/t/photo.jpg"></a>
      <a href="/thread/2">2</a> <a class="pager-next" href="/thread/next">›</a>
      <link rel="next" href="/thread/3"><a href="/about">About us</a><a href="https://elsewhere.example/">x</a>
      <video poster="https://cdn.example/poster.jpg"></video>
      <script>window.__DATA__ = {"photos": [{"src": "https:\\/\\/cdn.example\\/inline.jpg"}],
        "avatar": "https://cdn.example/a.png?w=64", "page": "https://site.example/p"};</script>
    </body></html>"""
    page = read_page(html, "https://www.site.example/thread/1")
    assert page.images == [
        "https://cdn.example/ld.jpg", "https://cdn.example/ld-thumb.jpg", "https://cdn.example/og.jpg",
        "https://www.site.example/thread/placeholder.gif", "https://cdn.example/lazy.jpg",
        "https://www.site.example/wp/lazy2.png", "https://www.site.example/wp/s-1200.webp",
        "https://img.other.example/jq.jpg", "https://cdn.example/noscript.jpg",
        "https://cdn.example/full/photo.JPG?size=orig", "https://cdn.example/t/photo.jpg",
        "https://cdn.example/poster.jpg", "https://cdn.example/inline.jpg", "https://cdn.example/a.png?w=64",
    ]
    assert page.next_pages == ["https://www.site.example/thread/2", "https://www.site.example/thread/next",
                               "https://www.site.example/thread/3"]
    assert page.links == ["https://www.site.example/about"]


def test_cli_scan_json(stocked_vault, host, tmp_path):
    vault, ids = stocked_vault
    url, _ = host.upload(jpeg(photo("horses.jpg").resize((500, 331)), 60))
    vault_path = vault.path
    vault.lock()
    from .test_cli import sanctum

    result = json.loads(sanctum("scan", url, f"{host.base}/fake.jpg", "--json", vault=vault_path).stdout)
    assert result["scanned"] == 1
    assert result["errors"][0]["source"].endswith("/fake.jpg")
    assert [(m["source"], m["photo_id"]) for m in result["matches"]] == [(url, ids["horses"])]
    assert {"source", "photo_id", "share_id", "method", "score"} <= result["matches"][0].keys()


# --- removal requests ---------------------------------------------------------------------------

def _found(vault, host, fetcher, image_name="horses.jpg"):
    url, delete_link = host.upload(jpeg(photo(image_name), 85))
    match = vault.scan([url], fetcher=fetcher).matches[0]
    return url, delete_link, match


def test_deletion_link_removes_and_recheck_confirms(stocked_vault, host, fetcher):
    from app.core.leaks.takedown import Requester, TakedownContact

    vault, ids = stocked_vault
    url, delete_link, match = _found(vault, host, fetcher)
    request = vault.draft_takedown(match.id, TakedownContact(deletion_link=delete_link), Requester("R", "r@example.org"))
    assert request.kind == "deletion_link" and request.status == "drafted"
    assert vault.recheck_takedown(request.id, fetcher).status == "drafted"  # still online
    sent = vault.send_takedown(request.id, fetcher)
    assert sent.status == "sent"
    assert vault.recheck_takedown(request.id, fetcher).status == "removed"
    assert vault.list_matches()[0].status == "removed"


def test_imgur_style_api(stocked_vault, host, fetcher):
    from app.core.leaks.takedown import Requester, TakedownContact

    vault, ids = stocked_vault
    url, delete_link, match = _found(vault, host, fetcher)
    delete_hash = delete_link.rsplit("/", 1)[1]
    contact = TakedownContact(imgur_delete_hash=delete_hash, imgur_client_id="abc123", imgur_api=host.base)
    request = vault.draft_takedown(match.id, contact, Requester("R", "r@example.org"))
    assert request.kind == "imgur_api"
    assert vault.send_takedown(request.id, fetcher).status == "sent"
    assert host.hits[f"/3/image/{delete_hash}"] == 1
    assert vault.recheck_takedown(request.id, fetcher).status == "removed"
    # a refused call is recorded as failed, with the reason
    bad = vault.draft_takedown(match.id, TakedownContact(imgur_delete_hash="nope", imgur_client_id="abc123",
                                                         imgur_api=host.base), Requester("R", "r@example.org"))
    from app.core.leaks.takedown import TakedownError

    with pytest.raises(TakedownError, match="HTTP 404"):
        vault.send_takedown(bad.id, fetcher)
    assert vault.list_takedowns(match.id)[0].status == "failed"


def test_notice_draft_and_hash_export(stocked_vault, host, fetcher, tmp_path):
    from urllib.parse import parse_qs, urlsplit

    from app.core.leaks.takedown import Requester, TakedownContact

    vault, ids = stocked_vault
    shared = vault.share(ids["dog"], tmp_path / "dog.jpg", ShareOptions(recipient="Max", platform="Signal"))
    url, _ = host.upload(Path(shared.out).read_bytes())
    page = host.add_page("post", f'<img src="{url}">')
    match = vault.scan([page], fetcher=fetcher).matches[0]
    assert match.method == "metadata" and match.share_id == shared.share.share_id
    request = vault.draft_takedown(match.id, TakedownContact(abuse_email="abuse@host.example"),
                                   Requester("Dana Example", "dana@example.org"), "intimate")
    assert request.kind == "notice"
    assert url in request.text and page in request.text and "without my consent" in request.text
    assert "Dana Example" in request.text and "<p>" in request.html
    query = parse_qs(urlsplit(request.mailto).query)
    assert request.mailto.startswith("mailto:abuse@host.example?") and query["body"][0] == request.text
    assert vault.send_takedown(request.id).status == "sent"  # the user sent the email
    exported = vault.hash_export(ids["dog"])
    kinds = {h["type"]: h["value"] for h in exported["hashes"]}
    import hashlib

    assert kinds["md5"] == hashlib.md5((PHOTOS / "dog.jpg").read_bytes()).hexdigest()
    assert len(kinds["pdq"]) == 64


def test_deleting_a_photo_removes_its_leak_evidence_and_keeps_the_record(stocked_vault, host, fetcher):
    """The evidence image is a picture of the photo: it goes with the photo. Where the copy
    was, when, and the removal request stay as the user's record; other photos' evidence stays."""
    from app.core.leaks.takedown import Requester, TakedownContact

    vault, ids = stocked_vault
    url, delete_link, match = _found(vault, host, fetcher, "horses.jpg")
    other_url, _, other = _found(vault, host, fetcher, "dog.jpg")
    assert match.photo_id == ids["horses"] and vault.match_evidence(match.id)
    request = vault.draft_takedown(match.id, TakedownContact(deletion_link=delete_link),
                                   Requester("R", "r@example.org"))
    vault.delete([ids["horses"]])
    kept = {m.id: m for m in vault.list_matches()}[match.id]
    assert kept.source == url and kept.photo_id is None
    assert (kept.first_seen, kept.last_seen) == (match.first_seen, match.last_seen)
    assert vault.match_evidence(match.id) is None
    assert [t.id for t in vault.list_takedowns(match.id)] == [request.id]
    assert vault.match_evidence(other.id), "another photo's evidence is untouched"
    # The scan cache no longer names the deleted photo: a re-scan of the same address finds
    # nothing (and records no match for a photo that is gone), the other one still matches.
    again = vault.scan([url, other_url], fetcher=fetcher)
    assert [m.photo_id for m in again.matches] == [ids["dog"]]
    assert vault.check_consistency() == []


def test_deleting_a_photo_can_forget_its_leak_records_too(stocked_vault, host, fetcher):
    from app.core.leaks.takedown import Requester, TakedownContact

    vault, ids = stocked_vault
    _url, delete_link, match = _found(vault, host, fetcher, "horses.jpg")
    _other_url, _, other = _found(vault, host, fetcher, "dog.jpg")
    vault.draft_takedown(match.id, TakedownContact(deletion_link=delete_link), Requester("R", "r@example.org"))
    vault.delete([ids["horses"]], keep_leak_records=False)
    assert [m.id for m in vault.list_matches()] == [other.id]
    assert vault.list_takedowns(match.id) == []
    assert vault.match_evidence(match.id) is None


def test_local_copy_has_no_one_to_ask_and_can_be_dismissed(stocked_vault, tmp_path):
    from app.core.leaks.takedown import Requester, TakedownContact, TakedownError

    vault, ids = stocked_vault
    copy = tmp_path / "copy.jpg"
    copy.write_bytes(jpeg(photo("horses.jpg"), 70))
    match = vault.scan([str(copy)]).matches[0]
    with pytest.raises(TakedownError, match="no one to ask"):
        vault.draft_takedown(match.id, TakedownContact(), Requester("R", "r@example.org"))
    vault.dismiss_match(match.id)
    assert vault.list_matches()[0].status == "dismissed"


def test_notice_kind_fits_the_photo(stocked_vault, host, fetcher):
    """A lighthouse photo not marked sensitive does not get "an intimate image… I am the person in
    it": the notice follows the sensitive flag unless the user picks a kind."""
    from app.core import organize
    from app.core.leaks.takedown import NOTICE_KINDS, Requester, TakedownContact, TakedownError

    vault, ids = stocked_vault
    url, _ = host.upload(jpeg(photo("horses.jpg"), 75))
    match = vault.scan([url], fetcher=fetcher).matches[0]
    contact, me = TakedownContact(abuse_email="abuse@host.example"), Requester("Dana Example", "dana@example.org")

    neutral = vault.draft_takedown(match.id, contact, me)  # not flagged: the neutral privacy notice
    assert neutral.subject.startswith("Removal request: personal photo posted without permission")
    assert "intimate" not in neutral.text.lower() and "I am the person in" not in neutral.text
    assert "published without my permission" in neutral.text and url in neutral.text

    organize.set_sensitive(ids["horses"], True)
    intimate = vault.draft_takedown(match.id, contact, me)  # flagged: the intimate-image notice
    assert "intimate image shared without consent" in intimate.subject
    assert "I am the person in, and the owner of, the image at:" in intimate.text

    # the user's pick wins over the flag
    copyright_notice = vault.draft_takedown(match.id, contact, me, "copyright")
    assert "copyright infringement" in copyright_notice.subject
    assert "I took this photo and hold its copyright" in copyright_notice.text
    assert "intimate" not in copyright_notice.text.lower()
    assert set(NOTICE_KINDS) >= {"intimate", "privacy", "copyright"}
    with pytest.raises(TakedownError, match="Unknown kind"):
        vault.draft_takedown(match.id, contact, me, "unheard-of")

    # the CLI: --notice picks the kind; without it, the flag decides
    vault_path = vault.path
    vault.lock()
    from .test_cli import sanctum

    args = ("takedown", str(match.id), "--abuse-email", "abuse@host.example", "--name", "Dana Example",
            "--email", "dana@example.org", "--json")
    picked = json.loads(sanctum(*args, "--notice", "copyright", vault=vault_path).stdout)
    assert "copyright infringement" in picked["subject"]
    flagged = json.loads(sanctum(*args, vault=vault_path).stdout)
    assert "intimate image shared without consent" in flagged["subject"]


def test_inspect_reads_the_mark_for_the_nearest_shared_photos_when_nothing_else_finds_one(fixed_marks, tmp_path):
    """Local features can miss a copy entirely (a rotated scan of a text page got one feature
    vote in the benchmark; here: photos indexed before features existed) and a rotation moves
    PDQ past its match radius. Inspect, one image the user asked about, still reads the mark
    (alone and, failing that, against the original) for the shared photos nearest by PDQ; a
    leak scan of many images does not."""
    vault = fixed_marks
    imported = vault.import_paths([PHOTOS / "pizza.jpg", PHOTOS / "dog.jpg", PHOTOS / "horses.jpg"]).imported
    shared = vault.share(imported[0], tmp_path / "for-lee.jpg", ShareOptions(recipient="Lee"))
    vault.share(imported[1], tmp_path / "for-kim.jpg", ShareOptions(recipient="Kim"))
    full = vault.build_matcher()
    no_features = matcher.Matcher([dataclasses.replace(r, features=None) for r in full.references], full.shares,
                                  full.keys, full.share_sources)
    copy = Image.open(shared.out).convert("RGB").rotate(5, resample=Image.Resampling.BILINEAR, expand=False)
    data = jpeg(copy.crop((20, 20, copy.width - 20, copy.height - 20)), 85)
    assert not any(m.share_id for m in no_features.match_bytes(data))
    [match] = no_features.match_bytes(data, thorough=True)
    assert (match.photo_id, match.share_id) == (imported[0], shared.share.share_id)


def _chat_screenshot(lines: list[str], contact: str, photo_inside: Image.Image | None = None) -> Image.Image:
    """A messenger screenshot: status bar, contact header, text bubbles, an input bar; with
    `photo_inside`, a picture posted between the second and third bubble."""
    font = ImageFont.load_default(size=38)
    screen = Image.new("RGB", (1080, 2340), (255, 255, 255))
    draw = ImageDraw.Draw(screen)
    draw.text((48, 28), "12:41", fill=(0, 0, 0), font=ImageFont.load_default(size=34))
    draw.text((900, 28), "87%", fill=(0, 0, 0), font=ImageFont.load_default(size=34))
    draw.rectangle((0, 100, 1080, 250), fill=(246, 246, 246))
    draw.ellipse((110, 120, 210, 220), fill=(150, 170, 210))
    draw.text((240, 130), contact, fill=(0, 0, 0), font=ImageFont.load_default(size=42))
    draw.text((240, 185), "online", fill=(120, 120, 120), font=ImageFont.load_default(size=30))
    y = 290
    for index, line in enumerate(lines):
        if photo_inside is not None and index == 2:
            shown = photo_inside.copy()
            shown.thumbnail((700, 700))
            screen.paste(shown, (60, y))
            y += shown.height + 40
        mine = index % 2 == 0
        width = draw.textlength(line, font=font)
        x = 1080 - 120 - width if mine else 60
        draw.rounded_rectangle((x, y, x + width + 60, y + 80), radius=36, fill=(0, 132, 255) if mine else (233, 233, 235))
        draw.text((x + 30, y + 15), line, fill=(255, 255, 255) if mine else (0, 0, 0), font=font)
        y += 104
    draw.rectangle((0, 2140, 1080, 2340), fill=(246, 246, 246))
    draw.rounded_rectangle((120, 2170, 920, 2250), radius=40, outline=(200, 200, 200), width=3, fill=(255, 255, 255))
    draw.text((160, 2188), "Message", fill=(160, 160, 160), font=font)
    return screen


def test_text_against_text_is_never_a_match(stocked_vault, tmp_path):
    """Issue 23: a screenshot with a photo posted in it was matched to a text-heavy vault photo
    through the text and UI the two share. The vault keeps a chat screenshot; a different chat
    (same app, some of the same lines, someone else's photo) must match nothing, and a chat with a
    vault photo posted in it must match that photo only. Before the fix the second one also matched
    the chat screenshot (34 inliers, all on text and UI)."""
    vault, ids = stocked_vault
    lines = ["hey are you there", "yes what is up", "did you see the photo", "call me when you can",
             "ok see you tonight", "love you too", "where are you now", "on my way home"]
    kept = tmp_path / "chat-with-jess.png"
    kept.write_bytes(encode(_chat_screenshot([*lines, "i will send it later", "thanks for today", "sleep well",
                                              "good night"], "jess_m"), "PNG"))
    vault.import_paths([kept])
    chat_id = next(p.id for p in vault.list_photos() if p.filename == kept.name)
    folder = tmp_path / "found"
    folder.mkdir()
    other = _chat_screenshot([*lines[:6], "see you tomorrow then", "sure no problem"], "jess_m", photo("cat.jpg"))
    leak = _chat_screenshot(["omg look", "who is this", "lol", "no idea"], "sam", photo("kodim23.png"))
    (folder / "other-chat.jpg").write_bytes(jpeg(other.resize((540, 1170)), 85))
    (folder / "leak.jpg").write_bytes(jpeg(leak.resize((540, 1170)), 85))
    outcome = vault.scan([str(folder)])
    found = sorted((Path(m.source).name, m.photo_id) for m in outcome.matches)
    assert chat_id not in {m.photo_id for m in outcome.matches}
    assert found == [("leak.jpg", ids["parrots"])]


def test_text_regions_cover_lines_of_text_not_photos():
    page = Image.new("L", (900, 400), 255)
    draw = ImageDraw.Draw(page)
    for row in range(5):
        draw.text((40, 30 + 70 * row), "the quick brown fox jumps over the lazy dog", fill=0,
                  font=ImageFont.load_default(size=36))
    ink = np.asarray(page) < 128
    text = matcher.text_regions(np.asarray(page))
    assert text[ink].mean() > 0.95  # the letters are inside text regions
    scene = np.asarray(photo("horses.jpg").convert("L"))
    assert matcher.text_regions(scene).mean() < 0.1  # a photo is mostly not text
